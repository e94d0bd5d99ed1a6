/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Random trace and span ids, non-zero as W3C Trace Context requires, from a
 * generator seeded once by the kernel: ids must not collide across agents
 * and restarts, and a getrandom() call per span would cost a system call.
 */
#ifndef KS_TRACE_IDS_H
#define KS_TRACE_IDS_H

#include <stdint.h>

#define KS_TRACE_ID_LEN 16
#define KS_SPAN_ID_LEN 8

void ks_trace_id_new(uint8_t id[KS_TRACE_ID_LEN]);
void ks_span_id_new(uint8_t id[KS_SPAN_ID_LEN]);

#endif /* KS_TRACE_IDS_H */
