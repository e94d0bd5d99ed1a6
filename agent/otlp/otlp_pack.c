// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/version.h"
#include "otlp/otlp_pack.h"

/* Field numbers the three signals' messages have in common. */
enum {
	KS_FIELD_RESOURCE_ITEMS = 1, /* Export*ServiceRequest.resource_* */
	KS_FIELD_RESOURCE = 1, /* Resource*.resource */
	KS_FIELD_SCOPE_ITEMS = 2, /* Resource*.scope_* */
	KS_FIELD_SCOPE = 1, /* Scope*.scope */
	KS_FIELD_ITEMS = 2, /* Scope*.spans, .log_records or .metrics */
	KS_FIELD_PARTIAL_SUCCESS = 1, /* Export*ServiceResponse */
	KS_FIELD_REJECTED = 1, /* Export*PartialSuccess.rejected_* */
	KS_FIELD_ERROR_MESSAGE = 2, /* Export*PartialSuccess */
};

struct ks_signal_messages {
	const ProtobufCMessageDescriptor *request;
	const ProtobufCMessageDescriptor *resource_items;
	const ProtobufCMessageDescriptor *scope_items;
	const ProtobufCMessageDescriptor *response;
};

static const struct ks_signal_messages signal_messages[KS_OTLP_NR_SIGNALS] = {
	[KS_OTLP_TRACES] = {
		&opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor,
		&opentelemetry__proto__trace__v1__resource_spans__descriptor,
		&opentelemetry__proto__trace__v1__scope_spans__descriptor,
		&opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor,
	},
	[KS_OTLP_METRICS] = {
		&opentelemetry__proto__collector__metrics__v1__export_metrics_service_request__descriptor,
		&opentelemetry__proto__metrics__v1__resource_metrics__descriptor,
		&opentelemetry__proto__metrics__v1__scope_metrics__descriptor,
		&opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor,
	},
	[KS_OTLP_LOGS] = {
		&opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor,
		&opentelemetry__proto__logs__v1__resource_logs__descriptor,
		&opentelemetry__proto__logs__v1__scope_logs__descriptor,
		&opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor,
	},
};

/* Where field id of message lives, and its count for a repeated field. */
static void *ks_field(const void *message, unsigned int id, size_t **count)
{
	const ProtobufCMessage *base = message;
	const ProtobufCFieldDescriptor *field =
		protobuf_c_message_descriptor_get_field(base->descriptor, id);

	if (count)
		*count = (size_t *)((char *)message + field->quantifier_offset);
	return (char *)message + field->offset;
}

static void ks_set_repeated(void *message, unsigned int id, const void *array,
			    size_t nr)
{
	size_t *count;
	const void **field = ks_field(message, id, &count);

	*field = array;
	*count = nr;
}

static void ks_set_message(void *message, unsigned int id, const void *value)
{
	const void **field = ks_field(message, id, NULL);

	*field = value;
}

/*
 * The containers of a request under construction.  They point at records'
 * items and resources without owning them, so they are freed as plain
 * memory, never with protobuf_c_message_free_unpacked().
 */
struct ks_request_tree {
	void *request;
	char *resource_items; /* nr_groups messages, back to back */
	char *scope_items;
	void **resource_ptrs;
	void **scope_ptrs;
	const ProtobufCMessage **items; /* grouped by resource */
	const struct ks_otlp_resource **group_resource;
	size_t *group_of; /* per record */
	size_t *group_start; /* per group: first slot in items */
	size_t *group_fill;
	size_t nr_groups;
};

static void ks_tree_free(struct ks_request_tree *tree)
{
	free(tree->request);
	free(tree->resource_items);
	free(tree->scope_items);
	free(tree->resource_ptrs);
	free(tree->scope_ptrs);
	free(tree->items);
	free(tree->group_resource);
	free(tree->group_of);
	free(tree->group_start);
	free(tree->group_fill);
}

static int ks_tree_alloc(struct ks_request_tree *tree,
			 const struct ks_signal_messages *messages, size_t nr)
{
	/* At most one group per record; a few wasted bytes save a pass. */
	size_t slots = nr ? nr : 1;

	tree->request = malloc(messages->request->sizeof_message);
	tree->resource_items =
		calloc(slots, messages->resource_items->sizeof_message);
	tree->scope_items =
		calloc(slots, messages->scope_items->sizeof_message);
	tree->resource_ptrs = calloc(slots, sizeof(void *));
	tree->scope_ptrs = calloc(slots, sizeof(void *));
	tree->items = calloc(slots, sizeof(*tree->items));
	tree->group_resource = calloc(slots, sizeof(*tree->group_resource));
	tree->group_of = calloc(slots, sizeof(size_t));
	tree->group_start = calloc(slots, sizeof(size_t));
	tree->group_fill = calloc(slots, sizeof(size_t));
	if (!tree->request || !tree->resource_items || !tree->scope_items ||
	    !tree->resource_ptrs || !tree->scope_ptrs || !tree->items ||
	    !tree->group_resource || !tree->group_of || !tree->group_start ||
	    !tree->group_fill)
		return -ENOMEM;
	return 0;
}

/* Groups records by resource, first-seen order, items in original order. */
static void ks_tree_group(struct ks_request_tree *tree,
			  const struct ks_otlp_record *records, size_t nr)
{
	size_t next = 0;

	for (size_t i = 0; i < nr; i++) {
		size_t group = 0;

		while (group < tree->nr_groups &&
		       tree->group_resource[group] != records[i].resource)
			group++;
		if (group == tree->nr_groups)
			tree->group_resource[tree->nr_groups++] =
				records[i].resource;
		tree->group_of[i] = group;
		tree->group_fill[group]++;
	}
	for (size_t group = 0; group < tree->nr_groups; group++) {
		tree->group_start[group] = next;
		next += tree->group_fill[group];
		tree->group_fill[group] = 0;
	}
	for (size_t i = 0; i < nr; i++) {
		size_t group = tree->group_of[i];

		tree->items[tree->group_start[group] +
			    tree->group_fill[group]++] = records[i].item;
	}
}

static void ks_tree_link(struct ks_request_tree *tree,
			 const struct ks_signal_messages *messages,
			 const void *scope)
{
	size_t resource_size = messages->resource_items->sizeof_message;
	size_t scope_size = messages->scope_items->sizeof_message;

	for (size_t group = 0; group < tree->nr_groups; group++) {
		void *resource_items =
			tree->resource_items + group * resource_size;
		void *scope_items = tree->scope_items + group * scope_size;

		protobuf_c_message_init(messages->scope_items, scope_items);
		ks_set_message(scope_items, KS_FIELD_SCOPE, scope);
		ks_set_repeated(scope_items, KS_FIELD_ITEMS,
				&tree->items[tree->group_start[group]],
				tree->group_fill[group]);
		tree->scope_ptrs[group] = scope_items;

		protobuf_c_message_init(messages->resource_items,
					resource_items);
		ks_set_message(
			resource_items, KS_FIELD_RESOURCE,
			ks_otlp_resource_message(tree->group_resource[group]));
		ks_set_repeated(resource_items, KS_FIELD_SCOPE_ITEMS,
				&tree->scope_ptrs[group], 1);
		tree->resource_ptrs[group] = resource_items;
	}
	protobuf_c_message_init(messages->request, tree->request);
	ks_set_repeated(tree->request, KS_FIELD_RESOURCE_ITEMS,
			tree->resource_ptrs, tree->nr_groups);
}

int ks_otlp_pack_request(enum ks_otlp_signal signal,
			 const struct ks_otlp_record *records, size_t nr,
			 size_t max_len, uint8_t **out, size_t *out_len)
{
	const struct ks_signal_messages *messages = &signal_messages[signal];
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
		OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;
	struct ks_request_tree tree = { 0 };
	uint8_t *encoded;
	size_t len;
	int ret;

	/* Only read while packing, never freed: literals are fine. */
	scope.name = (char *)"knotscope";
	scope.version = (char *)KS_VERSION;
	ret = ks_tree_alloc(&tree, messages, nr);
	if (ret)
		goto cleanup;
	ks_tree_group(&tree, records, nr);
	ks_tree_link(&tree, messages, &scope);
	len = protobuf_c_message_get_packed_size(tree.request);
	if (len > max_len) {
		ret = -E2BIG;
		goto cleanup;
	}
	encoded = malloc(len ? len : 1);
	if (!encoded) {
		ret = -ENOMEM;
		goto cleanup;
	}
	*out_len = protobuf_c_message_pack(tree.request, encoded);
	*out = encoded;
cleanup:
	ks_tree_free(&tree);
	return ret;
}

int64_t ks_otlp_rejected_items(enum ks_otlp_signal signal, const uint8_t *body,
			       size_t len, char *message, size_t message_size)
{
	ProtobufCMessage *response, **partial;
	int64_t rejected = 0;

	if (message_size)
		message[0] = '\0';
	response = protobuf_c_message_unpack(signal_messages[signal].response,
					     NULL, len, body);
	if (!response)
		return -1;
	partial = ks_field(response, KS_FIELD_PARTIAL_SUCCESS, NULL);
	if (*partial) {
		const char *const *error =
			ks_field(*partial, KS_FIELD_ERROR_MESSAGE, NULL);

		rejected = *(const int64_t *)ks_field(*partial,
						      KS_FIELD_REJECTED, NULL);
		snprintf(message, message_size, "%s", *error);
	}
	protobuf_c_message_free_unpacked(response, NULL);
	/* A negative count is nonsense: treat it as none rejected. */
	return rejected > 0 ? rejected : 0;
}
