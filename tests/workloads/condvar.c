// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Producers and consumers on a bounded queue with a mutex and two
 * condition variables: threads block in pthread_cond_wait() all the time,
 * often while another thread holds the mutex, and nothing deadlocks.
 *
 * usage: condvar SECONDS
 */
#include "workload.h"

#define QUEUE_SIZE 8
#define NR_PRODUCERS 3
#define NR_CONSUMERS 3

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static int queue_len;
static int stopping;
static unsigned long consumed;
static double stop_at;

static void *produce(void *arg)
{
	while (workload_now() < stop_at) {
		pthread_mutex_lock(&queue_lock);
		while (queue_len == QUEUE_SIZE && !stopping)
			pthread_cond_wait(&not_full, &queue_lock);
		queue_len++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&queue_lock);
	}
	pthread_mutex_lock(&queue_lock);
	stopping = 1;
	pthread_cond_broadcast(&not_empty);
	pthread_cond_broadcast(&not_full);
	pthread_mutex_unlock(&queue_lock);
	return NULL;
}

static void *consume(void *arg)
{
	pthread_mutex_lock(&queue_lock);
	for (;;) {
		while (!queue_len && !stopping)
			pthread_cond_wait(&not_empty, &queue_lock);
		if (!queue_len)
			break;
		queue_len--;
		consumed++;
		pthread_cond_signal(&not_full);
		/* Let producers in between items: more waiting, on purpose. */
		pthread_mutex_unlock(&queue_lock);
		pthread_mutex_lock(&queue_lock);
	}
	pthread_mutex_unlock(&queue_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t producers[NR_PRODUCERS], consumers[NR_CONSUMERS];

	stop_at = workload_now() + (argc > 1 ? atof(argv[1]) : 5);
	workload_say("started");
	for (int i = 0; i < NR_CONSUMERS; i++)
		WORKLOAD_CHECK(
			pthread_create(&consumers[i], NULL, consume, NULL));
	for (int i = 0; i < NR_PRODUCERS; i++)
		WORKLOAD_CHECK(
			pthread_create(&producers[i], NULL, produce, NULL));
	for (int i = 0; i < NR_PRODUCERS; i++)
		pthread_join(producers[i], NULL);
	for (int i = 0; i < NR_CONSUMERS; i++)
		pthread_join(consumers[i], NULL);
	printf("consumed %lu\n", consumed);
	workload_say("done");
	return 0;
}
