#!/bin/sh
# SPDX-License-Identifier: MIT
# Line and branch coverage of src/ (the library and the simulator) from the
# gcc configuration's test suites, measured with gcovr, with floors that
# fail the run when coverage drops below them.
#
#   scripts/quality-coverage.sh [BUILD_DIR]   (default _build/coverage)
#
# Prints gcovr's per-file table and the totals; writes
# BUILD_DIR/coverage.txt and BUILD_DIR/coverage.json. Exit 0 above the
# floors, 1 below them or when a test fails, 77 when gcovr is missing.
# The floors are the figures recorded in docs/quality.md, rounded down
# less one point for thread-timing variance:
# raise them with the coverage, never lower them to make a change pass.
set -eu
LINE_FLOOR=${SEVMIG_COVERAGE_LINE_FLOOR:-91}
BRANCH_FLOOR=${SEVMIG_COVERAGE_BRANCH_FLOOR:-79}

top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/coverage}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
command -v gcovr >/dev/null 2>&1 || { echo "SKIP: gcovr not installed"; exit 77; }
cd "$top"

opts="-Db_coverage=true -Dbuildtype=debug -Dtests=enabled -Dbench=false -Dwerror=true"
if [ -f "$build/meson-private/coredata.dat" ]; then
	# shellcheck disable=SC2086
	meson setup --reconfigure "$build" $opts >/dev/null
else
	rm -rf "$build"
	# shellcheck disable=SC2086
	CC=gcc meson setup "$build" $opts >/dev/null
fi
ninja -C "$build" >/dev/null
# Counters from an earlier run would add up.
find "$build" -name '*.gcda' -delete

# Every suite of the gcc configuration that exercises src/; the others do
# not run library code (packaging, static analysis) or need another
# compiler (tsan and fuzz use clang), and the Rust tests link the library
# too but add nothing the C suites do not reach.
status=0
meson test -C "$build" --no-suite tsan --no-suite fuzz --no-suite rust \
	--no-suite packaging --no-suite static-analysis --no-suite abi \
	--print-errorlogs >"$build/coverage-tests.log" 2>&1 || {
	tail -n 30 "$build/coverage-tests.log"
	echo "a test failed: coverage not measured"
	exit 1
}
grep -E '^(Ok|Fail|Skipped):' "$build/coverage-tests.log"

# src/ only: the library and the simulator. Unreachable-by-design code
# (allocation failure after a successful malloc in the same call, ...) is
# not excluded: the floors account for it.
gcovr --root "$top" --filter "$top/src/" --object-directory "$build" \
	--exclude-unreachable-branches --exclude-throw-branches \
	--txt "$build/coverage.txt" --json-summary "$build/coverage.json" \
	>/dev/null 2>"$build/gcovr.err" || {
	cat "$build/gcovr.err"; exit 1; }
python3 - "$build/coverage.json" "$LINE_FLOOR" "$BRANCH_FLOOR" <<'PY' || status=1
import json, sys
s = json.load(open(sys.argv[1]))
line, branch = s["line_percent"], s["branch_percent"]
lf, bf = float(sys.argv[2]), float(sys.argv[3])
print(f"coverage of src/: lines {line:.1f}% ({s['line_covered']}/{s['line_total']}), "
      f"branches {branch:.1f}% ({s['branch_covered']}/{s['branch_total']}); "
      f"floors {lf:g}% / {bf:g}%")
print("per file (lines %, branches %):")
pct = lambda v: "    -" if v is None else f"{v:5.1f}"
for f in sorted(s["files"], key=lambda f: f["filename"]):
    print(f"  {f['filename']:<28} {pct(f['line_percent'])} {pct(f['branch_percent'])}")
if line < lf or branch < bf:
    print("coverage is below its floor")
    sys.exit(1)
PY
exit "$status"
