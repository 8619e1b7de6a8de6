#!/bin/sh
# SPDX-License-Identifier: MIT
# Build libsevmig and the sevmig CLI with musl (Debian's musl-tools,
# musl-gcc) to show the library depends on nothing glibc-only, and test the
# result:
#   - the shared library links with -Wl,--no-undefined against musl alone
#     (any glibc-only function would fail the link) and needs only musl's
#     libc at run time;
#   - the CLI's contract test (tests/cli/test-cli.sh) passes on the musl CLI;
#   - `sevmig cert show` prints the same for every real certificate under
#     the musl and the glibc build (read at run time from SEVMIG_SEV_CERTS or
#     ../shared/fixtures/sev-certs, skipped when absent);
#   - tests/packaging/libc-smoke.c (negotiation, fabricated exits, tracker
#     codec, every error and reason text) prints the same lines with both;
#   - the installed-consumer program runs against the musl library.
# The CMocka suites and libsevmig-sim are not built: Debian has no musl
# build of CMocka or OpenSSL (they are glibc libraries); the simulator is
# not part of libsevmig.
#
#   scripts/quality-musl.sh [GLIBC_BUILD_DIR] [MUSL_BUILD_DIR]
#
# GLIBC_BUILD_DIR (default _build/gcc) must be built. Exit 0 on success, 1
# on a failure, 77 without musl-gcc.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
gbuild=${1:-$top/_build/gcc}
mbuild=${2:-$top/_build/musl}
for d in gbuild mbuild; do
	eval "v=\$$d"
	case $v in /*) ;; *) eval "$d=\$(pwd)/\$v" ;; esac
done
command -v musl-gcc >/dev/null 2>&1 || { echo "SKIP: musl-gcc not installed (musl-tools)"; exit 77; }
[ -x "$gbuild/tools/sevmig/sevmig" ] || { echo "build $gbuild first"; exit 1; }
cd "$top"

opts="-Dtests=disabled -Dsim=disabled -Dtools=enabled -Dexamples=disabled -Dbench=false -Dman=disabled -Ddocs=disabled -Dwerror=true -Db_lundef=true"
if [ -f "$mbuild/meson-private/coredata.dat" ]; then
	# shellcheck disable=SC2086
	meson setup --reconfigure "$mbuild" $opts >/dev/null
else
	rm -rf "$mbuild"
	# shellcheck disable=SC2086
	CC=musl-gcc meson setup "$mbuild" $opts >/dev/null
fi
ninja -C "$mbuild" >/dev/null
lib=$mbuild/src/libsevmig.so.1
cli=$mbuild/tools/sevmig/sevmig
status=0
check() { # description, command...
	d=$1; shift
	if "$@"; then echo "ok: $d"; else echo "FAIL: $d"; status=1; fi
}

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
interp=$(readelf -l "$cli" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
echo "musl libsevmig.so.1 needs: $needed; the CLI's loader: $interp"
check "the library needs only libc" test "$needed" = "libc.so "
check "the CLI runs on musl's loader" sh -c "echo '$interp' | grep -q ld-musl"
check "the CLI runs" sh -c "'$cli' --version | grep -q libsevmig"
check "CLI contract (tests/cli/test-cli.sh) on musl" sh -c "sh '$top/tests/cli/test-cli.sh' '$cli' >/dev/null"

certs=${SEVMIG_SEV_CERTS:-$top/../shared/fixtures/sev-certs}
if [ -d "$certs" ]; then
	n=0
	for f in "$certs"/*/*.cert; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		for j in "" --json; do
			# shellcheck disable=SC2086
			a=$("$gbuild/tools/sevmig/sevmig" cert show "$f" $j 2>&1) || true
			# shellcheck disable=SC2086
			b=$("$cli" cert show "$f" $j 2>&1) || true
			[ "$a" = "$b" ] || { echo "cert show $j $f differs:"; 
				printf '%s\n' "$a" >"$mbuild/a.txt"; printf '%s\n' "$b" >"$mbuild/b.txt"
				diff "$mbuild/a.txt" "$mbuild/b.txt" | head; status=1; }
		done
	done
	echo "ok: cert show is the same for $n real certificates (glibc, musl)"
else
	echo "skip: no real certificates at $certs"
fi

inc="-I$top/include -I$mbuild/include"
# shellcheck disable=SC2086
musl-gcc -std=c99 -Wall -Wextra -Werror $inc -o "$mbuild/libc-smoke" \
	"$top/tests/packaging/libc-smoke.c" -L"$mbuild/src" -lsevmig
# shellcheck disable=SC2086
gcc -std=c99 -Wall -Wextra -Werror -I"$top/include" -I"$gbuild/include" \
	-o "$gbuild/libc-smoke" "$top/tests/packaging/libc-smoke.c" -L"$gbuild/src" -lsevmig
LD_LIBRARY_PATH="$mbuild/src" "$mbuild/libc-smoke" >"$mbuild/smoke-musl.txt" || status=1
LD_LIBRARY_PATH="$gbuild/src" "$gbuild/libc-smoke" >"$mbuild/smoke-glibc.txt" || status=1
if cmp -s "$mbuild/smoke-musl.txt" "$mbuild/smoke-glibc.txt"; then
	echo "ok: API smoke test prints the same $(wc -l <"$mbuild/smoke-musl.txt") lines (glibc, musl)"
else
	echo "FAIL: API smoke test differs between glibc and musl:"
	diff "$mbuild/smoke-glibc.txt" "$mbuild/smoke-musl.txt" | head -n 20
	status=1
fi
# shellcheck disable=SC2086
musl-gcc -std=c99 -pedantic -Wall -Werror $inc -o "$mbuild/consumer" \
	"$top/tests/consumer/consumer.c" -L"$mbuild/src" -lsevmig
check "installed-consumer program on musl" sh -c "LD_LIBRARY_PATH='$mbuild/src' '$mbuild/consumer' >/dev/null"

[ "$status" -eq 0 ] && echo "musl: libsevmig builds and passes its checks"
exit "$status"
