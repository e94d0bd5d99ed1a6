// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "meta/process_meta.h"
#include "serve/prometheus.h"

/* More than ks_metrics_collect() has. */
#define KS_PROM_MAX_METRICS 64

struct ks_prom_writer {
	ks_prom_labels_fn labels;
	void *ctx;
	/* Each metric once, in the order first seen. */
	const struct ks_metric_desc *metrics[KS_PROM_MAX_METRICS];
	size_t nr_metrics;
	struct ks_metric_sample *samples;
	size_t nr;
	size_t cap;
	bool failed;
};

struct ks_prom_writer *ks_prom_writer_new(ks_prom_labels_fn labels, void *ctx)
{
	struct ks_prom_writer *writer = calloc(1, sizeof(*writer));

	if (!writer)
		return NULL;
	writer->labels = labels;
	writer->ctx = ctx;
	return writer;
}

void ks_prom_writer_free(struct ks_prom_writer *writer)
{
	if (!writer)
		return;
	free(writer->samples);
	free(writer);
}

static int ks_prom_note_metric(struct ks_prom_writer *writer,
			       const struct ks_metric_desc *desc)
{
	for (size_t i = 0; i < writer->nr_metrics; i++)
		if (writer->metrics[i] == desc)
			return 0;
	if (writer->nr_metrics == KS_PROM_MAX_METRICS)
		return -ENOSPC;
	writer->metrics[writer->nr_metrics++] = desc;
	return 0;
}

void ks_prom_add(void *ctx, const struct ks_metric_sample *sample)
{
	struct ks_prom_writer *writer = ctx;

	if (ks_prom_note_metric(writer, sample->desc)) {
		writer->failed = true;
		return;
	}
	if (writer->nr == writer->cap) {
		size_t cap = writer->cap ? 2 * writer->cap : 64;
		struct ks_metric_sample *grown =
			realloc(writer->samples, cap * sizeof(*grown));

		if (!grown) {
			writer->failed = true;
			return;
		}
		writer->samples = grown;
		writer->cap = cap;
	}
	writer->samples[writer->nr++] = *sample;
}

/* Name characters Prometheus allows; anything else becomes one '_'. */
static void ks_prom_sanitize(const char *in, char *out, size_t size)
{
	size_t len = 0;

	for (; *in && len + 1 < size; in++) {
		char c = *in;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9' && len > 0) || c == '_' ||
			  c == ':';

		if (!ok)
			c = '_';
		if (c == '_' && len > 0 && out[len - 1] == '_')
			continue;
		out[len++] = c;
	}
	out[len] = '\0';
}

/* The suffix a UCUM unit gives a name; NULL for none. */
static const char *ks_prom_unit_suffix(const char *unit)
{
	static const struct {
		const char *ucum;
		const char *suffix;
	} units[] = {
		{ "s", "seconds" },	  { "ms", "milliseconds" },
		{ "us", "microseconds" }, { "ns", "nanoseconds" },
		{ "By", "bytes" },
	};

	/* "{wait}" and the like only annotate a count: no suffix. */
	if (!unit || !*unit || unit[0] == '{' || !strcmp(unit, "1"))
		return NULL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(unit, units[i].ucum))
			return units[i].suffix;
	return unit;
}

static bool ks_ends_with(const char *s, const char *suffix)
{
	size_t len = strlen(s), n = strlen(suffix);

	return len > n && s[len - n - 1] == '_' && !strcmp(s + len - n, suffix);
}

static void ks_append_suffix(char *buf, size_t size, const char *suffix)
{
	size_t len = strlen(buf);

	if (ks_ends_with(buf, suffix))
		return;
	snprintf(buf + len, size - len, "_%s", suffix);
}

void ks_prom_metric_name(const struct ks_metric_desc *desc, char *buf,
			 size_t size)
{
	const char *unit = ks_prom_unit_suffix(desc->unit);
	char sanitized[64];

	ks_prom_sanitize(desc->name, buf, size);
	if (unit) {
		ks_prom_sanitize(unit, sanitized, sizeof(sanitized));
		ks_append_suffix(buf, size, sanitized);
	}
	if (desc->type == KS_METRIC_COUNTER)
		ks_append_suffix(buf, size, "total");
}

/* The shortest text that reads back as the same double. */
static void ks_prom_float(double value, char *buf, size_t size)
{
	if (isinf(value)) {
		snprintf(buf, size, "%s", value > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(value)) {
		snprintf(buf, size, "NaN");
		return;
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buf, size, "%.*g", precision, value);
		if (strtod(buf, NULL) == value)
			break;
	}
	/* 10 reads better than 1e+01: whole digits where they are exact. */
	if (strchr(buf, 'e') && fabs(value) >= 1 && fabs(value) < 1e15)
		snprintf(buf, size, "%.17g", value);
}

/* HELP text escapes backslash and newline; label values also '"'. */
static void ks_prom_escaped(FILE *out, const char *text, bool quote)
{
	for (; *text; text++) {
		if (*text == '\\')
			fputs("\\\\", out);
		else if (*text == '\n')
			fputs("\\n", out);
		else if (*text == '"' && quote)
			fputs("\\\"", out);
		else
			fputc(*text, out);
	}
}

static void ks_prom_label(FILE *out, bool *first, const char *key,
			  const char *value)
{
	char name[96];

	ks_prom_sanitize(key, name, sizeof(name));
	fprintf(out, "%s%s=\"", *first ? "{" : ",", name);
	ks_prom_escaped(out, value, true);
	fputc('"', out);
	*first = false;
}

static void ks_prom_resource(struct ks_prom_writer *writer,
			     struct ks_process *process, char *const **pairs,
			     size_t *nr)
{
	*pairs = NULL;
	*nr = 0;
	if (writer->labels)
		writer->labels(writer->ctx, process, pairs, nr);
}

/*
 * Where a process runs, when known: labels of its series after
 * service_name and process_pid, in this order.
 */
static const char *const ks_placement[] = {
	"container.id",	     "k8s.pod.name",	   "k8s.namespace.name",
	"service.namespace", "k8s.container.name",
};

/* The workload attributes, top-most first, and kubernetes-mixin's names. */
static const struct {
	const char *attribute;
	const char *type;
} ks_workloads[] = {
	{ "k8s.deployment.name", "deployment" },
	{ "k8s.statefulset.name", "statefulset" },
	{ "k8s.daemonset.name", "daemonset" },
	{ "k8s.cronjob.name", "cronjob" },
	{ "k8s.job.name", "job" },
	{ "k8s.replicaset.name", "replicaset" },
};

/*
 * What tells a process's series from another's: its service and pid,
 * where it runs, and its pod's top-most controller as workload and
 * workload_type, named as kubernetes-mixin's recording rules name them so
 * that dashboards can select by them.
 */
static void ks_prom_process_labels(struct ks_prom_writer *writer, FILE *out,
				   bool *first, struct ks_process *process)
{
	const char *service, *value;
	char *const *pairs;
	char pid[16];
	size_t nr;

	ks_prom_resource(writer, process, &pairs, &nr);
	service = ks_attrs_text_find(pairs, nr, "service.name");
	ks_prom_label(out, first, "service.name",
		      service ? service : process->comm);
	snprintf(pid, sizeof(pid), "%u", process->tgid);
	ks_prom_label(out, first, "process.pid", pid);
	for (size_t i = 0; i < sizeof(ks_placement) / sizeof(ks_placement[0]);
	     i++) {
		value = ks_attrs_text_find(pairs, nr, ks_placement[i]);
		if (value)
			ks_prom_label(out, first, ks_placement[i], value);
	}
	for (size_t i = 0; i < sizeof(ks_workloads) / sizeof(ks_workloads[0]);
	     i++) {
		value = ks_attrs_text_find(pairs, nr,
					   ks_workloads[i].attribute);
		if (value) {
			ks_prom_label(out, first, "workload", value);
			ks_prom_label(out, first, "workload_type",
				      ks_workloads[i].type);
			break;
		}
	}
}

/* The labels of a sample, plus le for a bucket (NULL otherwise). */
static void ks_prom_labels(struct ks_prom_writer *writer, FILE *out,
			   const struct ks_metric_sample *sample,
			   const char *le)
{
	bool first = true;
	char number[24];

	for (unsigned int i = 0; i < sample->nr_attrs; i++) {
		const struct ks_metric_attr *attr = &sample->attrs[i];
		const char *value = attr->value;

		/* As OTLP-to-Prometheus translation renders them. */
		if (attr->type == KS_METRIC_ATTR_INT) {
			snprintf(number, sizeof(number), "%" PRId64,
				 attr->int_value);
			value = number;
		} else if (attr->type == KS_METRIC_ATTR_BOOL) {
			value = attr->int_value ? "true" : "false";
		}
		ks_prom_label(out, &first, attr->key, value);
	}
	if (sample->process)
		ks_prom_process_labels(writer, out, &first, sample->process);
	if (le)
		ks_prom_label(out, &first, "le", le);
	if (!first)
		fputc('}', out);
}

static void ks_prom_histogram(struct ks_prom_writer *writer, FILE *out,
			      const char *name,
			      const struct ks_metric_sample *sample)
{
	const struct ks_hist_scale *scale = sample->scale;
	const struct ks_hist_summary *summary = sample->summary;
	uint64_t cumulative = 0;
	char le[32], sum[32];

	for (size_t i = 0; i < scale->nr_bounds; i++) {
		cumulative += sample->buckets[i];
		ks_prom_float(scale->bounds_s[i], le, sizeof(le));
		fprintf(out, "%s_bucket", name);
		ks_prom_labels(writer, out, sample, le);
		fprintf(out, " %" PRIu64 "\n", cumulative);
	}
	fprintf(out, "%s_bucket", name);
	ks_prom_labels(writer, out, sample, "+Inf");
	fprintf(out, " %" PRIu64 "\n", summary->count);
	ks_prom_float((double)summary->sum_ns / 1e9, sum, sizeof(sum));
	fprintf(out, "%s_sum", name);
	ks_prom_labels(writer, out, sample, NULL);
	fprintf(out, " %s\n", sum);
	fprintf(out, "%s_count", name);
	ks_prom_labels(writer, out, sample, NULL);
	fprintf(out, " %" PRIu64 "\n", summary->count);
}

static void ks_prom_sample(struct ks_prom_writer *writer, FILE *out,
			   const char *name,
			   const struct ks_metric_sample *sample)
{
	char value[32];

	if (sample->scale) {
		ks_prom_histogram(writer, out, name, sample);
		return;
	}
	fputs(name, out);
	ks_prom_labels(writer, out, sample, NULL);
	if (sample->desc->nanoseconds) {
		ks_prom_float((double)sample->value / 1e9, value,
			      sizeof(value));
		fprintf(out, " %s\n", value);
	} else {
		fprintf(out, " %" PRIu64 "\n", sample->value);
	}
}

static const char *ks_prom_type(enum ks_metric_type type)
{
	switch (type) {
	case KS_METRIC_COUNTER:
		return "counter";
	case KS_METRIC_GAUGE:
		return "gauge";
	case KS_METRIC_HISTOGRAM:
		break;
	}
	return "histogram";
}

/*
 * Whether the label pairs[i] becomes is written already: as identity, or
 * by an earlier attribute of another spelling ("a.b" and "a_b").
 */
static bool ks_label_taken(char *const *pairs, size_t i, bool identity)
{
	static const char *const identities[] = {
		"service_name",
		"process_pid",
		"workload",
		"workload_type",
	};
	char name[96], other[96];

	ks_prom_sanitize(pairs[i], name, sizeof(name));
	for (size_t j = 0;
	     identity && j < sizeof(identities) / sizeof(*identities); j++)
		if (!strcmp(name, identities[j]))
			return true;
	for (size_t j = 0;
	     identity && j < sizeof(ks_placement) / sizeof(*ks_placement);
	     j++) {
		ks_prom_sanitize(ks_placement[j], other, sizeof(other));
		if (!strcmp(name, other))
			return true;
	}
	for (size_t j = 0; j < i; j += 2) {
		ks_prom_sanitize(pairs[j], other, sizeof(other));
		if (!strcmp(name, other))
			return true;
	}
	return false;
}

/* A resource's target_info series: all its attributes, value 1. */
static void ks_prom_target(struct ks_prom_writer *writer, FILE *out,
			   struct ks_process *process)
{
	char *const *pairs;
	bool first = true;
	size_t nr;

	ks_prom_resource(writer, process, &pairs, &nr);
	if (!nr && !process)
		return;
	fputs("target_info", out);
	/*
	 * Identity first, in the order the series have it; the agent's
	 * service.name too, though its resource lists what is observed
	 * before it.
	 */
	if (process)
		ks_prom_process_labels(writer, out, &first, process);
	for (size_t i = 0; !process && i + 1 < nr; i += 2)
		if (!strcmp(pairs[i], "service.name")) {
			ks_prom_label(out, &first, pairs[i], pairs[i + 1]);
			break;
		}
	for (size_t i = 0; i + 1 < nr; i += 2)
		if (!ks_label_taken(pairs, i, process != NULL) &&
		    (process || strcmp(pairs[i], "service.name")))
			ks_prom_label(out, &first, pairs[i], pairs[i + 1]);
	fputs(first ? " 1\n" : "} 1\n", out);
}

static int ks_by_tgid(const void *a, const void *b)
{
	const struct ks_process *pa = *(struct ks_process *const *)a;
	const struct ks_process *pb = *(struct ks_process *const *)b;

	return pa->tgid < pb->tgid ? -1 : pa->tgid > pb->tgid;
}

/*
 * target_info: the agent's, then once each process's that has samples,
 * by pid.  -ENOMEM.
 */
static int ks_prom_targets(struct ks_prom_writer *writer, FILE *out)
{
	struct ks_process **processes =
		malloc((writer->nr + 1) * sizeof(*processes));
	size_t nr = 0;

	if (!processes)
		return -ENOMEM;
	for (size_t i = 0; i < writer->nr; i++)
		if (writer->samples[i].process)
			processes[nr++] = writer->samples[i].process;
	qsort(processes, nr, sizeof(*processes), ks_by_tgid);
	fputs("# HELP target_info Target metadata\n"
	      "# TYPE target_info gauge\n",
	      out);
	ks_prom_target(writer, out, NULL);
	for (size_t i = 0; i < nr; i++)
		if (!i || processes[i] != processes[i - 1])
			ks_prom_target(writer, out, processes[i]);
	free(processes);
	return 0;
}

int ks_prom_write(struct ks_prom_writer *writer, FILE *out)
{
	char name[128];

	if (writer->failed || ks_prom_targets(writer, out))
		return -ENOMEM;
	for (size_t i = 0; i < writer->nr_metrics; i++) {
		const struct ks_metric_desc *desc = writer->metrics[i];

		ks_prom_metric_name(desc, name, sizeof(name));
		fprintf(out, "# HELP %s ", name);
		ks_prom_escaped(out, desc->description, false);
		fprintf(out, "\n# TYPE %s %s\n", name,
			ks_prom_type(desc->type));
		/* Samples of one metric may come from several resources. */
		for (size_t j = 0; j < writer->nr; j++)
			if (writer->samples[j].desc == desc)
				ks_prom_sample(writer, out, name,
					       &writer->samples[j]);
	}
	return ferror(out) ? -EIO : 0;
}
