// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lock throughput for the benchmarks: THREADS threads each do OPS
 * lock/unlock pairs, on a mutex of their own ("private": never contended,
 * never enters the kernel) or on one mutex they all share ("shared": the
 * contended slow path, futex waits and wakes).  Prints the cost per pair,
 * measured inside the program so tracer start-up does not count.
 *
 * usage: lockbench private|shared THREADS OPS
 */
#include "workload.h"

#define MAX_THREADS 64

struct worker {
	pthread_mutex_t *lock;
	long ops;
	unsigned long work;
} __attribute__((aligned(64)));

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t own_locks[MAX_THREADS];
static pthread_barrier_t start_together;

static void *lock_unlock(void *arg)
{
	struct worker *worker = arg;

	pthread_barrier_wait(&start_together);
	for (long i = 0; i < worker->ops; i++) {
		pthread_mutex_lock(worker->lock);
		worker->work++;
		pthread_mutex_unlock(worker->lock);
		/* A little work outside the lock, as real code has. */
		for (int spin = 0; spin < 20; spin++)
			__asm__ volatile("" ::: "memory");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	pthread_t threads[MAX_THREADS];
	int nr_threads;
	long ops;
	double start, elapsed;
	int shared;

	if (argc != 4)
		workload_die("usage: lockbench private|shared THREADS OPS",
			     EINVAL);
	shared = !strcmp(argv[1], "shared");
	nr_threads = atoi(argv[2]);
	ops = atol(argv[3]);
	if (nr_threads < 1 || nr_threads > MAX_THREADS || ops < 1)
		workload_die("lockbench", EINVAL);
	WORKLOAD_CHECK(pthread_barrier_init(&start_together, NULL,
					    (unsigned)nr_threads + 1));
	for (int i = 0; i < nr_threads; i++) {
		pthread_mutex_init(&own_locks[i], NULL);
		workers[i].lock = shared ? &shared_lock : &own_locks[i];
		workers[i].ops = ops;
		WORKLOAD_CHECK(pthread_create(&threads[i], NULL, lock_unlock,
					      &workers[i]));
	}
	pthread_barrier_wait(&start_together);
	start = workload_now();
	for (int i = 0; i < nr_threads; i++)
		pthread_join(threads[i], NULL);
	elapsed = workload_now() - start;
	printf("ns_per_op %.3f elapsed_s %.3f\n",
	       elapsed * 1e9 / ((double)ops * nr_threads), elapsed);
	return 0;
}
