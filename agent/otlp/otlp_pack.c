// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/version.h"
#include "otlp/otlp_pack.h"

typedef Knotscope__Otlp__V1__EncodedExportRequest EncodedRequest;
typedef Knotscope__Otlp__V1__EncodedResourceItems EncodedResourceItems;
typedef Knotscope__Otlp__V1__EncodedScopeItems EncodedScopeItems;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope OtlpScope;

/* Field numbers of the responses the three signals have in common. */
enum {
	KS_FIELD_PARTIAL_SUCCESS = 1, /* Export*ServiceResponse */
	KS_FIELD_REJECTED = 1, /* Export*PartialSuccess.rejected_* */
	KS_FIELD_ERROR_MESSAGE = 2, /* Export*PartialSuccess */
};

const struct ks_otlp_scope ks_otlp_default_scope = {
	.name = "knotscope",
	.version = KS_VERSION,
};

static const ProtobufCMessageDescriptor *const responses[KS_OTLP_NR_SIGNALS] = {
	[KS_OTLP_TRACES] =
		&opentelemetry__proto__collector__trace__v1__export_trace_service_response__descriptor,
	[KS_OTLP_METRICS] =
		&opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__descriptor,
	[KS_OTLP_LOGS] =
		&opentelemetry__proto__collector__logs__v1__export_logs_service_response__descriptor,
};

/* Where field id of message lives. */
static void *ks_field(const void *message, unsigned int id)
{
	const ProtobufCMessage *base = message;
	const ProtobufCFieldDescriptor *field =
		protobuf_c_message_descriptor_get_field(base->descriptor, id);

	return (char *)message + field->offset;
}

int ks_otlp_encode_item(const ProtobufCMessage *item, uint8_t **out,
			size_t *out_len)
{
	size_t len = protobuf_c_message_get_packed_size(item);
	uint8_t *encoded = malloc(len ? len : 1);

	if (!encoded)
		return -ENOMEM;
	*out_len = protobuf_c_message_pack(item, encoded);
	*out = encoded;
	return 0;
}

/*
 * The containers of a request under construction.  They point at records'
 * encodings, resources and scopes without owning them, so they are freed
 * as plain memory, never with protobuf_c_message_free_unpacked().
 *
 * A group is the items of one (resource, scope) pair; groups are ordered
 * by resource (first seen first), then by first appearance, so that each
 * resource's scope_* entries are one slice of scope_ptrs.
 */
struct ks_request_tree {
	EncodedRequest request;
	EncodedResourceItems *resource_items; /* nr_resources, back to back */
	EncodedScopeItems *scope_items; /* nr_groups */
	OtlpScope *scopes;
	EncodedResourceItems **resource_ptrs;
	EncodedScopeItems **scope_ptrs;
	ProtobufCBinaryData *items; /* grouped */
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

static int ks_tree_alloc(struct ks_request_tree *tree, size_t nr)
{
	/* At most one group per record; a few wasted bytes save a pass. */
	size_t slots = nr ? nr : 1;

	tree->resource_items = calloc(slots, sizeof(*tree->resource_items));
	tree->scope_items = calloc(slots, sizeof(*tree->scope_items));
	tree->scopes = calloc(slots, sizeof(*tree->scopes));
	tree->resource_ptrs = calloc(slots, sizeof(*tree->resource_ptrs));
	tree->scope_ptrs = calloc(slots, sizeof(*tree->scope_ptrs));
	tree->items = calloc(slots, sizeof(*tree->items));
	tree->group_resource = calloc(slots, sizeof(*tree->group_resource));
	tree->group_scope = calloc(slots, sizeof(*tree->group_scope));
	tree->group_of = calloc(slots, sizeof(size_t));
	tree->group_start = calloc(slots, sizeof(size_t));
	tree->group_fill = calloc(slots, sizeof(size_t));
	tree->group_rank = calloc(slots, sizeof(size_t));
	tree->order = calloc(slots, sizeof(size_t));
	tree->resource_groups = calloc(slots, sizeof(size_t));
	if (!tree->resource_items || !tree->scope_items || !tree->scopes ||
	    !tree->resource_ptrs || !tree->scope_ptrs || !tree->items ||
	    !tree->group_resource || !tree->group_scope || !tree->group_of ||
	    !tree->group_start || !tree->group_fill || !tree->group_rank ||
	    !tree->order || !tree->resource_groups)
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
		ProtobufCBinaryData *item =
			&tree->items[tree->group_start[group] +
				     tree->group_fill[group]++];

		/* Only read while packing. */
		item->data = (uint8_t *)records[i].data;
		item->len = records[i].len;
	}
}

/*
 * Strings, resources and scopes are only read while packing: pointers to
 * const data will do.  proto3's empty string is left for no schema URL.
 */
static void ks_tree_link(struct ks_request_tree *tree)
{
	size_t slot = 0;

	for (size_t i = 0; i < tree->nr_groups; i++) {
		size_t group = tree->order[i];
		const struct ks_otlp_scope *scope = tree->group_scope[group];
		EncodedScopeItems *scope_items = &tree->scope_items[i];

		opentelemetry__proto__common__v1__instrumentation_scope__init(
			&tree->scopes[i]);
		tree->scopes[i].name = (char *)scope->name;
		if (scope->version)
			tree->scopes[i].version = (char *)scope->version;
		knotscope__otlp__v1__encoded_scope_items__init(scope_items);
		scope_items->scope = &tree->scopes[i];
		scope_items->items = &tree->items[tree->group_start[group]];
		scope_items->n_items = tree->group_fill[group];
		if (scope->schema_url)
			scope_items->schema_url = (char *)scope->schema_url;
		tree->scope_ptrs[i] = scope_items;
	}
	for (size_t rank = 0; rank < tree->nr_resources; rank++) {
		EncodedResourceItems *resource_items =
			&tree->resource_items[rank];
		const struct ks_otlp_resource *resource =
			tree->group_resource[tree->order[slot]];
		const char *schema_url = ks_otlp_resource_schema_url(resource);

		knotscope__otlp__v1__encoded_resource_items__init(
			resource_items);
		resource_items->resource =
			(OtlpResource *)ks_otlp_resource_message(resource);
		resource_items->scope_items = &tree->scope_ptrs[slot];
		resource_items->n_scope_items = tree->resource_groups[rank];
		if (schema_url)
			resource_items->schema_url = (char *)schema_url;
		tree->resource_ptrs[rank] = resource_items;
		slot += tree->resource_groups[rank];
	}
	knotscope__otlp__v1__encoded_export_request__init(&tree->request);
	tree->request.resource_items = tree->resource_ptrs;
	tree->request.n_resource_items = tree->nr_resources;
}

/*
 * protobuf_c_message_pack() writes a nested message after a one-byte
 * length and moves it when its length takes more bytes: a request's
 * resource and scope levels, hundreds of kilobytes each, would be moved
 * twice.  Packing to a buffer writes each length first, then the bytes
 * once; a buffer of the packed size never grows.
 */
static size_t ks_pack_in_place(const ProtobufCMessage *message, uint8_t *out,
			       size_t len)
{
	ProtobufCBufferSimple buffer = {
		.base.append = protobuf_c_buffer_simple_append,
		.alloced = len,
		.data = out,
	};

	return protobuf_c_message_pack_to_buffer(message, &buffer.base);
}

int ks_otlp_pack_request(enum ks_otlp_signal signal,
			 const struct ks_otlp_record *records, size_t nr,
			 size_t max_len, uint8_t **out, size_t *out_len)
{
	struct ks_request_tree tree = { 0 };
	uint8_t *encoded;
	size_t len;
	int ret;

	ret = ks_tree_alloc(&tree, nr);
	if (ret)
		goto cleanup;
	ks_tree_group(&tree, records, nr);
	ks_tree_link(&tree);
	len = knotscope__otlp__v1__encoded_export_request__get_packed_size(
		&tree.request);
	if (len > max_len) {
		ret = -E2BIG;
		goto cleanup;
	}
	encoded = malloc(len ? len : 1);
	if (!encoded) {
		ret = -ENOMEM;
		goto cleanup;
	}
	*out_len = ks_pack_in_place(&tree.request.base, encoded, len);
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
	response =
		protobuf_c_message_unpack(responses[signal], NULL, len, body);
	if (!response)
		return -1;
	partial = ks_field(response, KS_FIELD_PARTIAL_SUCCESS);
	if (*partial) {
		const char *const *error =
			ks_field(*partial, KS_FIELD_ERROR_MESSAGE);

		rejected =
			*(const int64_t *)ks_field(*partial, KS_FIELD_REJECTED);
		snprintf(message, message_size, "%s", *error);
	}
	protobuf_c_message_free_unpacked(response, NULL);
	/* A negative count is nonsense: treat it as none rejected. */
	return rejected > 0 ? rejected : 0;
}
