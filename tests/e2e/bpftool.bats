#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# --pin: the agent's maps and programs in the BPF filesystem under their
# own names, read with bpftool as an operator would, and gone after a clean
# exit unless --keep-pins.

load helpers

PINS=/sys/fs/bpf/knotscope

setup_file() {
	require_bpf
	command -v bpftool >/dev/null || BPFTOOL=/usr/sbin/bpftool
	export BPFTOOL="${BPFTOOL:-bpftool}"
}

teardown() {
	e2e_teardown
	[ -z "${OTHER_PID:-}" ] || { kill -KILL "$OTHER_PID"; wait "$OTHER_PID"; } || true
	rm -rf "$PINS" "$PINS-a" "$PINS-b"
	if [ -n "${BPFFS:-}" ] && mountpoint -q "$BPFFS"; then
		umount "$BPFFS"
	fi
}

# The per-CPU counters of pinned ks_stats, summed: "submitted" per kind.
submitted() {
	"$BPFTOOL" -j map dump pinned "$PINS/ks_stats" |
		jq '[.[0].formatted.values[].value.submitted] | transpose | map(add)'
}

@test "maps and programs are pinned by name, with typed values from BTF" {
	local kinds

	start_agent --pin --listen off
	start_workload abba
	await_deadlock "$WORKLOAD_PID"

	# Programs: by name, one per handler of the attach mode in use (the
	# waits taken from the scheduler, as tp_btf like the others); no
	# system call program is loaded by default.
	"$BPFTOOL" -j prog show pinned "$PINS/ks_block" >"$BATS_TEST_TMPDIR/prog"
	jq -e '.name == "ks_block" and .type == "tracing" and .btf_id > 0' "$BATS_TEST_TMPDIR/prog"
	[ ! -e "$PINS/ks_enter_futex" ]
	expect_eq ks_fork "$("$BPFTOOL" -j prog show pinned "$PINS/ks_fork" | jq -r .type)" tracing
	for prog in ks_woken ks_fork ks_exec ks_exit ks_rename; do
		expect_eq "$prog" "$("$BPFTOOL" -j prog show pinned "$PINS/$prog" | jq -r .name)" "$prog"
	done
	# Maps: by name, with their types.
	expect_eq ks_events "$("$BPFTOOL" -j map show pinned "$PINS/ks_events" | jq -r .type)" ringbuf
	expect_eq ks_stats "$("$BPFTOOL" -j map show pinned "$PINS/ks_stats" | jq -r .type)" percpu_array
	# Precise mode's pending calls: an LRU that dead threads cannot
	# fill, and one entry when precise mode is off.
	"$BPFTOOL" -j map show pinned "$PINS/ks_lock_pending" |
		jq -e '.type == "lru_hash" and .max_entries == 1' >/dev/null
	# --channel-edges' maps, as small when it is off, and --pid's bitmap.
	for map in ks_streams ks_fd_classes ks_io_inflight ks_sel_tgids; do
		"$BPFTOOL" -j map show pinned "$PINS/$map" | jq -e '.max_entries == 1' >/dev/null
	done
	expect_eq ks_inflight "$("$BPFTOOL" -j map show pinned "$PINS/ks_inflight" | jq -r .type)" hash

	# Typed dumps: the counters by field name, and the agent's own
	# configuration in .rodata (its pid, so the kernel side skips it).
	submitted >"$BATS_TEST_TMPDIR/submitted"
	kinds="$(sed -n 's/.*KS_EV_KIND_MAX = \([0-9]*\),.*/\1/p' "$ROOT/include/knotscope_abi.h")"
	# What abba itself does, whatever else the node is doing: two waits
	# that never end, a thread created, a program executed.
	jq -e --argjson kinds "$kinds" 'length == $kinds and .[1] >= 2 and .[3] >= 1 and .[4] >= 1' \
		"$BATS_TEST_TMPDIR/submitted"
	"$BPFTOOL" -j map dump pinned "$PINS/ks_stats" |
		jq -e '.[0].formatted.values[0].value | has("reserve_failed") and has("inflight_full")'
	expect_eq "agent tgid" "$("$BPFTOOL" -j map dump pinned "$PINS/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$AGENT_PID"
	stop_agent
	[ ! -e "$PINS" ]
}

@test "--keep-pins leaves them for a post-mortem; a later run replaces them" {
	local first

	start_agent --pin --keep-pins --listen off
	first=$AGENT_PID
	stop_agent
	# The counters outlive the agent.
	[ -e "$PINS/ks_stats" ]
	expect_eq "old tgid" "$("$BPFTOOL" -j map dump pinned "$PINS/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$first"
	# A stale directory (as a crash leaves it) does not stop the next run.
	start_agent --pin --listen off -v
	grep -q "replacing the pins an earlier run left in $PINS" "$AGENT_ERR"
	expect_eq "new tgid" "$("$BPFTOOL" -j map dump pinned "$PINS/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$AGENT_PID"
	stop_agent
	[ ! -e "$PINS" ]
}

@test "--pin-dir: two agents pin side by side, and each removes only its own" {
	start_agent --pin-dir "$PINS-a" --listen off
	OTHER_PID=$AGENT_PID
	# Its records stay its own: the next agent starts a file of its own.
	mv "$AGENT_JSON" "$BATS_TEST_TMPDIR/other.jsonl"
	start_agent --pin-dir "$PINS-b" --listen off
	expect_eq "a's agent" "$("$BPFTOOL" -j map dump pinned "$PINS-a/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$OTHER_PID"
	expect_eq "b's agent" "$("$BPFTOOL" -j map dump pinned "$PINS-b/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$AGENT_PID"
	[ ! -e "$PINS" ]
	stop_agent
	[ ! -e "$PINS-b" ]
	[ -e "$PINS-a/ks_stats" ]
	kill -INT "$OTHER_PID"
	wait "$OTHER_PID"
	OTHER_PID=
	[ ! -e "$PINS-a" ]
	run "$KNOTSCOPE" --pin-dir relative/dir
	[ "$status" -eq 2 ]
}

@test "--keep-pins needs --pin" {
	run "$KNOTSCOPE" --keep-pins
	[ "$status" -eq 2 ]
	[[ "$output" == *"--keep-pins"*"needs --pin"* ]]
}

@test "--pin leaves the pins of an agent still running alone" {
	start_agent --pin --listen off
	run "$KNOTSCOPE" --pin --listen off --json /dev/null --duration 1
	[ "$status" -eq 1 ]
	[[ "$output" == *"--pin: $PINS holds the pins of the agent running as pid $AGENT_PID: left alone"* ]]
	expect_eq "tgid" "$("$BPFTOOL" -j map dump pinned "$PINS/rodata" |
		jq '.[0].formatted.value[".rodata"][] | select(has("ks_agent_tgid")).ks_agent_tgid')" "$AGENT_PID"
	stop_agent
	[ ! -e "$PINS" ]
}

@test "what a killed run left in its BPF filesystem, the next run takes back" {
	# A directory that is no BPF filesystem yet: the agent mounts one.
	BPFFS="$BATS_TEST_TMPDIR/bpffs"
	mkdir "$BPFFS"
	"$KNOTSCOPE" --http --bpffs "$BPFFS" --listen off --json /dev/null \
		2>"$BATS_TEST_TMPDIR/first.err" &
	OTHER_PID=$!
	wait_until 30 test -e "$BPFFS/otel/traces_ctx_v1"
	kill -KILL "$OTHER_PID"
	wait "$OTHER_PID" || true
	OTHER_PID=
	mountpoint -q "$BPFFS"

	start_agent --http --bpffs "$BPFFS" --listen off -v
	stop_agent
	[ ! -e "$BPFFS/otel/traces_ctx_v1" ]
	if mountpoint -q "$BPFFS"; then
		echo "the BPF filesystem the killed run mounted is still there" >&2
		return 1
	fi
}
