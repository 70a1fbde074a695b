#!/usr/bin/env python3
# Validate JSON documents against one of docs/schema/*.schema.json (python3-jsonschema).
#
#   schema-check.py SCHEMA [DEF] [FILE...]
#
# Each FILE (stdin without one) holds one JSON document or JSON lines. DEF validates against
# SCHEMA's $defs/DEF instead of its root. Prints "FILE:LINE: path: message" for
# each invalid document and exits 1 if there is one; "N valid" otherwise.
import json
import sys

import jsonschema


def docs(name, text):
    try:
        yield 1, json.loads(text)
        return
    except ValueError:
        pass
    for no, line in enumerate(text.split('\n'), 1):
        if line.strip():
            yield no, json.loads(line)


def main():
    schema = json.load(open(sys.argv[1]))
    args = sys.argv[2:]
    if args and not args[0].endswith('.json') and not args[0].endswith('.jsonl') and '/' not in args[0]:
        schema = {'$schema': schema['$schema'], '$defs': schema['$defs'], '$ref': '#/$defs/' + args[0]}
        args = args[1:]
    jsonschema.Draft202012Validator.check_schema(schema)
    v = jsonschema.Draft202012Validator(schema)
    bad = n = 0
    for name in args or ['-']:
        text = sys.stdin.read() if name == '-' else open(name).read()
        for no, d in docs(name, text):
            n += 1
            for e in v.iter_errors(d):
                print(f'{name}:{no}: {e.json_path}: {e.message[:200]}')
                bad = 1
    if not bad:
        print(f'{n} valid')
    return bad


sys.exit(main())
