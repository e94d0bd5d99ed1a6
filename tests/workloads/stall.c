// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads that wait on semaphores, which have no owner: a hang nobody
 * holds a lock in, and the waits that look like one and are not.
 *
 * usage: stall MODE [SECONDS]
 *   sem       the main thread and a worker each wait for the other's
 *             semaphore, which the other would post after its own wait:
 *             every thread blocked for good
 *   ordered   the same two threads post first, then wait: done at once
 *   signal    as sem, but a SIGUSR1 handler posts the main thread's
 *             semaphore: a stall only a signal can end
 *   pool      four workers wait for work that the main thread, asleep in
 *             nanosleep(), hands out after SECONDS
 *   timed     the workers wait; the main thread waits with a timeout
 *   poll      the workers wait; the main thread polls a pipe for SECONDS
 *   pshared   two processes each wait for a semaphore in shared memory
 *             that the other would post: SECONDS later a third posts both
 */
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "workload.h"

#define POOL 4

static sem_t main_turn, worker_turn;
static double seconds;

static void wait_for(sem_t *sem)
{
	while (sem_wait(sem))
		if (errno != EINTR)
			workload_die("sem_wait", errno);
}

static void *worker_waits_first(void *arg)
{
	wait_for(&worker_turn);
	sem_post(&main_turn);
	return NULL;
}

static void *worker_posts_first(void *arg)
{
	sem_post(&main_turn);
	wait_for(&worker_turn);
	workload_linger();
	return NULL;
}

static void post_from_handler(int sig)
{
	sem_post(&main_turn); /* async-signal-safe */
}

/* Each thread waits before it posts: neither ever does. */
static void wait_for_each_other(void *(*worker)(void *))
{
	pthread_t thread;

	WORKLOAD_CHECK(pthread_create(&thread, NULL, worker, NULL));
	workload_say("blocking");
	wait_for(&main_turn);
	sem_post(&worker_turn);
	WORKLOAD_CHECK(pthread_join(thread, NULL));
}

static void *wait_for_work(void *arg)
{
	wait_for(&worker_turn);
	return NULL;
}

/* Workers wait; the main thread does something else, then feeds them. */
static void pool(const char *how)
{
	pthread_t workers[POOL];
	struct timespec nap = { .tv_sec = (time_t)seconds,
				.tv_nsec = (long)((seconds - (time_t)seconds) *
						  1e9) };
	struct timespec deadline;
	int pipefd[2];

	for (int i = 0; i < POOL; i++)
		WORKLOAD_CHECK(
			pthread_create(&workers[i], NULL, wait_for_work, NULL));
	workload_say("blocking");
	if (!strcmp(how, "pool")) {
		nanosleep(&nap, NULL);
	} else if (!strcmp(how, "timed")) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += (time_t)seconds + 1;
		sem_timedwait(&main_turn, &deadline);
	} else {
		if (pipe(pipefd))
			workload_die("pipe", errno);
		poll(&(struct pollfd){ .fd = pipefd[0], .events = POLLIN }, 1,
		     (int)(seconds * 1000));
	}
	for (int i = 0; i < POOL; i++)
		sem_post(&worker_turn);
	for (int i = 0; i < POOL; i++)
		WORKLOAD_CHECK(pthread_join(workers[i], NULL));
}

/* Two processes, each waiting for the other; a third ends it. */
static void pshared(void)
{
	sem_t *sems = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t first, second;

	if (sems == MAP_FAILED)
		workload_die("mmap", errno);
	sem_init(&sems[0], 1, 0);
	sem_init(&sems[1], 1, 0);
	for (int i = 0; i < 2; i++) {
		pid_t child = fork();

		if (child < 0)
			workload_die("fork", errno);
		if (!child) {
			wait_for(&sems[i]);
			sem_post(&sems[1 - i]);
			_exit(0);
		}
		if (i)
			second = child;
		else
			first = child;
	}
	printf("children %d %d\n", (int)first, (int)second);
	workload_say("blocking");
	sleep((unsigned int)seconds);
	sem_post(&sems[0]);
	waitpid(first, NULL, 0);
	waitpid(second, NULL, 0);
}

int main(int argc, char **argv)
{
	struct sigaction post = { .sa_handler = post_from_handler };
	const char *mode = argc > 1 ? argv[1] : "sem";

	seconds = argc > 2 ? atof(argv[2]) : 2;
	sem_init(&main_turn, 0, 0);
	sem_init(&worker_turn, 0, 0);
	workload_say("started");
	if (!strcmp(mode, "sem")) {
		wait_for_each_other(worker_waits_first);
	} else if (!strcmp(mode, "ordered")) {
		wait_for_each_other(worker_posts_first);
	} else if (!strcmp(mode, "signal")) {
		sigaction(SIGUSR1, &post, NULL);
		wait_for_each_other(worker_waits_first);
	} else if (!strcmp(mode, "pool") || !strcmp(mode, "timed") ||
		   !strcmp(mode, "poll")) {
		pool(mode);
	} else if (!strcmp(mode, "pshared")) {
		pshared();
	} else {
		workload_die(mode, EINVAL);
	}
	workload_say("done");
	return 0;
}
