// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Arbitrary bytes as a collector's answer to an export: the partial
 * success decoder reads no further than the body, counts no negative
 * rejections, and its message fits the buffer it was given.
 */
#include <string.h>

#include "fuzz.h"
#include "otlp/otlp_pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Its own buffer, exactly the size: ASan sees any read past it. */
	uint8_t *body = malloc(size ? size : 1);
	char message[64];

	if (!body)
		return 0;
	memcpy(body, data, size);
	for (int signal = 0; signal < KS_OTLP_NR_SIGNALS; signal++) {
		int64_t rejected;

		memset(message, 'x', sizeof(message));
		rejected = ks_otlp_rejected_items(signal, body, size, message,
						  sizeof(message));
		CHECK(rejected >= -1);
		CHECK(memchr(message, '\0', sizeof(message)));
		if (rejected < 0)
			continue;
		/* Decoding the same bytes twice gives the same answer. */
		CHECK(ks_otlp_rejected_items(signal, body, size, message,
					     sizeof(message)) == rejected);
	}
	free(body);
	return 0;
}
