#!/bin/sh
# SPDX-License-Identifier: MIT
# `sevmig inspect` on streams a FLUSH-mode send session wrote (made by
# test-mig-inspect write DIR): its text and JSON, the check of a stream's
# channel files against END, damaged and incomplete copies, exit codes.
set -u
gen=$1
cli=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$gen" write "$dir" || fail "cannot write the streams"
s1=$dir/stream-1ch.ch0
c0=$dir/stream-2ch.ch0
c1=$dir/stream-2ch.ch1

# A complete one-channel stream.
out=$("$cli" inspect "$s1") || fail "inspect exited $?"
for want in "libsevmig migration stream version 1" "0 of 1, source to destination" \
	"commit mode FLUSH" "RAM 256 KiB in 1 region" "in 3 passes (the last one ended)" \
	"COMMIT *yes" "complete *yes" "END *yes"; do
	echo "$out" | grep -q "$want" || fail "text lacks '$want':
$out"
done
"$cli" inspect --require complete "$s1" >/dev/null || fail "--require complete on a complete stream"

json=$("$cli" inspect --json "$s1") || fail "--json exited $?"
echo "$json" | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
f = d["files"][0]
assert f["complete"] and f["end"] and f["commit"] and f["error"] is None, f
assert f["valid_bytes"] == f["bytes"] == os.path.getsize(sys.argv[1]), f
r = f["records"]
assert r["total"] == sum(v for k, v in r.items() if k != "total"), r
assert r["PAGE_PRIVATE"] == f["pages"]["private"] > 0, f
assert r["PAGE_SHARED"] == f["pages"]["shared"] > 0, f
assert r["START"] == r["END"] == r["COMMIT"] == r["VMM"] == 1, r
assert f["passes"] == 3 and f["start"]["commit_mode"] == "FLUSH", f
assert f["start"]["ram_bytes"] == 64 * 4096, f
' "$s1" || fail "--json is not the documented JSON"

# One file per channel: each channel agrees with END.
out=$("$cli" inspect "$c0" "$c1") || fail "two channels exited $?"
echo "$out" | grep -q "the files agree with END" || fail "no cross-check: $out"
"$cli" inspect --json "$c0" "$c1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["channels"]["consistent"] is True, d["channels"]
assert [f["channel"] for f in d["files"]] == [0, 1]
assert all(f["complete"] for f in d["files"])
' || fail "two channels --json"
"$cli" inspect "$c0" >/dev/null || fail "channel 0 alone"
"$cli" inspect "$c0" "$c0" >/dev/null 2>&1; [ $? -eq 1 ] || fail "a channel twice must exit 1"
"$cli" inspect "$c0" "$s1" 2>/dev/null | grep -q "given twice" || fail "two channel 0s"

# Record boundaries of the page channel, then a copy cut at one of them:
# not damaged, but it no longer agrees with END.
bounds=$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read()
o, out = 64, []
while o < len(b):
    out.append(o)
    o += 32 + struct.unpack_from("<I", b, o + 4)[0]
print(" ".join(map(str, out)))
' "$c1")
cut=$(echo "$bounds" | awk '{print $2}')
head -c "$cut" "$c1" > "$dir/cut.ch1"
out=$("$cli" inspect "$dir/cut.ch1") || fail "a copy cut at a boundary is not damaged"
echo "$out" | grep -q "complete *no" || fail "a cut copy is not complete: $out"
"$cli" inspect --require complete "$dir/cut.ch1" >/dev/null; [ $? -eq 3 ] || fail "--require complete must exit 3"
out=$("$cli" inspect "$c0" "$dir/cut.ch1" 2>&1); [ $? -eq 1 ] || fail "a short channel must fail the cross-check"
echo "$out" | grep -q "PROBLEM: channel 1: .* END says" || fail "cross-check message: $out"

# Damage: truncated inside a record, one flipped bit, not a stream.
size=$(wc -c < "$s1")
head -c $((size - 5)) "$s1" > "$dir/trunc"
out=$("$cli" inspect "$dir/trunc" 2>"$dir/err"); [ $? -eq 1 ] || fail "truncated must exit 1"
echo "$out" | grep -q "DAMAGED *at byte [0-9]*, record [0-9]* (COMMIT): EPIPE" || fail "truncation: $out"
grep -q "truncated" "$dir/err" || fail "no reason on stderr"
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[20000] ^= 0x10
open(sys.argv[2], "wb").write(b)
' "$s1" "$dir/flip"
out=$("$cli" inspect "$dir/flip" 2>/dev/null); [ $? -eq 1 ] || fail "a flipped bit must exit 1"
echo "$out" | grep -q "DAMAGED *at byte .*EBADMSG: .*checksum mismatch" || fail "flip: $out"
"$cli" inspect --json "$dir/flip" 2>/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)["files"][0]["error"]
assert e["errno"] == "EBADMSG" and e["where"] == "record", e
assert e["offset"] <= 20000 and "checksum mismatch" in e["message"], e
' || fail "flip --json"
printf 'not a stream at all, just some text for sevmig to refuse.........\n' > "$dir/text"
out=$("$cli" inspect "$dir/text" 2>/dev/null); [ $? -eq 1 ] || fail "text must exit 1"
echo "$out" | grep -q "DAMAGED *in the channel header: EBADMSG: .*bad magic" || fail "text: $out"

# A target's exported HELLO.
out=$("$cli" inspect "$dir/hello") || fail "hello exited $?"
echo "$out" | grep -q "destination to source" || fail "hello direction: $out"
echo "$out" | grep -q "HELLO *firmware API" || fail "hello: $out"

# Usage.
"$cli" inspect >/dev/null 2>&1; [ $? -eq 2 ] || fail "no FILE must exit 2"
"$cli" inspect --bogus "$s1" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad option must exit 2"
"$cli" inspect --require nonsense "$s1" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --require must exit 2"
"$cli" inspect "$dir/nonexistent" >/dev/null 2>&1; [ $? -eq 1 ] || fail "a missing file must exit 1"
"$cli" inspect --help | grep -q -- "--require complete" || fail "inspect --help"
echo "inspect cli: all checks passed"
