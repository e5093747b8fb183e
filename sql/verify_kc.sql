-- KC: keys and constraints (KC001..KC005), passing and failing.
SELECT drydock.capture_reset();
CREATE SCHEMA kc;
CREATE TABLE kc.customers (id integer PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE kc.orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES kc.customers);
CREATE INDEX orders_customer_id_idx ON kc.orders (customer_id);

-- passing: every KC rule
SELECT code, object, status, message FROM drydock.verify('kc') WHERE family = 'KC';

-- KC001: no primary key
CREATE TABLE kc.audit (at timestamptz, what text);
-- KC002: cross-schema FK
CREATE SCHEMA kc_other;
CREATE TABLE kc_other.regions (id integer PRIMARY KEY);
CREATE TABLE kc.shops (id integer PRIMARY KEY, region_id integer REFERENCES kc_other.regions);
CREATE INDEX shops_region_id_idx ON kc.shops (region_id);
-- KC003: FK type mismatch; KC004: FK without index
CREATE TABLE kc.payments (id integer PRIMARY KEY, customer_id bigint REFERENCES kc.customers);
-- KC005: NOT VALID constraint
ALTER TABLE kc.orders ADD CONSTRAINT orders_id_positive CHECK (id > 0) NOT VALID;
SELECT code, object, status, message FROM drydock.verify('kc') WHERE family = 'KC';

-- an index whose leading column is the FK column covers it; a later column does not
CREATE INDEX payments_id_customer_idx ON kc.payments (id, customer_id);
SELECT code, object, status FROM drydock.verify('kc') WHERE code = 'KC004';
CREATE INDEX payments_customer_id_idx ON kc.payments (customer_id, id);
SELECT code, object, status FROM drydock.verify('kc') WHERE code = 'KC004';

-- policy: cross-schema FKs allowed; KC as a family at warn, KC001 back to error
SELECT code, object, status, message
  FROM drydock.verify('kc', '{"allow_cross_schema_fk": true, "rules": {"KC": "warn", "KC001": "error"}}')
 WHERE family = 'KC';

DROP SCHEMA kc CASCADE;
DROP SCHEMA kc_other CASCADE;
