// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two processes deadlock on process-shared mutexes in shared memory: the
 * parent takes A then B, the child B then A, with a process-shared barrier
 * in between so both hold one before reaching for the other.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "workload.h"

struct shared {
	pthread_mutex_t account_a;
	pthread_mutex_t account_b;
	pthread_barrier_t both_hold_one;
};

static void transfer(pthread_mutex_t *from, pthread_mutex_t *to,
		     pthread_barrier_t *barrier)
{
	WORKLOAD_CHECK(pthread_mutex_lock(from));
	pthread_barrier_wait(barrier);
	WORKLOAD_CHECK(pthread_mutex_lock(to));
}

int main(void)
{
	struct shared *shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t attr;
	pid_t child;

	if (shm == MAP_FAILED)
		workload_die("mmap", errno);
	workload_mutex_init(&shm->account_a, "normal", 1);
	workload_mutex_init(&shm->account_b, "normal", 1);
	WORKLOAD_CHECK(pthread_barrierattr_init(&attr));
	WORKLOAD_CHECK(
		pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
	WORKLOAD_CHECK(pthread_barrier_init(&shm->both_hold_one, &attr, 2));
	workload_say("started");
	child = fork();
	if (child < 0)
		workload_die("fork", errno);
	if (child == 0) {
		workload_say("child");
		transfer(&shm->account_b, &shm->account_a, &shm->both_hold_one);
		_exit(0);
	}
	workload_say("blocking");
	transfer(&shm->account_a, &shm->account_b, &shm->both_hold_one);
	waitpid(child, NULL, 0);
	return 0;
}
