# bench/lib.sh -- helpers shared by the bench/*.sh benchmark scripts (sourced,
# not run).  bash only.  Nothing here talks to a server it did not start.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
DRYDOCK=${DRYDOCK:-$REPO_DIR/driver/drydock}
PG_BINDIR=${PG_BINDIR:-$(pg_config --bindir)}
EX12=$REPO_DIR/examples/12-tables
# BENCH_PG_CONFIG=PATH: pass --pg-config PATH to every drydock command (e.g. a
# relocated copy of the installation carrying a patched extension).
DD_PGC=${BENCH_PG_CONFIG:+--pg-config $BENCH_PG_CONFIG}

# Run a command as the cluster owner: as root through runuser (postgres
# refuses to run as root), otherwise as ourselves.
PG_OWNER=${PG_OWNER:-postgres}
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$PG_OWNER" -- "$@"
	else
		"$@"
	fi
}

# now_ms: wall clock in milliseconds (fractional).
now_ms() { local t; t=$(date +%s%N); echo "$((t / 1000000)).$(printf '%06d' $((t % 1000000)))"; }

# elapsed_ms START: milliseconds since START (from now_ms), one decimal.
elapsed_ms() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", b - a }'; }

# stats: read numbers on stdin, print "median min max n".
stats() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "NA NA NA 0"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f %d\n", m, a[1], a[NR], NR }'
}
median() { stats | awk '{ print $1 }'; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }

# A private scratch directory, writable by the cluster owner when we are root.
# mk_scratch VAR [BASE]: sets VAR to the new directory.
mk_scratch() {
	local d
	d=$(mktemp -d "${2:-${TMPDIR:-/tmp}}/drydock-bench.XXXXXX")
	chmod 0755 "$d"
	if [ "$(id -u)" = 0 ]; then chown "$PG_OWNER" "$d"; fi
	printf -v "$1" '%s' "$d"
}

# Where drydock itself puts a run directory when TMPDIR is unset: tmpfs if
# roomy, else /tmp.  Used so a hand-made cluster sits on the same medium.
fast_base() {
	local avail
	if [ -n "${TMPDIR:-}" ]; then echo "$TMPDIR"; return; fi
	avail=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }')
	if [ -n "$avail" ] && [ "$avail" -gt 1048576 ]; then echo /dev/shm; else echo /tmp; fi
}

# free_port: a TCP port number nobody listens on (the clusters are
# socket-only; the port only names the socket file).
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Hlnx 2>/dev/null | grep -q "\.s\.PGSQL\.$p\b"; then echo "$p"; return; fi
	done
}

# gen_up N SCHEMA FILE / gen_down N SCHEMA FILE: a generated many-table
# migration (bench/gen_tables.sh) and its exact inverse (children first, no
# CASCADE, committed in batches like the up file).
gen_up() { "$BENCH_DIR/gen_tables.sh" "$1" "$2" > "$3"; }
gen_down() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		print "BEGIN;"
		for (i = n; i >= 1; i--) {
			printf "DROP TABLE %s.t%d;\n", s, i
			if ((n - i + 1) % 200 == 0) print "COMMIT; BEGIN;"
		}
		printf "DROP SCHEMA %s;\n", s
		print "COMMIT;"
	}' > "$3"
}

# Kill every cluster registered with register_cluster DATADIR (immediate
# stop), then remove the registered directories.  Called from the EXIT trap.
BENCH_CLUSTERS=()
BENCH_DIRS=()
register_cluster() { BENCH_CLUSTERS+=("$1"); }
register_dir() { BENCH_DIRS+=("$1"); }
bench_cleanup() {
	local d pid
	for d in "${BENCH_CLUSTERS[@]+"${BENCH_CLUSTERS[@]}"}"; do
		if [ -f "$d/postmaster.pid" ]; then
			pid=$(head -1 "$d/postmaster.pid" 2>/dev/null || true)
			if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
				kill -QUIT "$pid" 2>/dev/null || true
				for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
				kill -KILL "$pid" 2>/dev/null || true
			fi
		fi
	done
	for d in "${BENCH_DIRS[@]+"${BENCH_DIRS[@]}"}"; do
		[ -n "$d" ] && rm -rf -- "$d"
	done
}
bench_trap() { trap 'rc=$?; bench_cleanup; exit $rc' EXIT; trap 'exit 130' INT; trap 'exit 143' TERM; }

# json_get FILE EXPR: evaluate a python expression over the parsed JSON `d`.
json_get() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

hr() { printf '%s\n' "------------------------------------------------------------------------"; }

# interleave ROUNDS WARMUP OUTDIR LABEL CMD [LABEL CMD]...: run each CMD (a
# string for eval, output discarded unless it redirects itself) once per
# round, the order rotated every round, after WARMUP uncounted rounds.
# Appends the wall time (ms) of each counted run to OUTDIR/LABEL.ms and its
# exit code to OUTDIR/LABEL.rc.
interleave() {
	local rounds=$1 warm=$2 out=$3; shift 3
	local labels=() cmds=() n i r k t0 rc
	while [ $# -gt 0 ]; do labels+=("$1"); cmds+=("$2"); shift 2; done
	n=${#labels[@]}
	for ((r = 1 - warm; r <= rounds; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(( (k + (r > 0 ? r : 0)) % n ))
			t0=$(now_ms)
			rc=0
			eval "${cmds[$i]}" >/dev/null 2>>"$out/${labels[$i]}.err" || rc=$?
			if [ "$r" -ge 1 ]; then
				elapsed_ms "$t0" >> "$out/${labels[$i]}.ms"; echo >> "$out/${labels[$i]}.ms"
				echo "$rc" >> "$out/${labels[$i]}.rc"
			fi
		done
		[ "$r" -ge 1 ] && printf '  round %d/%d done\n' "$r" "$rounds" >&2
	done
	return 0
}

# report_rows OUTDIR REF LABEL...: one line per label: median, min-max,
# runs, exit codes seen, ratio of medians vs REF.
report_rows() {
	local out=$1 ref=$2; shift 2
	local refmed l s codes
	refmed=$(median < "$out/$ref.ms")
	printf '  %-38s %10s %19s %5s %8s %12s\n' variant "median ms" "min-max ms" runs "exit" "vs $ref"
	for l in "$@"; do
		s=($(stats < "$out/$l.ms"))
		codes=$(sort -u "$out/$l.rc" | paste -sd, -)
		printf '  %-38s %10s %19s %5s %8s %11sx\n' "$l" "${s[0]}" "${s[1]}-${s[2]}" "${s[3]}" "$codes" "$(ratio "${s[0]}" "$refmed")"
	done
}
