// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "httptrace/http_metrics.h"
#include "httptrace/traceparent.h"
#include "report/json_sink.h"
#include "serve/http_red.h"

#define KS_RED_SLOT_NS (KS_RED_SLOT_S * 1000000000ull)
#define KS_RED_MAX_BUCKETS 32
#define KS_RED_KEY_SIZE 320
/* Longer routes are cut, and share their row. */
#define KS_RED_ROUTE_MAX 255

struct ks_red_slot {
	uint64_t number; /* mono_ns / slot length; 0: unused */
	uint64_t requests;
	uint64_t errors;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t buckets[KS_RED_MAX_BUCKETS];
};

/* A request to link to: its trace, how long it took, how it ended. */
struct ks_red_exemplar {
	uint64_t slot; /* 0: none */
	uint8_t trace_id[16];
	uint64_t duration_ns;
	uint16_t status;
};

struct ks_red_row {
	/* "service\0kind\0method\0route": the hash key. */
	char key[KS_RED_KEY_SIZE];
	size_t key_len;
	const char *service, *kind, *method, *route;
	uint64_t requests;
	uint64_t errors;
	struct ks_red_slot slots[KS_RED_SLOTS];
	struct ks_red_exemplar slowest; /* of its slot's minute */
	struct ks_red_exemplar last_error;
	UT_hash_handle hh;
};

struct ks_http_red {
	struct ks_red_row *rows;
	uint64_t overflow;
};

struct ks_http_red *ks_http_red_new(void)
{
	return calloc(1, sizeof(struct ks_http_red));
}

void ks_http_red_free(struct ks_http_red *red)
{
	struct ks_red_row *row, *next;

	if (!red)
		return;
	HASH_ITER(hh, red->rows, row, next) {
		HASH_DEL(red->rows, row);
		free(row);
	}
	free(red);
}

/*
 * Writes "service\0kind\0method\0route" into key, the route being its
 * first route_len bytes; the length, 0 when it does not fit.  Copied
 * part by part: this runs for every span.
 */
static size_t ks_make_key(char key[KS_RED_KEY_SIZE], const char *service,
			  const char *kind, const char *method,
			  const char *route, size_t route_len)
{
	const char *parts[] = { service, kind, method, route };
	size_t len = 0, part;

	for (size_t i = 0; i < 4; i++) {
		part = i < 3 ? strlen(parts[i]) : route_len;
		if (len + part >= KS_RED_KEY_SIZE)
			return 0;
		memcpy(key + len, parts[i], part);
		len += part;
		key[len++] = '\0';
	}
	return len - 1;
}

static struct ks_red_row *ks_row(struct ks_http_red *red, const char *service,
				 const char *kind, const char *method,
				 const char *route, size_t route_len)
{
	struct ks_red_row *row;
	char key[KS_RED_KEY_SIZE];
	size_t len = ks_make_key(key, service, kind, method, route, route_len);

	if (!len)
		return NULL;
	HASH_FIND(hh, red->rows, key, len, row);
	if (row || HASH_COUNT(red->rows) >= KS_RED_MAX_ROWS)
		return row;
	row = calloc(1, sizeof(*row));
	if (!row)
		return NULL;
	memcpy(row->key, key, len + 1);
	row->key_len = len;
	row->service = row->key;
	row->kind = row->service + strlen(row->service) + 1;
	row->method = row->kind + strlen(row->kind) + 1;
	row->route = row->method + strlen(row->method) + 1;
	HASH_ADD(hh, red->rows, key, len, row);
	return row;
}

/* Servers answer for 5xx; clients also see their 4xx, and no answer. */
static bool ks_failed(const struct ks_http_span *span)
{
	if (span->failure != KS_HTTP_OK || !span->status)
		return true;
	return span->status >= (span->kind == KS_HTTP_SPAN_SERVER ? 500 : 400);
}

static struct ks_red_slot *ks_slot(struct ks_red_row *row, uint64_t number)
{
	struct ks_red_slot *slot = &row->slots[number % KS_RED_SLOTS];

	if (slot->number != number)
		memset(slot, 0, sizeof(*slot));
	slot->number = number;
	return slot;
}

static void ks_note(struct ks_red_exemplar *exemplar, uint64_t slot,
		    const struct ks_http_span *span, uint64_t duration_ns)
{
	exemplar->slot = slot;
	memcpy(exemplar->trace_id, span->trace_id, sizeof(span->trace_id));
	exemplar->duration_ns = duration_ns;
	exemplar->status = span->status;
}

void ks_http_red_add(struct ks_http_red *red, const char *service,
		     const struct ks_http_span *span, uint64_t now_mono_ns)
{
	const struct ks_hist_scale *scale = &ks_http_duration_scale;
	bool server = span->kind == KS_HTTP_SPAN_SERVER;
	uint64_t number = now_mono_ns / KS_RED_SLOT_NS;
	uint64_t duration = span->end_ns - span->start_ns;
	const char *route;
	size_t route_len;
	struct ks_red_row *row;
	struct ks_red_slot *slot;
	struct ks_hist_summary summary = { 0 };
	bool failed = ks_failed(span);
	bool sampled = span->trace_flags & KS_TRACE_FLAG_SAMPLED;

	/* Served: by route, else path; made: by the server asked. */
	if (!server)
		route = span->host;
	else
		route = span->route ?: span->target;
	route_len = server && !span->route ? strnlen(route, span->path_len) :
					     strlen(route);
	if (route_len > KS_RED_ROUTE_MAX)
		route_len = KS_RED_ROUTE_MAX;
	row = ks_row(red, service, server ? "server" : "client",
		     span->method_known ? span->method : "_OTHER", route,
		     route_len);
	if (!row)
		row = ks_row(red, service, server ? "server" : "client", "",
			     "(other)", strlen("(other)"));
	if (!row) {
		red->overflow++;
		return;
	}
	slot = ks_slot(row, number);
	row->requests++;
	slot->requests++;
	slot->sum_ns += duration;
	if (duration > slot->max_ns)
		slot->max_ns = duration;
	ks_hist_add(scale, slot->buckets, &summary, duration);
	if (failed) {
		row->errors++;
		slot->errors++;
	}
	if (!sampled)
		return;
	/* The slowest of the minute: a new one once the old is out of it. */
	if (number - row->slowest.slot >= KS_RED_SLOTS ||
	    duration >= row->slowest.duration_ns)
		ks_note(&row->slowest, number, span, duration);
	if (failed)
		ks_note(&row->last_error, number, span, duration);
}

static void ks_add_hex(json_object *obj, const char *key, const uint8_t *bytes,
		       size_t len)
{
	char hex[33];

	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	ks_json_add(obj, key, json_object_new_string(hex));
}

static json_object *ks_exemplar_json(const struct ks_red_exemplar *exemplar,
				     uint64_t number)
{
	json_object *obj;

	if (!exemplar->slot || number - exemplar->slot >= KS_RED_SLOTS)
		return NULL;
	obj = json_object_new_object();
	ks_add_hex(obj, "trace_id", exemplar->trace_id, 16);
	ks_json_add(
		obj, "duration_ms",
		json_object_new_double((double)exemplar->duration_ns / 1e6));
	ks_json_add(obj, "status", json_object_new_int(exemplar->status));
	return obj;
}

struct ks_red_sum {
	const struct ks_red_row *row;
	uint64_t requests, errors, sum_ns, max_ns;
	uint64_t buckets[KS_RED_MAX_BUCKETS];
};

/*
 * The q-quantile of the minute: interpolated within its bucket, and no
 * more than the longest request seen.
 */
static double ks_quantile_ms(const struct ks_red_sum *sum, double q)
{
	const struct ks_hist_scale *scale = &ks_http_duration_scale;
	double rank = q * (double)sum->requests, seen = 0, lower = 0;
	double max = (double)sum->max_ns / 1e6;

	for (size_t i = 0; i <= scale->nr_bounds; i++) {
		double upper = i < scale->nr_bounds ?
				       (double)scale->bounds_ns[i] / 1e6 :
				       max;
		double at;

		if (sum->buckets[i] && seen + (double)sum->buckets[i] >= rank) {
			at = lower + (upper - lower) * (rank - seen) /
					     (double)sum->buckets[i];
			return at < max ? at : max;
		}
		seen += (double)sum->buckets[i];
		lower = upper;
	}
	return max;
}

static void ks_sum_minute(const struct ks_red_row *row, uint64_t number,
			  struct ks_red_sum *sum)
{
	memset(sum, 0, sizeof(*sum));
	sum->row = row;
	for (int i = 0; i < KS_RED_SLOTS; i++) {
		const struct ks_red_slot *slot = &row->slots[i];

		if (!slot->number || number - slot->number >= KS_RED_SLOTS)
			continue;
		sum->requests += slot->requests;
		sum->errors += slot->errors;
		sum->sum_ns += slot->sum_ns;
		if (slot->max_ns > sum->max_ns)
			sum->max_ns = slot->max_ns;
		for (int b = 0; b < KS_RED_MAX_BUCKETS; b++)
			sum->buckets[b] += slot->buckets[b];
	}
}

static int ks_by_minute_requests(const void *a, const void *b)
{
	const struct ks_red_sum *x = a, *y = b;

	if (x->requests != y->requests)
		return x->requests < y->requests ? 1 : -1;
	return x->row->requests < y->row->requests ? 1 :
	       x->row->requests > y->row->requests ? -1 :
						     0;
}

static json_object *ks_row_json(const struct ks_red_sum *sum, uint64_t number)
{
	const struct ks_red_row *row = sum->row;
	double seconds = KS_RED_SLOTS * KS_RED_SLOT_S;
	json_object *obj = json_object_new_object();

	ks_json_add(obj, "service", json_object_new_string(row->service));
	ks_json_add(obj, "kind", json_object_new_string(row->kind));
	ks_json_add(obj, "method", json_object_new_string(row->method));
	ks_json_add(obj, "route", json_object_new_string(row->route));
	ks_json_add(obj, "requests", json_object_new_uint64(row->requests));
	ks_json_add(obj, "errors", json_object_new_uint64(row->errors));
	ks_json_add(obj, "minute_requests",
		    json_object_new_uint64(sum->requests));
	ks_json_add(obj, "minute_errors", json_object_new_uint64(sum->errors));
	ks_json_add(obj, "rate_per_s",
		    json_object_new_double((double)sum->requests / seconds));
	ks_json_add(obj, "p50_ms",
		    sum->requests ?
			    json_object_new_double(ks_quantile_ms(sum, 0.5)) :
			    NULL);
	ks_json_add(obj, "p95_ms",
		    sum->requests ?
			    json_object_new_double(ks_quantile_ms(sum, 0.95)) :
			    NULL);
	ks_json_add(obj, "slowest", ks_exemplar_json(&row->slowest, number));
	ks_json_add(obj, "last_error",
		    ks_exemplar_json(&row->last_error, number));
	return obj;
}

json_object *ks_http_red_json(const struct ks_http_red *red,
			      uint64_t now_mono_ns)
{
	uint64_t number = now_mono_ns / KS_RED_SLOT_NS;
	size_t n = HASH_COUNT(red->rows), i = 0;
	struct ks_red_sum *sums = calloc(n ? n : 1, sizeof(*sums));
	json_object *obj = json_object_new_object();
	json_object *rows = json_object_new_array();
	const struct ks_red_row *row;

	for (row = red->rows; row && sums; row = row->hh.next)
		ks_sum_minute(row, number, &sums[i++]);
	if (sums)
		qsort(sums, n, sizeof(*sums), ks_by_minute_requests);
	for (i = 0; sums && i < n; i++)
		ks_json_push(rows, ks_row_json(&sums[i], number));
	free(sums);
	ks_json_add(obj, "window_s",
		    json_object_new_int(KS_RED_SLOTS * KS_RED_SLOT_S));
	ks_json_add(obj, "rows", rows);
	ks_json_add(obj, "overflow", json_object_new_uint64(red->overflow));
	return obj;
}
