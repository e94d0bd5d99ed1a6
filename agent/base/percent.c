// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "base/percent.h"

static int ks_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int ks_percent_decode(const char *text, size_t len, char **out)
{
	char *decoded = malloc(len + 1);
	size_t n = 0;

	if (!decoded)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int high, low;

		if (text[i] != '%') {
			decoded[n++] = text[i];
			continue;
		}
		high = i + 2 < len ? ks_hex_digit(text[i + 1]) : -1;
		low = high < 0 ? -1 : ks_hex_digit(text[i + 2]);
		/* %00 would end the C string there, dropping the rest. */
		if (low < 0 || !(high | low)) {
			free(decoded);
			return low < 0 ? -EINVAL : -EILSEQ;
		}
		decoded[n++] = (char)(high << 4 | low);
		i += 2;
	}
	decoded[n] = '\0';
	*out = decoded;
	return 0;
}
