/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * W3C Trace Context: the traceparent and tracestate header values.
 * traceparent is decoded into binary ids; tracestate is only checked and
 * kept as the opaque string it is meant to be for everyone but its vendors.
 */
#ifndef KS_TRACEPARENT_H
#define KS_TRACEPARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_TRACE_ID_LEN 16
#define KS_PARENT_ID_LEN 8
/* "00-" trace-id "-" parent-id "-" flags: the version 00 text form. */
#define KS_TRACEPARENT_LEN 55
#define KS_TRACE_FLAG_SAMPLED 0x01

/*
 * The spec asks vendors to propagate at least 512 characters of tracestate
 * and at most 32 list members exist; longer values are dropped, not cut.
 */
#define KS_TRACESTATE_MAX 512
#define KS_TRACESTATE_MEMBERS_MAX 32

struct ks_traceparent {
	uint8_t version;
	uint8_t trace_id[KS_TRACE_ID_LEN];
	uint8_t parent_id[KS_PARENT_ID_LEN];
	uint8_t flags;
};

/*
 * Decodes a traceparent value (without surrounding whitespace).  Version 00
 * must match its format exactly; a later version is read for the fields
 * version 00 defines, as the spec's forward-compatibility rules say, and
 * keeps only the sampled flag.  Returns false for an invalid value.
 */
bool ks_traceparent_parse(const char *value, size_t len,
			  struct ks_traceparent *out);

/*
 * Writes the version 00 form of tp and a NUL into buf.  Version 00 is the
 * only one this agent knows how to send, whatever version was received.
 */
void ks_traceparent_format(const struct ks_traceparent *tp,
			   char buf[KS_TRACEPARENT_LEN + 1]);

/*
 * Whether a (combined) tracestate value is a valid list: list-members of
 * key=value separated by commas with optional whitespace, empty members
 * allowed, at most KS_TRACESTATE_MEMBERS_MAX members, no key twice, and at
 * most KS_TRACESTATE_MAX characters.
 */
bool ks_tracestate_valid(const char *value, size_t len);

#endif /* KS_TRACEPARENT_H */
