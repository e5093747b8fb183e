-- 0001_billing_core.up.sql: the billing core of the "app" schema.
-- Twelve tables, types from the governed set (text, timestamptz, jsonb,
-- boolean, integer), every table with a primary key, foreign keys inside
-- the schema, each foreign key covered by an index.

CREATE TABLE app.customers (
    customer_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text        NOT NULL,
    full_name   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE TABLE app.addresses (
    address_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES app.customers (customer_id),
    line1       text    NOT NULL,
    city        text    NOT NULL,
    country     text    NOT NULL,
    is_billing  boolean NOT NULL DEFAULT false
);
CREATE INDEX addresses_customer_id_idx ON app.addresses (customer_id);

CREATE TABLE app.products (
    product_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku         text    NOT NULL UNIQUE,
    title       text    NOT NULL,
    attributes  jsonb   NOT NULL DEFAULT '{}'::jsonb,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE app.price_lists (
    price_list_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    valid_from    timestamptz NOT NULL
);

CREATE TABLE app.prices (
    price_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    price_list_id integer NOT NULL REFERENCES app.price_lists (price_list_id),
    product_id    integer NOT NULL REFERENCES app.products (product_id),
    amount_cents  integer NOT NULL CHECK (amount_cents >= 0),
    CONSTRAINT prices_list_product_key UNIQUE (price_list_id, product_id)
);
CREATE INDEX prices_product_id_idx ON app.prices (product_id);

CREATE TABLE app.orders (
    order_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer     NOT NULL REFERENCES app.customers (customer_id),
    placed_at   timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL DEFAULT 'open'
);
CREATE INDEX orders_customer_id_idx ON app.orders (customer_id);

CREATE TABLE app.order_lines (
    order_line_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      integer NOT NULL REFERENCES app.orders (order_id),
    product_id    integer NOT NULL REFERENCES app.products (product_id),
    quantity      integer NOT NULL CHECK (quantity > 0)
);
CREATE INDEX order_lines_order_id_idx ON app.order_lines (order_id);
CREATE INDEX order_lines_product_id_idx ON app.order_lines (product_id);

CREATE TABLE app.invoices (
    invoice_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id    integer     NOT NULL REFERENCES app.orders (order_id),
    number      text        NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL
);
CREATE INDEX invoices_order_id_idx ON app.invoices (order_id);

CREATE TABLE app.payments (
    payment_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id   integer     NOT NULL REFERENCES app.invoices (invoice_id),
    amount_cents integer     NOT NULL,
    received_at  timestamptz NOT NULL,
    details      jsonb
);
CREATE INDEX payments_invoice_id_idx ON app.payments (invoice_id);

CREATE TABLE app.refunds (
    refund_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id   integer NOT NULL REFERENCES app.payments (payment_id),
    amount_cents integer NOT NULL,
    reason       text
);
CREATE INDEX refunds_payment_id_idx ON app.refunds (payment_id);

CREATE TABLE app.coupons (
    coupon_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text        NOT NULL UNIQUE,
    expires_at  timestamptz,
    single_use  boolean     NOT NULL DEFAULT true
);

CREATE TABLE app.audit_events (
    audit_event_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    integer REFERENCES app.customers (customer_id),
    happened_at    timestamptz NOT NULL DEFAULT now(),
    payload        jsonb       NOT NULL
);
CREATE INDEX audit_events_customer_id_idx ON app.audit_events (customer_id);
