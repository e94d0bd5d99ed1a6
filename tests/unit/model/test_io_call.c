// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which system calls, as /proc shows them, can wait for good on I/O. */
#include "unit.h"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "model/io_call.h"

static struct ks_proc_syscall sample(long nr, uint64_t a0, uint64_t a1,
				     uint64_t a2, uint64_t a3)
{
	struct ks_proc_syscall sc = { .nr = nr,
				      .args = { a0, a1, a2, a3 },
				      .sp = 0x7ffd0000,
				      .pc = 0x7f000000 };

	return sc;
}

static void test_reads_and_writes_on_one_fd(void **state)
{
	struct ks_proc_syscall sc = sample(SYS_read, 5, 0x1000, 4096, 0);
	struct ks_io_call call;

	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.dir, KS_IO_DIR_READ);
	assert_int_equal(call.via, KS_IO_VIA_CALL);
	assert_int_equal(call.fd, 5);
	assert_string_equal(call.name, "read");
	sc = sample(SYS_sendmsg, 9, 0x1000, 0, 0);
	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.dir, KS_IO_DIR_WRITE);
	assert_int_equal(call.fd, 9);
	/* The upper half of an int argument is not the fd's. */
	sc = sample(SYS_write, 0xffffffff00000003ull, 0, 1, 0);
	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.fd, 3);
	sc = sample(SYS_read, 0xffffffff, 0, 1, 0);
	assert_false(ks_io_call_of(&sc, &call));
}

static void test_calls_that_never_wait_on_io(void **state)
{
	struct ks_proc_syscall sc = sample(SYS_nanosleep, 0x1000, 0, 0, 0);
	struct ks_io_call call;

	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_futex, 0x1000, 0x80, 2, 0);
	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_accept4, 3, 0, 0, 0);
	assert_false(ks_io_call_of(&sc, &call));
}

static void test_polls_of_one_fd_without_a_timeout(void **state)
{
	struct ks_proc_syscall sc;
	struct ks_io_call call;

#ifdef SYS_poll
	sc = sample(SYS_poll, 0x5000, 1, (uint32_t)-1, 0);
	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.via, KS_IO_VIA_POLL);
	assert_int_equal(call.pollfd_addr, 0x5000);
	assert_int_equal(call.dir, KS_IO_DIR_NONE); /* in its struct pollfd */
	sc = sample(SYS_poll, 0x5000, 1, 500, 0);
	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_poll, 0x5000, 2, (uint32_t)-1, 0);
	assert_false(ks_io_call_of(&sc, &call));
#endif
	sc = sample(SYS_ppoll, 0x5000, 1, 0, 0);
	assert_true(ks_io_call_of(&sc, &call));
	sc = sample(SYS_ppoll, 0x5000, 1, 0x6000, 0);
	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_epoll_pwait, 4, 0x7000, 8, (uint32_t)-1);
	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.via, KS_IO_VIA_EPOLL);
	assert_int_equal(call.fd, 4);
	sc = sample(SYS_epoll_pwait, 4, 0x7000, 8, 100);
	assert_false(ks_io_call_of(&sc, &call));
}

static void test_waits_for_one_child(void **state)
{
	struct ks_proc_syscall sc = sample(SYS_wait4, 1234, 0x1000, 0, 0);
	struct ks_io_call call;

	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.dir, KS_IO_DIR_CHILD);
	assert_int_equal(call.child, 1234);
	/* Any child, a group, or not waiting at all: no one party. */
	sc = sample(SYS_wait4, (uint32_t)-1, 0x1000, 0, 0);
	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_wait4, 1234, 0x1000, WNOHANG, 0);
	assert_false(ks_io_call_of(&sc, &call));
	sc = sample(SYS_waitid, P_PID, 1234, 0x1000, WEXITED);
	assert_true(ks_io_call_of(&sc, &call));
	assert_int_equal(call.child, 1234);
	sc = sample(SYS_waitid, P_ALL, 0, 0x1000, WEXITED);
	assert_false(ks_io_call_of(&sc, &call));
}

static void test_direction_of_events(void **state)
{
	assert_int_equal(ks_io_dir_of_events(POLLIN), KS_IO_DIR_READ);
	assert_int_equal(ks_io_dir_of_events(POLLOUT), KS_IO_DIR_WRITE);
	assert_int_equal(ks_io_dir_of_events(POLLIN | POLLOUT), KS_IO_DIR_NONE);
	assert_int_equal(ks_io_dir_of_events(0), KS_IO_DIR_NONE);
	/* EPOLLET and EPOLLRDHUP do not change what it waits for. */
	assert_int_equal(ks_io_dir_of_events(0x80002001u), KS_IO_DIR_READ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_writes_on_one_fd),
		cmocka_unit_test(test_calls_that_never_wait_on_io),
		cmocka_unit_test(test_polls_of_one_fd_without_a_timeout),
		cmocka_unit_test(test_waits_for_one_child),
		cmocka_unit_test(test_direction_of_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
