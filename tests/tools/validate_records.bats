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
ready='{"type":"ready","time":"2026-12-06T13:05:01.123456789Z","time_unix_nano":1796562301123456789,"version":"0.1.0","agent_pid":7650,"attach_mode":"tp_btf","syscall_hooks":"none","wait_hooks":"sched","channel_edges":false,"selection":"comm abba","confirm_ms":100,"stall_ms":1000,"processes":0,"threads":0,"already_blocked_waits":0,"http":"127.0.0.1:9464"}'
frame='{"pc":"0x7feb87f5312b","function":"futex_wait","inlined":true,"module":"/usr/lib/x86_64-linux-gnu/libc.so.6","module_offset":"0x8612b","file":"../sysdeps/nptl/futex-internal.h","line":146}'
member='{"pid":7664,"tid":7664,"comm":"abba","process_comm":"abba","wait":{"kind":"mutex","mutex_type":"normal","address":"0x559d704f3160","libc":"glibc","futex_op":"FUTEX_WAIT_PRIVATE","futex_address":"0x559d704f3160","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":464.2},"holder":{"pid":7664,"tid":7666,"comm":"abba","process_comm":"abba"},"stack":['"$frame"',{"pc":"0x559d704f032d","function":"take","offset":26}]}'
# A thread of a stall: its wait has no holder, a guess and the words seen.
waiter='{"pid":7700,"tid":7702,"comm":"stall","process_comm":"stall","wait":{"kind":"futex","address":"0x5649dc26c140","libc":"glibc","futex_op":"FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME","futex_address":"0x5649dc26c140","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":312.5,"guess":"sem_t","futex_words":["0x0","0x1","0x0","0x0","0x0","0x0"],"futex_words_before":["0x0","0x0","0x0","0x0"]},"holder":null,"stack":[{"pc":"0x55fc8e26d361","function":"worker_waits_first","offset":16,"module":"/srv/stall","module_offset":"0x1361","scanned":true}]}'
stall='{"type":"stall","time":"2026-12-06T13:05:06Z","time_unix_nano":1796562306000000000,"id":"e1fd7cb780dd25db","detection_latency_ms":1012.3,"pid":7700,"process_comm":"stall","signal_handlers":["SIGUSR1"],"threads":['"$waiter"','"$waiter"']}'
deadlock='{"type":"deadlock","time":"2026-12-06T13:05:05Z","time_unix_nano":1796562305000000000,"id":"4cd79043112aacc5","detection_latency_ms":464.2,"pids":[7664],"threads":['"$member"','"$member"'],"blocked_behind":[]}'
summary='{"type":"summary","time":"2026-12-06T13:05:07Z","time_unix_nano":1796562307000000000,"duration_s":6.0,"events":{"wait_begin":3,"wait_end":1,"fork":2,"exec":1,"exit":0},"kernel_drops":0,"untracked_waits":0,"malformed_records":0,"deadlocks":1,"stalls":1,"memory":{"limit_bytes":null,"peak_resident_bytes":47185920},"shed":{"spans":0,"span_sites":0,"hb_points":0},"unknown_holder_waits":{"threshold_s":10,"count":1,"longest_ms":12076.6,"threads":['"$waiter"']},"processes":[{"pid":7664,"comm":"abba","futex_waits":3,"lock_waits":2,"io_waits":0,"wait_ns":0,"max_wait_ns":0,"stalls":0}]}'

# records LINES...: a file of records, one per line.
records() {
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/records.jsonl"
}

validate() {
	run python3 "$VALIDATE" "$SCHEMA" "$BATS_TEST_TMPDIR/records.jsonl"
}

@test "records as the agent writes them pass" {
	records "$ready" "$deadlock" "$stall" "$summary"
	validate
	[ "$status" -eq 0 ]
	[[ "$output" == *"4 records in 1 files"* ]]
}

@test "a stall's thread must say what it guesses its wait is" {
	records "$ready" "${stall/\"guess\":\"sem_t\",/}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:2: stall record"*"'guess' is a required property"* ]]
}

@test "a missing field fails, naming the line and the record" {
	records "$ready" "${deadlock/\"blocked_behind\":\[\]/\"blocked_behind_typo\":[]}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:2: deadlock record, at /: 'blocked_behind' is a required property"* ]]
}

@test "a field the reference does not describe fails, where it is" {
	records "${summary/\"deadlocks\":1,/\"deadlocks\":1,\"livelocks\":0,}" \
		"${deadlock/\"blocked_ms\":464.2/\"blocked_ms\":464.2,\"spins\":3}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:1: summary record, at /: Additional properties are not allowed ('livelocks' was unexpected)"* ]]
	[[ "$output" == *"records.jsonl:2: deadlock record, at /threads/0/wait: Additional properties are not allowed ('spins' was unexpected)"* ]]
}

@test "an unknown record type and a wrong value fail" {
	records '{"type":"livelock","time":"2026-12-06T13:05:05Z","time_unix_nano":1}' \
		"${ready/tp_btf/kprobe}" "${deadlock/\"0x559d704f3160\"/\"k:1234\"}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:1: livelock record, at /type: 'livelock' is not one of"* ]]
	[[ "$output" == *"records.jsonl:2: ready record, at /attach_mode"* ]]
	[[ "$output" == *"records.jsonl:3: deadlock record, at /threads/0/wait/address"* ]]
}

@test "a kernel lock's wait has a hashed address and no futex" {
	local kernel='"kind":"kernel-mutex","address":"k:00112233445566aa","libc":"glibc","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":3.5'

	records "${deadlock/\"kind\":\"mutex\",\"mutex_type\":\"normal\",\"address\":\"0x559d704f3160\",\"libc\":\"glibc\",\"futex_op\":\"FUTEX_WAIT_PRIVATE\",\"futex_address\":\"0x559d704f3160\",\"blocked_since\":\"2026-12-06T13:05:04.5Z\",\"blocked_ms\":464.2/$kernel}"
	validate
	[ "$status" -eq 0 ]
	records "${deadlock/\"kind\":\"mutex\"/\"kind\":\"kernel-mutex\"}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"at /threads/0/wait/address"* ]]
}

@test "a wait in I/O has its object and the other end's holders, and no lock" {
	local lock='"kind":"mutex","mutex_type":"normal","address":"0x559d704f3160","libc":"glibc","futex_op":"FUTEX_WAIT_PRIVATE","futex_address":"0x559d704f3160","blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":464.2'
	local pipe='"kind":"pipe-write","syscall":"write","object":"pipe:[2294592]","fd":4,"inode":2294592,"queued_bytes":65536,"other_end":{"rule":"holders","held_by":[{"pid":7665,"tid":null,"fd":0,"process_comm":"cat"}]},"blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":1132.4,"first_seen":false'
	local child='"kind":"child-exit","syscall":"wait4","object":"pid 7665","child_pid":7665,"other_end":{"rule":"child","held_by":[{"pid":7665,"tid":null,"fd":null,"process_comm":"cat"}]},"blocked_since":"2026-12-06T13:05:04.5Z","blocked_ms":3.5,"first_seen":true'

	records "${deadlock/$lock/$pipe}" "${deadlock/$lock/$child}"
	validate
	[ "$status" -eq 0 ]
	records "${deadlock/$lock/$pipe,\"address\":\"0x1\"}" "${deadlock/$lock/${child/\"child_pid\":7665,/}}"
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:1: deadlock record, at /threads/0/wait: Additional properties are not allowed ('address' was unexpected)"* ]]
	[[ "$output" == *"records.jsonl:2: deadlock record, at /threads/0/wait: 'child_pid' is a required property"* ]]
}

@test "a line that is not JSON fails" {
	records "$ready" '{"type":"summary",'
	validate
	[ "$status" -eq 1 ]
	[[ "$output" == *"records.jsonl:2: not JSON"* ]]
}
