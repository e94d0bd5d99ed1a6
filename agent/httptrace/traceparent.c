// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>

#include "httptrace/http_fields.h"
#include "httptrace/traceparent.h"

/* Field offsets in "vv-tttt...tttt-pppppppppppppppp-ff". */
#define TRACE_ID_AT 3
#define PARENT_ID_AT (TRACE_ID_AT + 2 * KS_TRACE_ID_LEN + 1)
#define FLAGS_AT (PARENT_ID_AT + 2 * KS_PARENT_ID_LEN + 1)

/* tracestate key and value limits from the spec's ABNF. */
#define SIMPLE_KEY_MAX 256
#define TENANT_ID_MAX 241
#define SYSTEM_ID_MAX 14
#define VALUE_MAX 256

static int lower_hex_digit(char c)
{
	/* The spec allows lowercase only: uppercase makes the value invalid. */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes 2 * len lowercase hex digits; false if any is not one. */
static bool decode_hex(const char *text, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = lower_hex_digit(text[2 * i]);
		int lo = lower_hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool all_zero(const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

bool ks_traceparent_parse(const char *value, size_t len,
			  struct ks_traceparent *out)
{
	struct ks_traceparent tp;

	if (len < KS_TRACEPARENT_LEN || value[2] != '-' ||
	    value[PARENT_ID_AT - 1] != '-' || value[FLAGS_AT - 1] != '-')
		return false;
	if (!decode_hex(value, &tp.version, 1) || tp.version == 0xff)
		return false;
	/*
	 * Version 00 has exactly this length.  A later version may append
	 * fields, but only after another dash.
	 */
	if (tp.version == 0 && len != KS_TRACEPARENT_LEN)
		return false;
	if (len > KS_TRACEPARENT_LEN && value[KS_TRACEPARENT_LEN] != '-')
		return false;
	if (!decode_hex(value + TRACE_ID_AT, tp.trace_id, KS_TRACE_ID_LEN) ||
	    !decode_hex(value + PARENT_ID_AT, tp.parent_id, KS_PARENT_ID_LEN) ||
	    !decode_hex(value + FLAGS_AT, &tp.flags, 1))
		return false;
	if (all_zero(tp.trace_id, KS_TRACE_ID_LEN) ||
	    all_zero(tp.parent_id, KS_PARENT_ID_LEN))
		return false;
	/* Other flags of a later version mean nothing in version 00. */
	if (tp.version != 0)
		tp.flags &= KS_TRACE_FLAG_SAMPLED;
	*out = tp;
	return true;
}

static void encode_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
}

void ks_traceparent_format(const struct ks_traceparent *tp,
			   char buf[KS_TRACEPARENT_LEN + 1])
{
	static const uint8_t version = 0;

	encode_hex(&version, 1, buf);
	buf[TRACE_ID_AT - 1] = '-';
	encode_hex(tp->trace_id, KS_TRACE_ID_LEN, buf + TRACE_ID_AT);
	buf[PARENT_ID_AT - 1] = '-';
	encode_hex(tp->parent_id, KS_PARENT_ID_LEN, buf + PARENT_ID_AT);
	buf[FLAGS_AT - 1] = '-';
	encode_hex(&tp->flags, 1, buf + FLAGS_AT);
	buf[KS_TRACEPARENT_LEN] = '\0';
}

static bool is_lcalpha(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_key_char(char c)
{
	return is_lcalpha(c) || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '*' || c == '/';
}

/* simple-key, or tenant-id "@" system-id for multi-tenant vendors. */
static bool valid_key(const char *key, size_t len)
{
	const char *at = memchr(key, '@', len);
	size_t tenant_len = at ? (size_t)(at - key) : len;

	if (!len || !(at ? is_key_char(key[0]) : is_lcalpha(key[0])))
		return false;
	for (size_t i = 1; i < tenant_len; i++)
		if (!is_key_char(key[i]))
			return false;
	if (!at)
		return len <= SIMPLE_KEY_MAX;
	if (tenant_len > TENANT_ID_MAX)
		return false;
	key = at + 1;
	len -= tenant_len + 1;
	if (!len || len > SYSTEM_ID_MAX || !is_lcalpha(key[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_key_char(key[i]))
			return false;
	return true;
}

/*
 * Printable ASCII but "," and "=".  It cannot end in a space: the caller
 * trimmed that as whitespace around the member.
 */
static bool valid_value(const char *value, size_t len)
{
	if (!len || len > VALUE_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (value[i] < 0x20 || value[i] > 0x7e || value[i] == ',' ||
		    value[i] == '=')
			return false;
	return true;
}

struct tracestate_key {
	const char *at;
	size_t len;
};

static bool key_seen(const struct tracestate_key *keys, size_t nr,
		     const char *key, size_t len)
{
	for (size_t i = 0; i < nr; i++)
		if (keys[i].len == len && !memcmp(keys[i].at, key, len))
			return true;
	return false;
}

bool ks_tracestate_valid(const char *value, size_t len)
{
	struct tracestate_key keys[KS_TRACESTATE_MEMBERS_MAX];
	const char *end = value + len;
	size_t nr = 0;

	if (len > KS_TRACESTATE_MAX)
		return false;
	while (value < end) {
		const char *comma = memchr(value, ',', (size_t)(end - value));
		const char *member_end = comma ? comma : end;
		const char *eq;

		ks_http_trim_ows(&value, &member_end);
		/* Empty and whitespace-only members are allowed and skipped. */
		if (value < member_end) {
			eq = memchr(value, '=', (size_t)(member_end - value));
			if (!eq || nr == KS_TRACESTATE_MEMBERS_MAX ||
			    !valid_key(value, (size_t)(eq - value)) ||
			    !valid_value(eq + 1, (size_t)(member_end - eq - 1)))
				return false;
			if (key_seen(keys, nr, value, (size_t)(eq - value)))
				return false;
			keys[nr].at = value;
			keys[nr++].len = (size_t)(eq - value);
		}
		if (!comma)
			break;
		value = comma + 1;
	}
	return true;
}
