#!/bin/sh
# SPDX-License-Identifier: MIT
# The PSP subcommands of the sevmig CLI: cert show and policy show on the
# real fixtures, pdh-export where /dev/sev is absent (our machines).
set -u
cli=$1
fail() { echo "FAIL: $*"; exit 1; }

# ---- policy show: no fixtures needed ----
out=$("$cli" policy show 0x0d000005) || fail "policy show exited $?"
echo "$out" | grep -q "NODBG   yes" || fail "NODBG not decoded: $out"
echo "$out" | grep -q "ES      yes" || fail "ES not decoded"
echo "$out" | grep -q "NOSEND  no" || fail "NOSEND shown set"
echo "$out" | grep -q "API version: 0.13" || fail "API version"
echo "$out" | grep -q "only within this host" || fail "ES migration note"
"$cli" policy show 0x40 | grep -q "INVALID" || fail "reserved bit not flagged"
"$cli" policy show 0x8 | grep -q "never (NOSEND)" || fail "NOSEND note"
"$cli" policy show 0x21 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["policy"] == "0x21", d
assert d["valid"] is True
assert [f["name"] for f in d["flags"]] == ["NODBG", "SEV"], d
' || fail "policy --json"
"$cli" policy show 0x40 --json | grep -q '"valid": false' || fail "json valid"
"$cli" policy show zebra >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad number must exit 2"
"$cli" policy show 0x100000000 >/dev/null 2>&1; [ $? -eq 2 ] || fail "33-bit must exit 2"
"$cli" policy >/dev/null 2>&1; [ $? -eq 2 ] || fail "policy without show"
"$cli" policy --help | grep -q "POLICY" || fail "policy --help"

# ---- pdh-export where /dev/sev is absent ----
"$cli" pdh-export >/dev/null 2>&1; [ $? -eq 2 ] || fail "pdh-export without --out must exit 2"
tmp=$(mktemp -d) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
if [ ! -e /dev/sev ]; then
	err=$("$cli" pdh-export --out "$tmp/x" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] || fail "pdh-export without /dev/sev must exit 1, got $rc"
	echo "$err" | grep -q "no SEV platform device" || fail "unclear error: $err"
fi
# A device path that is not /dev/sev: a clear error, exit 1.
err=$("$cli" pdh-export --out "$tmp/y" --device "$tmp/none" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "missing device must exit 1"
echo "$err" | grep -q "$tmp/none" || fail "error does not name the device: $err"

# ---- cert show on the fixtures ----
"$cli" cert show "$tmp/none" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing file must exit 1"
head -c 100 /dev/zero > "$tmp/zero.cert"
err=$("$cli" cert show "$tmp/zero.cert" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "bad file must exit 1"
echo "$err" | grep -q "not a valid" || fail "bad file message: $err"
"$cli" cert >/dev/null 2>&1; [ $? -eq 2 ] || fail "cert without show"

certs=${SEVMIG_SEV_CERTS:-}
if [ -z "$certs" ] || [ ! -d "$certs" ]; then
	echo "SEV certificate fixtures not found: skipping the fixture part"
	exit 77
fi
out=$("$cli" cert show "$certs/platform-rome/pdh.cert") || fail "cert show pdh"
echo "$out" | grep -q "usage: *PDH (0x1003)" || fail "PDH usage: $out"
echo "$out" | grep -q "ECDH P-384" || fail "PDH key"
echo "$out" | grep -q "API version: *0.22" || fail "PDH API version"
echo "$out" | grep -q "no key ids" || fail "SEV key ids note"
out=$("$cli" cert show "$certs/amd-naples/ask.cert") || fail "cert show ask"
echo "$out" | grep -q "ASK (0x13)" || fail "ASK usage"
echo "$out" | grep -q "RSA 2048 bits" || fail "ASK key size"
cat "$certs/platform-rome/pek.cert" "$certs/platform-rome/oca.cert" \
    "$certs/platform-rome/cek.cert" > "$tmp/chain.cert"
"$cli" cert show "$tmp/chain.cert" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["certificates"]
assert [x["usage"] for x in c] == ["PEK", "OCA", "CEK"], c
assert c[0]["api_version"] == "0.22" and c[0]["curve"] == "P-384", c[0]
assert c[0]["sig1_signer"] == "OCA" and c[0]["sig2_signer"] == "CEK", c[0]
assert c[2]["sig1_signer"] == "ASK" and c[2]["sig1_algorithm"] == "RSA SHA-384", c[2]
' || fail "platform chain --json"
for gen in naples rome milan genoa turin; do
	cat "$certs/amd-$gen/ask.cert" "$certs/amd-$gen/ark.cert" > "$tmp/amd.cert"
	"$cli" cert show "$tmp/amd.cert" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
ask, ark = d["certificates"]
assert ask["usage"] == "ASK" and ark["usage"] == "ARK", d
assert ask["certifying_id"] == ark["key_id"] == ark["certifying_id"], d
' || fail "AMD chain $gen"
done
# A truncated PDH: clear error naming the length.
head -c 2000 "$certs/platform-naples/pdh.cert" > "$tmp/short.cert"
err=$("$cli" cert show "$tmp/short.cert" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "truncated cert must exit 1"
echo "$err" | grep -q "2000 bytes" || fail "truncation message: $err"
exit 0
