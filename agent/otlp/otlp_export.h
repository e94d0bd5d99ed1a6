/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The OTLP exporter: a bounded queue and an export thread per signal.
 *
 * The agent's main thread hands over spans, log records and metrics
 * snapshots; those calls never wait for the network, only for a mutex the
 * export thread holds while it moves pointers.  Each export thread batches
 * (by size or delay, as the OTel batch processors do), groups a batch by
 * resource into one Export*ServiceRequest, sends it and retries what the
 * spec says may be retried, within the export timeout.  It only ever reads
 * what it was handed, never agent state.
 *
 * Ownership: every ks_otlp_export_*() call takes the message (or snapshot)
 * whatever it returns; resources are shared, and the exporter takes a
 * reference of its own, so the caller keeps its reference.
 *
 * Accounting, per signal, in items: spans, log records, or metric data
 * points (the unit partial_success counts in).  Every item handed over ends
 * in exactly one place, so at any instant
 *
 *   produced = exported + rejected + dropped_queue_full + sum(failed[])
 *              + dropped_shutdown + queued + exporting
 */
#ifndef KS_OTLP_EXPORT_H
#define KS_OTLP_EXPORT_H

#include <stdint.h>

#include "otlp/otlp_build.h"
#include "otlp/otlp_config.h"
#include "otlp/otlp_resource.h"
#include "otlp/otlp_retry.h"
#include "otlp/otlp_scope.h"

struct ks_otlp_exporter;

/*
 * An exporter for the signals cfg enables, not yet sending: what is handed
 * over before ks_otlp_exporter_start() waits in the queues.  cfg is only
 * read during the call.  NULL with a message in err.
 */
struct ks_otlp_exporter *ks_otlp_exporter_new(const struct ks_otlp_config *cfg,
					      char *err, size_t err_size);

/* Starts the export threads; -errno if one cannot be created. */
int ks_otlp_exporter_start(struct ks_otlp_exporter *exp);

/* Whether items of this signal are wanted at all: skip building them if not. */
bool ks_otlp_exporter_wants(const struct ks_otlp_exporter *exp,
			    enum ks_otlp_signal signal);

/*
 * Whether the signal's queue is full now, so that an item handed over
 * would be dropped: with a collector down, building items only to drop
 * them costs the main thread dearly.  An item not built for that is
 * counted with ks_otlp_export_skipped(), as produced and dropped with the
 * queue full, as if it had been handed over.
 */
bool ks_otlp_exporter_full(struct ks_otlp_exporter *exp,
			   enum ks_otlp_signal signal);
void ks_otlp_export_skipped(struct ks_otlp_exporter *exp,
			    enum ks_otlp_signal signal);

/*
 * Queue an item that belongs to res, made by scope (static; NULL: the
 * default scope, "knotscope").  0 when queued; -ENOBUFS when the
 * queue was full and the item was dropped (the newest is dropped: what is
 * queued is older and already waited its turn, and for deadlocks the first
 * report carries the news while repeats add little); -ESHUTDOWN after
 * ks_otlp_exporter_stop(); -ENODEV when the signal is not exported
 * (not counted); -EINVAL for a NULL item or resource (not counted).
 * Never waits for the network: only, briefly, for the queue's mutex.
 */
int ks_otlp_export_span(struct ks_otlp_exporter *exp,
			struct ks_otlp_resource *res,
			const struct ks_otlp_scope *scope, OtlpSpan *span);
int ks_otlp_export_log(struct ks_otlp_exporter *exp,
		       struct ks_otlp_resource *res,
		       const struct ks_otlp_scope *scope,
		       OtlpLogRecord *record);

/*
 * A metrics snapshot: the metrics the agent collected at one instant, each
 * with the resource it describes.  Built on the agent's timer and handed
 * over whole, so the export thread never reads the agent's counters.
 */
struct ks_otlp_metrics;

struct ks_otlp_metrics *ks_otlp_metrics_new(void);
/*
 * Takes metric whatever the result, and a reference to res (its own: the
 * caller keeps its reference); -ENOMEM, -EINVAL for a NULL metric or res.
 */
int ks_otlp_metrics_add(struct ks_otlp_metrics *snapshot,
			struct ks_otlp_resource *res,
			const struct ks_otlp_scope *scope, OtlpMetric *metric);
/* For a snapshot that is not handed over after all; NULL is fine. */
void ks_otlp_metrics_free(struct ks_otlp_metrics *snapshot);

/*
 * Queues the snapshot's metrics as a whole or drops them all, with the
 * results of ks_otlp_export_span().  Takes the snapshot.
 */
int ks_otlp_export_metrics(struct ks_otlp_exporter *exp,
			   struct ks_otlp_metrics *snapshot);

/*
 * Flushes what is queued for at most timeout_ms, then stops the threads:
 * requests still in flight at the deadline are abandoned, and everything
 * not delivered by then counts as dropped_shutdown.  Returns when the
 * threads have exited.  Later exports are counted as dropped_shutdown.
 */
void ks_otlp_exporter_stop(struct ks_otlp_exporter *exp,
			   unsigned int timeout_ms);

/* Stops (with no time to flush) if still running, then frees; NULL is fine. */
void ks_otlp_exporter_free(struct ks_otlp_exporter *exp);

struct ks_otlp_signal_stats {
	bool enabled;
	uint64_t produced;
	uint64_t exported;
	uint64_t rejected; /* by the receiver, in a partial success */
	uint64_t dropped_queue_full;
	uint64_t failed[KS_OTLP_NR_FAILURES];
	uint64_t dropped_shutdown;
	uint64_t queued;
	uint64_t exporting; /* in the batch being sent */
	/* Queue entries (spans, records, metrics) against the bound. */
	uint64_t queue_depth;
	uint64_t queue_capacity;
	uint64_t requests; /* HTTP attempts */
	uint64_t retries; /* of those, attempts after a retryable failure */
};

struct ks_otlp_stats {
	struct ks_otlp_signal_stats signal[KS_OTLP_NR_SIGNALS];
};

/* A consistent snapshot per signal; thread-safe. */
void ks_otlp_exporter_stats(struct ks_otlp_exporter *exp,
			    struct ks_otlp_stats *stats);

#endif /* KS_OTLP_EXPORT_H */
