#!/bin/sh
# SPDX-License-Identifier: MIT
# Newcomer command 1: install what is missing, build, show what this host
# offers for SEV live migration (`sevmig probe`), then the main job: a
# running guest migrates live between two processes (docs/demo.md), with
# progress, a summary and the guest's own verdict.
#
#   ./scripts/main.sh            on a terminal: progress and summary
#   ./scripts/main.sh --json     one JSON report: {"probe": ..., "demo": ...}
#   ./scripts/main.sh [demo options]   e.g. --mem 256 --dirty-rate 20000
#                                (sevmig-demo-vmm --help lists them)
#
# Exit status: 0 the guest continued with every checksum intact; 1 its
# checks failed; 2 setup (/dev/kvm, build); 3 the migration failed.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

json=false
for a in "$@"; do
	[ "$a" = "--json" ] && json=true
done

if $json; then
	./scripts/deps.sh >&2 || exit 2
else
	./scripts/deps.sh || exit 2
fi
dir=_build/main
[ -f "$dir/meson-private/coredata.dat" ] || rm -rf "$dir"
if [ -d "$dir" ]; then
	meson setup --reconfigure "$dir" -Dtests=disabled >/dev/null || exit 2
else
	meson setup "$dir" -Dtests=disabled >/dev/null || exit 2
fi
ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -n 30 >&2; exit 2; }

probe="$dir/tools/sevmig/sevmig"
demo="$dir/examples/demo-vmm/sevmig-demo-vmm"
if [ ! -x "$demo" ]; then
	echo "error: the demo was not built (it needs x86-64 and binutils' objcopy)" >&2
	exit 2
fi

if $json; then
	p=$("$probe" probe --json) || p=null
	set +e
	d=$("$demo" demo "$@")
	rc=$?
	set -e
	[ -n "$d" ] || d=null
	printf '{"probe":%s,"demo":%s}\n' "$p" "$d"
	exit $rc
fi

echo "== sevmig probe: what this host offers for SEV live migration"
echo
"$probe" probe || true
echo
echo "== the demo: a running guest migrates live between two processes"
echo "   (what happens at each step: docs/demo.md)"
echo
exec "$demo" demo "$@"
