#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Reads knotscope's /metrics with the Prometheus client library's own
text-format parser and compares it with the JSON API, which comes from the
same model.  Prints the parsed families as JSON; exits 1 on a failed check.

usage: metrics_check.py --base http://ADDR [--token T] [--expect-pid PID]
                        [--expect-deadlocks N]
"""
import argparse
import json
import math
import re
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def get(args, path):
    request = urllib.request.Request(args.base + path)
    if args.token:
        request.add_header("Authorization", "Bearer " + args.token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers.get("Content-Type"), response.read().decode()


def check(condition, what):
    if not condition:
        raise AssertionError("check failed: " + what)


def samples(families, name, **labels):
    """The samples called name whose labels include labels."""
    return [
        s
        for f in families
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def one(families, name, **labels):
    found = samples(families, name, **labels)
    check(len(found) == 1, f"one {name} with {labels}, found {len(found)}")
    return found[0].value


def check_histograms(families):
    """Cumulative buckets per series, ending in +Inf equal to _count."""
    for family in (f for f in families if f.type == "histogram"):
        series = {}
        for s in family.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, {"buckets": []})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append((float(s.labels["le"]), s.value))
            else:
                series[key][s.name[len(family.name) + 1:]] = s.value
        check(series, family.name + " has series")
        for key, found in series.items():
            buckets = sorted(found["buckets"])
            counts = [count for _, count in buckets]
            check(math.isinf(buckets[-1][0]), f"{family.name}{key} ends in +Inf")
            check(counts == sorted(counts), f"{family.name}{key} is cumulative")
            check(counts[-1] == found["count"], f"{family.name}{key}: +Inf = count")
            check(found["sum"] >= 0, f"{family.name}{key} has a sum")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token")
    parser.add_argument("--expect-pid")
    parser.add_argument("--expect-deadlocks", type=int)
    args = parser.parse_args()

    # Counters only grow: what /metrics says lies between two readings.
    before = json.loads(get(args, "/api/health")[1])
    content_type, text = get(args, "/metrics")
    after = json.loads(get(args, "/api/health")[1])
    processes = json.loads(get(args, "/api/processes")[1])["processes"]

    check(content_type.startswith("text/plain; version=0.0.4"), content_type)
    families = list(text_string_to_metric_families(text))
    for family in families:
        check(family.documentation, family.name + " has HELP")
        check(re.fullmatch(r"knotscope_[a-z0-9_]+|target_info", family.name),
              family.name)
    # The agent's own resource, as OpenTelemetry's Prometheus exporters
    # name it.
    check(samples(families, "target_info", service_name="knotscope"),
          "the agent's target_info")

    for kind, first in before["events"].items():
        value = one(families, "knotscope_agent_events_total", knotscope_event_kind=kind)
        check(first <= value <= after["events"][kind], f"events {kind}")
    deadlocks = one(families, "knotscope_agent_deadlocks_total")
    check(deadlocks == after["deadlocks"], "agent deadlocks as /api/health")
    if args.expect_deadlocks is not None:
        check(deadlocks == args.expect_deadlocks, "deadlocks as expected")
    for prog in after["bpf_programs"]:
        first = next(p for p in before["bpf_programs"] if p["name"] == prog["name"])
        runs = one(families, "knotscope_agent_bpf_run_count_total",
                   knotscope_bpf_program=prog["name"])
        check(first["run_count"] <= runs <= prog["run_count"], prog["name"] + " runs")
        seconds = one(families, "knotscope_agent_bpf_run_time_seconds_total",
                      knotscope_bpf_program=prog["name"])
        check(first["run_time_ns"] / 1e9 <= seconds <= prog["run_time_ns"] / 1e9,
              prog["name"] + " run time in seconds")

    if args.expect_pid:
        # A process whose threads are all blocked: its numbers stand still.
        process = next(p for p in processes if str(p["pid"]) == args.expect_pid)
        labels = {"process_pid": args.expect_pid, "service_name": process["comm"]}
        for metric, field in (("knotscope_futex_waits_total", "futex_waits"),
                              ("knotscope_lock_waits_total", "lock_waits"),
                              ("knotscope_deadlocks_total", "deadlocks")):
            check(one(families, metric, **labels) == process[field],
                  f"{metric} of {args.expect_pid} as /api/processes")

    check_histograms(families)
    json.dump([{"name": f.name, "type": f.type,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value}
                            for s in f.samples]} for f in families], sys.stdout)
    print()


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, StopIteration, OSError, ValueError) as error:
        print(error or "a process is missing from /api/processes", file=sys.stderr)
        sys.exit(1)
