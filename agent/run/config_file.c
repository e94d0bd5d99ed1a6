// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "run/config_file.h"

/* Keys that are not options of the file: they only make sense typed. */
static const char *const command_line_only[] = {
	"config",
	"check-config",
	"help",
	"version",
};

/* The --otlp-* options, and the variable each stands for in the file. */
static const struct {
	const char *key;
	const char *variable;
} otlp_keys[] = {
	{ "otlp-endpoint", "OTEL_EXPORTER_OTLP_ENDPOINT" },
	{ "otlp-header", "OTEL_EXPORTER_OTLP_HEADERS" },
	{ "otlp-compression", "OTEL_EXPORTER_OTLP_COMPRESSION" },
	{ "otlp-timeout-ms", "OTEL_EXPORTER_OTLP_TIMEOUT" },
	{ "otlp-protocol", "OTEL_EXPORTER_OTLP_PROTOCOL" },
};

/* Options that may be given more than once: a list in the file. */
static const char *const repeatable[] = {
	"pid", "comm", "precise", "http-route", "otlp-header",
};

struct ks_reader {
	const char *path;
	yaml_document_t doc;
	struct ks_options *opts;
	FILE *err;
};

static enum ks_parse_result ks_fail(const struct ks_reader *r,
				    const yaml_node_t *node, const char *fmt,
				    ...) __attribute__((format(printf, 3, 4)));

static enum ks_parse_result ks_fail(const struct ks_reader *r,
				    const yaml_node_t *node, const char *fmt,
				    ...)
{
	va_list ap;

	fprintf(r->err, "knotscope: %s:%zu: ", r->path,
		node->start_mark.line + 1);
	va_start(ap, fmt);
	vfprintf(r->err, fmt, ap);
	va_end(ap);
	fputc('\n', r->err);
	return KS_PARSE_ERROR;
}

static bool ks_in(const char *word, const char *const *list, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (!strcmp(word, list[i]))
			return true;
	return false;
}

static const char *ks_scalar(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE ?
		       (const char *)node->data.scalar.value :
		       NULL;
}

/* A string the options keep: owned by them, freed with them. */
static const char *ks_keep(struct ks_options *opts, const char *text)
{
	char **grown = realloc(opts->owned,
			       (opts->nr_owned + 1) * sizeof(*opts->owned));
	char *copy = strdup(text);

	if (!grown || !copy) {
		free(copy);
		if (grown)
			opts->owned = grown;
		return NULL;
	}
	opts->owned = grown;
	opts->owned[opts->nr_owned++] = copy;
	return copy;
}

static enum ks_parse_result ks_no_memory(const struct ks_reader *r)
{
	fprintf(r->err, "knotscope: %s: out of memory\n", r->path);
	return KS_PARSE_ERROR;
}

/* An OTLP setting, below the environment: a preset of its variable. */
static enum ks_parse_result
ks_add_preset(struct ks_reader *r, const char *variable, const char *value,
	      const yaml_node_t *node, const char *key)
{
	struct ks_options *opts = r->opts;
	struct ks_otlp_preset *grown;
	const char *name, *kept, *origin;
	char text[512];

	snprintf(text, sizeof(text), "%s:%zu: %s", r->path,
		 node->start_mark.line + 1, key);
	name = ks_keep(opts, variable);
	kept = ks_keep(opts, value);
	origin = ks_keep(opts, text);
	grown = realloc(opts->otlp_presets,
			(opts->nr_otlp_presets + 1) * sizeof(*grown));
	if (!name || !kept || !origin || !grown)
		return ks_no_memory(r);
	opts->otlp_presets = grown;
	grown[opts->nr_otlp_presets++] =
		(struct ks_otlp_preset){ name, kept, origin };
	return KS_PARSE_RUN;
}

/*
 * OTEL_EXPORTER_OTLP_HEADERS from the file's list of name=value (or
 * mapping of name: value): values percent-encoded, as the variable has
 * them, so commas and percent signs in them survive.
 */
static enum ks_parse_result ks_headers_preset(struct ks_reader *r,
					      const yaml_node_t *value,
					      const char *key)
{
	char *list = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&list, &len);
	enum ks_parse_result result;
	bool first = true;

	if (!out)
		return ks_no_memory(r);
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     value->type == YAML_SEQUENCE_NODE &&
	     item < value->data.sequence.items.top;
	     item++) {
		const char *text =
			ks_scalar(yaml_document_get_node(&r->doc, *item));
		const char *equals = text ? strchr(text, '=') : NULL;

		if (!equals || equals == text) {
			fclose(out);
			free(list);
			return ks_fail(r, value,
				       "%s: not a list of name=value headers",
				       key);
		}
		fprintf(out, "%s%.*s=", first ? "" : ",", (int)(equals - text),
			text);
		for (const char *c = equals + 1; *c; c++)
			fprintf(out, *c == ',' || *c == '%' ? "%%%02X" : "%c",
				(unsigned char)*c);
		first = false;
	}
	fclose(out);
	result = ks_add_preset(r, "OTEL_EXPORTER_OTLP_HEADERS", list, value,
			       key);
	free(list);
	return result;
}

/* otel: a mapping of the OTEL_* variables the agent reads. */
static enum ks_parse_result ks_otel_mapping(struct ks_reader *r,
					    const yaml_node_t *mapping)
{
	enum ks_parse_result result = KS_PARSE_RUN;

	if (mapping->type != YAML_MAPPING_NODE)
		return ks_fail(r, mapping,
			       "otel: not a mapping of OTEL_* variables");
	for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
	     pair < mapping->data.mapping.pairs.top && result == KS_PARSE_RUN;
	     pair++) {
		yaml_node_t *key = yaml_document_get_node(&r->doc, pair->key);
		yaml_node_t *value =
			yaml_document_get_node(&r->doc, pair->value);
		const char *name = ks_scalar(key), *text = ks_scalar(value);
		char label[128];

		if (!name || !ks_otlp_config_knows(name))
			return ks_fail(r, key,
				       "otel: unknown variable '%s' (not one "
				       "the agent reads)",
				       name ? name : "?");
		if (!text)
			return ks_fail(r, value, "otel.%s: not a value", name);
		snprintf(label, sizeof(label), "otel.%s", name);
		result = ks_add_preset(r, name, text, value, label);
	}
	return result;
}

static enum ks_parse_result ks_option_value(struct ks_reader *r,
					    const char *key, int id,
					    const yaml_node_t *node,
					    const char *text)
{
	char label[320];

	snprintf(label, sizeof(label), "%s:%zu: %s", r->path,
		 node->start_mark.line + 1, key);
	text = ks_keep(r->opts, text);
	if (!text)
		return ks_no_memory(r);
	return ks_option_set(r->opts, id, text, label, r->err);
}

/* verbose: true, or a count. */
static enum ks_parse_result ks_verbosity(struct ks_reader *r,
					 const yaml_node_t *node)
{
	const char *text = ks_scalar(node);
	char *end;
	long level;

	if (text && !strcmp(text, "true"))
		level = 1;
	else if (text && !strcmp(text, "false"))
		level = 0;
	else if (text && (level = strtol(text, &end, 10), !*end) &&
		 level >= 0 && level <= 2)
		;
	else
		return ks_fail(r, node, "verbose: not true, false, 0, 1 or 2");
	r->opts->verbosity = (int)level;
	return KS_PARSE_RUN;
}

/* One key of the top-level mapping, and its value. */
static enum ks_parse_result ks_entry(struct ks_reader *r,
				     const yaml_node_t *key_node,
				     const yaml_node_t *value)
{
	const char *key = ks_scalar(key_node), *text = ks_scalar(value);
	enum ks_parse_result result = KS_PARSE_RUN;
	bool takes_value;
	int id;

	if (!key)
		return ks_fail(r, key_node, "a key must be a plain name");
	if (!strcmp(key, "otel"))
		return ks_otel_mapping(r, value);
	if (!strcmp(key, "verbose"))
		return ks_verbosity(r, value);
	id = ks_option_id(key, &takes_value);
	if (!id || ks_in(key, command_line_only, 4))
		return ks_fail(r, key_node, "unknown key '%s'", key);
	if (!takes_value) {
		if (!text || (strcmp(text, "true") && strcmp(text, "false")))
			return ks_fail(r, value, "%s: not true or false", key);
		return strcmp(text, "true") ?
			       KS_PARSE_RUN :
			       ks_option_set(r->opts, id, NULL, key, r->err);
	}
	if (!strcmp(key, "otlp-header"))
		return ks_headers_preset(r, value, key);
	if (value->type == YAML_SEQUENCE_NODE) {
		if (!ks_in(key, repeatable,
			   sizeof(repeatable) / sizeof(repeatable[0])))
			return ks_fail(r, value, "%s: one value, not a list",
				       key);
		for (yaml_node_item_t *item = value->data.sequence.items.start;
		     item < value->data.sequence.items.top &&
		     result == KS_PARSE_RUN;
		     item++) {
			const yaml_node_t *node =
				yaml_document_get_node(&r->doc, *item);

			if (!ks_scalar(node))
				return ks_fail(r, node, "%s: not a value", key);
			result = ks_option_value(r, key, id, node,
						 ks_scalar(node));
		}
		return result;
	}
	if (!text || !*text)
		return ks_fail(r, value, "%s: not a value", key);
	for (size_t i = 0; i < sizeof(otlp_keys) / sizeof(otlp_keys[0]); i++)
		if (!strcmp(key, otlp_keys[i].key))
			return ks_add_preset(r, otlp_keys[i].variable, text,
					     value, key);
	return ks_option_value(r, key, id, value, text);
}

static enum ks_parse_result ks_mapping(struct ks_reader *r,
				       const yaml_node_t *root)
{
	enum ks_parse_result result = KS_PARSE_RUN;

	if (!root)
		return KS_PARSE_RUN; /* an empty file: nothing to set */
	if (root->type != YAML_MAPPING_NODE)
		return ks_fail(r, root, "not a mapping of options");
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top && result == KS_PARSE_RUN;
	     pair++) {
		yaml_node_t *key = yaml_document_get_node(&r->doc, pair->key);

		/* YAML wants keys unique; libyaml leaves that to us. */
		for (yaml_node_pair_t *seen = root->data.mapping.pairs.start;
		     seen < pair; seen++) {
			const char *earlier = ks_scalar(
				yaml_document_get_node(&r->doc, seen->key));

			if (earlier && ks_scalar(key) &&
			    !strcmp(earlier, ks_scalar(key)))
				return ks_fail(r, key, "'%s' given twice",
					       earlier);
		}
		result = ks_entry(r, key,
				  yaml_document_get_node(&r->doc, pair->value));
	}
	return result;
}

enum ks_parse_result ks_config_file_load(const char *path,
					 struct ks_options *opts, FILE *err)
{
	struct ks_reader r = { .path = path, .opts = opts, .err = err };
	enum ks_parse_result result = KS_PARSE_ERROR;
	yaml_parser_t parser;
	FILE *file = fopen(path, "r");

	if (!file) {
		fprintf(err, "knotscope: --config %s: %s\n", path,
			strerror(errno));
		return KS_PARSE_ERROR;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(file);
		fprintf(err, "knotscope: %s: out of memory\n", path);
		return KS_PARSE_ERROR;
	}
	yaml_parser_set_input_file(&parser, file);
	if (!yaml_parser_load(&parser, &r.doc)) {
		fprintf(err, "knotscope: %s:%zu: not YAML: %s\n", path,
			parser.problem_mark.line + 1,
			parser.problem ? parser.problem : "unreadable");
		goto cleanup;
	}
	result = ks_mapping(&r, yaml_document_get_root_node(&r.doc));
	yaml_document_delete(&r.doc);
cleanup:
	yaml_parser_delete(&parser);
	fclose(file);
	return result;
}
