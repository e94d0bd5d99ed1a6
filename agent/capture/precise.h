/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Precise mode's attachments: uprobes on the pthread mutex API, in the
 * library (or static executable) each --precise process really uses, seen
 * through its own mount namespace.  Attached per process, so no other
 * process that maps the same library pays for a probe.
 */
#ifndef KS_PRECISE_H
#define KS_PRECISE_H

#include <stdbool.h>
#include <stdint.h>

#include "capture/capture.h"

struct ks_precise;

/* pids and comms: the --precise selection. */
struct ks_precise *ks_precise_new(struct ks_capture *capture,
				  const uint32_t *pids, unsigned int nr_pids,
				  const char (*comms)[KS_COMM_LEN],
				  unsigned int nr_comms);
void ks_precise_free(struct ks_precise *precise);

bool ks_precise_wants(const struct ks_precise *precise, uint32_t tgid,
		      const char *comm);
/*
 * Attaches to process tgid unless done; 0, or -errno after saying why.
 * -EAGAIN: just after its exec, its loader has not mapped libc yet; it is
 * tried again by ks_precise_retry() for a few seconds.
 */
int ks_precise_attach(struct ks_precise *precise, uint32_t tgid);
/* Each tick: the processes still waiting for their libc. */
void ks_precise_retry(struct ks_precise *precise, uint64_t now_ns);
/* The process exited or exec'd: its probes go with its old image. */
void ks_precise_detach(struct ks_precise *precise, uint32_t tgid);

/*
 * Which file of the process defines pthread_mutex_lock, from its maps:
 * libpthread for glibc before 2.34, libc after, the executable itself when
 * static; -EAGAIN while the dynamic loader is mapped and libc not yet.  The
 * path is the process's, rooted at /proc/PID/root.  For tests.
 */
int ks_precise_find_library(uint32_t tgid, char *path, size_t size);

#endif /* KS_PRECISE_H */
