// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Opposite lock orders made safe with trylock and back-off: each thread
 * takes its first lock, tries the second, and on failure releases the
 * first and retries.  Plenty of blocking, never a cycle of blocked threads.
 *
 * usage: trylock SECONDS
 */
#include <sched.h>

#include "workload.h"

static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static double stop_at;

struct order {
	pthread_mutex_t *first;
	pthread_mutex_t *second;
	unsigned long backoffs;
};

static void *lock_with_backoff(void *arg)
{
	struct order *order = arg;

	while (workload_now() < stop_at) {
		WORKLOAD_CHECK(pthread_mutex_lock(order->first));
		if (pthread_mutex_trylock(order->second)) {
			pthread_mutex_unlock(order->first);
			order->backoffs++;
			sched_yield();
			continue;
		}
		pthread_mutex_unlock(order->second);
		pthread_mutex_unlock(order->first);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct order orders[4] = {
		{ &lock_a, &lock_b, 0 },
		{ &lock_b, &lock_a, 0 },
		{ &lock_a, &lock_b, 0 },
		{ &lock_b, &lock_a, 0 },
	};
	pthread_t threads[4];
	unsigned long backoffs = 0;

	stop_at = workload_now() + (argc > 1 ? atof(argv[1]) : 5);
	workload_say("started");
	for (int i = 0; i < 4; i++)
		WORKLOAD_CHECK(pthread_create(&threads[i], NULL,
					      lock_with_backoff, &orders[i]));
	for (int i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
		backoffs += orders[i].backoffs;
	}
	printf("backoffs %lu\n", backoffs);
	workload_say("done");
	return 0;
}
