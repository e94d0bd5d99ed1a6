// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptrace/http_semconv.h"

const char *ks_http_method_attr(const struct ks_http_span *span)
{
	return span->method_known ? span->method : "_OTHER";
}

static void ks_ip_text(const struct ks_endpoint *endpoint,
		       char buf[KS_IP_TEXT_MAX])
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!memcmp(endpoint->addr, v4_mapped, sizeof(v4_mapped)))
		inet_ntop(AF_INET, &endpoint->addr[12], buf, KS_IP_TEXT_MAX);
	else
		inet_ntop(AF_INET6, endpoint->addr, buf, KS_IP_TEXT_MAX);
}

void ks_http_tuple_text(const struct ks_conn_tuple *tuple,
			struct ks_tuple_text *text)
{
	ks_ip_text(&tuple->local, text->local);
	ks_ip_text(&tuple->remote, text->remote);
}

/* "name", "name:port", "[v6]", "[v6]:port" (RFC 9110 7.2: uri-host [:port]) */
static bool ks_split_host(const char *host, char *name, size_t size,
			  uint16_t *port)
{
	const char *end = host + strlen(host), *colon = NULL, *name_end;
	char *digits_end;
	unsigned long value;

	/* An IPv6 literal is the address without its brackets. */
	if (host[0] == '[') {
		const char *close = strchr(host, ']');

		if (!close)
			return false;
		colon = close[1] == ':' ? close + 1 : NULL;
		name_end = close;
		host++;
	} else {
		colon = strrchr(host, ':');
		name_end = colon ? colon : end;
	}
	*port = 80;
	if (colon) {
		value = strtoul(colon + 1, &digits_end, 10);
		if (digits_end == colon + 1 || *digits_end || !value ||
		    value > 65535)
			return false;
		*port = (uint16_t)value;
	}
	if (name_end == host || (size_t)(name_end - host) >= size)
		return false;
	memcpy(name, host, name_end - host);
	name[name_end - host] = '\0';
	return true;
}

void ks_http_server_endpoint(const struct ks_http_span *span, char *address,
			     size_t size, uint16_t *port)
{
	bool server_end = span->kind == KS_HTTP_SPAN_SERVER;

	if (span->host[0] && ks_split_host(span->host, address, size, port))
		return;
	snprintf(address, size, "%s",
		 server_end ? span->tuple_text.local : span->tuple_text.remote);
	*port = server_end ? span->tuple.local.port : span->tuple.remote.port;
}

bool ks_http_span_failed(const struct ks_http_span *span)
{
	if (span->failure != KS_HTTP_OK || !span->status)
		return true;
	return span->status >= (span->kind == KS_HTTP_SPAN_SERVER ? 500 : 400);
}

const char *ks_http_error_type(const struct ks_http_span *span, char *buf,
			       size_t size)
{
	if (!ks_http_span_failed(span))
		return NULL;
	/* A response that broke off failed, whatever its status said. */
	if (span->failure != KS_HTTP_OK || !span->status)
		return "connection_closed";
	snprintf(buf, size, "%u", span->status);
	return buf;
}

const char *ks_http_failure_message(enum ks_http_failure failure)
{
	switch (failure) {
	case KS_HTTP_CLOSED_BEFORE_RESPONSE:
		return "connection closed before the response";
	case KS_HTTP_CLOSED_DURING_RESPONSE:
		return "connection closed during the response";
	case KS_HTTP_OK:
		break;
	}
	return NULL;
}

const char *ks_http_protocol_version(uint8_t minor)
{
	/* The parser takes one digit (RFC 9112 2.3): the table covers it. */
	static const char *const versions[] = { "1.0", "1.1", "1.2", "1.3",
						"1.4", "1.5", "1.6", "1.7",
						"1.8", "1.9" };

	return versions[minor % 10];
}
