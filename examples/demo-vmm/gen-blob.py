#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn the guest's flat binary into a C file the VMM links in."""
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("/* Generated from the guest image by gen-blob.py. */\n")
    out.write("#include <stddef.h>\n\n")
    out.write("extern const unsigned char demo_guest_image[];\n")
    out.write("extern const size_t demo_guest_image_len;\n\n")
    out.write("__attribute__((aligned(4096)))\n")
    out.write("const unsigned char demo_guest_image[%d] = {\n" % max(len(data), 1))
    for i in range(0, len(data), 12):
        out.write("\t" + " ".join("0x%02x," % b for b in data[i:i + 12]) + "\n")
    out.write("};\n")
    out.write("const size_t demo_guest_image_len = %d;\n" % len(data))
