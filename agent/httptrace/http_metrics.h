/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * RED metrics of HTTP: http.server.request.duration and
 * http.client.request.duration, histograms in seconds per process and per
 * set of the attributes the semantic conventions give them.  Like OTel
 * SDKs, at most KS_HTTP_MAX_SERIES sets per metric and process: exchanges
 * beyond count in one series marked otel.metric.overflow.
 */
#ifndef KS_HTTP_METRICS_H
#define KS_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "base/histogram.h"
#include "httptrace/http_span.h"

#define KS_HTTP_DURATION_NR_BOUNDS 14
#define KS_HTTP_MAX_SERIES 2000

/* The semantic conventions' advised bounds, 5 ms to 10 s. */
extern const struct ks_hist_scale ks_http_duration_scale;

/* One attribute set.  Zeroed whole before filling: it is hashed as bytes. */
struct ks_http_series_key {
	uint8_t kind; /* enum ks_http_span_kind */
	uint8_t version_minor;
	uint16_t status; /* 0: none */
	bool overflow; /* the set that gathers what is over the limit */
	uint16_t server_port; /* client metric */
	char method[KS_HTTP_METHOD_MAX + 1]; /* or "_OTHER" */
	char error_type[24]; /* "" when it did not fail */
	const char *route; /* server metric; a template, or NULL */
	char server_address[KS_HTTP_HOST_MAX + 1]; /* client metric */
};

struct ks_http_series {
	struct ks_http_series_key key;
	struct ks_hist_summary summary;
	uint64_t buckets[KS_HTTP_DURATION_NR_BOUNDS + 1];
	UT_hash_handle hh;
};

struct ks_http_metrics_proc;

struct ks_http_metrics {
	struct ks_http_metrics_proc *procs;
	struct ks_http_metrics_proc *last; /* the one last looked up */
};

/* Counts an ended exchange's duration. */
void ks_http_metrics_record(struct ks_http_metrics *metrics,
			    const struct ks_http_span *span);
void ks_http_metrics_drop_process(struct ks_http_metrics *metrics,
				  uint32_t tgid);
void ks_http_metrics_clear(struct ks_http_metrics *metrics);

typedef void (*ks_http_series_fn)(void *ctx, uint32_t tgid,
				  const struct ks_http_series *series);

/* Process by process; for each, its server series, then its client ones. */
void ks_http_metrics_foreach(const struct ks_http_metrics *metrics,
			     ks_http_series_fn fn, void *ctx);

#endif /* KS_HTTP_METRICS_H */
