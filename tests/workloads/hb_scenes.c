// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Scenes whose happens-before order is known by construction, for the
 * end-to-end tests of the order knotscope exports.  Every wait in them
 * blocks for a few milliseconds (the other side sleeps first), so each
 * becomes a span; the sleeps make the waits, the order comes from the
 * synchronisation alone.
 *
 *   handoff ROUNDS   two threads take turns holding one mutex
 *   pingpong ROUNDS  two pairs of threads, each pair bouncing a byte over
 *                    two pipes; the pairs share nothing
 *   fork             a read before fork(), one in the child, one after the
 *                    parent reaped the child
 *   condvar          a read, then a condvar signal the other thread waits
 *                    for
 *
 * Prints "role NAME TID" for each thread that makes spans, then "done".
 */
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "workload.h"

#define SLEEP_MS 3

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void say_role(const char *name)
{
	printf("role %s %ld\n", name, (long)syscall(SYS_gettid));
	fflush(stdout);
}

static void make_pipe(int fds[2])
{
	if (pipe(fds))
		workload_die("pipe", errno);
}

static void put_byte(int fd)
{
	char byte = 'x';

	if (write(fd, &byte, 1) != 1)
		workload_die("write", errno);
}

static void get_byte(int fd)
{
	char byte;

	if (read(fd, &byte, 1) != 1)
		workload_die("read", errno ? errno : EPIPE);
}

/* Writes a byte after a pause: the reader blocks meanwhile. */
static void *late_writer(void *arg)
{
	sleep_ms(SLEEP_MS);
	put_byte(*(int *)arg);
	return NULL;
}

/* A read of a pipe that blocks until a thread of our own writes. */
static void blocking_read(void)
{
	int fds[2];
	pthread_t writer;

	make_pipe(fds);
	WORKLOAD_CHECK(pthread_create(&writer, NULL, late_writer, &fds[1]));
	get_byte(fds[0]);
	WORKLOAD_CHECK(pthread_join(writer, NULL));
	close(fds[0]);
	close(fds[1]);
}

/* --- handoff */

static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static int rounds;

static void *take_turns(void *arg)
{
	say_role(arg);
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&handoff_lock);
		sleep_ms(SLEEP_MS);
		pthread_mutex_unlock(&handoff_lock);
		/* Let the other thread, blocked all along, have it. */
		sleep_ms(1);
	}
	return NULL;
}

static void handoff(void)
{
	pthread_t a, b;

	WORKLOAD_CHECK(pthread_create(&a, NULL, take_turns, "handoff-a"));
	WORKLOAD_CHECK(pthread_create(&b, NULL, take_turns, "handoff-b"));
	WORKLOAD_CHECK(pthread_join(a, NULL));
	WORKLOAD_CHECK(pthread_join(b, NULL));
}

/* --- pingpong */

struct player {
	const char *name;
	int in, out;
	bool serves;
};

static void *play(void *arg)
{
	struct player *player = arg;

	say_role(player->name);
	for (int i = 0; i < rounds; i++) {
		if (!player->serves || i)
			get_byte(player->in);
		sleep_ms(SLEEP_MS);
		put_byte(player->out);
	}
	return NULL;
}

static void pingpong(void)
{
	static const char *const names[4] = { "ping-a", "pong-a", "ping-b",
					      "pong-b" };
	struct player players[4];
	pthread_t threads[4];
	int ab[2][2], ba[2][2];

	for (int pair = 0; pair < 2; pair++) {
		make_pipe(ab[pair]);
		make_pipe(ba[pair]);
		players[2 * pair] =
			(struct player){ names[2 * pair], ba[pair][0],
					 ab[pair][1], true };
		players[2 * pair + 1] =
			(struct player){ names[2 * pair + 1], ab[pair][0],
					 ba[pair][1], false };
	}
	for (int i = 0; i < 4; i++)
		WORKLOAD_CHECK(
			pthread_create(&threads[i], NULL, play, &players[i]));
	for (int i = 0; i < 4; i++)
		WORKLOAD_CHECK(pthread_join(threads[i], NULL));
}

/* --- fork */

static void fork_scene(void)
{
	pid_t child;
	int status;

	say_role("parent");
	blocking_read();
	child = fork();
	if (child < 0)
		workload_die("fork", errno);
	if (!child) {
		say_role("child");
		blocking_read();
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child)
		workload_die("waitpid", errno);
	blocking_read();
}

/* --- condvar */

static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int signalled;

static void *signaller(void *arg)
{
	say_role("signaller");
	blocking_read();
	pthread_mutex_lock(&cond_lock);
	signalled = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static void condvar(void)
{
	pthread_t thread;

	say_role("waiter");
	pthread_mutex_lock(&cond_lock);
	WORKLOAD_CHECK(pthread_create(&thread, NULL, signaller, NULL));
	while (!signalled)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	WORKLOAD_CHECK(pthread_join(thread, NULL));
}

int main(int argc, char **argv)
{
	const char *scene = argc > 1 ? argv[1] : "";

	rounds = argc > 2 ? atoi(argv[2]) : 10;
	workload_say("started");
	if (!strcmp(scene, "handoff")) {
		handoff();
	} else if (!strcmp(scene, "pingpong")) {
		pingpong();
	} else if (!strcmp(scene, "fork")) {
		fork_scene();
	} else if (!strcmp(scene, "condvar")) {
		condvar();
	} else {
		fprintf(stderr,
			"usage: hb_scenes handoff|pingpong ROUNDS | fork | "
			"condvar\n");
		return 2;
	}
	workload_say("done");
	return 0;
}
