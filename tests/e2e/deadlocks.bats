#!/usr/bin/env bats
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Actual deadlocks in real programs, found live by the real agent: each test
# starts knotscope, runs a workload that deadlocks for certain (barriers,
# not races), and checks the JSON report names every thread of the cycle,
# what each waits for, who holds it, and where each waits.

load helpers

setup_file() {
	require_bpf
}

report() {
	jq -r "$1" <<<"$REPORT"
}

# Every member waits for a lock held by the next member, round the cycle.
expect_closed_cycle() {
	local n i holder next

	n="$(report '.threads | length')"
	[ "$n" -ge 1 ] || {
		echo "a cycle of no threads: $REPORT" >&2
		return 1
	}
	for ((i = 0; i < n; i++)); do
		holder="$(report ".threads[$i].holder.tid")"
		next="$(report ".threads[$(((i + 1) % n))].tid")"
		expect_eq "holder of thread $i" "$holder" "$next"
	done
}

# Absence cannot be awaited, but a deadlock that begins later can: the
# agent looks at every cycle on each tick, and confirms each once it has
# stood for the same time, so once it reports a relock started now, any
# report of a cycle that had already formed has come before.
await_later_deadlock() {
	start_workload relock
	await_deadlock "$WORKLOAD_PID"
}

# The functions on thread I's stack, one per line.
stack_functions() {
	report ".threads[$1].stack[].function // empty"
}

@test "AB/BA between two threads is reported with threads, locks, holders and stacks" {
	start_agent
	start_workload abba
	await_deadlock "$WORKLOAD_PID"

	expect_eq threads "$(report '.threads | length')" 2
	expect_eq pids "$(report '.pids | join(",")')" "$WORKLOAD_PID"
	expect_closed_cycle
	expect_eq kinds "$(report '[.threads[].wait.kind] | unique | join(",")')" mutex
	expect_eq type "$(report '.threads[0].wait.mutex_type')" normal
	expect_eq libc "$(report '.threads[0].wait.libc')" glibc
	expect_eq comm "$(report '.threads[0].process_comm')" abba
	# Two different mutexes, at their real addresses.
	[ "$(report '[.threads[].wait.address] | unique | length')" -eq 2 ]
	report '.threads[].wait.address' | grep -qE '^0x[0-9a-f]+$'
	[ "$(report '.detection_latency_ms')" != null ]
	awk -v ms="$(report '.detection_latency_ms')" 'BEGIN { exit !(ms > 0 && ms < 5000) }'

	# Each stack goes from libc's wait up to the workload's own code,
	# with source lines from the workload's debug information.
	stack_functions 0 >"$BATS_TEST_TMPDIR/stack0"
	stack_functions 1 >"$BATS_TEST_TMPDIR/stack1"
	cat "$BATS_TEST_TMPDIR/stack0" "$BATS_TEST_TMPDIR/stack1" | grep -qx take
	grep -qx lock_b_then_a "$BATS_TEST_TMPDIR/stack0" "$BATS_TEST_TMPDIR/stack1"
	grep -qx main "$BATS_TEST_TMPDIR/stack0" "$BATS_TEST_TMPDIR/stack1"
	report '.threads[].stack[] | select(.function == "take") | "\(.file):\(.line)"' |
		grep -q 'abba.c:[0-9]'
	report '.threads[0].stack[0].module' | grep -q 'libc.so'

	# The same report for people, on stderr.
	grep -q "DEADLOCK: 2 threads blocked in a cycle" "$AGENT_ERR"
	grep -q "waits for mutex 0x" "$AGENT_ERR"
	grep -q "lock_b_then_a+0x" "$AGENT_ERR"
}

# A program's name is the file it runs from, and a file may be called
# anything: here, escape sequences and a line break.
run_named_abba() {
	local link="$BATS_TEST_TMPDIR/$1"

	ln -s "$WORKLOADS/abba" "$link"
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/named.out"
	"$link" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PID=$!
	WORKLOAD_PIDS="${WORKLOAD_PIDS:-} $WORKLOAD_PID"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
	await_deadlock "$WORKLOAD_PID"
}

@test "names a program chose cannot drive the terminal or forge report lines" {
	start_agent
	run_named_abba $'\e[2J\e[31mPWN\a'
	run_named_abba $'x\nknotscope: OK'
	# The report text is written after the JSON record: wait for both.
	wait_until 5 grep -q 'knotscope: OK' "$AGENT_ERR"

	if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$AGENT_ERR"; then
		echo "control characters reached stderr:" >&2
		cat -v "$AGENT_ERR" >&2
		return 1
	fi
	if grep -q '^knotscope: OK' "$AGENT_ERR"; then
		echo "a name forged a line of its own" >&2
		return 1
	fi
	grep -qF '(\x1b[2J\x1b[31mPWN\x07)' "$AGENT_ERR"
	grep -qF '(x\x0aknotscope: OK)' "$AGENT_ERR"
	# The JSON record keeps the name as it is: JSON escapes it itself.
	agent_said '.type == "deadlock" and .threads[0].comm == "x\nknotscope: OK"'
}

@test "a deadlock is reported once, even when a signal interrupts its waits" {
	local abba

	start_agent
	start_workload abba
	abba=$WORKLOAD_PID
	await_deadlock "$abba"

	# The handler keeps a thread out of its wait for 200 ms, longer than
	# a confirmation window, then glibc waits again: the same deadlock.
	kill -USR1 "$abba"
	wait_until 5 futex_waiters "$abba" -lt 2
	wait_until 5 futex_waiters "$abba" -eq 2
	await_later_deadlock
	expect_eq "deadlock reports" "$(agent_records ".type == \"deadlock\" and
		(.pids | index($abba))" | wc -l)" 1
	# The agent did see the interrupted thread wait again: a third wait.
	kill_workloads
	wait_until 5 agent_said ".type == \"process\" and .pid == $abba and .futex_waits >= 3"
}

@test "dining philosophers: cycles of 3 and 5 threads" {
	local n

	start_agent
	for n in 3 5; do
		start_workload philosophers "$n"
		await_deadlock "$WORKLOAD_PID"
		expect_eq "threads of $n" "$(report '.threads | length')" "$n"
		expect_closed_cycle
		[ "$(stack_functions 0 | grep -cx philosopher_dines)" -eq 1 ]
	done
}

@test "relocking a non-recursive mutex is a cycle of one" {
	start_agent
	start_workload relock normal
	await_deadlock "$WORKLOAD_PID"

	expect_eq threads "$(report '.threads | length')" 1
	expect_eq "holder is itself" "$(report '.threads[0].holder.tid')" "$(report '.threads[0].tid')"
	stack_functions 0 | grep -qx reload_config_locked
}

@test "errorcheck, recursive and robust mutexes deadlock like normal ones" {
	local type

	start_agent
	for type in errorcheck recursive robust; do
		start_workload abba "$type"
		await_deadlock "$WORKLOAD_PID"
		expect_closed_cycle
		report '.threads[0].wait.mutex_type' | grep -q "$type"
	done
	expect_eq "robust kind" "$(report '.threads[0].wait.kind')" robust-mutex
}

@test "priority-inheritance mutexes: AB/BA, and a relock the kernel refuses" {
	# The kernel's refusal is a futex call's return: seen at the calls.
	start_agent --wait-hooks syscall
	agent_said '.type == "ready" and .wait_hooks == "syscall"'
	start_workload abba pi
	await_deadlock "$WORKLOAD_PID"
	expect_eq kinds "$(report '[.threads[].wait.kind] | unique | join(",")')" pi-mutex
	expect_closed_cycle
	# The kernel's own chain walk refuses one of the two with EDEADLK;
	# glibc then parks that thread, and it still waits for that lock.
	expect_eq refused "$(report '[.threads[].wait.kernel_refused // empty] | join(",")')" EDEADLK

	start_workload relock pi
	await_deadlock "$WORKLOAD_PID"
	expect_eq threads "$(report '.threads | length')" 1
	expect_eq refused "$(report '.threads[0].wait.kernel_refused')" EDEADLK
	report '.threads[0].wait.mutex_type' | grep -q prio-inherit
}

@test "waits taken from the scheduler: a refused priority-inheritance relock is a stall" {
	start_agent
	agent_said '.type == "ready" and .wait_hooks == "sched" and .syscall_hooks == "none"'
	# glibc parks the refused thread forever, on a word of its own stack.
	start_workload relock pi
	wait_until 10 agent_said ".type == \"stall\" and .pid == $WORKLOAD_PID"
	agent_never_said ".type == \"deadlock\" and (.pids | index($WORKLOAD_PID))"
}

# The futex of every $1 wait lies $2 bytes into the lock reported.
expect_futex_inside() {
	local pairs pair

	mapfile -t pairs < <(report ".threads[] | select(.wait.kind == \"$1\") |
		\"\(.wait.futex_address) \(.wait.address)\"")
	[ "${#pairs[@]}" -gt 0 ]
	for pair in "${pairs[@]}"; do
		expect_eq "futex offset" "$((${pair% *} - ${pair#* }))" "$2"
	done
}

@test "read-write locks: writers in a cycle, and a reader waiting for a writer" {
	start_agent
	start_workload rwlock writers
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	expect_eq kinds "$(report '[.threads[].wait.kind] | unique | join(",")')" rwlock-write
	# Writers wait on __writers_futex, 12 bytes into the pthread_rwlock_t.
	expect_futex_inside rwlock-write 12
	stack_functions 0 | grep -q pthread_rwlock_wrlock
	grep -q "waits for rwlock-write 0x" "$AGENT_ERR"

	start_workload rwlock reader
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	expect_eq kinds "$(report '[.threads[].wait.kind] | sort | join(",")')" mutex,rwlock-read
	# Readers wait out a writer on __wrphase_futex, 8 bytes in.
	expect_futex_inside rwlock-read 8
}

@test "std::shared_mutex writers in a cycle" {
	start_agent
	start_workload cxx_locks shared
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	expect_eq kinds "$(report '[.threads[].wait.kind] | unique | join(",")')" rwlock-write
}

@test "std::mutex through lock_guard: demangled names, every inlined level at its own line" {
	local line

	start_agent
	start_workload cxx_locks mutex
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	# Inlined into transfer(): the guard, std::mutex::lock(), gthreads,
	# each at the line that called the next, in the library's headers.
	report '.threads[0].stack[] | select(.inlined) | "\(.function) \(.file)"' >"$BATS_TEST_TMPDIR/inlined"
	grep -q '^std::mutex::lock() .*/std_mutex.h$' "$BATS_TEST_TMPDIR/inlined"
	grep -q '^std::lock_guard<std::mutex>::lock_guard(std::mutex&) .*/std_mutex.h$' \
		"$BATS_TEST_TMPDIR/inlined"
	grep -q '^__gthread_mutex_lock .*/gthr-default.h$' "$BATS_TEST_TMPDIR/inlined"
	# The user's function, demangled, at the line of its second guard.
	line="$(grep -n 'hold_to(to.lock)' "$ROOT/tests/workloads/cxx_locks.cpp" | head -n1 | cut -d: -f1)"
	expect_eq "transfer's line" "$(report '[.threads[].stack[] |
		select(.function == "transfer(account<std::mutex>&, account<std::mutex>&)") |
		"\(.file | split("/") | last):\(.line)"] | unique | join(" ")')" "cxx_locks.cpp:$line"
}

@test "a thread holding a mutex joins a thread blocked on it" {
	start_agent
	start_workload join_holding
	await_deadlock "$WORKLOAD_PID"

	expect_closed_cycle
	expect_eq kinds "$(report '[.threads[].wait.kind] | sort | join(",")')" mutex,thread-exit
	report '.threads[] | select(.wait.kind == "thread-exit") | .stack[].function // empty' |
		grep -qx shutdown_workers
}

@test "two processes deadlock on process-shared mutexes in shared memory" {
	start_agent
	start_workload pshared
	await_deadlock "$WORKLOAD_PID"

	expect_eq processes "$(report '.pids | length')" 2
	expect_closed_cycle
	[ "$(report '.threads[0].pid')" != "$(report '.threads[1].pid')" ]
	expect_eq "holder pid" "$(report '.threads[0].holder.pid')" "$(report '.threads[1].pid')"
	report '.threads[0].wait.mutex_type' | grep -q pshared
}

@test "a statically linked program" {
	start_agent
	start_workload abba-static
	await_deadlock "$WORKLOAD_PID"

	expect_closed_cycle
	stack_functions 1 | grep -qx lock_b_then_a
	report '.threads[].stack[].module' | grep -q 'abba-static$'
	# No libc.so.6 is mapped: glibc's start files say which libc it is.
	expect_eq libc "$(report '.threads[0].wait.libc')" glibc
}

@test "musl: errorcheck and recursive mutexes, dynamic and static" {
	local program type

	start_agent
	for program in abba-musl abba-musl-static; do
		for type in errorcheck recursive; do
			start_workload "$program" "$type"
			await_deadlock "$WORKLOAD_PID"
			expect_closed_cycle
			expect_eq "$program kinds" "$(report '[.threads[].wait.kind] | unique | join(",")')" mutex
			expect_eq "$program libc" "$(report '[.threads[].wait.libc] | unique | join(",")')" musl
			report '.threads[0].wait.mutex_type' | grep -q "$type"
			# musl's lock word is 4 bytes into its pthread_mutex_t.
			expect_futex_inside mutex 4
			{ stack_functions 0; stack_functions 1; } | grep -qx lock_b_then_a
		done
	done
}

@test "a program in its own mount namespace with a private copy of libc" {
	local private="/tmp/knotscope-mntns-$$"

	start_agent
	# The binary and libc live in a tmpfs only that namespace can see;
	# symbols must come from its files, through /proc/PID/root.
	WORKLOAD_OUT="$BATS_TEST_TMPDIR/mntns.out"
	unshare -m --propagation private sh -c "
		mkdir -p $private && mount -t tmpfs none $private &&
		cp '$WORKLOADS/abba' $private/abba-private &&
		cp /lib/$(uname -m)-linux-gnu/libc.so.6 $private/libc.so.6 &&
		mount --bind $private/libc.so.6 /lib/$(uname -m)-linux-gnu/libc.so.6 &&
		exec $private/abba-private" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PIDS="$!"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
	WORKLOAD_PID="$(awk '/^started/ { print $2 }' "$WORKLOAD_OUT")"
	[ ! -e "$private/abba-private" ]

	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	report '.threads[].stack[].module' | grep -qx "$private/abba-private"
	stack_functions 1 | grep -qx lock_b_then_a
	rmdir "$private" 2>/dev/null || true
}

# The file and line knotscope gives take(), the first function of abba.
take_site() {
	report '[.threads[].stack[] | select(.function == "take") |
		"\(.file // "" | split("/") | last):\(.line // "")"] | unique | join(" ")'
}

@test "separate debug files: by debug link, by build id under the process's root, .gnu_debugdata" {
	local dir="$BATS_TEST_TMPDIR/debug" id private="/tmp/knotscope-debug-$$"

	mkdir -p "$dir"
	# The DWARF apart, named by the binary's .gnu_debuglink.
	cp "$WORKLOADS/abba" "$dir/abba-linked"
	objcopy --only-keep-debug "$dir/abba-linked" "$dir/abba-linked.debug"
	strip --strip-debug "$dir/abba-linked"
	objcopy --add-gnu-debuglink="$dir/abba-linked.debug" "$dir/abba-linked"
	# The DWARF apart, named by build id under /usr/lib/debug/.build-id,
	# which only the program's own mount namespace has.
	cp "$WORKLOADS/abba" "$dir/abba-by-id"
	objcopy --only-keep-debug "$dir/abba-by-id" "$dir/abba-by-id.debug"
	strip --strip-debug "$dir/abba-by-id"
	id="$(readelf -n "$dir/abba-by-id" | awk '/Build ID/ { print $3 }')"
	# Only function names, in an xz-compressed symbol table inside.  Not
	# abba: symbols are cached by build id, and abba's are known by now.
	cp "$WORKLOADS/relock" "$dir/relock-mini"
	nm "$dir/relock-mini" --format=posix --defined-only |
		awk '$2 == "T" || $2 == "t" { print $1 }' >"$dir/keep"
	objcopy --only-keep-debug "$dir/relock-mini" "$dir/mini"
	objcopy -S --remove-section .comment --keep-symbols="$dir/keep" "$dir/mini"
	xz "$dir/mini"
	strip --strip-all "$dir/relock-mini"
	objcopy --add-section .gnu_debugdata="$dir/mini.xz" "$dir/relock-mini"
	# No symbol table but the compressed one.
	[ -z "$(nm "$dir/relock-mini" 2>/dev/null | grep update_config)" ]

	start_agent
	start_program "$dir/abba-linked"
	await_deadlock "$WORKLOAD_PID"
	take_site | grep -qx 'abba.c:[0-9]*'

	WORKLOAD_OUT="$BATS_TEST_TMPDIR/by-id.out"
	mkdir -p /usr/lib/debug
	unshare -m --propagation private sh -c "
		mkdir -p $private && mount -t tmpfs none /usr/lib/debug &&
		mkdir -p /usr/lib/debug/.build-id/${id:0:2} &&
		cp '$dir/abba-by-id.debug' /usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug &&
		exec '$dir/abba-by-id'" >"$WORKLOAD_OUT" 2>&1 &
	WORKLOAD_PIDS="$WORKLOAD_PIDS $!"
	wait_until 10 grep -q '^started' "$WORKLOAD_OUT"
	WORKLOAD_PID="$(awk '/^started/ { print $2 }' "$WORKLOAD_OUT")"
	[ ! -e "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug" ]
	await_deadlock "$WORKLOAD_PID"
	take_site | grep -qx 'abba.c:[0-9]*'

	start_program "$dir/relock-mini"
	await_deadlock "$WORKLOAD_PID"
	# Names without lines: that is all .gnu_debugdata holds.
	expect_eq "site from .gnu_debugdata" "$(report '.threads[0].stack[] |
		select(.function == "update_config") | .file // "no file"')" "no file"
	rmdir "$private" 2>/dev/null || true
}

@test "a deadlock that happened before knotscope started" {
	start_workload abba
	wait_until 10 futex_waiters "$WORKLOAD_PID" -eq 2

	start_agent
	agent_said '.type == "ready" and .already_blocked_waits >= 2'
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	expect_eq latency "$(report '.detection_latency_ms')" null
	expect_eq since "$(report '.threads[0].wait.blocked_since')" null
	# Only the stack pointer and pc are known then; DWARF still unwinds.
	stack_functions 1 | grep -qx lock_b_then_a
	grep -q "already blocked when knotscope started" "$AGENT_ERR"
}

@test "--pid and --comm watch only the selected processes" {
	local before after

	start_workload abba
	before=$WORKLOAD_PID
	wait_until 5 futex_waiters "$before" -eq 2
	start_agent --pid "$$" --comm relock
	start_workload abba
	after=$WORKLOAD_PID
	wait_until 5 futex_waiters "$after" -eq 2
	await_later_deadlock
	agent_never_said ".type == \"deadlock\" and (.pids | index($before))"
	agent_never_said ".type == \"deadlock\" and (.pids | index($after))"
	agent_said '.type == "ready" and (.selection | test("comm relock"))'
}

@test "a deadlocked process killed mid-trace is accounted and forgotten" {
	start_agent
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
	kill_workloads
	wait_until 5 agent_said ".type == \"process\" and .pid == $WORKLOAD_PID and .state == \"exited\""
	agent_records ".type == \"process\" and .pid == $WORKLOAD_PID" | jq -e '.lock_waits >= 2' >/dev/null
	# And the agent goes on: a new deadlock is still found.
	start_workload relock
	await_deadlock "$WORKLOAD_PID"
	stop_agent
}

@test "with raw_tp instead of tp_btf, and system calls on sys_enter, the same deadlock is found" {
	start_agent --attach raw_tp --syscall-hooks sys_enter --wait-hooks syscall
	agent_said '.type == "ready" and .attach_mode == "raw_tp" and .syscall_hooks == "sys_enter"'
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	stack_functions 1 | grep -qx lock_b_then_a
}

@test "with raw_tp, waits taken from the scheduler find the same deadlock" {
	start_agent --attach raw_tp
	agent_said '.type == "ready" and .attach_mode == "raw_tp" and .wait_hooks == "sched"'
	start_workload abba
	await_deadlock "$WORKLOAD_PID"
	expect_closed_cycle
	stack_functions 1 | grep -qx lock_b_then_a
}
