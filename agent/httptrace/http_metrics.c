// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "httptrace/http_metrics.h"
#include "httptrace/http_semconv.h"

/*
 * A series key is mostly the unused tail of server_address, and is looked
 * up once per request: hash only what is in use (keys still compare whole).
 */
static unsigned int ks_series_hash(const struct ks_http_series_key *key)
{
	uint64_t hash = KS_FNV1A_INIT;

	hash = ks_fnv1a(hash, key, offsetof(struct ks_http_series_key, method));
	hash = ks_fnv1a(hash, key->method, strlen(key->method));
	hash = ks_fnv1a(hash, key->error_type, strlen(key->error_type));
	hash = ks_fnv1a(hash, &key->route, sizeof(key->route));
	hash = ks_fnv1a(hash, key->server_address, strlen(key->server_address));
	return (unsigned int)(hash ^ (hash >> 32));
}

static const double ks_http_bounds_s[KS_HTTP_DURATION_NR_BOUNDS] = {
	0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25,
	0.5,   0.75, 1,	    2.5,  5,	 7.5, 10,
};

static const uint64_t ks_http_bounds_ns[KS_HTTP_DURATION_NR_BOUNDS] = {
	5000000ull,    10000000ull,    25000000ull,   50000000ull,
	75000000ull,   100000000ull,   250000000ull,  500000000ull,
	750000000ull,  1000000000ull,  2500000000ull, 5000000000ull,
	7500000000ull, 10000000000ull,
};

const struct ks_hist_scale ks_http_duration_scale = {
	.nr_bounds = KS_HTTP_DURATION_NR_BOUNDS,
	.bounds_ns = ks_http_bounds_ns,
	.bounds_s = ks_http_bounds_s,
};

/* Indexed by enum ks_http_span_kind. */
#define KS_HTTP_NR_KINDS (KS_HTTP_SPAN_CLIENT + 1)

struct ks_http_metrics_proc {
	uint32_t tgid;
	struct ks_http_series *series[KS_HTTP_NR_KINDS];
	unsigned int nr_series[KS_HTTP_NR_KINDS];
	UT_hash_handle hh;
};

/* Into a zeroed field of a key, cut to fit: once per request, no printf. */
static void ks_key_text(char *field, size_t size, const char *text)
{
	memcpy(field, text, strnlen(text, size - 1));
}

/* The attributes of the span's metric, as the semantic conventions say. */
static void ks_series_key(const struct ks_http_span *span,
			  struct ks_http_series_key *key)
{
	char status[8];
	const char *error;

	memset(key, 0, sizeof(*key));
	key->kind = span->kind;
	key->version_minor = span->version_minor;
	key->status = span->status;
	ks_key_text(key->method, sizeof(key->method),
		    ks_http_method_attr(span));
	error = ks_http_error_type(span, status, sizeof(status));
	if (error)
		ks_key_text(key->error_type, sizeof(key->error_type), error);
	if (span->kind == KS_HTTP_SPAN_SERVER)
		key->route = span->route;
	else
		ks_http_server_endpoint(span, key->server_address,
					sizeof(key->server_address),
					&key->server_port);
}

static struct ks_http_metrics_proc *ks_proc_get(struct ks_http_metrics *metrics,
						uint32_t tgid)
{
	struct ks_http_metrics_proc *proc = metrics->last;

	/* Requests come in runs from one process. */
	if (proc && proc->tgid == tgid)
		return proc;
	HASH_FIND(hh, metrics->procs, &tgid, sizeof(tgid), proc);
	if (!proc) {
		proc = calloc(1, sizeof(*proc));
		if (!proc)
			return NULL;
		proc->tgid = tgid;
		HASH_ADD(hh, metrics->procs, tgid, sizeof(proc->tgid), proc);
	}
	metrics->last = proc;
	return proc;
}

static struct ks_http_series *ks_series_get(struct ks_http_metrics_proc *proc,
					    struct ks_http_series_key *key)
{
	struct ks_http_series **head = &proc->series[key->kind];
	struct ks_http_series *series;
	unsigned int hash = ks_series_hash(key);

	HASH_FIND_BYHASHVALUE(hh, *head, key, sizeof(*key), hash, series);
	if (series)
		return series;
	if (proc->nr_series[key->kind] >= KS_HTTP_MAX_SERIES) {
		uint8_t kind = key->kind;

		memset(key, 0, sizeof(*key));
		key->kind = kind;
		key->overflow = true;
		hash = ks_series_hash(key);
		HASH_FIND_BYHASHVALUE(hh, *head, key, sizeof(*key), hash,
				      series);
		if (series)
			return series;
	}
	series = calloc(1, sizeof(*series));
	if (!series)
		return NULL;
	series->key = *key;
	HASH_ADD_BYHASHVALUE(hh, *head, key, sizeof(series->key), hash, series);
	proc->nr_series[key->kind]++;
	return series;
}

void ks_http_metrics_record(struct ks_http_metrics *metrics,
			    const struct ks_http_span *span)
{
	struct ks_http_metrics_proc *proc = ks_proc_get(metrics, span->tgid);
	struct ks_http_series_key key;
	struct ks_http_series *series;

	if (!proc || span->kind >= KS_HTTP_NR_KINDS)
		return;
	ks_series_key(span, &key);
	series = ks_series_get(proc, &key);
	if (series)
		ks_hist_add(&ks_http_duration_scale, series->buckets,
			    &series->summary, span->end_ns - span->start_ns);
}

static void ks_proc_free(struct ks_http_metrics *metrics,
			 struct ks_http_metrics_proc *proc)
{
	struct ks_http_series *series, *tmp;

	for (int kind = 0; kind < KS_HTTP_NR_KINDS; kind++) {
		HASH_ITER(hh, proc->series[kind], series, tmp) {
			HASH_DELETE(hh, proc->series[kind], series);
			free(series);
		}
	}
	if (metrics->last == proc)
		metrics->last = NULL;
	HASH_DELETE(hh, metrics->procs, proc);
	free(proc);
}

void ks_http_metrics_drop_process(struct ks_http_metrics *metrics,
				  uint32_t tgid)
{
	struct ks_http_metrics_proc *proc;

	HASH_FIND(hh, metrics->procs, &tgid, sizeof(tgid), proc);
	if (proc)
		ks_proc_free(metrics, proc);
}

void ks_http_metrics_clear(struct ks_http_metrics *metrics)
{
	while (metrics->procs)
		ks_proc_free(metrics, metrics->procs);
}

static void ks_proc_foreach(const struct ks_http_metrics_proc *proc,
			    ks_http_series_fn fn, void *ctx)
{
	const struct ks_http_series *series;

	for (int kind = KS_HTTP_SPAN_SERVER; kind < KS_HTTP_NR_KINDS; kind++)
		for (series = proc->series[kind]; series;
		     series = series->hh.next)
			fn(ctx, proc->tgid, series);
}

void ks_http_metrics_foreach(const struct ks_http_metrics *metrics,
			     ks_http_series_fn fn, void *ctx)
{
	const struct ks_http_metrics_proc *proc;

	for (proc = metrics->procs; proc; proc = proc->hh.next)
		ks_proc_foreach(proc, fn, ctx);
}
