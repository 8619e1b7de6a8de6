#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerate debian/libsevmig1.symbols and debian/libsevmig-sim1.symbols
# from the version scripts (src/libsevmig.map, src/sim/libsevmig-sim.map),
# which the ABI tests keep equal to the header and to `nm -D`.
#
# Each exported symbol is listed with its version node. A symbol already in
# the file keeps its minimal version; a new one gets the project version of
# meson.build (the first upstream release that has it). dpkg-gensymbols -c4
# then fails the package build on any difference with the built library.
#
#   debian/update-symbols.sh          rewrite both files
#   debian/update-symbols.sh --check  exit 1 (with a diff) if either is stale
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
check=false
[ "${1:-}" = --check ] && check=true

version=$(sed -n "s/^ *version: *'\([0-9.]*\)'.*/\1/p" "$top/meson.build" | head -n 1)
[ -n "$version" ] || { echo "no project version in meson.build" >&2; exit 1; }

# gen MAP SONAME PACKAGE DEV-PACKAGE SYMBOLS-FILE
gen() {
	awk -v soname="$2" -v pkg="$3" -v dev="$4" -v ver="$version" -v oldf="$5" '
	BEGIN {	# the existing symbols file: keep minimal versions
		while ((getline line < oldf) > 0)
			if (split(line, f, " ") >= 2 && line ~ /^ [^ ]+@[^ ]+ /)
				old[f[1]] = f[2]
	}
	{ sub(/\/\*.*\*\//, ""); sub(/#.*/, "") }
	/^[ \t]*[A-Za-z0-9_.]+[ \t]*\{/ {	# "NODE {"
		node = $1; sub(/\{.*/, "", node); nodes[++nn] = node
		global = 0; next
	}
	/^[ \t]*global:/ { global = 1; next }
	/^[ \t]*local:/ { global = 0; next }
	global && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ {
		s = $1; sub(/;.*/, "", s); syms[node] = syms[node] " " s
	}
	END {
		printf "%s %s #MINVER#\n", soname, pkg
		printf "* Build-Depends-Package: %s\n", dev
		for (i = 1; i <= nn; i++) {
			n = nodes[i]
			k = n "@" n
			printf " %s %s\n", k, (k in old) ? old[k] : ver
			cnt = split(syms[n], list, " ")
			# sort the node'"'"'s symbols (insertion sort: a few hundred)
			for (a = 2; a <= cnt; a++) {
				v = list[a]; b = a - 1
				while (b > 0 && list[b] > v) { list[b + 1] = list[b]; b-- }
				list[b + 1] = v
			}
			for (a = 1; a <= cnt; a++) {
				k = list[a] "@" n
				printf " %s %s\n", k, (k in old) ? old[k] : ver
			}
		}
	}' "$1"
}

status=0
for spec in "src/libsevmig.map libsevmig.so.1 libsevmig1 libsevmig-dev" \
	    "src/sim/libsevmig-sim.map libsevmig-sim.so.1 libsevmig-sim1 libsevmig-sim-dev"; do
	# shellcheck disable=SC2086
	set -- $spec
	file="$top/debian/$3.symbols"
	tmp=$(mktemp)
	gen "$top/$1" "$2" "$3" "$4" "$file" >"$tmp"
	if $check; then
		if ! cmp -s "$tmp" "$file"; then
			echo "debian/$3.symbols is stale; run debian/update-symbols.sh:"
			diff -u "$file" "$tmp" || true
			status=1
		fi
		rm -f "$tmp"
	else
		mv "$tmp" "$file"
		chmod 644 "$file"
		echo "wrote debian/$3.symbols"
	fi
done
exit $status
