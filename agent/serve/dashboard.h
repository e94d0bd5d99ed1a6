/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The main thread's side of the dashboard: renders the documents the HTTP
 * server serves (the wait-for graph, contended locks, deadlock history,
 * processes, agent health, /metrics and the event that announces them)
 * and publishes them on the board.  It renders only when a reader asked
 * for something fresher than KS_DASH_PUBLISH_MS, or an event stream is
 * open, and at once when a deadlock is reported.
 */
#ifndef KS_DASHBOARD_H
#define KS_DASHBOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "httptrace/http_span.h"
#include "meta/k8s_cache.h"
#include "meta/k8s_watch.h"
#include "model/model.h"
#include "report/metric_samples.h"
#include "report/report.h"
#include "serve/lock_stats.h"
#include "serve/publication.h"

#define KS_DASH_PUBLISH_MS 500
/* Long waits' stacks: how deep, and how many new ones per rendering. */
#define KS_DASH_STACK_FRAMES 16
#define KS_DASH_STACKS_PER_RENDER 8
/* Locks listed, most waited-for first. */
#define KS_DASH_TOP_LOCKS 100
/* Locks whose last hour is drawn, most waited-for in it first. */
#define KS_DASH_TREND_LOCKS 20

struct ks_dashboard_config {
	/* What the documents show: the metrics' source, and its table. */
	struct ks_metrics_source watched; /* its http: see set_http */
	struct ks_symbolizer *symbolizer;
	struct ks_lock_stats *lock_stats;
	struct ks_board *board;
	const char *attach_mode; /* known once capture is loaded */
	bool bpf_stats; /* BPF run-time statistics are on */
	/* Where findings are kept across restarts; NULL: memory only. */
	const char *history_file;
	/* A trace viewer's URL with {trace_id}, for the page; NULL: none. */
	const char *trace_url;
	bool login; /* browsers log in with the token: the page offers out */
	/* This node's pods from the Kubernetes API, and the watch that
	 * keeps them; NULL without. */
	struct ks_k8s_cache *pods;
	struct ks_k8s_watch *k8s;
};

struct ks_dashboard;

struct ks_dashboard *ks_dashboard_new(const struct ks_dashboard_config *cfg);
void ks_dashboard_free(struct ks_dashboard *dashboard);
void ks_dashboard_set_attach_mode(struct ks_dashboard *dashboard,
				  const char *attach_mode);
/* HTTP spans, made after the dashboard: their metrics are shown too. */
void ks_dashboard_set_http(struct ks_dashboard *dashboard,
			   struct ks_http_spans *http);

/* An HTTP span of process ended: its service's RED rows count it. */
void ks_dashboard_http_span(struct ks_dashboard *dashboard,
			    struct ks_process *process,
			    const struct ks_http_span *span,
			    uint64_t now_mono_ns);

/* Whether ks_dashboard_publish() is due at now. */
bool ks_dashboard_due(struct ks_dashboard *dashboard, uint64_t now_mono_ns);
void ks_dashboard_publish(struct ks_dashboard *dashboard,
			  const struct ks_agent_health *health,
			  uint64_t now_mono_ns);

/* A deadlock was reported: kept in the history, published at once. */
void ks_dashboard_deadlock(struct ks_dashboard *dashboard,
			   const struct ks_report *report);
/* A stall was reported: likewise. */
void ks_dashboard_stall(struct ks_dashboard *dashboard,
			const struct ks_stall_report *report);

/*
 * A ks_prom_labels_fn: the attributes a process's resource has (as the
 * OTLP export makes them), kept with the process and read again while
 * the Kubernetes API may tell more about its pod; the agent's own with
 * process NULL.
 */
void ks_dashboard_resource_labels(void *ctx, struct ks_process *process,
				  char *const **pairs, size_t *nr);
/* Whether /metrics has been rendered: whether anything reads it. */
bool ks_dashboard_scraped(const struct ks_dashboard *dashboard);

#endif /* KS_DASHBOARD_H */
