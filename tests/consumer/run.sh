#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the build into a scratch DESTDIR and build outside consumers (C and
# C++) against it with nothing but `pkg-config --cflags --libs libsevmig`.
set -eu
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp/root" --no-rebuild --quiet >/dev/null
pc=$(find "$tmp/root" -name libsevmig.pc | head -n 1)
[ -n "$pc" ] || { echo "libsevmig.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
pkg-config --validate libsevmig
flags=$(pkg-config --cflags --libs libsevmig)
libdir=$(pkg-config --variable=libdir libsevmig)
for f in include/sevmig/sevmig.h include/sevmig/version.h; do
	find "$tmp/root" -path "*$f" | grep -q . || { echo "$f not installed"; exit 1; }
done
find "$tmp/root" -name 'libsevmig.so.1' | grep -q . || { echo "libsevmig.so.1 not installed"; exit 1; }
find "$tmp/root" -path '*/bin/sevmig' | grep -q . || { echo "sevmig CLI not installed"; exit 1; }

# shellcheck disable=SC2086
cc -std=c99 -pedantic -Wall -Werror -o "$tmp/consumer-c" "$src/consumer.c" $flags
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-c"
if command -v c++ >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	c++ -x c++ -std=c++11 -pedantic -Wall -Werror -o "$tmp/consumer-cxx" "$src/consumer.c" $flags
	LD_LIBRARY_PATH="$libdir" "$tmp/consumer-cxx"
fi
# The library must resolve against the installed copy, not the build tree.
LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer-c" | grep -q "$tmp/root" ||
	{ echo "consumer did not load the installed library"; exit 1; }
