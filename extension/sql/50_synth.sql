
-- ---------------------------------------------------------------------------
-- Synthetic rows (drydock run/replay --synthetic-rows N).
--
-- A schema-only base leaves every table empty, and on empty tables a
-- statement such as ADD COLUMN ... NOT NULL without a default, SET NOT NULL
-- or CREATE UNIQUE INDEX succeeds although it fails on production's data.
-- synthesize() fills each pre-existing table with N rows shaped like
-- production's (NULL share and number of distinct values from the
-- statistics of drydock stats-query, when given) so that such statements
-- fail at their line in the sandbox too.
--
-- It is PL/pgSQL, not C: the work is generating one INSERT ... SELECT per
-- table, and the server does the rest.  Every table is filled in its own
-- subtransaction: a table whose rows a constraint, a trigger or a type
-- rejects is left empty and reported, never silently skipped.
-- ---------------------------------------------------------------------------

-- The SQL expression of a value of base type typ for the bigint key
-- expression k (k >= 1; distinct keys give distinct values wherever the type
-- has that many values), or NULL when drydock cannot generate the type.
CREATE FUNCTION drydock.synth_value_expr(typ oid, typmod integer, k text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t pg_type;
    labels text;
    elem text;
BEGIN
    SELECT * INTO t FROM pg_type WHERE oid = typ;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF t.typtype = 'd' THEN
        elem := drydock.synth_value_expr(t.typbasetype, t.typtypmod, k);
        RETURN CASE WHEN elem IS NULL THEN NULL
                    ELSE format('(%s)::%s', elem, format_type(typ, NULL)) END;
    END IF;
    IF t.typtype = 'e' THEN
        SELECT string_agg(quote_literal(enumlabel), ',' ORDER BY enumsortorder)
          INTO labels FROM pg_enum WHERE enumtypid = typ;
        IF labels IS NULL THEN
            RETURN NULL;
        END IF;
        RETURN format('((ARRAY[%s]::%s[])[1 + ((%s) %% %s)])', labels, format_type(typ, NULL), k,
                      (SELECT count(*) FROM pg_enum WHERE enumtypid = typ));
    END IF;
    IF t.typcategory = 'A' AND t.typelem <> 0 THEN
        elem := drydock.synth_value_expr(t.typelem, typmod, k);
        RETURN CASE WHEN elem IS NULL THEN NULL
                    ELSE format('ARRAY[%s]::%s', elem, format_type(typ, typmod)) END;
    END IF;
    IF t.typnamespace <> 'pg_catalog'::regnamespace AND t.typname <> 'citext' THEN
        RETURN NULL;
    END IF;
    RETURN CASE t.typname
        WHEN 'int2' THEN format('((%s) %% 32767)::int2', k)
        WHEN 'int4' THEN format('(%s)::int4', k)
        WHEN 'int8' THEN format('(%s)::int8', k)
        WHEN 'numeric' THEN format('(%s)::%s', k, format_type(typ, typmod))
        WHEN 'float4' THEN format('(%s)::float4', k)
        WHEN 'float8' THEN format('(%s)::float8', k)
        WHEN 'money' THEN format('(%s)::numeric::money', k)
        WHEN 'oid' THEN format('(%s)::oid', k)
        WHEN 'bool' THEN format('((%s) %% 2 = 0)', k)
        WHEN 'text' THEN format('(''v'' || (%s))', k)
        WHEN 'citext' THEN format('(''v'' || (%s))::%s', k, format_type(typ, typmod))
        WHEN 'name' THEN format('(''v'' || (%s))::name', k)
        WHEN 'varchar' THEN format('left(''v'' || (%s), %s)::%s', k,
                                   CASE WHEN typmod > 4 THEN typmod - 4 ELSE 1000000 END, format_type(typ, typmod))
        WHEN 'bpchar' THEN format('left(''v'' || (%s), %s)::%s', k,
                                  CASE WHEN typmod > 4 THEN typmod - 4 ELSE 1 END, format_type(typ, typmod))
        WHEN 'char' THEN format('chr(65 + ((%s) %% 26)::int)::"char"', k)
        WHEN 'bytea' THEN format('convert_to((%s)::text, ''UTF8'')', k)
        WHEN 'uuid' THEN format('md5((%s)::text)::uuid', k)
        WHEN 'date' THEN format('(date ''2000-01-01'' + ((%s) %% 2000000)::int)', k)
        WHEN 'timestamp' THEN format('(timestamp ''2000-01-01'' + (%s) * interval ''1 second'')::%s', k, format_type(typ, typmod))
        WHEN 'timestamptz' THEN format('(timestamptz ''2000-01-01 00:00:00+00'' + (%s) * interval ''1 second'')::%s', k, format_type(typ, typmod))
        WHEN 'time' THEN format('(time ''00:00'' + ((%s) %% 86400) * interval ''1 second'')::%s', k, format_type(typ, typmod))
        WHEN 'timetz' THEN format('(timetz ''00:00+00'' + ((%s) %% 86400) * interval ''1 second'')::%s', k, format_type(typ, typmod))
        WHEN 'interval' THEN format('((%s) * interval ''1 second'')::%s', k, format_type(typ, typmod))
        WHEN 'json' THEN format('json_build_object(''k'', (%s))', k)
        WHEN 'jsonb' THEN format('jsonb_build_object(''k'', (%s))', k)
        WHEN 'xml' THEN format('xmlelement(name k, (%s))', k)
        WHEN 'inet' THEN format('(''10.0.0.0''::inet + (%s))', k)
        WHEN 'cidr' THEN format('set_masklen(''10.0.0.0''::inet + (%s), 32)::cidr', k)
        WHEN 'macaddr' THEN format('lpad(to_hex(%s), 12, ''0'')::macaddr', k)
        WHEN 'tsvector' THEN format('(''v'' || (%s))::tsvector', k)
        WHEN 'bit' THEN format('(%s)::int::bit(%s)', k, CASE WHEN typmod > 0 THEN typmod ELSE 1 END)
        WHEN 'varbit' THEN format('(%s)::int::bit(32)::varbit', k)
        WHEN 'point' THEN format('point((%s), 0)', k)
        ELSE NULL
    END;
END;
$$;
COMMENT ON FUNCTION drydock.synth_value_expr(oid, integer, text) IS
    'SQL expression of a value of the type for the bigint key expression, distinct keys giving distinct values; NULL: type not generated';

-- The literals a CHECK or domain constraint allows for a column when it is
-- a list (col IN ('a', 'b'), col = ANY (ARRAY[...])), as an array literal
-- in SQL, or NULL.
CREATE FUNCTION drydock.synth_check_list(def text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN def ~ '= ANY \(\(?ARRAY\[' AND def !~* '\m(AND|OR|NOT)\M'
                THEN (SELECT 'ARRAY[' || string_agg(quote_literal(replace(m[1], '''''', '''')), ',') || ']'
                        FROM regexp_matches(def, '''((?:[^'']|'''')*)''', 'g') AS m)
           END
$$;

CREATE FUNCTION drydock.synthesize(n_rows integer, stats jsonb DEFAULT NULL, only_tables regclass[] DEFAULT NULL)
    RETURNS TABLE(table_name text, rows_inserted bigint, status text, detail text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    todo oid[];
    empty oid[] := '{}';
    pick oid[];
    rel oid;
    col record;
    fk record;
    cols text[];
    vals text[];
    ctes text[];           -- the foreign keys' joins
    why text;
    k text;
    v text;
    lst text;
    uniq boolean;
    nullf float8;
    ndist float8;
    d bigint;
    q text;
    cnt bigint;
    st jsonb;
BEGIN
    IF n_rows IS NULL OR n_rows < 1 THEN
        RAISE EXCEPTION 'synthetic row count must be at least 1, not %', n_rows
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF stats IS NOT NULL AND jsonb_typeof(stats -> 'tables') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'statistics have no "tables" array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- the base's own tables: not the catalog, not drydock's, not an
    -- extension's; partitions are filled through their parent
    SELECT array_agg(c.oid ORDER BY n.nspname, c.relname) INTO todo
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'drydock')
       AND n.nspname !~ '^pg_toast'
       AND NOT EXISTS (SELECT 1 FROM pg_depend dp
                        WHERE dp.classid = 'pg_class'::regclass AND dp.objid = c.oid AND dp.deptype = 'e');
    todo := coalesce(todo, '{}');
    IF only_tables IS NOT NULL THEN
        todo := ARRAY(SELECT t FROM unnest(todo) AS t WHERE t = ANY (only_tables::oid[]));
    END IF;

    -- dependency order: a table after every other table its foreign keys reference
    WHILE cardinality(todo) > 0 LOOP
        SELECT array_agg(t ORDER BY ord) INTO pick
          FROM unnest(todo) WITH ORDINALITY AS u(t, ord)
         WHERE NOT EXISTS (SELECT 1 FROM pg_constraint f
                            WHERE f.contype = 'f' AND f.conrelid = u.t AND f.confrelid <> u.t
                              AND f.confrelid = ANY (todo));
        IF pick IS NULL THEN
            FOREACH rel IN ARRAY todo LOOP
                table_name := rel::regclass::text; rows_inserted := 0; status := 'not generated';
                detail := 'its foreign keys form a cycle with other tables';
                empty := empty || rel;
                RETURN NEXT;
            END LOOP;
            EXIT;
        END IF;
        todo := ARRAY(SELECT t FROM unnest(todo) AS t WHERE NOT t = ANY (pick));

        FOREACH rel IN ARRAY pick LOOP
            table_name := rel::regclass::text;
            rows_inserted := 0;
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', rel::regclass) INTO uniq;
            IF uniq THEN
                status := 'kept'; detail := 'already has rows (from the base)';
                RETURN NEXT;
                CONTINUE;
            END IF;
            SELECT s INTO st FROM jsonb_array_elements(stats -> 'tables') AS s
             WHERE s ->> 'schema' = (SELECT nspname FROM pg_namespace WHERE oid = (SELECT relnamespace FROM pg_class WHERE oid = rel))
               AND s ->> 'name' = (SELECT relname FROM pg_class WHERE oid = rel);
            cols := '{}'; vals := '{}'; ctes := '{}'; why := NULL;

            -- each foreign key: the referenced rows, numbered, joined to row g
            -- by g modulo their count (a hash join, not a scan per row)
            FOR fk IN SELECT c.oid, c.conname, c.conkey, c.confkey, c.confrelid
                        FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = rel ORDER BY c.conname LOOP
                IF fk.confrelid <> rel THEN
                    lst := (SELECT string_agg(format('%I IS NOT NULL', a.attname), ' AND ')
                              FROM unnest(fk.confkey) AS x(attnum)
                              JOIN pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = x.attnum);
                    ctes := ctes || format('LEFT JOIN (SELECT %s, row_number() OVER () - 1 AS rn FROM %s WHERE %s) fk%s ON fk%s.rn = g %% greatest((SELECT count(*) FROM %s WHERE %s), 1)',
                        (SELECT string_agg(format('%I AS a%s', a.attname, i), ', ')
                           FROM unnest(fk.confkey) WITH ORDINALITY AS x(attnum, i)
                           JOIN pg_attribute a ON a.attrelid = fk.confrelid AND a.attnum = x.attnum),
                        fk.confrelid::regclass, lst, fk.oid, fk.oid, fk.confrelid::regclass, lst);
                END IF;
            END LOOP;
            lst := NULL;

            FOR col IN SELECT a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, a.attidentity,
                              a.attgenerated, pg_get_expr(ad.adbin, ad.adrelid) AS def
                         FROM pg_attribute a
                         LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                        WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped
                        ORDER BY a.attnum LOOP
                -- identity, serial and generated columns take their default
                CONTINUE WHEN col.attidentity <> '' OR col.attgenerated <> ''
                    OR col.def ~ '^nextval\(';
                uniq := EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = rel AND i.indisunique
                                   AND col.attnum = ANY (i.indkey::int2[]));
                nullf := NULL; ndist := NULL;
                SELECT (c ->> 'null_frac')::float8, (c ->> 'n_distinct')::float8 INTO nullf, ndist
                  FROM jsonb_array_elements(st -> 'columns') AS c WHERE c ->> 'name' = col.attname;
                IF uniq THEN
                    k := 'g';
                ELSE
                    IF ndist IS NULL OR ndist = 0 THEN
                        d := ceil(n_rows / 2.0);
                    ELSIF ndist > 0 THEN
                        d := least(ndist, n_rows)::bigint;
                    ELSE
                        d := greatest(1, ceil(-ndist * n_rows))::bigint;
                    END IF;
                    k := format('(1 + g %% %s)', d);
                END IF;

                -- a foreign key column: a referenced row's key (self-references: NULL)
                v := NULL;
                SELECT c.oid, c.confrelid, x.i INTO fk
                  FROM pg_constraint c, unnest(c.conkey) WITH ORDINALITY AS x(attnum, i)
                 WHERE c.contype = 'f' AND c.conrelid = rel AND x.attnum = col.attnum
                 ORDER BY c.conname LIMIT 1;
                IF FOUND THEN
                    IF fk.confrelid = rel THEN
                        v := format('NULL::%s', format_type(col.atttypid, col.atttypmod));
                    ELSIF col.attnotnull AND fk.confrelid = ANY (empty) THEN
                        why := format('column %I references %s, which is left empty',
                                      col.attname, fk.confrelid::regclass);
                        EXIT;
                    ELSE
                        v := format('fk%s.a%s', fk.oid, fk.i);
                    END IF;
                ELSE
                    -- a list CHECK on the column or its domain: one of its values
                    SELECT drydock.synth_check_list(pg_get_constraintdef(c.oid)) INTO lst
                      FROM pg_constraint c
                     WHERE ((c.conrelid = rel AND c.conkey = ARRAY[col.attnum]::int2[])
                            OR c.contypid = col.atttypid)
                       AND c.contype = 'c' AND drydock.synth_check_list(pg_get_constraintdef(c.oid)) IS NOT NULL
                     LIMIT 1;
                    IF lst IS NOT NULL THEN
                        v := format('((%s)[1 + (%s %% cardinality(%s))])::%s', lst, k, lst,
                                    format_type(col.atttypid, col.atttypmod));
                    ELSE
                        v := drydock.synth_value_expr(col.atttypid, col.atttypmod, k);
                    END IF;
                    IF v IS NULL THEN
                        why := format('column %I has type %s, which drydock does not generate',
                                      col.attname, format_type(col.atttypid, col.atttypmod));
                        EXIT;
                    END IF;
                END IF;
                -- nullable: NULL in a share of the rows, spread evenly
                IF NOT col.attnotnull THEN
                    nullf := coalesce(nullf, 0.1);
                    IF nullf > 0 THEN
                        v := format('CASE WHEN ceil(g * %s::float8) > ceil((g - 1) * %s::float8) THEN NULL ELSE %s END',
                                    nullf, nullf, v);
                    END IF;
                END IF;
                cols := cols || quote_ident(col.attname);
                vals := vals || v;
            END LOOP;

            IF why IS NULL AND cardinality(cols) = 0 THEN
                q := format('INSERT INTO %s SELECT FROM generate_series(1, %s) AS g', rel::regclass, n_rows);
            ELSIF why IS NULL THEN
                q := format('INSERT INTO %s (%s) SELECT %s FROM generate_series(1, %s) AS g %s',
                            rel::regclass, array_to_string(cols, ', '), array_to_string(vals, ', '), n_rows,
                            array_to_string(ctes, ' '));
            END IF;
            IF why IS NULL THEN
                BEGIN
                    EXECUTE q;
                    GET DIAGNOSTICS cnt = ROW_COUNT;
                    rows_inserted := cnt; status := 'filled'; detail := NULL;
                EXCEPTION WHEN OTHERS THEN
                    why := SQLERRM;
                END;
            END IF;
            IF why IS NOT NULL THEN
                rows_inserted := 0; status := 'not generated'; detail := why;
                empty := empty || rel;
            END IF;
            RETURN NEXT;
        END LOOP;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION drydock.synthesize(integer, jsonb, regclass[]) IS
    'fill each empty table of the database with n rows (foreign keys in dependency order, null_frac and n_distinct from drydock stats-query output when given); only_tables: just those; one row per table: filled, kept (had rows) or not generated (left empty, with why)';
REVOKE ALL ON FUNCTION drydock.synthesize(integer, jsonb, regclass[]) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Calibration for the production-impact estimates (driver/src/estimate.c).
--
-- A lock is held as long as the statement's work takes: rewriting the heap
-- and its indexes, building an index, or scanning every row to validate.
-- calibrate() times each kind of work on a synthetic copy of a table's shape
-- (CREATE TABLE ... (LIKE t INCLUDING ALL), filled by synthesize()) at each
-- of the given row counts, so that the driver can extrapolate by size to
-- production's.  The copy lives in a scratch schema dropped before the
-- function returns.  Timings include the sandbox's settings (fsync off):
-- the driver states that with its range.
-- ---------------------------------------------------------------------------
CREATE FUNCTION drydock.calibrate(rel regclass, row_counts integer[])
    RETURNS TABLE(n_rows integer, table_bytes bigint, indexes_bytes bigint,
                  rewrite_ms float8, scan_ms float8, index_ms float8, detail text)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
    r record;
    t0 timestamptz;
    firstcol name;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'drydock_calibration') THEN
        RAISE EXCEPTION 'schema drydock_calibration already exists'
            USING ERRCODE = 'duplicate_schema';
    END IF;
    SELECT a.attname INTO firstcol FROM pg_attribute a
     WHERE a.attrelid = rel AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum LIMIT 1;
    FOREACH n IN ARRAY row_counts LOOP
        n_rows := n; table_bytes := NULL; indexes_bytes := NULL;
        rewrite_ms := NULL; scan_ms := NULL; index_ms := NULL; detail := NULL;
        CREATE SCHEMA drydock_calibration;
        EXECUTE format('CREATE TABLE drydock_calibration.copy (LIKE %s INCLUDING ALL)', rel);
        SELECT * INTO r FROM drydock.synthesize(n, NULL, ARRAY['drydock_calibration.copy'::regclass]);
        IF r.status = 'filled' THEN
            table_bytes := pg_table_size('drydock_calibration.copy');
            indexes_bytes := pg_indexes_size('drydock_calibration.copy');
            -- a validating scan: every row read and deformed
            t0 := clock_timestamp();
            EXECUTE 'SELECT count(*) FROM drydock_calibration.copy AS c WHERE c IS NULL';
            scan_ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
            IF firstcol IS NOT NULL THEN
                t0 := clock_timestamp();
                EXECUTE format('CREATE INDEX drydock_calibration_idx ON drydock_calibration.copy (%I)', firstcol);
                index_ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
                DROP INDEX drydock_calibration.drydock_calibration_idx;
            END IF;
            -- a rewrite: a volatile default makes ALTER TABLE rewrite the heap
            -- and rebuild every index, as a rewriting type change does
            t0 := clock_timestamp();
            ALTER TABLE drydock_calibration.copy ADD COLUMN drydock_rewrite integer DEFAULT (random() * 0)::integer;
            rewrite_ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
        ELSE
            detail := r.detail;
        END IF;
        DROP TABLE drydock_calibration.copy;
        DROP SCHEMA drydock_calibration;
        RETURN NEXT;
        EXIT WHEN detail IS NOT NULL;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION drydock.calibrate(regclass, integer[]) IS
    'time a rewrite, a validating scan and an index build on a synthetic copy of the table''s shape at each row count (milliseconds, with the copy''s sizes)';
REVOKE ALL ON FUNCTION drydock.calibrate(regclass, integer[]) FROM PUBLIC;
