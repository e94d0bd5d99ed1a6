// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Two threads move money between two accounts in opposite orders, with
 * the C++ standard library's locks: std::mutex through std::lock_guard, or
 * std::shared_mutex through std::unique_lock (a writer each).  A barrier
 * between the first and the second lock makes the deadlock certain.
 *
 * usage: cxx_locks mutex|shared [ordered]
 * With "ordered" both threads lock the two accounts in the same order,
 * many times, without the barrier: contention, never a deadlock.
 */
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <shared_mutex>
#include <thread>
#include <unistd.h>

#define ORDERED_ROUNDS 5000

template <typename Lock> struct account {
	Lock lock;
	long balance = 100;
};

static pthread_barrier_t both_hold_one;
static bool ordered;

static void say(const char *state)
{
	printf("%s %d\n", state, (int)getpid());
	fflush(stdout);
}

/* Held long enough for the other thread to find the locks taken. */
template <typename Lock>
static void settle(account<Lock> &from, account<Lock> &to)
{
	for (volatile int spin = 0; spin < 2000; spin++)
		;
	from.balance--;
	to.balance++;
}

static void transfer(account<std::mutex> &from, account<std::mutex> &to)
{
	std::lock_guard<std::mutex> hold_from(from.lock);
	if (!ordered)
		pthread_barrier_wait(&both_hold_one);
	std::lock_guard<std::mutex> hold_to(to.lock);
	settle(from, to);
}

static void audit(account<std::shared_mutex> &from,
		  account<std::shared_mutex> &to)
{
	std::unique_lock<std::shared_mutex> hold_from(from.lock);
	if (!ordered)
		pthread_barrier_wait(&both_hold_one);
	std::unique_lock<std::shared_mutex> hold_to(to.lock);
	settle(from, to);
}

template <typename Lock>
static void run(void (*move)(account<Lock> &, account<Lock> &))
{
	static account<Lock> a, b;
	int rounds = ordered ? ORDERED_ROUNDS : 1;
	std::thread other([&] {
		for (int i = 0; i < rounds; i++)
			move(ordered ? a : b, ordered ? b : a);
		/* Joined late: the join blocks in the kernel for certain. */
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	});

	for (int i = 0; i < rounds; i++)
		move(a, b);
	other.join();
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "mutex";

	ordered = argc > 2 && !strcmp(argv[2], "ordered");
	pthread_barrier_init(&both_hold_one, nullptr, 2);
	say("started");
	if (!strcmp(kind, "shared"))
		run<std::shared_mutex>(audit);
	else
		run<std::mutex>(transfer);
	say("done");
	return 0;
}
