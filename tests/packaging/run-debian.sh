#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the Debian packages from a copy of the source tree, offline, as a
# distribution would (dpkg-buildpackage -us -uc -b: debhelper, the package's
# own test run, the symbols files checked with dpkg-gensymbols -c4), lint
# them (no lintian error or warning), unpack them into a scratch root with
# dpkg -x, and build and run the installed-consumer programs against that
# root only. Skips (77) where the packaging tools are missing.
# Usage: run-debian.sh SOURCE-ROOT WORK-DIR
set -eu
src=$1 work=$2
for t in dpkg-buildpackage dh dpkg-gensymbols dpkg-checkbuilddeps lintian cc pkg-config; do
	command -v "$t" >/dev/null 2>&1 ||
		{ echo "SKIP: $t not installed (see scripts/deps.sh --test)"; exit 77; }
done
if ! missing=$(cd "$src" && dpkg-checkbuilddeps 2>&1); then
	echo "SKIP: build dependencies missing: $missing"
	exit 77
fi

rm -rf "$work"
mkdir -p "$work/src" "$work/root"
# The sources as a packager gets them: tracked and new files, no build trees.
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$src" && git ls-files -co --exclude-standard -z | xargs -0 tar cf - --no-recursion --) |
		(cd "$work/src" && tar xf -)
else
	(cd "$src" && tar cf - --exclude=./_build --exclude='./build*' .) |
		(cd "$work/src" && tar xf -)
fi

echo "== dpkg-buildpackage -us -uc -b"
if ! (cd "$work/src" && DEB_BUILD_OPTIONS="parallel=2 ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1); then
	tail -n 60 "$work/build.log"
	echo "dpkg-buildpackage failed (log: $work/build.log)"
	exit 1
fi
grep -E '^(Ok|Fail|Skipped|Timeout): ' "$work/build.log" || true

echo "== lintian"
changes=$(ls "$work"/libsevmig_*_*.changes)
lint=$(lintian --pedantic --display-info "$changes" 2>&1 | grep -v 'running with root privileges' || true)
[ -z "$lint" ] || printf '%s\n' "$lint"
if printf '%s\n' "$lint" | grep -q '^[EW]: '; then
	echo "lintian reports errors or warnings (fix them, or explain them in debian/*.lintian-overrides)"
	exit 1
fi

echo "== dpkg -x into a scratch root"
for pkg in libsevmig1 libsevmig-dev sevmig-tools libsevmig-sim1 libsevmig-sim-dev; do
	deb=$(ls "$work/${pkg}"_*.deb)
	dpkg-deb -x "$deb" "$work/root"
	echo "$pkg: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb --ctrl-tarfile "$(ls "$work"/libsevmig1_*.deb)" | tar tf - | grep -q symbols ||
	{ echo "libsevmig1 carries no symbols file"; exit 1; }
dpkg-deb -c "$(ls "$work"/libsevmig-dev_*.deb)" | grep -q 'include/sevmig/sim.h' &&
	{ echo "libsevmig-dev ships the simulator's header"; exit 1; }

root=$work/root
pcdir=$(dirname "$(find "$root" -name libsevmig.pc)")
libdir=$(dirname "$(find "$root" -name libsevmig.so.1)")
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_LIBDIR="$pcdir" PKG_CONFIG_SYSROOT_DIR="$root"
export LD_LIBRARY_PATH="$libdir"
pkg-config --validate libsevmig
pkg-config --validate libsevmig-sim

echo "== installed consumers"
# shellcheck disable=SC2046
cc -std=c99 -pedantic -Wall -Werror -o "$work/consumer" "$src/tests/consumer/consumer.c" \
	$(pkg-config --cflags --libs libsevmig)
"$work/consumer"
ldd "$work/consumer" | grep -q "$root" || { echo "consumer did not load the unpacked library"; exit 1; }
# libsevmig-sim.pc names libcrypto (Requires.private), which pkg-config
# must find too: the system's, as libsevmig-sim-dev depends on libssl-dev.
sys_pc=$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u PKG_CONFIG_SYSROOT_DIR \
	pkg-config --variable=pcfiledir libcrypto) ||
	{ echo "libcrypto.pc not found (libssl-dev)"; exit 1; }
# shellcheck disable=SC2046
cc -std=c99 -pedantic -Wall -Werror -o "$work/sim-consumer" \
	"$src/tests/packaging/sim-consumer.c" \
	$(PKG_CONFIG_LIBDIR="$pcdir:$sys_pc" pkg-config --cflags --libs libsevmig-sim)
"$work/sim-consumer"
ldd "$work/sim-consumer" | grep -q "$root.*libsevmig-sim" ||
	{ echo "sim-consumer did not load the unpacked library"; exit 1; }
"$root/usr/bin/sevmig" --version | grep -q "libsevmig" ||
	{ echo "the packaged sevmig does not run"; exit 1; }
for m in "$root"/usr/share/man/man1/sevmig.1.gz "$root"/usr/share/man/man3/libsevmig.3.gz; do
	[ -f "$m" ] || { echo "$m not packaged"; exit 1; }
done
rm -rf "$work"
echo "debian packages: built, symbols checked, lintian clean, consumers run"
