#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Orders exported happens-before points as a backend would: a decoder of
knotscope.hb.clock written from docs/happens-before.md alone, sharing no
code with the agent.

  hb_clock.py order          reads "A B" lines of encodings, prints for each
                             before, after, concurrent, equal or unknown
  hb_clock.py across FIELD   reads spans as JSON lines ({"clock": ...,
                             FIELD: ...}), prints how many pairs of spans
                             whose FIELD differs come out each way, one
                             "COUNT ORDER" line per order
"""
import base64
import collections
import json
import sys


def varints(data):
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            yield value
            value = shift = 0
    if shift:
        raise ValueError("truncated varint")


class Point:
    """version, ts, slot, generation, count, lamport, unknown, doubtful, n,
    then n times: slot delta, generation, count."""

    def __init__(self, text):
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        numbers = list(varints(data))
        if len(numbers) < 9 or numbers[0] != 1:
            raise ValueError("not a version 1 point: %r" % text)
        (_, self.ts, slot, gen, self.count, self.lamport, unknown, doubtful,
         n) = numbers[:9]
        if len(numbers) != 9 + 3 * n:
            raise ValueError("entries do not match their number: %r" % text)
        self.actor = (slot, gen)
        # Distances back from ts, 0 for none.
        self.unknown_before = self.ts - unknown + 1 if unknown else None
        self.doubtful_before = self.ts - doubtful + 1 if doubtful else None
        self.knows = {}
        slot = 0
        for i in range(9, len(numbers), 3):
            slot += numbers[i]
            self.knows[(slot, numbers[i + 1])] = numbers[i + 2]

    def sees(self, other):
        """True, False, or None when this point cannot tell whether other
        happened before it."""
        if self.knows.get(other.actor, 0) >= other.count:
            if (self.doubtful_before is not None and
                    other.ts <= self.doubtful_before):
                return None
            return True
        if self.unknown_before is not None and other.ts <= self.unknown_before:
            return None
        return False


def order(a, b):
    if a.actor == b.actor:
        if a.count == b.count:
            return "equal"
        return "before" if a.count < b.count else "after"
    a_in_b, b_in_a = b.sees(a), a.sees(b)
    if a_in_b and b_in_a:
        return "unknown"
    if a_in_b:
        return "before"
    if b_in_a:
        return "after"
    if a_in_b is False and b_in_a is False:
        return "concurrent"
    return "unknown"


def main(argv):
    if argv[1:] == ["order"]:
        for line in sys.stdin:
            a, b = line.split()
            print(order(Point(a), Point(b)))
        return 0
    if len(argv) == 3 and argv[1] == "across":
        spans = [json.loads(line) for line in sys.stdin if line.strip()]
        points = [(span[argv[2]], Point(span["clock"])) for span in spans]
        counts = collections.Counter(
            order(a, b) for i, (group_a, a) in enumerate(points)
            for group_b, b in points[i + 1:] if group_a != group_b)
        for name, count in sorted(counts.items()):
            print(count, name)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
