SET standard_conforming_strings = off;
SELECT pg_read_file('x'), dblink_exec('x');
CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw;
