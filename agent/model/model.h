/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Everything the agent knows about the watched processes, and the parts
 * that act on it.  Events (events.c) and the start-up scan (scan.c) update
 * it; the detector reads it.
 */
#ifndef KS_MODEL_H
#define KS_MODEL_H

#include <stdint.h>

#include "capture/precise.h"
#include "detect/detector.h"
#include "detect/lockorder.h"
#include "hb/causality.h"
#include "httptrace/http_spans.h"
#include "model/selection.h"
#include "model/table.h"
#include "report/json_sink.h"
#include "stacks/symbolize.h"

/* Who else wants to know, besides the table and the detector. */
struct ks_model_hooks {
	/* A wait seen from its start ended; thread->wait still holds it. */
	void (*wait_ended)(void *ctx, struct ks_thread *thread,
			   const struct ks_wait_end *end);
	/* A kernel lock wait ended; thread->klock still holds it. */
	void (*klock_ended)(void *ctx, struct ks_thread *thread,
			    const struct ks_klock_end *end);
	/* A read of a pipe, unix socket or eventfd returned data. */
	void (*channel_read)(void *ctx, struct ks_thread *thread,
			     const struct ks_io *io);
	/* A thread was off CPU longer than the threshold. */
	void (*off_cpu)(void *ctx, struct ks_thread *thread,
			const struct ks_offcpu *off);
};

/* OTLP telemetry and per-lock statistics, with room to spare. */
#define KS_MODEL_MAX_SUBSCRIBERS 4

struct ks_model_subscriber {
	const struct ks_model_hooks *hooks;
	void *ctx;
};

struct ks_model {
	struct ks_table table;
	const struct ks_selection *selection;
	struct ks_detector *detector;
	struct ks_symbolizer *symbolizer;
	struct ks_json_sink *sink; /* NULL without --json */
	/* Told in the order they subscribed. */
	struct ks_model_subscriber subscribers[KS_MODEL_MAX_SUBSCRIBERS];
	unsigned int nr_subscribers;
	/* Precise mode, NULL without --precise. */
	struct ks_precise *precise;
	struct ks_lockorder *lockorder;
	/* Happens-before, NULL when no spans are exported. */
	struct ks_causality *causality;
	struct ks_http_spans *http; /* NULL without --http */
	uint64_t events[KS_EV_KIND_MAX];
	uint64_t malformed;
};

/*
 * Applies one ring buffer record.  Records are validated first: a short or
 * unknown one is counted in malformed and skipped.
 */
void ks_events_apply(struct ks_model *model, const void *data, size_t size);

/* Adds hooks called with ctx; -ENOSPC when the list is full. */
int ks_model_subscribe(struct ks_model *model,
		       const struct ks_model_hooks *hooks, void *ctx);

/*
 * The thread a record comes from.  The table knows every thread from the
 * scan or its fork record; one it does not know had its fork record lost
 * to a full ring buffer, and /proc tells the rest (or that it is gone).
 */
struct ks_thread *ks_model_thread(struct ks_model *model, uint32_t tgid,
				  uint32_t tid);

/* "wait_begin", "fork"...: how records are named in JSON and metrics. */
const char *ks_event_kind_name(unsigned int kind);

#endif /* KS_MODEL_H */
