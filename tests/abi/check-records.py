#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every public sized record's first size (*_SIZE_VER0) must be checked at
compile time against its layout (SEVMIG_RECORD_VER0 in the given sources),
so a constant and its struct cannot drift apart.

usage: check-records.py HEADER[,HEADER...] SOURCE[,SOURCE...]
"""
import re
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    declared = set()
    for h in sys.argv[1].split(","):
        declared |= set(re.findall(r"#define\s+(SEVMIG_\w+_SIZE_VER0)\b", open(h).read()))
    checked = set()
    for s in sys.argv[2].split(","):
        text = open(s).read()
        checked |= set(re.findall(r"SEVMIG_RECORD_VER0\(\s*struct\s+\w+\s*,\s*(SEVMIG_\w+_SIZE_VER0)", text))
    missing = sorted(declared - checked)
    unknown = sorted(checked - declared)
    for m in missing:
        print(f"{m}: no SEVMIG_RECORD_VER0() check")
    for u in unknown:
        print(f"{u}: checked but not declared in the headers")
    if missing or unknown:
        sys.exit(1)
    print(f"{len(declared)} record sizes, each checked against its last first-version field")


if __name__ == "__main__":
    main()
