// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "httptrace/http_parser.h"
#include "httptrace/http_semconv.h"
#include "knotscope_abi.h"
#include "telemetry/http_shared_attrs.h"

/* Enough for the connections of a busy server; about 300 bytes each. */
#define KS_SHARED_SLOTS 512
/* Status codes have three digits: a slot each. */
#define KS_STATUS_SLOTS 1000
/* RFC 9110's methods and PATCH, with room for collisions. */
#define KS_METHOD_SLOTS 32
/* A server's busiest paths; about 290 bytes each. */
#define KS_PATH_SLOTS 256
/* Response sizes of static content and fixed answers. */
#define KS_BODY_SIZE_SLOTS 64

/* What a connection's attributes are made of, as the span has them. */
struct ks_shared_key {
	enum ks_http_span_kind kind;
	uint32_t tid;
	struct ks_conn_tuple tuple;
	uint8_t version_minor;
	char thread_name[KS_COMM_LEN];
	char host[KS_HTTP_HOST_MAX + 1]; /* the Host field, or "" */
};

struct ks_shared_slot {
	struct ks_otlp_encoded_attrs encoded; /* empty: never filled */
	struct ks_shared_key key;
};

struct ks_method_slot {
	char method[KS_HTTP_METHOD_MAX + 1];
	struct ks_otlp_encoded_attrs encoded;
};

struct ks_status_slot {
	uint16_t status;
	struct ks_otlp_encoded_attrs encoded;
};

struct ks_path_slot {
	uint16_t len;
	char path[KS_HTTP_TARGET_MAX];
	struct ks_otlp_encoded_attrs encoded;
};

struct ks_body_size_slot {
	uint64_t size;
	struct ks_otlp_encoded_attrs encoded;
};

struct ks_http_shared_attrs {
	struct ks_shared_slot slots[KS_SHARED_SLOTS];
	/* For values too long for a key: encoded each time, never kept. */
	struct ks_otlp_encoded_attrs unkept;
	struct ks_method_slot methods[KS_METHOD_SLOTS];
	struct ks_status_slot statuses[KS_STATUS_SLOTS];
	struct ks_path_slot paths[KS_PATH_SLOTS];
	struct ks_body_size_slot body_sizes[KS_BODY_SIZE_SLOTS];
};

struct ks_http_shared_attrs *ks_http_shared_attrs_new(void)
{
	return calloc(1, sizeof(struct ks_http_shared_attrs));
}

void ks_http_shared_attrs_free(struct ks_http_shared_attrs *shared)
{
	if (!shared)
		return;
	for (size_t i = 0; i < KS_SHARED_SLOTS; i++)
		ks_otlp_encoded_attrs_release(&shared->slots[i].encoded);
	ks_otlp_encoded_attrs_release(&shared->unkept);
	for (size_t i = 0; i < KS_METHOD_SLOTS; i++)
		ks_otlp_encoded_attrs_release(&shared->methods[i].encoded);
	for (size_t i = 0; i < KS_STATUS_SLOTS; i++)
		ks_otlp_encoded_attrs_release(&shared->statuses[i].encoded);
	for (size_t i = 0; i < KS_PATH_SLOTS; i++)
		ks_otlp_encoded_attrs_release(&shared->paths[i].encoded);
	for (size_t i = 0; i < KS_BODY_SIZE_SLOTS; i++)
		ks_otlp_encoded_attrs_release(&shared->body_sizes[i].encoded);
	free(shared);
}

static int ks_encode_shared(const struct ks_http_span *span,
			    const char *thread_name,
			    struct ks_otlp_encoded_attrs *encoded)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	const char *ip = span->tuple_text.remote;
	char server_address[KS_HTTP_HOST_MAX + 1];
	uint16_t server_port;

	ks_http_server_endpoint(span, server_address, sizeof(server_address),
				&server_port);
	ks_otlp_attrs_str(&attrs, "url.scheme", "http");
	ks_otlp_attrs_str(&attrs, "server.address", server_address);
	ks_otlp_attrs_int(&attrs, "server.port", server_port);
	ks_otlp_attrs_str(&attrs, "network.peer.address", ip);
	ks_otlp_attrs_int(&attrs, "network.peer.port", span->tuple.remote.port);
	/* client.port would repeat network.peer.port (and is opt-in). */
	if (span->kind == KS_HTTP_SPAN_SERVER)
		ks_otlp_attrs_str(&attrs, "client.address", ip);
	/* network.protocol.name is for protocols other than http. */
	ks_otlp_attrs_str(&attrs, "network.protocol.version",
			  ks_http_protocol_version(span->version_minor));
	ks_otlp_attrs_int(&attrs, "thread.id", span->tid);
	if (thread_name[0])
		ks_otlp_attrs_str(&attrs, "thread.name", thread_name);
	return ks_otlp_attrs_encode(&attrs, encoded);
}

static bool ks_same_endpoint(const struct ks_endpoint *a,
			     const struct ks_endpoint *b)
{
	return a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static bool ks_shared_key_matches(const struct ks_shared_key *key,
				  const struct ks_http_span *span,
				  const char *thread_name)
{
	return key->tid == span->tid && key->kind == span->kind &&
	       key->version_minor == span->version_minor &&
	       ks_same_endpoint(&key->tuple.remote, &span->tuple.remote) &&
	       ks_same_endpoint(&key->tuple.local, &span->tuple.local) &&
	       !strcmp(key->host, span->host) &&
	       !strcmp(key->thread_name, thread_name);
}

/* Makes key the span's; false when the thread name is too long for it. */
static bool ks_shared_key_set(struct ks_shared_key *key,
			      const struct ks_http_span *span,
			      const char *thread_name)
{
	size_t name_len = strlen(thread_name) + 1;

	if (name_len > sizeof(key->thread_name))
		return false;
	key->kind = span->kind;
	key->tid = span->tid;
	key->tuple = span->tuple;
	key->version_minor = span->version_minor;
	memcpy(key->thread_name, thread_name, name_len);
	memcpy(key->host, span->host, strlen(span->host) + 1);
	return true;
}

/* FNV-1a over what tells connections and threads apart. */
static size_t ks_shared_slot_of(const struct ks_http_span *span)
{
	const uint8_t *addr = span->tuple.remote.addr;
	uint32_t hash = 2166136261u;
	uint32_t mixed[] = {
		span->tid,
		span->tuple.remote.port,
		(uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 |
			(uint32_t)addr[14] << 8 | addr[15],
	};
	const uint8_t *bytes = (const uint8_t *)mixed;

	for (size_t i = 0; i < sizeof(mixed); i++)
		hash = (hash ^ bytes[i]) * 16777619u;
	return hash % KS_SHARED_SLOTS;
}

/* The connection's attributes, encoded; NULL on ENOMEM. */
static const struct ks_otlp_encoded_attrs *
ks_connection_attrs(struct ks_http_shared_attrs *shared,
		    const struct ks_http_span *span, const char *thread_name)
{
	struct ks_shared_slot *slot = &shared->slots[ks_shared_slot_of(span)];
	const char *name = thread_name ? thread_name : "";

	if (slot->encoded.len && ks_shared_key_matches(&slot->key, span, name))
		return &slot->encoded;
	if (!ks_shared_key_set(&slot->key, span, name)) {
		ks_otlp_encoded_attrs_release(&slot->encoded);
		slot = NULL;
	}
	if (ks_encode_shared(span, name,
			     slot ? &slot->encoded : &shared->unkept))
		return NULL;
	return slot ? &slot->encoded : &shared->unkept;
}

/* http.request.method: a known method, or "_OTHER"; NULL on ENOMEM. */
static const struct ks_otlp_encoded_attrs *
ks_method_attr(struct ks_http_shared_attrs *shared, const char *method)
{
	struct ks_method_slot *slot;
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	size_t len = strlen(method);

	if (len >= sizeof(slot->method))
		return NULL;
	slot = &shared->methods[(len + (uint8_t)method[0]) % KS_METHOD_SLOTS];
	if (slot->encoded.len && !strcmp(slot->method, method))
		return &slot->encoded;
	ks_otlp_attrs_str(&attrs, "http.request.method", method);
	if (ks_otlp_attrs_encode(&attrs, &slot->encoded))
		return NULL;
	memcpy(slot->method, method, len + 1);
	return &slot->encoded;
}

/* http.response.status_code, or nothing for 0; NULL on ENOMEM. */
static const struct ks_otlp_encoded_attrs *
ks_status_attr(struct ks_http_shared_attrs *shared, uint16_t status)
{
	static const struct ks_otlp_encoded_attrs none;
	struct ks_status_slot *slot =
		&shared->statuses[status % KS_STATUS_SLOTS];
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (!status)
		return &none;
	if (slot->encoded.len && slot->status == status)
		return &slot->encoded;
	ks_otlp_attrs_int(&attrs, "http.response.status_code", status);
	if (ks_otlp_attrs_encode(&attrs, &slot->encoded))
		return NULL;
	slot->status = status;
	return &slot->encoded;
}

/*
 * url.path, kept per path; NULL on ENOMEM.  A slot holds the latest path
 * of its hash, with nothing chained: paths a client picks to collide only
 * make their spans encode their own, as every span did before.
 */
static const struct ks_otlp_encoded_attrs *
ks_path_attr(struct ks_http_shared_attrs *shared,
	     const struct ks_http_span *span)
{
	struct ks_path_slot *slot =
		&shared->paths[ks_fnv1a(KS_FNV1A_INIT, span->target,
					span->path_len) %
			       KS_PATH_SLOTS];
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	char path[KS_HTTP_TARGET_MAX + 1];

	if (slot->encoded.len && slot->len == span->path_len &&
	    !memcmp(slot->path, span->target, span->path_len))
		return &slot->encoded;
	memcpy(path, span->target, span->path_len);
	path[span->path_len] = '\0';
	ks_otlp_attrs_str(&attrs, "url.path", path);
	if (ks_otlp_attrs_encode(&attrs, &slot->encoded))
		return NULL;
	memcpy(slot->path, span->target, span->path_len);
	slot->len = span->path_len;
	return &slot->encoded;
}

/* http.response.body.size, kept per size; NULL on ENOMEM. */
static const struct ks_otlp_encoded_attrs *
ks_body_size_attr(struct ks_http_shared_attrs *shared, uint64_t size)
{
	struct ks_body_size_slot *slot =
		&shared->body_sizes[size % KS_BODY_SIZE_SLOTS];
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;

	if (slot->encoded.len && slot->size == size)
		return &slot->encoded;
	ks_otlp_attrs_int(&attrs, "http.response.body.size", (int64_t)size);
	if (ks_otlp_attrs_encode(&attrs, &slot->encoded))
		return NULL;
	slot->size = size;
	return &slot->encoded;
}

int ks_http_shared_attrs_add(struct ks_http_shared_attrs *shared,
			     OtlpSpan *otlp, const struct ks_http_span *span,
			     const char *thread_name)
{
	const struct ks_otlp_encoded_attrs *lists[] = {
		ks_method_attr(shared, ks_http_method_attr(span)),
		ks_status_attr(shared, span->status),
		ks_connection_attrs(shared, span, thread_name),
		ks_path_attr(shared, span),
		ks_body_size_attr(shared, span->response_body_size),
	};

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (!lists[i])
			return -ENOMEM;
	return ks_otlp_span_add_encoded_attrs(otlp, lists,
					      sizeof(lists) / sizeof(lists[0]));
}
