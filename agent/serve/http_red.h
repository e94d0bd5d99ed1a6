/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP requests as the dashboard shows them: rate, errors and duration
 * (RED) per service and route (a --http-route template, else the path)
 * for the requests a service served, and per service and server for
 * those it made; over the last minute (six 10-second slots) and since
 * the start; with the trace of the slowest request of the minute and of
 * the latest error, for a link to a trace viewer.  Fed with each HTTP
 * span on the main thread.  At most KS_RED_MAX_ROWS rows: requests of a
 * row that does not fit count in their service's "(other)" row, or are
 * counted as overflow when that does not fit either.
 */
#ifndef KS_HTTP_RED_H
#define KS_HTTP_RED_H

#include <json-c/json.h>
#include <stdint.h>

#include "httptrace/http_span.h"

#define KS_RED_MAX_ROWS 256
#define KS_RED_SLOT_S 10
#define KS_RED_SLOTS 6

struct ks_http_red;

struct ks_http_red *ks_http_red_new(void);
void ks_http_red_free(struct ks_http_red *red);

/* A span of service's process ended at now_mono_ns. */
void ks_http_red_add(struct ks_http_red *red, const char *service,
		     const struct ks_http_span *span, uint64_t now_mono_ns);

/* The rows as a JSON document, busiest in the last minute first. */
json_object *ks_http_red_json(const struct ks_http_red *red,
			      uint64_t now_mono_ns);

#endif /* KS_HTTP_RED_H */
