/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The embedded HTTP server (libmicrohttpd): the dashboard, its JSON API and
 * event stream, /metrics, /healthz and /readyz.  Its threads only read
 * what the main thread published on the board (publication.h); they never
 * touch the model.
 *
 * Probes are answered whatever other clients do: two threads serve every
 * connection from epoll and never wait (a request for a document being
 * published, or an event stream between events, is put aside and resumed
 * by a thread of its own); one client holds at most 16 connections; a
 * connection that sends no complete request within the header timeout
 * (idle ones too) is closed; event streams are at most 16; and past 112
 * connections in all, each new one closes the one idle the longest, so
 * the limit of 128 is never what turns a probe away.
 *
 * Requests whose Host is neither an IP address nor a localhost name get
 * 403 (DNS rebinding), and no response may be framed by another page.
 * With a token, every request but /healthz and /readyz must carry
 * "Authorization: Bearer <token>", or the session cookie a login with the
 * token opened (web_login.h: POST /login, POST /logout), or gets 401 (the
 * page itself sends a browser to the login form): kubelet probes stay
 * open, and tell nothing but whether the agent is up.
 */
#ifndef KS_WEB_SERVER_H
#define KS_WEB_SERVER_H

#include <stddef.h>

#include "serve/publication.h"

/* How old a published document may be when served. */
#define KS_HTTP_MAX_AGE_MS 500
/* /healthz fails once the main loop has not gone round for this long. */
#define KS_HTTP_STALL_MS 5000
/* A connection must send a whole request within this, idle or new. */
#define KS_HTTP_HEADER_TIMEOUT_MS 5000

struct ks_http_config {
	const char *listen; /* "ADDR:PORT", see listen_addr.h */
	const char *token; /* NULL: no authentication */
	struct ks_board *board;
	unsigned int header_timeout_ms; /* 0: KS_HTTP_HEADER_TIMEOUT_MS */
};

struct ks_http_server;

/* Listening when it returns; NULL with a message in err. */
struct ks_http_server *ks_http_server_start(const struct ks_http_config *cfg,
					    char *err, size_t err_size);
/* Where it listens, with the port it got: "127.0.0.1:9464". */
const char *ks_http_server_address(const struct ks_http_server *server);
/* Ends event streams, waits for every connection's thread, frees. */
void ks_http_server_stop(struct ks_http_server *server);

/*
 * Reads a token file: its first line, without the line end.  0, or -errno
 * (-EINVAL for an empty token or one with a NUL, -E2BIG for a file whose
 * first line goes on past 4 KiB: /dev/zero is no token file).
 */
int ks_http_read_token(const char *path, char **token);

#endif /* KS_WEB_SERVER_H */
