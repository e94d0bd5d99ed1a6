/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The agent's run: set up, watch until told to stop, tear down. */
#ifndef KS_AGENT_H
#define KS_AGENT_H

#include "run/options.h"

/* Returns the process exit status. */
int ks_agent_run(const struct ks_options *options);

#endif /* KS_AGENT_H */
