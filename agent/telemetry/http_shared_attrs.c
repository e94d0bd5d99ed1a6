// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "httptrace/http_parser.h"
#include "httptrace/http_semconv.h"
#include "knotscope_abi.h"
#include "telemetry/http_shared_attrs.h"

/* Enough for the connections of a busy server; about 300 bytes each. */
#define KS_SHARED_SLOTS 512

/* What the shared attributes are made of. */
struct ks_shared_key {
	enum ks_http_span_kind kind;
	uint32_t tid;
	uint8_t peer_addr[16];
	uint16_t peer_port;
	uint16_t server_port;
	uint8_t version_minor;
	char thread_name[KS_COMM_LEN];
	char server_address[KS_HTTP_HOST_MAX + 1];
};

struct ks_shared_slot {
	struct ks_shared_key key;
	struct ks_otlp_encoded_attrs encoded; /* empty: never filled */
};

struct ks_http_shared_attrs {
	struct ks_shared_slot slots[KS_SHARED_SLOTS];
	/* For values too long for a key: encoded each time, never kept. */
	struct ks_otlp_encoded_attrs unkept;
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
	free(shared);
}

static int ks_encode_shared(const struct ks_http_span *span,
			    const char *server_address, uint16_t server_port,
			    const char *thread_name,
			    struct ks_otlp_encoded_attrs *encoded)
{
	struct ks_otlp_attrs attrs = KS_OTLP_ATTRS_INIT;
	const char *ip = span->tuple_text.remote;

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
	if (thread_name && thread_name[0])
		ks_otlp_attrs_str(&attrs, "thread.name", thread_name);
	return ks_otlp_attrs_encode(&attrs, encoded);
}

static bool ks_shared_key_matches(const struct ks_shared_key *key,
				  const struct ks_http_span *span,
				  const char *server_address,
				  uint16_t server_port, const char *thread_name)
{
	return key->tid == span->tid && key->kind == span->kind &&
	       key->peer_port == span->tuple.remote.port &&
	       key->server_port == server_port &&
	       key->version_minor == span->version_minor &&
	       !memcmp(key->peer_addr, span->tuple.remote.addr,
		       sizeof(key->peer_addr)) &&
	       !strcmp(key->server_address, server_address) &&
	       !strcmp(key->thread_name, thread_name);
}

/* Makes key the span's; false when a value is too long for it. */
static bool ks_shared_key_set(struct ks_shared_key *key,
			      const struct ks_http_span *span,
			      const char *server_address, uint16_t server_port,
			      const char *thread_name)
{
	size_t address_len = strlen(server_address) + 1;
	size_t name_len = strlen(thread_name) + 1;

	if (address_len > sizeof(key->server_address) ||
	    name_len > sizeof(key->thread_name))
		return false;
	key->kind = span->kind;
	key->tid = span->tid;
	memcpy(key->peer_addr, span->tuple.remote.addr, sizeof(key->peer_addr));
	key->peer_port = span->tuple.remote.port;
	key->server_port = server_port;
	key->version_minor = span->version_minor;
	memcpy(key->thread_name, thread_name, name_len);
	memcpy(key->server_address, server_address, address_len);
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

const struct ks_otlp_encoded_attrs *
ks_http_shared_attrs_of(struct ks_http_shared_attrs *shared,
			const struct ks_http_span *span,
			const char *server_address, uint16_t server_port,
			const char *thread_name)
{
	struct ks_shared_slot *slot = &shared->slots[ks_shared_slot_of(span)];
	const char *name = thread_name ? thread_name : "";

	if (slot->encoded.len &&
	    ks_shared_key_matches(&slot->key, span, server_address, server_port,
				  name))
		return &slot->encoded;
	if (!ks_shared_key_set(&slot->key, span, server_address, server_port,
			       name)) {
		ks_otlp_encoded_attrs_release(&slot->encoded);
		slot = NULL;
	}
	if (ks_encode_shared(span, server_address, server_port, name,
			     slot ? &slot->encoded : &shared->unkept))
		return NULL;
	return slot ? &slot->encoded : &shared->unkept;
}
