// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The main thread holds a mutex and joins a worker that needs it: the
 * worker waits for the mutex, the main thread waits for the worker to exit.
 */
#include "workload.h"

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t worker_started;

static void *drain_queue(void *arg)
{
	pthread_barrier_wait(&worker_started);
	WORKLOAD_CHECK(pthread_mutex_lock(&queue_lock));
	pthread_mutex_unlock(&queue_lock);
	return NULL;
}

static void shutdown_workers(pthread_t worker)
{
	WORKLOAD_CHECK(pthread_mutex_lock(&queue_lock));
	pthread_barrier_wait(&worker_started);
	workload_say("blocking");
	WORKLOAD_CHECK(pthread_join(worker, NULL));
	pthread_mutex_unlock(&queue_lock);
}

int main(void)
{
	pthread_t worker;

	WORKLOAD_CHECK(pthread_barrier_init(&worker_started, NULL, 2));
	workload_say("started");
	WORKLOAD_CHECK(pthread_create(&worker, NULL, drain_queue, NULL));
	shutdown_workers(worker);
	return 0;
}
