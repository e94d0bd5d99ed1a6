// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "report/json_build.h"

void ks_json_add(json_object *obj, const char *key, json_object *value)
{
	if (!obj || json_object_object_add(obj, key, value))
		json_object_put(value);
}

void ks_json_push(json_object *array, json_object *value)
{
	if (!array || json_object_array_add(array, value))
		json_object_put(value);
}
