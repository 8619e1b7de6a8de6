#!/bin/sh
# SPDX-License-Identifier: MIT
# The manual pages render without a groff warning (man --warnings), and
# sevmig(1) documents every command, option and exit code the built tool
# announces in its --help: a page that falls behind the tool fails here.
# Usage: man-lint.sh SEVMIG-BINARY|- PAGE...
set -eu
command -v man >/dev/null 2>&1 || { echo "SKIP: man (man-db) not installed"; exit 77; }
cli=$1; shift
export LC_ALL=C.UTF-8
fail=0
page1=""
for page; do
	warn=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || {
		echo "$page: man failed: $warn"; fail=1; continue; }
	if [ -n "$warn" ]; then
		echo "$page: $warn"
		fail=1
	fi
	lines=$(MANWIDTH=80 man -E UTF-8 -l "$page" 2>/dev/null | wc -l)
	[ "$lines" -gt 40 ] || { echo "$page: renders to only $lines lines"; fail=1; }
	case $page in *.1) page1=$page ;; esac
done

if [ "$cli" != - ] && [ -n "$page1" ]; then
	text=$(MANWIDTH=200 man -E UTF-8 -l "$page1" 2>/dev/null)
	has() { printf '%s\n' "$text" | grep -Eq -- "$1"; }
	cmds=$("$cli" --help | sed -n '/^commands:/,/^$/p' | awk 'NF > 1 { print $1 }')
	[ -n "$cmds" ] || { echo "sevmig --help lists no command"; exit 1; }
	for c in $cmds; do
		has "^ +(sevmig )?$c( |$)" || { echo "sevmig(1) lacks command $c"; fail=1; }
		for o in $("$cli" "$c" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
			[ "$o" = --help ] && continue
			has "$o( |,|$)" || { echo "sevmig(1) lacks $c option $o"; fail=1; }
		done
	done
	codes=$("$cli" --help | sed -n '/^exit codes:/,$p' | awk '$1 ~ /^[0-9]+$/ { print $1 }')
	status=$(printf '%s\n' "$text" | sed -n '/^EXIT STATUS/,/^[A-Z]/p')
	for n in $codes; do
		printf '%s\n' "$status" | grep -Eq "^ +$n$" ||
			{ echo "sevmig(1) lacks exit status $n"; fail=1; }
	done
fi
[ "$fail" -eq 0 ] && echo "man pages: clean"
exit "$fail"
