/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where a wait was asked for: the first frame of the waiting thread's stack
 * that is not the C library's lock, join or futex machinery.  Found from the
 * stack snapshot taken at wait entry, so it works after the thread moved on.
 */
#ifndef KS_WAIT_SITE_H
#define KS_WAIT_SITE_H

#include <stdbool.h>

#include "model/lock_kind.h"
#include "model/table.h"
#include "stacks/symbolize.h"

/*
 * Unwinds at most max_frames of the stack the thread's wait began with,
 * from the snapshot only (the thread may be anywhere by now).  0, or -1.
 */
int ks_wait_stack(struct ks_symbolizer *symbolizer,
		  const struct ks_thread *thread, unsigned int max_frames,
		  struct ks_stack *stack);

/* The C library call a wait was asked for with, by family. */
enum ks_wait_api {
	KS_WAIT_API_UNKNOWN = 0,
	KS_WAIT_API_MUTEX, /* pthread_mutex_*lock, glibc's internal locks */
	KS_WAIT_API_RWLOCK,
	KS_WAIT_API_CONDITION, /* pthread_cond_*wait */
	KS_WAIT_API_SEMAPHORE,
	KS_WAIT_API_JOIN, /* pthread_*join */
	KS_WAIT_API_BARRIER,
};

/*
 * 0 with site filled, or -1 when no frame outside the machinery was found.
 * api (may be NULL) gets the family of the call the site made: the
 * outermost machinery frame whose function names one.  A call site always
 * makes the same call, whoever holds the lock, so it names waits
 * consistently where what the lock words said may differ from wait to wait.
 */
int ks_wait_site(struct ks_symbolizer *symbolizer,
		 const struct ks_thread *thread, struct ks_frame *site,
		 enum ks_wait_api *api);

/* The family a lock machinery function belongs to.  For tests. */
enum ks_wait_api ks_wait_api_of(const char *function);

/*
 * What a futex wait is for, in words ("mutex", "condition", "futex"...):
 * the call's family when the site is known, else the lock kind the
 * wait's words showed, every mutex flavour as "mutex".
 */
const char *ks_wait_what(enum ks_wait_api api, enum ks_lock_kind kind);

/* Whether a frame belongs to the lock implementation.  For tests. */
bool ks_frame_in_lock_machinery(const struct ks_frame *frame);

#endif /* KS_WAIT_SITE_H */
