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

/* Whether a loaded program, not one of own[], uses map map_id. */
bool ks_bpf_map_used_by_prog(uint32_t map_id, const uint32_t *own,
			     unsigned int nr_own);

#endif /* KS_BPFFS_H */
