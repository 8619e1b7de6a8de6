#!/bin/sh
# SPDX-License-Identifier: MIT
# The sevmig CLI's contract: help, usage errors, probe output and exit codes.
set -u
cli=$1
fail() { echo "FAIL: $*"; exit 1; }

"$cli" --help | grep -q "exit codes" || fail "--help lacks exit codes"
"$cli" --version | grep -q "libsevmig" || fail "--version"
"$cli" >/dev/null 2>&1; [ $? -eq 2 ] || fail "no command must exit 2"
"$cli" frobnicate >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command must exit 2"
"$cli" probe --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad probe option must exit 2"
"$cli" probe --require nonsense >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --require must exit 2"
"$cli" probe --help | grep -q -- "--json" || fail "probe --help"

out=$("$cli" probe) || fail "probe exited $?"
echo "$out" | grep -q "^Verdicts" || fail "probe table lacks verdicts"
json=$("$cli" probe --json) || fail "probe --json exited $?"
echo "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("kvm", "sev_device", "verdicts"):
    assert k in d, k
for v in ("cross_host", "intra_host", "mirror", "es_cross_host"):
    e = d["verdicts"][v]
    assert e["possible"] == (e["reason_mask"] == "0x0"), v
    assert e["possible"] == (len(e["reasons"]) == 0), v
assert d["verdicts"]["es_cross_host"]["possible"] is False
' || fail "probe --json is not the documented JSON"

# --require exits 3 exactly when the verdict is no.
possible=$(echo "$json" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["verdicts"]["cross_host"]["possible"]))')
"$cli" probe --require cross-host >/dev/null; rc=$?
if [ "$possible" = 1 ]; then [ $rc -eq 0 ] || fail "--require cross-host: $rc"
else [ $rc -eq 3 ] || fail "--require cross-host must exit 3 here, got $rc"; fi
"$cli" probe --require es-cross-host >/dev/null; [ $? -eq 3 ] || fail "es-cross-host is never possible upstream"

# Where /dev/kvm exists without SEV (our machines), the reasons say so.
if [ -e /dev/kvm ] && ! echo "$json" | grep -q '"sev_enabled": true'; then
	echo "$out" | grep -q "SEV is not enabled in KVM" || fail "missing SEV reason"
	echo "$out" | grep -q "exit on KVM_HC_MAP_GPA_RANGE yes" || fail "exit-hypercall line"
fi
if [ ! -e /dev/sev ]; then
	echo "$out" | grep -q "/dev/sev does not exist" || fail "missing /dev/sev reason"
fi
echo "cli: all checks passed"
