/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The socket records of the ring buffer (KS_EV_SOCK_*), checked and
 * decoded into one view.  Everything in a record is checked here, once, so
 * that what consumes the view can trust its lengths and enumerations.
 */
#ifndef KS_SOCK_RECORD_H
#define KS_SOCK_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "knotscope_abi.h"

struct ks_sock_event {
	uint16_t kind; /* KS_EV_SOCK_OPEN, _DATA or _CLOSE */
	uint64_t ts_ns;
	/* Who moved the data; for a close, whoever the socket ended under. */
	uint32_t tgid;
	uint32_t tid;
	uint64_t conn_id; /* never 0 */
	/* KS_EV_SOCK_OPEN */
	uint64_t sock; /* the kernel side's key for it, never 0 */
	uint8_t role; /* enum ks_conn_role */
	struct ks_conn_tuple tuple;
	/* KS_EV_SOCK_DATA */
	int32_t fd; /* the descriptor the call named, -1: unknown */
	uint8_t direction; /* enum ks_sock_direction */
	uint8_t flags; /* KS_SOCK_* */
	uint64_t total_len; /* >= captured_len */
	size_t captured_len; /* <= KS_SOCK_CAPTURE_MAX */
	const uint8_t *data; /* captured_len bytes, inside the record */
	uint8_t trace_id[16]; /* KS_SOCK_SPAN_STARTED */
	uint8_t span_id[8];
};

/* Whether kind is one of the socket records. */
static inline int ks_sock_record_kind(unsigned int kind)
{
	return kind == KS_EV_SOCK_OPEN || kind == KS_EV_SOCK_DATA ||
	       kind == KS_EV_SOCK_CLOSE;
}

/*
 * Decodes a whole record of size bytes into ev, which points into it for
 * the data.  -EINVAL for anything a well-behaved kernel side cannot have
 * written: wrong sizes, unknown enumerations, zero ids.
 */
int ks_sock_record_decode(const void *record, size_t size,
			  struct ks_sock_event *ev);

#endif /* KS_SOCK_RECORD_H */
