/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a watched process says about itself in its environment, read from
 * /proc/PID/environ: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.  Text
 * any process writes, so not trusted: it may add attributes, never set one
 * in a namespace the agent observes itself, and what it may set is capped
 * so a process cannot make its resource, which goes with every span and
 * metric about it, large.  No I/O here: the parsers are fuzzed.
 */
#ifndef KS_SELF_DESCRIBED_H
#define KS_SELF_DESCRIBED_H

#include <stdbool.h>
#include <stddef.h>

/* Past this, OTEL_RESOURCE_ATTRIBUTES is ignored whole. */
#define KS_SELF_DESCRIBED_TEXT_MAX 4096
#define KS_SELF_DESCRIBED_MAX_ATTRS 32
#define KS_SELF_DESCRIBED_VALUE_MAX 256

typedef void (*ks_attr_fn)(void *ctx, const char *key, const char *value);

/*
 * Calls add for what the environment block (len bytes of NAME=value
 * entries, each ended by a NUL, and a NUL after the last) says: service.name
 * from OTEL_SERVICE_NAME first, then each attribute of
 * OTEL_RESOURCE_ATTRIBUTES the process may set, at most
 * KS_SELF_DESCRIBED_MAX_ATTRS.  A malformed or too long value is ignored.
 */
void ks_self_described(const char *block, size_t len, ks_attr_fn add,
		       void *ctx);

/*
 * Whether a process may set this resource attribute about itself: not in
 * a namespace the agent observes (host.*, os.*, process.*, container.*,
 * k8s.*, telemetry.*, knotscope.*), printable, and a value of at most
 * KS_SELF_DESCRIBED_VALUE_MAX bytes.
 */
bool ks_process_may_set(const char *key, const char *value);

/* NAME's value in an environment block as above, or NULL. */
const char *ks_environ_get(const char *block, size_t len, const char *name);

#endif /* KS_SELF_DESCRIBED_H */
