#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Summarise the KCSAN reports in a guest console log.

usage: kcsan-reports.py CONSOLE_LOG [MODULE_PATTERN]

Prints each distinct data-race report once (with how many times it came),
the two accesses and their top frames; those whose stacks name a frame of
MODULE_PATTERN (default: "[glock", i.e. glock.ko, glock_i2c.ko and
glock_dlm.ko) as the top frame of an access first (a race in that code),
then those with such a frame deeper (the race is in code it calls), then
the rest. Exits 1 if any race is in the module's code, else 0.
"""
import re
import sys
from collections import OrderedDict

TS = re.compile(r'^\[\s*\d+\.\d+\]\s?')
FRAMES = 6


def reports(lines):
    cur = None
    for raw in lines:
        line = TS.sub('', raw.rstrip('\n'))
        if line.startswith('BUG: KCSAN: '):
            if cur:
                yield cur
            cur = {'title': line, 'accesses': [], 'extra': []}
            continue
        if cur is None:
            continue
        if line.startswith('Reported by Kernel Concurrency Sanitizer'):
            yield cur
            cur = None
            continue
        m = re.match(r'^(race at unknown origin, with )?(read|write|read-write)'
                     r'( \(marked\))? to (0x[0-9a-f]+) of (\d+) bytes by '
                     r'(task \d+|interrupt) on cpu (\d+):', line)
        if m:
            cur['accesses'].append({'head': line, 'frames': []})
            continue
        if line.startswith(' ') and cur['accesses'] and line.strip():
            cur['accesses'][-1]['frames'].append(line.strip())
            continue
        if line.startswith('value changed') or line.startswith('Locks held') \
                or line.startswith('| '):
            cur['extra'].append(line)
    if cur:
        yield cur


def main():
    path = sys.argv[1]
    pat = sys.argv[2] if len(sys.argv) > 2 else '[glock'
    with open(path, errors='replace') as f:
        reps = list(reports(f))
    seen = OrderedDict()
    for r in reps:
        key = (r['title'], tuple(tuple(a['frames'][:2]) for a in r['accesses']))
        seen.setdefault(key, []).append(r)
    def top_in(r):      # a racing access is in the module's own code
        return any(a['frames'] and pat in a['frames'][0]
                   for a in r['accesses'])

    def stack_in(r):    # the module is a caller of the racing code
        return any(pat in fr for a in r['accesses'] for fr in a['frames'])

    mine = [(k, v) for k, v in seen.items() if top_in(v[0])]
    through = [(k, v) for k, v in seen.items()
               if not top_in(v[0]) and stack_in(v[0])]
    other = [(k, v) for k, v in seen.items() if not stack_in(v[0])]
    print(f'{len(reps)} KCSAN reports, {len(seen)} distinct; '
          f'{len(mine)} distinct race in {pat!r} code, {len(through)} '
          f'more have it deeper in a stack')
    for title, group in (('in ' + pat + ' code', mine),
                         ('called from ' + pat, through),
                         ('elsewhere', other)):
        if not group:
            continue
        print(f'\n=== {title}')
        for (_, v) in group:
            r = v[0]
            print(f'\n{r["title"]}  (x{len(v)})')
            for a in r['accesses']:
                print('  ' + a['head'])
                for fr in a['frames'][:FRAMES]:
                    print('      ' + fr)
            for e in r['extra']:
                print('  ' + e)
    return 1 if mine else 0


if __name__ == '__main__':
    sys.exit(main())
