#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate the committed ABI baselines from a fresh build: libsevmig
# (tests/abi/libsevmig.abi) and, when it is built, libsevmig-sim
# (tests/abi/libsevmig-sim.abi). Run after an intended ABI change and commit
# the result together with the change. Name one library ("libsevmig" or
# "libsevmig-sim") as the second argument to regenerate only that one.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-abi}
only=${2:-}
[ -d "$build" ] || meson setup "$build" "$top" -Dabi-check=true -Dtests=disabled -Dtools=disabled -Dexamples=disabled >/dev/null

dump() { # target, library file, baseline
	meson compile -C "$build" "$1" >/dev/null
	abidw --no-corpus-path --no-comp-dir-path --type-id-style hash \
	      --headers-dir "$top/include/sevmig" --drop-private-types \
	      --out-file "$top/tests/abi/$3" "$build/$2"
	echo "updated tests/abi/$3"
}

if [ -z "$only" ] || [ "$only" = libsevmig ]; then
	dump src/sevmig:shared_library src/libsevmig.so libsevmig.abi
fi
if [ -z "$only" ] || [ "$only" = libsevmig-sim ]; then
	if [ -f "$build/src/sim/libsevmig-sim.so" ] ||
	   meson introspect --targets "$build" | grep -q '"sevmig-sim"'; then
		dump src/sim/sevmig-sim:shared_library src/sim/libsevmig-sim.so \
		     libsevmig-sim.abi
	elif [ "$only" = libsevmig-sim ]; then
		echo "libsevmig-sim is not built in $build (needs libcrypto)" >&2
		exit 1
	fi
fi
