// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Lock throughput for the benchmarks: THREADS threads each do OPS
 * lock/unlock pairs, on a mutex of their own ("private": never contended,
 * never enters the kernel) or on one mutex they all share ("shared": the
 * contended slow path, futex waits and wakes, as often as the scheduler
 * makes them).  "handoff" passes a baton round a ring of threads through
 * semaphores, so every pass is exactly one blocking futex wait and one
 * wake: the worst case for a tracer of waits.  Prints the cost per op,
 * measured inside the program so tracer start-up does not count: in CPU
 * time (user + system, all threads), which other load on the machine does
 * not inflate, and in wall-clock time.
 *
 * usage: lockbench private|shared|handoff THREADS OPS [CRITICAL-SPINS [wait]]
 * With "wait" it says "started PID" and reads a line from stdin before it
 * begins: time for a tracer to attach to it.
 */
#include <semaphore.h>

#include "workload.h"

#define MAX_THREADS 64

struct worker {
	pthread_mutex_t *lock;
	sem_t baton;
	struct worker *next; /* handoff: who gets the baton after me */
	long ops;
	unsigned long work;
} __attribute__((aligned(64)));

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t own_locks[MAX_THREADS];
static pthread_barrier_t start_together;
static int critical_spins;

static void *pass_baton(void *arg)
{
	struct worker *worker = arg;

	pthread_barrier_wait(&start_together);
	for (long i = 0; i < worker->ops; i++) {
		sem_wait(&worker->baton);
		worker->work++;
		sem_post(&worker->next->baton);
	}
	return NULL;
}

static void *lock_unlock(void *arg)
{
	struct worker *worker = arg;

	pthread_barrier_wait(&start_together);
	for (long i = 0; i < worker->ops; i++) {
		pthread_mutex_lock(worker->lock);
		for (int spin = 0; spin < critical_spins; spin++)
			__asm__ volatile("" ::: "memory");
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
	double start, elapsed, cpu_start, cpu;
	int shared, handoff;

	if (argc < 4)
		workload_die("usage: lockbench private|shared THREADS OPS "
			     "[CRITICAL-SPINS]",
			     EINVAL);
	critical_spins = argc > 4 ? atoi(argv[4]) : 0;
	if (argc > 5 && !strcmp(argv[5], "wait")) {
		workload_say("started");
		if (getchar() == EOF)
			return 1;
	}
	shared = !strcmp(argv[1], "shared");
	handoff = !strcmp(argv[1], "handoff");
	nr_threads = atoi(argv[2]);
	ops = atol(argv[3]);
	if (nr_threads < 1 || nr_threads > MAX_THREADS || ops < 1)
		workload_die("lockbench", EINVAL);
	WORKLOAD_CHECK(pthread_barrier_init(&start_together, NULL,
					    (unsigned)nr_threads + 1));
	for (int i = 0; i < nr_threads; i++) {
		pthread_mutex_init(&own_locks[i], NULL);
		sem_init(&workers[i].baton, 0, i == 0);
		workers[i].next = &workers[(i + 1) % nr_threads];
		workers[i].lock = shared ? &shared_lock : &own_locks[i];
		workers[i].ops = ops;
	}
	for (int i = 0; i < nr_threads; i++)
		WORKLOAD_CHECK(pthread_create(
			&threads[i], NULL, handoff ? pass_baton : lock_unlock,
			&workers[i]));
	pthread_barrier_wait(&start_together);
	start = workload_now();
	cpu_start = workload_cpu_seconds();
	for (int i = 0; i < nr_threads; i++)
		pthread_join(threads[i], NULL);
	elapsed = workload_now() - start;
	cpu = workload_cpu_seconds() - cpu_start;
	printf("cpu_ns_per_op %.3f wall_ns_per_op %.3f elapsed_s %.3f\n",
	       cpu * 1e9 / ((double)ops * nr_threads),
	       elapsed * 1e9 / ((double)ops * nr_threads), elapsed);
	return 0;
}
