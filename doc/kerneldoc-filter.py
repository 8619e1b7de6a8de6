#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Doxygen INPUT_FILTER: read the public headers' kernel-doc comments as
Doxygen does not on its own. The headers are not changed; this rewrites
their comments on the way into Doxygen and keeps every line where it was
(so warnings point at the real line):

  name() - summary        -> summary (the brief, JAVADOC_AUTOBRIEF)
  struct name - summary   -> summary
  @arg: text  (function)  -> @param arg text
  @member: text (struct)  -> moved to the member's line as  /**< text */
  @word inside a sentence -> \\p word
  /* text */ after a #define or an enumerator -> /**< text */
  /* text */ right before a #define, an enumerator or a declaration
                          -> /** text */ (before a #define, the comment opens
                             a member group, so every macro of the group is
                             documented by it: DISTRIBUTE_GROUP_DOC)
"""
import re
import sys

ENTRY = re.compile(r'^(\s*\*\s*)@(\w+(?:\s*,\s*@\w+)*)\s*:\s?(.*)$')
FUNC = re.compile(r'^(\s*\*\s*)(\w+)\(\) - (.*)$')
STRUCT = re.compile(r'^(\s*\*\s*)struct (\w+) - (.*)$')
INLINE_AT = re.compile(r'(?<![\w@\\])@(?!(?:param|return|brief|file)\b)(\w+)')
HASH_WORD = re.compile(r'(?<![\w\\])#(?=[A-Za-z])')
DEFINE = re.compile(r'^\s*#\s*define\s+\w+')
PP_COND = re.compile(r'^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b')
SIZE_VER0 = re.compile(r'^\s*#\s*define\s+\w+_SIZE_VER0\s+\w+\s*$')
ENUMERATOR = re.compile(r'^\s*[A-Z][A-Z0-9_]*\s*(=[^,]*)?,?\s*(/\*.*\*/)?\s*$')
DECL = re.compile(r'^\s*(?:struct|enum|union|typedef|const|void|int|unsigned|uint\w*|SEVMIG_\w+\s)')
TRAILING = re.compile(r'^(.*\S)\s*/\*(?!\*)(.*)\*/\s*$')


def inline_refs(text):
    """@name in a sentence is a parameter or member; #GP is not a link."""
    if text.lstrip().startswith('#'):
        return text
    return HASH_WORD.sub(r'\\#', INLINE_AT.sub(r'\\p \1', text))


# psp.h documents the arguments every raw guest command shares once, in
# the words its functions use; they are repeated for the functions that
# rely on that ("Context: see above").
PSP_SHARED = [('p, vm_fd', 'the platform the VM was started with, and the VM fd.'),
              ('ret_fw_error', 'optional; firmware status when it refused.')]


def doc_block(lines):
    """Rewrite one /** ... */ block; returns (lines, struct members)."""
    out, members = [], {}
    kind = None
    func = None
    params = set()
    cur = None          # member whose continuation lines follow
    for i, line in enumerate(lines):
        m = FUNC.match(line) if kind is None else None
        if m:
            kind = 'func'
            func = m.group(2)
            out.append(f'{m.group(1)}{inline_refs(m.group(3))}')
            continue
        m = STRUCT.match(line) if kind is None else None
        if m:
            kind = 'struct'
            out.append(f'{m.group(1)}{inline_refs(m.group(3))}')
            continue
        if kind is None and re.match(r'^\s*\*\s*\S', line):
            kind = 'text'
        m = ENTRY.match(line)
        if m:
            names = [n.strip().lstrip('@') for n in m.group(2).split(',')]
            text = m.group(3)
            if kind == 'struct':
                cur = names
                for n in names:
                    members[n] = inline_refs(text)
                out.append(m.group(1).rstrip())
            else:
                cur = None
                params.update(names)
                out.append(f"{m.group(1)}@param {','.join(names)} {inline_refs(text)}")
            continue
        body = re.match(r'^\s*\*\s*(.*)$', line)
        if cur and body and body.group(1) and not line.rstrip().endswith('*/') \
                and re.match(r'^\s*\*\s{2,}', line):
            for n in cur:
                members[n] += ' ' + inline_refs(body.group(1))
            out.append(re.match(r'^(\s*\*)', line).group(1))
            continue
        cur = None
        out.append(inline_refs(line) if '/**' not in line else line)
    if func and func.startswith('sevmig_psp_') and out[-1].strip() == '*/':
        extra = [f'@param {n} {t}' for n, t in PSP_SHARED
                 if not params & set(x.strip() for x in n.split(','))]
        if extra:
            out[-1] = ' * ' + ' '.join(extra) + ' */'
    return out, members


def member_name(stmt):
    m = re.search(r'\(\s*\*\s*(\w+)\s*\)\s*\(', stmt)
    if m:
        return m.group(1)
    m = re.search(r'(\w+)\s*(\[[^\]]*\]\s*)*;\s*(/\*.*)?$', stmt)
    return m.group(1) if m else None


def main(path):
    src = open(path, encoding='utf-8').read().split('\n')
    out = []
    state = {'members': {}, 'in_struct': False, 'in_enum': False,
             'stmt': '', 'group_open': False, 'file_done': False,
             'path': path, 'after_struct': None, 'struct': None}
    group_open = False
    i = 0
    while i < len(src):
        line = src[i]
        # Close a macro group at the first line that is not a #define
        # (or a define's continuation).
        if group_open and not DEFINE.match(line) and not PP_COND.match(line) and \
                not (out and out[-1].rstrip().endswith('\\')):
            group_open = False
            if line.strip() == '':
                out.append('/** @} */')
                i += 1
                continue
            # Closed on the first line this one produces.
            close_at = len(out)
        else:
            close_at = None
        i = step(src, i, out, state)
        if close_at is not None:
            out[close_at] = '/** @} */ ' + out[close_at]
        group_open = state['group_open'] or group_open
        state['group_open'] = False
    sys.stdout.write('\n'.join(out))


def step(src, i, out, state):
    """Process the line at i (a comment block whole); returns the next i."""
    line = src[i]
    if line.lstrip().startswith('/**') and '*/' not in line:
        j = i
        while '*/' not in src[j]:
            j += 1
        block, state['members'] = doc_block(src[i:j + 1])
        out.extend(block)
        return j + 1
    # A plain comment block: a doc comment when a declaration follows.
    if line.lstrip().startswith('/*') and not line.lstrip().startswith('/**'):
        j = i
        while '*/' not in src[j]:
            j += 1
        nxt = src[j + 1] if j + 1 < len(src) else ''
        block = [inline_refs(b) for b in src[i:j + 1]]
        # The file's description (its first comment after the licence line)
        # documents the file, which Doxygen needs to list its functions.
        if not state['file_done'] and 'SPDX-License-Identifier' not in line:
            state['file_done'] = True
            if j == i:	# one line: the text goes on a line of its own
                text = line.strip()[2:-2].strip()
                out.append('/** @file')
                out.append(f' * {text} */')
            else:
                out.append(block[0].replace('/*', '/** @file', 1))
                out.extend(block[1:])
            return j + 1
        if DEFINE.match(nxt) or PP_COND.match(nxt):
            out.append(block[0].replace('/*', '/** @{ */ /**', 1))
            out.extend(block[1:])
            state['group_open'] = True
            return j + 1
        if (state['in_enum'] and ENUMERATOR.match(nxt)) or \
                (not state['in_struct'] and not state['in_enum'] and
                 DECL.match(nxt)):
            out.append(block[0].replace('/*', '/**', 1))
            out.extend(block[1:])
            return j + 1
    # The generated version.h: its version macros are what its file comment
    # announces ("the version this header belongs to").
    if state['path'].endswith('version.h') and line.strip() == '' and \
            re.match(r'^#define SEVMIG_VERSION_MAJOR\b', src[i + 1] if i + 1 < len(src) else ''):
        out.append('/** @{ */ /** The version this header belongs to. */')
        state['group_open'] = True
        return i + 1
    # NAME_SIZE_VER0 after struct NAME: the first published size (the
    # record convention of common.h).
    if state['after_struct'] and SIZE_VER0.match(line):
        line += (f" /**< Size of struct {state['after_struct']} in the first release:"
                 " the smallest value its size field accepts. */")
    if line.strip() and not line.lstrip().startswith('#'):
        state['after_struct'] = None
    # Struct and enum bodies.
    m = re.match(r'^\s*struct (\w+) \{', line)
    if m:
        state['in_struct'] = True
        state['struct'] = m.group(1)
        state['stmt'] = ''
    elif re.match(r'^\s*enum \w+ \{', line):
        state['in_enum'] = True
    elif state['in_struct'] and re.match(r'^\s*\};', line):
        state['in_struct'] = False
        state['members'] = {}
        state['after_struct'] = state['struct']
    elif state['in_enum'] and re.match(r'^\s*\};', line):
        state['in_enum'] = False
    elif state['in_struct']:
        state['stmt'] += ' ' + line
        if ';' in line:
            name = member_name(state['stmt'].strip())
            doc = state['members'].get(name)
            if not doc and name and re.match(r'^reserved\d*$', name):
                doc = 'Reserved.'
            if doc:
                line = f'{line} /**< {doc.strip()} */'
            state['stmt'] = ''
    # Trailing plain comments after a #define or an enumerator.
    if DEFINE.match(line) or (state['in_enum'] and ENUMERATOR.match(line)):
        m = TRAILING.match(line)
        if m:
            line = f'{m.group(1)} /**<{inline_refs(m.group(2))}*/'
    out.append(line)
    return i + 1


if __name__ == '__main__':
    main(sys.argv[1])
