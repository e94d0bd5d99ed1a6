/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The configuration file (--config FILE): every option in one YAML
 * mapping, read with libyaml, documented by docs/config.schema.json.
 *
 * Its keys are the long options' names, with their values: a string or a
 * number for an option that takes one, a list of them for one that
 * repeats (a single value is a list of one), true or false for a flag.
 * The otlp-* keys and the otel mapping (OTEL_* variable: value) are the
 * OTLP settings, which lie below the environment: an OTEL_* variable
 * overrides them, and --otlp-* options override both.  Every other key
 * is overridden by its option on the command line (a repeated option
 * replaces the file's list).  An unknown key, a key given twice or a
 * value of the wrong shape is an error naming the file and the line.
 */
#ifndef KS_CONFIG_FILE_H
#define KS_CONFIG_FILE_H

#include <stdio.h>

#include "run/options.h"

/*
 * Applies the file at path to opts (defaults in place, the command line
 * not yet).  KS_PARSE_RUN, or KS_PARSE_ERROR after a message to err.
 */
enum ks_parse_result ks_config_file_load(const char *path,
					 struct ks_options *opts, FILE *err);

#endif /* KS_CONFIG_FILE_H */
