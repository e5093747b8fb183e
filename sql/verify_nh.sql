-- NH: naming hygiene (NH001..NH004), passing and failing.
SELECT drydock.capture_reset();
CREATE SCHEMA nh;
CREATE TABLE nh.customers (id integer PRIMARY KEY, full_name text);
CREATE INDEX customers_full_name_idx ON nh.customers (full_name);
SELECT code, object, status, message FROM drydock.verify('nh') WHERE family = 'NH';

-- NH001 + NH002: upper case needs quoting and breaks the pattern
CREATE TABLE nh."Orders" (id integer CONSTRAINT orders_pkey PRIMARY KEY, "CustomerId" integer);
-- NH003: keywords
CREATE TABLE nh.grants (id integer PRIMARY KEY, "user" text, "order" integer);
SELECT code, object, status, message FROM drydock.verify('nh') WHERE family = 'NH' AND code <> 'NH004';
DROP TABLE nh."Orders", nh.grants;

-- NH004: a 70-byte identifier is truncated to 63 bytes at parse time (NOTICE)
SELECT drydock.capture_begin('apply');
CREATE TABLE nh.customer_addresses_with_a_very_long_and_descriptive_name_for_testing (id integer PRIMARY KEY);
SELECT drydock.capture_end();
SELECT code, object, status, message FROM drydock.verify('nh') WHERE code = 'NH004';
-- the driver passes the NOTICE texts: the original name is then reported
SELECT code, object, status, message
  FROM drydock.verify('nh', jsonb_build_object('notices', jsonb_build_array(
       'identifier "customer_addresses_with_a_very_long_and_descriptive_name_for_testing" will be truncated to "customer_addresses_with_a_very_long_and_descriptive_name_for_te"')))
 WHERE code = 'NH004';
-- renamed away: the capture still remembers the truncated name
ALTER TABLE nh.customer_addresses_with_a_very_long_and_descriptive_name_for_te RENAME TO customer_addresses;
ALTER INDEX nh.customer_addresses_with_a_very_long_and_descriptive_name_f_pkey RENAME TO customer_addresses_pkey;
SELECT code, object, status, message FROM drydock.verify('nh') WHERE code = 'NH004';

-- custom pattern: lower-case with at most 20 characters
SELECT code, object, status, message
  FROM drydock.verify('nh', '{"name_pattern": "^[a-z_][a-z0-9_]{0,19}$", "rules": {"NH004": "off"}}')
 WHERE family = 'NH';

DROP SCHEMA nh CASCADE;
SELECT drydock.capture_reset();
