COPY t FROM STDIN;
1	x
\.
COPY t TO PROGRAM 'id';
COPY t FROM '/etc/passwd';
