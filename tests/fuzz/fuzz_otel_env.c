// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Arbitrary bytes as the agent's OTEL_* environment, its configuration
 * file's OTEL_* settings and --otlp-* options: "NAME=value" lines, a line
 * starting with "file:" a setting of the file, one starting with
 * "--otlp-header=", "--otlp-endpoint=" or "--otlp-protocol=" an option.
 * Settings that pass validation are ones the transport can put on the
 * wire as they are; those that do not say why, and leave nothing to free.
 */
#include <string.h>

#include "fuzz.h"
#include "otlp/otlp_config.h"

#define MAX_VARS 32

static struct {
	char *name;
	char *value;
} vars[MAX_VARS];
static size_t nr_vars;
static struct ks_otlp_preset presets[MAX_VARS];

static char *fake_getenv(const char *name)
{
	for (size_t i = 0; i < nr_vars; i++)
		if (!strcmp(vars[i].name, name))
			return vars[i].value;
	return NULL;
}

static void check_header(const struct ks_otlp_pair *header)
{
	CHECK(*header->name);
	for (const unsigned char *c = (const unsigned char *)header->name; *c;
	     c++)
		CHECK(*c > ' ' && *c < 0x7f && *c != ':');
	for (const char *c = header->value; *c; c++)
		CHECK(*c != '\r' && *c != '\n');
	CHECK(strcasecmp(header->name, "content-length") &&
	      strcasecmp(header->name, "transfer-encoding") &&
	      strcasecmp(header->name, "host") &&
	      strncasecmp(header->name, "grpc-", 5));
}

static void check_config(const struct ks_otlp_config *cfg)
{
	CHECK(cfg->service_name);
	CHECK(cfg->resource_attrs.nr <= KS_OTLP_MAX_PAIRS);
	for (int s = 0; s < KS_OTLP_NR_SIGNALS; s++) {
		const struct ks_otlp_target *target = &cfg->target[s];
		const struct ks_otlp_batching *batching = &cfg->batching[s];

		CHECK(target->url);
		CHECK(!strncasecmp(target->url, "http://", 7) ||
		      !strncasecmp(target->url, "https://", 8));
		/* No blanks or controls: nothing that ends the request line. */
		for (const unsigned char *c =
			     (const unsigned char *)target->url;
		     *c; c++)
			CHECK(*c > ' ' && *c != 0x7f);
		CHECK(target->timeout_ms > 0);
		CHECK(target->headers.nr <= KS_OTLP_MAX_PAIRS);
		for (size_t i = 0; i < target->headers.nr; i++)
			check_header(&target->headers.items[i]);
		CHECK(batching->max_export_batch_size <=
		      batching->max_queue_size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *headers[8];
	struct ks_otlp_cli cli = { .headers = headers };
	struct ks_otlp_presets file = { .items = presets };
	struct ks_otlp_config cfg;
	char err[KS_OTLP_ERR_SIZE];
	char *text = malloc(size + 1), *line, *save = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	nr_vars = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *equals = strchr(line, '=');

		if (!strncmp(line, "--otlp-header=", 14) && cli.nr_headers < 8)
			headers[cli.nr_headers++] = line + 14;
		else if (!strncmp(line, "--otlp-endpoint=", 16))
			cli.endpoint = line + 16;
		else if (!strncmp(line, "--otlp-protocol=", 16))
			cli.protocol = line + 16;
		else if (!strncmp(line, "file:", 5) && equals &&
			 file.nr < MAX_VARS) {
			*equals = '\0';
			presets[file.nr].name = line + 5;
			presets[file.nr].origin = "file";
			presets[file.nr++].value = equals + 1;
		} else if (equals && nr_vars < MAX_VARS) {
			*equals = '\0';
			vars[nr_vars].name = line;
			vars[nr_vars++].value = equals + 1;
		}
	}
	err[0] = '\0';
	if (ks_otlp_config_from_env(&cfg, fake_getenv, &file, err,
				    sizeof(err))) {
		CHECK(err[0]);
		goto cleanup;
	}
	check_config(&cfg);
	if (ks_otlp_config_apply_cli(&cfg, &cli, err, sizeof(err)))
		CHECK(err[0]);
	else
		check_config(&cfg);
	ks_otlp_config_free(&cfg);
cleanup:
	free(text);
	return 0;
}
