// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc parsing, over a fixture tree shaped like the kernel's files. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/proc.h"

static char root[] = "/tmp/knotscope-proc-XXXXXX";

static void write_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void unlink_file(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(unlink(path), 0);
}

static void make_dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	if (!mkdtemp(root))
		return -1;
	make_dir("42");
	make_dir("42/task");
	make_dir("42/task/43");
	make_dir("42/task/43/ns");
	make_dir("7");
	make_dir("7/task");
	make_dir("self-not-a-pid");
	/* A comm with spaces and a ')' of its own, as prctl() allows. */
	write_file("42/task/43/stat",
		   "43 (we ird) name) S 1 42 42 0 -1 4194368 100 0 0 0 5 3 "
		   "0 0 20 0 2 0 123456 1000 200 18446744073709551615\n");
	write_file("42/task/43/status",
		   "Name:\twe ird) name\nTgid:\t42\nPid:\t43\nNSpid:\t43\t7\n"
		   "Uid:\t0\n");
	write_file("42/task/43/syscall",
		   "202 0x55d0c0a4a040 0x80 0x2 0x0 0x0 0x0 0x7ffd8548f348 "
		   "0x7f39c1dd012b\n");
	write_file("42/comm", "server-main\n");
	ks_proc_set_root(root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ks_proc_set_root("/proc");
	return system(cmd);
}

static void test_task_identity_from_stat_and_status(void **state)
{
	struct ks_proc_task task;

	assert_int_equal(ks_proc_read_task(42, 43, &task), 0);
	assert_string_equal(task.comm, "we ird) name");
	assert_int_equal(task.start_ticks, 123456);
	/* NSpid's last field is the tid inside the innermost namespace. */
	assert_int_equal(task.ns_tid, 7);
	assert_int_equal(ks_proc_read_task(42, 99, &task), -1);
}

static void test_process_comm_without_newline(void **state)
{
	char comm[KS_COMM_LEN];

	assert_int_equal(ks_proc_read_comm(42, comm), 0);
	assert_string_equal(comm, "server-main");
}

static void test_blocked_and_running_syscalls(void **state)
{
	struct ks_proc_syscall sc;

	assert_int_equal(ks_proc_read_syscall(42, 43, &sc), 0);
	assert_int_equal(sc.nr, 202);
	assert_int_equal(sc.args[0], 0x55d0c0a4a040ull);
	assert_int_equal(sc.args[1], 0x80);
	assert_int_equal(sc.sp, 0x7ffd8548f348ull);
	assert_int_equal(sc.pc, 0x7f39c1dd012bull);
	write_file("42/task/43/syscall", "running\n");
	assert_int_equal(ks_proc_read_syscall(42, 43, &sc), -1);
	/* Blocked, but not in a system call (a page fault, say). */
	write_file("42/task/43/syscall", "-1 0x7ffd8548f348 0x7f39c1dd012b\n");
	assert_int_equal(ks_proc_read_syscall(42, 43, &sc), -1);
}

static void test_progress_from_schedstat_else_status(void **state)
{
	struct ks_proc_progress progress;

	write_file("42/task/43/schedstat", "1122041 101260 7\n");
	assert_int_equal(ks_proc_read_progress(42, 43, &progress), 0);
	assert_int_equal(progress.run_ns, 1122041);
	assert_int_equal(progress.switches, 7);
	/* Scheduler statistics off: the context switches in status. */
	write_file("42/task/43/schedstat", "0 0 0\n");
	write_file("42/task/43/status",
		   "Name:\tx\nNSpid:\t43\nvoluntary_ctxt_switches:\t12\n"
		   "nonvoluntary_ctxt_switches:\t3\n");
	assert_int_equal(ks_proc_read_progress(42, 43, &progress), 0);
	assert_int_equal(progress.run_ns, 0);
	assert_int_equal(progress.switches, 15);
	write_file("42/task/43/status", "Name:\tx\n");
	assert_int_equal(ks_proc_read_progress(42, 43, &progress), -1);
}

static void test_a_process_that_may_time_itself(void **state)
{
	/* Unreadable: it may. */
	assert_true(ks_proc_may_time_itself(42));
	/* SIGINT and SIGCHLD caught, no timers. */
	write_file("42/status", "Name:\tx\nSigCgt:\t0000000000010002\n");
	assert_false(ks_proc_may_time_itself(42));
	write_file("42/timers", "");
	assert_false(ks_proc_may_time_itself(42));
	/* SIGALRM (14) caught. */
	write_file("42/status", "Name:\tx\nSigCgt:\t0000000000002000\n");
	assert_true(ks_proc_may_time_itself(42));
	/* SIGPROF (27) caught. */
	write_file("42/status", "Name:\tx\nSigCgt:\t0000000004000000\n");
	assert_true(ks_proc_may_time_itself(42));
	/* A POSIX timer armed. */
	write_file("42/status", "Name:\tx\nSigCgt:\t0000000000000000\n");
	write_file("42/timers", "ID: 0\nsignal: 10/0000000000000000\n"
				"notify: signal/pid.42\nClockID: 1\n");
	assert_true(ks_proc_may_time_itself(42));
	unlink_file("42/timers");
	unlink_file("42/status");
}

static void test_a_process_that_handles_events(void **state)
{
	/* Unreadable: it may. */
	assert_true(ks_proc_handles_events(42));
	/* Crash handlers only: SIGILL, SIGBUS, SIGFPE, SIGSEGV, SIGSYS, and
	 * glibc's own 33. */
	write_file("42/status", "Name:\tx\nSigCgt:\t00000001400004c8\n");
	assert_false(ks_proc_handles_events(42));
	/* SIGCHLD (17) too. */
	write_file("42/status", "Name:\tx\nSigCgt:\t00000000400104c8\n");
	assert_true(ks_proc_handles_events(42));
	unlink_file("42/status");
}

static int collect(uint32_t id, void *ctx)
{
	uint32_t *sum = ctx;

	*sum += id;
	return 0;
}

static void test_only_numeric_entries_are_processes(void **state)
{
	uint32_t sum = 0;

	assert_int_equal(ks_proc_for_each_process(collect, &sum), 0);
	assert_int_equal(sum, 42 + 7);
	sum = 0;
	assert_int_equal(ks_proc_for_each_thread(42, collect, &sum), 0);
	assert_int_equal(sum, 43);
}

static void test_reading_own_memory(void **state)
{
	static const char secret[] = "lock words";
	char buf[sizeof(secret)];

	assert_int_equal(ks_proc_read_mem((uint32_t)getpid(), (uintptr_t)secret,
					  buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, secret);
	assert_int_equal(ks_proc_read_mem((uint32_t)getpid(), 8, buf, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_identity_from_stat_and_status),
		cmocka_unit_test(test_process_comm_without_newline),
		cmocka_unit_test(test_blocked_and_running_syscalls),
		cmocka_unit_test(test_progress_from_schedstat_else_status),
		cmocka_unit_test(test_a_process_that_may_time_itself),
		cmocka_unit_test(test_a_process_that_handles_events),
		cmocka_unit_test(test_only_numeric_entries_are_processes),
		cmocka_unit_test(test_reading_own_memory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
