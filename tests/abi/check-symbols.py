#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that a version script, the public headers and a built shared
library name exactly the same functions, all with the given prefix and all
carrying a symbol version from the map.

usage: check-symbols.py MAP HEADER[,HEADER...] LIBRARY [PREFIX]
"""
import re
import subprocess
import sys


def map_symbols(path):
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    nodes = {}
    for node, body in re.findall(r"(\w[\w.]*)\s*\{(.*?)\}", text, flags=re.S):
        glob = body.split("local:")[0]
        glob = glob.replace("global:", "")
        nodes[node] = [s.strip() for s in glob.split(";") if s.strip()]
    syms = {}
    for node, names in nodes.items():
        for n in names:
            if n in syms:
                sys.exit(f"{path}: {n} listed twice ({syms[n]} and {node})")
            syms[n] = node
    return syms


def header_functions(path, prefix):
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    names = set()
    for m in re.finditer(r"(\(\s*\*\s*)?\b(" + re.escape(prefix) + r"\w*)\s*\(", text):
        if m.group(1):  # a function-pointer member, not a function
            continue
        names.add(m.group(2))
    return names


def library_symbols(path):
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[1], parts[2]
        if kind == "A":  # the version node itself
            continue
        base, _, version = name.partition("@")
        syms[base] = version.lstrip("@")
    return syms


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    mapf, header, lib = sys.argv[1:4]
    prefix = sys.argv[4] if len(sys.argv) == 5 else "sevmig_"
    m = map_symbols(mapf)
    h = set()
    for one in header.split(","):
        h |= header_functions(one, prefix)
    l = library_symbols(lib)
    errors = []
    for name in sorted(set(m) | h | set(l)):
        where = [w for w, s in (("map", m), ("header", h), ("library", l)) if name in s]
        if len(where) != 3:
            errors.append(f"{name}: only in {', '.join(where)}")
        if not name.startswith(prefix):
            errors.append(f"{name}: exported without the {prefix} prefix")
        if name in l and not l[name]:
            errors.append(f"{name}: exported without a symbol version")
        if name in l and name in m and l[name] and l[name] != m[name]:
            errors.append(f"{name}: version {l[name]} in the library, {m[name]} in the map")
    if errors:
        print("\n".join(errors))
        sys.exit(1)
    print(f"{len(m)} functions: map, header and library agree; all versioned")


if __name__ == "__main__":
    main()
