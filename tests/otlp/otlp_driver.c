// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Drives the OTLP export layer the way the agent will, without BPF: reads
 * the OTEL_* environment, hands over numbered spans, log records and one
 * metrics snapshot with known field values, stops, and prints the
 * exporter's counters as one JSON object on stdout.
 * tests/e2e/otlp_export.bats compares what the receiver decoded with the
 * values written here.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "otlp/otlp_export.h"

/* 2023-11-14T22:13:20Z: far from zero, so truncations would show. */
#define BASE_NS 1700000000000000000ull

struct driver_options {
	unsigned int spans;
	unsigned int logs;
	bool metrics;
	bool before_start; /* queue everything first: one predictable batch */
	unsigned int stop_ms;
	unsigned int retry_initial_ms; /* 0: the exporter's default */
	size_t padding_bytes; /* an attribute this long on every span */
};

struct driver {
	struct ks_otlp_config cfg;
	struct ks_otlp_exporter *exp;
	struct ks_otlp_resource *agent;
	struct ks_otlp_resource *processes[2];
};

/* An id that says what it is (tag) and whose it is (n): 7e00...0003. */
static void make_id(uint8_t *id, size_t len, uint8_t tag, unsigned int n)
{
	memset(id, 0, len);
	id[0] = tag;
	id[len - 1] = (uint8_t)(n + 1);
}

static struct ks_otlp_resource *
process_resource(const struct ks_otlp_config *cfg, int64_t pid, const char *exe)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	/* First added wins: the process's own name over OTEL_SERVICE_NAME. */
	ks_otlp_attrs_str(&attrs, "service.name", exe);
	ks_otlp_attrs_int(&attrs, "process.pid", pid);
	ks_otlp_attrs_str(&attrs, "process.executable.name", exe);
	ks_otlp_attrs_add_configured(&attrs, cfg);
	return ks_otlp_resource_new(&attrs, NULL);
}

static struct ks_otlp_resource *agent_resource(const struct ks_otlp_config *cfg)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	ks_otlp_attrs_add_configured(&attrs, cfg);
	ks_otlp_attrs_str(&attrs, "host.name", "e2e-host");
	return ks_otlp_resource_new(&attrs, NULL);
}

/* Makes requests as large as a test needs, e.g. over the 64 MiB limit. */
static int add_padding(struct ks_otlp_attrs *attrs, size_t bytes)
{
	char *padding = malloc(bytes + 1);
	int ret;

	if (!padding)
		return -1;
	memset(padding, 'x', bytes);
	padding[bytes] = '\0';
	ret = ks_otlp_attrs_str(attrs, "knotscope.padding", padding);
	free(padding);
	return ret;
}

static OtlpSpan *numbered_span(unsigned int n, size_t padding_bytes)
{
	uint8_t trace_id[KS_OTLP_TRACE_ID_LEN], id[KS_OTLP_SPAN_ID_LEN];
	uint64_t start = BASE_NS + n * 1000000ull;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	bool deadlocked = n % 2 == 0;
	char address[32];
	OtlpSpan *span;
	int ret = 0;

	make_id(trace_id, sizeof(trace_id), 0x7e, n);
	make_id(id, sizeof(id), 0x5b, n);
	span = ks_otlp_span_new(trace_id, id, "lock wait", start,
				start + 250000);
	if (!span)
		return NULL;
	make_id(id, sizeof(id), 0x9a, n);
	ret |= ks_otlp_span_set_parent(span, id);
	snprintf(address, sizeof(address), "0x7f00dead%04x", n);
	ks_otlp_attrs_int(&attrs, "thread.id", 2000 + n);
	ks_otlp_attrs_str(&attrs, "knotscope.lock.address", address);
	ks_otlp_attrs_double(&attrs, "knotscope.wait.ms", 0.25);
	ks_otlp_attrs_bool(&attrs, "knotscope.deadlocked", deadlocked);
	if (padding_bytes)
		ret |= add_padding(&attrs, padding_bytes);
	ret |= ks_otlp_span_add_attrs(span, &attrs);
	if (deadlocked)
		ret |= ks_otlp_span_set_status(span, KS_OTLP_STATUS_ERROR,
					       "deadlocked");
	ks_otlp_attrs_int(&attrs, "knotscope.cycle.length", 2);
	ret |= ks_otlp_span_add_event(span, "cycle confirmed", start + 100000,
				      &attrs);
	make_id(id, sizeof(id), 0xc4, n);
	ret |= ks_otlp_span_add_link(span, trace_id, id, NULL);
	if (ret) {
		ks_otlp_message_free(span);
		return NULL;
	}
	return span;
}

static OtlpLogRecord *numbered_log(unsigned int n)
{
	uint8_t trace_id[KS_OTLP_TRACE_ID_LEN], span_id[KS_OTLP_SPAN_ID_LEN];
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	OtlpLogRecord *record;
	char id[16];

	record = ks_otlp_log_new(BASE_NS + n, BASE_NS + n + 5,
				 KS_OTLP_SEVERITY_ERROR, "knotscope.deadlock",
				 "deadlock: 2 threads wait for each other");
	if (!record)
		return NULL;
	make_id(trace_id, sizeof(trace_id), 0x7e, n);
	make_id(span_id, sizeof(span_id), 0x5b, n);
	snprintf(id, sizeof(id), "dl-%u", n);
	ks_otlp_attrs_str(&attrs, "knotscope.deadlock.id", id);
	ks_otlp_attrs_int(&attrs, "knotscope.deadlock.threads", 2);
	if (ks_otlp_log_set_span(record, trace_id, span_id) ||
	    ks_otlp_log_add_attrs(record, &attrs)) {
		ks_otlp_message_free(record);
		return NULL;
	}
	return record;
}

/* Three data points: one per metric kind. */
static struct ks_otlp_metrics *snapshot(struct driver *d)
{
	static const double bounds[] = { 0.0001, 0.001, 0.01, 0.1, 1 };
	static const uint64_t counts[] = { 0, 5, 3, 1, 1, 0 };
	const struct ks_otlp_histogram_values waits = {
		.bounds = bounds,
		.nr_bounds = sizeof(bounds) / sizeof(bounds[0]),
		.counts = counts,
		.sum = 0.75,
		.has_min_max = true,
		.min = 0.0002,
		.max = 0.5,
	};
	struct ks_otlp_metrics *snap = ks_otlp_metrics_new();
	OtlpMetric *watched, *lock_waits, *durations;
	int ret = 0;

	if (!snap)
		return NULL;
	watched = ks_otlp_gauge_new("knotscope.processes.watched", "{process}",
				    "processes watched");
	lock_waits = ks_otlp_sum_new("knotscope.lock.waits", "{wait}",
				     "contended lock waits", KS_OTLP_CUMULATIVE,
				     true);
	durations = ks_otlp_histogram_new("knotscope.lock.wait.duration", "s",
					  "contended lock wait times",
					  KS_OTLP_CUMULATIVE);
	if (watched)
		ret |= ks_otlp_metric_add_int(watched, NULL, 0, BASE_NS, 2);
	if (lock_waits)
		ret |= ks_otlp_metric_add_int(lock_waits, NULL, BASE_NS - 1000,
					      BASE_NS, 42);
	if (durations)
		ret |= ks_otlp_histogram_add(durations, NULL, BASE_NS - 1000,
					     BASE_NS, &waits);
	ret |= ks_otlp_metrics_add(snap, d->agent, NULL, watched);
	ret |= ks_otlp_metrics_add(snap, d->processes[0], NULL, lock_waits);
	ret |= ks_otlp_metrics_add(snap, d->processes[0], NULL, durations);
	if (ret) {
		ks_otlp_metrics_free(snap);
		return NULL;
	}
	return snap;
}

/* Hands everything over; returns -1 if something could not be built. */
static int produce(struct driver *d, const struct driver_options *opts)
{
	struct ks_otlp_metrics *snap;

	/* Return values are the exporter's business: its counters tell. */
	for (unsigned int n = 0; n < opts->spans; n++) {
		OtlpSpan *span = numbered_span(n, opts->padding_bytes);

		if (!span)
			return -1;
		ks_otlp_export_span(d->exp, d->processes[n % 2], NULL, span);
	}
	for (unsigned int n = 0; n < opts->logs; n++) {
		OtlpLogRecord *record = numbered_log(n);

		if (!record)
			return -1;
		ks_otlp_export_log(d->exp, d->processes[0], NULL, record);
	}
	if (!opts->metrics)
		return 0;
	snap = snapshot(d);
	if (!snap)
		return -1;
	ks_otlp_export_metrics(d->exp, snap);
	return 0;
}

static json_object *signal_json(const struct ks_otlp_signal_stats *s)
{
	const struct {
		const char *name;
		uint64_t value;
	} counters[] = {
		{ "produced", s->produced },
		{ "exported", s->exported },
		{ "rejected", s->rejected },
		{ "dropped_queue_full", s->dropped_queue_full },
		{ "dropped_shutdown", s->dropped_shutdown },
		{ "queued", s->queued },
		{ "exporting", s->exporting },
		{ "queue_depth", s->queue_depth },
		{ "queue_capacity", s->queue_capacity },
		{ "requests", s->requests },
		{ "retries", s->retries },
	};
	json_object *obj = json_object_new_object();
	json_object *failed = json_object_new_object();

	json_object_object_add(obj, "enabled",
			       json_object_new_boolean(s->enabled));
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		json_object_object_add(
			obj, counters[i].name,
			json_object_new_uint64(counters[i].value));
	for (int f = 0; f < KS_OTLP_NR_FAILURES; f++)
		json_object_object_add(failed, ks_otlp_failure_name(f),
				       json_object_new_uint64(s->failed[f]));
	json_object_object_add(obj, "failed", failed);
	return obj;
}

static void print_stats(struct ks_otlp_exporter *exp, double stop_ms)
{
	json_object *obj = json_object_new_object();
	struct ks_otlp_stats stats;

	ks_otlp_exporter_stats(exp, &stats);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		json_object_object_add(obj, ks_otlp_signal_name(signal),
				       signal_json(&stats.signal[signal]));
	json_object_object_add(obj, "stop_ms", json_object_new_double(stop_ms));
	printf("%s\n",
	       json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
}

static int parse_options(int argc, char **argv, struct driver_options *opts)
{
	static const struct option long_options[] = {
		{ "spans", required_argument, NULL, 's' },
		{ "logs", required_argument, NULL, 'l' },
		{ "metrics", no_argument, NULL, 'm' },
		{ "before-start", no_argument, NULL, 'b' },
		{ "stop-ms", required_argument, NULL, 't' },
		{ "retry-initial-ms", required_argument, NULL, 'r' },
		{ "padding-bytes", required_argument, NULL, 'p' },
		{ 0 },
	};
	int c;

	*opts = (struct driver_options){ .stop_ms = 10000 };
	while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
		switch (c) {
		case 's':
			opts->spans = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			opts->logs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			opts->metrics = true;
			break;
		case 'b':
			opts->before_start = true;
			break;
		case 't':
			opts->stop_ms = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			opts->retry_initial_ms =
				(unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			opts->padding_bytes = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: otlp_driver [--spans N] [--logs N] "
				"[--metrics] [--before-start] [--stop-ms MS] "
				"[--retry-initial-ms MS] [--padding-bytes N]\n");
			return -1;
		}
	}
	return 0;
}

static int setup(struct driver *d, const struct driver_options *opts)
{
	char err[KS_OTLP_ERR_SIZE];

	if (ks_otlp_config_from_env(&d->cfg, getenv, NULL, err, sizeof(err))) {
		fprintf(stderr, "otlp_driver: %s\n", err);
		return -1;
	}
	for (int signal = 0;
	     opts->retry_initial_ms && signal < KS_OTLP_NR_SIGNALS; signal++)
		d->cfg.batching[signal].retry_initial_ms =
			opts->retry_initial_ms;
	d->exp = ks_otlp_exporter_new(&d->cfg, err, sizeof(err));
	if (!d->exp) {
		fprintf(stderr, "otlp_driver: %s\n", err);
		return -1;
	}
	d->agent = agent_resource(&d->cfg);
	d->processes[0] = process_resource(&d->cfg, 1001, "abba");
	d->processes[1] = process_resource(&d->cfg, 1002, "philosophers");
	if (!d->agent || !d->processes[0] || !d->processes[1]) {
		fprintf(stderr, "otlp_driver: out of memory\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct driver_options opts;
	struct driver d = { 0 };
	uint64_t stop_start;
	int ret = 1;

	/* The exporter's debug lines (each attempt's outcome) on stderr. */
	ks_log_set_level(KS_LOG_DEBUG);
	if (parse_options(argc, argv, &opts) || setup(&d, &opts))
		goto cleanup;
	if (!opts.before_start && ks_otlp_exporter_start(d.exp))
		goto cleanup;
	if (produce(&d, &opts)) {
		fprintf(stderr, "otlp_driver: cannot build the telemetry\n");
		goto cleanup;
	}
	if (opts.before_start && ks_otlp_exporter_start(d.exp))
		goto cleanup;
	stop_start = ks_now_mono_ns();
	ks_otlp_exporter_stop(d.exp, opts.stop_ms);
	print_stats(d.exp, (double)(ks_now_mono_ns() - stop_start) / 1e6);
	ret = 0;
cleanup:
	ks_otlp_exporter_free(d.exp);
	ks_otlp_resource_put(d.agent);
	ks_otlp_resource_put(d.processes[0]);
	ks_otlp_resource_put(d.processes[1]);
	ks_otlp_config_free(&d.cfg);
	return ret;
}
