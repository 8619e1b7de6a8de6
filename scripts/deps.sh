#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what a fresh Debian 12 machine lacks for building (and, with
# --test, testing) libsevmig. As root it runs apt-get; otherwise it prints the
# apt-get line to run and fails.
set -eu

# Build: compiler, Meson, pkg-config; libssl-dev for the optional simulator.
pkgs="build-essential meson ninja-build pkg-config python3 libssl-dev"
if [ "${1:-}" = "--test" ]; then
	# Tests: CMocka, abidiff for the ABI check, g++ for the C++ header and
	# consumer checks, clang + compiler-rt for the TSan/ASan/fuzz builds.
	pkgs="$pkgs g++ libcmocka-dev abigail-tools clang libclang-rt-14-dev"
	# Rust bindings, built offline from Debian's toolchain and crates.
	pkgs="$pkgs cargo librust-bindgen-dev librust-pkg-config-dev librust-libc-dev libclang-dev"
	# Man pages (scdoc, man --warnings), API reference (doxygen), the
	# Debian package build (debhelper, lintian), static analysis, coverage
	# and the musl build (docs/quality.md).
	pkgs="$pkgs scdoc man-db groff-base doxygen debhelper dpkg-dev lintian"
	pkgs="$pkgs clang-tidy cppcheck gcovr musl-tools"
fi

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "libsevmig needs these Debian packages:$missing" >&2
	echo "run as root:  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
