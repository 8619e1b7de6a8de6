#!/bin/sh
# SPDX-License-Identifier: MIT
# Deep fuzzing, outside CI (CI runs each target for 20 s in suite 'fuzz').
# Every libFuzzer target of tests/fuzz runs for RUNS executions (default 10
# million) or SECONDS of wall time (default 3600), whichever comes first,
# built with clang, ASan and UBSan. Each starts from its seed corpus in
# tests/fuzz/corpus/<target>/ and, for the certificate targets, from the real
# SEV and AMD certificates read at run time from SEVMIG_SEV_CERTS or
# ../shared/fixtures/sev-certs (never copied into the repository). The
# corpus a run grows stays in the build folder for the next run.
#
#   scripts/quality-fuzz.sh [BUILD_DIR] [TARGET...]
#   SEVMIG_FUZZ_RUNS=10000000 SEVMIG_FUZZ_SECONDS=3600
#
# Prints, per target, the executions, the edge coverage and features
# libFuzzer reached, the corpus size and the findings (crash, leak, timeout
# and OOM reproducers, kept in BUILD_DIR/fuzz-deep/<target>/artifacts), as a
# Markdown table for docs/quality.md; also written to
# BUILD_DIR/fuzz-deep/results.md. Exit 1 when any target found something,
# 77 without clang.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/_build/fuzz}
[ $# -gt 0 ] && shift
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
runs=${SEVMIG_FUZZ_RUNS:-10000000}
seconds=${SEVMIG_FUZZ_SECONDS:-3600}
command -v clang >/dev/null 2>&1 || { echo "SKIP: clang not installed"; exit 77; }
cd "$top"

if [ ! -f "$build/meson-private/coredata.dat" ]; then
	rm -rf "$build"
	meson setup "$build" --native-file scripts/clang.ini -Dtests=enabled \
		-Dfuzzing=true -Dbench=false -Dtools=disabled -Dexamples=disabled \
		-Dman=disabled -Ddocs=disabled -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
targets=$(cd "$top/tests/fuzz" && ls fuzz-*.c | sed 's/\.c$//')
[ $# -gt 0 ] && targets=$*
# shellcheck disable=SC2086
ninja -C "$build" $(for t in $targets; do echo "tests/fuzz/$t"; done) >/dev/null

certs=${SEVMIG_SEV_CERTS:-$top/../shared/fixtures/sev-certs}
out=$build/fuzz-deep
mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
results="| target | executions | time (s) | exec/s | edges (cov) | features (ft) | corpus | findings |
|---|---|---|---|---|---|---|---|"
status=0
for t in $targets; do
	exe=$build/tests/fuzz/$t
	[ -x "$exe" ] || { echo "no $exe"; status=1; continue; }
	name=${t#fuzz-}
	dir=$out/$t
	mkdir -p "$dir/corpus" "$dir/artifacts"
	seeds=""
	[ -d "$top/tests/fuzz/corpus/$name" ] && seeds="$top/tests/fuzz/corpus/$name"
	case $name in
	*cert*)	# real certificates as seeds, read where they live
		if [ -d "$certs" ]; then
			for d in "$certs"/*/; do seeds="$seeds $d"; done
		else
			echo "note: no real certificates at $certs for $t"
		fi ;;
	esac
	echo "== $t: up to $runs executions or ${seconds}s; seeds: ${seeds:-none}"
	start=$(date +%s)
	# -jobs/-workers would split the runs across processes: one process,
	# -fork=0, keeps the execution count exact.
	# shellcheck disable=SC2086
	"$exe" -runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" \
		"$dir/corpus" $seeds >"$dir/log.txt" 2>&1 || true
	secs=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$dir/log.txt" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(ls "$dir/corpus" | wc -l)
	found=$(ls "$dir/artifacts" | wc -l)
	rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
	if [ "$found" -gt 0 ] || grep -q 'ERROR: \(AddressSanitizer\|libFuzzer\)\|runtime error:' "$dir/log.txt"; then
		findings="$found: $(ls "$dir/artifacts" | tr '\n' ' ')"
		status=1
		grep -E 'ERROR|runtime error|SUMMARY' "$dir/log.txt" | head -n 5
	else
		findings=none
	fi
	echo "$t: ${execs:-?} executions in ${secs}s, cov ${cov:-?}, ft ${ft:-?}, corpus $corp, findings: $findings"
	results="$results
| $t | ${execs:-?} | $secs | $rate | ${cov:-?} | ${ft:-?} | $corp | $findings |"
done
{
	echo "Deep fuzzing, $(date -u +%Y-%m-%d), $(clang --version | head -n 1), ASan+UBSan, limits: $runs executions or ${seconds}s per target"
	echo
	echo "$results"
} >"$out/results.md"
echo
cat "$out/results.md"
exit "$status"
