// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Threads hand a token around a ring of semaphores, and now and then poll
 * a semaphore nobody posts with sem_timedwait(): many blocked waits, each
 * on a semaphore that has no owner, so never a wait-for cycle.
 *
 * usage: semaphore SECONDS
 */
#include <semaphore.h>

#include "workload.h"

#define RING 4

static sem_t turn[RING];
static sem_t never_posted;
static double stop_at;

static void *pass_token(void *arg)
{
	int seat = (int)(long)arg;
	unsigned long passes = 0;

	for (;;) {
		struct timespec soon;

		if (sem_wait(&turn[seat]))
			workload_die("sem_wait", errno);
		if (workload_now() >= stop_at) {
			/* Pass on so every seat sees the deadline. */
			sem_post(&turn[(seat + 1) % RING]);
			break;
		}
		clock_gettime(CLOCK_REALTIME, &soon);
		soon.tv_nsec += 1000000;
		if (soon.tv_nsec >= 1000000000) {
			soon.tv_sec++;
			soon.tv_nsec -= 1000000000;
		}
		if (!(passes++ % 64))
			sem_timedwait(&never_posted, &soon);
		sem_post(&turn[(seat + 1) % RING]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[RING];

	stop_at = workload_now() + (argc > 1 ? atof(argv[1]) : 5);
	for (int i = 0; i < RING; i++)
		sem_init(&turn[i], 0, 0);
	sem_init(&never_posted, 0, 0);
	workload_say("started");
	for (int i = 0; i < RING; i++)
		WORKLOAD_CHECK(pthread_create(&threads[i], NULL, pass_token,
					      (void *)(long)i));
	sem_post(&turn[0]);
	for (int i = 0; i < RING; i++)
		pthread_join(threads[i], NULL);
	workload_say("done");
	return 0;
}
