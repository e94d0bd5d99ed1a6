#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make bench: knotscope's cost, side by side in one run, as ratios to the
# same workload without any tracing, next to the "uprobe on every lock"
# approach; and how fast deadlocks are reported.  Each configuration runs
# REPS times, interleaved with the others so drift hits all alike; the
# median is reported.  Results go to stdout and build/bench/results.md.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUILD="$ROOT/build"
KNOTSCOPE="$BUILD/knotscope"
LOCKBENCH="$BUILD/workloads/lockbench"
OUT="$BUILD/bench"
REPS="${REPS:-5}"
THREADS="${THREADS:-4}"
# Lock/unlock pairs per thread; the uprobe peer gets fewer (it is ~100x
# slower), which is fair because the figure compared is the cost per pair.
OPS="${OPS:-5000000}"
OPS_UPROBE="${OPS_UPROBE:-200000}"
DEADLOCKS="${DEADLOCKS:-40}"
LIBC="$(ldd "$LOCKBENCH" | awk '/libc\.so/ { print $3 }')"

mkdir -p "$OUT"
AGENT_PID=

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null || true
}
trap cleanup EXIT

median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

percentile() {
	sort -g | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'
}

# Prints ns per lock/unlock pair.
lockbench() {
	"$LOCKBENCH" "$@" | awk '{ print $2 }'
}

start_agent() {
	local json="$OUT/agent.jsonl"

	: >"$json"
	"$KNOTSCOPE" --json "$json" "$@" 2>>"$OUT/agent.err" &
	AGENT_PID=$!
	until grep -q '"type":"ready"' "$json" 2>/dev/null; do
		kill -0 "$AGENT_PID" || { cat "$OUT/agent.err" >&2; exit 1; }
		sleep 0.05
	done
}

stop_agent() {
	kill -INT "$AGENT_PID"
	wait "$AGENT_PID"
	AGENT_PID=
}

# The agent's CPU time so far, in seconds.
agent_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' \
		/proc/"$AGENT_PID"/stat
}

run_uprobe_peer() {
	local mode=$1 script="$OUT/uprobe_every_lock.bt"

	sed "s|LIBC|$LIBC|g" "$ROOT/tests/bench/uprobe_every_lock.bt" >"$script"
	bpftrace -q -c "$LOCKBENCH $mode $THREADS $OPS_UPROBE" "$script" 2>/dev/null |
		awk '/^ns_per_op/ { print $2 }'
}

declare -A samples
for rep in $(seq "$REPS"); do
	for mode in private shared; do
		samples[$mode,none]+="$(lockbench "$mode" "$THREADS" "$OPS") "
		start_agent
		cpu_before="$(agent_cpu)"
		samples[$mode,knotscope]+="$(lockbench "$mode" "$THREADS" "$OPS") "
		samples[$mode,agent_cpu]+="$(awk -v a="$(agent_cpu)" -v b="$cpu_before" 'BEGIN { print a - b }') "
		stop_agent
		samples[$mode,uprobes]+="$(run_uprobe_peer "$mode") "
	done
	echo "rep $rep/$REPS done" >&2
done

# Detection latency: DEADLOCKS fresh AB/BA deadlocks under one agent.
start_agent
for _ in $(seq "$DEADLOCKS"); do
	"$BUILD/workloads/abba" >"$OUT/abba.out" &
	abba=$!
	until grep -q "\"pids\":\[$abba\]" "$OUT/agent.jsonl"; do
		sleep 0.02
	done
	kill -9 "$abba"
	wait "$abba" 2>/dev/null || true
done
stop_agent
latencies="$(jq -r 'select(.type == "deadlock") | .detection_latency_ms' "$OUT/agent.jsonl")"

{
	echo "# knotscope benchmark"
	echo
	echo "$(uname -r), $(nproc) CPUs, $THREADS threads, median of $REPS interleaved runs."
	echo
	echo "| workload | no tracing (ns/pair) | knotscope | uprobe on every lock |"
	echo "|---|---|---|---|"
	for mode in private shared; do
		base="$(tr ' ' '\n' <<<"${samples[$mode,none]}" | grep . | median)"
		ours="$(tr ' ' '\n' <<<"${samples[$mode,knotscope]}" | grep . | median)"
		peer="$(tr ' ' '\n' <<<"${samples[$mode,uprobes]}" | grep . | median)"
		label="uncontended (own mutex per thread)"
		[ "$mode" = shared ] && label="contended (one shared mutex)"
		awk -v l="$label" -v b="$base" -v o="$ours" -v p="$peer" 'BEGIN {
			printf "| %s | %.1f | %.1f ns, %.3fx | %.1f ns, %.1fx |\n", l, b, o, o / b, p, p / b }'
	done
	echo
	for mode in private shared; do
		echo "Agent CPU time during the $mode run (s): $(tr ' ' '\n' <<<"${samples[$mode,agent_cpu]}" | grep . | median)"
	done
	echo
	echo "Detection latency over $(wc -l <<<"$latencies") AB/BA deadlocks (last thread blocking to report):"
	echo "median $(median <<<"$latencies") ms, p99 $(percentile 99 <<<"$latencies") ms, max $(percentile 100 <<<"$latencies") ms"
} | tee "$OUT/results.md"
