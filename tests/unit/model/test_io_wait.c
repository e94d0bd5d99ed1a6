// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What waits on what, found from outside, for this very process's files. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fixtures.h"
#include "model/io_wait.h"

static struct ks_sock_diag *diag;

static uint32_t self(void)
{
	return (uint32_t)getpid();
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static struct ks_io_call on_fd(int fd, enum ks_io_dir dir)
{
	struct ks_io_call call = {
		.dir = dir, .via = KS_IO_VIA_CALL, .fd = fd, .name = "read"
	};

	return call;
}

static int resolve(struct ks_io_call call, struct ks_io_target *target)
{
	return ks_io_target_resolve(diag, self(), &call, 0, target);
}

static void test_pipe_reader_and_writer(void **state)
{
	struct ks_io_target target;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(resolve(on_fd(fds[0], KS_IO_DIR_READ), &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_PIPE_READ);
	assert_int_equal(target.object, KS_IO_OBJ_PIPE);
	assert_int_equal(target.inode, inode_of(fds[0]));
	assert_int_equal(target.fd, fds[0]);
	assert_int_equal(target.queued, 0);
	/* An empty pipe holds no writer back; a read end cannot write. */
	assert_int_equal(resolve(on_fd(fds[1], KS_IO_DIR_WRITE), &target), -1);
	assert_int_equal(resolve(on_fd(fds[0], KS_IO_DIR_WRITE), &target), -1);
	assert_int_equal(write(fds[1], "abc", 3), 3);
	assert_int_equal(resolve(on_fd(fds[1], KS_IO_DIR_WRITE), &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_PIPE_WRITE);
	assert_int_equal(target.queued, 3);
	/* With bytes in it, a reader is not held back by the writers. */
	assert_int_equal(resolve(on_fd(fds[0], KS_IO_DIR_READ), &target), -1);
	close(fds[0]);
	close(fds[1]);
}

static void test_unchanged_means_nobody_moved_a_byte(void **state)
{
	struct ks_io_call call;
	struct ks_io_target target;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "abc", 3), 3);
	call = on_fd(fds[1], KS_IO_DIR_WRITE);
	assert_int_equal(resolve(call, &target), 0);
	assert_true(ks_io_target_unchanged(diag, self(), &call, &target));
	assert_int_equal(write(fds[1], "d", 1), 1);
	assert_false(ks_io_target_unchanged(diag, self(), &call, &target));
	close(fds[0]);
	close(fds[1]);
}

static void test_unix_peer_and_timeouts(void **state)
{
	struct timeval tv = { .tv_sec = 1 };
	struct ks_io_call call = { .via = KS_IO_VIA_POLL, .name = "poll" };
	struct ks_io_target target;
	struct pollfd pollfd;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(resolve(on_fd(sv[0], KS_IO_DIR_READ), &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_SOCKET_READ);
	assert_int_equal(target.object, KS_IO_OBJ_UNIX);
	assert_int_equal(target.peer_inode, inode_of(sv[1]));
	assert_int_equal(
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	/* A read that times out can end on its own... */
	assert_int_equal(resolve(on_fd(sv[0], KS_IO_DIR_READ), &target), -1);
	/* ...a poll of the socket does not care. */
	pollfd = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	call.pollfd_addr = (uintptr_t)&pollfd;
	assert_int_equal(resolve(call, &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_SOCKET_READ);
	close(sv[0]);
	close(sv[1]);
}

static void test_tcp_other_end_on_this_host(void **state)
{
	struct ks_io_target target;
	int fds[3];
	uint16_t port = loopback_tcp(fds);
	int client = fds[0], server = fds[1], listener = fds[2];

	assert_int_equal(resolve(on_fd(client, KS_IO_DIR_READ), &target), 0);
	assert_int_equal(target.object, KS_IO_OBJ_TCP);
	assert_int_equal(target.peer_inode, inode_of(server));
	assert_int_equal(target.remote.port, port);
	/* 127.0.0.1 as ::ffff:127.0.0.1 */
	assert_int_equal(target.local.addr[10], 0xff);
	assert_int_equal(target.local.addr[12], 127);
	/* Bytes on their way to the reader: it is not waiting for anyone. */
	assert_int_equal(write(server, "x", 1), 1);
	assert_int_equal(resolve(on_fd(client, KS_IO_DIR_READ), &target), -1);
	/* A listening socket is waited on by accept(), never read. */
	assert_int_equal(resolve(on_fd(listener, KS_IO_DIR_READ), &target), -1);
	close(server);
	close(client);
	close(listener);
}

static void test_poll_and_epoll_of_one_fd(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ks_io_target target;
	struct ks_io_call call = { .via = KS_IO_VIA_POLL, .name = "poll" };
	struct pollfd pollfd;
	int fds[2], other[2], ep;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(other), 0);
	pollfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	call.pollfd_addr = (uintptr_t)&pollfd;
	assert_int_equal(resolve(call, &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_PIPE_READ);
	assert_int_equal(target.fd, fds[0]);
	assert_int_equal(target.via, KS_IO_VIA_POLL);
	pollfd.events = POLLIN | POLLOUT;
	assert_int_equal(resolve(call, &target), -1);

	ep = epoll_create1(0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev), 0);
	call = (struct ks_io_call){ .via = KS_IO_VIA_EPOLL,
				    .fd = ep,
				    .name = "epoll_wait" };
	assert_int_equal(resolve(call, &target), 0);
	assert_int_equal(target.fd, fds[0]);
	assert_int_equal(target.epoll_fd, ep);
	/* Two fds: it waits for whichever comes first, no one thing. */
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, other[0], &ev), 0);
	assert_int_equal(resolve(call, &target), -1);
	close(ep);
	close(fds[0]);
	close(fds[1]);
	close(other[0]);
	close(other[1]);
}

static void test_child_needs_a_known_process(void **state)
{
	struct ks_io_call call = {
		.dir = KS_IO_DIR_CHILD, .child = 77, .fd = -1, .name = "wait4"
	};
	struct ks_io_target target;

	assert_int_equal(ks_io_target_resolve(diag, self(), &call, 0, &target),
			 -1);
	assert_int_equal(
		ks_io_target_resolve(diag, self(), &call, 4077, &target), 0);
	assert_int_equal(target.kind, KS_IO_WAIT_CHILD_EXIT);
	assert_int_equal(target.child_tgid, 4077);
}

static int setup(void **state)
{
	diag = ks_sock_diag_new();
	return diag ? 0 : -1;
}

static int teardown(void **state)
{
	ks_sock_diag_free(diag);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_reader_and_writer),
		cmocka_unit_test(test_unchanged_means_nobody_moved_a_byte),
		cmocka_unit_test(test_unix_peer_and_timeouts),
		cmocka_unit_test(test_tcp_other_end_on_this_host),
		cmocka_unit_test(test_poll_and_epoll_of_one_fd),
		cmocka_unit_test(test_child_needs_a_known_process),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
