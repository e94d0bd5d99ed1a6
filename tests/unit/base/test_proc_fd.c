// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Open files of a process as /proc shows them: links, flags, epoll sets. */
#include "unit.h"

#include <fcntl.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/proc_fd.h"

static void test_links_name_pipes_sockets_and_paths(void **state)
{
	struct ks_fd_link link;

	ks_fd_link_parse("pipe:[2027967]", &link);
	assert_int_equal(link.type, KS_FD_PIPE);
	assert_int_equal(link.inode, 2027967);
	ks_fd_link_parse("socket:[42]", &link);
	assert_int_equal(link.type, KS_FD_SOCKET);
	assert_int_equal(link.inode, 42);
	ks_fd_link_parse("/run/ctl.fifo", &link);
	assert_int_equal(link.type, KS_FD_PATH);
	assert_int_equal(link.inode, 0);
	ks_fd_link_parse("anon_inode:[eventpoll]", &link);
	assert_int_equal(link.type, KS_FD_OTHER);
	/* Near misses are nothing: a file may be called "pipe:[1]x". */
	ks_fd_link_parse("pipe:[12]x", &link);
	assert_int_equal(link.type, KS_FD_OTHER);
	ks_fd_link_parse("pipe:[]", &link);
	assert_int_equal(link.type, KS_FD_OTHER);
	ks_fd_link_parse("socket:42", &link);
	assert_int_equal(link.type, KS_FD_OTHER);
}

static void test_epoll_targets_from_fdinfo_text(void **state)
{
	static const char text[] =
		"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1038\n"
		"tfd:        3 events: 80000019 data:                3  pos:0 "
		"ino:1ef1bf sdev:f\n"
		"tfd:       12 events:        4 data:               0c  pos:0 "
		"ino:2a sdev:8\n";
	struct ks_epoll_target targets[1];

	/* Two in all, one fits. */
	assert_int_equal(ks_epoll_targets_parse(text, targets, 1), 2);
	assert_int_equal(targets[0].fd, 3);
	assert_int_equal(targets[0].events, 0x80000019u);
	assert_int_equal(targets[0].inode, 0x1ef1bf);
	assert_int_equal(
		ks_epoll_targets_parse("pos:\t0\nflags:\t0\n", targets, 1), 0);
}

static void test_own_pipe_epoll_and_flags(void **state)
{
	uint32_t self = (uint32_t)getpid();
	struct ks_epoll_target target;
	struct ks_fd_link link;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned int flags, mode;
	uint64_t dev, inode;
	struct stat st;
	int fds[2], ep;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fstat(fds[0], &st), 0);
	assert_int_equal(ks_proc_read_fd_link(self, fds[0], &link), 0);
	assert_int_equal(link.type, KS_FD_PIPE);
	assert_int_equal(link.inode, st.st_ino);
	assert_int_equal(ks_proc_stat_fd(self, fds[1], &dev, &inode, &mode), 0);
	assert_int_equal(inode, st.st_ino);
	assert_true(S_ISFIFO(mode));
	assert_int_equal(ks_proc_read_fd_flags(self, fds[1], &flags), 0);
	assert_int_equal(flags & O_ACCMODE, O_WRONLY);

	ep = epoll_create1(0);
	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev), 0);
	assert_int_equal(ks_proc_read_epoll_targets(self, ep, &target, 1), 1);
	assert_int_equal(target.fd, fds[0]);
	assert_int_equal(target.inode, st.st_ino);
	assert_int_equal(target.events & EPOLLIN, EPOLLIN);
	/* Only an epoll instance has targets. */
	assert_int_equal(ks_proc_read_epoll_targets(self, fds[0], &target, 1),
			 -1);
	close(ep);
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(ks_proc_read_fd_link(self, fds[0], &link), -1);
}

struct seen {
	int fd;
	bool found;
	uint64_t inode;
};

static int look(int fd, const struct ks_fd_link *link, void *ctx)
{
	struct seen *seen = ctx;

	if (fd == seen->fd) {
		seen->found = true;
		seen->inode = link->inode;
	}
	return 0;
}

static void test_every_fd_is_listed(void **state)
{
	struct seen seen = { 0 };
	struct stat st;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fstat(sv[1], &st), 0);
	seen.fd = sv[1];
	assert_int_equal(
		ks_proc_for_each_fd((uint32_t)getpid(), 0, look, &seen), 0);
	assert_true(seen.found);
	assert_int_equal(seen.inode, st.st_ino);
	/* A thread's own view of the table, the same here. */
	seen.found = false;
	assert_int_equal(ks_proc_for_each_fd((uint32_t)getpid(),
					     (uint32_t)getpid(), look, &seen),
			 0);
	assert_true(seen.found);
	close(sv[0]);
	close(sv[1]);
	assert_true(ks_proc_for_each_fd(0x7ffffff0u, 0, look, &seen) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_name_pipes_sockets_and_paths),
		cmocka_unit_test(test_epoll_targets_from_fdinfo_text),
		cmocka_unit_test(test_own_pipe_epoll_and_flags),
		cmocka_unit_test(test_every_fd_is_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
