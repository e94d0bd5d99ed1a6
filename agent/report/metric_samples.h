/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metrics knotscope exports, collected from the model in one neutral
 * form, so that every exposition (OTLP, Prometheus) shows the same numbers
 * under the same names.  All counters are cumulative from when the agent
 * started watching the process (or started, for its own health).
 */
#ifndef KS_METRIC_SAMPLES_H
#define KS_METRIC_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>

#include "base/histogram.h"
#include "capture/bpf_stats.h"
#include "hb/hb.h"
#include "httptrace/http_spans.h"
#include "model/table.h"
#include "otlp/otlp_export.h"

enum ks_metric_type {
	KS_METRIC_COUNTER, /* monotonic sum */
	KS_METRIC_GAUGE,
	KS_METRIC_HISTOGRAM, /* of durations, in seconds */
};

struct ks_metric_desc {
	const char *name; /* OTel style: knotscope.lock.wait.duration */
	const char *unit; /* UCUM: "s", "{wait}" */
	const char *description;
	enum ks_metric_type type;
	/*
	 * The value counts nanoseconds and the unit is "s": expositions
	 * divide, the neutral form keeps integer precision.
	 */
	bool nanoseconds;
};

#define KS_METRIC_MAX_ATTRS 8

enum ks_metric_attr_type {
	KS_METRIC_ATTR_STRING, /* value */
	KS_METRIC_ATTR_INT, /* int_value */
	KS_METRIC_ATTR_BOOL, /* int_value != 0 */
};

struct ks_metric_attr {
	const char *key;
	enum ks_metric_attr_type type;
	/* Kept by renderers until they write: static, or the model's. */
	const char *value;
	int64_t int_value;
};

struct ks_metric_sample {
	const struct ks_metric_desc *desc;
	struct ks_process *process; /* NULL: the agent itself */
	struct ks_metric_attr attrs[KS_METRIC_MAX_ATTRS];
	unsigned int nr_attrs;
	uint64_t value; /* counters and gauges */
	/* Histograms: nr_bounds + 1 buckets over scale's bounds. */
	const struct ks_hist_scale *scale;
	const uint64_t *buckets;
	const struct ks_hist_summary *summary;
	uint64_t start_real_ns; /* where the cumulative count starts */
};

#define KS_MAX_BPF_PROGS 16

/*
 * What the agent chose not to make, to keep within its memory ceiling and
 * its main loop on time: counted, never silent.
 */
struct ks_shed_stats {
	/* Spans not made while memory was over the shedding mark. */
	uint64_t spans;
	/* Spans sent without code.* attributes: the unwinding budget ran out. */
	uint64_t span_sites;
	/* Spans sent without their happens-before point, so as not to hold
	 * them: the hold was full, or memory over the shedding mark. */
	uint64_t hb_points;
};

/* The agent's own counters, for its health metrics. */
struct ks_agent_health {
	uint64_t events[KS_EV_KIND_MAX];
	uint64_t kernel_lost[KS_EV_KIND_MAX]; /* ring buffer full */
	uint64_t untracked_waits;
	uint64_t malformed;
	uint64_t deadlocks;
	uint64_t stalls;
	uint64_t socks_untracked; /* connections the kernel could not track */
	uint64_t started_real_ns;
	const struct ks_otlp_stats *export; /* NULL without OTLP export */
	const struct ks_hb_stats *hb; /* NULL without happens-before */
	/* Empty when BPF run-time statistics are off. */
	struct ks_bpf_prog_cost bpf_progs[KS_MAX_BPF_PROGS];
	unsigned int nr_bpf_progs;
	const struct ks_http_stats *http; /* NULL without --http */
	uint64_t memory_resident; /* bytes */
	uint64_t memory_limit; /* bytes; 0: no ceiling */
	struct ks_shed_stats shed;
};

typedef void (*ks_metric_fn)(void *ctx, const struct ks_metric_sample *sample);

/* Where the metrics of the watched processes come from. */
struct ks_metrics_source {
	const struct ks_table *table;
	struct ks_http_spans *http; /* NULL without --http */
};

/*
 * Calls fn for every sample: the agent's first, then each watched process
 * that waited on a futex (the departed ones the table still keeps too:
 * their final values), then each that served or made HTTP requests.
 * Samples of one metric and one resource come one after another.
 */
void ks_metrics_collect(const struct ks_metrics_source *source,
			const struct ks_agent_health *health, ks_metric_fn fn,
			void *ctx);

#endif /* KS_METRIC_SAMPLES_H */
