#!/bin/sh
# SPDX-License-Identifier: MIT
# The PSP subcommands of the sevmig CLI: cert show and policy show on the
# real fixtures, pdh-export where /dev/sev is absent (our machines).
set -u
cli=$1
# "verifier" when sevmig links libsevmig-sim (cert verify checks signatures).
verifier=${2:-verifier}
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

# ---- cert verify: whole chains ----
plat() { # GEN: the platform's files as --pdh --pek --oca --cek
	echo "--pdh $certs/platform-$1/pdh.cert --pek $certs/platform-$1/pek.cert" \
	     "--oca $certs/platform-$1/oca.cert --cek $certs/platform-$1/cek.cert"
}
amd() { echo "--ask $certs/amd-$1/ask.cert --ark $certs/amd-$1/ark.cert"; }
"$cli" cert verify --pdh "$certs/platform-rome/pdh.cert" >/dev/null 2>&1
[ $? -eq 2 ] || fail "verify without chains must exit 2"
"$cli" cert verify $(plat rome) --chain "$tmp/chain.cert" $(amd rome) \
	>/dev/null 2>&1; [ $? -eq 2 ] || fail "--chain with --pek must exit 2"
"$cli" cert verify $(plat rome) $(amd rome) --ark >/dev/null 2>&1
[ $? -eq 2 ] || fail "--ark without FILE must exit 2"
"$cli" cert verify --pdh "$tmp/none" --chain "$tmp/chain.cert" $(amd rome) \
	>/dev/null 2>&1; [ $? -eq 1 ] || fail "missing PDH file must exit 1"
"$cli" cert --help | grep -q "cert verify --pdh" || fail "cert --help"

if [ "$verifier" != verifier ]; then
	# Built without libsevmig-sim: no signature can be checked, exit 1.
	err=$("$cli" cert verify $(plat rome) $(amd rome) 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] || fail "verify without a verifier must exit 1, got $rc"
	echo "$err" | grep -q "built without libsevmig-sim" || fail "no-verifier message: $err"
	exit 0
fi
for gen in naples rome; do
	out=$("$cli" cert verify $(plat $gen) $(amd $gen)) ||
		fail "$gen chain must verify (exit $?): $out"
	echo "$out" | grep -q "verdict: verified" || fail "$gen verdict: $out"
	[ $(echo "$out" | grep -c "  ok ") -eq 5 ] || fail "$gen: 5 links ok: $out"
done
out=$("$cli" cert verify $(plat rome) $(amd rome))
echo "$out" | grep -q "AMD's genuine Rome root" || fail "Rome root: $out"
echo "$out" | grep -q "ARK -> ASK  ok .*key id e6002122fb58419399d15fee7b131351" ||
	fail "ARK link names its key: $out"
# The platform chain file from pdh-export, the AMD chain as one file.
cat "$certs/amd-naples/ask.cert" "$certs/amd-naples/ark.cert" > "$tmp/amd.cert"
cat "$certs/platform-naples/pek.cert" "$certs/platform-naples/oca.cert" \
    "$certs/platform-naples/cek.cert" > "$tmp/naples-chain.cert"
"$cli" cert verify --pdh "$certs/platform-naples/pdh.cert" \
	--chain "$tmp/naples-chain.cert" --amd-chain "$tmp/amd.cert" --json |
	python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verified"] is True and d["signatures_checked"] is True, d
assert [l["link"] for l in d["links"]] == ["ARK -> ASK", "ASK -> CEK",
    "CEK -> PEK", "OCA -> PEK", "PEK -> PDH"], d
assert all(l["signature"] == "ok" for l in d["links"]), d
assert d["root"] == {"key_id": "1bb987c359494606b174945601c9ea5b",
    "trusted": True, "genuine_amd": True, "generation": "Naples"}, d
assert d["reason_mask"] == "0x0" and d["reasons"] == [], d
' || fail "naples --json"

# Crossed: the Rome platform with the Milan AMD chain. Same shapes; only the
# ASK's signature on the CEK tells, and the failing link is named.
out=$("$cli" cert verify $(plat rome) $(amd milan) 2>"$tmp/err"); rc=$?
[ $rc -eq 3 ] || fail "crossed chain must exit 3, got $rc: $out"
echo "$out" | grep -q "ASK -> CEK  bad" || fail "failing link not shown: $out"
echo "$out" | grep -q "ARK -> ASK  ok" || fail "Milan's own link: $out"
echo "$out" | grep -q "AMD's genuine Milan root" || fail "Milan root: $out"
grep -q "link ASK -> CEK: the CEK's signature by the ASK does not verify" \
	"$tmp/err" || fail "stderr names the link: $(cat "$tmp/err")"
"$cli" cert verify $(plat rome) $(amd milan) --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["verified"] is False, d
bad = [l["link"] for l in d["links"] if l["signature"] == "bad"]
assert bad == ["ASK -> CEK"], d
assert d["root"]["generation"] == "Milan", d
assert any("ASK -> CEK" in e for e in d["errors"]), d
' || fail "crossed --json"
# Naples PDH with the Rome platform: structure and signature both refuse.
out=$("$cli" cert verify --pdh "$certs/platform-naples/pdh.cert" \
	--chain "$tmp/chain.cert" $(amd rome) 2>/dev/null); rc=$?
[ $rc -eq 3 ] || fail "Naples PDH on Rome must exit 3"
echo "$out" | grep -q "PEK -> PDH  bad" || fail "PDH link: $out"

# An ARK whose key was changed: not AMD's root, and its signature fails.
cp "$certs/amd-rome/ark.cert" "$tmp/ark.cert"
printf '\377' | dd of="$tmp/ark.cert" bs=1 seek=700 conv=notrunc 2>/dev/null
out=$("$cli" cert verify $(plat rome) --ask "$certs/amd-rome/ask.cert" \
	--ark "$tmp/ark.cert" 2>"$tmp/err"); rc=$?
[ $rc -eq 3 ] || fail "forged root must exit 3, got $rc"
echo "$out" | grep -q "NOT trusted" || fail "forged root verdict: $out"
echo "$out" | grep -q "ARK -> ASK  bad" || fail "forged root's link: $out"
grep -q "of AMD's genuine Rome root, but another public key" "$tmp/err" ||
	fail "forged root message: $(cat "$tmp/err")"
# --add-ark: refused for AMD's own root and for a forged one (exit 1).
err=$("$cli" cert verify $(plat rome) $(amd rome) \
	--add-ark "$certs/amd-rome/ark.cert" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "--add-ark of a genuine root must exit 1, got $rc"
echo "$err" | grep -q "already trusted" || fail "--add-ark genuine: $err"
err=$("$cli" cert verify $(plat rome) $(amd rome) --add-ark "$tmp/ark.cert" \
	2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] || fail "--add-ark of a forged root must exit 1, got $rc"
exit 0
