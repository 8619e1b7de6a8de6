#!/bin/sh
# SPDX-License-Identifier: MIT
# Newcomer command 1: install what is missing, build, and run the main job
# (`sevmig probe`: what this host offers for SEV live migration).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh
dir=_build/main
[ -f "$dir/meson-private/coredata.dat" ] || rm -rf "$dir"
if [ -d "$dir" ]; then
	meson setup --reconfigure "$dir" -Dtests=disabled >/dev/null
else
	meson setup "$dir" -Dtests=disabled >/dev/null
fi
ninja -C "$dir" >/dev/null
exec "$dir/tools/sevmig/sevmig" probe "$@"
