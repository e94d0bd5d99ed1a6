// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/decimal.h"
#include "base/percent.h"
#include "knotscope/grpc_status.pb-c.h"
#include "otlp/otlp_grpc.h"

/* Binary trailers worth decoding are small; a status with a detail or two. */
#define KS_MAX_DETAILS_BYTES 4096
#define KS_RETRY_INFO_TYPE "type.googleapis.com/google.rpc.RetryInfo"

const char *ks_otlp_grpc_code_name(int code)
{
	static const char *const names[] = {
		"OK",
		"CANCELLED",
		"UNKNOWN",
		"INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED",
		"NOT_FOUND",
		"ALREADY_EXISTS",
		"PERMISSION_DENIED",
		"RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION",
		"ABORTED",
		"OUT_OF_RANGE",
		"UNIMPLEMENTED",
		"INTERNAL",
		"UNAVAILABLE",
		"DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (code < 0 || (size_t)code >= sizeof(names) / sizeof(names[0]))
		return "UNKNOWN";
	return names[code];
}

void ks_otlp_grpc_prefix(uint8_t prefix[KS_OTLP_GRPC_PREFIX_LEN],
			 bool compressed, size_t len)
{
	prefix[0] = compressed;
	prefix[1] = (uint8_t)(len >> 24);
	prefix[2] = (uint8_t)(len >> 16);
	prefix[3] = (uint8_t)(len >> 8);
	prefix[4] = (uint8_t)len;
}

int ks_otlp_grpc_message(const uint8_t *body, size_t body_len,
			 const uint8_t **message, size_t *len)
{
	size_t declared;

	*message = body;
	*len = 0;
	/* A Trailers-Only response (an error) has no message at all. */
	if (!body_len)
		return 0;
	if (body_len < KS_OTLP_GRPC_PREFIX_LEN || body[0] > 1)
		return -EPROTO;
	declared = (size_t)body[1] << 24 | (size_t)body[2] << 16 |
		   (size_t)body[3] << 8 | body[4];
	if (declared != body_len - KS_OTLP_GRPC_PREFIX_LEN)
		return -EPROTO;
	if (body[0])
		return -ENOTSUP;
	*message = body + KS_OTLP_GRPC_PREFIX_LEN;
	*len = declared;
	return 0;
}

void ks_otlp_grpc_status_reset(struct ks_otlp_grpc_status *status)
{
	memset(status, 0, sizeof(*status));
}

/* The value of "name: value" when the line is that header, trimmed. */
static bool ks_header_value(const char *line, size_t len, const char *name,
			    const char **value, size_t *value_len)
{
	size_t name_len = strlen(name);

	if (len <= name_len || line[name_len] != ':' ||
	    strncasecmp(line, name, name_len))
		return false;
	line += name_len + 1;
	len -= name_len + 1;
	while (len && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	while (len && isspace((unsigned char)line[len - 1]))
		len--;
	*value = line;
	*value_len = len;
	return true;
}

/* grpc-message is percent-encoded; a broken escape leaves it as it is. */
static void ks_take_message(struct ks_otlp_grpc_status *status,
			    const char *value, size_t len)
{
	char *decoded = NULL;

	if (!ks_percent_decode(value, len, &decoded))
		snprintf(status->message, sizeof(status->message), "%s",
			 decoded);
	else
		snprintf(status->message, sizeof(status->message), "%.*s",
			 (int)len, value);
	free(decoded);
}

static void ks_take_retry_info(struct ks_otlp_grpc_status *status,
			       const Knotscope__Grpc__Any *detail)
{
	Knotscope__Grpc__RetryInfo *info;
	const Knotscope__Grpc__Duration *delay;

	if (!detail->type_url || strcmp(detail->type_url, KS_RETRY_INFO_TYPE))
		return;
	info = knotscope__grpc__retry_info__unpack(NULL, detail->value.len,
						   detail->value.data);
	if (!info)
		return;
	delay = info->retry_delay;
	if (delay && delay->seconds >= 0 && delay->nanos >= 0) {
		status->has_retry_delay = true;
		status->retry_delay_ms = (uint64_t)delay->seconds * 1000 +
					 (uint64_t)delay->nanos / 1000000;
	}
	knotscope__grpc__retry_info__free_unpacked(info, NULL);
}

/*
 * grpc-status-details-bin: base64 (padded or not, as gRPC allows) of a
 * google.rpc.Status; only its RetryInfo matters here.
 */
static void ks_take_details(struct ks_otlp_grpc_status *status,
			    const char *value, size_t len)
{
	char text[KS_MAX_DETAILS_BYTES * 4 / 3 + 8];
	unsigned char decoded[KS_MAX_DETAILS_BYTES];
	Knotscope__Grpc__Status *details;
	int decoded_len;

	if (len + 4 >= sizeof(text))
		return;
	memcpy(text, value, len);
	while (len % 4)
		text[len++] = '=';
	text[len] = '\0';
	decoded_len = b64_pton(text, decoded, sizeof(decoded));
	if (decoded_len < 0)
		return;
	details = knotscope__grpc__status__unpack(NULL, (size_t)decoded_len,
						  decoded);
	if (!details)
		return;
	for (size_t i = 0; i < details->n_details; i++)
		ks_take_retry_info(status, details->details[i]);
	knotscope__grpc__status__free_unpacked(details, NULL);
}

void ks_otlp_grpc_status_line(struct ks_otlp_grpc_status *status,
			      const char *line, size_t len)
{
	const char *value;
	size_t value_len;
	char number[16];
	unsigned long long code;

	if (ks_header_value(line, len, "grpc-status", &value, &value_len)) {
		if (!value_len || value_len >= sizeof(number))
			return;
		memcpy(number, value, value_len);
		number[value_len] = '\0';
		if (ks_parse_decimal(number, &code, NULL) || code > 0xffff)
			return;
		status->has_code = true;
		status->code = (int)code;
	} else if (ks_header_value(line, len, "grpc-message", &value,
				   &value_len)) {
		ks_take_message(status, value, value_len);
	} else if (ks_header_value(line, len, "grpc-status-details-bin", &value,
				   &value_len)) {
		ks_take_details(status, value, value_len);
	}
}

int ks_otlp_grpc_code_for_http(long http_status)
{
	switch (http_status) {
	case 400:
		return KS_GRPC_INTERNAL;
	case 401:
		return KS_GRPC_UNAUTHENTICATED;
	case 403:
		return KS_GRPC_PERMISSION_DENIED;
	case 404:
		return KS_GRPC_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504:
		return KS_GRPC_UNAVAILABLE;
	default:
		return KS_GRPC_UNKNOWN;
	}
}
