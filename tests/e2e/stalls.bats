#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Whole-process hangs on locks that name no owner, found live by the real
# agent: each workload blocks every one of its threads for certain
# (barriers, not races), and the "stall" record must name every thread,
# what its wait most likely is, and where it waits.

load helpers

setup_file() {
	require_bpf
}

# Waits for the stall record of $1 and sets STALL to it.
await_stall() {
	wait_until 10 agent_said ".type == \"stall\" and .pid == $1" || {
		cat "$AGENT_ERR" >&2
		return 1
	}
	STALL="$(agent_records ".type == \"stall\" and .pid == $1" | head -n1)"
}

stall() {
	jq -r "$1" <<<"$STALL"
}

# Every thread's guess, sorted, comma-separated.
guesses() {
	stall '[.threads[].wait.guess] | sort | join(",")'
}

@test "sem_t: every thread waits on a semaphore nobody posts" {
	start_agent --stall-ms 300
	agent_said '.type == "ready" and .stall_ms == 300'
	start_workload stall sem
	await_stall "$WORKLOAD_PID"

	expect_eq threads "$(stall '.threads | length')" 2
	expect_eq "threads of the process" "$(stall '[.threads[].pid] | unique | join(",")')" "$WORKLOAD_PID"
	expect_eq guesses "$(guesses)" "sem_t,sem_t"
	expect_eq holders "$(stall '[.threads[].holder] | unique | join(",")')" ""
	expect_eq handlers "$(stall '.signal_handlers | length')" 0
	# What the kernel saw: the futex call, its words, since when.
	stall '.threads[].wait.futex_op' | grep -qx 'FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME'
	expect_eq "semaphore values" "$(stall '[.threads[].wait.futex_words[0]] | unique | join(",")')" 0x0
	stall '.threads[].wait.address' | grep -qE '^0x[0-9a-f]+$'
	awk -v ms="$(stall '.detection_latency_ms')" 'BEGIN { exit !(ms >= 300 && ms < 5000) }'
	awk -v ms="$(stall '[.threads[].wait.blocked_ms] | min')" 'BEGIN { exit !(ms >= 300) }'
	# Where: each thread's own function, past sem_wait.
	stall '.threads[].stack[].function // empty' | grep -qx worker_waits_first
	stall '.threads[].stack[].function // empty' | grep -qx wait_for_each_other
	grep -q "STALL: all 2 threads of pid $WORKLOAD_PID (stall)" "$AGENT_ERR"
	grep -q "waits for sem_t 0x[0-9a-f]* (no holder known)" "$AGENT_ERR"
	grep -q "signal handlers: none" "$AGENT_ERR"

	# Once, however long it lasts.
	sleep 1
	stop_agent
	expect_eq reports "$(agent_records ".type == \"stall\" and .pid == $WORKLOAD_PID" | wc -l)" 1
	agent_said '.type == "summary" and .stalls >= 1'
	agent_said ".type == \"summary\" and any(.processes[]; .pid == $WORKLOAD_PID and .stalls == 1)"
}

@test "the known false case: a thread only a signal handler's sem_post can wake" {
	start_agent --stall-ms 300
	start_workload stall signal
	await_stall "$WORKLOAD_PID"
	# Reported, and the record says what could still end it.
	stall '.signal_handlers[]' | grep -qx SIGUSR1
	grep -q "signal handlers: SIGUSR1 (a handler that posts or unlocks could still wake it)" "$AGENT_ERR"
	kill -USR1 "$WORKLOAD_PID"
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
}

@test "waits already blocked when knotscope started end when they are woken" {
	local events

	# Both threads blocked on semaphores before the agent: seeded waits.
	start_workload stall signal
	wait_until 10 futex_waiters "$WORKLOAD_PID" -eq 2
	start_agent --pid "$WORKLOAD_PID"
	agent_said '.type == "ready" and .already_blocked_waits == 2'
	kill -USR1 "$WORKLOAD_PID"
	wait "$WORKLOAD_PID"
	grep -q '^done' "$WORKLOAD_OUT"
	stop_agent
	# Every wait that began since has its end, and so have the two seeded.
	events="$(agent_records '.type == "summary"' | jq -c .events)"
	jq -e '.wait_end == .wait_begin + 2' <<<"$events" >/dev/null || {
		echo "events: $events" >&2
		return 1
	}
}

@test "musl normal mutexes, and a glibc writer waiting for a blocked reader" {
	start_agent --stall-ms 300
	start_workload abba-musl normal
	await_stall "$WORKLOAD_PID"
	expect_eq guesses "$(guesses)" "musl-mutex,musl-mutex"
	expect_eq kinds "$(stall '[.threads[].wait.kind] | unique | join(",")')" mutex
	expect_eq libc "$(stall '[.threads[].wait.libc] | unique | join(",")')" musl

	# The writer waits for one reader, which is blocked on a mutex the
	# writer holds: every thread is blocked, so the reader is among them.
	start_workload rwlock readers
	await_stall "$WORKLOAD_PID"
	expect_eq guesses "$(guesses)" "glibc-mutex,rwlock"
	stall '.threads[] | select(.wait.kind == "rwlock-write") | .wait.readers' | grep -qx 1
	grep -q "waits for rwlock 0x[0-9a-f]* held by 1 reader glibc does not name" "$AGENT_ERR"
	# The reader's own wait does have a holder: the writer.
	expect_eq "reader's holder" "$(stall '.threads[] | select(.wait.kind == "mutex") | .holder.tid')" \
		"$(stall '.threads[] | select(.wait.kind == "rwlock-write") | .tid')"
}

@test "CPython threading.Lock in opposite orders" {
	start_agent --stall-ms 300
	start_program python3 "$ROOT/tests/workloads/py_locks.py"
	await_stall "$WORKLOAD_PID"
	expect_eq guesses "$(guesses)" "cpython-lock,cpython-lock"
	stall '.threads[].stack[].function // empty' | grep -q PyThread_acquire_lock
}

@test "Rust std::sync::Mutex in opposite orders" {
	start_agent --stall-ms 300
	start_workload rust_locks
	await_stall "$WORKLOAD_PID"
	expect_eq guesses "$(guesses)" "rust-mutex,rust-mutex"
	stall '.threads[].stack[].function // empty' | grep -q '^rust_locks::take'
}
