/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The embedded HTTP server (libmicrohttpd, a thread per connection): the
 * dashboard, its JSON API and event stream, /metrics, /healthz and
 * /readyz.  Its threads only read what the main thread published on the
 * board (publication.h); they never touch the model.
 *
 * With a token, every request but /healthz and /readyz must carry
 * "Authorization: Bearer <token>", or gets 401: kubelet probes stay open,
 * and tell nothing but whether the agent is up.
 */
#ifndef KS_WEB_SERVER_H
#define KS_WEB_SERVER_H

#include <stddef.h>

#include "serve/publication.h"

/* How old a published document may be when served. */
#define KS_HTTP_MAX_AGE_MS 500
/* /healthz fails once the main loop has not gone round for this long. */
#define KS_HTTP_STALL_MS 5000

struct ks_http_config {
	const char *listen; /* "ADDR:PORT", see listen_addr.h */
	const char *token; /* NULL: no authentication */
	struct ks_board *board;
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
 * (-EINVAL for an empty token).
 */
int ks_http_read_token(const char *path, char **token);

#endif /* KS_WEB_SERVER_H */
