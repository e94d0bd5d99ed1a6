// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads take a read-write lock and a second lock in opposite orders,
 * with a barrier between the first and the second so the deadlock is
 * certain, not a race.
 *
 * usage: rwlock writers|reader|readers [ordered]
 *   writers: both write-lock two rwlocks, A then B and B then A
 *   reader:  one write-locks the rwlock then a mutex; the other takes the
 *            mutex, then read-locks the rwlock (a reader waits for a writer)
 *   readers: one read-locks the rwlock then a mutex; the other takes the
 *            mutex, then write-locks the rwlock (a writer waits for a
 *            reader, which glibc does not name)
 * With "ordered" both threads take the same two locks in the same order,
 * many times, without the barrier: contention, never a deadlock.
 */
#include "workload.h"

#define ORDERED_ROUNDS 5000

enum how { WRITE, READ, MUTEX };

struct take {
	void *lock;
	enum how how;
};

static pthread_rwlock_t rwlock_a = PTHREAD_RWLOCK_INITIALIZER;
static pthread_rwlock_t rwlock_b = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;
static int ordered;

static void acquire(const struct take *t)
{
	switch (t->how) {
	case WRITE:
		WORKLOAD_CHECK(pthread_rwlock_wrlock(t->lock));
		break;
	case READ:
		WORKLOAD_CHECK(pthread_rwlock_rdlock(t->lock));
		break;
	case MUTEX:
		WORKLOAD_CHECK(pthread_mutex_lock(t->lock));
		break;
	}
}

static void release(const struct take *t)
{
	if (t->how == MUTEX)
		pthread_mutex_unlock(t->lock);
	else
		pthread_rwlock_unlock(t->lock);
}

static void take_both(const struct take order[2])
{
	acquire(&order[0]);
	if (!ordered)
		pthread_barrier_wait(&both_hold_one);
	acquire(&order[1]);
	/* Held long enough for the other thread to find them taken. */
	for (volatile int spin = 0; spin < 2000; spin++)
		;
	release(&order[1]);
	release(&order[0]);
}

static void *first_thread(void *arg)
{
	const struct take *order = arg;

	for (int i = 0; i < (ordered ? ORDERED_ROUNDS : 1); i++)
		take_both(order);
	workload_linger();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "writers";
	struct take first[2], second[2];
	pthread_t other;

	ordered = argc > 2 && !strcmp(argv[2], "ordered");
	if (!strcmp(mode, "writers")) {
		first[0] = (struct take){ &rwlock_a, WRITE };
		first[1] = (struct take){ &rwlock_b, WRITE };
		second[0] = (struct take){ &rwlock_b, WRITE };
		second[1] = (struct take){ &rwlock_a, WRITE };
	} else if (!strcmp(mode, "reader")) {
		first[0] = (struct take){ &rwlock_a, WRITE };
		first[1] = (struct take){ &mutex, MUTEX };
		second[0] = (struct take){ &mutex, MUTEX };
		second[1] = (struct take){ &rwlock_a, READ };
	} else if (!strcmp(mode, "readers")) {
		first[0] = (struct take){ &rwlock_a, READ };
		first[1] = (struct take){ &mutex, MUTEX };
		second[0] = (struct take){ &mutex, MUTEX };
		second[1] = (struct take){ &rwlock_a, WRITE };
	} else {
		workload_die(mode, EINVAL);
	}
	if (ordered) {
		/* The same locks, the same order as the first thread. */
		struct take swap = second[0];

		second[0] = second[1];
		second[1] = swap;
	}
	WORKLOAD_CHECK(pthread_barrier_init(&both_hold_one, NULL, 2));
	workload_say("started");
	WORKLOAD_CHECK(pthread_create(&other, NULL, first_thread, first));
	if (!ordered)
		workload_say("blocking");
	for (int i = 0; i < (ordered ? ORDERED_ROUNDS : 1); i++)
		take_both(second);
	WORKLOAD_CHECK(pthread_join(other, NULL));
	workload_say("done");
	return 0;
}
