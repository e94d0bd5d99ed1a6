/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The header every ring buffer record a test builds starts with. */
#ifndef KS_TEST_RECORD_HEADER_H
#define KS_TEST_RECORD_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "knotscope_abi.h"

static inline void record_header(struct ks_event_header *hdr, uint16_t kind,
				 size_t size, uint32_t tgid, uint32_t tid,
				 uint64_t ts_ns)
{
	hdr->ts_ns = ts_ns;
	hdr->tgid = tgid;
	hdr->tid = tid;
	hdr->kind = kind;
	hdr->size = (uint16_t)size;
}

#endif /* KS_TEST_RECORD_HEADER_H */
