-- TV: tables of the target schema (TV001..TV006), passing and failing.
SELECT drydock.capture_reset();
CREATE SCHEMA tv;
CREATE TABLE tv.customers (id integer PRIMARY KEY, name text NOT NULL);
CREATE TABLE tv.orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES tv.customers);
CREATE INDEX orders_customer_id_idx ON tv.orders (customer_id);

-- passing: exact list, and a count
SELECT code, object, status, message
  FROM drydock.verify('tv', '{"expected_tables": ["customers", "orders"]}') WHERE family = 'TV';
SELECT code, status, message
  FROM drydock.verify('tv', '{"expected_tables": 2}') WHERE code = 'TV003';

-- TV001: target schema missing
SELECT code, object, status, message FROM drydock.verify('no_such_schema') WHERE code = 'TV001';

-- TV002, TV003, TV004: missing, wrong count, unexpected
SELECT code, object, status, message
  FROM drydock.verify('tv', '{"expected_tables": ["customers", "invoices"]}') WHERE code IN ('TV002', 'TV003', 'TV004');
SELECT code, object, status, message
  FROM drydock.verify('tv', '{"expected_tables": 3}') WHERE code = 'TV003';

-- TV005: UNLOGGED; TV006: partitioned
CREATE UNLOGGED TABLE tv.scratch (id integer PRIMARY KEY);
CREATE TABLE tv.events (id integer, at timestamptz, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
SELECT code, object, status, message FROM drydock.verify('tv') WHERE code IN ('TV005', 'TV006');

-- severities: warn and off
SELECT code, object, status, message
  FROM drydock.verify('tv', '{"rules": {"TV005": "warn", "TV006": "off"}}') WHERE code IN ('TV005', 'TV006');

DROP SCHEMA tv CASCADE;
