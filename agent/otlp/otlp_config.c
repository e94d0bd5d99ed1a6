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
#include "base/percent.h"
#include "otlp/otlp_config.h"

#define KS_ENV_NAME_SIZE 64
/* A variable's name, or where a preset came from, for messages. */
#define KS_LABEL_SIZE 320
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

const char *ks_otlp_grpc_method(enum ks_otlp_signal signal)
{
	static const char *const methods[KS_OTLP_NR_SIGNALS] = {
		[KS_OTLP_TRACES] = "/opentelemetry.proto.collector.trace.v1."
				   "TraceService/Export",
		[KS_OTLP_METRICS] = "/opentelemetry.proto.collector.metrics.v1."
				    "MetricsService/Export",
		[KS_OTLP_LOGS] = "/opentelemetry.proto.collector.logs.v1."
				 "LogsService/Export",
	};

	return methods[signal];
}

const char *ks_otlp_protocol_name(enum ks_otlp_protocol protocol)
{
	return protocol == KS_OTLP_GRPC ? "grpc" : "http/protobuf";
}

/* Where values come from while the configuration is read. */
struct ks_lookup {
	ks_getenv_fn env;
	const struct ks_otlp_presets *presets;
	struct ks_otlp_config *cfg; /* for its warnings */
};

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

static void ks_warning(struct ks_otlp_config *cfg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A value the specification says to ignore, with a warning: once, though
 * each signal reads the generic variables.
 */
static void ks_warning(struct ks_otlp_config *cfg, const char *fmt, ...)
{
	char text[KS_OTLP_ERR_SIZE];
	unsigned int kept = cfg->nr_warnings < KS_OTLP_MAX_WARNINGS ?
				    cfg->nr_warnings :
				    KS_OTLP_MAX_WARNINGS;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (unsigned int i = 0; i < kept; i++)
		if (!strcmp(cfg->warnings[i], text))
			return;
	if (cfg->nr_warnings++ < KS_OTLP_MAX_WARNINGS)
		memcpy(cfg->warnings[kept], text, sizeof(text));
}

static int ks_no_memory(char *err, size_t err_size)
{
	snprintf(err, err_size, "out of memory reading the OTLP settings");
	return -ENOMEM;
}

/*
 * The value of variable name, from the environment, else from the
 * presets; label names it in messages.  Unset and empty are the same: an
 * empty value asks for the default.
 */
static const char *ks_get(const struct ks_lookup *lookup, const char *name,
			  char label[KS_LABEL_SIZE])
{
	const struct ks_otlp_presets *presets = lookup->presets;
	const char *value = lookup->env(name);

	snprintf(label, KS_LABEL_SIZE, "%s", name);
	if (value && *value)
		return value;
	for (size_t i = 0; presets && i < presets->nr; i++) {
		const struct ks_otlp_preset *preset = &presets->items[i];

		if (strcmp(preset->name, name) || !*preset->value)
			continue;
		snprintf(label, KS_LABEL_SIZE, "%s",
			 preset->origin ? preset->origin : name);
		return preset->value;
	}
	return NULL;
}

/* The signal's own OTEL_EXPORTER_OTLP_<SIGNAL>_<what>, else the generic. */
static const char *ks_exporter_env(const struct ks_lookup *lookup,
				   enum ks_otlp_signal signal, const char *what,
				   char label[KS_LABEL_SIZE])
{
	char name[KS_ENV_NAME_SIZE];
	const char *value;

	snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_%s",
		 signal_env_parts[signal], what);
	value = ks_get(lookup, name, label);
	if (value)
		return value;
	snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s", what);
	return ks_get(lookup, name, label);
}

static int ks_parse_number(const char *text, unsigned long *out)
{
	unsigned long long value;

	if (ks_parse_decimal(text, &value, NULL) || value > ULONG_MAX)
		return -1;
	*out = (unsigned long)value;
	return 0;
}

/* Why text is not a number of milliseconds from min on, or NULL. */
static const char *ks_ms_problem(const char *text, unsigned long min,
				 unsigned int *out)
{
	unsigned long value;

	if (ks_parse_number(text, &value))
		return "not a number of milliseconds";
	if (value < min || value > KS_MAX_MS)
		return min ? "not from 1 to 86400000 milliseconds" :
			     "more than 86400000 milliseconds";
	*out = (unsigned int)value;
	return NULL;
}

static int ks_parse_ms(const char *name, const char *text, unsigned long min,
		       unsigned int *out, char *err, size_t err_size)
{
	const char *problem = ks_ms_problem(text, min, out);

	return problem ?
		       ks_bad_value(err, err_size, name, text, "%s", problem) :
		       0;
}

/*
 * A number of milliseconds from a variable: one that does not parse, or
 * is out of range, is ignored with a warning (the spec's rule for
 * numbers), leaving *out as it was.
 */
static void ks_ms_setting(const struct ks_lookup *lookup, const char *label,
			  const char *value, unsigned long min,
			  unsigned int *out)
{
	const char *problem = value ? ks_ms_problem(value, min, out) : NULL;

	if (problem)
		ks_warning(lookup->cfg, "%s='%s': %s; the default applies",
			   label, value, problem);
}

/* The spec's booleans: only "true" (any case) is true. */
static bool ks_bool_setting(const struct ks_lookup *lookup, const char *name)
{
	char label[KS_LABEL_SIZE];
	const char *value = ks_get(lookup, name, label);

	if (!value || !strcasecmp(value, "false"))
		return false;
	if (!strcasecmp(value, "true"))
		return true;
	ks_warning(lookup->cfg, "%s='%s': not 'true' or 'false'; false applies",
		   label, value);
	return false;
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
				&value);
	if (ret) {
		*why = ret == -EILSEQ ?
			       "a value has %00, which would cut it short" :
			       "a value has a broken %-escape";
		free(name);
		return ret == -ENOMEM ? ret : -EINVAL;
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
 * connection or make the receiver misread every export.  gRPC's own
 * (grpc-encoding, grpc-timeout...) are refused too: they describe the
 * call's framing as much as content-type does.
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

	if (!strncasecmp(name, "grpc-", 5))
		return true;
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

static bool ks_has_scheme(const char *url)
{
	return strstr(url, "://") != NULL;
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

/*
 * gRPC calls a method, whatever path the endpoint has: scheme and
 * authority, then the signal's Export method.  An endpoint without a
 * scheme is secure unless OTEL_EXPORTER_OTLP_INSECURE says otherwise.
 */
static char *ks_grpc_url(const char *endpoint, enum ks_otlp_signal signal,
			 bool insecure)
{
	const char *authority = endpoint, *scheme = insecure ? "http" : "https";
	const char *separator = strstr(endpoint, "://");
	size_t scheme_len = strlen(scheme), authority_len;
	char *url;

	if (separator) {
		scheme = endpoint;
		scheme_len = (size_t)(separator - endpoint);
		authority = separator + 3;
	}
	authority_len = strcspn(authority, "/?#");
	if (asprintf(&url, "%.*s://%.*s%s", (int)scheme_len, scheme,
		     (int)authority_len, authority,
		     ks_otlp_grpc_method(signal)) < 0)
		return NULL;
	return url;
}

/*
 * Records an endpoint as configured; checked now, with the name it came
 * by, and made a URL at the end.  One libcurl cannot use is refused, as
 * no export could ever reach it.
 */
static int ks_set_endpoint(struct ks_otlp_target *target, const char *name,
			   const char *value, bool complete, char *err,
			   size_t err_size)
{
	bool has_scheme = ks_has_scheme(value);
	char *copy, *url;
	const char *why;

	/* gRPC endpoints may come without a scheme; see ks_grpc_url(). */
	if (has_scheme ? !ks_is_http_url(value) :
			 target->protocol != KS_OTLP_GRPC)
		return ks_bad_value(err, err_size, name, value,
				    "not an http:// or https:// URL");
	/* Whichever scheme it gets, its host and port are the same. */
	if (asprintf(&url, "%s%s", has_scheme ? "" : "http://", value) < 0)
		return ks_no_memory(err, err_size);
	why = ks_unusable_url(url);
	free(url);
	if (why)
		return ks_bad_value(err, err_size, name, value,
				    "not a usable URL: %s", why);
	copy = strdup(value);
	if (!copy)
		return ks_no_memory(err, err_size);
	free(target->endpoint);
	target->endpoint = copy;
	target->endpoint_complete = complete;
	return 0;
}

static int ks_endpoint_from_env(struct ks_otlp_config *cfg,
				enum ks_otlp_signal signal,
				const struct ks_lookup *lookup, char *err,
				size_t err_size)
{
	struct ks_otlp_target *target = &cfg->target[signal];
	char name[KS_ENV_NAME_SIZE], label[KS_LABEL_SIZE];
	const char *value;

	/* A signal's own endpoint is complete; the generic one is a base. */
	snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_ENDPOINT",
		 signal_env_parts[signal]);
	value = ks_get(lookup, name, label);
	if (value) {
		cfg->endpoint_given[signal] = true;
		return ks_set_endpoint(target, label, value, true, err,
				       err_size);
	}
	value = ks_get(lookup, "OTEL_EXPORTER_OTLP_ENDPOINT", label);
	cfg->endpoint_given[signal] = value != NULL;
	if (!value)
		return 0;
	return ks_set_endpoint(target, label, value, false, err, err_size);
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

static int ks_protocol_parse(const char *name, const char *value,
			     enum ks_otlp_protocol *protocol, char *err,
			     size_t err_size)
{
	if (!strcmp(value, "grpc"))
		*protocol = KS_OTLP_GRPC;
	else if (!strcmp(value, "http/protobuf"))
		*protocol = KS_OTLP_HTTP_PROTOBUF;
	else
		return ks_bad_value(err, err_size, name, value,
				    "not 'grpc' or 'http/protobuf'");
	return 0;
}

static int ks_file_from_env(const struct ks_lookup *lookup,
			    enum ks_otlp_signal signal, const char *what,
			    char **path, char *err, size_t err_size)
{
	char label[KS_LABEL_SIZE];
	const char *value = ks_exporter_env(lookup, signal, what, label);

	if (!value)
		return 0;
	/* Now, with a name to blame, rather than at the first export. */
	if (access(value, R_OK))
		return ks_bad_value(err, err_size, label, value,
				    "cannot read it: %s", strerror(errno));
	*path = strdup(value);
	return *path ? 0 : ks_no_memory(err, err_size);
}

static int ks_tls_from_env(struct ks_otlp_target *target,
			   enum ks_otlp_signal signal,
			   const struct ks_lookup *lookup, char *err,
			   size_t err_size)
{
	int ret;

	ret = ks_file_from_env(lookup, signal, "CERTIFICATE", &target->ca_file,
			       err, err_size);
	if (!ret)
		ret = ks_file_from_env(lookup, signal, "CLIENT_CERTIFICATE",
				       &target->client_cert_file, err,
				       err_size);
	if (!ret)
		ret = ks_file_from_env(lookup, signal, "CLIENT_KEY",
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

/* Protocol, timeout and compression: choices and numbers, warned about. */
static void ks_transport_from_env(struct ks_otlp_target *target,
				  enum ks_otlp_signal signal,
				  const struct ks_lookup *lookup)
{
	char label[KS_LABEL_SIZE], why[KS_OTLP_ERR_SIZE];
	const char *value;

	value = ks_exporter_env(lookup, signal, "PROTOCOL", label);
	if (value && ks_protocol_parse(label, value, &target->protocol, why,
				       sizeof(why)))
		ks_warning(lookup->cfg,
			   "%s='%s': not 'grpc' or 'http/protobuf' (http/json "
			   "is not supported); http/protobuf applies",
			   label, value);
	target->timeout_ms = KS_OTLP_DEFAULT_TIMEOUT_MS;
	value = ks_exporter_env(lookup, signal, "TIMEOUT", label);
	ks_ms_setting(lookup, label, value, 1, &target->timeout_ms);
	value = ks_exporter_env(lookup, signal, "COMPRESSION", label);
	if (value &&
	    ks_compression_parse(label, value, &target->gzip, why, sizeof(why)))
		ks_warning(lookup->cfg,
			   "%s='%s': not 'gzip' or 'none'; none applies", label,
			   value);
}

static int ks_target_from_env(struct ks_otlp_config *cfg,
			      enum ks_otlp_signal signal,
			      const struct ks_lookup *lookup, char *err,
			      size_t err_size)
{
	struct ks_otlp_target *target = &cfg->target[signal];
	char label[KS_LABEL_SIZE];
	const char *value;
	int ret;

	/* First: whether an endpoint needs a scheme depends on it. */
	ks_transport_from_env(target, signal, lookup);
	ret = ks_endpoint_from_env(cfg, signal, lookup, err, err_size);
	if (ret)
		return ret;
	value = ks_exporter_env(lookup, signal, "HEADERS", label);
	if (value) {
		ret = ks_otlp_pairs_parse(label, value, &target->headers, err,
					  err_size);
		if (!ret)
			ret = ks_check_headers(label, &target->headers, err,
					       err_size);
		if (ret)
			return ret;
	}
	return ks_tls_from_env(target, signal, lookup, err, err_size);
}

/*
 * OTEL_<SIGNAL>_EXPORTER, a comma-separated list: otlp, none, and for
 * metrics prometheus (pulled from /metrics, which the agent serves).
 * Unknown values are ignored with a warning, as the spec says; a list
 * of nothing known leaves the default, otlp.
 */
static void ks_exporter_choice(struct ks_otlp_config *cfg,
			       enum ks_otlp_signal signal,
			       const struct ks_lookup *lookup)
{
	char name[KS_ENV_NAME_SIZE], label[KS_LABEL_SIZE];
	unsigned int chosen = 0;
	bool none = false;
	const char *value, *start;

	cfg->exporters[signal] = KS_EXPORTER_OTLP;
	snprintf(name, sizeof(name), "OTEL_%s_EXPORTER",
		 signal_env_parts[signal]);
	value = ks_get(lookup, name, label);
	for (start = value; start && *start;) {
		size_t len = strcspn(start, ",");
		const char *word = start;
		size_t word_len = len;

		start += len + (start[len] == ',');
		while (word_len && isspace((unsigned char)*word)) {
			word++;
			word_len--;
		}
		while (word_len && isspace((unsigned char)word[word_len - 1]))
			word_len--;
		if (word_len == 4 && !strncmp(word, "otlp", 4))
			chosen |= KS_EXPORTER_OTLP;
		else if (word_len == 4 && !strncmp(word, "none", 4))
			none = true;
		else if (signal == KS_OTLP_METRICS && word_len == 10 &&
			 !strncmp(word, "prometheus", 10))
			chosen |= KS_EXPORTER_PROMETHEUS;
		else if (word_len)
			ks_warning(cfg,
				   "%s='%s': '%.*s' is not an exporter "
				   "knotscope has (otlp, none%s); ignored",
				   label, value, (int)word_len, word,
				   signal == KS_OTLP_METRICS ? ", prometheus" :
							       "");
	}
	if (none)
		cfg->exporters[signal] = 0;
	else if (chosen)
		cfg->exporters[signal] = chosen;
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
static void ks_batching_from_env(struct ks_otlp_batching *batching,
				 const char *prefix,
				 const struct ks_lookup *lookup)
{
	char name[KS_ENV_NAME_SIZE], label[KS_LABEL_SIZE];
	bool batch_given = false;

	for (size_t i = 0; i < sizeof(batch_vars) / sizeof(batch_vars[0]);
	     i++) {
		const struct ks_batch_var *var = &batch_vars[i];
		unsigned int *field =
			(unsigned int *)((char *)batching + var->offset);
		unsigned long number;
		const char *value;

		snprintf(name, sizeof(name), "%s_%s", prefix, var->suffix);
		value = ks_get(lookup, name, label);
		if (!value)
			continue;
		if (var->milliseconds) {
			ks_ms_setting(lookup, label, value, var->min, field);
		} else if (ks_parse_number(value, &number) ||
			   number < var->min || number > var->max) {
			ks_warning(lookup->cfg,
				   "%s='%s': not a whole number from %lu to "
				   "%lu; the default applies",
				   label, value, var->min, var->max);
		} else {
			*field = (unsigned int)number;
			batch_given |=
				var->offset == offsetof(struct ks_otlp_batching,
							max_export_batch_size);
		}
	}
	if (batching->max_export_batch_size <= batching->max_queue_size)
		return;
	/* A batch never exceeds the queue: the spec says it must not. */
	if (batch_given)
		ks_warning(lookup->cfg,
			   "%s_MAX_EXPORT_BATCH_SIZE=%u: larger than "
			   "%s_MAX_QUEUE_SIZE=%u; batches are that large",
			   prefix, batching->max_export_batch_size, prefix,
			   batching->max_queue_size);
	batching->max_export_batch_size = batching->max_queue_size;
}

static void ks_metric_timing_from_env(struct ks_otlp_config *cfg,
				      const struct ks_lookup *lookup)
{
	char label[KS_LABEL_SIZE];
	const char *value;

	value = ks_get(lookup, "OTEL_METRIC_EXPORT_INTERVAL", label);
	ks_ms_setting(lookup, label, value, 1, &cfg->metric_export_interval_ms);
	value = ks_get(lookup, "OTEL_METRIC_EXPORT_TIMEOUT", label);
	ks_ms_setting(lookup, label, value, 1,
		      &cfg->batching[KS_OTLP_METRICS].export_timeout_ms);
}

/*
 * A probability as people write one: digits with at most one point
 * ("0.25", "1", ".5"), like every other number of the settings; strtod()
 * alone would also take " 0.5", "0x1p-2" and "nan".
 */
static bool ks_is_plain_fraction(const char *text)
{
	size_t digits = strspn(text, "0123456789");
	const char *rest = text + digits;

	if (*rest == '.') {
		size_t decimals = strspn(rest + 1, "0123456789");

		digits += decimals;
		rest += 1 + decimals;
	}
	return digits && !*rest;
}

/*
 * OTEL_TRACES_SAMPLER and its argument: an unknown sampler, or an
 * argument a ratio sampler cannot use, is ignored with a warning.
 */
static void ks_sampler_from_env(struct ks_otlp_config *cfg,
				const struct ks_lookup *lookup)
{
	enum ks_sampler_kind kind = KS_SAMPLER_PARENTBASED_ALWAYS_ON;
	char label[KS_LABEL_SIZE], arg_label[KS_LABEL_SIZE];
	const char *name = ks_get(lookup, "OTEL_TRACES_SAMPLER", label);
	const char *arg = ks_get(lookup, "OTEL_TRACES_SAMPLER_ARG", arg_label);
	double ratio = 1.0;

	if (name && !ks_sampler_kind_parse(name, &kind))
		ks_warning(cfg,
			   "%s='%s': not a sampler knotscope has (always_on, "
			   "always_off, traceidratio, parentbased_always_on, "
			   "parentbased_always_off, parentbased_traceidratio); "
			   "parentbased_always_on applies",
			   label, name);
	if (name && arg &&
	    (kind == KS_SAMPLER_TRACEIDRATIO ||
	     kind == KS_SAMPLER_PARENTBASED_TRACEIDRATIO)) {
		errno = 0;
		ratio = ks_is_plain_fraction(arg) ? strtod(arg, NULL) : -1;
		if (errno || !(ratio >= 0 && ratio <= 1)) {
			ks_warning(cfg,
				   "%s='%s': not a probability from 0 to 1; 1 "
				   "applies",
				   arg_label, arg);
			ratio = 1.0;
		}
	}
	ks_sampler_init(&cfg->sampler, kind, ratio);
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
		cfg->exporters[signal] = KS_EXPORTER_OTLP;
	}
	cfg->batching[KS_OTLP_TRACES].schedule_delay_ms =
		KS_OTLP_DEFAULT_BSP_DELAY_MS;
	cfg->batching[KS_OTLP_LOGS].schedule_delay_ms =
		KS_OTLP_DEFAULT_BLRP_DELAY_MS;
	cfg->batching[KS_OTLP_METRICS].schedule_delay_ms = 0;
	cfg->metric_export_interval_ms = KS_OTLP_DEFAULT_METRIC_INTERVAL_MS;
	ks_sampler_init(&cfg->sampler, KS_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0);
}

/* Each signal's URL, from its endpoint (or the default) and protocol. */
static int ks_make_urls(struct ks_otlp_config *cfg, char *err, size_t err_size)
{
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_target *target = &cfg->target[signal];
		bool grpc = target->protocol == KS_OTLP_GRPC;
		const char *endpoint =
			target->endpoint ?:
					   (grpc ? KS_OTLP_DEFAULT_GRPC_ENDPOINT :
						   KS_OTLP_DEFAULT_ENDPOINT);
		char *url;

		if (grpc)
			url = ks_grpc_url(endpoint, signal, cfg->insecure);
		else if (target->endpoint_complete)
			url = strdup(endpoint);
		else
			url = ks_signal_url(endpoint, signal);
		if (!url)
			return ks_no_memory(err, err_size);
		/* Endpoints were checked as given; this is the whole URL. */
		if (!ks_is_http_url(url) || ks_unusable_url(url)) {
			free(url);
			return ks_bad_value(err, err_size, "endpoint", endpoint,
					    "not a usable http:// or https:// "
					    "URL");
		}
		free(target->url);
		target->url = url;
	}
	return 0;
}

/*
 * A signal without an endpoint of its own goes to the spec's default, as in
 * any OTel SDK; OTEL_<SIGNAL>_EXPORTER=none is how to silence it, and
 * OTEL_SDK_DISABLED=true silences them all.
 */
static void ks_config_settle(struct ks_otlp_config *cfg)
{
	cfg->enabled = false;
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		cfg->enabled |= cfg->endpoint_given[signal];
	cfg->enabled &= !cfg->sdk_disabled;
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++)
		cfg->target[signal].enabled =
			cfg->enabled &&
			(cfg->exporters[signal] & KS_EXPORTER_OTLP);
}

/*
 * The agent's own resource.  Attributes that do not decode are discarded
 * whole with a warning, as the resource SDK specification says.
 */
static int ks_resource_from_env(struct ks_otlp_config *cfg,
				const struct ks_lookup *lookup, char *err,
				size_t err_size)
{
	char label[KS_LABEL_SIZE], why[KS_OTLP_ERR_SIZE];
	const char *value = ks_get(lookup, "OTEL_RESOURCE_ATTRIBUTES", label);
	int ret;

	if (value) {
		ret = ks_otlp_pairs_parse(label, value, &cfg->resource_attrs,
					  why, sizeof(why));
		if (ret == -ENOMEM)
			return ks_no_memory(err, err_size);
		if (ret) {
			ks_otlp_pairs_free(&cfg->resource_attrs);
			ks_warning(cfg, "%s; discarded whole", why);
		}
	}
	value = ks_get(lookup, "OTEL_SERVICE_NAME", label);
	cfg->service_name = strdup(value ?: KS_OTLP_DEFAULT_SERVICE_NAME);
	return cfg->service_name ? 0 : ks_no_memory(err, err_size);
}

int ks_otlp_config_from_env(struct ks_otlp_config *cfg, ks_getenv_fn env,
			    const struct ks_otlp_presets *presets, char *err,
			    size_t err_size)
{
	struct ks_lookup lookup = { env, presets, cfg };
	int ret;

	ks_config_defaults(cfg);
	cfg->sdk_disabled = ks_bool_setting(&lookup, "OTEL_SDK_DISABLED");
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		ret = ks_target_from_env(cfg, signal, &lookup, err, err_size);
		if (ret)
			goto cleanup;
		ks_exporter_choice(cfg, signal, &lookup);
	}
	ks_batching_from_env(&cfg->batching[KS_OTLP_TRACES], "OTEL_BSP",
			     &lookup);
	ks_batching_from_env(&cfg->batching[KS_OTLP_LOGS], "OTEL_BLRP",
			     &lookup);
	ks_metric_timing_from_env(cfg, &lookup);
	ks_sampler_from_env(cfg, &lookup);
	ret = ks_resource_from_env(cfg, &lookup, err, err_size);
	cfg->insecure = ks_bool_setting(&lookup, "OTEL_EXPORTER_OTLP_INSECURE");
	if (!ret)
		ret = ks_make_urls(cfg, err, err_size);
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
	enum ks_otlp_protocol protocol = KS_OTLP_HTTP_PROTOBUF;
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
	if (cli->protocol) {
		ret = ks_protocol_parse("--otlp-protocol", cli->protocol,
					&protocol, err, err_size);
		if (ret)
			return ret;
	}
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_target *target = &cfg->target[signal];

		if (cli->protocol)
			target->protocol = protocol;
		if (cli->endpoint) {
			ret = ks_set_endpoint(target, "--otlp-endpoint",
					      cli->endpoint, false, err,
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
	ret = ks_make_urls(cfg, err, err_size);
	if (!ret)
		ks_config_settle(cfg);
	return ret;
}

void ks_otlp_config_free(struct ks_otlp_config *cfg)
{
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		struct ks_otlp_target *target = &cfg->target[signal];

		free(target->url);
		free(target->endpoint);
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

bool ks_otlp_config_knows(const char *name)
{
	static const char *const exporter_parts[] = {
		"ENDPOINT",	      "HEADERS",     "TIMEOUT",
		"COMPRESSION",	      "CERTIFICATE", "CLIENT_KEY",
		"CLIENT_CERTIFICATE", "PROTOCOL",
	};
	static const char *const others[] = {
		"OTEL_SDK_DISABLED",	       "OTEL_SERVICE_NAME",
		"OTEL_RESOURCE_ATTRIBUTES",    "OTEL_TRACES_SAMPLER",
		"OTEL_TRACES_SAMPLER_ARG",     "OTEL_TRACES_EXPORTER",
		"OTEL_METRICS_EXPORTER",       "OTEL_LOGS_EXPORTER",
		"OTEL_METRIC_EXPORT_INTERVAL", "OTEL_METRIC_EXPORT_TIMEOUT",
		"OTEL_EXPORTER_OTLP_INSECURE",
	};
	char known[KS_ENV_NAME_SIZE];

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (!strcmp(name, others[i]))
			return true;
	for (size_t i = 0; i < sizeof(batch_vars) / sizeof(batch_vars[0]);
	     i++) {
		snprintf(known, sizeof(known), "OTEL_BSP_%s",
			 batch_vars[i].suffix);
		if (!strcmp(name, known))
			return true;
		snprintf(known, sizeof(known), "OTEL_BLRP_%s",
			 batch_vars[i].suffix);
		if (!strcmp(name, known))
			return true;
	}
	for (size_t i = 0; i < 8; i++) {
		snprintf(known, sizeof(known), "OTEL_EXPORTER_OTLP_%s",
			 exporter_parts[i]);
		if (!strcmp(name, known))
			return true;
		for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
			snprintf(known, sizeof(known),
				 "OTEL_EXPORTER_OTLP_%s_%s",
				 signal_env_parts[s], exporter_parts[i]);
			if (!strcmp(name, known))
				return true;
		}
	}
	return false;
}
