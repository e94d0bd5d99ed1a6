// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "model/selection.h"

bool ks_selection_all(const struct ks_selection *selection)
{
	return !selection->nr_pids && !selection->nr_comms;
}

bool ks_selection_matches(const struct ks_selection *selection, uint32_t tgid,
			  const char *leader_comm)
{
	if (tgid == selection->agent_tgid)
		return false;
	if (ks_selection_all(selection))
		return true;
	for (unsigned int i = 0; i < selection->nr_pids; i++)
		if (selection->pids[i] == tgid)
			return true;
	for (unsigned int i = 0; i < selection->nr_comms; i++)
		if (!strncmp(selection->comms[i], leader_comm, KS_COMM_LEN))
			return true;
	return false;
}

uint32_t ks_selection_filter_mode(const struct ks_selection *selection)
{
	return (selection->nr_pids ? KS_FILTER_PID : 0) |
	       (selection->nr_comms ? KS_FILTER_COMM : 0);
}

void ks_selection_describe(const struct ks_selection *selection, char *buf,
			   unsigned long size)
{
	size_t pos = 0;

	if (ks_selection_all(selection)) {
		snprintf(buf, size, "all processes");
		return;
	}
	buf[0] = '\0';
	for (unsigned int i = 0; i < selection->nr_pids && pos < size; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "%spid %u",
					pos ? ", " : "", selection->pids[i]);
	for (unsigned int i = 0; i < selection->nr_comms && pos < size; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "%scomm %s",
					pos ? ", " : "", selection->comms[i]);
}
