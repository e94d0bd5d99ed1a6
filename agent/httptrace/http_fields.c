// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "httptrace/http_fields.h"

/* Larger lengths are nonsense and could overflow the body arithmetic. */
#define CONTENT_LENGTH_DIGITS_MAX 18

/* Whether name, of len bytes, is the literal: a compare of known length. */
#define KS_NAME_IS(name, len, literal)   \
	((len) == sizeof(literal) - 1 && \
	 !memcmp(name, literal, sizeof(literal) - 1))

/*
 * By length, then one compare or two of a length known here, which the
 * compiler turns into a load or two: every field line of every message
 * comes through here, most of them of no interest.
 */
enum ks_http_field ks_http_field_lookup(const char *name, size_t len)
{
	if (KS_NAME_IS(name, len, "host"))
		return KS_HTTP_FIELD_HOST;
	if (KS_NAME_IS(name, len, "content-length"))
		return KS_HTTP_FIELD_CONTENT_LENGTH;
	if (KS_NAME_IS(name, len, "transfer-encoding"))
		return KS_HTTP_FIELD_TRANSFER_ENCODING;
	if (KS_NAME_IS(name, len, "connection"))
		return KS_HTTP_FIELD_CONNECTION;
	if (KS_NAME_IS(name, len, "expect"))
		return KS_HTTP_FIELD_EXPECT;
	if (KS_NAME_IS(name, len, "traceparent"))
		return KS_HTTP_FIELD_TRACEPARENT;
	if (KS_NAME_IS(name, len, "tracestate"))
		return KS_HTTP_FIELD_TRACESTATE;
	return KS_HTTP_FIELD_OTHER;
}

void ks_http_list_init(struct ks_http_list *list, const char *value, size_t len)
{
	list->at = value;
	list->end = value + len;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

void ks_http_trim_ows(const char **start, const char **stop)
{
	while (*start < *stop && is_ows(**start))
		(*start)++;
	while (*stop > *start && is_ows((*stop)[-1]))
		(*stop)--;
}

bool ks_http_list_next(struct ks_http_list *list, const char **elem,
		       size_t *len)
{
	while (list->at < list->end) {
		const char *start = list->at;
		const char *comma = memchr(start, ',', list->end - start);
		const char *stop = comma ? comma : list->end;
		const char *param = memchr(start, ';', stop - start);

		list->at = comma ? comma + 1 : list->end;
		if (param)
			stop = param;
		ks_http_trim_ows(&start, &stop);
		if (start < stop) {
			*elem = start;
			*len = (size_t)(stop - start);
			return true;
		}
	}
	return false;
}

/* Compared up to the token's NUL: no strlen() of it for every element. */
bool ks_http_token_is(const char *elem, size_t len, const char *token)
{
	for (size_t i = 0; i < len; i++) {
		char c = elem[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!token[i] || c != token[i])
			return false;
	}
	return token[len] == '\0';
}

static bool parse_decimal(const char *text, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (!len || len > CONTENT_LENGTH_DIGITS_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(text[i] - '0');
	}
	*out = n;
	return true;
}

bool ks_http_content_length(const char *value, size_t len, uint64_t *out)
{
	struct ks_http_list list;
	const char *elem;
	size_t elem_len;
	uint64_t first = 0, n;
	bool any = false;

	/* Parameters are not part of Content-Length: ';' is invalid. */
	if (memchr(value, ';', len))
		return false;
	ks_http_list_init(&list, value, len);
	while (ks_http_list_next(&list, &elem, &elem_len)) {
		if (!parse_decimal(elem, elem_len, &n))
			return false;
		if (any && n != first)
			return false;
		first = n;
		any = true;
	}
	if (!any)
		return false;
	*out = first;
	return true;
}
