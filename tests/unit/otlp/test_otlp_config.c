// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* OTLP settings from OTEL_* variables and the command line. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>

#include "otlp/otlp_config.h"
#include "otlp/otlp_resource.h"

struct env_var {
	const char *name;
	const char *value;
};

#define ENV(...) ((const struct env_var[]){ __VA_ARGS__, { NULL, NULL } })
#define NO_ENV ENV({ "UNRELATED", "1" })

/* The environment the code under test sees, instead of the process's. */
static const struct env_var *fake_env;

static char *fake_getenv(const char *name)
{
	for (const struct env_var *var = fake_env; var->name; var++)
		if (!strcmp(var->name, name))
			return (char *)var->value;
	return NULL;
}

static char err[KS_OTLP_ERR_SIZE];

static int load(struct ks_otlp_config *cfg, const struct env_var *env)
{
	fake_env = env;
	err[0] = '\0';
	return ks_otlp_config_from_env(cfg, fake_getenv, NULL, err,
				       sizeof(err));
}

static void assert_load_fails(const struct env_var *env, const char *message)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, env), -EINVAL);
	assert_string_equal(err, message);
}

static void test_no_endpoint_means_disabled_with_spec_defaults(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, NO_ENV), 0);
	assert_false(cfg.enabled);
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
		assert_false(cfg.target[s].enabled);
		assert_int_equal(cfg.target[s].timeout_ms, 10000);
		assert_false(cfg.target[s].gzip);
		assert_int_equal(cfg.target[s].headers.nr, 0);
		assert_null(cfg.target[s].ca_file);
		assert_int_equal(cfg.batching[s].max_queue_size, 2048);
		assert_int_equal(cfg.batching[s].max_export_batch_size, 512);
		assert_int_equal(cfg.batching[s].export_timeout_ms, 30000);
	}
	assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
			    "http://localhost:4318/v1/traces");
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].schedule_delay_ms, 5000);
	assert_int_equal(cfg.batching[KS_OTLP_LOGS].schedule_delay_ms, 1000);
	assert_int_equal(cfg.batching[KS_OTLP_METRICS].schedule_delay_ms, 0);
	assert_int_equal(cfg.metric_export_interval_ms, 60000);
	assert_string_equal(cfg.service_name, "knotscope");
	ks_otlp_config_free(&cfg);
}

static void test_generic_endpoint_gets_signal_paths(void **state)
{
	static const struct {
		const char *endpoint;
		const char *traces;
		const char *logs;
	} cases[] = {
		{ "http://collector:4318", "http://collector:4318/v1/traces",
		  "http://collector:4318/v1/logs" },
		{ "http://collector:4318/", "http://collector:4318/v1/traces",
		  "http://collector:4318/v1/logs" },
		{ "https://gw.example/otlp",
		  "https://gw.example/otlp/v1/traces",
		  "https://gw.example/otlp/v1/logs" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ks_otlp_config cfg;

		assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT",
						  cases[i].endpoint })),
				 0);
		assert_true(cfg.enabled);
		assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
				    cases[i].traces);
		assert_string_equal(cfg.target[KS_OTLP_LOGS].url,
				    cases[i].logs);
		for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++)
			assert_true(cfg.target[s].enabled);
		ks_otlp_config_free(&cfg);
	}
}

static void test_signal_endpoint_is_used_as_is(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT",
					  "http://all:4318" },
					{ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
					  "http://tempo:4318/custom" },
					{ "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
					  "http://loki" })),
			 0);
	assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
			    "http://tempo:4318/custom");
	assert_string_equal(cfg.target[KS_OTLP_LOGS].url, "http://loki");
	assert_string_equal(cfg.target[KS_OTLP_METRICS].url,
			    "http://all:4318/v1/metrics");
	ks_otlp_config_free(&cfg);
}

static void test_one_endpoint_enables_export_and_none_silences(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
					  "http://tempo:4318/v1/traces" },
					{ "OTEL_METRICS_EXPORTER", "none" },
					{ "OTEL_LOGS_EXPORTER", "otlp" })),
			 0);
	assert_true(cfg.enabled);
	assert_true(cfg.target[KS_OTLP_TRACES].enabled);
	assert_false(cfg.target[KS_OTLP_METRICS].enabled);
	/* Without an endpoint of its own, a signal goes where the spec says. */
	assert_true(cfg.target[KS_OTLP_LOGS].enabled);
	assert_string_equal(cfg.target[KS_OTLP_LOGS].url,
			    "http://localhost:4318/v1/logs");
	ks_otlp_config_free(&cfg);

	/* An exporter knotscope does not have is ignored, with a warning. */
	assert_int_equal(
		load(&cfg,
		     ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318" },
			 { "OTEL_LOGS_EXPORTER", "console" },
			 { "OTEL_METRICS_EXPORTER", "prometheus" },
			 { "OTEL_TRACES_EXPORTER", "zipkin, otlp" })),
		0);
	assert_true(cfg.target[KS_OTLP_LOGS].enabled);
	assert_true(cfg.target[KS_OTLP_TRACES].enabled);
	/* Prometheus pulls metrics from /metrics: none are pushed. */
	assert_false(cfg.target[KS_OTLP_METRICS].enabled);
	assert_int_equal(cfg.exporters[KS_OTLP_METRICS],
			 KS_EXPORTER_PROMETHEUS);
	assert_int_equal(cfg.nr_warnings, 2);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_TRACES_EXPORTER='zipkin, otlp': 'zipkin' is "
			    "not an exporter knotscope has (otlp, none); "
			    "ignored");
	assert_string_equal(cfg.warnings[1],
			    "OTEL_LOGS_EXPORTER='console': 'console' is not an "
			    "exporter knotscope has (otlp, none); ignored");
	ks_otlp_config_free(&cfg);
}

static void test_sdk_disabled_turns_export_off(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT",
					  "http://c:4318" },
					{ "OTEL_SDK_DISABLED", "TRUE" })),
			 0);
	assert_true(cfg.sdk_disabled);
	assert_false(cfg.enabled);
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++)
		assert_false(cfg.target[s].enabled);
	ks_otlp_config_free(&cfg);
	/* Only "true" is true; anything else but "false" is warned about. */
	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT",
					  "http://c:4318" },
					{ "OTEL_SDK_DISABLED", "yes" })),
			 0);
	assert_false(cfg.sdk_disabled);
	assert_true(cfg.enabled);
	assert_int_equal(cfg.nr_warnings, 1);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_SDK_DISABLED='yes': not 'true' or 'false'; "
			    "false applies");
	ks_otlp_config_free(&cfg);
}

static void test_sampler_from_environment(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, NO_ENV), 0);
	assert_int_equal(cfg.sampler.kind, KS_SAMPLER_PARENTBASED_ALWAYS_ON);
	ks_otlp_config_free(&cfg);
	assert_int_equal(load(&cfg, ENV({ "OTEL_TRACES_SAMPLER",
					  "parentbased_traceidratio" },
					{ "OTEL_TRACES_SAMPLER_ARG", "0.25" })),
			 0);
	assert_int_equal(cfg.sampler.kind, KS_SAMPLER_PARENTBASED_TRACEIDRATIO);
	assert_true(cfg.sampler.ratio == 0.25);
	assert_int_equal(cfg.nr_warnings, 0);
	ks_otlp_config_free(&cfg);
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_TRACES_SAMPLER", "traceidratio" },
			       { "OTEL_TRACES_SAMPLER_ARG", "1.5" })),
		0);
	assert_int_equal(cfg.sampler.kind, KS_SAMPLER_TRACEIDRATIO);
	assert_true(cfg.sampler.ratio == 1.0);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_TRACES_SAMPLER_ARG='1.5': not a probability "
			    "from 0 to 1; 1 applies");
	ks_otlp_config_free(&cfg);
	/* Digits and a point, as every number of the settings. */
	for (size_t i = 0; i < 4; i++) {
		static const char *const odd[] = { " 0.5", "0x0.8", "nan",
						   "1e-1" };

		assert_int_equal(
			load(&cfg,
			     ENV({ "OTEL_TRACES_SAMPLER", "traceidratio" },
				 { "OTEL_TRACES_SAMPLER_ARG", odd[i] })),
			0);
		assert_true(cfg.sampler.ratio == 1.0);
		assert_int_equal(cfg.nr_warnings, 1);
		ks_otlp_config_free(&cfg);
	}
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_TRACES_SAMPLER", "traceidratio" },
			       { "OTEL_TRACES_SAMPLER_ARG", ".5" })),
		0);
	assert_true(cfg.sampler.ratio == 0.5);
	ks_otlp_config_free(&cfg);
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_TRACES_SAMPLER", "jaeger_remote" })), 0);
	assert_int_equal(cfg.sampler.kind, KS_SAMPLER_PARENTBASED_ALWAYS_ON);
	assert_int_equal(cfg.nr_warnings, 1);
	ks_otlp_config_free(&cfg);
}

static void test_presets_lie_below_the_environment(void **state)
{
	static const struct ks_otlp_preset items[] = {
		{ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://file:4318",
		  "k.yaml:3: otlp-endpoint" },
		{ "OTEL_BSP_SCHEDULE_DELAY", "250", "k.yaml:5: otel" },
		{ "OTEL_METRIC_EXPORT_INTERVAL", "5s", "k.yaml:6: otel" },
	};
	const struct ks_otlp_presets presets = { items, 3 };
	struct ks_otlp_config cfg;

	fake_env = ENV({ "OTEL_BSP_SCHEDULE_DELAY", "900" });
	assert_int_equal(ks_otlp_config_from_env(&cfg, fake_getenv, &presets,
						 err, sizeof(err)),
			 0);
	assert_string_equal(cfg.target[KS_OTLP_LOGS].url,
			    "http://file:4318/v1/logs");
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].schedule_delay_ms, 900);
	assert_int_equal(cfg.metric_export_interval_ms, 60000);
	assert_string_equal(cfg.warnings[0],
			    "k.yaml:6: otel='5s': not a number of "
			    "milliseconds; the default applies");
	ks_otlp_config_free(&cfg);
}

static void test_grpc_endpoints_call_the_export_methods(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
			       { "OTEL_EXPORTER_OTLP_ENDPOINT",
				 "http://collector:4317/ignored/path" },
			       { "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
				 "http/protobuf" },
			       { "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
				 "metrics:4317" })),
		0);
	assert_int_equal(cfg.target[KS_OTLP_TRACES].protocol, KS_OTLP_GRPC);
	assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
			    "http://collector:4317/opentelemetry.proto."
			    "collector.trace.v1.TraceService/Export");
	/* No scheme: TLS, unless OTEL_EXPORTER_OTLP_INSECURE says so. */
	assert_string_equal(cfg.target[KS_OTLP_METRICS].url,
			    "https://metrics:4317/opentelemetry.proto."
			    "collector.metrics.v1.MetricsService/Export");
	assert_string_equal(cfg.target[KS_OTLP_LOGS].url,
			    "http://collector:4317/ignored/path/v1/logs");
	ks_otlp_config_free(&cfg);
	assert_int_equal(
		load(&cfg,
		     ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
			 { "OTEL_EXPORTER_OTLP_INSECURE", "true" },
			 { "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317" })),
		0);
	assert_string_equal(cfg.target[KS_OTLP_LOGS].url,
			    "http://collector:4317/opentelemetry.proto."
			    "collector.logs.v1.LogsService/Export");
	ks_otlp_config_free(&cfg);
	/* Without an endpoint, gRPC's default port. */
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" })), 0);
	assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
			    "http://localhost:4317/opentelemetry.proto."
			    "collector.trace.v1.TraceService/Export");
	ks_otlp_config_free(&cfg);
}

static void test_empty_value_is_unset(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "" },
					{ "OTEL_EXPORTER_OTLP_TIMEOUT", "" })),
			 0);
	assert_false(cfg.enabled);
	assert_int_equal(cfg.target[KS_OTLP_TRACES].timeout_ms, 10000);
	ks_otlp_config_free(&cfg);
}

static void test_endpoint_must_be_http(void **state)
{
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318': not "
		"an http:// or https:// URL");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
		      "ftp://x/v1/metrics" }),
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="
		"'ftp://x/v1/metrics': not an http:// or https:// URL");
}

static void test_headers_are_trimmed_and_url_decoded(void **state)
{
	const struct ks_otlp_pairs *headers;
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_HEADERS",
				 "api-key=a%20b%2Cc%3D, x-team = core ,," },
			       { "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
				 "authorization=Bearer%20t0k" })),
		0);
	headers = &cfg.target[KS_OTLP_TRACES].headers;
	assert_int_equal(headers->nr, 2);
	assert_string_equal(headers->items[0].name, "api-key");
	assert_string_equal(headers->items[0].value, "a b,c=");
	assert_string_equal(headers->items[1].name, "x-team");
	assert_string_equal(headers->items[1].value, "core");
	/* A signal's own list replaces the generic one, it does not merge. */
	headers = &cfg.target[KS_OTLP_LOGS].headers;
	assert_int_equal(headers->nr, 1);
	assert_string_equal(headers->items[0].name, "authorization");
	assert_string_equal(headers->items[0].value, "Bearer t0k");
	ks_otlp_config_free(&cfg);
}

static void test_bad_headers_name_the_variable(void **state)
{
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "novalue" }),
			  "OTEL_EXPORTER_OTLP_HEADERS='novalue': not a list of "
			  "name=value pairs separated by commas");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_TRACES_HEADERS", " =x" }),
			  "OTEL_EXPORTER_OTLP_TRACES_HEADERS=' =x': not a list "
			  "of name=value pairs separated by commas");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "k=%zz" }),
			  "OTEL_EXPORTER_OTLP_HEADERS='k=%zz': a value has a "
			  "broken %-escape");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "k=ab%4" }),
			  "OTEL_EXPORTER_OTLP_HEADERS='k=ab%4': a value has a "
			  "broken %-escape");
}

/* A value the spec says to ignore: loads, warns once, default kept. */
static void assert_ignored(const struct env_var *env, const char *warning)
{
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, env), 0);
	assert_int_equal(cfg.nr_warnings, 1);
	assert_string_equal(cfg.warnings[0], warning);
	ks_otlp_config_free(&cfg);
}

/* Nothing that would put extra lines on the wire, or cut a value short. */
static void test_headers_cannot_break_the_request(void **state)
{
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "x=a%0d%0aEvil: 1" }),
		"OTEL_EXPORTER_OTLP_HEADERS: the value of header "
		"'x' has a control character (CR, LF, NUL...)");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "x=a%00b" }),
			  "OTEL_EXPORTER_OTLP_HEADERS='x=a%00b': a value has "
			  "%00, which would cut it short");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
				"content-length=5" }),
			  "OTEL_EXPORTER_OTLP_TRACES_HEADERS: header "
			  "'content-length' is the exporter's own to set");
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_HEADERS", "a b=1" }),
			  "OTEL_EXPORTER_OTLP_HEADERS: a header name has "
			  "characters HTTP does not allow in one");
	/* gRPC keeps grpc-* for itself: grpc-encoding would misframe. */
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
		    { "OTEL_EXPORTER_OTLP_HEADERS", "x=1,GRPC-Encoding=gzip" }),
		"OTEL_EXPORTER_OTLP_HEADERS: header 'GRPC-Encoding' "
		"is the exporter's own to set");
}

/* A configuration file's settings are held to the same rules, by line. */
static void test_presets_are_checked_as_variables_are(void **state)
{
	static const struct ks_otlp_preset headers[] = {
		{ "OTEL_EXPORTER_OTLP_HEADERS", "x=a%0aEvil: 1",
		  "k.yaml:4: otel.OTEL_EXPORTER_OTLP_HEADERS" },
	};
	static const struct ks_otlp_preset endpoint[] = {
		{ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:0",
		  "k.yaml:2: otlp-endpoint" },
	};
	const struct ks_otlp_presets sets[] = { { headers, 1 },
						{ endpoint, 1 } };
	const char *const messages[] = {
		"k.yaml:4: otel.OTEL_EXPORTER_OTLP_HEADERS: the value of "
		"header 'x' has a control character (CR, LF, NUL...)",
		"k.yaml:2: otlp-endpoint='http://collector:0': not a usable "
		"URL: port 0",
	};
	static const struct env_var no_env[] = { { NULL, NULL } };
	struct ks_otlp_config cfg;

	fake_env = no_env;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(ks_otlp_config_from_env(&cfg, fake_getenv,
							 &sets[i], err,
							 sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, messages[i]);
	}
}

/*
 * The agent's own attributes that do not decode, %00 included (it would
 * cut a value short), are discarded whole with a warning, as the resource
 * SDK specification says: nothing of them goes on the wire.
 */
static void test_undecodable_resource_attributes_are_discarded(void **state)
{
	static const struct {
		const char *value;
		const char *warning;
	} cases[] = {
		{ "a=x%00y,b=2",
		  "OTEL_RESOURCE_ATTRIBUTES='a=x%00y,b=2': a value "
		  "has %00, which would cut it short; discarded "
		  "whole" },
		{ "a=1,b=%zz", "OTEL_RESOURCE_ATTRIBUTES='a=1,b=%zz': a value "
			       "has a broken %-escape; discarded whole" },
		{ "a=1,novalue",
		  "OTEL_RESOURCE_ATTRIBUTES='a=1,novalue': not a "
		  "list of name=value pairs separated by commas; "
		  "discarded whole" },
	};
	struct ks_otlp_config cfg;
	char many[129 * 8];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(load(&cfg, ENV({ "OTEL_RESOURCE_ATTRIBUTES",
						  cases[i].value })),
				 0);
		assert_int_equal(cfg.resource_attrs.nr, 0);
		assert_int_equal(cfg.nr_warnings, 1);
		assert_string_equal(cfg.warnings[0], cases[i].warning);
		ks_otlp_config_free(&cfg);
	}
	for (int i = 0; i < 129; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
					"k%d=v,", i);
	assert_int_equal(load(&cfg, ENV({ "OTEL_RESOURCE_ATTRIBUTES", many })),
			 0);
	assert_int_equal(cfg.resource_attrs.nr, 0);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_RESOURCE_ATTRIBUTES: more than 128 different "
			    "names; discarded whole");
	ks_otlp_config_free(&cfg);
}

/*
 * A later name replaces an earlier one, so every name is looked for among
 * those before it: at most KS_OTLP_MAX_PAIRS of them keeps that linear.
 */
static void test_lists_hold_a_bounded_number_of_names(void **state)
{
	struct ks_otlp_pairs pairs = { 0 };
	size_t size = 200000 * 12, len = 0;
	char *text = malloc(size);

	assert_non_null(text);
	for (int i = 0; i < 200000; i++)
		len += (size_t)snprintf(text + len, size - len, "k%d=v,", i);
	err[0] = '\0';
	assert_int_equal(ks_otlp_pairs_parse("OTEL_RESOURCE_ATTRIBUTES", text,
					     &pairs, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "OTEL_RESOURCE_ATTRIBUTES: more than 128 "
				 "different names");
	ks_otlp_pairs_free(&pairs);
	/* Repeats of one name are one name. */
	len = 0;
	for (int i = 0; i < 200000; i++)
		len += (size_t)snprintf(text + len, size - len, "k=%d,",
					i % 10);
	assert_int_equal(ks_otlp_pairs_parse("OTEL_RESOURCE_ATTRIBUTES", text,
					     &pairs, err, sizeof(err)),
			 0);
	assert_int_equal(pairs.nr, 1);
	assert_string_equal(pairs.items[0].value, "9");
	ks_otlp_pairs_free(&pairs);
	free(text);
}

/* URLs that cannot work are refused at start, with libcurl's reason. */
static void test_endpoints_must_be_usable_urls(void **state)
{
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://[::1" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='http://[::1': not a usable "
		"URL: Bad IPv6 address");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://a b" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='http://a b': not a usable "
		"URL: Bad hostname");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		      "http://collector:99999/v1/traces" }),
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT='http://collector:99999"
		"/v1/traces': not a usable URL: Port number was not a "
		"decimal number between 0 and 65535");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:0" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='http://collector:0': not a "
		"usable URL: port 0");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_ENDPOINT", "http://h\r\nX: 1" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='http://h\r\nX: 1': not a "
		"usable URL: Port number was not a decimal number between 0 "
		"and 65535");
	/* A gRPC endpoint without a scheme is checked as host:port. */
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
		    { "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:99999" }),
		"OTEL_EXPORTER_OTLP_ENDPOINT='collector:99999': not a usable "
		"URL: Port number was not a decimal number between 0 and "
		"65535");
	assert_load_fails(
		ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
		    { "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "[::1:4317" }),
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT='[::1:4317': not "
		"a usable URL: Bad IPv6 address");
}

static void test_timeouts_are_milliseconds(void **state)
{
	struct ks_otlp_config cfg;

	assert_ignored(ENV({ "OTEL_EXPORTER_OTLP_TIMEOUT", "abc" }),
		       "OTEL_EXPORTER_OTLP_TIMEOUT='abc': not a number of "
		       "milliseconds; the default applies");
	assert_ignored(ENV({ "OTEL_EXPORTER_OTLP_TIMEOUT", "-5" }),
		       "OTEL_EXPORTER_OTLP_TIMEOUT='-5': not a number of "
		       "milliseconds; the default applies");
	assert_ignored(ENV({ "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "10s" }),
		       "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT='10s': not a number "
		       "of milliseconds; the default applies");
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "0" })), 0);
	assert_int_equal(cfg.target[KS_OTLP_LOGS].timeout_ms, 10000);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT='0': not from 1 "
			    "to 86400000 milliseconds; the default applies");
	ks_otlp_config_free(&cfg);
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_TIMEOUT", "700" },
			       { "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "250" })),
		0);
	assert_int_equal(cfg.target[KS_OTLP_TRACES].timeout_ms, 250);
	assert_int_equal(cfg.target[KS_OTLP_LOGS].timeout_ms, 700);
	ks_otlp_config_free(&cfg);
}

static void test_protocols_grpc_and_http_protobuf(void **state)
{
	struct ks_otlp_config cfg;

	assert_ignored(
		ENV({ "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json" }),
		"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='http/json': not 'grpc' "
		"or 'http/protobuf' (http/json is not supported); "
		"http/protobuf applies");
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc" },
			       { "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
				 "http/protobuf" })),
		0);
	assert_int_equal(cfg.target[KS_OTLP_TRACES].protocol,
			 KS_OTLP_HTTP_PROTOBUF);
	assert_int_equal(cfg.target[KS_OTLP_LOGS].protocol, KS_OTLP_GRPC);
	ks_otlp_config_free(&cfg);
}

static void test_compression_is_gzip_or_none(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg,
		     ENV({ "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip" },
			 { "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION", "none" })),
		0);
	assert_true(cfg.target[KS_OTLP_TRACES].gzip);
	assert_false(cfg.target[KS_OTLP_LOGS].gzip);
	ks_otlp_config_free(&cfg);
	assert_ignored(ENV({ "OTEL_EXPORTER_OTLP_COMPRESSION", "zstd" }),
		       "OTEL_EXPORTER_OTLP_COMPRESSION='zstd': not 'gzip' or "
		       "'none'; none applies");
}

static void test_batch_processor_settings(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg, ENV({ "OTEL_BSP_MAX_QUEUE_SIZE", "100" },
			       { "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10" },
			       { "OTEL_BSP_SCHEDULE_DELAY", "0" },
			       { "OTEL_BSP_EXPORT_TIMEOUT", "1500" },
			       { "OTEL_BLRP_MAX_QUEUE_SIZE", "64" },
			       { "OTEL_BLRP_SCHEDULE_DELAY", "20" },
			       { "OTEL_METRIC_EXPORT_INTERVAL", "1000" },
			       { "OTEL_METRIC_EXPORT_TIMEOUT", "900" })),
		0);
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].max_queue_size, 100);
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].max_export_batch_size,
			 10);
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].schedule_delay_ms, 0);
	assert_int_equal(cfg.batching[KS_OTLP_TRACES].export_timeout_ms, 1500);
	assert_int_equal(cfg.batching[KS_OTLP_LOGS].max_queue_size, 64);
	/* Not given: the default batch of 512 shrinks to the queue. */
	assert_int_equal(cfg.batching[KS_OTLP_LOGS].max_export_batch_size, 64);
	assert_int_equal(cfg.batching[KS_OTLP_LOGS].schedule_delay_ms, 20);
	assert_int_equal(cfg.metric_export_interval_ms, 1000);
	assert_int_equal(cfg.batching[KS_OTLP_METRICS].export_timeout_ms, 900);
	ks_otlp_config_free(&cfg);
}

static void test_bad_batch_settings_are_warned_about(void **state)
{
	struct ks_otlp_config cfg;

	assert_ignored(ENV({ "OTEL_BSP_MAX_QUEUE_SIZE", "lots" }),
		       "OTEL_BSP_MAX_QUEUE_SIZE='lots': not a whole number "
		       "from 1 to 1048576; the default applies");
	assert_ignored(ENV({ "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "0" }),
		       "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE='0': not a whole "
		       "number from 1 to 1048576; the default applies");
	assert_ignored(ENV({ "OTEL_BSP_MAX_QUEUE_SIZE", "100" },
			   { "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200" }),
		       "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=200: larger than "
		       "OTEL_BSP_MAX_QUEUE_SIZE=100; batches are that large");
	assert_ignored(ENV({ "OTEL_BLRP_SCHEDULE_DELAY", "1.5" }),
		       "OTEL_BLRP_SCHEDULE_DELAY='1.5': not a number of "
		       "milliseconds; the default applies");
	/* The issue's own example: seconds where milliseconds are asked. */
	assert_int_equal(
		load(&cfg, ENV({ "OTEL_METRIC_EXPORT_INTERVAL", "5s" })), 0);
	assert_int_equal(cfg.metric_export_interval_ms, 60000);
	assert_string_equal(cfg.warnings[0],
			    "OTEL_METRIC_EXPORT_INTERVAL='5s': not a number of "
			    "milliseconds; the default applies");
	ks_otlp_config_free(&cfg);
}

static void test_tls_files_are_checked_now(void **state)
{
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg,
		     ENV({ "OTEL_EXPORTER_OTLP_CERTIFICATE", "/dev/null" },
			 { "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
			   "/dev/null" },
			 { "OTEL_EXPORTER_OTLP_CLIENT_KEY", "/dev/null" })),
		0);
	assert_string_equal(cfg.target[KS_OTLP_METRICS].ca_file, "/dev/null");
	assert_string_equal(cfg.target[KS_OTLP_METRICS].client_key_file,
			    "/dev/null");
	ks_otlp_config_free(&cfg);
	assert_load_fails(ENV({ "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
				"/nonexistent/ca.pem" }),
			  "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="
			  "'/nonexistent/ca.pem': cannot read it: No such file "
			  "or directory");
	assert_int_equal(load(&cfg, ENV({ "OTEL_EXPORTER_OTLP_CLIENT_KEY",
					  "/dev/null" })),
			 -EINVAL);
	assert_non_null(strstr(err,
			       "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE"
			       " and OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY"));
}

static void test_cli_wins_over_environment(void **state)
{
	static const char *const headers[] = { "API-KEY=from cli",
					       "x-extra=1=2" };
	const struct ks_otlp_cli cli = {
		.endpoint = "http://cli:9999/",
		.headers = headers,
		.nr_headers = 2,
		.compression = "gzip",
		.timeout_ms = "750",
	};
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg,
		     ENV({ "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
			   "http://env/t" },
			 { "OTEL_EXPORTER_OTLP_HEADERS", "api-key=env,b=keep" },
			 { "OTEL_EXPORTER_OTLP_COMPRESSION", "none" },
			 { "OTEL_EXPORTER_OTLP_TIMEOUT", "100" })),
		0);
	assert_int_equal(ks_otlp_config_apply_cli(&cfg, &cli, err, sizeof(err)),
			 0);
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
		const struct ks_otlp_target *target = &cfg.target[s];

		assert_true(target->enabled);
		assert_true(target->gzip);
		assert_int_equal(target->timeout_ms, 750);
		assert_int_equal(target->headers.nr, 3);
		assert_string_equal(target->headers.items[0].name, "api-key");
		assert_string_equal(target->headers.items[0].value, "from cli");
		assert_string_equal(target->headers.items[1].value, "keep");
		assert_string_equal(target->headers.items[2].name, "x-extra");
		assert_string_equal(target->headers.items[2].value, "1=2");
	}
	assert_string_equal(cfg.target[KS_OTLP_TRACES].url,
			    "http://cli:9999/v1/traces");
	assert_string_equal(cfg.target[KS_OTLP_METRICS].url,
			    "http://cli:9999/v1/metrics");
	ks_otlp_config_free(&cfg);
}

static void test_cli_endpoint_alone_enables_export(void **state)
{
	const struct ks_otlp_cli cli = { .endpoint = "http://127.0.0.1:4318" };
	struct ks_otlp_config cfg;

	assert_int_equal(load(&cfg, NO_ENV), 0);
	assert_false(cfg.enabled);
	assert_int_equal(ks_otlp_config_apply_cli(&cfg, &cli, err, sizeof(err)),
			 0);
	assert_true(cfg.enabled);
	assert_true(cfg.target[KS_OTLP_LOGS].enabled);
	ks_otlp_config_free(&cfg);
}

static void test_bad_cli_values_name_the_option(void **state)
{
	static const char *const bad_header[] = { "novalue" };
	static const char *const framing[] = { "Content-Length=5" };
	static const char *const crlf_value[] = { "x=a\r\nEvil: 1" };
	static const char *const crlf_name[] = { "x\r\nEvil: 1=v" };
	static const struct {
		struct ks_otlp_cli cli;
		const char *message;
	} cases[] = {
		{ { .timeout_ms = "soon" },
		  "--otlp-timeout-ms='soon': not a number of milliseconds" },
		{ { .compression = "br" },
		  "--otlp-compression='br': not 'gzip' or 'none'" },
		{ { .endpoint = "localhost:4318" },
		  "--otlp-endpoint='localhost:4318': not an http:// or "
		  "https:// URL" },
		{ { .headers = bad_header, .nr_headers = 1 },
		  "--otlp-header='novalue': not name=value" },
		{ { .headers = framing, .nr_headers = 1 },
		  "--otlp-header: header 'Content-Length' is the exporter's "
		  "own to set" },
		{ { .headers = crlf_value, .nr_headers = 1 },
		  "--otlp-header: the value of header 'x' has a control "
		  "character (CR, LF, NUL...)" },
		{ { .headers = crlf_name, .nr_headers = 1 },
		  "--otlp-header: a header name has characters HTTP does not "
		  "allow in one" },
		{ { .endpoint = "http://[::1" },
		  "--otlp-endpoint='http://[::1': not a usable URL: Bad IPv6 "
		  "address" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ks_otlp_config cfg;

		assert_int_equal(load(&cfg, NO_ENV), 0);
		assert_int_equal(ks_otlp_config_apply_cli(&cfg, &cases[i].cli,
							  err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, cases[i].message);
		ks_otlp_config_free(&cfg);
	}
}

static const char *resource_value(const struct ks_otlp_resource *res,
				  const char *key)
{
	const OtlpResource *message = ks_otlp_resource_message(res);

	for (size_t i = 0; i < message->n_attributes; i++)
		if (!strcmp(message->attributes[i]->key, key))
			return message->attributes[i]->value->string_value;
	return NULL;
}

static void test_resource_from_configuration(void **state)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	struct ks_otlp_resource *res;
	struct ks_otlp_config cfg;

	assert_int_equal(
		load(&cfg, ENV({ "OTEL_SERVICE_NAME", "lockwatch" },
			       { "OTEL_RESOURCE_ATTRIBUTES",
				 "service.name=ignored,k8s.node.name=node%2D1,"
				 "deployment.environment=prod" })),
		0);
	assert_int_equal(cfg.resource_attrs.nr, 3);
	assert_int_equal(ks_otlp_attrs_add_configured(&attrs, &cfg), 0);
	res = ks_otlp_resource_new(&attrs, NULL);
	assert_non_null(res);
	assert_int_equal(attrs.nr, 0);
	/* OTEL_SERVICE_NAME wins, and keys stay unique. */
	assert_string_equal(resource_value(res, "service.name"), "lockwatch");
	assert_string_equal(resource_value(res, "k8s.node.name"), "node-1");
	assert_string_equal(resource_value(res, "deployment.environment"),
			    "prod");
	assert_string_equal(resource_value(res, "telemetry.sdk.name"),
			    "knotscope");
	assert_int_equal(ks_otlp_resource_message(res)->n_attributes, 5);
	ks_otlp_resource_put(res);
	ks_otlp_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_no_endpoint_means_disabled_with_spec_defaults),
		cmocka_unit_test(test_generic_endpoint_gets_signal_paths),
		cmocka_unit_test(test_signal_endpoint_is_used_as_is),
		cmocka_unit_test(
			test_one_endpoint_enables_export_and_none_silences),
		cmocka_unit_test(test_empty_value_is_unset),
		cmocka_unit_test(test_endpoint_must_be_http),
		cmocka_unit_test(test_headers_are_trimmed_and_url_decoded),
		cmocka_unit_test(test_bad_headers_name_the_variable),
		cmocka_unit_test(test_headers_cannot_break_the_request),
		cmocka_unit_test(test_presets_are_checked_as_variables_are),
		cmocka_unit_test(
			test_undecodable_resource_attributes_are_discarded),
		cmocka_unit_test(test_endpoints_must_be_usable_urls),
		cmocka_unit_test(test_lists_hold_a_bounded_number_of_names),
		cmocka_unit_test(test_timeouts_are_milliseconds),
		cmocka_unit_test(test_protocols_grpc_and_http_protobuf),
		cmocka_unit_test(test_sdk_disabled_turns_export_off),
		cmocka_unit_test(test_sampler_from_environment),
		cmocka_unit_test(test_presets_lie_below_the_environment),
		cmocka_unit_test(test_grpc_endpoints_call_the_export_methods),
		cmocka_unit_test(test_compression_is_gzip_or_none),
		cmocka_unit_test(test_batch_processor_settings),
		cmocka_unit_test(test_bad_batch_settings_are_warned_about),
		cmocka_unit_test(test_tls_files_are_checked_now),
		cmocka_unit_test(test_cli_wins_over_environment),
		cmocka_unit_test(test_cli_endpoint_alone_enables_export),
		cmocka_unit_test(test_bad_cli_values_name_the_option),
		cmocka_unit_test(test_resource_from_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
