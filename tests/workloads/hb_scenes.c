// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Scenes whose happens-before order is known by construction, for the
 * end-to-end tests of the order knotscope exports.  Every wait in them
 * blocks for a few milliseconds, so that each becomes a span: the other
 * side waits until the kernel shows the thread blocked in the call
 * (/proc/self/task/TID/syscall), then a little longer, then releases it.
 * Load on the machine makes the waits longer, never absent; the order
 * comes from the synchronisation alone.
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
#include <fcntl.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "workload.h"

#define SLEEP_MS 3

static void sleep_us(long us)
{
	struct timespec ts = { 0, us * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * The system call thread tid is in, or -1 while it runs.  Plain system
 * calls: stdio and malloc take process-wide locks, whose contention would
 * connect threads the scenes keep apart.
 */
static long syscall_of(pid_t tid)
{
	char path[64], text[32];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	len = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (len <= 0)
		return -1;
	text[len] = '\0';
	/* "running" while it runs: no number. */
	return text[0] >= '0' && text[0] <= '9' ? strtol(text, NULL, 10) : -1;
}

/*
 * Returns once thread tid is blocked in system call nr (a read, a futex
 * wait), or *done says it will not be: then SLEEP_MS more, so that the
 * wait is long enough to be a span.
 */
static void await_blocked(volatile pid_t *tid, long nr, volatile int *done)
{
	for (;;) {
		if (done && *done)
			return;
		if (*tid && syscall_of(*tid) == nr)
			break;
		sleep_us(100);
	}
	sleep_us(SLEEP_MS * 1000L);
}

static void say_role(const char *name)
{
	printf("role %s %d\n", name, (int)gettid_());
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

struct late_write {
	int fd;
	volatile pid_t reader;
};

/* Writes a byte once the reader is blocked reading. */
static void *late_writer(void *arg)
{
	struct late_write *write = arg;

	await_blocked(&write->reader, SYS_read, NULL);
	put_byte(write->fd);
	return NULL;
}

/* A read of a pipe that blocks until a thread of our own writes. */
static void blocking_read(void)
{
	struct late_write write = { .reader = gettid_() };
	int fds[2];
	pthread_t writer;

	make_pipe(fds);
	write.fd = fds[1];
	WORKLOAD_CHECK(pthread_create(&writer, NULL, late_writer, &write));
	get_byte(fds[0]);
	WORKLOAD_CHECK(pthread_join(writer, NULL));
	close(fds[0]);
	close(fds[1]);
}

/* --- handoff */

static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static int rounds;

struct turn_taker {
	const char *name;
	volatile pid_t tid;
	volatile int done;
	struct turn_taker *other;
};

static volatile pid_t handoff_owner;

static void *take_turns(void *arg)
{
	struct turn_taker *me = arg, *other = me->other;

	me->tid = gettid_();
	say_role(me->name);
	for (int i = 0; i < rounds; i++) {
		pthread_mutex_lock(&handoff_lock);
		handoff_owner = me->tid;
		/* Hand over only to a thread that waits for it. */
		await_blocked(&other->tid, SYS_futex, &other->done);
		pthread_mutex_unlock(&handoff_lock);
		/* ... and let it have it before asking again. */
		while (handoff_owner == me->tid && !other->done)
			sleep_us(100);
	}
	me->done = 1;
	return NULL;
}

static void handoff(void)
{
	struct turn_taker a = { .name = "handoff-a" },
			  b = { .name = "handoff-b" };
	pthread_t ta, tb;

	a.other = &b;
	b.other = &a;
	WORKLOAD_CHECK(pthread_create(&ta, NULL, take_turns, &a));
	WORKLOAD_CHECK(pthread_create(&tb, NULL, take_turns, &b));
	WORKLOAD_CHECK(pthread_join(ta, NULL));
	WORKLOAD_CHECK(pthread_join(tb, NULL));
}

/* --- pingpong */

struct player {
	const char *name;
	int in, out;
	bool serves;
	volatile pid_t tid;
	struct player *peer;
};

/*
 * The server writes then reads, the other reads then writes, rounds times
 * each: every write finds its peer blocked in the read it ends.
 */
static void *play(void *arg)
{
	struct player *player = arg;

	/* Its role is told after the game: printing takes stdout's lock. */
	player->tid = gettid_();
	for (int i = 0; i < rounds; i++) {
		if (!player->serves)
			get_byte(player->in);
		await_blocked(&player->peer->tid, SYS_read, NULL);
		put_byte(player->out);
		if (player->serves)
			get_byte(player->in);
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
		players[2 * pair] = (struct player){
			.name = names[2 * pair],
			.in = ba[pair][0],
			.out = ab[pair][1],
			.serves = true,
			.peer = &players[2 * pair + 1],
		};
		players[2 * pair + 1] = (struct player){
			.name = names[2 * pair + 1],
			.in = ab[pair][0],
			.out = ba[pair][1],
			.peer = &players[2 * pair],
		};
	}
	for (int i = 0; i < 4; i++)
		WORKLOAD_CHECK(
			pthread_create(&threads[i], NULL, play, &players[i]));
	for (int i = 0; i < 4; i++)
		WORKLOAD_CHECK(pthread_join(threads[i], NULL));
	for (int i = 0; i < 4; i++)
		printf("role %s %d\n", players[i].name, (int)players[i].tid);
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
static volatile pid_t waiter_tid;

static void *signaller(void *arg)
{
	say_role("signaller");
	blocking_read();
	pthread_mutex_lock(&cond_lock);
	signalled = 1;
	await_blocked(&waiter_tid, SYS_futex, NULL);
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static void condvar(void)
{
	pthread_t thread;

	waiter_tid = gettid_();
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
