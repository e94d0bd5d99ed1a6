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
  hb_clock.py crowd OUTPUT   reads spans as JSON lines ({"tid", "end",
                             "clock"}) of hb_scenes crowd, whose output is
                             OUTPUT; prints "COUNT TRUTH ORDER" lines: how
                             each pair of a writer's point and a read came
                             out, TRUTH ordered or unordered by the
                             program's logic
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


def crowd(spans, output):
    """Writer w's k-th point is before a read exactly when the reader had
    returned w's k-th byte or a later one by then: a writer's bytes keep
    their order in the pipe, and nothing else connects the threads."""
    writers, got = {}, {}
    for line in output:
        fields = line.split()
        if len(fields) == 3 and fields[0] == "role" and \
                fields[1].startswith("writer-"):
            writers[fields[2]] = int(fields[1][len("writer-"):])
        elif fields[:1] == ["got"]:
            got[fields[1]] = [int(v) for v in fields[2].split(",")] \
                if len(fields) > 2 else []
    spans_of = collections.defaultdict(list)
    for span in spans:
        spans_of[str(span["tid"])].append(span)
    for of_thread in spans_of.values():
        of_thread.sort(key=lambda span: int(span["end"]))
    points = {tid: [Point(span["clock"]) for span in spans_of[tid]]
              for tid in writers}
    counts = collections.Counter()
    for reader, values in got.items():
        reads = spans_of[reader]
        if len(reads) != len(values):
            raise ValueError("reader %s: %d values, %d spans" %
                             (reader, len(values), len(reads)))
        returned = {index: -1 for index in writers.values()}
        for value, read in zip(values, reads):
            writer, k = value >> 6, value & 63
            returned[writer] = max(returned[writer], k)
            after = Point(read["clock"])
            for tid, index in writers.items():
                for j, before in enumerate(points[tid]):
                    truth = "ordered" if j <= returned[index] else "unordered"
                    counts[(truth, order(before, after))] += 1
    return counts


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
    if len(argv) == 3 and argv[1] == "crowd":
        spans = [json.loads(line) for line in sys.stdin if line.strip()]
        with open(argv[2]) as output:
            counts = crowd(spans, output)
        for (truth, name), count in sorted(counts.items()):
            print(count, truth, name)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
