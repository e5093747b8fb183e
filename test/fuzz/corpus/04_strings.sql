SELECT 'a''b', E'c\'d', U&'\0041', "q""i", B'01', X'ff';
