// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads take two mutexes in opposite orders.  A barrier between the
 * first and the second lock makes the deadlock certain, not a race.
 *
 * usage: abba [normal|errorcheck|recursive|pi|robust] [timed-ms|ordered|rewait]
 * With timed-ms the second locks are pthread_mutex_timedlock(): the cycle
 * lasts that long, then both time out and the program exits cleanly.
 * With "ordered" both threads take A then B, many times, without the
 * barrier: contention, never a deadlock.  With "rewait" each thread first
 * sleeps in a futex wait of its own, joining a helper thread that exits
 * once it sees the joiner asleep: its deadlock wait is its second.
 *
 * SIGUSR1 takes a blocked thread out of its futex() call for 200 ms, as a
 * debugger's or a slow signal handler's would; glibc then waits again, on
 * the same lock held by the same thread: the same deadlock.
 */
#include <signal.h>
#include <sched.h>
#include <sys/syscall.h>

#include "workload.h"

#define ORDERED_ROUNDS 5000

static pthread_mutex_t lock_a, lock_b;
static pthread_barrier_t both_hold_one;
static long timed_ms;
static int ordered, rewait;

static void take(pthread_mutex_t *mutex)
{
	struct timespec deadline;
	int err;

	if (!timed_ms) {
		WORKLOAD_CHECK(pthread_mutex_lock(mutex));
		return;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timed_ms / 1000;
	deadline.tv_nsec += (timed_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	err = pthread_mutex_timedlock(mutex, &deadline);
	if (err && err != ETIMEDOUT)
		workload_die("pthread_mutex_timedlock", err);
	if (!err)
		pthread_mutex_unlock(mutex);
}

static void interrupt_for_a_while(int sig)
{
	struct timespec pause = { .tv_nsec = 200 * 1000000 };

	nanosleep(&pause, NULL); /* async-signal-safe */
}

/* Whether thread tid of this process sleeps in futex() now. */
static int asleep_in_futex(pid_t tid)
{
	char path[64];
	long nr = -1;
	FILE *file;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	file = fopen(path, "r");
	if (!file)
		return 0;
	/* A thread on a CPU reads as "running", not as a number. */
	if (fscanf(file, "%ld", &nr) != 1)
		nr = -1;
	fclose(file);
	return nr == SYS_futex;
}

static void *exit_once_joined(void *joiner)
{
	while (!asleep_in_futex(*(pid_t *)joiner))
		sched_yield();
	return NULL;
}

/* A futex wait that certainly blocks: pthread_join() on a live thread. */
static void sleep_in_a_join(void)
{
	pid_t self = (pid_t)syscall(SYS_gettid);
	pthread_t helper;

	WORKLOAD_CHECK(pthread_create(&helper, NULL, exit_once_joined, &self));
	WORKLOAD_CHECK(pthread_join(helper, NULL));
}

/* Both in the same order: held long enough to be found taken. */
static void *lock_a_then_b_often(void *arg)
{
	for (int i = 0; i < ORDERED_ROUNDS; i++) {
		WORKLOAD_CHECK(pthread_mutex_lock(&lock_a));
		WORKLOAD_CHECK(pthread_mutex_lock(&lock_b));
		for (volatile int spin = 0; spin < 2000; spin++)
			;
		pthread_mutex_unlock(&lock_b);
		pthread_mutex_unlock(&lock_a);
	}
	return NULL;
}

static void *lock_a_then_b_often_then_linger(void *arg)
{
	lock_a_then_b_often(arg);
	workload_linger();
	return NULL;
}

static void *lock_b_then_a(void *arg)
{
	if (rewait)
		sleep_in_a_join();
	WORKLOAD_CHECK(pthread_mutex_lock(&lock_b));
	pthread_barrier_wait(&both_hold_one);
	take(&lock_a);
	pthread_mutex_unlock(&lock_b);
	return NULL;
}

static void lock_a_then_b(void)
{
	if (rewait)
		sleep_in_a_join();
	WORKLOAD_CHECK(pthread_mutex_lock(&lock_a));
	pthread_barrier_wait(&both_hold_one);
	workload_say("blocking");
	take(&lock_b);
	pthread_mutex_unlock(&lock_a);
}

int main(int argc, char **argv)
{
	struct sigaction interrupt = { .sa_handler = interrupt_for_a_while };
	const char *type = argc > 1 ? argv[1] : "normal";
	pthread_t other;

	ordered = argc > 2 && !strcmp(argv[2], "ordered");
	rewait = argc > 2 && !strcmp(argv[2], "rewait");
	timed_ms = argc > 2 && !ordered && !rewait ? atol(argv[2]) : 0;
	sigaction(SIGUSR1, &interrupt, NULL);
	workload_mutex_init(&lock_a, type, 0);
	workload_mutex_init(&lock_b, type, 0);
	WORKLOAD_CHECK(pthread_barrier_init(&both_hold_one, NULL, 2));
	workload_say("started");
	WORKLOAD_CHECK(pthread_create(
		&other, NULL,
		ordered ? lock_a_then_b_often_then_linger : lock_b_then_a,
		NULL));
	if (ordered)
		lock_a_then_b_often(NULL);
	else
		lock_a_then_b();
	WORKLOAD_CHECK(pthread_join(other, NULL));
	workload_say("done");
	return 0;
}
