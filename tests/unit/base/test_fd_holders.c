// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Who holds which end of a real pipe, among real processes. */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd_holders.h"

#define MAX_FOUND 16

struct found {
	size_t n;
	size_t file[MAX_FOUND];
	struct ks_fd_holder holder[MAX_FOUND];
};

static void record(size_t file, const struct ks_fd_holder *holder, void *ctx)
{
	struct found *found = ctx;

	if (found->n < MAX_FOUND) {
		found->file[found->n] = file;
		found->holder[found->n] = *holder;
	}
	found->n++;
}

static bool has(const struct found *found, size_t file, uint32_t tgid, int fd,
		int accmode)
{
	for (size_t i = 0; i < found->n && i < MAX_FOUND; i++)
		if (found->file[i] == file && found->holder[i].tgid == tgid &&
		    found->holder[i].fd == fd &&
		    (accmode < 0 ||
		     (int)(found->holder[i].flags & O_ACCMODE) == accmode))
			return true;
	return false;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A child that keeps only the read end of the pipe, on fd 9. */
static pid_t reader_child(int fds[2], int ready)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid)
		return pid;
	dup2(fds[0], 9);
	close(fds[0]);
	close(fds[1]);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static void test_pipe_ends_by_process(void **state)
{
	uint32_t self = (uint32_t)getpid();
	struct ks_file_id files[2];
	struct found found = { 0 };
	int fds[2], sv[2], ready[2];
	uint32_t both[2];
	char c;
	pid_t child;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(ready), 0);
	child = reader_child(fds, ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	files[0] = (struct ks_file_id){ .type = KS_FD_PIPE,
					.inode = inode_of(fds[0]) };
	files[1] = (struct ks_file_id){ .type = KS_FD_SOCKET,
					.inode = inode_of(sv[1]) };
	both[0] = self;
	both[1] = (uint32_t)child;

	assert_int_equal(ks_find_fd_holders(files, 2, both, 2, record, &found),
			 0);
	assert_true(has(&found, 0, self, fds[0], O_RDONLY));
	assert_true(has(&found, 0, self, fds[1], O_WRONLY));
	assert_true(has(&found, 0, (uint32_t)child, 9, O_RDONLY));
	assert_true(has(&found, 1, self, sv[1], -1));
	/* The socket's ends are two files: its peer is not sought. */
	assert_false(has(&found, 1, self, sv[0], -1));
	assert_int_equal(found.n, 4);

	/* Among every process, the same and no more. */
	memset(&found, 0, sizeof(found));
	assert_int_equal(ks_find_fd_holders(files, 1, NULL, 0, record, &found),
			 0);
	assert_int_equal(found.n, 3);
	assert_true(has(&found, 0, (uint32_t)child, 9, O_RDONLY));

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	memset(&found, 0, sizeof(found));
	assert_int_equal(ks_find_fd_holders(files, 1, NULL, 0, record, &found),
			 0);
	assert_int_equal(found.n, 2);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
	close(ready[0]);
	close(ready[1]);
}

static void test_fifo_by_device_and_inode(void **state)
{
	char path[] = "/tmp/knotscope-fifo-XXXXXX";
	struct found found = { 0 };
	struct ks_file_id fifo = { .type = KS_FD_PATH };
	uint32_t self = (uint32_t)getpid();
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(path));
	strcat(path, "/f");
	assert_int_equal(mkfifo(path, 0600), 0);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	fifo.dev = st.st_dev;
	fifo.inode = st.st_ino;
	assert_int_equal(ks_find_fd_holders(&fifo, 1, &self, 1, record, &found),
			 0);
	assert_int_equal(found.n, 1);
	assert_true(has(&found, 0, self, fd, O_RDWR));
	close(fd);
	unlink(path);
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_ends_by_process),
		cmocka_unit_test(test_fifo_by_device_and_inode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
