/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The HTTP header fields the parser reads, and how their values are read.
 * Every other field is skipped without being stored: for privacy, no other
 * header value (cookies, credentials, ...) ever leaves the agent.
 */
#ifndef KS_HTTP_FIELDS_H
#define KS_HTTP_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ks_http_field {
	KS_HTTP_FIELD_OTHER,
	KS_HTTP_FIELD_HOST,
	KS_HTTP_FIELD_CONTENT_LENGTH,
	KS_HTTP_FIELD_TRANSFER_ENCODING,
	KS_HTTP_FIELD_CONNECTION,
	KS_HTTP_FIELD_EXPECT,
	KS_HTTP_FIELD_TRACEPARENT,
	KS_HTTP_FIELD_TRACESTATE,
};

/* The longest name of interest: "transfer-encoding". */
#define KS_HTTP_FIELD_NAME_MAX 17

/* Field names are case-insensitive; name must already be lowercase. */
enum ks_http_field ks_http_field_lookup(const char *name, size_t len);

/*
 * Moves *start forward and *stop back past optional white space (RFC 9110
 * 5.6.3: spaces and tabs) around the bytes between them.
 */
void ks_http_trim_ows(const char **start, const char **stop);

/* A cursor over a comma-separated field value (RFC 9110 5.6.1). */
struct ks_http_list {
	const char *at;
	const char *end;
};

void ks_http_list_init(struct ks_http_list *list, const char *value,
		       size_t len);

/*
 * The next non-empty element, trimmed of whitespace and of parameters
 * after ';'.  Returns false at the end of the list.
 */
bool ks_http_list_next(struct ks_http_list *list, const char **elem,
		       size_t *len);

/* Whether elem equals token, ignoring case; token is lowercase. */
bool ks_http_token_is(const char *elem, size_t len, const char *token);

/*
 * Content-Length: a decimal number, or the same number repeated as a list
 * (RFC 9110 8.6 lets a recipient accept that).  False for anything else,
 * which leaves the message without trustworthy framing.
 */
bool ks_http_content_length(const char *value, size_t len, uint64_t *out);

#endif /* KS_HTTP_FIELDS_H */
