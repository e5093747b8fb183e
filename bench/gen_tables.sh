#!/bin/sh
# gen_tables.sh N [SCHEMA] -- print SQL creating SCHEMA (default "bench") with
# N tables t1..tN, six columns each, a PRIMARY KEY, a UNIQUE constraint and a
# FOREIGN KEY (t_i.parent_id -> t_{i-1}.id; t1 references itself).
# Used by bench/catalog_bench.sh; usable by any benchmark that needs a
# realistic many-table schema.  Output goes to stdout, committed every 200
# tables (one transaction for all of them would exhaust the lock table).
set -eu
n=${1:?usage: gen_tables.sh N [SCHEMA]}
schema=${2:-bench}
case $n in ''|*[!0-9]*) echo "gen_tables.sh: N must be a positive integer" >&2; exit 2 ;; esac
case $schema in [a-z_]*) ;; *) echo "gen_tables.sh: SCHEMA must be a lower-case identifier" >&2; exit 2 ;; esac
case $schema in *[!a-z0-9_]*) echo "gen_tables.sh: SCHEMA must be a lower-case identifier" >&2; exit 2 ;; esac
awk -v n="$n" -v s="$schema" 'BEGIN {
	print "BEGIN;"
	printf "CREATE SCHEMA %s;\n", s
	for (i = 1; i <= n; i++) {
		ref = (i == 1) ? 1 : i - 1
		printf "CREATE TABLE %s.t%d (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, " \
		       "parent_id bigint REFERENCES %s.t%d (id), name text, " \
		       "created_at timestamptz NOT NULL DEFAULT now(), active boolean NOT NULL DEFAULT true);\n",
		       s, i, s, ref
		if (i % 200 == 0)
			print "COMMIT; BEGIN;"
	}
	print "COMMIT;"
}'
