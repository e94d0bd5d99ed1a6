// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>

#include "base/decimal.h"

int ks_parse_decimal(const char *text, unsigned long long *value,
		     const char **end)
{
	unsigned long long number;
	char *stop;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	number = strtoull(text, &stop, 10);
	if (errno || (!end && *stop))
		return -1;
	if (end)
		*end = stop;
	*value = number;
	return 0;
}
