/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metrics of ks_metrics_collect() in the Prometheus text exposition
 * format 0.0.4, named as the OpenTelemetry-to-Prometheus conventions say:
 * dots become underscores, the unit becomes a suffix ("s": _seconds; UCUM
 * annotations such as "{wait}" are dropped), counters end in _total, and
 * histograms expose cumulative _bucket{le=...}, _sum and _count series.
 * Attributes become labels the same way.
 *
 * One exposition mixes the agent's own metrics with those of every watched
 * process, so each process's samples carry the identity of its resource
 * as labels: service_name and process_pid, and when known container_id,
 * k8s_pod_name, k8s_namespace_name, service_namespace, k8s_container_name,
 * and workload and workload_type (its pod's top-most controller, as
 * kubernetes-mixin's recording rules name them).  As OpenTelemetry's Prometheus
 * exporters do, a target_info gauge (value 1) per resource carries all of
 * its attributes as labels: the agent's, and each process's with samples.
 */
#ifndef KS_PROMETHEUS_H
#define KS_PROMETHEUS_H

#include <stddef.h>
#include <stdio.h>

#include "report/metric_samples.h"

#define KS_PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The attributes of process's resource (NULL: the agent's) as text: key,
 * value, key, value...; *nr 0 when unknown.
 */
typedef void (*ks_prom_labels_fn)(void *ctx, struct ks_process *process,
				  char *const **pairs, size_t *nr);

struct ks_prom_writer;

struct ks_prom_writer *ks_prom_writer_new(ks_prom_labels_fn labels, void *ctx);
void ks_prom_writer_free(struct ks_prom_writer *writer);

/*
 * A ks_metric_fn: keeps the sample, with writer as ctx.  Samples point into
 * the model, so write them out before the model changes.
 */
void ks_prom_add(void *writer, const struct ks_metric_sample *sample);

/*
 * Writes every sample kept, grouped by metric under one HELP and one TYPE
 * line each, in the order metrics were first seen.  0, or -ENOMEM when a
 * sample could not be kept, or -EIO when out failed.
 */
int ks_prom_write(struct ks_prom_writer *writer, FILE *out);

/* The Prometheus name of a metric, without _bucket/_sum/_count. */
void ks_prom_metric_name(const struct ks_metric_desc *desc, char *buf,
			 size_t size);

#endif /* KS_PROMETHEUS_H */
