// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A futex flood: THREADS threads hand a token round a ring, each waiting on
 * its own condition variable until the token comes to it.  Every hand-over
 * is a futex wake and every wait a futex wait, as fast as the scheduler
 * goes: the most records per second a program makes without deadlocking.
 *
 * usage: futex_flood THREADS SECONDS
 */
#include "workload.h"

#define MAX_THREADS 64

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turns[MAX_THREADS];
static int nr_threads;
static int holder;
static int stopping;
static unsigned long passes;
static double stop_at;

static void *pass_token(void *arg)
{
	int self = (int)(long)arg;

	pthread_mutex_lock(&ring_lock);
	for (;;) {
		while (holder != self && !stopping)
			pthread_cond_wait(&turns[self], &ring_lock);
		if (stopping)
			break;
		passes++;
		/* Checked by one thread at a time, under the lock. */
		if (!(passes & 1023) && workload_now() >= stop_at) {
			stopping = 1;
			for (int i = 0; i < nr_threads; i++)
				pthread_cond_signal(&turns[i]);
			break;
		}
		holder = (self + 1) % nr_threads;
		pthread_cond_signal(&turns[holder]);
	}
	pthread_mutex_unlock(&ring_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_THREADS];

	nr_threads = argc > 1 ? atoi(argv[1]) : 4;
	stop_at = workload_now() + (argc > 2 ? atof(argv[2]) : 10);
	if (nr_threads < 2 || nr_threads > MAX_THREADS)
		workload_die("futex_flood", EINVAL);
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(pthread_cond_init(&turns[i], NULL));
	workload_say("started");
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(pthread_create(&threads[i], NULL, pass_token,
					      (void *)(long)i));
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(pthread_join(threads[i], NULL));
	printf("passes %lu\n", passes);
	workload_say("done");
	return 0;
}
