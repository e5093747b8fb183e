#!/bin/bash
# bench/gen_history.sh TABLES PAIRS DIR -- write a golang-migrate history:
# migration 1 creates schema app with TABLES tables (PK, UNIQUE, FK, six
# columns each); migrations 2..PAIRS+1 are exact up/down pairs of the kinds
# real histories have (add column with default, index, table, CHECK,
# function, view, comment), round robin over the tables.
set -euo pipefail
tables=${1:?tables} pairs=${2:?pairs} dir=${3:?dir}
mkdir -p "$dir"
rm -f "$dir"/*.sql
{
	echo "CREATE SCHEMA app;"
	for i in $(seq 1 "$tables"); do
		ref=""
		[ "$i" -gt 1 ] && ref="REFERENCES app.t$((i - 1)) (id)"
		echo "CREATE TABLE app.t$i (id integer PRIMARY KEY, code text NOT NULL UNIQUE, parent_id integer $ref,"
		echo "  created_at timestamptz NOT NULL DEFAULT now(), payload jsonb, active boolean NOT NULL DEFAULT true);"
		[ "$i" -gt 1 ] && echo "CREATE INDEX t${i}_parent_id_idx ON app.t$i (parent_id);"
	done
} > "$dir/1_base.up.sql"
{
	for i in $(seq "$tables" -1 1); do echo "DROP TABLE app.t$i;"; done
	echo "DROP SCHEMA app;"
} > "$dir/1_base.down.sql"
for p in $(seq 2 $((pairs + 1))); do
	t=$(( (p % tables) + 1 ))
	case $((p % 7)) in
	0) up="ALTER TABLE app.t$t ADD COLUMN note_$p text NOT NULL DEFAULT '';"
	   down="ALTER TABLE app.t$t DROP COLUMN note_$p;" ;;
	1) up="CREATE INDEX t${t}_created_$p ON app.t$t (created_at);"
	   down="DROP INDEX app.t${t}_created_$p;" ;;
	2) up="CREATE TABLE app.extra_$p (id integer PRIMARY KEY, t_id integer NOT NULL REFERENCES app.t$t (id));
CREATE INDEX extra_${p}_t_id_idx ON app.extra_$p (t_id);"
	   down="DROP TABLE app.extra_$p;" ;;
	3) up="ALTER TABLE app.t$t ADD CONSTRAINT t${t}_code_len_$p CHECK (length(code) < 200);"
	   down="ALTER TABLE app.t$t DROP CONSTRAINT t${t}_code_len_$p;" ;;
	4) up="CREATE FUNCTION app.f_$p(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS \$\$ SELECT x + $p \$\$;"
	   down="DROP FUNCTION app.f_$p(integer);" ;;
	5) up="CREATE VIEW app.v_$p AS SELECT id, code FROM app.t$t WHERE active;"
	   down="DROP VIEW app.v_$p;" ;;
	6) up="COMMENT ON TABLE app.t$t IS 'revision $p';"
	   down="COMMENT ON TABLE app.t$t IS NULL;" ;;
	esac
	printf '%s\n' "$up" > "$dir/${p}_change_$p.up.sql"
	printf '%s\n' "$down" > "$dir/${p}_change_$p.down.sql"
done
