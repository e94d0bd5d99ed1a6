/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's picture of the watched processes, kept by the ring buffer's
 * records (events.c) and the start-up scan (scan.c): the thread table, each
 * thread's current wait, per-process wait statistics, and counts of what
 * came in.  What else a record means (happens-before, HTTP, lock order) is
 * for the layers above, which also hear from the model through hooks.
 */
#ifndef KS_MODEL_H
#define KS_MODEL_H

#include <stdint.h>

#include "model/selection.h"
#include "model/table.h"

/* Who else wants to know, besides the table. */
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
	/*
	 * A watched process ended at ts_ns, while still in the table: it
	 * exited, exec'd a new image, or stopped matching the selection
	 * (why: "exited", "exec" or "unwatched").
	 */
	void (*process_ended)(void *ctx, struct ks_process *process,
			      const char *why, uint64_t ts_ns);
};

/* The agent, OTLP telemetry and per-lock statistics, with room to spare. */
#define KS_MODEL_MAX_SUBSCRIBERS 4

struct ks_model_subscriber {
	const struct ks_model_hooks *hooks;
	void *ctx;
};

struct ks_model {
	struct ks_table table;
	const struct ks_selection *selection;
	/* Told in the order they subscribed. */
	struct ks_model_subscriber subscribers[KS_MODEL_MAX_SUBSCRIBERS];
	unsigned int nr_subscribers;
	/*
	 * Goes up whenever a wait begins or ends or a thread comes or goes:
	 * whoever looks at the waits can tell whether anything changed.
	 */
	uint64_t version;
	uint64_t events[KS_EV_KIND_MAX];
	uint64_t malformed;
};

/*
 * Checks and counts one ring buffer record: false for a short or unknown
 * one, counted in malformed, which nothing may read further.
 */
bool ks_model_accept(struct ks_model *model, const void *data, size_t size);
/* Applies a record ks_model_accept() took. */
void ks_model_apply(struct ks_model *model, const void *record);

/* Adds hooks called with ctx; -ENOSPC when the list is full. */
int ks_model_subscribe(struct ks_model *model,
		       const struct ks_model_hooks *hooks, void *ctx);

/*
 * Learns which C library the process runs on, once: at its first wait,
 * when how its lock words read begins to matter.
 */
void ks_model_probe_libc(struct ks_process *process);

/*
 * The thread a record comes from.  The table knows every thread from the
 * scan or its fork record; one it does not know had its fork record lost
 * to a full ring buffer, and /proc tells the rest (or that it is gone).
 */
struct ks_thread *ks_model_thread(struct ks_model *model, uint32_t tgid,
				  uint32_t tid);

#endif /* KS_MODEL_H */
