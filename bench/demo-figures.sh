#!/bin/sh
# SPDX-License-Identifier: MIT
# Downtime and total time of the demo's live migration (docs/demo.md) for a
# few guest memory sizes and dirty rates, on libsevmig-sim in KVM mode with
# a stated PSP latency. Prints a Markdown table (median of --runs runs).
#
# Usage: bench/demo-figures.sh [--latency-us N] [--mem "64 256"]
#                              [--rates "0 4000"] [--runs N] [--vcpus N]
# Needs /dev/kvm; a few minutes on 2 cores with the defaults.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

latency=20
mems="64 128 256"
rates="0 2000 8000 32000"
runs=3
vcpus=2
while [ $# -gt 0 ]; do
	case "$1" in
	--latency-us) latency=$2; shift 2 ;;
	--mem) mems=$2; shift 2 ;;
	--rates) rates=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--vcpus) vcpus=$2; shift 2 ;;
	*) echo "usage: $0 [--latency-us N] [--mem \"MIB...\"] [--rates \"PAGES/S...\"] [--runs N] [--vcpus N]" >&2
	   exit 2 ;;
	esac
done

dir=build-bench-demo
if [ ! -d "$dir" ]; then
	meson setup "$dir" -Dbuildtype=release -Doptimization=2 -Dtests=disabled \
		-Dbench=false >/dev/null
fi
ninja -C "$dir" examples/demo-vmm/sevmig-demo-vmm >/dev/null
demo="$dir/examples/demo-vmm/sevmig-demo-vmm"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r)"
echo "simulated PSP latency: $latency us per command; $vcpus vCPUs; median of $runs runs"
echo

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for mem in $mems; do
	for rate in $rates; do
		i=0
		while [ $i -lt "$runs" ]; do
			"$demo" demo --json --quiet --mem "$mem" --vcpus "$vcpus" \
				--dirty-rate "$rate" --psp-latency-us "$latency" \
				--warmup-ms 300 --timeout 600 >>"$out" || true
			i=$((i + 1))
		done
	done
done

python3 - "$out" <<'PY'
import json, statistics, sys

rows = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    key = (r["guest"]["mem_mib"], r["guest"]["dirty_rate"])
    rows.setdefault(key, []).append(r)

def med(rs, f):
    return statistics.median(f(r) for r in rs)

print("| guest RAM | dirtied | passes | total | throughput | downtime (guest) | vCPUs stopped (VMM) | verdict |")
print("|---:|---:|---:|---:|---:|---:|---:|---|")
for (mem, rate), rs in sorted(rows.items()):
    ok = sum(1 for r in rs if r.get("pass"))
    m = [r["migration"] for r in rs]
    print("| %d MiB | %d pages/s | %g | %.2f s | %.0f MB/s | %.1f ms | %.1f ms | %d/%d pass |" % (
        mem, rate,
        med(rs, lambda r: r["migration"]["passes"]),
        med(rs, lambda r: r["migration"]["total_ms"]) / 1e3,
        med(rs, lambda r: r["migration"]["throughput_mb_s"]),
        med(rs, lambda r: r["guest_view"]["downtime_ms"]),
        med(rs, lambda r: r["migration"]["stop_to_resume_ms"]),
        ok, len(rs)))
PY
