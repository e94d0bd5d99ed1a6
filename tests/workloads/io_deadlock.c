// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Deadlocks through pipes and sockets, between processes and threads, and
 * their look-alikes that are none.
 *
 * usage: io_deadlock MODE
 *   subprocess FILTER  the parent writes 1 MiB to FILTER's stdin (cat) and
 *                      reads its stdout only after: FILTER fills its
 *                      stdout pipe, the parent its stdin pipe
 *   wait-child         the parent waits for its child to exit before
 *                      reading what it writes; the child fills the pipe
 *   pipe-mutex         a thread holds a mutex and reads a pipe; the only
 *                      writer waits for that mutex first; main joins
 *   rpc tcp|unix       two servers, a thread per connection: A's handler
 *                      holds a mutex while it calls B, B's handler calls A
 *                      back, A's second handler waits for the mutex
 *   ping-pong N        two processes send a byte back and forth N times
 *   slow-server        a client waits for an answer a server thread gives
 *                      after sleeping 60 s
 *   sleepy-reader      `yes | sleep 600`: the parent fills a pipe whose
 *                      only reader, its child, sleeps
 *   epoll-idle         a server waits in epoll_wait() on its one
 *                      connection; its client sleeps
 *   alarm-timeout S    the subprocess deadlock, but the parent's write is
 *                      cut short by alarm(S): it says "timed out", exits
 *   self-pipe S        reads a pipe only its SIGCHLD handler writes, when
 *                      a child exits after S seconds: says "woken", exits
 *
 * Each waits until killed, saying "started" first and "blocking" right
 * before the calls that block (the sleepers' after they began to sleep).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "workload.h"

#define BIG (1 << 20)

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0)
			workload_die("write", errno);
		buf += n;
		len -= (size_t)n;
	}
}

/* More than a pipe holds. */
static char *big_buffer(char fill)
{
	char *big = malloc(BIG);

	if (!big)
		workload_die("malloc", ENOMEM);
	memset(big, fill, BIG);
	return big;
}

/* A pipe in fds, then fork(): the child's 0, the parent's the child's pid. */
static pid_t fork_over_pipe(int fds[2])
{
	pid_t pid;

	if (pipe(fds))
		workload_die("pipe", errno);
	pid = fork();
	if (pid < 0)
		workload_die("fork", errno);
	return pid;
}

static void forever(void)
{
	for (;;)
		pause();
}

/* The subprocess deadlock: the parent feeds FILTER before reading it. */
static void subprocess(const char *filter, unsigned int timeout_s)
{
	int to_child[2], from_child[2];
	char *big = big_buffer('x');
	pid_t pid;

	if (pipe(to_child))
		workload_die("pipe", errno);
	pid = fork_over_pipe(from_child);
	if (!pid) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[0]);
		close(to_child[1]);
		close(from_child[0]);
		close(from_child[1]);
		execlp(filter, filter, (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	workload_say("started");
	workload_say("blocking");
	if (timeout_s) {
		alarm(timeout_s);
		/* Interrupted by SIGALRM: a short count, or EINTR. */
		if (write(to_child[1], big, BIG) < BIG) {
			workload_say("timed out");
			kill(pid, SIGKILL);
			exit(0);
		}
	}
	write_all(to_child[1], big, BIG);
	forever();
}

static void on_alarm(int sig)
{
}

/* The subprocess deadlock, but for a timer that ends the parent's write. */
static void alarm_timeout(unsigned int seconds)
{
	struct sigaction action = { .sa_handler = on_alarm };

	/* No SA_RESTART: the write returns when the alarm goes off. */
	sigaction(SIGALRM, &action, NULL);
	subprocess("cat", seconds);
}

static int self_pipe[2];

static void on_child_exit(int sig)
{
	if (write(self_pipe[1], "c", 1) < 0)
		_exit(1);
}

/* The self-pipe trick: a signal handler ends a read only it can end. */
static void self_pipe_wait(unsigned int seconds)
{
	struct sigaction action = { .sa_handler = on_child_exit,
				    .sa_flags = SA_RESTART };
	pid_t pid;
	char c;

	if (pipe(self_pipe))
		workload_die("pipe", errno);
	sigaction(SIGCHLD, &action, NULL);
	pid = fork();
	if (pid < 0)
		workload_die("fork", errno);
	if (!pid) {
		/* Only the parent holds the pipe: no thread can end its read. */
		close(self_pipe[0]);
		close(self_pipe[1]);
		sleep(seconds);
		_exit(0);
	}
	workload_say("started");
	workload_say("blocking");
	if (read(self_pipe[0], &c, 1) != 1)
		workload_die("read", errno);
	workload_say("woken");
	exit(0);
}

/* `yes | sleep 600`: a full pipe whose one reader sleeps, not stuck. */
static void sleepy_reader(void)
{
	int fds[2];
	char *big = big_buffer('y');

	if (!fork_over_pipe(fds)) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execlp("sleep", "sleep", "600", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	workload_say("started");
	workload_say("blocking");
	write_all(fds[1], big, BIG);
	forever();
}

/* A server idle in epoll_wait() on its one connection: nothing comes in
 * because the client sleeps, but it could send at any time. */
static void epoll_idle(void)
{
	struct epoll_event event = { .events = EPOLLIN }, out;
	int sv[2], epfd;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		workload_die("socketpair", errno);
	pid = fork();
	if (pid < 0)
		workload_die("fork", errno);
	if (!pid) {
		close(sv[0]);
		epfd = epoll_create1(0);
		event.data.fd = sv[1];
		if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sv[1], &event))
			workload_die("epoll", errno);
		for (;;)
			if (epoll_wait(epfd, &out, 1, -1) < 0 && errno != EINTR)
				workload_die("epoll_wait", errno);
	}
	close(sv[1]);
	workload_say("started");
	workload_say("blocking");
	sleep(600);
	forever();
}

/* The parent waits for its child, which first fills the pipe to it. */
static void wait_child(void)
{
	int pipe_fds[2];
	char *big = big_buffer('y');
	pid_t pid = fork_over_pipe(pipe_fds);

	if (!pid) {
		close(pipe_fds[0]);
		write_all(pipe_fds[1], big, BIG);
		_exit(0);
	}
	close(pipe_fds[1]);
	workload_say("started");
	workload_say("blocking");
	waitpid(pid, NULL, 0);
	forever();
}

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t reader_holds;
static int pipe_fds[2];

static void *read_holding_the_mutex(void *arg)
{
	char c;

	pthread_mutex_lock(&mutex);
	pthread_barrier_wait(&reader_holds);
	if (read(pipe_fds[0], &c, 1) < 0)
		workload_die("read", errno);
	pthread_mutex_unlock(&mutex);
	return NULL;
}

static void *write_under_the_mutex(void *arg)
{
	pthread_barrier_wait(&reader_holds);
	pthread_mutex_lock(&mutex);
	write_all(pipe_fds[1], "z", 1);
	pthread_mutex_unlock(&mutex);
	return NULL;
}

/* A pipe only the process's own threads write, and a mutex across it. */
static void pipe_mutex(void)
{
	pthread_t reader, writer;

	if (pipe(pipe_fds))
		workload_die("pipe", errno);
	pthread_barrier_init(&reader_holds, NULL, 2);
	workload_say("started");
	workload_say("blocking");
	WORKLOAD_CHECK(
		pthread_create(&reader, NULL, read_holding_the_mutex, NULL));
	WORKLOAD_CHECK(
		pthread_create(&writer, NULL, write_under_the_mutex, NULL));
	pthread_join(reader, NULL);
	pthread_join(writer, NULL);
}

/* --- rpc: tiny HTTP/1.1 requests and answers over TCP or unix sockets. */

static bool use_unix;

struct endpoint {
	struct sockaddr_storage addr;
	socklen_t len;
};

static int listen_on(const char *name, struct endpoint *at)
{
	int fd = socket(use_unix ? AF_UNIX : AF_INET, SOCK_STREAM, 0);

	memset(at, 0, sizeof(*at));
	if (use_unix) {
		struct sockaddr_un *un = (struct sockaddr_un *)&at->addr;

		/* Abstract names: nothing left behind in the file system. */
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1,
			 "io-deadlock-%d-%s", (int)getpid(), name);
		at->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + strlen(un->sun_path + 1));
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&at->addr;

		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		at->len = sizeof(*in);
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&at->addr, at->len) ||
	    listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)&at->addr, &at->len))
		workload_die("listen", errno);
	return fd;
}

static int connect_to(const struct endpoint *at)
{
	int fd = socket(at->addr.ss_family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&at->addr, at->len))
		workload_die("connect", errno);
	return fd;
}

/* Reads one request or answer: up to its blank line. */
static void read_message(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n <= 0)
			workload_die("read", n ? errno : EPIPE);
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return;
	}
}

static void call(const struct endpoint *at, const char *path)
{
	char request[128], answer[256];
	int fd = connect_to(at);

	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: local\r\n\r\n", path);
	write_all(fd, request, strlen(request));
	read_message(fd, answer, sizeof(answer));
	close(fd);
}

static void answer(int fd)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

	write_all(fd, ok, sizeof(ok) - 1);
}

static struct endpoint server_a, server_b;

/* A's handler: /call takes the mutex and calls B; /inner takes it too. */
static void *serve_a(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char request[256];

	read_message(fd, request, sizeof(request));
	pthread_mutex_lock(&mutex);
	if (!strncmp(request, "GET /call ", 10))
		call(&server_b, "/callback");
	pthread_mutex_unlock(&mutex);
	answer(fd);
	close(fd);
	return NULL;
}

/* B's handler: /callback calls A back. */
static void *serve_b(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char request[256];

	read_message(fd, request, sizeof(request));
	call(&server_a, "/inner");
	answer(fd);
	close(fd);
	return NULL;
}

static void serve(int listener, void *(*handler)(void *))
{
	for (;;) {
		int fd = accept(listener, NULL, NULL);
		pthread_t thread;

		if (fd < 0)
			workload_die("accept", errno);
		WORKLOAD_CHECK(pthread_create(&thread, NULL, handler,
					      (void *)(intptr_t)fd));
		pthread_detach(thread);
	}
}

static pid_t spawn_server(int listener, void *(*handler)(void *))
{
	pid_t pid = fork();

	if (pid < 0)
		workload_die("fork", errno);
	if (!pid)
		serve(listener, handler);
	close(listener);
	return pid;
}

static void rpc(const char *transport)
{
	int a, b;

	use_unix = !strcmp(transport, "unix");
	a = listen_on("a", &server_a);
	b = listen_on("b", &server_b);
	spawn_server(a, serve_a);
	spawn_server(b, serve_b);
	workload_say("started");
	workload_say("blocking");
	call(&server_a, "/call");
	forever();
}

/* Busy, not stuck: a byte goes back and forth as fast as it can. */
static void ping_pong(long rounds)
{
	int there[2], back[2];
	char c = 0;
	pid_t pid;

	if (pipe(there) || pipe(back))
		workload_die("pipe", errno);
	pid = fork();
	if (pid < 0)
		workload_die("fork", errno);
	if (!pid) {
		while (read(there[0], &c, 1) == 1)
			write_all(back[1], &c, 1);
		_exit(0);
	}
	workload_say("started");
	workload_say("blocking");
	for (long i = 0; i < rounds; i++) {
		write_all(there[1], &c, 1);
		if (read(back[0], &c, 1) != 1)
			workload_die("read", errno);
	}
	workload_say("done");
	forever();
}

static void *sleep_then_answer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char request[256];

	read_message(fd, request, sizeof(request));
	sleep(60);
	answer(fd);
	return NULL;
}

/* A client waits on a server that is slow, not stuck. */
static void slow_server(void)
{
	int listener = listen_on("slow", &server_a);

	spawn_server(listener, sleep_then_answer);
	workload_say("started");
	workload_say("blocking");
	call(&server_a, "/slow");
	forever();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "subprocess") && argc > 2)
		subprocess(argv[2], 0);
	else if (!strcmp(mode, "alarm-timeout") && argc > 2)
		alarm_timeout((unsigned int)atoi(argv[2]));
	else if (!strcmp(mode, "self-pipe") && argc > 2)
		self_pipe_wait((unsigned int)atoi(argv[2]));
	else if (!strcmp(mode, "sleepy-reader"))
		sleepy_reader();
	else if (!strcmp(mode, "epoll-idle"))
		epoll_idle();
	else if (!strcmp(mode, "wait-child"))
		wait_child();
	else if (!strcmp(mode, "pipe-mutex"))
		pipe_mutex();
	else if (!strcmp(mode, "rpc") && argc > 2)
		rpc(argv[2]);
	else if (!strcmp(mode, "ping-pong") && argc > 2)
		ping_pong(atol(argv[2]));
	else if (!strcmp(mode, "slow-server"))
		slow_server();
	else
		workload_die(mode, EINVAL);
	return 0;
}
