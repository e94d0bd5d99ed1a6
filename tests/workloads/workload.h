/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers shared by the test workloads: real programs, built like any other
 * (no frame pointers forced), that deadlock or stress locks on purpose.
 *
 * Each workload prints "<state> <pid>" lines on stdout so tests can wait for
 * a state instead of sleeping: "started" once running, "blocking" right
 * before the threads make the calls that deadlock, "done" on a clean exit.
 */
#ifndef KS_WORKLOAD_H
#define KS_WORKLOAD_H

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void workload_say(const char *state)
{
	printf("%s %d\n", state, (int)getpid());
	fflush(stdout);
}

static inline void workload_die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err));
	exit(1);
}

#define WORKLOAD_CHECK(call)                       \
	do {                                       \
		int err_ = (call);                 \
		if (err_)                          \
			workload_die(#call, err_); \
	} while (0)

static inline double workload_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User and system time of the whole process so far: what other load on
 * the machine does not inflate the way it does wall-clock time. */
static inline double workload_cpu_seconds(void)
{
	struct rusage usage;

	getrusage(RUSAGE_SELF, &usage);
	return (double)usage.ru_utime.tv_sec + (double)usage.ru_stime.tv_sec +
	       ((double)usage.ru_utime.tv_usec +
		(double)usage.ru_stime.tv_usec) /
		       1e6;
}

/*
 * Ends a thread the main thread joins a little late, so that the join
 * blocks in the kernel for certain: a run that took its locks without a
 * single contended wait still shows one wait to whoever watches it.
 */
static inline void workload_linger(void)
{
	struct timespec pause = { .tv_nsec = 50 * 1000000 };

	nanosleep(&pause, NULL);
}

/* Initializes a mutex of the type named on the command line. */
static inline void workload_mutex_init(pthread_mutex_t *mutex, const char *type,
				       int pshared)
{
	pthread_mutexattr_t attr;

	WORKLOAD_CHECK(pthread_mutexattr_init(&attr));
	if (!strcmp(type, "errorcheck"))
		WORKLOAD_CHECK(pthread_mutexattr_settype(
			&attr, PTHREAD_MUTEX_ERRORCHECK));
	else if (!strcmp(type, "recursive"))
		WORKLOAD_CHECK(pthread_mutexattr_settype(
			&attr, PTHREAD_MUTEX_RECURSIVE));
	else if (!strcmp(type, "pi"))
		WORKLOAD_CHECK(pthread_mutexattr_setprotocol(
			&attr, PTHREAD_PRIO_INHERIT));
	else if (!strcmp(type, "robust"))
		WORKLOAD_CHECK(pthread_mutexattr_setrobust(
			&attr, PTHREAD_MUTEX_ROBUST));
	else if (strcmp(type, "normal"))
		workload_die(type, EINVAL);
	if (pshared)
		WORKLOAD_CHECK(pthread_mutexattr_setpshared(
			&attr, PTHREAD_PROCESS_SHARED));
	WORKLOAD_CHECK(pthread_mutex_init(mutex, &attr));
	pthread_mutexattr_destroy(&attr);
}

#endif /* KS_WORKLOAD_H */
