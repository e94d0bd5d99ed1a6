/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF filesystems pins live in, and who else uses a pinned map.
 *
 * A machine without a BPF filesystem gets one mounted by the agent, under
 * the source name "knotscope" so that it can be told apart: the agent
 * unmounts it once nothing is pinned there, and so does a later run when
 * the one that mounted it was killed before it could.
 */
#ifndef KS_BPFFS_H
#define KS_BPFFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Makes sure a BPF filesystem is mounted at dir, mounting one when none
 * is (and saying so, with why: "for --pin").  0, or -errno.
 */
int ks_bpffs_ensure(const char *dir, const char *why);

/* Unmounts dir if it is a BPF filesystem knotscope mounted, now empty. */
void ks_bpffs_release(const char *dir);

/*
 * A process other than this one that holds map map_id open, or 0: an
 * agent still running, or a profiler reading traces_ctx_v1.
 */
pid_t ks_bpf_map_holder(uint32_t map_id);

/*
 * The first loaded program after program *after, not one of own[], that
 * uses map map_id: its id, or 0.  *after is left at the last program looked
 * at.  The kernel gives programs ever higher ids, so a caller that keeps
 * *after looks at each program once (0: from the first).
 */
uint32_t ks_bpf_map_next_user_prog(uint32_t map_id, uint32_t *after,
				   const uint32_t *own, unsigned int nr_own);

/* Whether program prog_id is still loaded (when unsure: yes). */
bool ks_bpf_prog_loaded(uint32_t prog_id);

#endif /* KS_BPFFS_H */
