#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Programs that block a lot and never deadlock must never be reported.  Each
# test also checks the agent really watched the program (its futex waits
# were counted), so a blind agent cannot pass.

load helpers

setup_file() {
	require_bpf
}

# Runs a workload to its end under the agent, then stops the agent.
run_to_completion() {
	start_workload "$@"
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
	wait_until 10 agent_said ".type == \"process\" and .pid == $WORKLOAD_PID"
	stop_agent
	PROCESS="$(agent_records ".type == \"process\" and .pid == $WORKLOAD_PID")"
}

# About this workload only: whatever else runs on the machine is not ours.
# Neither a deadlock nor a stall of it, nor of the processes it names.
expect_no_deadlock() {
	local pid

	for pid in "$WORKLOAD_PID" ${1:-}; do
		agent_never_said "(.type == \"deadlock\" and (.pids | index($pid))) or
			(.type == \"stall\" and .pid == $pid)" || return 1
	done
}

process_stat() {
	jq -r "$1" <<<"$PROCESS"
}

@test "heavy contention with one lock order, 32 threads for 90 s" {
	start_agent
	run_to_completion contention 32 4 90
	expect_no_deadlock
	# Contended for real: many thousands of lock waits seen.
	[ "$(process_stat .lock_waits)" -gt 10000 ]
	[ "$(process_stat .wait_ns)" -gt 0 ]
	agent_said '.type == "summary" and .kernel_drops == 0'
}

@test "opposite lock orders made safe by trylock and back-off" {
	start_agent
	run_to_completion trylock 10
	expect_no_deadlock
	[ "$(process_stat .lock_waits)" -gt 0 ]
	grep -q '^backoffs [1-9]' "$WORKLOAD_OUT"
}

@test "producers and consumers on condition variables" {
	start_agent
	run_to_completion condvar 10
	expect_no_deadlock
	# Condition variable waits are futex waits, but not lock waits.
	[ "$(process_stat .futex_waits)" -gt "$(process_stat .lock_waits)" ]
}

@test "semaphores, posted and timed out" {
	start_agent
	run_to_completion semaphore 10
	expect_no_deadlock
	# Semaphores have no owner; only the final pthread_join() calls wait
	# for a thread.
	[ "$(process_stat .futex_waits)" -gt 100 ]
	[ "$(process_stat .lock_waits)" -le 4 ]
}

# Runs each workload (a command line per argument) to its end under one
# agent each, and expects no deadlock of any: the same programs as the
# deadlocks of deadlocks.bats, their locks taken in one order.
expect_ordered_runs_clean() {
	local run

	for run in "$@"; do
		start_agent --stall-ms 200
		# shellcheck disable=SC2086 # a command line
		echo "run: $run" >&2
		run_to_completion $run
		expect_no_deadlock
		# Watched for real: its waits, at least its join, were seen.
		[ "$(process_stat .futex_waits)" -ge 1 ]
	done
}

@test "read-write locks and C++ locks taken in one order" {
	expect_ordered_runs_clean "rwlock writers ordered" "rwlock reader ordered" \
		"rwlock readers ordered" "cxx_locks shared ordered" "cxx_locks mutex ordered"
}

@test "musl mutexes taken in one order" {
	expect_ordered_runs_clean "abba-musl errorcheck ordered" \
		"abba-musl-static recursive ordered" "abba-musl normal ordered"
}

@test "semaphores, CPython and Rust locks waited for in one order" {
	expect_ordered_runs_clean "stall ordered"
	start_agent --stall-ms 200
	start_program python3 "$ROOT/tests/workloads/py_locks.py" ordered
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
	stop_agent
	expect_no_deadlock
	expect_ordered_runs_clean "rust_locks ordered"
}

@test "waiting is not a stall: an idle pool beside a sleeping, polling or timed thread; shared memory" {
	local mode children pid

	for mode in pool poll timed; do
		start_agent --stall-ms 200
		# Blocked for 1.5 s: seven windows.
		run_to_completion stall "$mode" 1.5
		expect_no_deadlock
		[ "$(process_stat .futex_waits)" -ge 1 ]
	done
	# Two processes, each blocked on a semaphore in memory they share,
	# which a third posts in the end.
	start_agent --stall-ms 200
	start_workload stall pshared 1.5
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
	children="$(awk '/^children/ { print $2, $3 }' "$WORKLOAD_OUT")"
	for pid in $children; do
		wait_until 10 agent_said ".type == \"process\" and .pid == $pid and .futex_waits >= 1"
	done
	stop_agent
	# shellcheck disable=SC2086 # two pids
	expect_no_deadlock "$children"
}
