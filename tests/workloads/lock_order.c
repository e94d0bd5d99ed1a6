// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads that never deadlock, one after the other, taking two mutexes:
 *   inverted    A then B, later B then A: a potential deadlock
 *   consistent  A then B both times
 *   trylock     A then B, later B then trylock A (backs off if busy)
 *   reuse       A then B, B destroyed, a new mutex at B's address taken
 *               before A: a different mutex, no inversion
 *
 * usage: lock_order MODE
 */
#include "workload.h"

static pthread_mutex_t account_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t account_b = PTHREAD_MUTEX_INITIALIZER;
static const char *mode;

static void *transfer_a_to_b(void *arg)
{
	WORKLOAD_CHECK(pthread_mutex_lock(&account_a));
	WORKLOAD_CHECK(pthread_mutex_lock(&account_b));
	pthread_mutex_unlock(&account_b);
	pthread_mutex_unlock(&account_a);
	return NULL;
}

static void *transfer_b_to_a(void *arg)
{
	if (!strcmp(mode, "consistent")) {
		transfer_a_to_b(NULL);
		return NULL;
	}
	if (!strcmp(mode, "reuse")) {
		/* The same memory, a new mutex. */
		pthread_mutex_destroy(&account_b);
		pthread_mutex_init(&account_b, NULL);
	}
	WORKLOAD_CHECK(pthread_mutex_lock(&account_b));
	if (!strcmp(mode, "trylock")) {
		if (!pthread_mutex_trylock(&account_a))
			pthread_mutex_unlock(&account_a);
	} else {
		WORKLOAD_CHECK(pthread_mutex_lock(&account_a));
		pthread_mutex_unlock(&account_a);
	}
	pthread_mutex_unlock(&account_b);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t first, second;

	mode = argc > 1 ? argv[1] : "inverted";
	workload_say("started");
	/* Wait to be told to go: a tracer may be attaching. */
	if (getchar() == EOF)
		return 1;
	WORKLOAD_CHECK(pthread_create(&first, NULL, transfer_a_to_b, NULL));
	pthread_join(first, NULL);
	WORKLOAD_CHECK(pthread_create(&second, NULL, transfer_b_to_a, NULL));
	pthread_join(second, NULL);
	workload_say("done");
	return 0;
}
