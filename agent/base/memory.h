/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The agent's own memory: how much of it is resident, and the limit its
 * control group puts on it, if any.
 */
#ifndef KS_MEMORY_H
#define KS_MEMORY_H

#include <stdint.h>

/* Resident bytes of this process (/proc/self/statm); 0 if unreadable. */
uint64_t ks_memory_resident(void);
/* The most it ever had resident (VmHWM); 0 if unreadable. */
uint64_t ks_memory_peak(void);

/*
 * The smallest memory limit on the path of this process's control group
 * and its ancestors: memory.max (cgroup v2) or memory.limit_in_bytes
 * (v1); 0 when there is none.
 */
uint64_t ks_memory_cgroup_limit(void);

/*
 * The same from the text of a /proc/PID/cgroup file and the directory the
 * hierarchies are mounted under ("/sys/fs/cgroup").  For tests.
 */
uint64_t ks_memory_cgroup_limit_in(const char *cgroup_text,
				   const char *fs_root);

#endif /* KS_MEMORY_H */
