// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The exporter's queues and their accounting, with the export threads not
 * started: nothing is sent, so every count is exact and deterministic.
 */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>

#include "otlp/otlp_export.h"

static char *test_getenv(const char *name)
{
	static const struct {
		const char *name;
		const char *value;
	} env[] = {
		/* Never contacted: no test here starts the exporter. */
		{ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9" },
		{ "OTEL_BSP_MAX_QUEUE_SIZE", "4" },
		{ "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2" },
		{ "OTEL_LOGS_EXPORTER", "none" },
	};

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (!strcmp(env[i].name, name))
			return (char *)env[i].value;
	return NULL;
}

struct fixture {
	struct ks_otlp_config cfg;
	struct ks_otlp_exporter *exp;
	struct ks_otlp_resource *res;
	struct ks_otlp_stats stats;
};

static int setup(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct fixture *f = calloc(1, sizeof(*f));
	char err[KS_OTLP_ERR_SIZE];

	assert_non_null(f);
	assert_int_equal(ks_otlp_config_from_env(&f->cfg, test_getenv, NULL,
						 err, sizeof(err)),
			 0);
	/* No variable sizes the metrics queue: small, to fill it. */
	f->cfg.batching[KS_OTLP_METRICS].max_queue_size = 3;
	f->exp = ks_otlp_exporter_new(&f->cfg, err, sizeof(err));
	assert_non_null(f->exp);
	ks_otlp_attrs_int(&attrs, "process.pid", 4242);
	f->res = ks_otlp_resource_new(&attrs, NULL);
	assert_non_null(f->res);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ks_otlp_exporter_free(f->exp);
	ks_otlp_resource_put(f->res);
	ks_otlp_config_free(&f->cfg);
	free(f);
	return 0;
}

static const struct ks_otlp_signal_stats *stats_of(struct fixture *f,
						   enum ks_otlp_signal signal)
{
	ks_otlp_exporter_stats(f->exp, &f->stats);
	return &f->stats.signal[signal];
}

/* Every item produced is in exactly one place. */
static void assert_accounted(const struct ks_otlp_signal_stats *s)
{
	uint64_t placed = s->exported + s->rejected + s->dropped_queue_full +
			  s->dropped_shutdown + s->queued + s->exporting;

	for (int failure = 0; failure < KS_OTLP_NR_FAILURES; failure++)
		placed += s->failed[failure];
	assert_int_equal(s->produced, placed);
}

static OtlpSpan *new_span(uint8_t n)
{
	const uint8_t trace_id[KS_OTLP_TRACE_ID_LEN] = { 1 };
	const uint8_t span_id[KS_OTLP_SPAN_ID_LEN] = { n };

	return ks_otlp_span_new(trace_id, span_id, "lock wait", 1, 2);
}

static OtlpMetric *gauge_with_points(size_t points)
{
	OtlpMetric *gauge = ks_otlp_gauge_new("knotscope.threads", "1", "");

	for (size_t i = 0; i < points; i++)
		assert_int_equal(
			ks_otlp_metric_add_int(gauge, NULL, 0, 1, (int64_t)i),
			0);
	return gauge;
}

static void test_full_queue_drops_the_newest(void **state)
{
	struct fixture *f = *state;
	const struct ks_otlp_signal_stats *s;

	for (uint8_t i = 0; i < 10; i++)
		assert_int_equal(
			ks_otlp_export_span(f->exp, f->res, NULL, new_span(i)),
			i < 4 ? 0 : -ENOBUFS);
	s = stats_of(f, KS_OTLP_TRACES);
	assert_true(s->enabled);
	assert_int_equal(s->produced, 10);
	assert_int_equal(s->queued, 4);
	assert_int_equal(s->queue_depth, 4);
	assert_int_equal(s->queue_capacity, 4);
	assert_int_equal(s->dropped_queue_full, 6);
	assert_int_equal(s->exported, 0);
	assert_int_equal(s->requests, 0);
	assert_accounted(s);
}

static void test_stop_drops_what_is_queued_and_refuses_more(void **state)
{
	struct fixture *f = *state;
	const struct ks_otlp_signal_stats *s;

	for (uint8_t i = 0; i < 3; i++)
		assert_int_equal(
			ks_otlp_export_span(f->exp, f->res, NULL, new_span(i)),
			0);
	ks_otlp_exporter_stop(f->exp, 0);
	s = stats_of(f, KS_OTLP_TRACES);
	assert_int_equal(s->dropped_shutdown, 3);
	assert_int_equal(s->queued, 0);
	assert_int_equal(s->queue_depth, 0);
	assert_accounted(s);

	assert_int_equal(ks_otlp_export_span(f->exp, f->res, NULL, new_span(9)),
			 -ESHUTDOWN);
	s = stats_of(f, KS_OTLP_TRACES);
	assert_int_equal(s->produced, 4);
	assert_int_equal(s->dropped_shutdown, 4);
	assert_accounted(s);
}

static void test_metrics_snapshot_is_queued_whole_or_not_at_all(void **state)
{
	struct fixture *f = *state;
	struct ks_otlp_metrics *snapshot;
	const struct ks_otlp_signal_stats *s;

	/* Two metrics, three data points: queue 2 of 3 entries. */
	snapshot = ks_otlp_metrics_new();
	assert_int_equal(ks_otlp_metrics_add(snapshot, f->res, NULL,
					     gauge_with_points(2)),
			 0);
	assert_int_equal(ks_otlp_metrics_add(snapshot, f->res, NULL,
					     gauge_with_points(1)),
			 0);
	assert_int_equal(ks_otlp_export_metrics(f->exp, snapshot), 0);
	s = stats_of(f, KS_OTLP_METRICS);
	assert_int_equal(s->produced, 3);
	assert_int_equal(s->queued, 3);
	assert_int_equal(s->queue_depth, 2);

	/* Two more metrics do not fit in the one entry left: both go. */
	snapshot = ks_otlp_metrics_new();
	ks_otlp_metrics_add(snapshot, f->res, NULL, gauge_with_points(3));
	ks_otlp_metrics_add(snapshot, f->res, NULL, gauge_with_points(1));
	assert_int_equal(ks_otlp_export_metrics(f->exp, snapshot), -ENOBUFS);
	s = stats_of(f, KS_OTLP_METRICS);
	assert_int_equal(s->produced, 7);
	assert_int_equal(s->dropped_queue_full, 4);
	assert_int_equal(s->queue_depth, 2);

	/* One metric of five points still fits. */
	snapshot = ks_otlp_metrics_new();
	ks_otlp_metrics_add(snapshot, f->res, NULL, gauge_with_points(5));
	assert_int_equal(ks_otlp_export_metrics(f->exp, snapshot), 0);
	s = stats_of(f, KS_OTLP_METRICS);
	assert_int_equal(s->queued, 8);
	assert_int_equal(s->queue_depth, 3);
	assert_accounted(s);

	ks_otlp_exporter_stop(f->exp, 0);
	s = stats_of(f, KS_OTLP_METRICS);
	assert_int_equal(s->dropped_shutdown, 8);
	assert_int_equal(s->produced, 12);
	assert_accounted(s);
}

static void test_unexported_signal_and_bad_calls_are_not_counted(void **state)
{
	struct fixture *f = *state;
	struct ks_otlp_stats stats;

	assert_false(ks_otlp_exporter_wants(f->exp, KS_OTLP_LOGS));
	assert_true(ks_otlp_exporter_wants(f->exp, KS_OTLP_TRACES));
	assert_int_equal(
		ks_otlp_export_log(f->exp, f->res, NULL,
				   ks_otlp_log_new(1, 1, KS_OTLP_SEVERITY_INFO,
						   NULL, "x")),
		-ENODEV);
	assert_int_equal(ks_otlp_export_span(f->exp, f->res, NULL, NULL),
			 -EINVAL);
	assert_int_equal(ks_otlp_export_span(f->exp, NULL, NULL, new_span(1)),
			 -EINVAL);
	ks_otlp_exporter_stats(f->exp, &stats);
	assert_false(stats.signal[KS_OTLP_LOGS].enabled);
	assert_int_equal(stats.signal[KS_OTLP_LOGS].produced, 0);
	assert_int_equal(stats.signal[KS_OTLP_TRACES].produced, 0);
}

static void test_exporter_keeps_its_own_resource_reference(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct fixture *f = *state;
	struct ks_otlp_resource *res;

	ks_otlp_attrs_int(&attrs, "process.pid", 1);
	res = ks_otlp_resource_new(&attrs, NULL);
	assert_int_equal(ks_otlp_export_span(f->exp, res, NULL, new_span(1)),
			 0);
	/* The process is gone for the agent; its queued span is not. */
	ks_otlp_resource_put(res);
	assert_int_equal(stats_of(f, KS_OTLP_TRACES)->queued, 1);
	/* Teardown releases the span and the last reference (valgrind). */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_full_queue_drops_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stop_drops_what_is_queued_and_refuses_more, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_metrics_snapshot_is_queued_whole_or_not_at_all,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unexported_signal_and_bad_calls_are_not_counted,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_exporter_keeps_its_own_resource_reference, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
