/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP transport: POSTs encoded requests over one kept-alive libcurl
 * connection, compressed with gzip when configured, and says what came of
 * each attempt.  OTLP/HTTP posts the message to /v1/<signal>; OTLP/gRPC
 * calls the signal's Export method over HTTP/2 (prior knowledge for
 * http://, ALPN for https://) with the message length-prefixed
 * (otlp_grpc.h), and reads the call's status from its trailers.  One per
 * export thread: it is not shared between threads, except for
 * ks_otlp_http_cut_off().
 */
#ifndef KS_OTLP_HTTP_H
#define KS_OTLP_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "otlp/otlp_config.h"
#include "otlp/otlp_retry.h"

/*
 * The specification's limit, on the encoding before compression: larger
 * batches are refused before they are encoded (ks_otlp_pack_request()).
 */
#define KS_OTLP_MAX_REQUEST_BYTES ((size_t)64 << 20)

struct ks_otlp_http;

/* NULL with a message in err when libcurl refuses the settings. */
struct ks_otlp_http *ks_otlp_http_new(const struct ks_otlp_target *target,
				      char *err, size_t err_size);
void ks_otlp_http_free(struct ks_otlp_http *http);

/*
 * Why a post failed, for people: libcurl's message, or the HTTP status, or
 * a gRPC status with the collector's message (escape it to print it).
 */
#define KS_OTLP_ERROR_SIZE CURL_ERROR_SIZE

struct ks_otlp_response {
	enum ks_otlp_verdict verdict;
	enum ks_otlp_failure failure; /* when not delivered */
	bool cut_off; /* ended by ks_otlp_http_cut_off() */
	long status; /* 0 when no HTTP response came */
	bool has_retry_after;
	uint64_t retry_after_ms;
	const uint8_t *body; /* valid until the next post */
	size_t body_len;
	char error[KS_OTLP_ERROR_SIZE];
};

/*
 * Sends one encoded request and waits for the answer, at the latest until
 * deadline_ns (CLOCK_MONOTONIC), the target's timeout_ms from now, or the
 * cut-off, whichever comes first.
 */
void ks_otlp_http_post(struct ks_otlp_http *http, const uint8_t *data,
		       size_t len, uint64_t deadline_ns,
		       struct ks_otlp_response *response);

/*
 * Makes posts end by deadline_ns at the latest, including one in progress:
 * for shutdown.  Thread-safe; a later cut-off never extends an earlier one.
 */
void ks_otlp_http_cut_off(struct ks_otlp_http *http, uint64_t deadline_ns);

#endif /* KS_OTLP_HTTP_H */
