// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The sweep over real threads of this very process, blocked in real reads
 * and waits, and over a child it forks: what /proc shows is what counts.
 */
#include "unit.h"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/proc.h"
#include "model/io_sweep.h"

#define SWEEP_NS 1000000ull

struct world {
	struct ks_model model;
	struct ks_selection selection;
	struct ks_io_sweep *sweep;
	uint64_t now;
};

static struct ks_thread *add_real_thread(struct world *w, uint32_t tgid,
					 uint32_t tid)
{
	struct ks_proc_task task;

	assert_int_equal(ks_proc_read_task(tgid, tid, &task), 0);
	return ks_table_add_thread(&w->model.table, tgid, tid, task.pidns_ino,
				   task.ns_tid, task.start_ticks, task.comm);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->model.table, 100);
	w->model.selection = &w->selection;
	w->sweep = ks_io_sweep_new(SWEEP_NS, NULL);
	assert_non_null(w->sweep);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_io_sweep_free(w->sweep);
	ks_table_clear(&w->model.table);
	free(w);
	return 0;
}

static void sweep(struct world *w)
{
	w->now += SWEEP_NS;
	ks_io_sweep_run(w->sweep, &w->model, w->now);
}

/* Whether tid is in a system call numbered nr, as /proc says right now. */
static bool in_syscall(uint32_t tid, long nr)
{
	struct ks_proc_syscall sc;

	return !ks_proc_read_syscall((uint32_t)getpid(), tid, &sc) &&
	       sc.nr == nr;
}

static void wait_for_syscall(uint32_t tid, long nr)
{
	for (int i = 0; i < 2000 && !in_syscall(tid, nr); i++)
		usleep(1000);
	assert_true(in_syscall(tid, nr));
	/* In the call is not yet asleep in it: let it get there. */
	usleep(20000);
}

struct reader {
	int fd;
	pid_t tid;
	char byte;
};

static void *read_one(void *arg)
{
	struct reader *r = arg;

	r->tid = gettid();
	if (read(r->fd, &r->byte, 1) != 1)
		r->byte = -1;
	return NULL;
}

static void test_a_read_that_lasts_is_resolved(void **state)
{
	struct world *w = *state;
	struct reader r = { 0 };
	struct ks_thread *thread;
	uint64_t version;
	pthread_t t;
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	r.fd = fds[0];
	assert_int_equal(pthread_create(&t, NULL, read_one, &r), 0);
	while (!__atomic_load_n(&r.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_for_syscall((uint32_t)r.tid, SYS_read);
	add_real_thread(w, (uint32_t)getpid(), (uint32_t)getpid());
	thread = add_real_thread(w, (uint32_t)getpid(), (uint32_t)r.tid);

	sweep(w);
	assert_true(thread->io.blocked);
	assert_null(thread->io.target); /* seen once: not lasting yet */
	assert_int_equal(thread->process->stats.io_waits, 0);
	version = w->model.version;
	sweep(w);
	assert_non_null(thread->io.target);
	assert_true(w->model.version > version);
	assert_int_equal(thread->io.target->kind, KS_IO_WAIT_PIPE_READ);
	assert_int_equal(thread->process->stats.io_waits, 1);
	/* Only this process holds the write end: it alone can end it. */
	assert_int_equal(thread->io.target->nr_parties, 1);
	assert_int_equal(thread->io.target->parties[0].tgid, getpid());
	assert_int_equal(thread->io.target->parties[0].tid, 0);
	assert_int_equal(thread->io.target->parties[0].fd, fds[1]);
	assert_false(thread->io.target->complete);

	/* Searched everywhere: nobody else. */
	assert_int_equal(
		ks_io_sweep_complete(w->sweep, &w->model.table, thread, w->now),
		0);
	assert_true(thread->io.target->complete);
	assert_int_equal(thread->io.target->nr_parties, 1);

	/* Once it reads, the wait is gone. */
	assert_int_equal(write(fds[1], "k", 1), 1);
	pthread_join(t, NULL);
	version = w->model.version;
	sweep(w);
	assert_null(thread->io.target);
	assert_false(thread->io.blocked);
	assert_true(w->model.version > version);
	close(fds[0]);
	close(fds[1]);
}

struct echo {
	int fds[4]; /* there[0], there[1], back[0], back[1] */
	pid_t tid;
};

static void *echo(void *arg)
{
	struct echo *e = arg;
	char c;

	__atomic_store_n(&e->tid, gettid(), __ATOMIC_RELEASE);
	while (read(e->fds[0], &c, 1) == 1)
		if (write(e->fds[3], &c, 1) != 1)
			break;
	return NULL;
}

static void test_a_thread_that_keeps_running_never_lasts(void **state)
{
	struct world *w = *state;
	struct ks_thread *thread;
	struct echo e = { 0 };
	pthread_t t;
	char c = 0;

	assert_int_equal(pipe(e.fds), 0);
	assert_int_equal(pipe(e.fds + 2), 0);
	assert_int_equal(pthread_create(&t, NULL, echo, &e), 0);
	while (!__atomic_load_n(&e.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	thread = add_real_thread(w, (uint32_t)getpid(), (uint32_t)e.tid);
	/* Ping-pong between sweeps: the echo thread is mostly in read(). */
	for (int i = 0; i < 20; i++) {
		for (int j = 0; j < 200; j++) {
			assert_int_equal(write(e.fds[1], &c, 1), 1);
			assert_int_equal(read(e.fds[2], &c, 1), 1);
		}
		sweep(w);
		assert_null(thread->io.target);
	}
	close(e.fds[1]);
	pthread_join(t, NULL);
	close(e.fds[0]);
	close(e.fds[2]);
	close(e.fds[3]);
}

struct child_waiter {
	pid_t child;
	pid_t tid;
};

static void *wait_for_child(void *arg)
{
	struct child_waiter *cw = arg;

	__atomic_store_n(&cw->tid, gettid(), __ATOMIC_RELEASE);
	waitpid(cw->child, NULL, 0);
	return NULL;
}

static void test_waiting_for_a_child(void **state)
{
	struct world *w = *state;
	struct child_waiter cw = { 0 };
	const struct ks_io_target *target;
	struct ks_thread *thread;
	pthread_t t;

	cw.child = fork();
	if (!cw.child) {
		pause();
		_exit(0);
	}
	add_real_thread(w, (uint32_t)cw.child, (uint32_t)cw.child);
	assert_int_equal(pthread_create(&t, NULL, wait_for_child, &cw), 0);
	while (!__atomic_load_n(&cw.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_for_syscall((uint32_t)cw.tid, SYS_wait4);
	thread = add_real_thread(w, (uint32_t)getpid(), (uint32_t)cw.tid);
	sweep(w);
	sweep(w);
	target = thread->io.target;
	assert_non_null(target);
	assert_int_equal(target->kind, KS_IO_WAIT_CHILD_EXIT);
	assert_int_equal(target->child_tgid, cw.child);
	assert_int_equal(target->rule, KS_IO_RULE_CHILD);
	assert_int_equal(target->nr_parties, 1);
	assert_int_equal(target->parties[0].tgid, cw.child);
	assert_true(target->complete);
	kill(cw.child, SIGKILL);
	pthread_join(t, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_a_read_that_lasts_is_resolved),
		T(test_a_thread_that_keeps_running_never_lasts),
		T(test_waiting_for_a_child),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
