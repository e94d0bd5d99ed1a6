/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ring buffer's records as the agent first meets them: their names and
 * the checks that come before anything reads one.  A leaf: it knows the ABI
 * and nothing of the agent.
 */
#ifndef KS_RECORD_H
#define KS_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "knotscope_abi.h"

/* "wait_begin", "fork"...: how records are named in JSON and metrics. */
const char *ks_record_kind_name(unsigned int kind);

/*
 * Whether size bytes at data are a whole record of a known kind: its
 * header says this size, and the kind's fixed part fits (socket data
 * records carry bytes after it).
 */
bool ks_record_valid(const void *data, size_t size);

#endif /* KS_RECORD_H */
