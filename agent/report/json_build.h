/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Building JSON trees that survive running out of memory.
 *
 * json-c's constructors return NULL when memory runs out, and json-c
 * aborts on an add to a NULL object or array: every JSON tree here is
 * built with these, which never do.  A value that could not be made
 * shows as null; a record that could not be made at all is counted as
 * lost (ks_json_sink_lost()).
 */
#ifndef KS_JSON_BUILD_H
#define KS_JSON_BUILD_H

#include <json-c/json.h>

void ks_json_add(json_object *obj, const char *key, json_object *value);
void ks_json_push(json_object *array, json_object *value);

#endif /* KS_JSON_BUILD_H */
