/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Everything the agent knows about the watched processes, and the parts
 * that act on it.  Events (events.c) and the start-up scan (scan.c) update
 * it; the detector reads it.
 */
#ifndef KS_MODEL_H
#define KS_MODEL_H

#include <stdint.h>

#include "detector.h"
#include "http_spans.h"
#include "json_sink.h"
#include "selection.h"
#include "symbolize.h"
#include "table.h"

/* Who else wants to know, besides the table and the detector. */
struct ks_model_hooks {
	/* A wait seen from its start ended; thread->wait still holds it. */
	void (*wait_ended)(void *ctx, struct ks_thread *thread,
			   const struct ks_wait_end *end);
};

struct ks_model {
	struct ks_table table;
	const struct ks_selection *selection;
	struct ks_detector *detector;
	struct ks_symbolizer *symbolizer;
	struct ks_json_sink *sink; /* NULL without --json */
	struct ks_http_spans *http; /* NULL without --http */
	const struct ks_model_hooks *hooks; /* may be NULL */
	void *hooks_ctx;
	uint64_t events[KS_EV_KIND_MAX];
	uint64_t malformed;
};

/*
 * Applies one ring buffer record.  Records are validated first: a short or
 * unknown one is counted in malformed and skipped.
 */
void ks_events_apply(struct ks_model *model, const void *data, size_t size);

/* "wait_begin", "sock_data", ...: how records are named in output. */
const char *ks_event_kind_name(unsigned int kind);

/* Read a thread from /proc when an event names one not yet in the table. */
struct ks_thread *ks_model_thread(struct ks_model *model, uint32_t tgid,
				  uint32_t tid, const struct ks_task_id *id);

#endif /* KS_MODEL_H */
