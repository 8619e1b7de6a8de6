#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-check the errors the headers document against the forced cases.

Usage: check-errors.py HEADER,HEADER,... SOURCE,SOURCE,...

For every public function declared in the headers, the doc comment's
"Errors:" paragraph lists the errors the function returns. Each errno named
there (a real errno name; "SEV-ES" and friends are not) must have a case
DOC_CASE(function, ERRNO) in the test sources (tests/unit/doc-errors.h),
and every case's errno must be documented for its function. Fails listing
every documented pair with no case, every case whose error is undocumented,
and every function whose doc comment has no "Errors:" paragraph.

Errors a paragraph takes by reference are allowed for the function but
not required of it:
  - "the errors of sevmig_x()", "as for sevmig_x()", "as sevmig_x()":
    every error of sevmig_x() and of every function named after it in
    the paragraph;
  - "the common ones" / "the common errors": the errors psp.h lists for
    every raw guest command ("Common errors of every guest command: ...").
    Each of those must be forced through at least one function that
    refers to them.
"""
import errno
import re
import sys

# Every name, aliases too (errorcode keeps one name per value).
ERRNO_NAMES = {n for n in dir(errno) if re.fullmatch(r'E[A-Z0-9]+', n)} | \
    {'ENOTSUPP'}

DOC_RE = re.compile(r'/\*\*((?:(?!\*/).)*)\*/\s*((?:(?!/\*)[^;{])*?\()', re.S)
FN_RE = re.compile(r'\b(sevmig_\w+)\s*\($')
CASE_RE = re.compile(r'DOC_CASE\(\s*(sevmig_\w+)\s*,\s*(E[A-Z0-9]+)\s*\)')
ERRNO_RE = re.compile(r'(?<![\w-])-?(E[A-Z0-9]{2,})\b')
# "the errors of f(), g() and h()", "as for f()": from there on, every
# function named in the paragraph is a reference.
REF_RE = re.compile(r'(?:errors of|as for|\bas)\s+(?=sevmig_\w+\(\))')
REF_FN_RE = re.compile(r'(sevmig_\w+)\(\)')
COMMON_RE = re.compile(r'the common (?:ones|errors)')
# The paragraph ends where the next one of the doc's sections starts.
SECTION_END = re.compile(r'\b(?:Firmware|Context|Lifetime):')


def strip_stars(text):
    return ' '.join(line.strip().lstrip('*').strip()
                    for line in text.splitlines())


def errnos(text):
    return {m for m in ERRNO_RE.findall(text) if m in ERRNO_NAMES}


def parse_headers(paths):
    funcs = {}      # name -> (explicit set, refs list, common bool, header)
    missing = []    # functions with no Errors: paragraph
    common = None
    for path in paths:
        with open(path) as f:
            src = f.read()
        m = re.search(r'Common errors of every guest command:(.*?)'
                      r'Context of every guest command', src, re.S)
        if m:
            common = errnos(strip_stars(m.group(1)))
        for m in DOC_RE.finditer(src):
            doc, decl = m.group(1), ' '.join(m.group(2).split())
            fm = FN_RE.search(decl)
            if not fm:
                continue
            name = fm.group(1)
            text = strip_stars(doc)
            e = text.find('Errors:')
            if e < 0:
                missing.append((name, path))
                continue
            para = text[e + len('Errors:'):]
            end = SECTION_END.search(para)
            if end:
                para = para[:end.start()]
            ref = REF_RE.search(para)
            refs = REF_FN_RE.findall(para[ref.start():]) if ref else []
            explicit = errnos(para)
            funcs[name] = (explicit, refs, bool(COMMON_RE.search(para)), path)
    return funcs, missing, common or set()


def allowed(funcs, common, name, seen=None):
    seen = seen or set()
    if name in seen or name not in funcs:
        return set()
    seen.add(name)
    explicit, refs, uses_common, _ = funcs[name]
    out = set(explicit)
    if uses_common:
        out |= common
    for r in refs:
        out |= allowed(funcs, common, r, seen)
    return out


def balanced(text, i):
    """End index of the parenthesised text that starts at text[i] == '('."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == '(':
            depth += 1
        elif text[j] == ')':
            depth -= 1
            if depth == 0:
                return j
    return -1


ASSERT_RE = re.compile(r'assert_int_equal\(\s*(sevmig_\w+)\s*\(')
EXPECT_RE = re.compile(r'\s*,\s*-(E[A-Z0-9]{2,})\s*\)')


def asserted_errors(text):
    """Cases written as assert_int_equal(sevmig_fn(...), -EXXX) in a test
    (the tests of the tracker, moves and teardown force errors this way)."""
    found = set()
    for m in ASSERT_RE.finditer(text):
        end = balanced(text, m.end() - 1)
        if end < 0:
            continue
        e = EXPECT_RE.match(text, end + 1)
        if e:
            found.add((m.group(1), e.group(1)))
    return found


ROW_RE = re.compile(r'\{\s*"([a-z_]+):[^"]*",\s*-(E[A-Z0-9]{2,})\b')


def table_rows(text):
    """Rows { "fn: what", -EXXX, ... } of a table-driven test naming the
    function without its prefix (tests/tracker/test-tracker-errors.c)."""
    prefix = re.search(r'@errors-prefix (sevmig_\w*)', text)
    if not prefix:
        return set()
    return {(prefix.group(1) + m.group(1), m.group(2))
            for m in ROW_RE.finditer(text)}


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    headers = [p for p in sys.argv[1].split(',') if p]
    sources = [p for p in sys.argv[2].split(',') if p]
    funcs, missing, common = parse_headers(headers)

    cases = set()
    for path in sources:
        with open(path) as f:
            text = f.read()
        for m in CASE_RE.finditer(text):
            cases.add((m.group(1), m.group(2)))
        cases |= asserted_errors(text)
        cases |= table_rows(text)

    problems = []
    for name, path in missing:
        problems.append(f'{name} ({path}): its doc comment has no '
                        f'"Errors:" paragraph')
    for name in sorted(funcs):
        explicit = funcs[name][0]
        for err in sorted(explicit):
            if (name, err) not in cases:
                problems.append(f'{name}: -{err} is documented but no '
                                f'DOC_CASE({name}, {err}) forces it')
    users = [n for n in funcs if funcs[n][2]]
    for err in sorted(common):
        if not any((n, err) in cases for n in users):
            problems.append(f'common guest-command error -{err}: no case '
                            f'forces it through any of '
                            f'{", ".join(sorted(users))}')
    for name, err in sorted(cases):
        if name not in funcs:
            # Declared in a header not checked yet: not ours to judge.
            continue
        if err not in allowed(funcs, common, name):
            problems.append(f'DOC_CASE({name}, {err}): -{err} is not '
                            f'documented for {name}')

    documented = sum(len(v[0]) for v in funcs.values())
    print(f'{len(funcs)} functions, {documented} documented errors '
          f'(+{len(common)} common to the guest commands), '
          f'{len(cases)} distinct cases')
    for p in problems:
        print('FAIL: ' + p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
