#!/bin/sh
# SPDX-License-Identifier: MIT
# Compare a built library with the committed ABI baseline. abidiff's exit
# status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
# Any change fails: an intended one updates the baseline in the same commit
# (scripts/update-abi-baseline.sh).
set -u
baseline=$1 lib=$2 headers=$3
out=$(abidiff --no-added-syms --headers-dir2 "$headers" "$baseline" "$lib" 2>&1)
rc=$?
out_all=$(abidiff --headers-dir2 "$headers" "$baseline" "$lib" 2>&1)
rc_all=$?
if [ $rc -eq 0 ] && [ $rc_all -eq 0 ]; then
	echo "ABI of $(basename "$lib") matches $(basename "$baseline")"
	exit 0
fi
echo "$out_all"
if [ $((rc & 8)) -ne 0 ] || [ $((rc_all & 8)) -ne 0 ]; then
	echo "INCOMPATIBLE ABI change against the baseline: this breaks existing users."
elif [ $((rc_all & 3)) -ne 0 ]; then
	echo "abidiff failed to run (status $rc_all)."
else
	echo "ABI changed against the baseline. If intended, run scripts/update-abi-baseline.sh and commit the result with the change."
fi
exit 1
