// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/printable.h"
#include "base/small_file.h"
#include "serve/listen_addr.h"
#include "serve/web_assets.h"
#include "serve/web_login.h"
#include "serve/web_server.h"

/*
 * Connections cost a descriptor and a little memory each, not a thread:
 * a few threads serve them all, and nothing they run waits.  One client
 * may hold KS_HTTP_PER_CLIENT of them; past KS_HTTP_EVICT_ABOVE in all,
 * each new one closes the connection idle the longest, so the limit
 * itself is never reached and a probe always gets in.
 */
#define KS_HTTP_THREADS 2
#define KS_HTTP_MAX_CONNECTIONS 128
#define KS_HTTP_EVICT_ABOVE (KS_HTTP_MAX_CONNECTIONS - 16)
#define KS_HTTP_PER_CLIENT 16
/* Event streams hold their connection for good: a few, not all. */
#define KS_HTTP_MAX_STREAMS 16
/* Request headers and what is read of them, per connection. */
#define KS_HTTP_CONNECTION_MEMORY (16 * 1024)
/* A response nobody reads is given up after this long. */
#define KS_HTTP_IDLE_TIMEOUT_S 10
/* How long a request may be put aside for the main loop to publish. */
#define KS_HTTP_PUBLISH_WAIT_MS 1000
/* Below common proxies' idle timeouts: streams stay open through them. */
#define KS_STREAM_KEEPALIVE_MS 15000
/* How often the waker looks at connections when nothing is published. */
#define KS_HTTP_WAKER_PERIOD_MS 250
/* The most a token file may hold: a token is a line, not a file. */
#define KS_TOKEN_FILE_MAX 4096
/* The login form's body: a token, with room for a long one. */
#define KS_LOGIN_MAX_BODY 8192

/*
 * A connection, from accept to close: whether it is inside a request (or
 * since when it waits for one), and, when it was put aside, until when.
 * fd is a duplicate of the connection's socket, so that shutting it down
 * from another thread can never hit a descriptor the socket's was reused
 * for.
 */
struct ks_conn {
	struct ks_conn *prev, *next;
	struct MHD_Connection *connection;
	int fd;
	bool in_request;
	uint64_t waiting_since_ns;
	bool shut; /* shut down: closing */
	bool parked;
	uint64_t parked_generation;
	uint64_t wake_at_ns;
};

struct ks_http_server {
	struct MHD_Daemon *daemon;
	struct ks_board *board;
	char *token;
	struct ks_sessions *sessions; /* browsers logged in with the token */
	char address[64];
	uint64_t header_timeout_ns;

	pthread_mutex_t lock;
	/* Under lock: */
	struct ks_conn *conns; /* oldest first */
	struct ks_conn *newest;
	unsigned int nr_conns;
	bool stopping;

	atomic_uint streams;
	pthread_t waker;
	bool waker_started;
};

static const struct {
	const char *path;
	enum ks_doc_id doc;
} ks_doc_routes[] = {
	{ "/metrics", KS_DOC_METRICS },
	{ "/api/graph", KS_DOC_GRAPH },
	{ "/api/locks", KS_DOC_LOCKS },
	{ "/api/deadlocks", KS_DOC_DEADLOCKS },
	{ "/api/history", KS_DOC_HISTORY },
	{ "/api/trends", KS_DOC_TRENDS },
	{ "/api/http", KS_DOC_HTTP },
	{ "/api/health", KS_DOC_HEALTH },
	{ "/api/processes", KS_DOC_PROCESSES },
	{ "/api/waits", KS_DOC_WAITS },
};

/* A marker in a request's context: it was put aside once already. */
static char ks_waited;

/* A POST being received, as its request's context: its form's token. */
struct ks_upload {
	struct MHD_PostProcessor *form;
	char token[KS_LOGIN_MAX_BODY + 1];
	size_t received;
};

/* Where the port is, in either family. */
static in_port_t *ks_port_of(struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET6)
		return &((struct sockaddr_in6 *)addr)->sin6_port;
	return &((struct sockaddr_in *)addr)->sin_port;
}

static struct ks_conn *ks_conn_of(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

static enum MHD_Result ks_queue(struct MHD_Connection *connection,
				unsigned int status,
				struct MHD_Response *response,
				const char *content_type)
{
	enum MHD_Result result;

	if (!response)
		return MHD_NO;
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type);
	MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
	/* Nothing here is to be shown inside another site's page. */
	if (!MHD_get_response_header(response, "Content-Security-Policy"))
		MHD_add_response_header(response, "Content-Security-Policy",
					"frame-ancestors 'none'");
	result = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return result;
}

static struct MHD_Response *ks_text_response(const char *text)
{
	return MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result ks_respond_text(struct MHD_Connection *connection,
				       unsigned int status, const char *text)
{
	struct MHD_Response *response = ks_text_response(text);

	if (response)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	return ks_queue(connection, status, response,
			"text/plain; charset=utf-8");
}

static void ks_release_doc(void *doc)
{
	ks_doc_put(doc);
}

/*
 * Puts a suspended connection aside until the board has a set past
 * generation, or until wake_at_ns; the waker resumes it.  The connection
 * is suspended first: the waker must never resume one that is not.
 */
static bool ks_park(struct ks_http_server *server, struct ks_conn *conn,
		    uint64_t generation, uint64_t wake_at_ns)
{
	bool parked;

	if (!conn)
		return false;
	MHD_suspend_connection(conn->connection);
	pthread_mutex_lock(&server->lock);
	/* Stopping: the waker has made its last round, or is making it. */
	parked = !server->stopping;
	conn->parked = parked;
	conn->parked_generation = generation;
	conn->wake_at_ns = wake_at_ns;
	pthread_mutex_unlock(&server->lock);
	if (!parked)
		MHD_resume_connection(conn->connection);
	return parked;
}

/*
 * Sends the published document itself: no copy, a reference held.  A set
 * too old is asked for afresh, and the request put aside until the main
 * loop publishes (or, if it does not within a second, given what there
 * is).
 */
static enum MHD_Result ks_respond_doc(struct ks_http_server *server,
				      struct MHD_Connection *connection,
				      enum ks_doc_id id, void **request)
{
	uint64_t generation;
	bool stale;
	struct ks_doc *doc = ks_board_take(server->board, id,
					   KS_HTTP_MAX_AGE_MS * 1000000ull,
					   &stale, &generation);
	struct ks_conn *conn = ks_conn_of(connection);
	struct MHD_Response *response;

	if (stale && *request != &ks_waited) {
		*request = &ks_waited;
		if (ks_park(server, conn, generation,
			    ks_now_mono_ns() +
				    KS_HTTP_PUBLISH_WAIT_MS * 1000000ull)) {
			ks_doc_put(doc);
			return MHD_YES;
		}
	}
	if (!doc)
		return ks_respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "nothing published yet\n");
	response = MHD_create_response_from_buffer_with_free_callback_cls(
		ks_doc_len(doc), (void *)ks_doc_data(doc), ks_release_doc, doc);
	if (!response) {
		ks_doc_put(doc);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	return ks_queue(connection, MHD_HTTP_OK, response,
			ks_doc_content_type(doc));
}

struct ks_stream {
	struct ks_http_server *server;
	struct ks_conn *conn;
	uint64_t seen; /* the generation last sent */
	struct ks_doc *doc; /* being sent */
	size_t offset;
	bool greeted;
	uint64_t keepalive_at_ns;
};

static ssize_t ks_copy_out(char *buf, size_t max, const char *text)
{
	size_t len = strlen(text);

	if (len > max)
		len = max;
	memcpy(buf, text, len);
	return (ssize_t)len;
}

/*
 * Never waits: with nothing new to send, the connection is put aside
 * until the next publication or keepalive, and MHD calls again once the
 * waker resumes it.
 */
static ssize_t ks_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ks_stream *stream = cls;
	struct ks_http_server *server = stream->server;
	uint64_t now = ks_now_mono_ns();
	size_t len;

	if (!stream->greeted) {
		stream->greeted = true;
		stream->keepalive_at_ns =
			now + KS_STREAM_KEEPALIVE_MS * 1000000ull;
		return ks_copy_out(buf, max, "retry: 2000\n\n");
	}
	if (!stream->doc) {
		if (ks_board_closed(server->board))
			return MHD_CONTENT_READER_END_OF_STREAM;
		stream->doc = ks_board_next_event(server->board, &stream->seen);
		stream->offset = 0;
	}
	if (!stream->doc && now >= stream->keepalive_at_ns) {
		stream->keepalive_at_ns =
			now + KS_STREAM_KEEPALIVE_MS * 1000000ull;
		return ks_copy_out(buf, max, ": keepalive\n\n");
	}
	if (!stream->doc)
		return ks_park(server, stream->conn, stream->seen,
			       stream->keepalive_at_ns) ?
			       0 :
			       MHD_CONTENT_READER_END_OF_STREAM;
	len = ks_doc_len(stream->doc) - stream->offset;
	if (len > max)
		len = max;
	memcpy(buf, ks_doc_data(stream->doc) + stream->offset, len);
	stream->offset += len;
	if (stream->offset == ks_doc_len(stream->doc)) {
		ks_doc_put(stream->doc);
		stream->doc = NULL;
	}
	return (ssize_t)len;
}

static void ks_stream_free(void *cls)
{
	struct ks_stream *stream = cls;

	ks_doc_put(stream->doc);
	ks_board_stream_closed(stream->server->board);
	atomic_fetch_sub(&stream->server->streams, 1);
	free(stream);
}

static enum MHD_Result ks_respond_stream(struct ks_http_server *server,
					 struct MHD_Connection *connection)
{
	struct ks_conn *conn = ks_conn_of(connection);
	struct MHD_Response *response;
	struct ks_stream *stream;

	if (!conn ||
	    atomic_fetch_add(&server->streams, 1) >= KS_HTTP_MAX_STREAMS) {
		atomic_fetch_sub(&server->streams, 1);
		return ks_respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "too many event streams\n");
	}
	stream = calloc(1, sizeof(*stream));
	if (!stream) {
		atomic_fetch_sub(&server->streams, 1);
		return MHD_NO;
	}
	stream->server = server;
	stream->conn = conn;
	ks_board_stream_opened(server->board);
	response = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 4096, ks_stream_read, stream, ks_stream_free);
	if (!response) {
		ks_stream_free(stream);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	return ks_queue(connection, MHD_HTTP_OK, response, "text/event-stream");
}

static enum MHD_Result ks_respond_asset(struct MHD_Connection *connection,
					const char *url)
{
	const char *path = strcmp(url, "/") ? url : "/index.html";
	struct MHD_Response *response;

	for (size_t i = 0; i < ks_nr_web_assets; i++) {
		const struct ks_web_asset *asset = &ks_web_assets[i];

		if (strcmp(asset->path, path))
			continue;
		response = MHD_create_response_from_buffer(
			asset->len, (void *)asset->data,
			MHD_RESPMEM_PERSISTENT);
		if (response) {
			MHD_add_response_header(response,
						MHD_HTTP_HEADER_CACHE_CONTROL,
						"no-cache");
			/* Everything the page needs comes from here. */
			MHD_add_response_header(
				response, "Content-Security-Policy",
				"default-src 'self'; "
				"style-src 'self' 'unsafe-inline'; "
				"img-src 'self' data:; "
				"frame-ancestors 'none'");
		}
		return ks_queue(connection, MHD_HTTP_OK, response,
				asset->content_type);
	}
	return ks_respond_text(connection, MHD_HTTP_NOT_FOUND, "not found\n");
}

static enum MHD_Result ks_respond_health(struct ks_http_server *server,
					 struct MHD_Connection *connection)
{
	uint64_t beat = ks_board_last_heartbeat(server->board);
	uint64_t stalled_ns = beat ? ks_now_mono_ns() - beat : 0;
	char text[64];

	/* Starting and stopping are alive: the loop is not meant to run. */
	if (ks_board_phase(server->board) != KS_PHASE_READY ||
	    stalled_ns < KS_HTTP_STALL_MS * 1000000ull)
		return ks_respond_text(connection, MHD_HTTP_OK, "ok\n");
	snprintf(text, sizeof(text), "main loop stalled for %.1f s\n",
		 (double)stalled_ns / 1e9);
	return ks_respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, text);
}

static enum MHD_Result ks_respond_ready(struct ks_http_server *server,
					struct MHD_Connection *connection)
{
	switch (ks_board_phase(server->board)) {
	case KS_PHASE_READY:
		return ks_respond_text(connection, MHD_HTTP_OK, "ready\n");
	case KS_PHASE_STARTING:
		return ks_respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "starting\n");
	case KS_PHASE_STOPPING:
		break;
	}
	return ks_respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "stopping\n");
}

/* Compares in time that does not depend on where they differ. */
static bool ks_token_matches(const char *given, const char *token)
{
	size_t given_len = strlen(given), len = strlen(token);
	unsigned char diff = given_len != len;

	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)given[i < given_len ? i : 0] ^
			(unsigned char)token[i];
	return !diff;
}

/* The token in an Authorization header, or a session a login opened. */
static bool ks_authorized(struct ks_http_server *server,
			  struct MHD_Connection *connection)
{
	const char *header, *session;

	if (!server->token)
		return true;
	header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_AUTHORIZATION);
	if (header && !strncasecmp(header, "Bearer ", 7))
		return ks_token_matches(header + 7, server->token);
	session = MHD_lookup_connection_value(connection, MHD_COOKIE_KIND,
					      KS_SESSION_COOKIE);
	return session &&
	       ks_sessions_valid(server->sessions, session, ks_now_mono_ns());
}

/* 303 See Other to location, setting cookie (NULL: none). */
static enum MHD_Result ks_redirect(struct MHD_Connection *connection,
				   const char *location, const char *cookie)
{
	struct MHD_Response *response = ks_text_response("");

	if (response) {
		MHD_add_response_header(response, MHD_HTTP_HEADER_LOCATION,
					location);
		MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
		if (cookie)
			MHD_add_response_header(
				response, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	}
	return ks_queue(connection, MHD_HTTP_SEE_OTHER, response,
			"text/plain; charset=utf-8");
}

static enum MHD_Result ks_respond_login_page(struct MHD_Connection *connection,
					     unsigned int status, bool failed)
{
	struct MHD_Response *response = ks_text_response(ks_login_page(failed));

	if (response) {
		MHD_add_response_header(response, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
		MHD_add_response_header(response, "Content-Security-Policy",
					"default-src 'self'");
	}
	return ks_queue(connection, status, response,
			"text/html; charset=utf-8");
}

/* The token field of the login form, as it arrives. */
static enum MHD_Result ks_on_form_field(void *cls, enum MHD_ValueKind kind,
					const char *key, const char *filename,
					const char *content_type,
					const char *transfer_encoding,
					const char *data, uint64_t off,
					size_t size)
{
	struct ks_upload *upload = cls;

	if (strcmp(key, "token"))
		return MHD_YES;
	if (off + size > KS_LOGIN_MAX_BODY)
		return MHD_NO;
	memcpy(upload->token + off, data, size);
	upload->token[off + size] = '\0';
	return MHD_YES;
}

/*
 * POST /login: the right token opens a session and goes to the page;
 * a wrong one gets the form again.  POST /logout ends the session.
 */
static enum MHD_Result ks_finish_post(struct ks_http_server *server,
				      struct MHD_Connection *connection,
				      const char *url, struct ks_upload *upload)
{
	char id[KS_SESSION_ID_LEN + 1], cookie[256];
	const char *session;

	if (!strcmp(url, "/logout")) {
		session = MHD_lookup_connection_value(
			connection, MHD_COOKIE_KIND, KS_SESSION_COOKIE);
		if (session && server->sessions)
			ks_sessions_close(server->sessions, session);
		ks_session_cookie(NULL, cookie, sizeof(cookie));
		return ks_redirect(connection, server->token ? "/login" : "/",
				   cookie);
	}
	if (!server->token)
		return ks_redirect(connection, "/", NULL);
	if (!upload->form || upload->received > KS_LOGIN_MAX_BODY ||
	    !ks_token_matches(upload->token, server->token))
		return ks_respond_login_page(connection, MHD_HTTP_UNAUTHORIZED,
					     true);
	if (ks_sessions_open(server->sessions, ks_now_mono_ns(), id))
		return ks_respond_text(connection,
				       MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "no randomness for a session id\n");
	ks_session_cookie(id, cookie, sizeof(cookie));
	explicit_bzero(id, sizeof(id));
	return ks_redirect(connection, "/", cookie);
}

/* A POST, in the calls libmicrohttpd makes for it: the body, then the end. */
static enum MHD_Result ks_handle_post(struct ks_http_server *server,
				      struct MHD_Connection *connection,
				      const char *url, const char *upload_data,
				      size_t *upload_data_size, void **request)
{
	struct ks_upload *upload = *request;

	/* The request's first call: the context is the server still. */
	if (*request == server) {
		upload = calloc(1, sizeof(*upload));
		if (!upload)
			return MHD_NO;
		/* NULL for a body that is not a form: refused at the end. */
		upload->form = MHD_create_post_processor(
			connection, 1024, ks_on_form_field, upload);
		*request = upload;
		return MHD_YES;
	}
	if (*upload_data_size) {
		upload->received += *upload_data_size;
		if (upload->form && upload->received <= KS_LOGIN_MAX_BODY &&
		    MHD_post_process(upload->form, upload_data,
				     *upload_data_size) != MHD_YES)
			upload->received = SIZE_MAX;
		*upload_data_size = 0;
		return MHD_YES;
	}
	return ks_finish_post(server, connection, url, upload);
}

static enum MHD_Result ks_respond_unauthorized(struct MHD_Connection *conn)
{
	struct MHD_Response *response = ks_text_response("unauthorized\n");

	if (response)
		MHD_add_response_header(response,
					MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"knotscope\"");
	return ks_queue(conn, MHD_HTTP_UNAUTHORIZED, response,
			"text/plain; charset=utf-8");
}

/* The request began: the connection no longer waits for one. */
static void ks_request_began(struct ks_http_server *server,
			     struct MHD_Connection *connection)
{
	struct ks_conn *conn = ks_conn_of(connection);

	if (!conn)
		return;
	pthread_mutex_lock(&server->lock);
	conn->connection = connection;
	conn->in_request = true;
	pthread_mutex_unlock(&server->lock);
}

static enum MHD_Result ks_handle(void *cls, struct MHD_Connection *connection,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **request)
{
	struct ks_http_server *server = cls;
	bool login = !strcmp(url, "/login") || !strcmp(url, "/logout");
	struct MHD_Response *response;
	const char *host;

	if (!*request) {
		ks_request_began(server, connection);
		*request = server;
	}
	/*
	 * A page elsewhere whose name the attacker points at this address
	 * (DNS rebinding) sends that name: only addresses and localhost
	 * names reach this server.
	 */
	host = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_HOST);
	if (host && !ks_listen_host_allowed(host))
		return ks_respond_text(connection, MHD_HTTP_FORBIDDEN,
				       "Host not allowed: use an IP address "
				       "or localhost\n");
	if (login && !strcmp(method, MHD_HTTP_METHOD_POST))
		return ks_handle_post(server, connection, url, upload_data,
				      upload_data_size, request);
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		response = ks_text_response(login ? "only POST\n" :
						    "only GET and HEAD\n");
		if (response)
			MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW,
						login ? "POST" : "GET, HEAD");
		return ks_queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				response, "text/plain; charset=utf-8");
	}
	if (!strcmp(url, "/healthz"))
		return ks_respond_health(server, connection);
	if (!strcmp(url, "/readyz"))
		return ks_respond_ready(server, connection);
	if (!strcmp(url, "/login"))
		return server->token ? ks_respond_login_page(
					       connection, MHD_HTTP_OK, false) :
				       ks_redirect(connection, "/", NULL);
	/* The login form's style: no more than the form itself says. */
	if (!strcmp(url, "/app.css"))
		return ks_respond_asset(connection, url);
	if (!ks_authorized(server, connection))
		/* A browser goes to the form; programs get the challenge. */
		return !strcmp(url, "/") || !strcmp(url, "/index.html") ?
			       ks_redirect(connection, "/login", NULL) :
			       ks_respond_unauthorized(connection);
	if (!strcmp(url, "/api/events"))
		return ks_respond_stream(server, connection);
	for (size_t i = 0; i < sizeof(ks_doc_routes) / sizeof(ks_doc_routes[0]);
	     i++)
		if (!strcmp(url, ks_doc_routes[i].path))
			return ks_respond_doc(server, connection,
					      ks_doc_routes[i].doc, request);
	return ks_respond_asset(connection, url);
}

/* The response went out: the connection waits for its next request. */
static void ks_request_ended(void *cls, struct MHD_Connection *connection,
			     void **request,
			     enum MHD_RequestTerminationCode code)
{
	struct ks_http_server *server = cls;
	struct ks_conn *conn = ks_conn_of(connection);
	struct ks_upload *upload = *request;

	/* A POST's context is its upload; others', the server or a mark. */
	if (upload && *request != server && *request != &ks_waited) {
		if (upload->form)
			MHD_destroy_post_processor(upload->form);
		explicit_bzero(upload, sizeof(*upload));
		free(upload);
	}
	*request = NULL;
	if (!conn)
		return;
	pthread_mutex_lock(&server->lock);
	conn->in_request = false;
	conn->waiting_since_ns = ks_now_mono_ns();
	pthread_mutex_unlock(&server->lock);
}

/* Under lock: closes the connection idle the longest, if one is. */
static void ks_evict_idlest(struct ks_http_server *server)
{
	for (struct ks_conn *conn = server->conns; conn; conn = conn->next) {
		if (conn->in_request || conn->parked || conn->shut)
			continue;
		shutdown(conn->fd, SHUT_RDWR);
		conn->shut = true;
		return;
	}
}

static void ks_conn_started(struct ks_http_server *server,
			    struct MHD_Connection *connection,
			    void **socket_context)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(
		connection, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ks_conn *conn = calloc(1, sizeof(*conn));

	if (!conn)
		return;
	conn->fd = info ? fcntl(info->connect_fd, F_DUPFD_CLOEXEC, 0) : -1;
	conn->connection = connection;
	conn->waiting_since_ns = ks_now_mono_ns();
	pthread_mutex_lock(&server->lock);
	if (server->nr_conns >= KS_HTTP_EVICT_ABOVE)
		ks_evict_idlest(server);
	conn->prev = server->newest;
	if (server->newest)
		server->newest->next = conn;
	else
		server->conns = conn;
	server->newest = conn;
	server->nr_conns++;
	pthread_mutex_unlock(&server->lock);
	*socket_context = conn;
}

static void ks_conn_closed(struct ks_http_server *server, struct ks_conn *conn)
{
	pthread_mutex_lock(&server->lock);
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		server->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	else
		server->newest = conn->prev;
	server->nr_conns--;
	pthread_mutex_unlock(&server->lock);
	if (conn->fd >= 0)
		close(conn->fd);
	free(conn);
}

static void ks_notify_connection(void *cls, struct MHD_Connection *connection,
				 void **socket_context,
				 enum MHD_ConnectionNotificationCode code)
{
	struct ks_http_server *server = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		ks_conn_started(server, connection, socket_context);
	else if (*socket_context)
		ks_conn_closed(server, *socket_context);
}

/*
 * Under lock: the parked connections due now (a newer set, their time,
 * or the end), unparked into wake[]; connections that took too long to
 * send a request are shut down.  Returns how many to resume, and sets
 * *next_ns to when to look again.
 */
static size_t ks_due(struct ks_http_server *server, uint64_t generation,
		     uint64_t now, struct MHD_Connection **wake,
		     uint64_t *next_ns)
{
	size_t nr = 0;

	*next_ns = now + KS_HTTP_WAKER_PERIOD_MS * 1000000ull;
	for (struct ks_conn *conn = server->conns; conn; conn = conn->next) {
		if (conn->parked &&
		    (server->stopping || generation > conn->parked_generation ||
		     now >= conn->wake_at_ns)) {
			conn->parked = false;
			wake[nr++] = conn->connection;
		} else if (conn->parked && conn->wake_at_ns < *next_ns) {
			*next_ns = conn->wake_at_ns;
		}
		/* Slow to send a request, or idle too long: a slot back. */
		if (!conn->in_request && !conn->shut &&
		    now - conn->waiting_since_ns >= server->header_timeout_ns) {
			shutdown(conn->fd, SHUT_RDWR);
			conn->shut = true;
		}
	}
	return nr;
}

/* Resumes what was put aside when it is due; shuts down slow clients. */
static void *ks_waker_main(void *arg)
{
	struct ks_http_server *server = arg;
	struct MHD_Connection *wake[KS_HTTP_MAX_CONNECTIONS];
	uint64_t generation = ks_board_generation(server->board);
	bool stopping = false;

	while (!stopping) {
		uint64_t now = ks_now_mono_ns(), next_ns;
		size_t nr;

		pthread_mutex_lock(&server->lock);
		stopping = server->stopping;
		nr = ks_due(server, generation, now, wake, &next_ns);
		pthread_mutex_unlock(&server->lock);
		/* Outside the lock: MHD takes its own. */
		for (size_t i = 0; i < nr; i++)
			MHD_resume_connection(wake[i]);
		if (!stopping)
			generation = ks_board_wait(
				server->board, generation,
				(unsigned int)((next_ns - now) / 1000000 + 1));
	}
	return NULL;
}

/* MHD's messages may quote what a client sent: escaped like names. */
static void ks_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256], shown[KS_PRINTABLE_SIZE(sizeof(line))];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, ap);
	len = strcspn(line, "\n");
	line[len] = '\0';
	ks_debug("http: %s\n", ks_printable(line, shown, sizeof(shown)));
}

int ks_http_read_token(const char *path, char **token)
{
	char text[KS_TOKEN_FILE_MAX + 1];
	int len = ks_read_small_file(path, text, sizeof(text));
	size_t line;

	if (len < 0)
		return -errno;
	line = strcspn(text, "\r\n");
	/* Read whole, and no more than a token file can hold. */
	if ((size_t)len == sizeof(text) - 1 && line == (size_t)len)
		return -E2BIG;
	text[line] = '\0';
	/* A NUL inside (/dev/zero), or nothing: no token. */
	if (!line || strlen(text) != line)
		return -EINVAL;
	*token = strdup(text);
	return *token ? 0 : -ENOMEM;
}

static int ks_start_waker(struct ks_http_server *server)
{
	sigset_t all, saved;
	int ret;

	/* Like the other threads: signals are the main loop's to read. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	ret = pthread_create(&server->waker, NULL, ks_waker_main, server);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (!ret) {
		server->waker_started = true;
		pthread_setname_np(server->waker, "ks-http-waker");
	}
	return ret;
}

struct ks_http_server *ks_http_server_start(const struct ks_http_config *cfg,
					    char *err, size_t err_size)
{
	struct ks_http_server *server = calloc(1, sizeof(*server));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
			     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage addr;
	socklen_t addr_len;

	if (!server) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&server->lock, NULL);
	atomic_init(&server->streams, 0);
	server->header_timeout_ns =
		(uint64_t)(cfg->header_timeout_ms ?:
						    KS_HTTP_HEADER_TIMEOUT_MS) *
		1000000ull;
	if (ks_listen_addr_parse(cfg->listen, &addr, &addr_len)) {
		snprintf(err, err_size, "%s: not ADDR:PORT", cfg->listen);
		goto fail;
	}
	server->board = cfg->board;
	if (cfg->token) {
		server->token = strdup(cfg->token);
		server->sessions = ks_sessions_new();
		if (!server->token || !server->sessions) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
	}
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD wants the port here too, though the address has it. */
	server->daemon = MHD_start_daemon(
		flags, ntohs(*ks_port_of(&addr)), NULL, NULL, ks_handle, server,
		/* First, or MHD logs errors in the others itself. */
		MHD_OPTION_EXTERNAL_LOGGER, ks_mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)KS_HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)KS_HTTP_MAX_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)KS_HTTP_PER_CLIENT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)KS_HTTP_IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)KS_HTTP_CONNECTION_MEMORY, MHD_OPTION_NOTIFY_CONNECTION,
		ks_notify_connection, server, MHD_OPTION_NOTIFY_COMPLETED,
		ks_request_ended, server, MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, err_size, "cannot listen on %s: %s", cfg->listen,
			 strerror(errno ? errno : EADDRINUSE));
		goto fail;
	}
	if (ks_start_waker(server)) {
		snprintf(err, err_size, "cannot start a thread");
		goto fail;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*ks_port_of(&addr) = htons(info ? info->port : 0);
	ks_listen_addr_format((struct sockaddr *)&addr, server->address,
			      sizeof(server->address));
	return server;
fail:
	if (server->daemon)
		MHD_stop_daemon(server->daemon);
	pthread_mutex_destroy(&server->lock);
	free(server->token);
	ks_sessions_free(server->sessions);
	free(server);
	return NULL;
}

const char *ks_http_server_address(const struct ks_http_server *server)
{
	return server->address;
}

void ks_http_server_stop(struct ks_http_server *server)
{
	if (!server)
		return;
	/*
	 * Everything put aside is resumed and ends (a suspended connection
	 * at MHD_stop_daemon() is a leak), and nothing is put aside after.
	 */
	pthread_mutex_lock(&server->lock);
	server->stopping = true;
	pthread_mutex_unlock(&server->lock);
	ks_board_close(server->board);
	if (server->waker_started)
		pthread_join(server->waker, NULL);
	MHD_stop_daemon(server->daemon);
	pthread_mutex_destroy(&server->lock);
	free(server->token);
	ks_sessions_free(server->sessions);
	free(server);
}
