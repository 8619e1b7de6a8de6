#!/bin/sh
# Build the benchmarks in release mode (-O2) and run them at full scale.
# Usage: scripts/bench.sh [targets|context|hold|mig|1|2|3|4]   (default: all)
#   targets: T1-T3, T5 (bench-tracker); hold: T4 (bench-tracker-hold);
#   context: the workloads against the list and the bitmap;
#   mig: the migration sessions (bench-mig; docs/migration-perf.md).
# Needs about 1.5 GiB of RAM and a few minutes on 2 cores; /dev/kvm for T1;
# OpenSSL's libcrypto for bench-mig (it runs on libsevmig-sim).
set -eu
cd "$(dirname "$0")/.."
dir=build-bench
if [ ! -d "$dir" ]; then
	meson setup "$dir" -Dbuildtype=release -Doptimization=2 -Dbench=true \
		-Dtests=disabled -Dtools=disabled -Dexamples=disabled >/dev/null
fi
ninja -C "$dir" bench/bench-tracker bench/bench-tracker-hold >/dev/null
mig=""
if ninja -C "$dir" -t targets all 2>/dev/null | grep -q '^bench/bench-mig:'; then
	ninja -C "$dir" bench/bench-mig >/dev/null
	mig="$dir/bench/bench-mig"
fi
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "compiler: $(${CC:-cc} --version | head -n1)"
what=${1:-all}
case $what in
hold) "$dir/bench/bench-tracker-hold" ;;
mig) [ -n "$mig" ] || { echo "bench-mig is not built (libsevmig-sim needs libcrypto)"; exit 1; }
     "$mig" ;;
all) "$dir/bench/bench-tracker" targets
     "$dir/bench/bench-tracker-hold"
     "$dir/bench/bench-tracker" context
     if [ -n "$mig" ]; then "$mig"; else echo "bench-mig skipped: libsevmig-sim not built"; fi ;;
*) "$dir/bench/bench-tracker" "$what" ;;
esac
