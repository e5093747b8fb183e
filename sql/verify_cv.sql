-- CV: column types (CV001..CV006), passing and failing.
SELECT drydock.capture_reset();
CREATE SCHEMA cv;
CREATE TABLE cv.good (id integer PRIMARY KEY, name text, at timestamptz, doc jsonb, ok boolean);
SELECT code, object, status, message FROM drydock.verify('cv') WHERE family = 'CV';

CREATE TABLE cv.bad (
    id bigint PRIMARY KEY,           -- CV001 (not allowed, no specific code)
    created timestamp,               -- CV002
    payload json,                    -- CV003
    title varchar(80),               -- CV004
    code char(3),                    -- CV005
    price money                      -- CV006
);
SELECT code, object, status, message FROM drydock.verify('cv') WHERE family = 'CV';

-- allowed_types decides: allowing bigint and json silences CV001 and CV003
SELECT code, object, status
  FROM drydock.verify('cv', '{"allowed_types": ["text", "timestamptz", "jsonb", "boolean", "integer", "bigint", "json"]}')
 WHERE family = 'CV';

DROP SCHEMA cv CASCADE;
