// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A thread locks a non-recursive mutex it already holds: a cycle of one.
 * For a PI mutex the kernel notices and answers EDEADLK, after which glibc
 * parks the thread forever in an unrelated futex wait.
 *
 * usage: relock [normal|pi]
 */
#include "workload.h"

static pthread_mutex_t config_lock;

static void reload_config_locked(void)
{
	/* The bug: this helper takes the lock its caller already holds. */
	pthread_mutex_lock(&config_lock);
	pthread_mutex_unlock(&config_lock);
}

static void *update_config(void *arg)
{
	WORKLOAD_CHECK(pthread_mutex_lock(&config_lock));
	workload_say("blocking");
	reload_config_locked();
	pthread_mutex_unlock(&config_lock);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t worker;

	workload_mutex_init(&config_lock, argc > 1 ? argv[1] : "normal", 0);
	workload_say("started");
	WORKLOAD_CHECK(pthread_create(&worker, NULL, update_config, NULL));
	pthread_join(worker, NULL);
	return 0;
}
