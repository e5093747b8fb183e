#!/bin/bash
# tools/regress-alt.sh MAJOR... -- regenerate and check the pg_regress
# alternative expected files of each MAJOR.
#
# Where a server legitimately prints something other than 15 does (18's ACL
# letter m for MAINTAIN and its view text; locks 13 does not take), the
# output for that major is kept in expected/NAME_S.out with a fixed suffix S
# per major (pg_regress accepts a result that matches any alternative).  For
# each MAJOR: its alternatives are removed, the suite runs on that major
# (drydock exec --pg MAJOR), each differing result becomes NAME_S.out, the
# difference from NAME.out is printed for review, and the suite runs again
# and must pass.  Exit 0 when every major passes with its alternatives.
#
#   DRYDOCK   the driver (default driver/drydock)
set -uo pipefail
cd "$(dirname "$0")/.."
DRYDOCK=${DRYDOCK:-$PWD/driver/drydock}

suffix_of() {
	case $1 in
		18) echo 1 ;;
		13) echo 2 ;;
		17) echo 3 ;;
		19) echo 4 ;;
		14) echo 5 ;;
		16) echo 6 ;;
		*) return 1 ;;
	esac
}

regress() {
	rm -rf build/regress
	"$DRYDOCK" exec --quiet --pg "$1" -- make -s -C extension installcheck >/dev/null 2>&1
}

status=0
for m in "$@"; do
	s=$(suffix_of "$m") || { echo "regress-alt: no suffix for major $m (add it to suffix_of)"; exit 2; }
	rm -f expected/*_"$s".out
	if regress "$m"; then
		echo "regress-alt: $m: every file matches the default expected output, no alternative needed"
		continue
	fi
	for r in build/regress/results/*.out; do
		n=$(basename "$r" .out)
		same=
		for e in "expected/$n.out" expected/"$n"_[0-9].out; do
			[ -f "$e" ] && cmp -s "$r" "$e" && same=1
		done
		if [ -z "$same" ]; then
			cp "$r" "expected/${n}_$s.out"
			echo "=== regress-alt: $m: expected/${n}_$s.out (differs from expected/$n.out):"
			diff -u "expected/$n.out" "expected/${n}_$s.out" | sed -n '3,$p'
		fi
	done
	if regress "$m"; then
		echo "regress-alt: $m: passes with its alternatives"
	else
		echo "regress-alt: $m: STILL FAILS"; cat build/regress/regression.diffs 2>/dev/null; status=1
	fi
done
exit $status
