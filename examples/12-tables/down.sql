-- 0001_billing_core.down.sql: the exact inverse of the up migration.
-- Dependents first, no CASCADE: every object is dropped by name.

DROP TABLE app.audit_events;
DROP TABLE app.coupons;
DROP TABLE app.refunds;
DROP TABLE app.payments;
DROP TABLE app.invoices;
DROP TABLE app.order_lines;
DROP TABLE app.orders;
DROP TABLE app.prices;
DROP TABLE app.price_lists;
DROP TABLE app.products;
DROP TABLE app.addresses;
DROP TABLE app.customers;
