// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What a duplicate of a process's file tells: real pipes and sockets. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/fd_peek.h"
#include "fixtures.h"

static uint32_t self(void)
{
	return (uint32_t)getpid();
}

static void test_bytes_in_a_pipe_and_which_end(void **state)
{
	struct ks_peeked_file file;
	struct stat st;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "hello", 5), 5);
	assert_int_equal(fstat(fds[0], &st), 0);
	assert_int_equal(ks_fd_peek(self(), fds[1], &file, NULL), 0);
	assert_true(S_ISFIFO(file.mode));
	assert_int_equal(file.inode, st.st_ino);
	assert_int_equal(file.flags & O_ACCMODE, O_WRONLY);
	assert_int_equal(file.pipe_bytes, 5);
	assert_int_equal(file.pipe_size, fcntl(fds[0], F_GETPIPE_SZ));
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(ks_fd_peek(self(), fds[1], &file, NULL), -ENOENT);
}

static void test_socket_timeouts_and_queues(void **state)
{
	struct timeval tv = { .tv_sec = 5 };
	struct ks_peeked_file file;
	int sv[2], netns = -1;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "abc", 3), 3);
	assert_int_equal(ks_fd_peek(self(), sv[0], &file, &netns), 0);
	assert_int_equal(file.domain, AF_UNIX);
	assert_int_equal(file.type, SOCK_STREAM);
	assert_false(file.recv_timeout);
	assert_int_equal(file.in_queue, 3);
	assert_true(netns >= 0);
	close(netns);
	assert_int_equal(
		setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(ks_fd_peek(self(), sv[0], &file, NULL), 0);
	assert_true(file.recv_timeout);
	assert_false(file.send_timeout);
	close(sv[0]);
	close(sv[1]);
}

static void test_tcp_names(void **state)
{
	struct ks_peeked_file file;
	int fds[3];
	uint16_t port = loopback_tcp(fds);
	int client = fds[0], server = fds[1], listener = fds[2];

	assert_int_equal(ks_fd_peek(self(), listener, &file, NULL), 0);
	assert_true(file.listening);
	assert_int_equal(ks_fd_peek(self(), client, &file, NULL), 0);
	assert_false(file.listening);
	assert_int_equal(file.protocol, IPPROTO_TCP);
	assert_int_equal(file.remote_len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(((struct sockaddr_in *)&file.remote)->sin_port),
			 port);
	assert_int_equal(file.in_queue, 0);
	close(server);
	close(client);
	close(listener);
}

static void test_cgroup_controllers_mounted_or_not(void **state)
{
	static const char text[] =
		"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
		"cpuset\t3\t1\t1\n"
		"net_cls\t0\t1\t1\n"
		"net_prio\t9\t1\t1\n";

	assert_false(ks_cgroup_v1_mounted(text, "net_cls"));
	assert_true(ks_cgroup_v1_mounted(text, "net_prio"));
	assert_true(ks_cgroup_v1_mounted(text, "cpuset"));
	/* "cpu" is not "cpuset"'s prefix match. */
	assert_false(ks_cgroup_v1_mounted(text, "cpu"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_in_a_pipe_and_which_end),
		cmocka_unit_test(test_socket_timeouts_and_queues),
		cmocka_unit_test(test_tcp_names),
		cmocka_unit_test(test_cgroup_controllers_mounted_or_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
