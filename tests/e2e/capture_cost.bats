#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# What the kernel side attaches, and so who pays for it: by default no
# system call at all; with the options that need them, only the calls they
# watch; and the ways of hooking system calls are chosen, and fallen back
# from, as docs/capture-cost.md says.
# What is attached and counts, not timings: these hold on a loaded machine.

load helpers

setup_file() {
	require_bpf
}

setup() {
	e2e_setup
	STATS_BEFORE="$(sysctl -n kernel.bpf_stats_enabled)"
}

teardown() {
	e2e_teardown
	sysctl -q kernel.bpf_stats_enabled="$STATS_BEFORE"
}

# The ids of the agent's BPF programs, as a JSON array.
agent_program_ids() {
	cat /proc/"$AGENT_PID"/fdinfo/* 2>/dev/null | awk '/^prog_id:/ { print $2 }' | jq -s unique
}

# The agent's attachments as the kernel lists them, each with its
# program's name: one JSON object per line.
agent_links() {
	bpftool -j prog show >"$BATS_TEST_TMPDIR/progs.json"
	bpftool -j link show | jq -c --argjson ids "$PROG_IDS" --slurpfile progs "$BATS_TEST_TMPDIR/progs.json" '
		.[] | select(.prog_id as $id | $ids | index($id)) |
		.prog_id as $id | . + { prog: ($progs[0][] | select(.id == $id) | .name) }'
}

# Runs of the agent's scheduler programs, summed.
block_program_runs() {
	bpftool -j prog show | jq --argjson ids "$PROG_IDS" '[.[] | select(.id as $id | $ids | index($id)) |
		select(.name | test("^ks_(block|woken)$")) | .run_cnt // 0] | add // 0'
}

# Runs of the agent's programs whose names match REGEX, summed.
program_runs() {
	bpftool -j prog show | jq --argjson ids "$PROG_IDS" --arg re "$1" '[.[] | select(.id as $id | $ids | index($id)) |
		select(.name | test($re)) | .run_cnt // 0] | add // 0'
}

# Runs of the agent's programs that hook system calls, summed.
syscall_program_runs() {
	program_runs '^ks_(enter|exit|sys)_'
}

# Counts, not timings: what the kernel runs for a system call is decided by
# what is attached to it, which the kernel lists.
@test "by default no system call is hooked: waits are taken from the scheduler" {
	local iterations=2000 before after

	start_agent --listen off --bpf-stats
	agent_said '.type == "ready" and .syscall_hooks == "none" and
		.wait_hooks == "sched" and .channel_edges == false'
	PROG_IDS="$(agent_program_ids)"
	agent_links >"$BATS_TEST_TMPDIR/links"
	# Any syscall tracepoint, generic or per call, would take every task of
	# the machine off the kernel's fast system call path.
	jq -e -s 'length > 5 and all(.[]; .type != "perf_event" and
		((.tp_name // "") | test("^sys_(enter|exit)$") | not))' "$BATS_TEST_TMPDIR/links"
	jq -e -s 'any(.[]; .prog == "ks_block" and .tp_name == "sched_switch") and
		any(.[]; .prog == "ks_woken" and .tp_name == "sched_waking")' "$BATS_TEST_TMPDIR/links"
	# A pipe ping-pong between two threads blocks and wakes: the scheduler
	# programs see it.
	before="$(block_program_runs)"
	"$WORKLOADS/hb_scenes" pingpong "$iterations" >/dev/null
	after="$(block_program_runs)"
	[ "$((after - before))" -ge "$((2 * iterations))" ]
	stop_agent
}

@test "--channel-edges and --wait-hooks syscall hook each system call they watch on its own tracepoint" {
	local iterations=10000 before after

	start_agent --listen off --channel-edges --wait-hooks syscall --bpf-stats
	agent_said '.type == "ready" and .syscall_hooks == "tracepoint" and .channel_edges'
	PROG_IDS="$(agent_program_ids)"
	agent_links >"$BATS_TEST_TMPDIR/links"
	# Nothing on the hooks every system call of the machine passes through.
	jq -e -s 'length > 20 and all(.[]; (.tp_name // "") | test("^sys_(enter|exit)$") | not)' \
		"$BATS_TEST_TMPDIR/links"
	# Each system call program is on a tracepoint of its own (perf_event
	# links), named after the call it watches; getppid() is none of them.
	jq -e -s '[.[] | select(.type == "perf_event")] | length > 20 and
		all(.[]; .prog | test("^ks_(enter|exit)_(futex|futex_waitv|futex_wait|futex_wake|futex_requeue|restart_syscall|read|readv|recvfrom|recvmsg|write|writev|sendto|sendmsg|close|dup2|dup3|eventfd2|wait4|waitid)$"))' \
		"$BATS_TEST_TMPDIR/links"
	jq -e -s '[.[] | select(.type == "perf_event")] | length ==
		([.[] | select(.prog | test("^ks_(enter|exit)_"))] | length)' "$BATS_TEST_TMPDIR/links"
	# And the calls they watch do run them: three or more per round trip of
	# a pipe (write, read and its return).
	before="$(syscall_program_runs)"
	"$WORKLOADS/syscalltax" pipe "$iterations" >/dev/null
	after="$(syscall_program_runs)"
	[ "$((after - before))" -ge "$((3 * iterations))" ]
	stop_agent
}

@test "--http hooks no system call: the socket layer's tracepoints, which pipes never reach" {
	local iterations=10000 before after

	start_agent --listen off --http --bpf-stats
	agent_said '.type == "ready" and .syscall_hooks == "none"'
	PROG_IDS="$(agent_program_ids)"
	agent_links >"$BATS_TEST_TMPDIR/links"
	# No tracepoint of any system call, generic or per call.
	jq -e -s 'length > 5 and all(.[]; .type != "perf_event" and
		((.tp_name // "") | test("^sys_(enter|exit)$") | not) and
		(.prog | test("^ks_(enter|exit|sys)_") | not))' "$BATS_TEST_TMPDIR/links"
	jq -e -s '[.[] | .prog] as $p | ["ks_sock_recv", "ks_sock_send",
		"ks_sock_destroy", "ks_sock_state_change"] | all(.[]; . as $n | $p | index($n))' \
		"$BATS_TEST_TMPDIR/links"
	# A pipe ping-pong never runs them (what other runs on the machine
	# send on their sockets may, a little)...
	before="$(program_runs '^ks_sock_')"
	"$WORKLOADS/syscalltax" pipe "$iterations" >/dev/null
	after="$(program_runs '^ks_sock_')"
	[ "$((after - before))" -lt "$iterations" ]
	# ... a TCP ping-pong runs them at each send and each receive.
	before="$after"
	python3 -c '
import socket, sys
server = socket.create_server(("127.0.0.1", 0))
client = socket.create_connection(server.getsockname())
accepted, _ = server.accept()
for _ in range(int(sys.argv[1])):
    client.send(b"x")
    accepted.recv(1)
' "$iterations"
	after="$(program_runs '^ks_sock_')"
	[ "$((after - before))" -ge "$((2 * iterations))" ]
	stop_agent
}

@test "without tracefs mounted, the agent mounts it and says so" {
	# In a mount namespace of its own: the machine's tracefs stays.
	unshare -m --propagation private bash -c '
		umount /sys/kernel/debug/tracing 2>/dev/null
		umount /sys/kernel/debug 2>/dev/null
		umount /sys/kernel/tracing 2>/dev/null
		[ ! -e /sys/kernel/tracing/trace ] || exit 3
		exec "$0" --json "$1" --listen off --duration 1 --channel-edges' \
		"$KNOTSCOPE" "$BATS_TEST_TMPDIR/agent.jsonl" 2>"$BATS_TEST_TMPDIR/agent.err"
	grep -q "mounted tracefs at /sys/kernel/tracing, for the syscall tracepoints" \
		"$BATS_TEST_TMPDIR/agent.err"
	jq -e -s 'any(.[]; .type == "ready" and .syscall_hooks == "tracepoint")' \
		"$BATS_TEST_TMPDIR/agent.jsonl"
}

@test "where tracefs cannot be had, sys_enter hooks catch the deadlock, and it is said" {
	local ns_root="$BATS_TEST_TMPDIR/btf"

	mkdir -p "$ns_root"
	start_workload abba
	# /sys/kernel hidden under an empty tmpfs but for its BTF: nowhere to
	# mount tracefs.
	AGENT_JSON="$BATS_TEST_TMPDIR/agent.jsonl"
	AGENT_ERR="$BATS_TEST_TMPDIR/agent.err"
	unshare -m --propagation private bash -c '
		mount --bind /sys/kernel/btf "$2" &&
		mount -t tmpfs none /sys/kernel &&
		mkdir /sys/kernel/btf &&
		mount --bind "$2" /sys/kernel/btf || exit 3
		exec "$0" --json "$1" --pid "$3" --wait-hooks syscall' \
		"$KNOTSCOPE" "$AGENT_JSON" "$ns_root" "$WORKLOAD_PID" 2>"$AGENT_ERR" &
	AGENT_PID=$!
	wait_until 30 agent_said '.type == "ready"'
	agent_said '.type == "ready" and .syscall_hooks == "sys_enter"'
	grep -q "cannot mount tracefs at /sys/kernel/tracing: .*: system calls are hooked through sys_enter/sys_exit" \
		"$AGENT_ERR"
	await_deadlock "$WORKLOAD_PID"
	stop_agent
}

@test "--syscall-hooks fentry: used where the kernel allows it, else a clear error" {
	local status=0

	"$KNOTSCOPE" --syscall-hooks fentry --channel-edges --listen off --duration 1 \
		--json "$BATS_TEST_TMPDIR/agent.jsonl" 2>"$BATS_TEST_TMPDIR/agent.err" || status=$?
	if [ "$status" -eq 0 ]; then
		jq -e -s 'any(.[]; .type == "ready" and .syscall_hooks == "fentry")' \
			"$BATS_TEST_TMPDIR/agent.jsonl"
	else
		[ "$status" -eq 1 ]
		grep -q "the kernel refused fentry programs" "$BATS_TEST_TMPDIR/agent.err"
	fi
}

@test "--syscall-hooks rejects what it does not know" {
	run "$KNOTSCOPE" --syscall-hooks kprobe
	[ "$status" -eq 2 ]
	[[ "$output" == *"--syscall-hooks"*"not fentry, tracepoint or sys_enter"* ]]
}

@test "--wait-hooks rejects what it does not know" {
	run "$KNOTSCOPE" --wait-hooks fentry
	[ "$status" -eq 2 ]
	[[ "$output" == *"--wait-hooks"*"not sched or syscall"* ]]
}
