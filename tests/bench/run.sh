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
REPS="${REPS:-11}"
THREADS="${THREADS:-$(nproc)}"
# Lock/unlock pairs per thread; the uprobe peer gets fewer (it is ~1000x
# slower), which is fair because the figure compared is the cost per pair.
OPS="${OPS:-10000000}"
# Contention needs more threads than CPUs and a critical section long
# enough to be preempted in: then a few percent of acquisitions block.
THREADS_CONTENDED="${THREADS_CONTENDED:-$((2 * $(nproc)))}"
OPS_CONTENDED="${OPS_CONTENDED:-1000000}"
CRITICAL_SPINS="${CRITICAL_SPINS:-200}"
OPS_HANDOFF="${OPS_HANDOFF:-200000}"
OPS_UPROBE="${OPS_UPROBE:-100000}"
DEADLOCKS="${DEADLOCKS:-50}"
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

# Prints the workload's CPU ns per operation: user and system time of its
# threads, which includes the BPF programs the kernel runs for them, and
# which other load on the machine does not inflate the way it does
# wall-clock time.  The hand-off ring runs on one CPU: across CPUs its cost
# is the wake-up latency of the machine's scheduler, which changes from run
# to run more than anything measured here.
lockbench() {
	local mode=$1

	case "$mode" in
	private) "$LOCKBENCH" private "$THREADS" "$OPS" ;;
	shared) "$LOCKBENCH" shared "$THREADS_CONTENDED" "$OPS_CONTENDED" "$CRITICAL_SPINS" ;;
	handoff) taskset -c 0 "$LOCKBENCH" handoff 2 "$OPS_HANDOFF" ;;
	esac | awk '{ print $2 }'
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

# The arguments of lockbench for a mode, with OPS pairs per thread.
bench_args() {
	case "$1" in
	private) echo "private $THREADS $2 0" ;;
	shared) echo "shared $THREADS_CONTENDED $2 $CRITICAL_SPINS" ;;
	esac
}

run_uprobe_peer() {
	local mode=$1 script="$OUT/uprobe_every_lock.bt"

	sed "s|LIBC|$LIBC|g" "$ROOT/tests/bench/uprobe_every_lock.bt" >"$script"
	# shellcheck disable=SC2046 # the arguments are words
	bpftrace -q -c "$LOCKBENCH $(bench_args "$mode" "$OPS_UPROBE")" "$script" 2>/dev/null |
		awk '/^cpu_ns_per_op/ { print $2 }'
}

# knotscope in precise mode on the workload: its probes attached before
# the workload starts, which waits on stdin until they are.
run_precise() {
	local mode=$1 fifo="$OUT/go" out="$OUT/precise.out" agent workload result

	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$out"
	# shellcheck disable=SC2046 # the arguments are words
	"$LOCKBENCH" $(bench_args "$mode" "$OPS_UPROBE") wait <"$fifo" >"$out" &
	workload=$!
	exec {go}>"$fifo"
	until grep -q '^started' "$out"; do sleep 0.02; done
	"$KNOTSCOPE" -v --precise "$(awk '/^started/ { print $2 }' "$out")" \
		2>"$OUT/precise.err" &
	agent=$!
	until grep -q 'probes on the mutex API' "$OUT/precise.err"; do
		kill -0 "$agent" || { cat "$OUT/precise.err" >&2; exit 1; }
		sleep 0.02
	done
	echo go >&"$go"
	exec {go}>&-
	wait "$workload"
	result="$(awk '/^cpu_ns_per_op/ { print $2 }' "$out")"
	kill -INT "$agent"
	wait "$agent"
	echo "$result"
}

MODES="private shared handoff"

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f\n", a / b }'
}

# Futex waits the agent saw in its last run.
agent_waits() {
	jq -r 'select(.type == "summary") | .events.wait_begin' "$OUT/agent.jsonl"
}

# Each repetition runs untraced, traced, untraced again, back to back: the
# traced run is compared with the mean of its two neighbours, and the two
# untraced runs with each other, which shows how noisy the machine is.
declare -A samples
for rep in $(seq "$REPS"); do
	for mode in $MODES; do
		before="$(lockbench "$mode")"
		start_agent
		cpu_before="$(agent_cpu)"
		traced="$(lockbench "$mode")"
		samples[$mode,agent_cpu]+="$(awk -v a="$(agent_cpu)" -v b="$cpu_before" 'BEGIN { print a - b }') "
		stop_agent
		samples[$mode,waits]+="$(agent_waits) "
		after="$(lockbench "$mode")"
		base="$(awk -v a="$before" -v b="$after" 'BEGIN { print (a + b) / 2 }')"
		samples[$mode,base]+="$base "
		samples[$mode,added]+="$(awk -v t="$traced" -v b="$base" 'BEGIN { print t - b }') "
		samples[$mode,knotscope]+="$(ratio "$traced" "$base") "
		samples[$mode,noise]+="$(ratio "$after" "$before") "
		[ "$mode" = handoff ] && continue
		samples[$mode,uprobes]+="$(ratio "$(run_uprobe_peer "$mode")" "$base") "
		samples[$mode,precise]+="$(ratio "$(run_precise "$mode")" "$base") "
	done
	echo "rep $rep/$REPS done" >&2
done

column() {
	tr ' ' '\n' <<<"${samples[$1]}" | grep .
}

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
	echo "Linux $(uname -r), $(nproc) CPUs, $THREADS threads, $REPS repetitions."
	echo "Cost per lock/unlock pair in CPU time of the workload; ratios to the"
	echo "untraced runs on either side (median, and [min, max] over repetitions)."
	echo
	echo "| workload | untraced ns/op | knotscope | knotscope --precise | uprobe on every lock (bpftrace) | untraced vs untraced (noise) |"
	echo "|---|---|---|---|---|---|"
	for mode in $MODES; do
		case "$mode" in
		private) label="uncontended: a mutex per thread, $THREADS threads" ;;
		shared) label="contended: one mutex for $THREADS_CONTENDED threads" ;;
		handoff) label="every op a blocking futex wait: 2 threads, 1 CPU" ;;
		esac
		if [ "$mode" = handoff ]; then
			peer="not run"
			precise="not run"
		else
			peer="$(printf '%.0fx [%.0f, %.0f]' "$(column "$mode,uprobes" | median)" \
				"$(column "$mode,uprobes" | percentile 0)" "$(column "$mode,uprobes" | percentile 100)")"
			precise="$(printf '%.1fx [%.1f, %.1f]' "$(column "$mode,precise" | median)" \
				"$(column "$mode,precise" | percentile 0)" "$(column "$mode,precise" | percentile 100)")"
		fi
		printf '| %s | %.1f | %.3fx [%.3f, %.3f] | %s | %s | %.3fx [%.3f, %.3f] |\n' \
			"$label" "$(column "$mode,base" | median)" \
			"$(column "$mode,knotscope" | median)" "$(column "$mode,knotscope" | percentile 0)" "$(column "$mode,knotscope" | percentile 100)" \
			"$precise" "$peer" \
			"$(column "$mode,noise" | median)" "$(column "$mode,noise" | percentile 0)" "$(column "$mode,noise" | percentile 100)"
	done
	echo
	echo "- cost of one blocking futex wait under knotscope (hand-off): +$(column handoff,added | median) ns"
	for mode in $MODES; do
		echo "- $mode: futex waits seen per traced run (median) $(column "$mode,waits" | median), agent CPU time per run $(column "$mode,agent_cpu" | median) s"
	done
	echo
	echo "Detection latency over $(wc -l <<<"$latencies") AB/BA deadlocks (last thread blocking to report):"
	echo "median $(median <<<"$latencies") ms, p99 $(percentile 99 <<<"$latencies") ms, max $(percentile 100 <<<"$latencies") ms"
} | tee "$OUT/results.md"
