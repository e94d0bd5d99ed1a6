// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The other ends of real sockets, asked of the kernel's tables. */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/sock_diag.h"
#include "fixtures.h"

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void test_unix_peer_and_queues(void **state)
{
	struct ks_sock_diag *diag = ks_sock_diag_new();
	struct ks_unix_diag found;
	uint64_t gone;
	int sv[2];

	assert_non_null(diag);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "abcd", 4), 4);
	assert_int_equal(ks_sock_diag_unix(diag, -1, inode_of(sv[0]), &found),
			 0);
	assert_int_equal(found.inode, inode_of(sv[0]));
	assert_int_equal(found.peer_inode, inode_of(sv[1]));
	assert_int_equal(found.type, SOCK_STREAM);
	assert_int_equal(found.rqueue, 4);
	/* The writer's bytes count against it until they are read. */
	assert_int_equal(ks_sock_diag_unix(diag, -1, inode_of(sv[1]), &found),
			 0);
	assert_int_equal(found.peer_inode, inode_of(sv[0]));
	assert_true(found.wqueue > 0);
	gone = inode_of(sv[0]);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(ks_sock_diag_unix(diag, -1, gone, &found), -ENOENT);
	ks_sock_diag_free(diag);
}

/* A connected loopback pair: fds[0] the client, fds[1] the server's end. */
static void tcp_pair(int fds[2])
{
	int all[3];

	loopback_tcp(all);
	fds[0] = all[0];
	fds[1] = all[1];
	close(all[2]);
}

/* The socket at the other end of fd's connection, in netns_fd. */
static int other_end(struct ks_sock_diag *diag, int netns_fd, int fd,
		     struct ks_tcp_diag *out)
{
	struct sockaddr_storage local, remote;
	socklen_t len = sizeof(local);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &len), 0);
	len = sizeof(remote);
	assert_int_equal(getpeername(fd, (struct sockaddr *)&remote, &len), 0);
	return ks_sock_diag_tcp(diag, netns_fd, &remote, &local, out);
}

static void test_tcp_other_end_by_addresses(void **state)
{
	struct ks_sock_diag *diag = ks_sock_diag_new();
	struct ks_tcp_diag found;
	int fds[2];

	tcp_pair(fds);
	assert_int_equal(write(fds[0], "hello", 5), 5);
	assert_int_equal(other_end(diag, -1, fds[0], &found), 0);
	assert_int_equal(found.inode, inode_of(fds[1]));
	assert_int_equal(found.state, TCP_ESTABLISHED);
	assert_int_equal(found.rqueue, 5);
	assert_int_equal(other_end(diag, -1, fds[1], &found), 0);
	assert_int_equal(found.inode, inode_of(fds[0]));
	close(fds[0]);
	close(fds[1]);
	ks_sock_diag_free(diag);
}

/*
 * A child in a network namespace of its own keeps a connected pair on its
 * loopback and tells the inode of the server's end, the client's port and
 * the server's.
 */
static pid_t child_in_new_netns(int report)
{
	pid_t pid = fork();
	struct ifreq ifr = { .ifr_name = "lo" };
	struct sockaddr_in client, server;
	socklen_t len = sizeof(client);
	uint64_t msg[3];
	int fds[2], s;

	assert_true(pid >= 0);
	if (pid)
		return pid;
	if (unshare(CLONE_NEWNET))
		_exit(1);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	ioctl(s, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		_exit(1);
	tcp_pair(fds);
	getsockname(fds[0], (struct sockaddr *)&client, &len);
	len = sizeof(server);
	getsockname(fds[1], (struct sockaddr *)&server, &len);
	msg[0] = inode_of(fds[1]);
	msg[1] = ntohs(client.sin_port);
	msg[2] = ntohs(server.sin_port);
	if (write(report, msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
	pause();
	_exit(0);
}

static uint64_t netns_inode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static void test_answers_come_from_the_sockets_namespace(void **state)
{
	struct ks_sock_diag *diag = ks_sock_diag_new();
	struct sockaddr_storage local = { 0 }, remote = { 0 };
	struct sockaddr_in *l = (void *)&local, *r = (void *)&remote;
	uint64_t own = netns_inode("/proc/thread-self/ns/net");
	struct ks_tcp_diag found;
	uint64_t msg[3];
	char path[64];
	int report[2], netns;
	pid_t pid;

	assert_int_equal(pipe(report), 0);
	pid = child_in_new_netns(report[1]);
	assert_int_equal(read(report[0], msg, sizeof(msg)), sizeof(msg));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	netns = open(path, O_RDONLY);
	assert_true(netns >= 0);

	/* The server's end of the child's connection. */
	l->sin_family = r->sin_family = AF_INET;
	l->sin_addr.s_addr = r->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l->sin_port = htons((uint16_t)msg[2]);
	r->sin_port = htons((uint16_t)msg[1]);
	assert_int_equal(ks_sock_diag_tcp(diag, netns, &local, &remote, &found),
			 0);
	assert_int_equal(found.inode, msg[0]);
	/* Asked in the agent's own namespace, it is not there. */
	assert_int_equal(ks_sock_diag_tcp(diag, -1, &local, &remote, &found),
			 -ENOENT);
	/* Asking there left this thread where it was. */
	assert_int_equal(netns_inode("/proc/thread-self/ns/net"), own);

	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(netns);
	close(report[0]);
	close(report[1]);
	ks_sock_diag_free(diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_peer_and_queues),
		cmocka_unit_test(test_tcp_other_end_by_addresses),
		cmocka_unit_test(test_answers_come_from_the_sockets_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
