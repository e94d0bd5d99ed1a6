#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Checks the agent's layering, as each folder's README states it.

Every folder under agent/ has a README.md with one line

    May include: base, model

naming the folders whose headers its files may include ("nothing" for
none).  This fails, naming file and line, when:
  - a folder has no README.md or no such line, or names an unknown folder;
  - the rules themselves form a cycle between folders;
  - a file includes a header of a folder its own folder may not include,
    or an agent header without its folder ("clock.h" for "base/clock.h");
  - modules (x.c with x.h) include each other in a cycle, across folders
    or within one;
  - a folder's internal.h, what its own files share, is included from
    another folder.  It is not a module of its own: it belongs to the
    folder, whose files may include it and their public headers both.

usage: check_layers.py [AGENT_DIR]
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
RULE = re.compile(r'^May include:\s*(.*?)\s*$', re.MULTILINE)


def read_rules(agent, folders, errors):
    rules = {}
    for folder in folders:
        readme = os.path.join(agent, folder, 'README.md')
        try:
            with open(readme, encoding='utf-8') as f:
                text = f.read()
        except OSError:
            errors.append(f'{readme}: missing: every folder says what it '
                          'may include')
            continue
        found = RULE.findall(text)
        if len(found) != 1:
            errors.append(f'{readme}: needs exactly one "May include:" line')
            continue
        names = [n.strip() for n in found[0].split(',') if n.strip()]
        if names == ['nothing']:
            names = []
        for name in names:
            if name not in folders:
                errors.append(f'{readme}: "{name}" is not a folder of '
                              'agent/')
        rules[folder] = set(names) & set(folders)
    return rules


def find_cycle(graph):
    """A list of nodes round one cycle of graph, or None."""
    state = {}

    def visit(node, path):
        state[node] = 'open'
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 'open':
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt, path)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 'done'
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node, [])
            if cycle:
                return cycle
    return None


def main():
    agent = sys.argv[1] if len(sys.argv) > 1 else 'agent'
    folders = sorted(d for d in os.listdir(agent)
                     if os.path.isdir(os.path.join(agent, d))
                     and any(f.endswith(('.c', '.h'))
                             for f in os.listdir(os.path.join(agent, d))))
    errors = []
    rules = read_rules(agent, folders, errors)
    cycle = find_cycle(rules)
    if cycle:
        errors.append('the rules form a cycle: ' + ' -> '.join(cycle))

    headers = {}
    for folder in folders:
        for name in os.listdir(os.path.join(agent, folder)):
            if name.endswith('.h'):
                headers.setdefault(name, []).append(folder)

    modules = {}
    for folder in folders:
        for name in sorted(os.listdir(os.path.join(agent, folder))):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(agent, folder, name)
            module = f'{folder}/{name[:-2]}'
            private = name == 'internal.h'
            deps = set() if private else modules.setdefault(module, set())
            with open(path, encoding='utf-8') as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    where = f'{path}:{number}'
                    if '/' not in target:
                        if target in headers:
                            errors.append(
                                f'{where}: include "{target}" by its '
                                f'folder: "{headers[target][0]}/{target}"')
                        continue
                    other = target.split('/')[0]
                    if other not in folders:
                        continue  # generated: proto/, not the agent's
                    if not os.path.exists(os.path.join(agent, target)):
                        errors.append(f'{where}: no such header {target}')
                        continue
                    if target.endswith('/internal.h'):
                        if other != folder:
                            errors.append(f'{where}: {target} is private to '
                                          f'{other}/')
                        continue
                    if other != folder and other not in rules.get(folder,
                                                                  ()):
                        errors.append(
                            f'{where}: {folder}/ may not include {target} '
                            f'(agent/{folder}/README.md)')
                    dep = target[:-2]
                    if dep != module:
                        deps.add(dep)
    cycle = find_cycle(modules)
    if cycle:
        errors.append('modules include each other in a cycle: ' +
                      ' -> '.join(cycle))
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f'layers: {len(folders)} folders, {len(modules)} modules, '
          'no forbidden include, no cycle')
    return 0


if __name__ == '__main__':
    sys.exit(main())
