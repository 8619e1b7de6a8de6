#!/bin/sh
# Build the benchmarks in release mode (-O2) and run them at full scale.
# Usage: scripts/bench.sh [workload]   (workload: 1, 2, 3 or 4; default all)
# Needs about 1.5 GiB of RAM and a few minutes on 2 cores.
set -eu
cd "$(dirname "$0")/.."
dir=build-bench
if [ ! -d "$dir" ]; then
	meson setup "$dir" -Dbuildtype=release -Doptimization=2 -Dbench=true \
		-Dtests=disabled -Dtools=disabled -Dexamples=disabled >/dev/null
fi
ninja -C "$dir" bench/bench-tracker >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "compiler: $(${CC:-cc} --version | head -n1)"
"$dir/bench/bench-tracker" "$@"
