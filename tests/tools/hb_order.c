// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How two exported happens-before points are ordered, computed from their
 * encodings alone (knotscope.hb.clock, see agent/hb_point.h), as a backend
 * or a test would.  Reads pairs "A B" from stdin, one per line, and prints
 * for each "before", "after", "concurrent", "equal" or "unknown".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb/hb_point.h"

int main(void)
{
	char *line = NULL, *a, *b, *save;
	size_t cap = 0;
	int status = 0;

	while (getline(&line, &cap, stdin) > 0) {
		struct ks_vclock *clock_a = NULL, *clock_b = NULL;
		struct ks_hb_point pa, pb;

		a = strtok_r(line, " \t\n", &save);
		b = strtok_r(NULL, " \t\n", &save);
		if (!a || !b || ks_hb_point_decode(a, &pa, &clock_a) ||
		    ks_hb_point_decode(b, &pb, &clock_b)) {
			fprintf(stderr, "hb_order: not two encoded points\n");
			status = 1;
			puts("invalid");
		} else {
			puts(ks_hb_order_name(ks_hb_point_order(&pa, &pb)));
		}
		ks_vclock_put(NULL, clock_a);
		ks_vclock_put(NULL, clock_b);
	}
	free(line);
	return status;
}
