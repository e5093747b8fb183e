-- The policy: defaults, validation errors that name the key, severities.
SELECT drydock.capture_reset();
SELECT jsonb_pretty(drydock.default_policy());
-- feeding the defaults back is accepted
SELECT count(*) > 0 AS ok FROM drydock.verify('public', drydock.default_policy());
-- suppress keys (see verify_suppress), schema must match the target
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"schema": "public", "suppress": [], "allow_suppress": []}');
SELECT * FROM drydock.verify('public', '{"schema": "app"}');
-- unknown keys and wrong value types are errors naming the key
SELECT * FROM drydock.verify('public', '{"expected_table": 3}');
SELECT * FROM drydock.verify('public', '[]');
SELECT * FROM drydock.verify('public', '{"expected_tables": "orders"}');
SELECT * FROM drydock.verify('public', '{"expected_tables": -1}');
SELECT * FROM drydock.verify('public', '{"expected_tables": [1, 2]}');
SELECT * FROM drydock.verify('public', '{"allowed_types": "text"}');
SELECT * FROM drydock.verify('public', '{"allowed_types": ["txet"]}');
SELECT * FROM drydock.verify('public', '{"name_pattern": "(["}');
SELECT * FROM drydock.verify('public', '{"allow_cross_schema_fk": "yes"}');
SELECT * FROM drydock.verify('public', '{"forbid_schema_creation": 1}');
SELECT * FROM drydock.verify('public', '{"max_lock_on_existing": "BigLock"}');
SELECT * FROM drydock.verify('public', '{"notices": "x"}');
SELECT * FROM drydock.verify('public', '{"rules": ["KC001"]}');
SELECT * FROM drydock.verify('public', '{"rules": {"KC999": "off"}}');
SELECT * FROM drydock.verify('public', '{"rules": {"KC001": "fatal"}}');
SELECT * FROM drydock.verify('public', '{"rules": {"KC001": false}}');
SELECT * FROM drydock.verify(NULL);
-- a code overrides its family, whatever the key order
SELECT code, status, message FROM drydock.verify('public', '{"rules": {"KC001": "warn", "KC": "off"}}')
 WHERE family = 'KC';
-- every rule gives at least one row, in code order
SELECT family, count(*) FROM drydock.verify('public') GROUP BY family ORDER BY min(code);
SELECT family, count(*) FROM drydock.verify_rollback('public') GROUP BY family;
-- max_lock_seconds (for the driver's production-impact estimates): a number
-- or lock modes to numbers
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"max_lock_seconds": 5}');
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"max_lock_seconds": {"AccessExclusiveLock": 2, "ShareLock": 60.5}}');
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"max_lock_seconds": {"BigLock": 2}}');
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"max_lock_seconds": -1}');
SELECT count(*) > 0 AS ok FROM drydock.verify('public', '{"max_lock_seconds": "5"}');
