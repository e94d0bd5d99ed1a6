// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Arbitrary bytes as traceparent and tracestate values: no read past the
 * value, and what is accepted formats back to what was read.
 */
#include <string.h>

#include "fuzz.h"
#include "httptrace/traceparent.h"

static void check_traceparent(const char *value, size_t len)
{
	struct ks_traceparent tp, again;
	char text[KS_TRACEPARENT_LEN + 1];

	if (!ks_traceparent_parse(value, len, &tp))
		return;
	CHECK(len >= KS_TRACEPARENT_LEN);
	CHECK(tp.version != 0xff);
	CHECK(tp.version == 0 || tp.flags <= KS_TRACE_FLAG_SAMPLED);
	ks_traceparent_format(&tp, text);
	CHECK(strlen(text) == KS_TRACEPARENT_LEN);
	CHECK(ks_traceparent_parse(text, KS_TRACEPARENT_LEN, &again));
	CHECK(!memcmp(&tp.trace_id, &again.trace_id, sizeof(tp.trace_id)));
	CHECK(!memcmp(&tp.parent_id, &again.parent_id, sizeof(tp.parent_id)));
	CHECK(tp.flags == again.flags);
	/* Version 00 is one exact form: it must come back byte for byte. */
	if (tp.version == 0)
		CHECK(len == KS_TRACEPARENT_LEN && !memcmp(text, value, len));
	else /* the same ids; version and flags are downgraded */
		CHECK(!memcmp(text + 2, value + 2, KS_TRACEPARENT_LEN - 4));
}

static void check_tracestate(const char *value, size_t len)
{
	if (!ks_tracestate_valid(value, len))
		return;
	CHECK(len <= KS_TRACESTATE_MAX);
	/* Printable ASCII and the whitespace around members, nothing else. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		CHECK((c >= 0x20 && c < 0x7f) || c == '\t');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_traceparent((const char *)data, size);
	check_tracestate((const char *)data, size);
	return 0;
}
