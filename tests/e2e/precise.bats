#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Precise mode: uprobes on the mutex API of chosen processes find lock-order
# inversions, deadlocks that did not happen this time but can.  The
# workload takes its locks only when told to, after the probes are in.

load helpers

setup_file() {
	require_bpf
}

teardown() {
	exec {GO}>&- 2>/dev/null || true
	e2e_teardown
}

# start_paused NAME ARGS...: starts a workload that waits for a line on
# stdin before it does its work; go() sends it.
start_paused() {
	local fifo="$BATS_TEST_TMPDIR/go.$RANDOM"

	mkfifo "$fifo"
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/$1.out"
	"$WORKLOADS/$1" "${@:2}" <"$fifo" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PID=$!
	WORKLOAD_PIDS="$WORKLOAD_PIDS $WORKLOAD_PID"
	exec {GO}>"$fifo"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
}

go() {
	echo go >&"$GO"
	exec {GO}>&-
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
}

inversions_of() {
	agent_records ".type == \"lock_order_inversion\" and .pid == $1"
}

@test "opposite lock orders in two threads are a potential deadlock, with both stacks" {
	local report

	start_paused lock_order inverted
	start_agent --precise "$WORKLOAD_PID"
	go
	wait_until 10 agent_said ".type == \"lock_order_inversion\" and .pid == $WORKLOAD_PID"
	stop_agent
	expect_eq reports "$(inversions_of "$WORKLOAD_PID" | wc -l)" 1
	report="$(inversions_of "$WORKLOAD_PID")"
	jq -e '.orders | length == 2' <<<"$report" >/dev/null
	# Each order names where both mutexes were taken, in the program.
	jq -e '[.orders[] | .first.stack, .then.stack | [.[].function] |
		any(. == "transfer_a_to_b" or . == "transfer_b_to_a")] | all' <<<"$report" >/dev/null
	jq -e '[.orders[].then.stack[] | select(.function == "transfer_b_to_a") |
		.file | endswith("lock_order.c")] | any' <<<"$report" >/dev/null
	# The two orders cross: each one's second mutex is the other's first.
	jq -e '.orders[0].then.mutex == .orders[1].first.mutex and
		.orders[1].then.mutex == .orders[0].first.mutex' <<<"$report" >/dev/null
	grep -q "POTENTIAL DEADLOCK: pid $WORKLOAD_PID (lock_order)" "$AGENT_ERR"
	agent_never_said ".type == \"deadlock\" and (.pids | index($WORKLOAD_PID))"
}

@test "one lock order, a trylock that backs off, and a reused address are fine" {
	local mode

	for mode in consistent trylock reuse; do
		start_paused lock_order "$mode"
		start_agent --precise "$WORKLOAD_PID"
		go
		stop_agent
		# The probes did fire: the calls were seen.
		[ "$(agent_records '.type == "summary"' | jq '.events.lock_call')" -ge 4 ]
		if [ -n "$(inversions_of "$WORKLOAD_PID")" ]; then
			echo "$mode: $(inversions_of "$WORKLOAD_PID")" >&2
			return 1
		fi
	done
}

@test "--precise COMM follows processes started later" {
	start_agent -v --precise lock_order
	start_paused lock_order inverted
	# The probes go in when the agent sees the exec.
	wait_until 10 grep -q "probes on the mutex API of pid $WORKLOAD_PID" "$AGENT_ERR"
	go
	wait_until 10 agent_said ".type == \"lock_order_inversion\" and .pid == $WORKLOAD_PID"
}

@test "deadlocks are still found in precise mode" {
	start_agent --precise abba
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
}
