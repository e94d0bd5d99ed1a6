// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Arbitrary bytes as a process's /proc/PID/environ: what it may say about
 * itself comes out filtered, capped and printable, whatever it wrote.
 */
#include <string.h>

#include "base/printable.h"
#include "fuzz.h"
#include "meta/self_described.h"

struct taken {
	const char *block;
	size_t len;
	unsigned int nr;
};

static void check_attr(void *ctx, const char *key, const char *value)
{
	struct taken *taken = ctx;

	CHECK(++taken->nr <= KS_SELF_DESCRIBED_MAX_ATTRS + 1);
	CHECK(*key);
	CHECK(strlen(value) <= KS_SELF_DESCRIBED_VALUE_MAX);
	CHECK(ks_is_printable(key) && ks_is_printable(value));
	CHECK(ks_process_may_set(key, value));
	CHECK(strncmp(key, "host.", 5) && strncmp(key, "process.", 8) &&
	      strncmp(key, "k8s.", 4));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* As read from /proc: the bytes, and a NUL after them. */
	char *block = malloc(size + 1);
	struct taken taken = { block, size, 0 };
	const char *value;

	if (!block)
		return 0;
	memcpy(block, data, size);
	block[size] = '\0';
	value = ks_environ_get(block, size, "OTEL_RESOURCE_ATTRIBUTES");
	if (value) {
		CHECK(value > block && value <= block + size);
		CHECK(value + strlen(value) <= block + size);
		CHECK(!strncmp(value - sizeof("OTEL_RESOURCE_ATTRIBUTES"),
			       "OTEL_RESOURCE_ATTRIBUTES=",
			       sizeof("OTEL_RESOURCE_ATTRIBUTES")));
	}
	ks_self_described(block, size, check_attr, &taken);
	free(block);
	return 0;
}
