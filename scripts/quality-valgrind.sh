#!/bin/sh
# SPDX-License-Identifier: MIT
# valgrind over the C test suites of a built tree (not run by CI: it takes
# several minutes; the result is recorded in docs/quality.md):
#   memcheck  unit, tracker, negotiation, psp, sim, move and mig suites:
#             invalid reads/writes, uninitialised values, and definite or
#             indirect leaks are errors;
#   helgrind  the concurrency tests (tracker-stress, concurrent exits, the
#             simulator's parallel migrations, the move stress test and a
#             multi-channel session round trip): lock order and data races
#             that do not go through C11 atomics.
#
#   scripts/quality-valgrind.sh [BUILD_DIR] [memcheck|helgrind|all]
#
# BUILD_DIR defaults to _build/gcc (configure and build it first, e.g. with
# ./scripts/test.sh). Exit 0 clean, 1 on any valgrind error, 77 without
# valgrind.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/gcc}
tool=${2:-all}
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind not installed"; exit 77; }
[ -f "$build/build.ninja" ] || { echo "$build is not a configured build"; exit 1; }
ninja -C "$build" >/dev/null

supp=$top/scripts/quality-valgrind.supp
status=0
summary=""

# Tests that are C programs (valgrind would trace /bin/sh for the script
# tests); each runs under the tool with a generous timeout, one at a time.
# tracker-nomem, tracker-alloc, doc-errors and doc-errors-mig are left out:
# they interpose malloc themselves (as they refuse to run under the
# sanitizers), which valgrind's own malloc replacement breaks. Test names
# are unique across suites, so selecting by name runs exactly these.
# The property test runs 100000 operations instead of 2000000.
export SEVMIG_PROPTEST_OPS=${SEVMIG_PROPTEST_OPS:-100000}
# The tamper test replays a migration per flipped bit: 500 under valgrind.
export SEVMIG_TAMPER_FLIPS=${SEVMIG_TAMPER_FLIPS:-500}
run() { # name, valgrind args, meson test selection...
	name=$1 vg=$2; shift 2
	log=$build/meson-logs/valgrind-$name.txt
	echo "== $name: $*"
	# shellcheck disable=SC2086
	if meson test -C "$build" --no-rebuild --print-errorlogs \
		--timeout-multiplier 30 --num-processes 1 \
		--wrapper "valgrind $vg --suppressions=$supp --error-exitcode=97 --quiet" \
		"$@" >"$log" 2>&1; then
		res=clean
	else
		res="errors (see $log)"
		status=1
		grep -E '^==[0-9]+==' "$log" | head -n 60 || tail -n 40 "$log"
	fi
	ok=$(sed -n 's/^Ok: *//p' "$log" | tr -d ' ')
	skip=$(sed -n 's/^Skipped: *//p' "$log" | tr -d ' ')
	summary="$summary
$name: ${ok:-0} tests ran, ${skip:-0} skipped: $res"
}

memcheck_tests=$(meson test -C "$build" --list 2>/dev/null |
	grep -E '^libsevmig:([a-z+]*)(unit|tracker|negotiation|psp|sim|move|mig)([a-z+]*) / ' |
	grep -vE '/ (tracker-stress|tracker-nomem|tracker-alloc|doc-errors|doc-errors-mig|psp-cli|mig-inspect-cli)$' | sed 's/.* \/ //' || true)
helgrind_tests=$(meson test -C "$build" --list 2>/dev/null |
	grep -E ' / (tracker-stress|vm-exits|sim-moves|sim-roundtrip|move-stress|mig-roundtrip)$' | sed 's/.* \/ //' || true)

if [ "$tool" = memcheck ] || [ "$tool" = all ]; then
	# shellcheck disable=SC2086
	run memcheck "--tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect --track-origins=yes" $memcheck_tests
fi
if [ "$tool" = helgrind ] || [ "$tool" = all ]; then
	# shellcheck disable=SC2086
	run helgrind "--tool=helgrind" $helgrind_tests
fi
echo "$summary"
exit "$status"
