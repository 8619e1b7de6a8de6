#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate the committed ABI baselines from a fresh build. Run after an
# intended ABI change and commit the result together with the change.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build-abi}
[ -d "$build" ] || meson setup "$build" "$top" -Dabi-check=true -Dtests=disabled -Dtools=disabled -Dexamples=disabled >/dev/null
meson compile -C "$build" src/sevmig:shared_library >/dev/null
abidw --no-corpus-path --no-comp-dir-path --type-id-style hash \
      --headers-dir "$top/include/sevmig" --drop-private-types \
      --out-file "$top/tests/abi/libsevmig.abi" "$build/src/libsevmig.so"
echo "updated tests/abi/libsevmig.abi"
