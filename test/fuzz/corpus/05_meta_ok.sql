\set x 1
\echo :x
\if true
\else
\endif
SELECT :x \g
