/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a wait was asked for: the first frame of the waiting thread's stack
 * that is not the C library's lock, join or futex machinery.  Found from the
 * stack snapshot taken at wait entry, so it works after the thread moved on.
 */
#ifndef KS_WAIT_SITE_H
#define KS_WAIT_SITE_H

#include <stdbool.h>

#include "model/table.h"
#include "stacks/symbolize.h"

/*
 * Unwinds at most max_frames of the stack the thread's wait began with,
 * from the snapshot only (the thread may be anywhere by now).  0, or -1.
 */
int ks_wait_stack(struct ks_symbolizer *symbolizer,
		  const struct ks_thread *thread, unsigned int max_frames,
		  struct ks_stack *stack);

/* 0 with site filled, or -1 when no frame outside the machinery was found. */
int ks_wait_site(struct ks_symbolizer *symbolizer,
		 const struct ks_thread *thread, struct ks_frame *site);

/* Whether a frame belongs to the lock implementation.  For tests. */
bool ks_frame_in_lock_machinery(const struct ks_frame *frame);

#endif /* KS_WAIT_SITE_H */
