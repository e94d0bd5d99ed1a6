// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The HTTP server over real sockets, with a board the test publishes on
 * as the main loop would: probes through the agent's phases, on-demand
 * publication, authentication, and what is not served.
 */
#include "unit.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "serve/web_server.h"

/* How long a request may take: curl gives up then, and so does the test. */
#define REQUEST_TIMEOUT_S 10

/* A main loop's part, on its own thread: see publish_when_wanted(). */
struct publisher {
	struct ks_board *board;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	bool asked;
};

struct world {
	struct ks_board *board;
	struct ks_http_server *server;
	struct publisher publisher;
	char base[96];
	int port;
	/* Connections a test opened by hand, closed at teardown. */
	int fds[256];
	int nr_fds;
};

struct reply {
	long status;
	CURLcode result;
	char body[4096];
	size_t len;
	char headers[4096];
	size_t headers_len;
};

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *reply = ctx;
	size_t len = size * n;

	if (len > sizeof(reply->body) - 1 - reply->len)
		len = sizeof(reply->body) - 1 - reply->len;
	memcpy(reply->body + reply->len, data, len);
	reply->len += len;
	reply->body[reply->len] = '\0';
	return size * n;
}

static size_t collect_header(char *data, size_t size, size_t n, void *ctx)
{
	struct reply *reply = ctx;
	size_t len = size * n;

	if (len > sizeof(reply->headers) - 1 - reply->headers_len)
		len = sizeof(reply->headers) - 1 - reply->headers_len;
	memcpy(reply->headers + reply->headers_len, data, len);
	reply->headers_len += len;
	reply->headers[reply->headers_len] = '\0';
	return size * n;
}

/* How a request is sent: an extra header, and from which address. */
struct how {
	const char *header; /* "Name: value", or NULL */
	const char *from; /* source address, or NULL */
	long timeout_s; /* 0: REQUEST_TIMEOUT_S */
};

/* GET path as how says; the reply, with the transfer's result. */
static struct reply request(struct world *w, const char *path,
			    const struct how *how)
{
	struct reply reply = { 0 };
	struct curl_slist *headers = NULL;
	CURL *curl = curl_easy_init();
	char url[160];

	snprintf(url, sizeof(url), "%s%s", w->base, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT,
			 how->timeout_s ? how->timeout_s :
					  (long)REQUEST_TIMEOUT_S);
	if (how->header) {
		headers = curl_slist_append(headers, how->header);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	}
	if (how->from)
		curl_easy_setopt(curl, CURLOPT_INTERFACE, how->from);
	reply.result = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return reply;
}

/* GET path, with an Authorization header when auth is not NULL. */
static struct reply get(struct world *w, const char *path, const char *auth)
{
	struct reply reply = request(w, path, &(struct how){ .header = auth });

	assert_int_equal(reply.result, CURLE_OK);
	return reply;
}

static void start_with(struct world *w, const char *token,
		       unsigned int header_timeout_ms)
{
	struct ks_http_config cfg = {
		.listen = "127.0.0.1:0",
		.token = token,
		.board = w->board,
		.header_timeout_ms = header_timeout_ms,
	};
	char err[256];

	w->server = ks_http_server_start(&cfg, err, sizeof(err));
	assert_non_null(w->server);
	snprintf(w->base, sizeof(w->base), "http://%s",
		 ks_http_server_address(w->server));
	w->port = atoi(strrchr(w->base, ':') + 1);
}

static void start(struct world *w, const char *token)
{
	start_with(w, token, 0);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	w->board = ks_board_new();
	*state = w;
	return 0;
}

static void stop_publisher(struct publisher *p);

static int teardown(void **state)
{
	struct world *w = *state;

	/* A failed assertion may have left it running: it reads the board. */
	stop_publisher(&w->publisher);
	for (int i = 0; i < w->nr_fds; i++)
		close(w->fds[i]);
	ks_http_server_stop(w->server);
	ks_board_free(w->board);
	free(w);
	return 0;
}

static struct ks_doc *doc_of(const char *text)
{
	return ks_doc_adopt("application/json", strdup(text), strlen(text));
}

/* A full set with one document, as ks_dashboard_publish() would. */
static void publish(struct world *w, enum ks_doc_id id, const char *text)
{
	struct ks_doc *docs[KS_NR_DOCS] = { 0 };

	docs[id] = doc_of(text);
	ks_board_publish(w->board, docs, ks_now_mono_ns());
}

static void test_probes_follow_the_agents_phases(void **state)
{
	struct world *w = *state;
	struct reply reply;

	start(w, NULL);
	/* Listening before BPF is attached: alive, not ready. */
	reply = get(w, "/readyz", NULL);
	assert_int_equal(reply.status, 503);
	assert_string_equal(reply.body, "starting\n");
	assert_int_equal(get(w, "/healthz", NULL).status, 200);

	ks_board_heartbeat(w->board, ks_now_mono_ns());
	ks_board_set_phase(w->board, KS_PHASE_READY);
	reply = get(w, "/readyz", NULL);
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.body, "ready\n");
	assert_int_equal(get(w, "/healthz", NULL).status, 200);

	/* A main loop that stopped going round is not healthy. */
	ks_board_heartbeat(w->board, ks_now_mono_ns() -
					     2 * KS_HTTP_STALL_MS * 1000000ull);
	reply = get(w, "/healthz", NULL);
	assert_int_equal(reply.status, 503);
	assert_non_null(strstr(reply.body, "main loop stalled for"));

	/* Stopping: not ready, but alive while it flushes. */
	ks_board_set_phase(w->board, KS_PHASE_STOPPING);
	reply = get(w, "/readyz", NULL);
	assert_int_equal(reply.status, 503);
	assert_string_equal(reply.body, "stopping\n");
	assert_int_equal(get(w, "/healthz", NULL).status, 200);
}

static void test_documents_are_served_as_published(void **state)
{
	struct world *w = *state;
	struct reply reply;

	start(w, NULL);
	publish(w, KS_DOC_LOCKS, "{\"locks\":[]}");
	reply = get(w, "/api/locks", NULL);
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.body, "{\"locks\":[]}");
	/* Not in this set: nothing to serve. */
	assert_int_equal(get(w, "/api/graph", NULL).status, 503);
	publish(w, KS_DOC_LOCKS, "{\"locks\":[1]}");
	assert_string_equal(get(w, "/api/locks", NULL).body, "{\"locks\":[1]}");
}

/*
 * Publishes once a reader asked for it.  Like the agent's main loop, it
 * looks at the board's flag on every tick (the board wakes readers, not
 * the main loop), here every millisecond; it gives up when told to stop or
 * once a request would have timed out, so a server that never asks fails
 * the test instead of hanging it.
 */
static void *publish_when_wanted(void *arg)
{
	const struct timespec tick = { .tv_nsec = 1000000 };
	const uint64_t deadline =
		ks_now_mono_ns() + REQUEST_TIMEOUT_S * 1000000000ull;
	struct publisher *p = arg;
	struct ks_doc *docs[KS_NR_DOCS] = { 0 };

	while (!ks_board_wanted(p->board)) {
		if (atomic_load(&p->stop) || ks_now_mono_ns() >= deadline)
			return NULL;
		nanosleep(&tick, NULL);
	}
	p->asked = true;
	docs[KS_DOC_HEALTH] = doc_of("{\"fresh\":true}");
	ks_board_publish(p->board, docs, ks_now_mono_ns());
	return NULL;
}

static void start_publisher(struct publisher *p, struct ks_board *board)
{
	p->board = board;
	p->asked = false;
	atomic_init(&p->stop, false);
	assert_int_equal(
		pthread_create(&p->thread, NULL, publish_when_wanted, p), 0);
	p->running = true;
}

static void stop_publisher(struct publisher *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	p->running = false;
}

static void test_a_stale_set_is_renewed_on_demand(void **state)
{
	struct world *w = *state;
	struct ks_doc *docs[KS_NR_DOCS] = { 0 };
	struct reply reply;

	start(w, NULL);
	/* Published long ago: a request must ask for a fresh one. */
	docs[KS_DOC_HEALTH] = doc_of("{\"fresh\":false}");
	ks_board_publish(w->board, docs,
			 ks_now_mono_ns() -
				 10 * KS_HTTP_MAX_AGE_MS * 1000000ull);
	assert_false(ks_board_wanted(w->board));
	start_publisher(&w->publisher, w->board);
	reply = get(w, "/api/health", NULL);
	stop_publisher(&w->publisher);
	assert_true(w->publisher.asked);
	assert_string_equal(reply.body, "{\"fresh\":true}");
	assert_false(ks_board_wanted(w->board));
}

static void test_a_token_guards_all_but_the_probes(void **state)
{
	struct world *w = *state;
	struct reply reply;

	start(w, "s3cret");
	publish(w, KS_DOC_METRICS, "# nothing\n");
	reply = get(w, "/metrics", NULL);
	assert_int_equal(reply.status, 401);
	/* A browser goes to the login form; programs get the challenge. */
	assert_int_equal(get(w, "/", NULL).status, 303);
	assert_int_equal(get(w, "/api/events", NULL).status, 401);
	assert_int_equal(
		get(w, "/metrics", "Authorization: Bearer s3cre").status, 401);
	assert_int_equal(
		get(w, "/metrics", "Authorization: Bearer s3cret2").status,
		401);
	assert_int_equal(
		get(w, "/metrics", "Authorization: Basic s3cret").status, 401);
	reply = get(w, "/metrics", "Authorization: Bearer s3cret");
	assert_int_equal(reply.status, 200);
	assert_string_equal(reply.body, "# nothing\n");
	/* Kubelet probes carry no token. */
	assert_int_equal(get(w, "/healthz", NULL).status, 200);
	assert_int_equal(get(w, "/readyz", NULL).status, 503);
}

/*
 * POST path with body (form-encoded unless type says otherwise), in a
 * session of its own: cookies the server sets go with later requests.
 */
static struct reply post(CURL *session, struct world *w, const char *path,
			 const char *body, const char *type)
{
	struct reply reply = { 0 };
	struct curl_slist *headers = NULL;
	char url[160];

	snprintf(url, sizeof(url), "%s%s", w->base, path);
	curl_easy_setopt(session, CURLOPT_URL, url);
	curl_easy_setopt(session, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(session, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(session, CURLOPT_POSTFIELDS, body);
	if (type) {
		headers = curl_slist_append(headers, type);
		curl_easy_setopt(session, CURLOPT_HTTPHEADER, headers);
	}
	assert_int_equal(curl_easy_perform(session), CURLE_OK);
	curl_easy_getinfo(session, CURLINFO_RESPONSE_CODE, &reply.status);
	curl_easy_setopt(session, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	return reply;
}

/* GET path in the session: with the cookies it holds. */
static long session_get(CURL *session, struct world *w, const char *path)
{
	struct reply reply = { 0 };
	char url[160];
	long status;

	snprintf(url, sizeof(url), "%s%s", w->base, path);
	curl_easy_setopt(session, CURLOPT_URL, url);
	curl_easy_setopt(session, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(session, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(session, CURLOPT_WRITEDATA, &reply);
	assert_int_equal(curl_easy_perform(session), CURLE_OK);
	curl_easy_getinfo(session, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

static void test_a_login_opens_a_session(void **state)
{
	struct world *w = *state;
	CURL *session = curl_easy_init();
	char big[10000];
	struct curl_slist *cookies = NULL;

	start(w, "s3cret");
	publish(w, KS_DOC_METRICS, "# nothing\n");
	/* The cookie engine on, no file. */
	curl_easy_setopt(session, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(session, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(session_get(session, w, "/login"), 200);
	assert_int_equal(post(session, w, "/login", "token=s3cre", NULL).status,
			 401);
	assert_int_equal(session_get(session, w, "/metrics"), 401);
	/* Too long a form, or not a form: no session either. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "token=", 6);
	assert_int_equal(post(session, w, "/login", big, NULL).status, 401);
	assert_int_equal(post(session, w, "/login", "{\"token\":\"s3cret\"}",
			      "Content-Type: application/json")
				 .status,
			 401);
	assert_int_equal(session_get(session, w, "/metrics"), 401);

	assert_int_equal(
		post(session, w, "/login", "token=s3cret", NULL).status, 303);
	curl_easy_getinfo(session, CURLINFO_COOKIELIST, &cookies);
	assert_non_null(cookies);
	/* Netscape format: HttpOnly marks the domain; the value is no token. */
	assert_non_null(strstr(cookies->data, "#HttpOnly_"));
	assert_non_null(strstr(cookies->data, "knotscope_session"));
	assert_null(strstr(cookies->data, "s3cret"));
	curl_slist_free_all(cookies);
	assert_int_equal(session_get(session, w, "/metrics"), 200);

	assert_int_equal(post(session, w, "/logout", "", NULL).status, 303);
	assert_int_equal(session_get(session, w, "/metrics"), 401);
	assert_int_equal(session_get(session, w, "/login"), 200);
	curl_easy_cleanup(session);
}

static void test_the_page_is_embedded_and_the_rest_is_not_found(void **state)
{
	struct world *w = *state;
	struct reply reply;

	start(w, NULL);
	reply = get(w, "/", NULL);
	assert_int_equal(reply.status, 200);
	assert_non_null(strstr(reply.body, "<title>knotscope</title>"));
	assert_int_equal(get(w, "/cytoscape.min.js", NULL).status, 200);
	assert_int_equal(get(w, "/app.js", NULL).status, 200);
	assert_int_equal(get(w, "/etc/passwd", NULL).status, 404);
	assert_int_equal(get(w, "/api/nothing", NULL).status, 404);
}

static void test_the_token_file_is_its_first_line(void **state)
{
	char path[] = "/tmp/ks-token-XXXXXX";
	int fd = mkstemp(path);
	char *token = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc def\r\nnext\n", 14), 14);
	close(fd);
	assert_int_equal(ks_http_read_token(path, &token), 0);
	assert_string_equal(token, "abc def");
	free(token);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "\n", 1), 1);
	close(fd);
	assert_int_equal(ks_http_read_token(path, &token), -EINVAL);
	unlink(path);
	assert_int_equal(ks_http_read_token(path, &token), -ENOENT);
}

/* A TCP connection from address from, sending text (may be ""). */
static int connect_from(struct world *w, const char *from, const char *text)
{
	struct sockaddr_in local = { .sin_family = AF_INET };
	struct sockaddr_in server = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)w->port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, from, &local.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&local, sizeof(local)), 0);
	assert_int_equal(
		connect(fd, (struct sockaddr *)&server, sizeof(server)), 0);
	if (*text)
		assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL),
				 (ssize_t)strlen(text));
	w->fds[w->nr_fds++] = fd;
	return fd;
}

/* Whether the server closes fd within timeout_ms. */
static bool closed_within(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[512];

	while (poll(&p, 1, timeout_ms) == 1) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			return true;
	}
	return false;
}

static const char slow_request[] = "GET /healthz HTTP/1.1\r\nHost: x";

/*
 * Idle connections and ones that trickle their headers (slowloris), more
 * than the old limit of 32: the probe from another client is answered.
 */
static void test_probes_answer_through_a_connection_flood(void **state)
{
	struct world *w = *state;
	struct reply reply;

	start(w, NULL);
	for (int i = 0; i < 40; i++)
		connect_from(w, "127.0.0.1", "");
	for (int i = 0; i < 40; i++)
		connect_from(w, "127.0.0.1", slow_request);
	reply = request(w, "/healthz",
			&(struct how){ .from = "127.0.0.2", .timeout_s = 3 });
	assert_int_equal(reply.result, CURLE_OK);
	assert_int_equal(reply.status, 200);
	reply = request(w, "/readyz",
			&(struct how){ .from = "127.0.0.2", .timeout_s = 3 });
	assert_int_equal(reply.status, 503);
}

/* Many clients: past 112 connections, the idlest goes for each new one. */
static void test_a_full_server_closes_its_idlest_for_a_newcomer(void **state)
{
	struct world *w = *state;
	struct reply reply;
	char from[16];
	int first;

	start(w, NULL);
	first = connect_from(w, "127.0.0.2", "");
	for (int i = 1; i < 8 * 16; i++) {
		snprintf(from, sizeof(from), "127.0.0.%d", 2 + i / 16);
		connect_from(w, from, "");
	}
	reply = request(w, "/healthz",
			&(struct how){ .from = "127.0.0.20", .timeout_s = 3 });
	assert_int_equal(reply.result, CURLE_OK);
	assert_int_equal(reply.status, 200);
	assert_true(closed_within(first, 1000));
}

/* A client gets the header timeout to send a whole request, no more. */
static void test_slow_and_idle_clients_are_closed(void **state)
{
	struct world *w = *state;
	int slow, idle, prompt;

	start_with(w, NULL, 300);
	slow = connect_from(w, "127.0.0.1", slow_request);
	idle = connect_from(w, "127.0.0.1", "");
	prompt = connect_from(
		w, "127.0.0.1",
		"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	assert_true(closed_within(slow, 3000));
	assert_true(closed_within(idle, 3000));
	/* Answered, then closed once it has idled as long. */
	assert_true(closed_within(prompt, 3000));
}

static void test_event_streams_are_limited(void **state)
{
	struct world *w = *state;
	static const char stream[] =
		"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	struct reply reply;
	char buf[256];

	start(w, NULL);
	for (int i = 0; i < 16; i++) {
		int fd = connect_from(w, i < 8 ? "127.0.0.2" : "127.0.0.3",
				      stream);
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		assert_true(n > 0);
		buf[n] = '\0';
		assert_non_null(strstr(buf, "200 OK"));
	}
	reply = request(w, "/api/events",
			&(struct how){ .from = "127.0.0.4", .timeout_s = 3 });
	assert_int_equal(reply.status, 503);
	assert_string_equal(reply.body, "too many event streams\n");
	assert_int_equal(get(w, "/healthz", NULL).status, 200);
}

/* DNS rebinding: a name that is not this server's gets nothing. */
static void test_only_addresses_and_localhost_names(void **state)
{
	struct world *w = *state;
	static const char *const allowed[] = {
		"Host: 127.0.0.1",	 "Host: 127.0.0.1:9464",
		"Host: localhost",	 "Host: localhost:9464",
		"Host: app.localhost:1", "Host: [::1]",
		"Host: [::1]:9464",	 "Host: 10.1.2.3:9464",
	};
	static const char *const refused[] = {
		"Host: evil.example",
		"Host: evil.example:9464",
		"Host: localhost.evil.example",
		"Host: [::1",
		"Host: 127.0.0.1x",
	};
	struct reply reply;

	start(w, NULL);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(*allowed); i++)
		assert_int_equal(get(w, "/", allowed[i]).status, 200);
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		reply = get(w, "/api/health", refused[i]);
		assert_int_equal(reply.status, 403);
	}
}

static void test_no_page_may_frame_the_dashboard(void **state)
{
	struct world *w = *state;

	start(w, NULL);
	assert_non_null(strcasestr(get(w, "/", NULL).headers,
				   "frame-ancestors 'none'"));
	assert_non_null(strcasestr(get(w, "/healthz", NULL).headers,
				   "Content-Security-Policy: frame-ancestors "
				   "'none'"));
}

/* /dev/zero, or a file with no line end: read no further than 4 KiB. */
static void test_the_token_file_is_read_no_further_than_a_token(void **state)
{
	char path[] = "/tmp/ks-token-XXXXXX";
	char line[5000];
	int fd = mkstemp(path);
	char *token = NULL;

	assert_int_equal(ks_http_read_token("/dev/zero", &token), -EINVAL);
	memset(line, 'a', sizeof(line));
	assert_int_equal(write(fd, line, sizeof(line)), (ssize_t)sizeof(line));
	close(fd);
	assert_int_equal(ks_http_read_token(path, &token), -E2BIG);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_probes_follow_the_agents_phases),
		T(test_documents_are_served_as_published),
		T(test_a_stale_set_is_renewed_on_demand),
		T(test_a_token_guards_all_but_the_probes),
		T(test_a_login_opens_a_session),
		T(test_the_page_is_embedded_and_the_rest_is_not_found),
		T(test_the_token_file_is_its_first_line),
		T(test_probes_answer_through_a_connection_flood),
		T(test_a_full_server_closes_its_idlest_for_a_newcomer),
		T(test_slow_and_idle_clients_are_closed),
		T(test_event_streams_are_limited),
		T(test_only_addresses_and_localhost_names),
		T(test_no_page_may_frame_the_dashboard),
		T(test_the_token_file_is_read_no_further_than_a_token),
#undef T
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
