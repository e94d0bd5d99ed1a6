/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * When an OTLP export may be tried again, and after how long: the rules of
 * the OTLP/HTTP specification as pure functions, so they can be tested
 * without a network.
 */
#ifndef KS_OTLP_RETRY_H
#define KS_OTLP_RETRY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Beyond this a Retry-After is taken to mean "much later": capped. */
#define KS_OTLP_RETRY_AFTER_MAX_MS (300u * 1000)

enum ks_otlp_verdict {
	KS_OTLP_DELIVERED = 0,
	KS_OTLP_RETRY, /* throttled, overloaded or the connection failed */
	KS_OTLP_GIVE_UP, /* retrying cannot help */
};

/* Why items were given up on: each is counted on its own. */
enum ks_otlp_failure {
	KS_OTLP_FAIL_STATUS = 0, /* an HTTP status that must not be retried */
	KS_OTLP_FAIL_GRPC_STATUS, /* a gRPC status that must not be */
	KS_OTLP_FAIL_RETRIES, /* retryable failures until the export timeout */
	KS_OTLP_FAIL_TRANSPORT, /* TLS or URL errors: retrying cannot help */
	KS_OTLP_FAIL_TOO_LARGE, /* over the request size limit */
	KS_OTLP_FAIL_ENCODE, /* out of memory encoding the request */
	KS_OTLP_NR_FAILURES,
};

/* "http_status", "retries_exhausted", ...: for logs and JSON. */
const char *ks_otlp_failure_name(enum ks_otlp_failure failure);

/* 2xx delivered; 429, 502, 503 and 504 retried; anything else given up. */
enum ks_otlp_verdict ks_otlp_verdict_for_status(long status);

/*
 * An OTLP/gRPC call's status, by the specification's table: CANCELLED,
 * DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are
 * retried; RESOURCE_EXHAUSTED only when the server said when to come
 * back (a RetryInfo); OK is delivered; anything else is given up.
 */
enum ks_otlp_verdict ks_otlp_verdict_for_grpc(int code, bool has_retry_info);

/*
 * For a request that got no HTTP status.  Connections refused, reset or
 * timed out are retried; TLS, URL and local errors are not.
 */
enum ks_otlp_verdict ks_otlp_verdict_for_transport(CURLcode code);

/*
 * The delay a Retry-After header value asks for: delay-seconds or an
 * HTTP-date (relative to now, seconds since the epoch).  Negative delays
 * and dates in the past mean "now" (0); delays are capped at
 * KS_OTLP_RETRY_AFTER_MAX_MS.  False when value is neither: the caller
 * then falls back to its own backoff.
 */
bool ks_otlp_parse_retry_after(const char *value, time_t now,
			       uint64_t *delay_ms);

/*
 * Exponential backoff with jitter before retry number attempt (0 for the
 * first retry): a base of initial_ms * 2^attempt, capped at max_ms, of
 * which the upper half is randomised by random.  The result lies in
 * [base / 2, base]: spread so that exporters throttled together do not
 * come back together, yet never shorter than half the intended pause.
 */
uint64_t ks_otlp_backoff_ms(unsigned int attempt, unsigned int initial_ms,
			    unsigned int max_ms, uint32_t random);

#endif /* KS_OTLP_RETRY_H */
