#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Validates --json records against docs/json-records.schema.json.

Every line of every FILE must be one JSON object the schema accepts: a
record type, field or value that docs/json-records.md does not describe
fails, naming file, line, and where in the record.  Files may be empty
(an agent that wrote nothing yet); a line that is not JSON fails.

usage: validate_records.py SCHEMA FILE...
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding='utf-8') as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    records, errors = 0, []
    for path in sys.argv[2:]:
        with open(path, encoding='utf-8', errors='replace') as f:
            for number, line in enumerate(f, 1):
                where = f'{path}:{number}'
                try:
                    record = json.loads(line)
                except ValueError as e:
                    errors.append(f'{where}: not JSON: {e}')
                    continue
                records += 1
                for error in validator.iter_errors(record):
                    # The deepest cause says what is wrong, not "no type
                    # of record matched".
                    best = jsonschema.exceptions.best_match([error])
                    place = '/'.join(str(p) for p in best.absolute_path)
                    kind = record.get('type') if isinstance(record,
                                                            dict) else None
                    errors.append(f'{where}: {kind} record, at '
                                  f'/{place}: {best.message}')
    for error in errors:
        print(error, file=sys.stderr)
    if errors:
        return 1
    print(f'{records} records in {len(sys.argv) - 2} files: all as '
          'docs/json-records.md describes them')
    return 0


if __name__ == '__main__':
    sys.exit(main())
