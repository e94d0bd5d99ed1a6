// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/printable.h"

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t ks_utf8_length(const unsigned char *s, uint32_t *code)
{
	size_t len;
	uint32_t min;

	if (s[0] < 0x80) {
		*code = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, min = 0x80, *code = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, *code = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, *code = s[0] & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		/* The terminating NUL fails this test too. */
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*code = *code << 6 | (s[i] & 0x3f);
	}
	if (*code < min || *code > 0x10ffff ||
	    (*code >= 0xd800 && *code <= 0xdfff))
		return 0;
	return len;
}

/* Characters that act on a terminal rather than show. */
static bool ks_is_control(uint32_t code)
{
	return code < 0x20 || (code >= 0x7f && code <= 0x9f) ||
	       (code >= 0x202a && code <= 0x202e) ||
	       (code >= 0x2066 && code <= 0x2069);
}

bool ks_is_printable(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;

	while (*s) {
		uint32_t code;
		size_t len = ks_utf8_length(s, &code);

		if (!len || ks_is_control(code))
			return false;
		s += len;
	}
	return true;
}

char *ks_printable(const char *text, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t used = 0;

	if (!size)
		return out;
	while (*s) {
		uint32_t code;
		size_t len = ks_utf8_length(s, &code);
		char piece[4 * 4 + 1];
		size_t piece_len = 0;

		if (len && code == '\\') {
			memcpy(piece, "\\\\", 2);
			piece_len = 2;
		} else if (len && !ks_is_control(code)) {
			memcpy(piece, s, len);
			piece_len = len;
		} else {
			/* A control's every byte, or one malformed byte. */
			len = len ? len : 1;
			for (size_t i = 0; i < len; i++)
				piece_len += (size_t)snprintf(piece + piece_len,
							      sizeof(piece) -
								      piece_len,
							      "\\x%02x", s[i]);
		}
		if (used + piece_len >= size)
			break;
		memcpy(out + used, piece, piece_len);
		used += piece_len;
		s += len;
	}
	out[used] = '\0';
	return out;
}
