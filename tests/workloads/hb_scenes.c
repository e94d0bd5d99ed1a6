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
 *   pingpong ROUNDS [unix]  two pairs of threads, each pair bouncing a
 *                    byte over two pipes (or unix stream socket pairs);
 *                    the pairs share nothing
 *   fork             a read before fork(), one in the child, one after the
 *                    parent reaped the child
 *   condvar          a read, then a condvar signal the other thread waits
 *                    for
 *   churn ROUNDS [unix|eventfd]  three processes, each making a pipe
 *                    (or a unix socket pair, an eventfd), writing a byte,
 *                    reading it back and closing the pipe, ROUNDS times:
 *                    they share nothing, though the kernel hands each
 *                    the memory of the others' dead pipes
 *   crowd ROUNDS [unix]  three writers write ROUNDS bytes each (at most 63)
 *                    into one pipe (or unix stream socket pair), each
 *                    after a read of its own, while two readers read it
 *                    a byte at a time: each byte says who wrote it, and
 *                    when; each reader's bytes, in order, are printed as
 *                    "got TID V,V,..." (V = writer << 6 | its write)
 *   sequence ROUNDS [unix]  a thread writes 1..ROUNDS (at most 127) into a
 *                    pipe (or a unix stream socket pair), one byte each,
 *                    each after a read of its own; the reader, once all
 *                    are written, reads them one per read
 *
 * The last two make spans of reads that do not block: run the agent with
 * --min-wait 0.
 *
 * Prints "role NAME TID" for each thread that makes spans, then "done".
 */
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu */
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
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

	/* Any thread of the machine, the parent's too: by its tid. */
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
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

/* Scenes given "unix" or "eventfd" after their rounds use those for pipes. */
static enum { PIPES, UNIX_SOCKETS, EVENTFDS } channels;

/*
 * What fds[1] writes, fds[0] reads: a pipe, a unix stream socket pair, or
 * an eventfd (twice: closing both closes it).
 */
static void make_pipe(int fds[2])
{
	switch (channels) {
	case PIPES:
		if (pipe(fds))
			workload_die("pipe", errno);
		break;
	case UNIX_SOCKETS:
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds))
			workload_die("socketpair", errno);
		break;
	case EVENTFDS:
		fds[0] = eventfd(0, 0);
		fds[1] = fds[0] < 0 ? -1 : dup(fds[0]);
		if (fds[1] < 0)
			workload_die("eventfd", errno);
		break;
	}
}

/* A byte; to an eventfd, the 8 bytes of a count of one. */
static void put_byte(int fd)
{
	uint64_t one = 1;
	size_t size = channels == EVENTFDS ? sizeof(one) : 1;

	if (write(fd, &one, size) != (ssize_t)size)
		workload_die("write", errno);
}

static void get_byte(int fd)
{
	uint64_t value;
	size_t size = channels == EVENTFDS ? sizeof(value) : 1;

	if (read(fd, &value, size) != (ssize_t)size)
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
		volatile pid_t parent = getppid();

		say_role("child");
		blocking_read();
		/*
		 * Exit only into the parent's wait: a reap that did not wait
		 * has no edge by default (the exit woke nobody).
		 */
		await_blocked(&parent, SYS_wait4, NULL);
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

/* --- churn */

#define CHURNERS 3

static void churn(void)
{
	char name[16];
	pid_t children[CHURNERS];
	int fds[2], status;
	cpu_set_t one_cpu;

	/*
	 * On one CPU, taking turns: the object each frees goes back to the
	 * allocator's per-CPU free list, where the next one's comes from.
	 */
	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one_cpu);
	if (sched_setaffinity(0, sizeof(one_cpu), &one_cpu))
		workload_die("sched_setaffinity", errno);
	for (int i = 0; i < CHURNERS; i++) {
		children[i] = fork();
		if (children[i] < 0)
			workload_die("fork", errno);
		if (children[i])
			continue;
		snprintf(name, sizeof(name), "churn-%d", i);
		say_role(name);
		for (int round = 0; round < rounds; round++) {
			make_pipe(fds);
			put_byte(fds[1]);
			get_byte(fds[0]);
			close(fds[0]);
			close(fds[1]);
			sched_yield();
		}
		_exit(0);
	}
	for (int i = 0; i < CHURNERS; i++)
		if (waitpid(children[i], &status, 0) != children[i])
			workload_die("waitpid", errno);
}

/* --- sequence */

static int sequence_pipe[2];
static volatile int sequence_written;
static volatile pid_t sequence_writer_tid;

static void *write_sequence(void *arg)
{
	int own[2];

	sequence_writer_tid = gettid_();
	make_pipe(own);
	for (int i = 1; i <= rounds; i++) {
		char value = (char)i;

		/* A point of this thread before the write: the read's span. */
		put_byte(own[1]);
		get_byte(own[0]);
		if (write(sequence_pipe[1], &value, 1) != 1)
			workload_die("write", errno);
	}
	close(own[0]);
	close(own[1]);
	sequence_written = 1;
	return NULL;
}

/*
 * Waits for the writer by polling, which the kernel shows as no edge: each
 * read is ordered after the write of its own byte only.
 */
static void sequence(void)
{
	pthread_t writer;
	char value;

	/* Values are bytes, each told from the others. */
	if (rounds < 1 || rounds > 127)
		workload_die("sequence: 1 to 127 values", EINVAL);
	make_pipe(sequence_pipe);
	WORKLOAD_CHECK(pthread_create(&writer, NULL, write_sequence, NULL));
	while (!sequence_written)
		sleep_us(1000);
	for (int i = 1; i <= rounds; i++) {
		if (read(sequence_pipe[0], &value, 1) != 1)
			workload_die("read", errno ? errno : EPIPE);
		if (value != i)
			workload_die("read out of sequence", EPROTO);
	}
	say_role("reader");
	printf("role writer %d\n", (int)sequence_writer_tid);
	WORKLOAD_CHECK(pthread_join(writer, NULL));
}

/* --- crowd */

#define CROWD_WRITERS 3
#define CROWD_READERS 2
#define CROWD_MAX 63

static int crowd_pipe[2];

struct crowd_member {
	int index;
	volatile pid_t tid;
	int got[CROWD_WRITERS * CROWD_MAX], nr_got;
};

static void *crowd_write(void *arg)
{
	struct crowd_member *me = arg;
	int own[2];

	me->tid = gettid_();
	make_pipe(own);
	for (int i = 0; i < rounds; i++) {
		char value = (char)(me->index << 6 | i);

		/* A point of this thread before the write: the read's span. */
		put_byte(own[1]);
		get_byte(own[0]);
		if (write(crowd_pipe[1], &value, 1) != 1)
			workload_die("write", errno);
	}
	close(own[0]);
	close(own[1]);
	return NULL;
}

/* Nothing printed here: stdout's lock would connect the threads. */
static void *crowd_read(void *arg)
{
	struct crowd_member *me = arg;
	unsigned char value;
	ssize_t n;

	me->tid = gettid_();
	while ((n = read(crowd_pipe[0], &value, 1)) == 1)
		me->got[me->nr_got++] = value;
	if (n < 0)
		workload_die("read", errno);
	return NULL;
}

/*
 * The writers and readers share nothing but the pipe: a read is ordered
 * after a writer's k-th point exactly when its reader had, by then,
 * returned that writer's k-th byte or a later one (its bytes keep their
 * order in the pipe).
 */
static void crowd(void)
{
	struct crowd_member writers[CROWD_WRITERS], readers[CROWD_READERS];
	pthread_t writer_threads[CROWD_WRITERS], reader_threads[CROWD_READERS];

	if (rounds < 1 || rounds > CROWD_MAX)
		workload_die("crowd: 1 to 63 bytes per writer", EINVAL);
	make_pipe(crowd_pipe);
	for (int i = 0; i < CROWD_READERS; i++) {
		readers[i] = (struct crowd_member){ .index = i };
		WORKLOAD_CHECK(pthread_create(&reader_threads[i], NULL,
					      crowd_read, &readers[i]));
	}
	for (int i = 0; i < CROWD_WRITERS; i++) {
		writers[i] = (struct crowd_member){ .index = i };
		WORKLOAD_CHECK(pthread_create(&writer_threads[i], NULL,
					      crowd_write, &writers[i]));
	}
	for (int i = 0; i < CROWD_WRITERS; i++)
		WORKLOAD_CHECK(pthread_join(writer_threads[i], NULL));
	/* The readers' end of file. */
	close(crowd_pipe[1]);
	for (int i = 0; i < CROWD_READERS; i++)
		WORKLOAD_CHECK(pthread_join(reader_threads[i], NULL));
	for (int i = 0; i < CROWD_WRITERS; i++)
		printf("role writer-%d %d\n", i, (int)writers[i].tid);
	for (int i = 0; i < CROWD_READERS; i++) {
		printf("got %d ", (int)readers[i].tid);
		for (int j = 0; j < readers[i].nr_got; j++)
			printf("%s%d", j ? "," : "", readers[i].got[j]);
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	const char *scene = argc > 1 ? argv[1] : "";

	rounds = argc > 2 ? atoi(argv[2]) : 10;
	if (argc > 3 && !strcmp(argv[3], "unix"))
		channels = UNIX_SOCKETS;
	else if (argc > 3 && !strcmp(argv[3], "eventfd"))
		channels = EVENTFDS;
	workload_say("started");
	if (!strcmp(scene, "handoff")) {
		handoff();
	} else if (!strcmp(scene, "pingpong")) {
		pingpong();
	} else if (!strcmp(scene, "fork")) {
		fork_scene();
	} else if (!strcmp(scene, "condvar")) {
		condvar();
	} else if (!strcmp(scene, "churn")) {
		churn();
	} else if (!strcmp(scene, "crowd")) {
		crowd();
	} else if (!strcmp(scene, "sequence")) {
		sequence();
	} else {
		fprintf(stderr,
			"usage: hb_scenes handoff ROUNDS | pingpong ROUNDS "
			"[unix] | churn ROUNDS [unix|eventfd] | fork | "
			"condvar | crowd ROUNDS [unix] | sequence ROUNDS [unix]\n");
		return 2;
	}
	workload_say("done");
	return 0;
}
