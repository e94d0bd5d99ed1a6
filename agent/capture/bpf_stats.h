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
#include <stdint.h>

/* What one of the agent's BPF programs has cost, while stats were on. */
struct ks_bpf_prog_cost {
	char name[64];
	uint64_t run_count;
	uint64_t run_time_ns;
};

/* A descriptor that keeps the statistics on, or -errno. */
int ks_bpf_stats_enable(void);

/*
 * Fills costs with at most max of the loaded programs of obj; returns how
 * many it filled.
 */
unsigned int ks_bpf_stats_read(const struct bpf_object *obj,
			       struct ks_bpf_prog_cost *costs,
			       unsigned int max);

#endif /* KS_BPF_STATS_H */
