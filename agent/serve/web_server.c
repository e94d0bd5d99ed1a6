// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/printable.h"
#include "serve/listen_addr.h"
#include "serve/web_assets.h"
#include "serve/web_server.h"

/* A browser tab, a scraper, probes and a few API clients, with room. */
#define KS_HTTP_MAX_CONNECTIONS 32
#define KS_HTTP_IDLE_TIMEOUT_S 30
/* How long a request may wait for the main loop to publish. */
#define KS_HTTP_PUBLISH_WAIT_MS 1000
/* Below common proxies' idle timeouts: streams stay open through them. */
#define KS_STREAM_KEEPALIVE_MS 15000

struct ks_http_server {
	struct MHD_Daemon *daemon;
	struct ks_board *board;
	char *token;
	char address[64];
};

static const struct {
	const char *path;
	enum ks_doc_id doc;
} ks_doc_routes[] = {
	{ "/metrics", KS_DOC_METRICS },
	{ "/api/graph", KS_DOC_GRAPH },
	{ "/api/locks", KS_DOC_LOCKS },
	{ "/api/deadlocks", KS_DOC_DEADLOCKS },
	{ "/api/health", KS_DOC_HEALTH },
	{ "/api/processes", KS_DOC_PROCESSES },
};

/* Where the port is, in either family. */
static in_port_t *ks_port_of(struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET6)
		return &((struct sockaddr_in6 *)addr)->sin6_port;
	return &((struct sockaddr_in *)addr)->sin_port;
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

/* Sends the published document itself: no copy, a reference held. */
static enum MHD_Result ks_respond_doc(struct ks_http_server *server,
				      struct MHD_Connection *connection,
				      enum ks_doc_id id)
{
	struct ks_doc *doc = ks_board_read(server->board, id,
					   KS_HTTP_MAX_AGE_MS * 1000000ull,
					   KS_HTTP_PUBLISH_WAIT_MS);
	struct MHD_Response *response;

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
	struct ks_board *board;
	uint64_t seen; /* the generation last sent */
	struct ks_doc *doc; /* being sent */
	size_t offset;
	bool greeted;
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
 * Runs on the connection's own thread, so it may block: it waits for the
 * next publication, and sends a comment now and then to keep idle
 * connections open.
 */
static ssize_t ks_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ks_stream *stream = cls;
	size_t len;

	if (!stream->greeted) {
		stream->greeted = true;
		return ks_copy_out(buf, max, "retry: 2000\n\n");
	}
	if (!stream->doc) {
		stream->doc = ks_board_next_event(stream->board, &stream->seen,
						  KS_STREAM_KEEPALIVE_MS);
		stream->offset = 0;
		if (!stream->doc)
			return ks_board_closed(stream->board) ?
				       MHD_CONTENT_READER_END_OF_STREAM :
				       ks_copy_out(buf, max, ": keepalive\n\n");
	}
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
	ks_board_stream_closed(stream->board);
	free(stream);
}

static enum MHD_Result ks_respond_stream(struct ks_http_server *server,
					 struct MHD_Connection *connection)
{
	struct ks_stream *stream = calloc(1, sizeof(*stream));
	struct MHD_Response *response;

	if (!stream)
		return MHD_NO;
	stream->board = server->board;
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
				"img-src 'self' data:");
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

static bool ks_authorized(struct ks_http_server *server,
			  struct MHD_Connection *connection)
{
	const char *header;

	if (!server->token)
		return true;
	header = MHD_lookup_connection_value(connection, MHD_HEADER_KIND,
					     MHD_HTTP_HEADER_AUTHORIZATION);
	if (!header || strncasecmp(header, "Bearer ", 7))
		return false;
	return ks_token_matches(header + 7, server->token);
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

static enum MHD_Result ks_handle(void *cls, struct MHD_Connection *connection,
				 const char *url, const char *method,
				 const char *version, const char *upload_data,
				 size_t *upload_data_size, void **con_cls)
{
	struct ks_http_server *server = cls;
	struct MHD_Response *response;

	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		response = ks_text_response("only GET and HEAD\n");
		if (response)
			MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW,
						"GET, HEAD");
		return ks_queue(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
				response, "text/plain; charset=utf-8");
	}
	if (!strcmp(url, "/healthz"))
		return ks_respond_health(server, connection);
	if (!strcmp(url, "/readyz"))
		return ks_respond_ready(server, connection);
	if (!ks_authorized(server, connection))
		return ks_respond_unauthorized(connection);
	if (!strcmp(url, "/api/events"))
		return ks_respond_stream(server, connection);
	for (size_t i = 0; i < sizeof(ks_doc_routes) / sizeof(ks_doc_routes[0]);
	     i++)
		if (!strcmp(url, ks_doc_routes[i].path))
			return ks_respond_doc(server, connection,
					      ks_doc_routes[i].doc);
	return ks_respond_asset(connection, url);
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
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f = fopen(path, "re");
	int err = 0;

	if (!f)
		return -errno;
	len = getline(&line, &cap, f);
	if (len < 0) {
		err = ferror(f) ? -EIO : -EINVAL;
		goto cleanup;
	}
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (!len) {
		err = -EINVAL;
		goto cleanup;
	}
	*token = line;
	line = NULL;
cleanup:
	free(line);
	fclose(f);
	return err;
}

struct ks_http_server *ks_http_server_start(const struct ks_http_config *cfg,
					    char *err, size_t err_size)
{
	struct ks_http_server *server = calloc(1, sizeof(*server));
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
			     MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage addr;
	socklen_t addr_len;

	if (!server) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (ks_listen_addr_parse(cfg->listen, &addr, &addr_len)) {
		snprintf(err, err_size, "%s: not ADDR:PORT", cfg->listen);
		goto fail;
	}
	server->board = cfg->board;
	if (cfg->token) {
		server->token = strdup(cfg->token);
		if (!server->token) {
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
		MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_CONNECTION_LIMIT,
		KS_HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
		KS_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
	if (!server->daemon) {
		snprintf(err, err_size, "cannot listen on %s: %s", cfg->listen,
			 strerror(errno ? errno : EADDRINUSE));
		goto fail;
	}
	info = MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*ks_port_of(&addr) = htons(info ? info->port : 0);
	ks_listen_addr_format((struct sockaddr *)&addr, server->address,
			      sizeof(server->address));
	return server;
fail:
	free(server->token);
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
	/* Streams block in their readers: release them first. */
	ks_board_close(server->board);
	MHD_stop_daemon(server->daemon);
	free(server->token);
	free(server);
}
