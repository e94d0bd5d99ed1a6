#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The --json records' schema and its validator: records as the agent writes
# them pass; a field, a record type or a value the reference does not
# describe fails, naming file, line and place.  The end-to-end tests run the
# same validator over every record their agents write.

VALIDATE="$BATS_TEST_DIRNAME/validate_records.py"
SCHEMA="$BATS_TEST_DIRNAME/../../docs/json-records.schema.json"

# The first and last records of a run that found an AB/BA deadlock.
ready='{"type":"ready","time":"2026-12-06T13:05:01.123456789Z","time_unix_nano":1796562301123456789,"version":"0.1.0","agent_pid":7650,"attach_mode":"tp_btf","syscall_hooks":"tracepoint","selection":"comm abba","confirm_ms":100,"processes":0,"threads":0,"already_blocked_waits":0,"http":"127.0.0.1:9464"}'
frame='{"pc":"0x7feb87f5312b","function":"futex_wait","inlined":true,"module":"/usr/lib/x86_64-linux-gnu/libc.so.6","module_offset":"0x8612b","file":"../sysdeps/nptl/futex-internal.h","line":146}'
member='{"pid":7664,"tid":7664,"comm":"abba","process_comm":"abba","wait":{"kind":"mutex","mutex_type":"normal","address":"0x559d704f3160","futex_op":"FUTEX_WAIT_PRIVATE","futex_address":"0x559d704f3160","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":464.2},"holder":{"pid":7664,"tid":7666,"comm":"abba","process_comm":"abba"},"stack":['"$frame"',{"pc":"0x559d704f032d","function":"take","offset":26}]}'
deadlock='{"type":"deadlock","time":"2026-12-06T13:05:05Z","time_unix_nano":1796562305000000000,"id":"4cd79043112aacc5","detection_latency_ms":464.2,"pids":[7664],"threads":['"$member"','"$member"'],"blocked_behind":[]}'
summary='{"type":"summary","time":"2026-12-06T13:05:07Z","time_unix_nano":1796562307000000000,"duration_s":6.0,"events":{"wait_begin":3,"wait_end":1,"fork":2,"exec":1,"exit":0},"kernel_drops":0,"untracked_waits":0,"malformed_records":0,"deadlocks":1,"memory":{"limit_bytes":null,"peak_resident_bytes":47185920},"shed":{"spans":0,"span_sites":0,"hb_points":0},"processes":[{"pid":7664,"comm":"abba","futex_waits":3,"lock_waits":2,"wait_ns":0,"max_wait_ns":0}]}'

# records LINES...: a file of records, one per line.
records() {
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/records.jsonl"
}

validate() {
	run python3 "$VALIDATE" "$SCHEMA" "$BATS_TEST_TMPDIR/records.jsonl"
}

@test "records as the agent writes them pass" {
	records "$ready" "$deadlock" "$summary"
	validate
	[ "$status" -eq 0 ]
	[[ "$output" == *"3 records in 1 files"* ]]
}

@test "a missing field fails, naming the line and the record" {
	records "$ready" "${deadlock/\"blocked_behind\":\[\]/\"blocked_behind_typo\":[]}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:2: deadlock record, at /: 'blocked_behind' is a required property"* ]]
}

@test "a field the reference does not describe fails, where it is" {
	records "${summary/\"deadlocks\":1,/\"deadlocks\":1,\"stalls\":0,}" \
		"${deadlock/\"blocked_ms\":464.2/\"blocked_ms\":464.2,\"spins\":3}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:1: summary record, at /: Additional properties are not allowed ('stalls' was unexpected)"* ]]
	[[ "$output" == *"records.jsonl:2: deadlock record, at /threads/0/wait: Additional properties are not allowed ('spins' was unexpected)"* ]]
}

@test "an unknown record type and a wrong value fail" {
	records '{"type":"stall","time":"2026-12-06T13:05:05Z","time_unix_nano":1}' \
		"${ready/tp_btf/kprobe}" "${deadlock/\"0x559d704f3160\"/\"k:1234\"}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:1: stall record, at /type: 'stall' is not one of"* ]]
	[[ "$output" == *"records.jsonl:2: ready record, at /attach_mode"* ]]
	[[ "$output" == *"records.jsonl:3: deadlock record, at /threads/0/wait/address"* ]]
}

@test "a kernel lock's wait has a hashed address and no futex" {
	local kernel='"kind":"kernel-mutex","address":"k:00112233445566aa","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":3.5'

	records "${deadlock/\"kind\":\"mutex\",\"mutex_type\":\"normal\",\"address\":\"0x559d704f3160\",\"futex_op\":\"FUTEX_WAIT_PRIVATE\",\"futex_address\":\"0x559d704f3160\",\"blocked_since\":\"2026-12-06T13:05:04.5Z\",\"blocked_ms\":464.2/$kernel}"
	validate
	[ "$status" -eq 0 ]
	records "${deadlock/\"kind\":\"mutex\"/\"kind\":\"kernel-mutex\"}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"at /threads/0/wait/address"* ]]
}

@test "a line that is not JSON fails" {
	records "$ready" '{"type":"summary",'
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:2: not JSON"* ]]
}
