// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Heavy contention without deadlock: many threads take several of a few
 * mutexes, always in the same global order, for a given time.  With
 * REST_MS, each thread sleeps that long after every 20 ms of contention,
 * holding no lock: no lock wait lasts nearly as long.
 *
 * usage: contention THREADS LOCKS SECONDS [REST_MS]
 */
#include "workload.h"

#define MAX_LOCKS 64
#define MAX_THREADS 256

static pthread_mutex_t locks[MAX_LOCKS];
static unsigned long counters[MAX_LOCKS];
static int nr_locks;
static double stop_at;
static long rest_ms;

/* After every 20 ms of contention, a rest of rest_ms, if any. */
static void rest_now_and_then(double *burst_began)
{
	struct timespec rest = { rest_ms / 1000, rest_ms % 1000 * 1000000 };

	if (!rest_ms || workload_now() < *burst_began + 0.02)
		return;
	nanosleep(&rest, NULL);
	*burst_began = workload_now();
}

static void *transfer_in_order(void *arg)
{
	unsigned int seed = (unsigned int)(long)arg;
	double burst_began = workload_now();
	unsigned long rounds = 0;

	while (workload_now() < stop_at) {
		int first = rand_r(&seed) % nr_locks;
		int second = rand_r(&seed) % nr_locks;
		int low = first < second ? first : second;
		int high = first < second ? second : first;

		/* Lower index first, always: a lock order with no cycle. */
		WORKLOAD_CHECK(pthread_mutex_lock(&locks[low]));
		if (high != low)
			WORKLOAD_CHECK(pthread_mutex_lock(&locks[high]));
		counters[low]++;
		counters[high]++;
		if (high != low)
			pthread_mutex_unlock(&locks[high]);
		pthread_mutex_unlock(&locks[low]);
		rounds++;
		rest_now_and_then(&burst_began);
	}
	return (void *)rounds;
}

int main(int argc, char **argv)
{
	int nr_threads = argc > 1 ? atoi(argv[1]) : 16;
	pthread_t threads[MAX_THREADS];
	unsigned long total = 0;

	nr_locks = argc > 2 ? atoi(argv[2]) : 4;
	stop_at = workload_now() + (argc > 3 ? atof(argv[3]) : 10);
	rest_ms = argc > 4 ? atol(argv[4]) : 0;
	if (nr_threads < 1 || nr_threads > MAX_THREADS || nr_locks < 1 ||
	    nr_locks > MAX_LOCKS || rest_ms < 0)
		workload_die("contention", EINVAL);
	for (int i = 0; i < nr_locks; i++)
		workload_mutex_init(&locks[i], "normal", 0);
	workload_say("started");
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(pthread_create(&threads[i], NULL,
					      transfer_in_order,
					      (void *)(long)(i + 1)));
	for (int i = 0; i < nr_threads; i++) {
		void *rounds;

		pthread_join(threads[i], &rounds);
		total += (unsigned long)rounds;
	}
	printf("rounds %lu\n", total);
	workload_say("done");
	return 0;
}
