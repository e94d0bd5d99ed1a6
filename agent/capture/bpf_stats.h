/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the agent's BPF programs cost the machine: the kernel's run-time
 * statistics, run count and time per program.  The kernel only keeps them
 * while someone holds them on (BPF_ENABLE_STATS returns a file
 * descriptor; closing it turns them off again), and while on they cost two
 * clock reads per program run, for every BPF program on the machine.
 */
#ifndef KS_BPF_STATS_H
#define KS_BPF_STATS_H

#include <bpf/libbpf.h>

#include "report/metrics.h"

/* A descriptor that keeps the statistics on, or -errno. */
int ks_bpf_stats_enable(void);

/* Fills health->bpf_progs with every loaded program of obj. */
void ks_bpf_stats_read(const struct bpf_object *obj,
		       struct ks_agent_health *health);

#endif /* KS_BPF_STATS_H */
