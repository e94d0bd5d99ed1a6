// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/decimal.h"
#include "otlp/otlp_config.h"

#define KS_ENV_NAME_SIZE 64
#define KS_MAX_MS (24u * 3600 * 1000)
#define KS_MAX_QUEUE_SIZE (1u << 20)

static const char *const signal_names[KS_OTLP_NR_SIGNALS] = {
	[KS_OTLP_TRACES] = "traces",
	[KS_OTLP_METRICS] = "metrics",
	[KS_OTLP_LOGS] = "logs",
};

static const char *const signal_env_parts[KS_OTLP_NR_SIGNALS] = {
	[KS_OTLP_TRACES] = "TRACES",
	[KS_OTLP_METRICS] = "METRICS",
	[KS_OTLP_LOGS] = "LOGS",
};

const char *ks_otlp_signal_name(enum ks_otlp_signal signal)
{
	return signal_names[signal];
}

static int ks_bad_value(char *err, size_t err_size, const char *name,
			const char *value, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int ks_bad_value(char *err, size_t err_size, const char *name,
			const char *value, const char *fmt, ...)
{
	int used = snprintf(err, err_size, "%s='%s': ", name, value);
	va_list ap;

	if (used >= 0 && (size_t)used < err_size) {
		va_start(ap, fmt);
		vsnprintf(err + used, err_size - used, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int ks_no_memory(char *err, size_t err_size)
{
	snprintf(err, err_size, "out of memory reading the OTLP settings");
	return -ENOMEM;
}

/* Unset and empty are the same: an empty value asks for the default. */
static const char *ks_env(ks_getenv_fn env, const char *name)
{
	const char *value = env(name);

	return value && *value ? value : NULL;
}

/* The signal's own OTEL_EXPORTER_OTLP_<SIGNAL>_<what>, else the generic. */
static const char *ks_exporter_env(ks_getenv_fn env, enum ks_otlp_signal signal,
				   const char *what, char *name)
{
	const char *value;

	snprintf(name, KS_ENV_NAME_SIZE, "OTEL_EXPORTER_OTLP_%s_%s",
		 signal_env_parts[signal], what);
	value = ks_env(env, name);
	if (value)
		return value;
	snprintf(name, KS_ENV_NAME_SIZE, "OTEL_EXPORTER_OTLP_%s", what);
	return ks_env(env, name);
}

static int ks_parse_number(const char *text, unsigned long *out)
{
	unsigned long long value;

	if (ks_parse_decimal(text, &value, NULL) || value > ULONG_MAX)
		return -1;
	*out = (unsigned long)value;
	return 0;
}

static int ks_parse_ms(const char *name, const char *text, unsigned long min,
		       unsigned int *out, char *err, size_t err_size)
{
	unsigned long value;

	if (ks_parse_number(text, &value))
		return ks_bad_value(err, err_size, name, text,
				    "not a number of milliseconds");
	if (value < min || value > KS_MAX_MS)
		return ks_bad_value(err, err_size, name, text,
				    "not from %lu to %u milliseconds", min,
				    KS_MAX_MS);
	*out = (unsigned int)value;
	return 0;
}

static int ks_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * %XX escapes decoded; -EINVAL with why for a broken escape, or for %00,
 * which would end the C string there and silently drop the rest.
 */
static int ks_percent_decode(const char *text, size_t len, char **out,
			     const char **why)
{
	char *decoded = malloc(len + 1);
	size_t n = 0;

	if (!decoded)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int high, low;

		if (text[i] != '%') {
			decoded[n++] = text[i];
			continue;
		}
		high = i + 2 < len ? ks_hex_digit(text[i + 1]) : -1;
		low = high < 0 ? -1 : ks_hex_digit(text[i + 2]);
		*why = low < 0 ? "a value has a broken %-escape" :
				 "a value has %00, which would cut it short";
		if (low < 0 || !(high | low)) {
			free(decoded);
			return -EINVAL;
		}
		decoded[n++] = (char)(high << 4 | low);
		i += 2;
	}
	decoded[n] = '\0';
	*out = decoded;
	return 0;
}

static void ks_trim(const char **start, const char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

void ks_otlp_pairs_free(struct ks_otlp_pairs *pairs)
{
	for (size_t i = 0; i < pairs->nr; i++) {
		free(pairs->items[i].name);
		free(pairs->items[i].value);
	}
	free(pairs->items);
	pairs->items = NULL;
	pairs->nr = 0;
}

/*
 * Replaces the value of a pair named name, or appends one; takes both.
 * -E2BIG past KS_OTLP_MAX_PAIRS names.
 */
static int ks_pairs_set(struct ks_otlp_pairs *pairs, char *name, char *value)
{
	struct ks_otlp_pair *grown = NULL;

	for (size_t i = 0; i < pairs->nr; i++) {
		if (strcasecmp(pairs->items[i].name, name))
			continue;
		free(pairs->items[i].value);
		free(name);
		pairs->items[i].value = value;
		return 0;
	}
	if (pairs->nr < KS_OTLP_MAX_PAIRS)
		grown = realloc(pairs->items, (pairs->nr + 1) * sizeof(*grown));
	if (!grown) {
		free(name);
		free(value);
		return pairs->nr < KS_OTLP_MAX_PAIRS ? -ENOMEM : -E2BIG;
	}
	pairs->items = grown;
	pairs->items[pairs->nr].name = name;
	pairs->items[pairs->nr].value = value;
	pairs->nr++;
	return 0;
}

/*
 * One name=value member of a comma-separated list: blanks around either part
 * are dropped and the value is percent-decoded, as the OTel spec asks for
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES.
 */
static int ks_pairs_add_member(struct ks_otlp_pairs *pairs, const char *start,
			       const char *end, const char **why)
{
	const char *equals = memchr(start, '=', (size_t)(end - start));
	const char *name_end = equals, *value_start;
	char *name, *value;
	int ret;

	*why = "not a list of name=value pairs separated by commas";
	if (!equals)
		return -EINVAL;
	value_start = equals + 1;
	ks_trim(&start, &name_end);
	ks_trim(&value_start, &end);
	if (start == name_end)
		return -EINVAL;
	name = strndup(start, (size_t)(name_end - start));
	if (!name)
		return -ENOMEM;
	ret = ks_percent_decode(value_start, (size_t)(end - value_start),
				&value, why);
	if (ret) {
		free(name);
		return ret;
	}
	return ks_pairs_set(pairs, name, value);
}

int ks_otlp_pairs_parse(const char *name, const char *text,
			struct ks_otlp_pairs *pairs, char *err, size_t err_size)
{
	const char *start = text, *why = NULL;
	int ret = 0;

	while (*start && !ret) {
		const char *end = strchrnul(start, ',');
		const char *member_end = end;
		const char *member_start = start;

		ks_trim(&member_start, &member_end);
		/* Tolerate "a=b," and "a=b,,c=d" as people write them. */
		if (member_start != member_end)
			ret = ks_pairs_add_member(pairs, start, end, &why);
		start = *end ? end + 1 : end;
	}
	if (ret == -ENOMEM)
		return ks_no_memory(err, err_size);
	if (ret == -E2BIG) {
		snprintf(err, err_size, "%s: more than %d different names",
			 name, KS_OTLP_MAX_PAIRS);
		return -EINVAL;
	}
	if (ret)
		return ks_bad_value(err, err_size, name, text, "%s", why);
	return 0;
}

/* RFC 9110's token: what a header name is made of. */
static bool ks_is_token(const char *text)
{
	static const char symbols[] = "!#$%&'*+-.^_`|~";

	if (!*text)
		return false;
	for (const char *c = text; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(symbols, *c))
			return false;
	return true;
}

/*
 * Headers that frame the request or the connection, or say what the body
 * is: set by the transport, and one set twice would desynchronise the
 * connection or make the receiver misread every export.
 */
static bool ks_is_transport_header(const char *name)
{
	static const char *const names[] = {
		"connection",
		"content-encoding",
		"content-length",
		"content-type",
		"expect",
		"host",
		"keep-alive",
		"proxy-connection",
		"te",
		"trailer",
		"transfer-encoding",
		"upgrade",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return true;
	return false;
}

/*
 * Whether a header can go on the wire as given: a CR or LF in it would add
 * lines of the sender's choosing to every request.  Values are not echoed
 * in err: headers hold credentials.
 */
static int ks_check_header(const char *source, const char *name,
			   const char *value, char *err, size_t err_size)
{
	if (!ks_is_token(name)) {
		snprintf(err, err_size,
			 "%s: a header name has characters HTTP does not "
			 "allow in one",
			 source);
		return -EINVAL;
	}
	if (ks_is_transport_header(name)) {
		snprintf(err, err_size,
			 "%s: header '%s' is the exporter's own to set", source,
			 name);
		return -EINVAL;
	}
	for (const char *c = value; *c; c++) {
		if ((*c >= 0 && *c < ' ' && *c != '\t') || *c == 0x7f) {
			snprintf(err, err_size,
				 "%s: the value of header '%s' has a control "
				 "character (CR, LF, NUL...)",
				 source, name);
			return -EINVAL;
		}
	}
	return 0;
}

static int ks_check_headers(const char *source,
			    const struct ks_otlp_pairs *headers, char *err,
			    size_t err_size)
{
	int ret = 0;

	for (size_t i = 0; i < headers->nr && !ret; i++)
		ret = ks_check_header(source, headers->items[i].name,
				      headers->items[i].value, err, err_size);
	return ret;
}

/*
 * Whether libcurl can use url as an OTLP endpoint: parsed by its own URL
 * parser (which refuses blanks, control characters, broken IPv6 literals
 * and ports beyond 65535), http or https, with a host and a port that is
 * not 0.  NULL, or why not.
 */
static const char *ks_unusable_url(const char *url)
{
	static char reason[128];
	CURLU *parsed = curl_url();
	char *scheme = NULL, *port = NULL;
	const char *why = NULL;
	CURLUcode rc;

	if (!parsed)
		return "out of memory";
	rc = curl_url_set(parsed, CURLUPART_URL, url, 0);
	if (!rc)
		rc = curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
	if (rc) {
		snprintf(reason, sizeof(reason), "%s", curl_url_strerror(rc));
		why = reason;
	} else if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		why = "not http or https";
	} else if (!curl_url_get(parsed, CURLUPART_PORT, &port, 0) &&
		   !strcmp(port, "0")) {
		why = "port 0";
	}
	curl_free(scheme);
	curl_free(port);
	curl_url_cleanup(parsed);
	return why;
}

static bool ks_is_http_url(const char *url)
{
	static const char *const schemes[] = { "http://", "https://" };

	for (size_t i = 0; i < 2; i++) {
		size_t len = strlen(schemes[i]);

		if (!strncasecmp(url, schemes[i], len) && url[len] &&
		    url[len] != '/')
			return true;
	}
	return false;
}

/* base + "/v1/<signal>", without doubling a trailing slash. */
static char *ks_signal_url(const char *base, enum ks_otlp_signal signal)
{
	size_t len = strlen(base);
	char *url;

	while (len && base[len - 1] == '/')
		len--;
	if (asprintf(&url, "%.*s/v1/%s", (int)len, base, signal_names[signal]) <
	    0)
		return NULL;
	return url;
}

static int ks_set_url(struct ks_otlp_target *target, const char *name,
		      const char *base, enum ks_otlp_signal signal,
		      bool append_path, char *err, size_t err_size)
{
	const char *why;
	char *url;

	if (!ks_is_http_url(base))
		return ks_bad_value(err, err_size, name, base,
				    "not an http:// or https:// URL");
	url = append_path ? ks_signal_url(base, signal) : strdup(base);
	if (!url)
		return ks_no_memory(err, err_size);
	why = ks_unusable_url(url);
	if (why) {
		free(url);
		return ks_bad_value(err, err_size, name, base,
				    "not a usable URL: %s", why);
	}
	free(target->url);
	target->url = url;
	return 0;
}

static int ks_endpoint_from_env(struct ks_otlp_config *cfg,
				enum ks_otlp_signal signal, ks_getenv_fn env,
				char *err, size_t err_size)
{
	struct ks_otlp_target *target = &cfg->target[signal];
	char name[KS_ENV_NAME_SIZE];
	const char *value;

	/* A signal's own endpoint is complete; the generic one is a base. */
	snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_ENDPOINT",
		 signal_env_parts[signal]);
	value = ks_env(env, name);
	if (value) {
		cfg->endpoint_given[signal] = true;
		return ks_set_url(target, name, value, signal, false, err,
				  err_size);
	}
	snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_ENDPOINT");
	value = ks_env(env, name);
	cfg->endpoint_given[signal] = value != NULL;
	return ks_set_url(target, name, value ?: KS_OTLP_DEFAULT_ENDPOINT,
			  signal, true, err, err_size);
}

static int ks_compression_parse(const char *name, const char *value, bool *gzip,
				char *err, size_t err_size)
{
	if (!strcmp(value, "gzip"))
		*gzip = true;
	else if (!strcmp(value, "none"))
		*gzip = false;
	else
		return ks_bad_value(err, err_size, name, value,
				    "not 'gzip' or 'none'");
	return 0;
}

static int ks_file_from_env(ks_getenv_fn env, enum ks_otlp_signal signal,
			    const char *what, char **path, char *err,
			    size_t err_size)
{
	char name[KS_ENV_NAME_SIZE];
	const char *value = ks_exporter_env(env, signal, what, name);

	if (!value)
		return 0;
	/* Now, with a name to blame, rather than at the first export. */
	if (access(value, R_OK))
		return ks_bad_value(err, err_size, name, value,
				    "cannot read it: %s", strerror(errno));
	*path = strdup(value);
	return *path ? 0 : ks_no_memory(err, err_size);
}

static int ks_tls_from_env(struct ks_otlp_target *target,
			   enum ks_otlp_signal signal, ks_getenv_fn env,
			   char *err, size_t err_size)
{
	int ret;

	ret = ks_file_from_env(env, signal, "CERTIFICATE", &target->ca_file,
			       err, err_size);
	if (!ret)
		ret = ks_file_from_env(env, signal, "CLIENT_CERTIFICATE",
				       &target->client_cert_file, err,
				       err_size);
	if (!ret)
		ret = ks_file_from_env(env, signal, "CLIENT_KEY",
				       &target->client_key_file, err, err_size);
	if (!ret && !target->client_cert_file != !target->client_key_file) {
		snprintf(err, err_size,
			 "OTEL_EXPORTER_OTLP_%s_CLIENT_CERTIFICATE and "
			 "OTEL_EXPORTER_OTLP_%s_CLIENT_KEY (or their generic "
			 "forms) go together: give both or neither",
			 signal_env_parts[signal], signal_env_parts[signal]);
		ret = -EINVAL;
	}
	return ret;
}

static int ks_target_from_env(struct ks_otlp_config *cfg,
			      enum ks_otlp_signal signal, ks_getenv_fn env,
			      char *err, size_t err_size)
{
	struct ks_otlp_target *target = &cfg->target[signal];
	char name[KS_ENV_NAME_SIZE];
	const char *value;
	int ret;

	ret = ks_endpoint_from_env(cfg, signal, env, err, err_size);
	if (ret)
		return ret;
	value = ks_exporter_env(env, signal, "PROTOCOL", name);
	if (value && strcmp(value, "http/protobuf"))
		return ks_bad_value(err, err_size, name, value,
				    "only 'http/protobuf' is supported");
	value = ks_exporter_env(env, signal, "HEADERS", name);
	if (value) {
		ret = ks_otlp_pairs_parse(name, value, &target->headers, err,
					  err_size);
		if (!ret)
			ret = ks_check_headers(name, &target->headers, err,
					       err_size);
		if (ret)
			return ret;
	}
	target->timeout_ms = KS_OTLP_DEFAULT_TIMEOUT_MS;
	value = ks_exporter_env(env, signal, "TIMEOUT", name);
	if (value) {
		ret = ks_parse_ms(name, value, 1, &target->timeout_ms, err,
				  err_size);
		if (ret)
			return ret;
	}
	value = ks_exporter_env(env, signal, "COMPRESSION", name);
	if (value) {
		ret = ks_compression_parse(name, value, &target->gzip, err,
					   err_size);
		if (ret)
			return ret;
	}
	return ks_tls_from_env(target, signal, env, err, err_size);
}

/* OTEL_<SIGNAL>_EXPORTER: the one standard way to switch a signal off. */
static int ks_exporter_choice(struct ks_otlp_config *cfg,
			      enum ks_otlp_signal signal, ks_getenv_fn env,
			      char *err, size_t err_size)
{
	char name[KS_ENV_NAME_SIZE];
	const char *value;

	snprintf(name, sizeof(name), "OTEL_%s_EXPORTER",
		 signal_env_parts[signal]);
	value = ks_env(env, name);
	if (!value || !strcmp(value, "otlp"))
		return 0;
	if (strcmp(value, "none"))
		return ks_bad_value(err, err_size, name, value,
				    "not 'otlp' or 'none'");
	cfg->exporter_none[signal] = true;
	return 0;
}

struct ks_batch_var {
	const char *suffix;
	unsigned long min;
	unsigned long max;
	size_t offset;
	bool milliseconds;
};

static const struct ks_batch_var batch_vars[] = {
	{ "MAX_QUEUE_SIZE", 1, KS_MAX_QUEUE_SIZE,
	  offsetof(struct ks_otlp_batching, max_queue_size), false },
	{ "MAX_EXPORT_BATCH_SIZE", 1, KS_MAX_QUEUE_SIZE,
	  offsetof(struct ks_otlp_batching, max_export_batch_size), false },
	{ "SCHEDULE_DELAY", 0, KS_MAX_MS,
	  offsetof(struct ks_otlp_batching, schedule_delay_ms), true },
	{ "EXPORT_TIMEOUT", 1, KS_MAX_MS,
	  offsetof(struct ks_otlp_batching, export_timeout_ms), true },
};

/* OTEL_BSP_* for spans, OTEL_BLRP_* for log records. */
static int ks_batching_from_env(struct ks_otlp_batching *batching,
				const char *prefix, ks_getenv_fn env, char *err,
				size_t err_size)
{
	char name[KS_ENV_NAME_SIZE], queue_name[KS_ENV_NAME_SIZE];

	for (size_t i = 0; i < sizeof(batch_vars) / sizeof(batch_vars[0]);
	     i++) {
		const struct ks_batch_var *var = &batch_vars[i];
		unsigned int *field =
			(unsigned int *)((char *)batching + var->offset);
		unsigned long number;
		const char *value;
		int ret;

		snprintf(name, sizeof(name), "%s_%s", prefix, var->suffix);
		value = ks_env(env, name);
		if (!value)
			continue;
		if (var->milliseconds) {
			ret = ks_parse_ms(name, value, var->min, field, err,
					  err_size);
			if (ret)
				return ret;
		} else if (ks_parse_number(value, &number) ||
			   number < var->min || number > var->max) {
			return ks_bad_value(
				err, err_size, name, value,
				"not a whole number from %lu to %lu", var->min,
				var->max);
		} else {
			*field = (unsigned int)number;
		}
	}
	if (batching->max_export_batch_size <= batching->max_queue_size)
		return 0;
	/* Only a smaller queue was asked for: batches follow it down. */
	snprintf(name, sizeof(name), "%s_MAX_EXPORT_BATCH_SIZE", prefix);
	if (!ks_env(env, name)) {
		batching->max_export_batch_size = batching->max_queue_size;
		return 0;
	}
	snprintf(queue_name, sizeof(queue_name), "%s_MAX_QUEUE_SIZE", prefix);
	snprintf(err, err_size, "%s=%u: larger than %s=%u", name,
		 batching->max_export_batch_size, queue_name,
		 batching->max_queue_size);
	return -EINVAL;
}

static int ks_metric_timing_from_env(struct ks_otlp_config *cfg,
				     ks_getenv_fn env, char *err,
				     size_t err_size)
{
	const char *value;
	int ret;

	value = ks_env(env, "OTEL_METRIC_EXPORT_INTERVAL");
	if (value) {
		ret = ks_parse_ms("OTEL_METRIC_EXPORT_INTERVAL", value, 1,
				  &cfg->metric_export_interval_ms, err,
				  err_size);
		if (ret)
			return ret;
	}
	value = ks_env(env, "OTEL_METRIC_EXPORT_TIMEOUT");
	if (!value)
		return 0;
	return ks_parse_ms("OTEL_METRIC_EXPORT_TIMEOUT", value, 1,
			   &cfg->batching[KS_OTLP_METRICS].export_timeout_ms,
			   err, err_size);
}

static void ks_config_defaults(struct ks_otlp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_batching *batching = &cfg->batching[signal];

		batching->max_queue_size = KS_OTLP_DEFAULT_QUEUE_SIZE;
		batching->max_export_batch_size = KS_OTLP_DEFAULT_BATCH_SIZE;
		batching->export_timeout_ms = KS_OTLP_DEFAULT_EXPORT_TIMEOUT_MS;
		batching->retry_initial_ms = KS_OTLP_DEFAULT_RETRY_INITIAL_MS;
		batching->retry_max_ms = KS_OTLP_DEFAULT_RETRY_MAX_MS;
	}
	cfg->batching[KS_OTLP_TRACES].schedule_delay_ms =
		KS_OTLP_DEFAULT_BSP_DELAY_MS;
	cfg->batching[KS_OTLP_LOGS].schedule_delay_ms =
		KS_OTLP_DEFAULT_BLRP_DELAY_MS;
	cfg->batching[KS_OTLP_METRICS].schedule_delay_ms = 0;
	cfg->metric_export_interval_ms = KS_OTLP_DEFAULT_METRIC_INTERVAL_MS;
}

/*
 * A signal without an endpoint of its own goes to the spec's default, as in
 * any OTel SDK; OTEL_<SIGNAL>_EXPORTER=none is how to silence it.
 */
static void ks_config_settle(struct ks_otlp_config *cfg)
{
	cfg->enabled = false;
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		cfg->enabled |= cfg->endpoint_given[signal];
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		cfg->target[signal].enabled =
			cfg->enabled && !cfg->exporter_none[signal];
}

static int ks_resource_from_env(struct ks_otlp_config *cfg, ks_getenv_fn env,
				char *err, size_t err_size)
{
	const char *value = ks_env(env, "OTEL_RESOURCE_ATTRIBUTES");
	int ret;

	if (value) {
		ret = ks_otlp_pairs_parse("OTEL_RESOURCE_ATTRIBUTES", value,
					  &cfg->resource_attrs, err, err_size);
		if (ret)
			return ret;
	}
	value = ks_env(env, "OTEL_SERVICE_NAME");
	cfg->service_name = strdup(value ?: KS_OTLP_DEFAULT_SERVICE_NAME);
	return cfg->service_name ? 0 : ks_no_memory(err, err_size);
}

int ks_otlp_config_from_env(struct ks_otlp_config *cfg, ks_getenv_fn env,
			    char *err, size_t err_size)
{
	int ret;

	ks_config_defaults(cfg);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		ret = ks_target_from_env(cfg, signal, env, err, err_size);
		if (!ret)
			ret = ks_exporter_choice(cfg, signal, env, err,
						 err_size);
		if (ret)
			goto cleanup;
	}
	ret = ks_batching_from_env(&cfg->batching[KS_OTLP_TRACES], "OTEL_BSP",
				   env, err, err_size);
	if (!ret)
		ret = ks_batching_from_env(&cfg->batching[KS_OTLP_LOGS],
					   "OTEL_BLRP", env, err, err_size);
	if (!ret)
		ret = ks_metric_timing_from_env(cfg, env, err, err_size);
	if (!ret)
		ret = ks_resource_from_env(cfg, env, err, err_size);
	if (!ret)
		ks_config_settle(cfg);
cleanup:
	if (ret)
		ks_otlp_config_free(cfg);
	return ret;
}

static int ks_cli_header(struct ks_otlp_config *cfg, const char *header,
			 char *err, size_t err_size)
{
	const char *equals = strchr(header, '=');
	char *name;
	int ret;

	if (!equals || equals == header)
		return ks_bad_value(err, err_size, "--otlp-header", header,
				    "not name=value");
	name = strndup(header, (size_t)(equals - header));
	if (!name)
		return ks_no_memory(err, err_size);
	ret = ks_check_header("--otlp-header", name, equals + 1, err, err_size);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS && !ret; signal++) {
		char *own_name = strdup(name);
		char *value = strdup(equals + 1);

		if (!own_name || !value) {
			free(own_name);
			free(value);
			ret = -ENOMEM;
		} else {
			ret = ks_pairs_set(&cfg->target[signal].headers,
					   own_name, value);
		}
		if (ret == -E2BIG) {
			snprintf(err, err_size,
				 "--otlp-header: more than %d headers",
				 KS_OTLP_MAX_PAIRS);
			ret = -EINVAL;
		} else if (ret == -ENOMEM) {
			ret = ks_no_memory(err, err_size);
		}
	}
	free(name);
	return ret;
}

int ks_otlp_config_apply_cli(struct ks_otlp_config *cfg,
			     const struct ks_otlp_cli *cli, char *err,
			     size_t err_size)
{
	unsigned int timeout_ms = 0;
	bool gzip = false;
	int ret;

	/* Validate the scalar values first, so they apply all or nothing. */
	if (cli->timeout_ms) {
		ret = ks_parse_ms("--otlp-timeout-ms", cli->timeout_ms, 1,
				  &timeout_ms, err, err_size);
		if (ret)
			return ret;
	}
	if (cli->compression) {
		ret = ks_compression_parse("--otlp-compression",
					   cli->compression, &gzip, err,
					   err_size);
		if (ret)
			return ret;
	}
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_target *target = &cfg->target[signal];

		if (cli->endpoint) {
			ret = ks_set_url(target, "--otlp-endpoint",
					 cli->endpoint, signal, true, err,
					 err_size);
			if (ret)
				return ret;
			cfg->endpoint_given[signal] = true;
		}
		if (cli->timeout_ms)
			target->timeout_ms = timeout_ms;
		if (cli->compression)
			target->gzip = gzip;
	}
	for (size_t i = 0; i < cli->nr_headers; i++) {
		ret = ks_cli_header(cfg, cli->headers[i], err, err_size);
		if (ret)
			return ret;
	}
	ks_config_settle(cfg);
	return 0;
}

void ks_otlp_config_free(struct ks_otlp_config *cfg)
{
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_target *target = &cfg->target[signal];

		free(target->url);
		free(target->ca_file);
		free(target->client_cert_file);
		free(target->client_key_file);
		ks_otlp_pairs_free(&target->headers);
		memset(target, 0, sizeof(*target));
	}
	ks_otlp_pairs_free(&cfg->resource_attrs);
	free(cfg->service_name);
	cfg->service_name = NULL;
	cfg->enabled = false;
}
