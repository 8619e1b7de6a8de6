#!/bin/sh
# SPDX-License-Identifier: MIT
# Newcomer command 2 (and what CI runs): install what is missing, then build
# and run every test suite in three configurations:
#   gcc   -Werror, ABI check against the committed baseline: all suites
#   tsan  clang + ThreadSanitizer: the concurrency stress tests (suite tsan)
#   asan  clang + ASan/UBSan + libFuzzer targets: everything but ABI/install
# and the quality-gate scripts: coverage floors (scripts/quality-coverage.sh)
# and the musl build (scripts/quality-musl.sh); the gcc configuration also
# runs the Rust bindings, the Debian package build, the man page and API
# reference checks and the static analysis (docs/quality.md).
# Ends with one line "tests: N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh --test || exit 1

status=0
results=""
build_failures=0

setup() { # dir, options...
	dir=$1; shift
	# A folder left by a failed setup is not a build tree: start it over.
	[ -f "$dir/meson-private/coredata.dat" ] || rm -rf "$dir"
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi || { meson setup --wipe "$dir" "$@" | tail -n 20
		echo "meson setup $dir failed"; status=1
		build_failures=$((build_failures + 1)); return 1; }
	ninja -C "$dir" >/dev/null || {
		ninja -C "$dir" | tail -n 40
		echo "build $dir failed"; status=1
		build_failures=$((build_failures + 1)); return 1; }
}

run() { # dir, meson test args...
	dir=$1; shift
	echo "== $dir: meson test $*"
	meson test -C "$dir" --print-errorlogs "$@" || status=1
	results="$results $dir/meson-logs/testlog.json"
}

has_suite() { # dir, suite
	# Tests in several suites list as "libsevmig:tsan+tracker / name".
	meson test -C "$1" --list 2>/dev/null |
		grep -Eq "^libsevmig:([a-z-]+\+)*$2(\+[a-z-]+)* /"
}

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1

if setup _build/gcc -Dwerror=true -Dabi-check=true -Dtests=enabled; then
	run _build/gcc --no-suite tsan --no-suite fuzz
fi

# Quality gates that are scripts, not meson tests (docs/quality.md): each
# counts as one test (exit 77 is a skip).
script_passed=0 script_failed=0 script_skipped=0
check_script() { # name, command...
	name=$1; shift
	echo "== $name: $*"
	"$@"
	case $? in
	0) script_passed=$((script_passed + 1)) ;;
	77) script_skipped=$((script_skipped + 1)) ;;
	*) script_failed=$((script_failed + 1)); status=1; echo "$name failed" ;;
	esac
}
check_script coverage ./scripts/quality-coverage.sh _build/coverage
check_script musl ./scripts/quality-musl.sh _build/gcc _build/musl

if setup _build/tsan -Dwerror=true -Dtests=enabled -Dtools=disabled -Dexamples=disabled \
	-Dbench=false -Db_sanitize=thread -Db_lundef=false --native-file scripts/clang.ini; then
	if has_suite _build/tsan tsan; then
		TSAN_OPTIONS=halt_on_error=1 run _build/tsan --suite tsan
	fi
fi

if setup _build/asan -Dwerror=true -Dtests=enabled -Dfuzzing=true -Dbench=false \
	-Db_sanitize=address,undefined -Db_lundef=false --native-file scripts/clang.ini; then
	run _build/asan --no-suite abi --no-suite consumer --no-suite tsan
fi

BUILD_FAILURES=$build_failures SCRIPT_PASSED=$script_passed SCRIPT_FAILED=$script_failed \
SCRIPT_SKIPPED=$script_skipped python3 - $results <<'PY'
import json, os, sys
# A configuration that did not build counts as one failed test; each
# quality-gate script counts as one test.
counts = {"passed": int(os.environ["SCRIPT_PASSED"]),
          "failed": int(os.environ["BUILD_FAILURES"]) + int(os.environ["SCRIPT_FAILED"]),
          "skipped": int(os.environ["SCRIPT_SKIPPED"])}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        counts["failed"] += 1
        continue
    for line in lines:
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            counts["passed"] += 1
        elif r == "SKIP":
            counts["skipped"] += 1
        else:
            counts["failed"] += 1
print("tests: {passed} passed, {failed} failed, {skipped} skipped".format(**counts))
PY
exit $status
