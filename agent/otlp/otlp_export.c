// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/printable.h"
#include "otlp/otlp_export.h"
#include "otlp/otlp_http.h"
#include "otlp/otlp_pack.h"

#define KS_NS_PER_MS 1000000ull

/*
 * One queued span, log record or metric, encoded as it goes into requests:
 * the message tree is freed by the thread that built it, at once, and
 * the queue holds a few hundred bytes per item instead.
 */
struct ks_otlp_entry {
	uint8_t *encoded;
	size_t len;
	struct ks_otlp_resource *resource; /* a reference of its own */
	const struct ks_otlp_scope *scope;
	uint32_t units; /* items counted: 1, or a metric's data points */
};

struct ks_otlp_metrics {
	struct ks_otlp_entry *entries;
	size_t nr;
	size_t cap;
};

/* Everything one signal needs: its queue, thread and connection. */
struct ks_pipeline {
	enum ks_otlp_signal signal;
	struct ks_otlp_batching batching;
	struct ks_otlp_http *http;

	pthread_mutex_t lock;
	/* Signalled when the thread has something new to decide on. */
	pthread_cond_t wake;
	/* Under lock. */
	struct ks_otlp_entry *ring;
	size_t capacity;
	size_t head;
	size_t count;
	bool stopping;
	uint64_t stop_deadline_ns;
	struct ks_otlp_signal_stats stats;

	/* The export thread's own. */
	/*
	 * No request before this: a receiver asked for a pause longer than a
	 * batch may wait, and the batches after it honour it too.
	 */
	uint64_t not_before_ns;
	struct ks_otlp_entry *batch;
	struct ks_otlp_record *records;
	uint64_t random_state;
	pthread_t thread;
	bool started;
};

struct ks_otlp_exporter {
	struct ks_pipeline *pipelines[KS_OTLP_NR_SIGNALS];
	bool stopped;
};

/* How a batch ended, for the accounting. */
enum ks_settlement {
	KS_SETTLED_EXPORTED = 0,
	KS_SETTLED_FAILED,
	KS_SETTLED_SHUTDOWN,
};

struct ks_outcome {
	enum ks_settlement settlement;
	enum ks_otlp_failure failure; /* when failed */
	uint64_t rejected; /* when exported: refused in a partial success */
};

static const char *const item_names[KS_OTLP_NR_SIGNALS] = {
	[KS_OTLP_TRACES] = "spans",
	[KS_OTLP_METRICS] = "data points",
	[KS_OTLP_LOGS] = "log records",
};

static void ks_entry_release(struct ks_otlp_entry *entry)
{
	free(entry->encoded);
	ks_otlp_resource_put(entry->resource);
}

/* Encodes item into entry and frees it: 0, or -ENOMEM. */
static int ks_entry_fill(struct ks_otlp_entry *entry, ProtobufCMessage *item,
			 struct ks_otlp_resource *res,
			 const struct ks_otlp_scope *scope, uint32_t units)
{
	int ret = ks_otlp_encode_item(item, &entry->encoded, &entry->len);

	ks_otlp_message_free(item);
	if (ret)
		return ret;
	entry->resource = ks_otlp_resource_get(res);
	entry->scope = scope;
	entry->units = units;
	return 0;
}

static void ks_cond_wait_until(struct ks_pipeline *p, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(deadline_ns / 1000000000ull),
		.tv_nsec = (long)(deadline_ns % 1000000000ull),
	};

	if (deadline_ns == UINT64_MAX)
		pthread_cond_wait(&p->wake, &p->lock);
	else
		pthread_cond_timedwait(&p->wake, &p->lock, &ts);
}

static uint32_t ks_random(struct ks_pipeline *p)
{
	/* xorshift64: jitter needs spread, not secrecy. */
	p->random_state ^= p->random_state << 13;
	p->random_state ^= p->random_state >> 7;
	p->random_state ^= p->random_state << 17;
	return (uint32_t)(p->random_state >> 32);
}

static void ks_pipeline_free(struct ks_pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		ks_entry_release(&p->ring[(p->head + i) % p->capacity]);
	ks_otlp_http_free(p->http);
	free(p->ring);
	free(p->batch);
	free(p->records);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int ks_pipeline_sync_init(struct ks_pipeline *p)
{
	pthread_condattr_t attr;
	int ret;

	ret = pthread_mutex_init(&p->lock, NULL);
	if (ret)
		return -ret;
	/* Deadlines are monotonic: a wall-clock step must not stall exports. */
	ret = pthread_condattr_init(&attr);
	if (!ret) {
		ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		if (!ret)
			ret = pthread_cond_init(&p->wake, &attr);
		pthread_condattr_destroy(&attr);
	}
	if (ret)
		pthread_mutex_destroy(&p->lock);
	return -ret;
}

static struct ks_pipeline *ks_pipeline_new(const struct ks_otlp_config *cfg,
					   enum ks_otlp_signal signal,
					   char *err, size_t err_size)
{
	const struct ks_otlp_batching *batching = &cfg->batching[signal];
	struct ks_pipeline *p = calloc(1, sizeof(*p));

	if (!p || ks_pipeline_sync_init(p)) {
		free(p);
		snprintf(err, err_size, "out of memory for the OTLP exporter");
		return NULL;
	}
	p->signal = signal;
	p->batching = *batching;
	p->capacity = batching->max_queue_size;
	p->ring = calloc(p->capacity, sizeof(*p->ring));
	p->batch = calloc(batching->max_export_batch_size, sizeof(*p->batch));
	p->records =
		calloc(batching->max_export_batch_size, sizeof(*p->records));
	if (!p->ring || !p->batch || !p->records) {
		snprintf(err, err_size, "out of memory for the OTLP exporter");
		goto failed;
	}
	p->http = ks_otlp_http_new(&cfg->target[signal], err, err_size);
	if (!p->http)
		goto failed;
	p->stats.enabled = true;
	p->stats.queue_capacity = p->capacity;
	p->random_state = (ks_now_mono_ns() ^ (uintptr_t)p) | 1;
	return p;
failed:
	ks_pipeline_free(p);
	return NULL;
}

struct ks_otlp_exporter *ks_otlp_exporter_new(const struct ks_otlp_config *cfg,
					      char *err, size_t err_size)
{
	struct ks_otlp_exporter *exp = calloc(1, sizeof(*exp));

	if (!exp) {
		snprintf(err, err_size, "out of memory for the OTLP exporter");
		return NULL;
	}
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		if (!cfg->target[signal].enabled)
			continue;
		exp->pipelines[signal] =
			ks_pipeline_new(cfg, signal, err, err_size);
		if (!exp->pipelines[signal]) {
			ks_otlp_exporter_free(exp);
			return NULL;
		}
	}
	return exp;
}

bool ks_otlp_exporter_wants(const struct ks_otlp_exporter *exp,
			    enum ks_otlp_signal signal)
{
	return exp->pipelines[signal] != NULL;
}

bool ks_otlp_exporter_full(struct ks_otlp_exporter *exp,
			   enum ks_otlp_signal signal)
{
	struct ks_pipeline *p = exp->pipelines[signal];
	bool full;

	if (!p)
		return false;
	pthread_mutex_lock(&p->lock);
	full = !p->stopping && p->count == p->capacity;
	pthread_mutex_unlock(&p->lock);
	return full;
}

void ks_otlp_export_skipped(struct ks_otlp_exporter *exp,
			    enum ks_otlp_signal signal)
{
	struct ks_pipeline *p = exp->pipelines[signal];

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stats.produced++;
	p->stats.dropped_queue_full++;
	pthread_mutex_unlock(&p->lock);
}

/* Queues all of entries or none; they are released when not queued. */
static int ks_pipeline_push(struct ks_pipeline *p,
			    struct ks_otlp_entry *entries, size_t nr)
{
	size_t max_batch = p->batching.max_export_batch_size;
	uint64_t units = 0;
	int ret = 0;

	for (size_t i = 0; i < nr; i++)
		units += entries[i].units;
	pthread_mutex_lock(&p->lock);
	p->stats.produced += units;
	if (p->stopping) {
		p->stats.dropped_shutdown += units;
		ret = -ESHUTDOWN;
	} else if (p->capacity - p->count < nr) {
		p->stats.dropped_queue_full += units;
		ret = -ENOBUFS;
	} else {
		size_t before = p->count;

		for (size_t i = 0; i < nr; i++)
			p->ring[(p->head + p->count++) % p->capacity] =
				entries[i];
		p->stats.queued += units;
		/* Not per item: only a first item or a full batch is news. */
		if (!before || (before < max_batch && p->count >= max_batch))
			pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; ret && i < nr; i++)
		ks_entry_release(&entries[i]);
	return ret;
}

/* Items that could not be encoded: produced, and failed at once. */
static void ks_pipeline_failed_encode(struct ks_pipeline *p, uint64_t units)
{
	pthread_mutex_lock(&p->lock);
	p->stats.produced += units;
	p->stats.failed[KS_OTLP_FAIL_ENCODE] += units;
	pthread_mutex_unlock(&p->lock);
}

static int ks_export_item(struct ks_otlp_exporter *exp,
			  enum ks_otlp_signal signal,
			  struct ks_otlp_resource *res,
			  const struct ks_otlp_scope *scope,
			  ProtobufCMessage *item)
{
	struct ks_pipeline *p = exp->pipelines[signal];
	struct ks_otlp_entry entry;

	if (!item)
		return -EINVAL;
	if (!p || !res) {
		ks_otlp_message_free(item);
		return p ? -EINVAL : -ENODEV;
	}
	if (ks_entry_fill(&entry, item, res, scope, 1)) {
		ks_pipeline_failed_encode(p, 1);
		return -ENOMEM;
	}
	return ks_pipeline_push(p, &entry, 1);
}

int ks_otlp_export_span(struct ks_otlp_exporter *exp,
			struct ks_otlp_resource *res,
			const struct ks_otlp_scope *scope, OtlpSpan *span)
{
	return ks_export_item(exp, KS_OTLP_TRACES, res, scope,
			      span ? &span->base : NULL);
}

int ks_otlp_export_log(struct ks_otlp_exporter *exp,
		       struct ks_otlp_resource *res,
		       const struct ks_otlp_scope *scope, OtlpLogRecord *record)
{
	return ks_export_item(exp, KS_OTLP_LOGS, res, scope,
			      record ? &record->base : NULL);
}

struct ks_otlp_metrics *ks_otlp_metrics_new(void)
{
	return calloc(1, sizeof(struct ks_otlp_metrics));
}

int ks_otlp_metrics_add(struct ks_otlp_metrics *snapshot,
			struct ks_otlp_resource *res,
			const struct ks_otlp_scope *scope, OtlpMetric *metric)
{
	struct ks_otlp_entry *entry;
	size_t points;

	if (!metric)
		return -EINVAL;
	if (!res) {
		ks_otlp_message_free(metric);
		return -EINVAL;
	}
	if (snapshot->nr == snapshot->cap) {
		size_t cap = snapshot->cap ? snapshot->cap * 2 : 16;
		struct ks_otlp_entry *grown =
			realloc(snapshot->entries, cap * sizeof(*grown));

		if (!grown) {
			ks_otlp_message_free(metric);
			return -ENOMEM;
		}
		snapshot->entries = grown;
		snapshot->cap = cap;
	}
	points = ks_otlp_metric_points(metric);
	entry = &snapshot->entries[snapshot->nr];
	if (ks_entry_fill(entry, &metric->base, res, scope,
			  points > UINT32_MAX ? UINT32_MAX : (uint32_t)points))
		return -ENOMEM;
	snapshot->nr++;
	return 0;
}

void ks_otlp_metrics_free(struct ks_otlp_metrics *snapshot)
{
	if (!snapshot)
		return;
	for (size_t i = 0; i < snapshot->nr; i++)
		ks_entry_release(&snapshot->entries[i]);
	free(snapshot->entries);
	free(snapshot);
}

int ks_otlp_export_metrics(struct ks_otlp_exporter *exp,
			   struct ks_otlp_metrics *snapshot)
{
	struct ks_pipeline *p = exp->pipelines[KS_OTLP_METRICS];
	int ret;

	if (!snapshot)
		return -EINVAL;
	if (!p) {
		ks_otlp_metrics_free(snapshot);
		return -ENODEV;
	}
	/* The entries move into the queue, or are released by the push. */
	ret = ks_pipeline_push(p, snapshot->entries, snapshot->nr);
	free(snapshot->entries);
	free(snapshot);
	return ret;
}

/* Under lock: waits until a batch is due; its size, or 0 to exit. */
static size_t ks_await_batch(struct ks_pipeline *p, uint64_t next_export_ns)
{
	size_t max_batch = p->batching.max_export_batch_size;

	for (;;) {
		uint64_t now = ks_now_mono_ns(), due_ns;

		if (p->stopping && (!p->count || now >= p->stop_deadline_ns ||
				    p->not_before_ns >= p->stop_deadline_ns))
			return 0;
		/* A full batch or a stop sends now, a pause allowing. */
		due_ns = p->stopping || p->count >= max_batch ? 0 :
								next_export_ns;
		if (due_ns < p->not_before_ns)
			due_ns = p->not_before_ns;
		if (p->count && now >= due_ns)
			return p->count < max_batch ? p->count : max_batch;
		ks_cond_wait_until(p, p->count ? due_ns : UINT64_MAX);
	}
}

/* Under lock: moves the oldest nr entries into the thread's batch. */
static uint64_t ks_take_batch(struct ks_pipeline *p, size_t nr)
{
	uint64_t units = 0;

	for (size_t i = 0; i < nr; i++) {
		p->batch[i] = p->ring[p->head];
		p->head = (p->head + 1) % p->capacity;
		units += p->batch[i].units;
	}
	p->count -= nr;
	p->stats.queued -= units;
	p->stats.exporting += units;
	return units;
}

/* Under lock: what is still queued at exit will never be sent. */
static void ks_drop_queued(struct ks_pipeline *p)
{
	while (p->count) {
		struct ks_otlp_entry *entry = &p->ring[p->head];

		p->stats.queued -= entry->units;
		p->stats.dropped_shutdown += entry->units;
		ks_entry_release(entry);
		p->head = (p->head + 1) % p->capacity;
		p->count--;
	}
}

static void ks_settle(struct ks_pipeline *p, uint64_t units,
		      const struct ks_outcome *outcome)
{
	uint64_t rejected =
		outcome->rejected < units ? outcome->rejected : units;

	pthread_mutex_lock(&p->lock);
	p->stats.exporting -= units;
	switch (outcome->settlement) {
	case KS_SETTLED_EXPORTED:
		p->stats.rejected += rejected;
		p->stats.exported += units - rejected;
		break;
	case KS_SETTLED_FAILED:
		p->stats.failed[outcome->failure] += units;
		break;
	case KS_SETTLED_SHUTDOWN:
		p->stats.dropped_shutdown += units;
		break;
	}
	pthread_mutex_unlock(&p->lock);
}

enum ks_pause_result {
	KS_PAUSE_DONE = 0,
	KS_PAUSE_TIMEOUT, /* resuming would be past the export timeout */
	KS_PAUSE_SHUTDOWN, /* or past the stop deadline */
};

/* Sleeps until resume_ns, unless the batch must be given up by then. */
static enum ks_pause_result ks_pause(struct ks_pipeline *p, uint64_t resume_ns,
				     uint64_t give_up_ns)
{
	enum ks_pause_result result = KS_PAUSE_DONE;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (resume_ns >= give_up_ns) {
			result = KS_PAUSE_TIMEOUT;
			break;
		}
		/* Re-checked after each wake-up: stop() may come meanwhile. */
		if (p->stopping && resume_ns >= p->stop_deadline_ns) {
			result = KS_PAUSE_SHUTDOWN;
			break;
		}
		if (ks_now_mono_ns() >= resume_ns)
			break;
		ks_cond_wait_until(p, resume_ns);
	}
	pthread_mutex_unlock(&p->lock);
	return result;
}

static void ks_count_attempt(struct ks_pipeline *p, bool retry)
{
	pthread_mutex_lock(&p->lock);
	p->stats.requests++;
	p->stats.retries += retry;
	pthread_mutex_unlock(&p->lock);
}

static struct ks_outcome ks_delivered(struct ks_pipeline *p,
				      const struct ks_otlp_response *response,
				      uint64_t units)
{
	struct ks_outcome outcome = { .settlement = KS_SETTLED_EXPORTED };
	char message[256], shown[KS_PRINTABLE_SIZE(sizeof(message))];
	int64_t rejected;

	rejected = ks_otlp_rejected_items(p->signal, response->body,
					  response->body_len, message,
					  sizeof(message));
	/* It was a 2xx: the data arrived, whatever the body says. */
	if (rejected < 0)
		ks_debug("OTLP %s: HTTP %ld with a body that does not decode\n",
			 ks_otlp_signal_name(p->signal), response->status);
	if (rejected > 0 || message[0])
		ks_warn("OTLP %s: the receiver rejected %" PRId64 " of %" PRIu64
			" %s: %s\n",
			ks_otlp_signal_name(p->signal),
			rejected > 0 ? rejected : 0, units,
			item_names[p->signal],
			/* The collector's words, to a terminal. */
			ks_printable(message, shown, sizeof(shown)));
	outcome.rejected = rejected > 0 ? (uint64_t)rejected : 0;
	return outcome;
}

/*
 * why may quote the collector (a gRPC status message): escaped, as its
 * words go to a terminal.
 */
static struct ks_outcome ks_failed(struct ks_pipeline *p,
				   enum ks_otlp_failure failure, uint64_t units,
				   const char *why)
{
	struct ks_outcome outcome = {
		.settlement = KS_SETTLED_FAILED,
		.failure = failure,
	};
	char shown[KS_PRINTABLE_SIZE(KS_OTLP_ERROR_SIZE)];

	ks_warn("OTLP %s: dropped %" PRIu64 " %s (%s): %s\n",
		ks_otlp_signal_name(p->signal), units, item_names[p->signal],
		ks_otlp_failure_name(failure),
		ks_printable(why, shown, sizeof(shown)));
	return outcome;
}

/* Sends one encoded batch, retrying within the export timeout. */
static struct ks_outcome ks_send(struct ks_pipeline *p, const uint8_t *data,
				 size_t len, uint64_t units)
{
	static const struct ks_outcome shutdown = {
		.settlement = KS_SETTLED_SHUTDOWN,
	};
	const struct ks_otlp_batching *batching = &p->batching;
	uint64_t give_up_ns =
		ks_now_mono_ns() + batching->export_timeout_ms * KS_NS_PER_MS;
	struct ks_otlp_response response;
	char shown[KS_PRINTABLE_SIZE(KS_OTLP_ERROR_SIZE)];

	for (unsigned int attempt = 0;; attempt++) {
		uint64_t delay_ms, resume_ns;

		ks_count_attempt(p, attempt > 0);
		ks_otlp_http_post(p->http, data, len, give_up_ns, &response);
		if (response.verdict == KS_OTLP_DELIVERED)
			return ks_delivered(p, &response, units);
		if (response.cut_off)
			return shutdown;
		if (response.verdict == KS_OTLP_GIVE_UP)
			return ks_failed(p, response.failure, units,
					 response.error);
		/*
		 * The backoff is a floor: "Retry-After: 0", or a date in the
		 * past, must not turn retries into a flood.
		 */
		delay_ms = ks_otlp_backoff_ms(
			attempt, batching->retry_initial_ms,
			batching->retry_max_ms, ks_random(p));
		if (response.has_retry_after &&
		    response.retry_after_ms > delay_ms)
			delay_ms = response.retry_after_ms;
		ks_debug("OTLP %s: %s; retrying in %" PRIu64 " ms\n",
			 ks_otlp_signal_name(p->signal),
			 ks_printable(response.error, shown, sizeof(shown)),
			 delay_ms);
		resume_ns = ks_now_mono_ns() + delay_ms * KS_NS_PER_MS;
		switch (ks_pause(p, resume_ns, give_up_ns)) {
		case KS_PAUSE_DONE:
			break;
		case KS_PAUSE_TIMEOUT:
			/* Given up on, but the pause holds for what follows. */
			p->not_before_ns = resume_ns;
			return ks_failed(p, KS_OTLP_FAIL_RETRIES, units,
					 response.error);
		case KS_PAUSE_SHUTDOWN:
			return shutdown;
		}
	}
}

static void ks_export_batch(struct ks_pipeline *p, size_t nr, uint64_t units)
{
	struct ks_outcome outcome;
	uint8_t *encoded = NULL;
	size_t len;
	int ret;

	for (size_t i = 0; i < nr; i++) {
		p->records[i].data = p->batch[i].encoded;
		p->records[i].len = p->batch[i].len;
		p->records[i].resource = p->batch[i].resource;
		p->records[i].scope = p->batch[i].scope;
	}
	ret = ks_otlp_pack_request(p->signal, p->records, nr,
				   KS_OTLP_MAX_REQUEST_BYTES, &encoded, &len);
	if (ret == -E2BIG)
		outcome = ks_failed(p, KS_OTLP_FAIL_TOO_LARGE, units,
				    "request larger than 64 MiB");
	else if (ret)
		outcome = ks_failed(p, KS_OTLP_FAIL_ENCODE, units,
				    "out of memory encoding");
	else
		outcome = ks_send(p, encoded, len, units);
	ks_settle(p, units, &outcome);
	free(encoded);
	for (size_t i = 0; i < nr; i++)
		ks_entry_release(&p->batch[i]);
}

static void *ks_pipeline_main(void *arg)
{
	struct ks_pipeline *p = arg;
	uint64_t next_export_ns = 0, delay_ns;
	size_t nr;

	delay_ns = p->batching.schedule_delay_ms * KS_NS_PER_MS;
	pthread_mutex_lock(&p->lock);
	while ((nr = ks_await_batch(p, next_export_ns))) {
		uint64_t units = ks_take_batch(p, nr);

		pthread_mutex_unlock(&p->lock);
		ks_export_batch(p, nr, units);
		pthread_mutex_lock(&p->lock);
		next_export_ns = ks_now_mono_ns() + delay_ns;
	}
	ks_drop_queued(p);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int ks_otlp_exporter_start(struct ks_otlp_exporter *exp)
{
	sigset_t all, saved;
	int ret = 0;

	/*
	 * Export threads take no signals: the agent reads its own from a
	 * signalfd, and a thread that left them unblocked would receive
	 * them instead, with their default action.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS && !ret; signal++) {
		struct ks_pipeline *p = exp->pipelines[signal];
		char name[16];

		if (!p || p->started)
			continue;
		ret = -pthread_create(&p->thread, NULL, ks_pipeline_main, p);
		if (ret)
			break;
		p->started = true;
		snprintf(name, sizeof(name), "ks-otlp-%s",
			 ks_otlp_signal_name(signal));
		pthread_setname_np(p->thread, name);
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	return ret;
}

void ks_otlp_exporter_stop(struct ks_otlp_exporter *exp,
			   unsigned int timeout_ms)
{
	uint64_t deadline_ns = ks_now_mono_ns() + timeout_ms * KS_NS_PER_MS;

	if (exp->stopped)
		return;
	exp->stopped = true;
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_pipeline *p = exp->pipelines[signal];

		if (!p)
			continue;
		pthread_mutex_lock(&p->lock);
		p->stopping = true;
		p->stop_deadline_ns = deadline_ns;
		pthread_cond_broadcast(&p->wake);
		pthread_mutex_unlock(&p->lock);
		ks_otlp_http_cut_off(p->http, deadline_ns);
	}
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_pipeline *p = exp->pipelines[signal];

		if (!p)
			continue;
		if (p->started) {
			pthread_join(p->thread, NULL);
			continue;
		}
		pthread_mutex_lock(&p->lock);
		ks_drop_queued(p);
		pthread_mutex_unlock(&p->lock);
	}
}

void ks_otlp_exporter_free(struct ks_otlp_exporter *exp)
{
	if (!exp)
		return;
	ks_otlp_exporter_stop(exp, 0);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		ks_pipeline_free(exp->pipelines[signal]);
	free(exp);
}

void ks_otlp_exporter_stats(struct ks_otlp_exporter *exp,
			    struct ks_otlp_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_pipeline *p = exp->pipelines[signal];

		if (!p)
			continue;
		pthread_mutex_lock(&p->lock);
		stats->signal[signal] = p->stats;
		stats->signal[signal].queue_depth = p->count;
		pthread_mutex_unlock(&p->lock);
	}
}
