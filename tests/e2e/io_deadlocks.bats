#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Deadlocks through pipes, sockets and waits for children, between real
# processes, found by the real agent (docs/io-deadlocks.md); and programs
# that block in the same calls without being stuck, never reported.

load helpers

PYTHON=/usr/bin/python3

setup_file() {
	require_bpf
}

report() {
	jq -r "$1" <<<"$REPORT"
}

# The system call thread PID is in, by number; fails while it runs.
in_syscall() {
	local nr rest

	read -r nr rest <"/proc/$1/syscall" || return 1
	[ "$nr" = "$2" ]
}

# The one child of PID, once it has one.
child_of() {
	pgrep -P "$1" | head -n1
}

# Absence cannot be awaited, but a deadlock that forms later can: the agent
# looks at every blocked thread on each sweep and confirms what it finds
# after the same window, so once it has reported a subprocess deadlock
# started now, any report of a wait that began before has come first.
await_later_io_deadlock() {
	local out=$WORKLOAD_OUT pid=$WORKLOAD_PID

	start_workload io_deadlock subprocess cat
	await_deadlock "$WORKLOAD_PID"
	WORKLOAD_OUT=$out
	WORKLOAD_PID=$pid
}

expect_no_deadlock_of() {
	agent_never_said ".type == \"deadlock\" and (.pids | index($1))"
}

# The agent saw PID's wait last and found what it waits on: its process
# record, once PID is gone, counts it.
expect_io_wait_seen() {
	local pid=$1 children

	# Its children too: orphans would outlive the test.
	children="$(pgrep -P "$pid")" || true
	kill -KILL "$pid" $children
	wait_until 10 agent_said ".type == \"process\" and .pid == $pid and .io_waits >= 1"
}

# Both members write a full pipe whose reader is the other.
expect_subprocess_report() {
	local parent=$1 child

	child="$(child_of "$parent")"
	expect_eq threads "$(report '.threads | length')" 2
	expect_eq pids "$(report '.pids | sort | join(",")')" \
		"$(printf '%s\n' "$parent" "$child" | sort -n | paste -sd,)"
	expect_eq kinds "$(report '[.threads[].wait.kind] | unique | join(",")')" pipe-write
	expect_eq calls "$(report '[.threads[].wait.syscall] | unique | join(",")')" write
	# Two pipes, each full, each read only by the other process.
	expect_eq pipes "$(report '[.threads[].wait.inode] | unique | length')" 2
	report '.threads[].wait.object' | grep -qE '^pipe:\[[0-9]+\]$'
	report '.threads[].wait.queued_bytes' | while read -r bytes; do
		[ "$bytes" -gt 0 ]
	done
	expect_eq "parent's reader" "$(report ".threads[] | select(.pid == $parent) |
		.wait.other_end.held_by | map(.pid) | join(\",\")")" "$child"
	expect_eq "child's reader" "$(report ".threads[] | select(.pid == $child) |
		.wait.other_end.held_by | map(.pid) | join(\",\")")" "$parent"
	expect_eq "child's fd" "$(report ".threads[] | select(.pid == $child) | .wait.fd")" 1
	expect_eq rule "$(report '[.threads[].wait.other_end.rule] | unique | join(",")')" holders
	# Each waits on the other, round the cycle.
	expect_eq "parent's holder" "$(report ".threads[] | select(.pid == $parent) | .holder.pid")" "$child"
	expect_eq "child's holder" "$(report ".threads[] | select(.pid == $child) | .holder.pid")" "$parent"
	# Where each waits: in libc's write, called from the program.
	report '.threads[].stack[0].function' | grep -q write
	report '[.threads[].wait.blocked_ms] | min' | awk '{ exit !($1 > 0) }'
}

@test "the subprocess pipe deadlock in C: both writers, their pipes, the other ends and stacks" {
	start_agent
	start_workload io_deadlock subprocess cat
	await_deadlock "$WORKLOAD_PID"

	expect_subprocess_report "$WORKLOAD_PID"
	report ".threads[] | select(.pid == $WORKLOAD_PID) | .stack[].function" |
		grep -qx write_all
	report ".threads[] | select(.pid == $WORKLOAD_PID) | .stack[] |
		select(.function == \"subprocess\") | \"\(.file):\(.line)\"" |
		grep -q 'io_deadlock.c:[0-9]'
	# The same for people, on stderr.
	grep -q "DEADLOCK: 2 threads blocked in a cycle" "$AGENT_ERR"
	grep -qE "waits in write\(\) on pipe:\[[0-9]+\] \(fd [0-9]+\), [0-9]+ bytes untaken, for room; its read end is held only by pid [0-9]+ \(cat\)" "$AGENT_ERR"
}

@test "the subprocess pipe deadlock in python3" {
	start_agent
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/python.out"
	"$PYTHON" "$ROOT/tests/workloads/subprocess_deadlock.py" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PID=$!
	WORKLOAD_PIDS="$WORKLOAD_PID"
	wait_until 10 grep -q '^blocking' "$WORKLOAD_OUT"
	await_deadlock "$WORKLOAD_PID"

	expect_subprocess_report "$WORKLOAD_PID"
	expect_eq comms "$(report '[.threads[].process_comm] | sort | join(",")')" cat,python3
}

@test "a parent waits for its child, which fills the pipe only the parent reads" {
	start_agent
	start_workload io_deadlock wait-child
	await_deadlock "$WORKLOAD_PID"

	expect_eq threads "$(report '.threads | length')" 2
	expect_eq kinds "$(report '[.threads[].wait.kind] | sort | join(",")')" child-exit,pipe-write
	expect_eq child "$(report '.threads[] | select(.wait.kind == "child-exit") | .wait.child_pid')" \
		"$(report '.threads[] | select(.wait.kind == "pipe-write") | .pid')"
	expect_eq rule "$(report '.threads[] | select(.wait.kind == "child-exit") | .wait.other_end.rule')" child
}

@test "a cycle of a mutex, a pipe and a join in one process" {
	start_agent
	start_workload io_deadlock pipe-mutex
	await_deadlock "$WORKLOAD_PID"

	expect_eq threads "$(report '.threads | length')" 3
	expect_eq pids "$(report '.pids | join(",")')" "$WORKLOAD_PID"
	expect_eq kinds "$(report '[.threads[].wait.kind] | sort | join(",")')" mutex,pipe-read,thread-exit
	# The reader holds the mutex the only writer waits for.
	expect_eq "mutex holder" "$(report '.threads[] | select(.wait.kind == "mutex") | .holder.tid')" \
		"$(report '.threads[] | select(.wait.kind == "pipe-read") | .tid')"
	expect_eq "pipe empty" "$(report '.threads[] | select(.wait.kind == "pipe-read") | .wait.queued_bytes')" 0
	report '.threads[] | select(.wait.kind == "pipe-read") | .stack[].function' |
		grep -qx read_holding_the_mutex
}

# A's handler holds a mutex while it calls B; B's handler calls A back; A's
# second handler waits for the mutex.
expect_rpc_cycle() {
	local transport=$1

	expect_eq threads "$(report '.threads | length')" 3
	expect_eq servers "$(report '.pids | sort | join(",")')" "$(pgrep -P "$WORKLOAD_PID" | sort -n | paste -sd,)"
	expect_eq behind "$(report '[.blocked_behind[].pid] | join(",")')" "$WORKLOAD_PID"
	expect_eq "behind, reading" "$(report '.blocked_behind[0].wait.kind')" socket-read
	expect_eq kinds "$(report '[.threads[].wait.kind] | sort | join(",")')" \
		mutex,socket-read,socket-read
	expect_eq transport "$(report '[.threads[].wait.socket.type // empty] | unique | join(",")')" "$transport"
	expect_eq rule "$(report '[.threads[].wait.other_end.rule // empty] | unique | join(",")')" serving-thread
	# Each read waits on the one thread serving the other end, round the
	# cycle: every holder is a member.
	report '[.threads[].tid] as $members | all(.threads[]; .holder.tid as $h | $members | index($h))' |
		grep -qx true
	report '.threads[] | select(.wait.kind == "socket-read") | .wait.other_end.held_by[0].tid' |
		while read -r tid; do [ "$tid" != null ]; done
	report '.threads[] | select(.wait.kind == "mutex") | .stack[].function' | grep -qx serve_a
}

@test "an RPC cycle over unix sockets, with --channel-edges: mutex, socket, socket" {
	# Each handler finds its request waiting: only the reads' own hooks
	# see which thread took it in.
	start_agent --channel-edges
	start_workload io_deadlock rpc unix
	# The client, the workload itself, only waits behind the cycle of
	# its two servers.
	await_deadlock "$(child_of "$WORKLOAD_PID")"

	expect_rpc_cycle unix-stream
}

@test "an RPC cycle over loopback TCP, with --http: the serving threads by their connections" {
	start_agent --http
	start_workload io_deadlock rpc tcp
	# The client, the workload itself, only waits behind the cycle of
	# its two servers.
	await_deadlock "$(child_of "$WORKLOAD_PID")"

	expect_rpc_cycle tcp
	report '.threads[] | select(.wait.kind == "socket-read") | .wait.socket.remote' |
		grep -qE '^127\.0\.0\.1:[0-9]+$'
}

@test "not a deadlock: a writer on a full pipe whose reader sleeps (yes | sleep)" {
	local writer

	start_agent
	start_workload io_deadlock sleepy-reader
	writer=$WORKLOAD_PID
	wait_until 10 in_syscall "$writer" 1
	await_later_io_deadlock

	expect_no_deadlock_of "$writer"
	expect_io_wait_seen "$writer"
}

@test "not a deadlock: a server idle in epoll_wait() on a connection whose client sleeps" {
	local server

	start_agent
	start_workload io_deadlock epoll-idle
	wait_until 10 child_of "$WORKLOAD_PID"
	server="$(child_of "$WORKLOAD_PID")"
	wait_until 10 eval 'in_syscall "$server" 232 || in_syscall "$server" 281'
	await_later_io_deadlock

	expect_no_deadlock_of "$WORKLOAD_PID"
	expect_io_wait_seen "$server"
}

@test "not a deadlock: a client waiting on a slow server" {
	local client

	start_agent
	start_workload io_deadlock slow-server
	client=$WORKLOAD_PID
	wait_until 10 in_syscall "$client" 0
	await_later_io_deadlock

	expect_no_deadlock_of "$client"
	expect_io_wait_seen "$client"
}

@test "not a deadlock: the subprocess deadlock ended by the parent's alarm()" {
	start_agent
	start_workload io_deadlock alarm-timeout 3
	wait_until 10 grep -q '^timed out' "$WORKLOAD_OUT"
	await_later_io_deadlock

	expect_no_deadlock_of "$WORKLOAD_PID"
}

@test "not a deadlock: a read of a pipe only a SIGCHLD handler writes (the self-pipe trick)" {
	start_agent
	# Its child exits after 3 s: the read stands unchanged for twice
	# what finding and confirming it takes.
	start_workload io_deadlock self-pipe 3
	wait_until 10 grep -q '^woken' "$WORKLOAD_OUT"
	await_later_io_deadlock

	expect_no_deadlock_of "$WORKLOAD_PID"
	# It was seen, resolved, and judged.
	wait_until 10 agent_said ".type == \"process\" and .pid == $WORKLOAD_PID and .io_waits >= 1"
}

@test "not a deadlock: busy pipelines and processes playing ping-pong" {
	local pipeline

	start_agent
	start_workload io_deadlock ping-pong 100000000
	bash -c 'seq 1 100000000 | gzip -1 | cat >/dev/null' &
	pipeline=$!
	WORKLOAD_PIDS="$WORKLOAD_PIDS $pipeline"
	await_later_io_deadlock

	expect_no_deadlock_of "$WORKLOAD_PID"
	for pid in $(pgrep -P "$pipeline") "$pipeline"; do
		expect_no_deadlock_of "$pid"
	done
	# Both still at it: the agent judged them while they ran.
	kill -0 "$WORKLOAD_PID" "$pipeline"
}
