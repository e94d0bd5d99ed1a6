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

enum ks_otlp_signal {
	KS_OTLP_TRACES = 0,
	KS_OTLP_METRICS,
	KS_OTLP_LOGS,
	KS_OTLP_NR_SIGNALS,
};

#define KS_OTLP_DEFAULT_ENDPOINT "http://localhost:4318"
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
/*
 * The most names one list may hold (the OTel SDKs' default attribute
 * count limit): it bounds the work of a later name replacing an earlier
 * one, so a list parses in time linear in its length.
 */
#define KS_OTLP_MAX_PAIRS 128

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
	char *url; /* complete, with /v1/<signal> for a generic endpoint */
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

struct ks_otlp_config {
	bool enabled; /* some endpoint was configured */
	struct ks_otlp_target target[KS_OTLP_NR_SIGNALS];
	struct ks_otlp_batching batching[KS_OTLP_NR_SIGNALS];
	/* How often the agent should build a metrics snapshot. */
	unsigned int metric_export_interval_ms;
	char *service_name;
	/* OTEL_RESOURCE_ATTRIBUTES, decoded, in the order given. */
	struct ks_otlp_pairs resource_attrs;
	/* Bookkeeping for ks_otlp_config_apply_cli(). */
	bool endpoint_given[KS_OTLP_NR_SIGNALS];
	bool exporter_none[KS_OTLP_NR_SIGNALS];
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
 * Fills cfg from the environment.  On error returns -EINVAL (or -ENOMEM)
 * with a message naming the variable in err, and cfg holds nothing to free.
 */
int ks_otlp_config_from_env(struct ks_otlp_config *cfg, ks_getenv_fn env,
			    char *err, size_t err_size);

/*
 * What the command line may override; NULL or 0 members leave the
 * environment's value.  Values are raw argv strings: they are validated
 * here, and messages name them as --otlp-endpoint, --otlp-header,
 * --otlp-compression and --otlp-timeout-ms.
 */
struct ks_otlp_cli {
	const char *endpoint; /* base URL for every signal: /v1/... appended */
	const char *const *headers; /* "name=value", taken literally */
	size_t nr_headers;
	const char *compression; /* "gzip" or "none" */
	const char *timeout_ms;
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

#endif /* KS_OTLP_CONFIG_H */
