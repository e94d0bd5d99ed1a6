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
	KS_FIELD_SCHEMA_URL = 3, /* Resource*.schema_url, Scope*.schema_url */
	KS_FIELD_PARTIAL_SUCCESS = 1, /* Export*ServiceResponse */
	KS_FIELD_REJECTED = 1, /* Export*PartialSuccess.rejected_* */
	KS_FIELD_ERROR_MESSAGE = 2, /* Export*PartialSuccess */
};

const struct ks_otlp_scope ks_otlp_default_scope = {
	.name = "knotscope",
	.version = KS_VERSION,
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
 * items, resources and scopes without owning them, so they are freed as
 * plain memory, never with protobuf_c_message_free_unpacked().
 *
 * A group is the items of one (resource, scope) pair; groups are ordered
 * by resource (first seen first), then by first appearance, so that each
 * resource's scope_* entries are one slice of scope_ptrs.
 */
struct ks_request_tree {
	void *request;
	char *resource_items; /* nr_resources messages, back to back */
	char *scope_items; /* nr_groups messages */
	Opentelemetry__Proto__Common__V1__InstrumentationScope *scopes;
	void **resource_ptrs;
	void **scope_ptrs;
	const ProtobufCMessage **items; /* grouped */
	const struct ks_otlp_resource **group_resource;
	const struct ks_otlp_scope **group_scope;
	size_t *group_of; /* per record */
	size_t *group_start; /* per group: first slot in items */
	size_t *group_fill;
	size_t *group_rank; /* per group: its resource, first seen first */
	size_t *order; /* groups by resource, then first seen */
	size_t *resource_groups; /* per resource: how many groups */
	size_t nr_groups;
	size_t nr_resources;
};

static void ks_tree_free(struct ks_request_tree *tree)
{
	free(tree->request);
	free(tree->resource_items);
	free(tree->scope_items);
	free(tree->scopes);
	free(tree->resource_ptrs);
	free(tree->scope_ptrs);
	free(tree->items);
	free(tree->group_resource);
	free(tree->group_scope);
	free(tree->group_of);
	free(tree->group_start);
	free(tree->group_fill);
	free(tree->group_rank);
	free(tree->order);
	free(tree->resource_groups);
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
	tree->scopes = calloc(slots, sizeof(*tree->scopes));
	tree->resource_ptrs = calloc(slots, sizeof(void *));
	tree->scope_ptrs = calloc(slots, sizeof(void *));
	tree->items = calloc(slots, sizeof(*tree->items));
	tree->group_resource = calloc(slots, sizeof(*tree->group_resource));
	tree->group_scope = calloc(slots, sizeof(*tree->group_scope));
	tree->group_of = calloc(slots, sizeof(size_t));
	tree->group_start = calloc(slots, sizeof(size_t));
	tree->group_fill = calloc(slots, sizeof(size_t));
	tree->group_rank = calloc(slots, sizeof(size_t));
	tree->order = calloc(slots, sizeof(size_t));
	tree->resource_groups = calloc(slots, sizeof(size_t));
	if (!tree->request || !tree->resource_items || !tree->scope_items ||
	    !tree->scopes || !tree->resource_ptrs || !tree->scope_ptrs ||
	    !tree->items || !tree->group_resource || !tree->group_scope ||
	    !tree->group_of || !tree->group_start || !tree->group_fill ||
	    !tree->group_rank || !tree->order || !tree->resource_groups)
		return -ENOMEM;
	return 0;
}

/* The group of a record's (resource, scope), made when first seen. */
static size_t ks_tree_group_of(struct ks_request_tree *tree,
			       const struct ks_otlp_record *record)
{
	const struct ks_otlp_scope *scope =
		record->scope ?: &ks_otlp_default_scope;
	size_t group = 0, rank = 0;

	while (group < tree->nr_groups &&
	       (tree->group_resource[group] != record->resource ||
		tree->group_scope[group] != scope))
		group++;
	if (group < tree->nr_groups)
		return group;
	while (rank < tree->nr_groups &&
	       tree->group_resource[rank] != record->resource)
		rank++;
	tree->group_rank[group] = rank < tree->nr_groups ?
					  tree->group_rank[rank] :
					  tree->nr_resources++;
	tree->resource_groups[tree->group_rank[group]]++;
	tree->group_resource[group] = record->resource;
	tree->group_scope[group] = scope;
	tree->nr_groups++;
	return group;
}

/* Groups records, orders groups by resource, items in original order. */
static void ks_tree_group(struct ks_request_tree *tree,
			  const struct ks_otlp_record *records, size_t nr)
{
	size_t next = 0;

	for (size_t i = 0; i < nr; i++) {
		tree->group_of[i] = ks_tree_group_of(tree, &records[i]);
		tree->group_fill[tree->group_of[i]]++;
	}
	/* Resources are ranked first seen first: ranks ascend in order. */
	for (size_t rank = 0; rank < tree->nr_resources; rank++)
		for (size_t group = 0; group < tree->nr_groups; group++)
			if (tree->group_rank[group] == rank)
				tree->order[next++] = group;
	next = 0;
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

/* A string field: only read while packing, so a const pointer will do. */
static void ks_set_string(void *message, unsigned int id, const char *value)
{
	if (value)
		ks_set_message(message, id, value);
}

static void ks_tree_link(struct ks_request_tree *tree,
			 const struct ks_signal_messages *messages)
{
	size_t resource_size = messages->resource_items->sizeof_message;
	size_t scope_size = messages->scope_items->sizeof_message;
	size_t slot = 0;

	for (size_t i = 0; i < tree->nr_groups; i++) {
		size_t group = tree->order[i];
		const struct ks_otlp_scope *scope = tree->group_scope[group];
		void *scope_items = tree->scope_items + i * scope_size;

		opentelemetry__proto__common__v1__instrumentation_scope__init(
			&tree->scopes[i]);
		tree->scopes[i].name = (char *)scope->name;
		if (scope->version)
			tree->scopes[i].version = (char *)scope->version;
		protobuf_c_message_init(messages->scope_items, scope_items);
		ks_set_message(scope_items, KS_FIELD_SCOPE, &tree->scopes[i]);
		ks_set_repeated(scope_items, KS_FIELD_ITEMS,
				&tree->items[tree->group_start[group]],
				tree->group_fill[group]);
		ks_set_string(scope_items, KS_FIELD_SCHEMA_URL,
			      scope->schema_url);
		tree->scope_ptrs[i] = scope_items;
	}
	for (size_t rank = 0; rank < tree->nr_resources; rank++) {
		void *resource_items =
			tree->resource_items + rank * resource_size;
		const struct ks_otlp_resource *resource =
			tree->group_resource[tree->order[slot]];

		protobuf_c_message_init(messages->resource_items,
					resource_items);
		ks_set_message(resource_items, KS_FIELD_RESOURCE,
			       ks_otlp_resource_message(resource));
		ks_set_repeated(resource_items, KS_FIELD_SCOPE_ITEMS,
				&tree->scope_ptrs[slot],
				tree->resource_groups[rank]);
		ks_set_string(resource_items, KS_FIELD_SCHEMA_URL,
			      ks_otlp_resource_schema_url(resource));
		tree->resource_ptrs[rank] = resource_items;
		slot += tree->resource_groups[rank];
	}
	protobuf_c_message_init(messages->request, tree->request);
	ks_set_repeated(tree->request, KS_FIELD_RESOURCE_ITEMS,
			tree->resource_ptrs, tree->nr_resources);
}

int ks_otlp_pack_request(enum ks_otlp_signal signal,
			 const struct ks_otlp_record *records, size_t nr,
			 size_t max_len, uint8_t **out, size_t *out_len)
{
	const struct ks_signal_messages *messages = &signal_messages[signal];
	struct ks_request_tree tree = { 0 };
	uint8_t *encoded;
	size_t len;
	int ret;

	ret = ks_tree_alloc(&tree, messages, nr);
	if (ret)
		goto cleanup;
	ks_tree_group(&tree, records, nr);
	ks_tree_link(&tree, messages);
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
