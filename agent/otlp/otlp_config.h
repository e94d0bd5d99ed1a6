/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP export settings: the standard OTEL_* environment variables, then
 * command-line overrides, validated completely before anything is sent.
 * Export is on only when an endpoint was given, in the environment or on the
 * command line: an agent must not start talking to localhost:4318 because
 * nobody said otherwise.
 */
#ifndef KS_OTLP_CONFIG_H
#define KS_OTLP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "base/sampler.h"

enum ks_otlp_signal {
	KS_OTLP_TRACES = 0,
	KS_OTLP_METRICS,
	KS_OTLP_LOGS,
	KS_OTLP_NR_SIGNALS,
};

#define KS_OTLP_DEFAULT_ENDPOINT "http://localhost:4318"
#define KS_OTLP_DEFAULT_GRPC_ENDPOINT "http://localhost:4317"
#define KS_OTLP_DEFAULT_SERVICE_NAME "knotscope"
#define KS_OTLP_DEFAULT_TIMEOUT_MS 10000
#define KS_OTLP_DEFAULT_QUEUE_SIZE 2048
#define KS_OTLP_DEFAULT_BATCH_SIZE 512
#define KS_OTLP_DEFAULT_BSP_DELAY_MS 5000
#define KS_OTLP_DEFAULT_BLRP_DELAY_MS 1000
#define KS_OTLP_DEFAULT_EXPORT_TIMEOUT_MS 30000
#define KS_OTLP_DEFAULT_METRIC_INTERVAL_MS 60000
#define KS_OTLP_DEFAULT_RETRY_INITIAL_MS 1000
#define KS_OTLP_DEFAULT_RETRY_MAX_MS 5000

/* Room for any message the functions below write into err. */
#define KS_OTLP_ERR_SIZE 512
/* Warnings kept for the caller to show; more are only counted. */
#define KS_OTLP_MAX_WARNINGS 16
/*
 * The most names one list may hold (the OTel SDKs' default attribute
 * count limit): it bounds the work of a later name replacing an earlier
 * one, so a list parses in time linear in its length.
 */
#define KS_OTLP_MAX_PAIRS 128

enum ks_otlp_protocol {
	KS_OTLP_HTTP_PROTOBUF = 0,
	KS_OTLP_GRPC,
};

/* One name=value of a list: an HTTP header or a resource attribute. */
struct ks_otlp_pair {
	char *name;
	char *value;
};

struct ks_otlp_pairs {
	struct ks_otlp_pair *items;
	size_t nr;
};

/* Where and how one signal is sent. */
struct ks_otlp_target {
	bool enabled;
	enum ks_otlp_protocol protocol;
	/*
	 * Complete: with /v1/<signal> appended to a generic endpoint over
	 * HTTP, the Export method's path for gRPC.
	 */
	char *url;
	/* As configured, which url is made of once the protocol is known. */
	char *endpoint;
	bool endpoint_complete; /* a signal's own: used as it is over HTTP */
	struct ks_otlp_pairs headers;
	bool gzip;
	unsigned int timeout_ms; /* one HTTP attempt */
	char *ca_file; /* NULL: the system's trust store */
	char *client_cert_file; /* both or neither, for mutual TLS */
	char *client_key_file;
};

/*
 * The batch processor settings of one signal.  Metrics come as snapshots
 * the agent builds on its own timer, so they are sent without delay and
 * their queue counts metrics rather than data points.
 */
struct ks_otlp_batching {
	unsigned int max_queue_size;
	unsigned int max_export_batch_size;
	unsigned int schedule_delay_ms;
	unsigned int export_timeout_ms; /* a batch, all its retries included */
	unsigned int retry_initial_ms; /* backoff before the first retry */
	unsigned int retry_max_ms; /* and the most it grows to */
};

/* Why a signal is exported or not, from OTEL_<SIGNAL>_EXPORTER. */
enum ks_otlp_exporter_bits {
	KS_EXPORTER_OTLP = 1 << 0,
	/* Metrics only: pulled from /metrics instead of (or as well as)
	 * pushed. */
	KS_EXPORTER_PROMETHEUS = 1 << 1,
};

struct ks_otlp_config {
	bool enabled; /* some endpoint was configured */
	bool sdk_disabled; /* OTEL_SDK_DISABLED=true: nothing is exported */
	struct ks_otlp_target target[KS_OTLP_NR_SIGNALS];
	struct ks_otlp_batching batching[KS_OTLP_NR_SIGNALS];
	/* How often the agent should build a metrics snapshot. */
	unsigned int metric_export_interval_ms;
	char *service_name;
	/* OTEL_RESOURCE_ATTRIBUTES, decoded, in the order given. */
	struct ks_otlp_pairs resource_attrs;
	/* OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG. */
	struct ks_sampler sampler;
	/* gRPC endpoints without a scheme: OTEL_EXPORTER_OTLP_INSECURE. */
	bool insecure;
	/* OTEL_<SIGNAL>_EXPORTER: enum ks_otlp_exporter_bits. */
	unsigned int exporters[KS_OTLP_NR_SIGNALS];
	/*
	 * Settings that were not understood and were ignored, as the
	 * specification asks (a value that does not parse is treated as
	 * unset), for the caller to show.
	 */
	char warnings[KS_OTLP_MAX_WARNINGS][KS_OTLP_ERR_SIZE];
	unsigned int nr_warnings; /* may exceed KS_OTLP_MAX_WARNINGS */
	/* Bookkeeping for ks_otlp_config_apply_cli(). */
	bool endpoint_given[KS_OTLP_NR_SIGNALS];
};

/*
 * Parses "name=value,name2=value2" (values percent-decoded), as in
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS, appending to
 * pairs; a later name replaces an earlier one.  name is the variable, for
 * the message in err.  0, or -EINVAL/-ENOMEM with err set; -EINVAL too
 * beyond KS_OTLP_MAX_PAIRS different names.
 */
int ks_otlp_pairs_parse(const char *name, const char *text,
			struct ks_otlp_pairs *pairs, char *err,
			size_t err_size);
void ks_otlp_pairs_free(struct ks_otlp_pairs *pairs);

/* getenv itself, or a stand-in that reads a table (tests). */
typedef char *(*ks_getenv_fn)(const char *name);

/*
 * Settings below the environment, by the variable they stand for: a
 * configuration file's.  origin names a value in messages instead of the
 * variable ("/etc/knotscope.yaml:12: otel.OTEL_BSP_SCHEDULE_DELAY").
 */
struct ks_otlp_preset {
	const char *name;
	const char *value;
	const char *origin;
};

struct ks_otlp_presets {
	const struct ks_otlp_preset *items;
	size_t nr;
};

/*
 * Fills cfg from the environment, and presets (may be NULL) where the
 * environment says nothing, following the specification's rules: an
 * empty value is unset; a number, a boolean or a choice that does not
 * parse is ignored with a warning in cfg->warnings, and so is an
 * OTEL_RESOURCE_ATTRIBUTES that does not decode (discarded whole).  Values
 * the agent cannot do without understanding, or could not send safely
 * (endpoints libcurl cannot use, headers that would add lines to a request
 * or set the transport's own, TLS files) are errors: -EINVAL (or -ENOMEM)
 * with a message naming the variable in err, and cfg holds nothing to
 * free.
 */
int ks_otlp_config_from_env(struct ks_otlp_config *cfg, ks_getenv_fn env,
			    const struct ks_otlp_presets *presets, char *err,
			    size_t err_size);

/*
 * What the command line may override; NULL or 0 members leave the
 * environment's value.  Values are raw argv strings: they are validated
 * here, and messages name them as --otlp-endpoint, --otlp-header,
 * --otlp-compression, --otlp-timeout-ms and --otlp-protocol.
 */
struct ks_otlp_cli {
	const char *endpoint; /* base URL for every signal: /v1/... appended */
	const char *const *headers; /* "name=value", taken literally */
	size_t nr_headers;
	const char *compression; /* "gzip" or "none" */
	const char *timeout_ms;
	const char *protocol; /* "grpc" or "http/protobuf" */
};

/*
 * Applies cli over cfg: the command line wins.  A header replaces one of the
 * same name (case-insensitively) and is added otherwise.  On error cfg is
 * unchanged but for what was already applied; free it either way.
 */
int ks_otlp_config_apply_cli(struct ks_otlp_config *cfg,
			     const struct ks_otlp_cli *cli, char *err,
			     size_t err_size);

void ks_otlp_config_free(struct ks_otlp_config *cfg);

/* "traces", "metrics" or "logs". */
const char *ks_otlp_signal_name(enum ks_otlp_signal signal);

/* The signal's Export method over gRPC: "/opentelemetry.proto.collector.
 * trace.v1.TraceService/Export"... */
const char *ks_otlp_grpc_method(enum ks_otlp_signal signal);

/* Whether name is an OTEL_* variable this configuration reads. */
bool ks_otlp_config_knows(const char *name);

/* "grpc" or "http/protobuf". */
const char *ks_otlp_protocol_name(enum ks_otlp_protocol protocol);

#endif /* KS_OTLP_CONFIG_H */
