\! id
\o |cat
SELECT 1 \g /tmp/x
\copy t from program $$id$$
