// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Who can end a wait: holders of the other end, and serving threads. */
#include "unit.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "model/io_parties.h"

static struct ks_table table;

static int setup(void **state)
{
	ks_table_init(&table, 100);
	return 0;
}

static int teardown(void **state)
{
	ks_table_clear(&table);
	return 0;
}

static uint64_t inode_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* A child that keeps fd open, the rest closed, until killed. */
static pid_t holding_child(int fd, int ready)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid)
		return pid;
	for (int other = 3; other < 64; other++)
		if (other != fd && other != ready)
			close(other);
	if (write(ready, "x", 1) != 1)
		_exit(1);
	pause();
	_exit(0);
}

static struct ks_io_target *waiting_on(struct ks_thread *waiter,
				       enum ks_io_wait_kind kind,
				       enum ks_io_object object, uint64_t inode)
{
	struct ks_io_target *target =
		wait_on_io(waiter, kind, inode, NULL, 0, false);

	target->object = object;
	target->peer_inode = inode;
	target->parties_ns = 0;
	return target;
}

static void test_pipe_parties_hold_the_other_end(void **state)
{
	uint32_t self = (uint32_t)getpid(), both[2];
	struct ks_thread *reader = add_thread(&table, self, self);
	struct ks_io_target *target;
	int fds[2], ready[2];
	pid_t child;
	char c;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(ready), 0);
	/* The child keeps the read end only: it cannot end a read. */
	child = holding_child(fds[0], ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	both[0] = self;
	both[1] = (uint32_t)child;
	target = waiting_on(reader, KS_IO_WAIT_PIPE_READ, KS_IO_OBJ_PIPE,
			    inode_of(fds[0]));
	assert_int_equal(
		ks_io_parties_find(&table, &reader, 1, both, 2, false, 7), 0);
	assert_int_equal(target->nr_parties, 1);
	assert_int_equal(target->parties[0].tgid, self);
	assert_int_equal(target->parties[0].fd, fds[1]);
	assert_int_equal(target->rule, KS_IO_RULE_HOLDERS);
	assert_int_equal(target->parties_ns, 7);
	assert_false(target->complete);

	/* A writer, though, waits for it as for this process. */
	target->kind = KS_IO_WAIT_PIPE_WRITE;
	assert_int_equal(
		ks_io_parties_find(&table, &reader, 1, NULL, 0, true, 8), 0);
	assert_int_equal(target->nr_parties, 2);
	assert_true(target->complete);
	/* Among no process, nobody: not everybody. */
	assert_int_equal(
		ks_io_parties_find(&table, &reader, 1, both, 0, false, 9), 0);
	assert_int_equal(target->nr_parties, 0);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(fds[0]);
	close(fds[1]);
	close(ready[0]);
	close(ready[1]);
}

static void on_child(int sig)
{
}

static void test_a_self_pipe_with_a_signal_handler_has_no_parties(void **state)
{
	uint32_t self = (uint32_t)getpid();
	struct ks_thread *reader = add_thread(&table, self, self);
	struct sigaction handler = { .sa_handler = on_child }, before;
	struct ks_io_target *target;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	target = waiting_on(reader, KS_IO_WAIT_PIPE_READ, KS_IO_OBJ_PIPE,
			    inode_of(fds[0]));
	/* Only this process writes it: its threads alone can end the read. */
	assert_int_equal(
		ks_io_parties_find(&table, &reader, 1, &self, 1, false, 1), 0);
	assert_int_equal(target->nr_parties, 1);
	assert_int_equal(target->parties[0].tgid, self);
	/* With a SIGCHLD handler, a child's exit may write it. */
	assert_int_equal(sigaction(SIGCHLD, &handler, &before), 0);
	assert_int_equal(
		ks_io_parties_find(&table, &reader, 1, &self, 1, false, 2), 0);
	assert_int_equal(target->nr_parties, 0);
	assert_int_equal(sigaction(SIGCHLD, &before, NULL), 0);
	close(fds[0]);
	close(fds[1]);
}

static void test_the_thread_serving_a_connection(void **state)
{
	uint32_t self = (uint32_t)getpid();
	struct ks_thread *caller = add_thread(&table, 4242, 4242);
	struct ks_thread *early = add_thread(&table, self, self);
	struct ks_thread *late = add_thread(&table, self, self + 1);
	struct ks_io_target *target;
	int sv[2];

	/* sv[1] is this process's end: the one the caller waits on. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	target = waiting_on(caller, KS_IO_WAIT_SOCKET_READ, KS_IO_OBJ_UNIX,
			    inode_of(sv[1]));
	early->channels =
		(struct ks_thread_channels){ .read_fd = sv[1], .read_ns = 10 };
	late->channels =
		(struct ks_thread_channels){ .read_fd = sv[1], .read_ns = 20 };
	assert_int_equal(
		ks_io_parties_find(&table, &caller, 1, &self, 1, false, 1), 0);
	assert_int_equal(target->nr_parties, 1);
	assert_int_equal(target->parties[0].tid, late->tid);
	assert_int_equal(target->rule, KS_IO_RULE_SERVING);

	/* Answered since: the next answer could come from anyone. */
	early->channels.write_fd = sv[1];
	early->channels.write_ns = 30;
	assert_int_equal(
		ks_io_parties_find(&table, &caller, 1, &self, 1, false, 2), 0);
	assert_int_equal(target->parties[0].tid, 0);
	assert_int_equal(target->rule, KS_IO_RULE_HOLDERS);
	close(sv[0]);
	close(sv[1]);
}

static void test_a_reader_handing_requests_off_does_not_serve(void **state)
{
	uint32_t self = (uint32_t)getpid();
	struct ks_thread *caller = add_thread(&table, 4242, 4242);
	struct ks_thread *reader = add_thread(&table, self, self);
	struct ks_io_target *target;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	target = waiting_on(caller, KS_IO_WAIT_SOCKET_READ, KS_IO_OBJ_UNIX,
			    inode_of(sv[1]));
	reader->channels =
		(struct ks_thread_channels){ .read_fd = sv[1], .read_ns = 10 };
	/* It took the request in and reads the connection again: a worker
	 * it handed the request to answers, whoever that is. */
	reader->io.blocked = true;
	reader->io.sc.nr = SYS_read;
	reader->io.sc.args[0] = (uint64_t)sv[1];
	assert_int_equal(
		ks_io_parties_find(&table, &caller, 1, &self, 1, false, 1), 0);
	assert_int_equal(target->nr_parties, 1);
	assert_int_equal(target->parties[0].tid, 0);
	assert_int_equal(target->rule, KS_IO_RULE_HOLDERS);

	/* Reading another connection, it still serves this one. */
	reader->io.sc.args[0] = (uint64_t)sv[0];
	assert_int_equal(
		ks_io_parties_find(&table, &caller, 1, &self, 1, false, 2), 0);
	assert_int_equal(target->parties[0].tid, reader->tid);
	assert_int_equal(target->rule, KS_IO_RULE_SERVING);
	reader->io.blocked = false;
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_pipe_parties_hold_the_other_end),
		T(test_a_self_pipe_with_a_signal_handler_has_no_parties),
		T(test_the_thread_serving_a_connection),
		T(test_a_reader_handing_requests_off_does_not_serve),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
