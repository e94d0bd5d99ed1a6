// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * N dining philosophers who each take the left fork, wait until all hold
 * one, then reach for the right fork: an N-thread cycle, for certain.
 *
 * usage: philosophers N   (2..64)
 */
#include "workload.h"

#define MAX_PHILOSOPHERS 64

static pthread_mutex_t forks[MAX_PHILOSOPHERS];
static pthread_barrier_t all_hold_left;
static int nr_philosophers;

static void *philosopher_dines(void *arg)
{
	int seat = (int)(long)arg;

	WORKLOAD_CHECK(pthread_mutex_lock(&forks[seat]));
	pthread_barrier_wait(&all_hold_left);
	WORKLOAD_CHECK(
		pthread_mutex_lock(&forks[(seat + 1) % nr_philosophers]));
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[MAX_PHILOSOPHERS];

	nr_philosophers = argc > 1 ? atoi(argv[1]) : 5;
	if (nr_philosophers < 2 || nr_philosophers > MAX_PHILOSOPHERS)
		workload_die("philosophers", EINVAL);
	for (int i = 0; i < nr_philosophers; i++)
		workload_mutex_init(&forks[i], "normal", 0);
	WORKLOAD_CHECK(pthread_barrier_init(&all_hold_left, NULL,
					    (unsigned)nr_philosophers));
	workload_say("started");
	for (int i = 0; i < nr_philosophers; i++)
		WORKLOAD_CHECK(pthread_create(
			&threads[i], NULL, philosopher_dines, (void *)(long)i));
	workload_say("blocking");
	for (int i = 0; i < nr_philosophers; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
