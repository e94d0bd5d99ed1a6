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
#include <pthread.h>
#include <stdatomic.h>
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
};

struct reply {
	long status;
	char body[4096];
	size_t len;
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

/* GET path, with an Authorization header when auth is not NULL. */
static struct reply get(struct world *w, const char *path, const char *auth)
{
	struct reply reply = { 0 };
	struct curl_slist *headers = NULL;
	CURL *curl = curl_easy_init();
	char url[160];

	snprintf(url, sizeof(url), "%s%s", w->base, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
	if (auth) {
		headers = curl_slist_append(headers, auth);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	}
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return reply;
}

static void start(struct world *w, const char *token)
{
	struct ks_http_config cfg = {
		.listen = "127.0.0.1:0",
		.token = token,
		.board = w->board,
	};
	char err[256];

	w->server = ks_http_server_start(&cfg, err, sizeof(err));
	assert_non_null(w->server);
	snprintf(w->base, sizeof(w->base), "http://%s",
		 ks_http_server_address(w->server));
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
	assert_int_equal(get(w, "/", NULL).status, 401);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_probes_follow_the_agents_phases),
		T(test_documents_are_served_as_published),
		T(test_a_stale_set_is_renewed_on_demand),
		T(test_a_token_guards_all_but_the_probes),
		T(test_the_page_is_embedded_and_the_rest_is_not_found),
		T(test_the_token_file_is_its_first_line),
#undef T
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
