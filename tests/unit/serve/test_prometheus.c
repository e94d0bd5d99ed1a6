// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The Prometheus text exposition of the neutral metric samples. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "fixtures.h"
#include "serve/prometheus.h"
#include "sock_records.h"

static const struct ks_metric_desc waits = {
	.name = "knotscope.lock.waits",
	.unit = "{wait}",
	.description = "Waits that began",
	.type = KS_METRIC_COUNTER,
};
static const struct ks_metric_desc threads = {
	.name = "knotscope.agent.threads",
	.unit = "{thread}",
	.description = "Threads \\ watched\nnow",
	.type = KS_METRIC_GAUGE,
};
static const struct ks_metric_desc duration = {
	.name = "knotscope.lock.wait.duration",
	.unit = "s",
	.description = "How long",
	.type = KS_METRIC_HISTOGRAM,
};
static const struct ks_metric_desc run_time = {
	.name = "knotscope.agent.bpf.run.time",
	.unit = "s",
	.description = "Time",
	.type = KS_METRIC_COUNTER,
	.nanoseconds = true,
};
static const struct ks_metric_desc already_total = {
	.name = "http.requests.total",
	.unit = "1",
	.description = "Requests",
	.type = KS_METRIC_COUNTER,
};

/* Resources: checkout (pid 10) in a pod; the others unknown. */
static void resource_of(void *ctx, struct ks_process *process,
			char *const **pairs, size_t *nr)
{
	static char *const checkout[] = {
		"service.name",	       "checkout \"eu\"",
		"service.instance.id", "4d8b9e1a-0000-5000-8000-000000000010",
		"process.pid",	       "10",
		"container.id",	       "c0ffee",
		"k8s.pod.name",	       "checkout-7d9",
		"k8s.namespace.name",  "shop",
		"k8s.container.name",  "app",
		"k8s.replicaset.name", "checkout-7d9c4",
		"k8s.deployment.name", "checkout",
	};
	/* In the agent's order: observed first, service.name after. */
	static char *const agent[] = { "host.name", "node-1", "service.name",
				       "knotscope" };

	*pairs = process ? checkout : agent;
	*nr = process ? 18 : 4;
	if (process && process->tgid != 10)
		*nr = 0;
}

/* Renders the samples and returns the text, malloc()ed. */
static char *render(const struct ks_metric_sample *samples, size_t n)
{
	struct ks_prom_writer *writer = ks_prom_writer_new(resource_of, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(writer);
	for (size_t i = 0; i < n; i++)
		ks_prom_add(writer, &samples[i]);
	assert_int_equal(ks_prom_write(writer, out), 0);
	fclose(out);
	ks_prom_writer_free(writer);
	return text;
}

static void test_names_follow_the_otel_conventions(void **state)
{
	char name[128];

	ks_prom_metric_name(&waits, name, sizeof(name));
	assert_string_equal(name, "knotscope_lock_waits_total");
	ks_prom_metric_name(&threads, name, sizeof(name));
	assert_string_equal(name, "knotscope_agent_threads");
	ks_prom_metric_name(&duration, name, sizeof(name));
	assert_string_equal(name, "knotscope_lock_wait_duration_seconds");
	ks_prom_metric_name(&run_time, name, sizeof(name));
	assert_string_equal(name, "knotscope_agent_bpf_run_time_seconds_total");
	/* No second _total; "1" adds no unit to a counter. */
	ks_prom_metric_name(&already_total, name, sizeof(name));
	assert_string_equal(name, "http_requests_total");
}

static void test_samples_are_grouped_by_metric_with_labels(void **state)
{
	struct ks_table table;
	struct ks_process *checkout, *batch;
	struct ks_metric_sample samples[4] = { 0 };
	char *text;

	ks_table_init(&table, 100);
	checkout = add_thread(&table, 10, 10)->process;
	batch = add_thread(&table, 20, 20)->process;
	ks_comm_copy(batch->comm, "batch");
	/* Agent, checkout, batch: the two lock.waits are apart. */
	samples[0] = (struct ks_metric_sample){
		.desc = &waits,
		.value = 7,
		.attrs = { { .key = "knotscope.event.kind",
			     .value = "wait_begin" } },
		.nr_attrs = 1,
	};
	samples[1] = (struct ks_metric_sample){ .desc = &threads, .value = 3 };
	samples[2] = (struct ks_metric_sample){ .desc = &waits,
						.process = checkout,
						.value = 5 };
	samples[3] = (struct ks_metric_sample){ .desc = &run_time,
						.process = batch,
						.value = 1500000000 };
	text = render(samples, 4);
	assert_string_equal(
		text,
		"# HELP target_info Target metadata\n"
		"# TYPE target_info gauge\n"
		"target_info{service_name=\"knotscope\",host_name=\"node-1\"} 1\n"
		"target_info{service_name=\"checkout \\\"eu\\\"\","
		"process_pid=\"10\",container_id=\"c0ffee\","
		"k8s_pod_name=\"checkout-7d9\",k8s_namespace_name=\"shop\","
		"k8s_container_name=\"app\",workload=\"checkout\","
		"workload_type=\"deployment\","
		"service_instance_id=\"4d8b9e1a-0000-5000-8000-000000000010\","
		"k8s_replicaset_name=\"checkout-7d9c4\","
		"k8s_deployment_name=\"checkout\"} 1\n"
		"target_info{service_name=\"batch\",process_pid=\"20\"} 1\n"
		"# HELP knotscope_lock_waits_total Waits that began\n"
		"# TYPE knotscope_lock_waits_total counter\n"
		"knotscope_lock_waits_total{knotscope_event_kind=\"wait_begin\"} 7\n"
		"knotscope_lock_waits_total{service_name=\"checkout \\\"eu\\\"\","
		"process_pid=\"10\",container_id=\"c0ffee\","
		"k8s_pod_name=\"checkout-7d9\",k8s_namespace_name=\"shop\","
		"k8s_container_name=\"app\",workload=\"checkout\","
		"workload_type=\"deployment\"} 5\n"
		"# HELP knotscope_agent_threads Threads \\\\ watched\\nnow\n"
		"# TYPE knotscope_agent_threads gauge\n"
		"knotscope_agent_threads 3\n"
		"# HELP knotscope_agent_bpf_run_time_seconds_total Time\n"
		"# TYPE knotscope_agent_bpf_run_time_seconds_total counter\n"
		"knotscope_agent_bpf_run_time_seconds_total"
		"{service_name=\"batch\",process_pid=\"20\"} 1.5\n");
	free(text);
	ks_table_clear(&table);
}

/* HTTP series carry numbers and booleans; labels are their text. */
static void test_typed_attributes_become_label_text(void **state)
{
	struct ks_metric_sample samples[2] = {
		{ .desc = &waits,
		  .value = 2,
		  .attrs = { { .key = "http.response.status_code",
			       .type = KS_METRIC_ATTR_INT,
			       .int_value = 404 } },
		  .nr_attrs = 1 },
		{ .desc = &waits,
		  .value = 1,
		  .attrs = { { .key = "otel.metric.overflow",
			       .type = KS_METRIC_ATTR_BOOL,
			       .int_value = 1 } },
		  .nr_attrs = 1 },
	};
	char *text = render(samples, 2);

	assert_non_null(strstr(
		text,
		"knotscope_lock_waits_total{http_response_status_code=\"404\"} 2\n"));
	assert_non_null(strstr(
		text,
		"knotscope_lock_waits_total{otel_metric_overflow=\"true\"} 1\n"));
	free(text);
}

static void test_histograms_are_cumulative_with_sum_and_count(void **state)
{
	struct ks_wait_hist hist = { 0 };
	struct ks_metric_sample sample = {
		.desc = &duration,
		.scale = &ks_wait_hist_scale,
		.buckets = hist.buckets,
		.summary = &hist.summary,
		.attrs = { { .key = "knotscope.lock.kind", .value = "mutex" } },
		.nr_attrs = 1,
	};
	char *text;

	ks_wait_hist_record(&hist, 5000); /* 5 us: first bucket */
	ks_wait_hist_record(&hist, 2000000); /* 2 ms: (1 ms, 10 ms] */
	ks_wait_hist_record(&hist, 2000000);
	ks_wait_hist_record(&hist, 20000000000ull); /* 20 s: over all */
	text = render(&sample, 1);
	assert_string_equal(
		text,
		"# HELP target_info Target metadata\n"
		"# TYPE target_info gauge\n"
		"target_info{service_name=\"knotscope\",host_name=\"node-1\"} 1\n"
		"# HELP knotscope_lock_wait_duration_seconds How long\n"
		"# TYPE knotscope_lock_wait_duration_seconds histogram\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"1e-05\"} 1\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"0.0001\"} 1\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"0.001\"} 1\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"0.01\"} 3\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"0.1\"} 3\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"1\"} 3\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"10\"} 3\n"
		"knotscope_lock_wait_duration_seconds_bucket"
		"{knotscope_lock_kind=\"mutex\",le=\"+Inf\"} 4\n"
		"knotscope_lock_wait_duration_seconds_sum"
		"{knotscope_lock_kind=\"mutex\"} 20.004005\n"
		"knotscope_lock_wait_duration_seconds_count"
		"{knotscope_lock_kind=\"mutex\"} 4\n");
	free(text);
}

/* Every sample of a real collection is rendered, each metric once. */
static void test_a_model_collection_renders_every_sample(void **state)
{
	struct ks_table table;
	struct ks_metrics_source source = { .table = &table };
	struct ks_agent_health health = { .deadlocks = 2 };
	struct ks_prom_writer *writer = ks_prom_writer_new(NULL, NULL);
	struct ks_process *process;
	char *text = NULL, *line, *save = NULL;
	size_t len = 0;
	unsigned int helps = 0, types = 0, futex_samples = 0;
	FILE *out = open_memstream(&text, &len);

	ks_table_init(&table, 100);
	process = add_thread(&table, 10, 10)->process;
	process->stats.futex_waits = 4;
	ks_wait_hist_record(&process->stats.lock_wait[1], 1000);
	process = add_thread(&table, 20, 20)->process;
	process->stats.futex_waits = 6;
	snprintf(health.bpf_progs[0].name, sizeof(health.bpf_progs[0].name),
		 "ks_sys_enter");
	health.bpf_progs[0].run_count = 9;
	health.nr_bpf_progs = 1;
	ks_metrics_collect(&source, &health, ks_prom_add, writer);
	assert_int_equal(ks_prom_write(writer, out), 0);
	fclose(out);
	assert_non_null(strstr(text, "\nknotscope_agent_deadlocks_total 2\n"));
	assert_non_null(strstr(text, "\nknotscope_agent_bpf_run_count_total"
				     "{knotscope_bpf_program=\"ks_sys_enter\"} "
				     "9\n"));
	assert_non_null(strstr(text,
			       "\nknotscope_lock_wait_duration_seconds_count"
			       "{knotscope_lock_kind=\"mutex\",service_name="
			       "\"worker\",process_pid=\"10\"} 1\n"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		helps += !strncmp(line, "# HELP ", 7);
		types += !strncmp(line, "# TYPE ", 7);
		futex_samples +=
			!strncmp(line, "knotscope_futex_waits_total{", 28);
	}
	assert_int_equal(helps, types);
	assert_int_equal(futex_samples, 2);
	free(text);
	ks_prom_writer_free(writer);
	ks_table_clear(&table);
}

static void apply_record(struct ks_http_spans *spans, void *record, size_t size)
{
	assert_int_equal(ks_http_spans_apply(spans, record, size), 0);
	free(record);
}

static void move_bytes(struct ks_http_spans *spans, uint8_t direction,
		       const char *text, uint64_t ts_ns)
{
	struct test_data data = {
		.conn_id = 1,
		.tgid = 10,
		.tid = 10,
		.fd = 5,
		.direction = direction,
		.ts_ns = ts_ns,
		.bytes = text,
		.captured = strlen(text),
	};
	size_t size;
	void *record = test_data_record(&size, &data);

	apply_record(spans, record, size);
}

/*
 * Samples are rendered after the collection returns: every label of an
 * HTTP series, the protocol version too, must outlive it.
 */
static void test_http_series_keep_their_labels_until_rendered(void **state)
{
	static const struct ks_http_hooks no_hooks = { 0 };
	const struct ks_http_spans_config config = {
		.join_wait_ns = 1,
		.max_conns = 4,
		.max_exchanges = 4,
	};
	struct ks_table table;
	struct ks_metrics_source source = { .table = &table };
	struct ks_agent_health health = { 0 };
	struct ks_prom_writer *writer = ks_prom_writer_new(NULL, NULL);
	char *text = NULL;
	size_t len = 0, size;
	FILE *out = open_memstream(&text, &len);
	void *record;

	ks_table_init(&table, 100);
	add_thread(&table, 10, 10);
	source.http = ks_http_spans_new(&config, &no_hooks, NULL);
	assert_non_null(source.http);
	record = test_open(&size, 1, 10, 0x1000, KS_CONN_SERVER, 80, 40000, 1);
	apply_record(source.http, record, size);
	move_bytes(source.http, KS_SOCK_RECV,
		   "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
	move_bytes(source.http, KS_SOCK_SEND,
		   "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		   2000000);
	ks_metrics_collect(&source, &health, ks_prom_add, writer);
	assert_int_equal(ks_prom_write(writer, out), 0);
	fclose(out);
	assert_non_null(strstr(text,
			       "\nhttp_server_request_duration_seconds_count"
			       "{http_request_method=\"GET\","
			       "url_scheme=\"http\","
			       "network_protocol_version=\"1.1\","
			       "http_response_status_code=\"404\","));
	free(text);
	ks_prom_writer_free(writer);
	ks_http_spans_free(source.http, 0);
	ks_table_clear(&table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_follow_the_otel_conventions),
		cmocka_unit_test(
			test_samples_are_grouped_by_metric_with_labels),
		cmocka_unit_test(test_typed_attributes_become_label_text),
		cmocka_unit_test(
			test_histograms_are_cumulative_with_sum_and_count),
		cmocka_unit_test(test_a_model_collection_renders_every_sample),
		cmocka_unit_test(
			test_http_series_keep_their_labels_until_rendered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
