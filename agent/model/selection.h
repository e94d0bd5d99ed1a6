/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which processes are watched.  The kernel side applies the same rule to
 * every event; the agent applies it to /proc at start and on exec, where a
 * process can start or stop matching --comm.
 */
#ifndef KS_SELECTION_H
#define KS_SELECTION_H

#include <stdbool.h>
#include <stdint.h>

#include "knotscope_abi.h"

struct ks_selection {
	const uint32_t *pids;
	unsigned int nr_pids;
	const char (*comms)[KS_COMM_LEN];
	unsigned int nr_comms;
	uint32_t agent_tgid; /* never watched */
};

bool ks_selection_all(const struct ks_selection *selection);
bool ks_selection_matches(const struct ks_selection *selection, uint32_t tgid,
			  const char *leader_comm);
uint32_t ks_selection_filter_mode(const struct ks_selection *selection);
void ks_selection_describe(const struct ks_selection *selection, char *buf,
			   unsigned long size);

#endif /* KS_SELECTION_H */
