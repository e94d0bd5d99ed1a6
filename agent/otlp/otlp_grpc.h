/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * OTLP/gRPC on the wire, as pure functions: the 5-byte prefix of a
 * length-prefixed message,
 * the unary response's message, and the call's status from its
 * grpc-status, grpc-message and grpc-status-details-bin headers or
 * trailers (with the RetryInfo a throttling server adds).  The transport
 * (otlp_http.c) moves the bytes over HTTP/2; the retry rules
 * (otlp_retry.c) judge the status.
 */
#ifndef KS_OTLP_GRPC_H
#define KS_OTLP_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Compressed flag (1 byte) and big-endian length (4) before a message. */
#define KS_OTLP_GRPC_PREFIX_LEN 5

enum ks_grpc_code {
	KS_GRPC_OK = 0,
	KS_GRPC_CANCELLED = 1,
	KS_GRPC_UNKNOWN = 2,
	KS_GRPC_INVALID_ARGUMENT = 3,
	KS_GRPC_DEADLINE_EXCEEDED = 4,
	KS_GRPC_NOT_FOUND = 5,
	KS_GRPC_ALREADY_EXISTS = 6,
	KS_GRPC_PERMISSION_DENIED = 7,
	KS_GRPC_RESOURCE_EXHAUSTED = 8,
	KS_GRPC_FAILED_PRECONDITION = 9,
	KS_GRPC_ABORTED = 10,
	KS_GRPC_OUT_OF_RANGE = 11,
	KS_GRPC_UNIMPLEMENTED = 12,
	KS_GRPC_INTERNAL = 13,
	KS_GRPC_UNAVAILABLE = 14,
	KS_GRPC_DATA_LOSS = 15,
	KS_GRPC_UNAUTHENTICATED = 16,
};

/* What the server said of a call, gathered from its header lines. */
struct ks_otlp_grpc_status {
	bool has_code;
	int code;
	char message[160]; /* grpc-message, percent-decoded */
	bool has_retry_delay; /* a RetryInfo came with the status */
	uint64_t retry_delay_ms;
};

/* "UNAVAILABLE"...; "UNKNOWN" for codes outside the table. */
const char *ks_otlp_grpc_code_name(int code);

/* The prefix of a message of len bytes, compressed or not. */
void ks_otlp_grpc_prefix(uint8_t prefix[KS_OTLP_GRPC_PREFIX_LEN],
			 bool compressed, size_t len);

/*
 * The message of a unary response body: 0 with *message and *len set
 * (an empty body is an empty message), -EPROTO when the body is not one
 * whole length-prefixed message, -ENOTSUP when it is compressed (the
 * exporter asks for identity responses).
 */
int ks_otlp_grpc_message(const uint8_t *body, size_t body_len,
			 const uint8_t **message, size_t *len);

/* Forgets everything: before a call. */
void ks_otlp_grpc_status_reset(struct ks_otlp_grpc_status *status);

/*
 * Reads one header or trailer line ("name: value\r\n", len bytes, not
 * NUL-terminated) into status if it is one of gRPC's; others are ignored.
 */
void ks_otlp_grpc_status_line(struct ks_otlp_grpc_status *status,
			      const char *line, size_t len);

/*
 * The gRPC code a call that ended with an HTTP status other than 200
 * stands for, as gRPC maps them ("HTTP to gRPC Status Code Mapping").
 */
int ks_otlp_grpc_code_for_http(long http_status);

#endif /* KS_OTLP_GRPC_H */
