#!/usr/bin/env python3
# Check the relative links of Markdown files: the target exists and, with #anchor, has that heading.
#
#   doc-links.py ROOT FILE.md...
#
# Anchors are GitHub's: the heading lower-cased, punctuation other than - and
# _ dropped, spaces to -, "-N" for the Nth repeat. Prints one line per broken
# link (FILE:LINE: ...) and exits 1 if there is one.
import os
import re
import sys


def slugs(path):
    out, seen, fence = set(), {}, False
    with open(path, encoding='utf-8') as f:
        for line in f:
            if re.match(r'^\s*```', line):
                fence = not fence
                continue
            m = None if fence else re.match(r'^(#{1,6})\s+(.*?)\s*#*\s*$', line)
            if not m:
                continue
            s = re.sub(r'[^\w\- ]', '', m.group(2).lower().replace('`', '')).replace(' ', '-')
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else f'{s}-{n}')
    return out


def main():
    root, files = sys.argv[1], sys.argv[2:]
    bad = 0
    cache = {}
    for doc in files:
        path = os.path.join(root, doc)
        fence = False
        with open(path, encoding='utf-8') as f:
            for no, line in enumerate(f, 1):
                if re.match(r'^\s*```', line):
                    fence = not fence
                if fence:
                    continue
                for target in re.findall(r'\]\(([^)\s]+)\)', line):
                    if re.match(r'^[a-z]+:', target):
                        continue
                    file, _, anchor = target.partition('#')
                    dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
                    if not os.path.exists(dest):
                        print(f'{doc}:{no}: link {target}: no such file')
                        bad = 1
                        continue
                    if anchor and dest.endswith('.md'):
                        if dest not in cache:
                            cache[dest] = slugs(dest)
                        if anchor not in cache[dest]:
                            print(f'{doc}:{no}: link {target}: no heading with that anchor')
                            bad = 1
    return bad


sys.exit(main())
