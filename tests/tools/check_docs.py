#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Checks that the documentation's links and paths lead somewhere, and
that its references name what the code has.

For README.md, docs/*.md and the agent's folder READMEs under ROOT, this
fails, naming file and line, when:
  - a relative link ([text](path), ![alt](path), [name]: path) names a
    file or folder that does not exist;
  - a link's #anchor names no heading of the page it points to (its own
    page for a bare #anchor), with headings turned into anchors the way
    GitHub does: lower case, punctuation dropped, spaces to hyphens, and
    -1, -2... after repeats;
  - a path of the repository quoted as code (`agent/hb/hb.h`) does not
    exist: text that moved with the code would otherwise go stale unseen.
    Only paths under the repository's own top folders count, and none with
    a placeholder or a wildcard in it (`tests/unit/<folder>/test_*.c`);
  - the folder table of docs/architecture.md (rows that link to
    ../agent/NAME/README.md) leaves out a folder of agent/ that has a
    README, or says it may include other folders than the README's
    "May include:" line ("every other folder" for all the others);
  - a metric that agent/report/metric_samples.c declares (.name = "...")
    is not quoted in the metric reference, docs/dashboard-and-metrics.md;
  - a field of docs/json-records.schema.json is not quoted in
    docs/json-records.md, the page that says what it means.
Links with a scheme (https:, mailto:) are not followed: no network here.
Code blocks are skipped, and so are code spans for links.

usage: check_docs.py [ROOT]
"""
import glob
import json
import os
import re
import sys

FENCE = re.compile(r'^\s*(```|~~~)')
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
CODE_SPAN = re.compile(r'(`+)(.+?)\1')
INLINE_LINK = re.compile(r'!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?'
                         r'(?:\s+"[^"]*")?\s*\)')
REFERENCE = re.compile(r'^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(\s+"[^"]*")?\s*$')
HTML_ANCHOR = re.compile(r'<a\s+(?:name|id)="([^"]+)"')
SCHEME = re.compile(r'^[a-zA-Z][a-zA-Z0-9+.-]*:')
# Top folders of the repository whose paths the documentation quotes.
TOP_FOLDERS = ('agent', 'bpf', 'docs', 'helm', 'include', 'proto', 'scripts',
               'tests', 'vmlinux')
PLACEHOLDER = re.compile(r'[<>{}*?$\s|]|\.\.\.')


def slug(text):
    """GitHub's anchor for a heading's text."""
    text = CODE_SPAN.sub(lambda m: m.group(2), text)
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', text)
    text = re.sub(r'<[^>]+>', '', text)
    text = text.replace('*', '').strip().lower()
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def prose_lines(path):
    """(line number, text) of the lines outside code blocks."""
    with open(path, encoding='utf-8') as f:
        fenced = False
        for number, line in enumerate(f, 1):
            if FENCE.match(line):
                fenced = not fenced
                continue
            if not fenced:
                yield number, line.rstrip('\n')


def anchors_of(path, cache):
    if path not in cache:
        found, seen = set(), {}
        for _, line in prose_lines(path):
            found.update(HTML_ANCHOR.findall(line))
            heading = HEADING.match(line)
            if not heading:
                continue
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f'{base}-{count}')
        cache[path] = found
    return cache[path]


def check_link(root, page, number, target, cache, errors):
    if not target or SCHEME.match(target):
        return
    path, _, anchor = target.partition('#')
    if path:
        if path.startswith('/'):
            resolved = os.path.join(root, path.lstrip('/'))
        else:
            resolved = os.path.join(os.path.dirname(page), path)
        resolved = os.path.normpath(resolved)
        if not os.path.exists(resolved):
            errors.append(f'{page}:{number}: {target}: no such file')
            return
    else:
        resolved = page
    if not anchor:
        return
    if os.path.isdir(resolved) or not resolved.endswith('.md'):
        errors.append(f'{page}:{number}: {target}: an anchor in a page '
                      'that is not Markdown')
        return
    if anchor not in anchors_of(resolved, cache):
        errors.append(f'{page}:{number}: {target}: no heading '
                      f'"#{anchor}" in {os.path.relpath(resolved, root)}')


def check_code_path(root, page, number, text, errors):
    path = text.strip()
    if PLACEHOLDER.search(path) or '/' not in path:
        return
    if path.split('/', 1)[0] not in TOP_FOLDERS:
        return
    if not os.path.exists(os.path.join(root, path)):
        errors.append(f'{page}:{number}: `{path}`: no such file or folder')


RULE = re.compile(r'^May include:\s*(.*?)\s*$', re.MULTILINE)
FOLDER_ROW = re.compile(r'^\|\s*\[`?([a-z_]+)/?`?\]\(\.\./agent/\1/README\.md\)'
                        r'.*\|\s*([^|]*?)\s*\|\s*$')


def folder_rules(root):
    """{folder: set of folders it may include}, from agent/*/README.md."""
    rules = {}
    for readme in glob.glob(os.path.join(root, 'agent', '*', 'README.md')):
        with open(readme, encoding='utf-8') as f:
            found = RULE.findall(f.read())
        if len(found) == 1:
            names = {n.strip() for n in found[0].split(',') if n.strip()}
            rules[os.path.basename(os.path.dirname(readme))] = (
                names - {'nothing'})
    return rules


def check_folder_table(root, errors):
    page = os.path.join(root, 'docs', 'architecture.md')
    if not os.path.exists(page):
        return
    rules = folder_rules(root)
    listed = set()
    for number, line in prose_lines(page):
        row = FOLDER_ROW.match(line)
        if not row:
            continue
        folder, said = row.group(1), row.group(2)
        listed.add(folder)
        if folder not in rules:
            errors.append(f'{page}:{number}: agent/{folder}/ has no README '
                          'with a "May include:" line')
            continue
        if said == 'every other folder':
            names = set(rules) - {folder}
        else:
            names = {n.strip() for n in said.split(',')} - {'nothing'}
        if names != rules[folder]:
            errors.append(
                f'{page}:{number}: {folder}/ may include '
                f'"{", ".join(sorted(rules[folder])) or "nothing"}" '
                f'(agent/{folder}/README.md), not "{said}"')
    for folder in sorted(set(rules) - listed):
        errors.append(f'{page}: the folder table leaves out agent/{folder}/')


METRIC_NAME = re.compile(r'\.name\s*=\s*"([^"]+)"')


def not_quoted(page, names):
    """The names that page does not quote as code: `name`."""
    try:
        with open(page, encoding='utf-8') as f:
            text = f.read()
    except OSError:
        text = ''
    return [name for name in names if f'`{name}`' not in text]


def check_metric_reference(root, errors):
    source = os.path.join(root, 'agent', 'report', 'metric_samples.c')
    page = os.path.join(root, 'docs', 'dashboard-and-metrics.md')
    if not os.path.exists(source):
        return
    with open(source, encoding='utf-8') as f:
        names = METRIC_NAME.findall(f.read())
    for name in not_quoted(page, names):
        errors.append(f'{page}: the metric reference leaves out {name} '
                      '(agent/report/metric_samples.c)')


def schema_fields(node, found):
    """Every property name a JSON Schema defines, at any depth."""
    if isinstance(node, dict):
        found.update(node.get('properties', {}))
        for value in node.values():
            schema_fields(value, found)
    elif isinstance(node, list):
        for value in node:
            schema_fields(value, found)
    return found


def check_record_reference(root, errors):
    schema = os.path.join(root, 'docs', 'json-records.schema.json')
    page = os.path.join(root, 'docs', 'json-records.md')
    if not os.path.exists(schema):
        return
    with open(schema, encoding='utf-8') as f:
        fields = sorted(schema_fields(json.load(f), set()))
    for field in not_quoted(page, fields):
        errors.append(f'{page}: the schema has a field {field} this page '
                      'does not describe')


def check_page(root, page, cache, errors):
    for number, line in prose_lines(page):
        for span in CODE_SPAN.finditer(line):
            check_code_path(root, page, number, span.group(2), errors)
        prose = CODE_SPAN.sub('', line)
        for link in INLINE_LINK.finditer(prose):
            check_link(root, page, number, link.group(2), cache, errors)
        reference = REFERENCE.match(prose)
        if reference:
            check_link(root, page, number, reference.group(1), cache,
                       errors)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
    pages = [os.path.join(root, 'README.md')]
    pages += sorted(glob.glob(os.path.join(root, 'docs', '*.md')))
    pages += sorted(glob.glob(os.path.join(root, 'agent', '*', 'README.md')))
    pages = [p for p in pages if os.path.exists(p)]
    cache, errors = {}, []
    for page in pages:
        check_page(root, page, cache, errors)
    check_folder_table(root, errors)
    check_metric_reference(root, errors)
    check_record_reference(root, errors)
    for error in errors:
        print(error.replace(root + os.sep, ''), file=sys.stderr)
    if errors:
        return 1
    print(f'{len(pages)} pages: every link, anchor and quoted path '
          'resolves, and the references name what the code has')
    return 0


if __name__ == '__main__':
    sys.exit(main())
