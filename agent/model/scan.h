/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The start-up scan: every selected process and thread from /proc, and the
 * threads already blocked in a futex wait, which the kernel side cannot
 * have seen begin.  A program that deadlocked before knotscope started is
 * found this way.
 */
#ifndef KS_SCAN_H
#define KS_SCAN_H

#include "model/model.h"

/* Lets the kernel side report the end of a wait found here. */
typedef int (*ks_track_wait_fn)(void *ctx, uint32_t tid,
				const struct ks_inflight *inflight);

struct ks_scan_result {
	unsigned int nr_processes;
	unsigned int nr_threads;
	unsigned int nr_seeded_waits;
};

int ks_scan(struct ks_model *model, ks_track_wait_fn track, void *ctx,
	    struct ks_scan_result *result);

/*
 * Reads the words around begin->uaddr in process pid into begin, as the
 * kernel side does at wait entry, and sets KS_WAIT_WORDS_OK,
 * KS_WAIT_KIND_OK and KS_WAIT_BEFORE_OK for what could be read.
 */
void ks_read_lock_words(uint32_t pid, struct ks_wait_begin *begin);

/*
 * Reads the stack of a thread blocked in a wait into begin, from
 * begin->regs[KS_REG_SP] up, as the kernel side reads it at wait entry: it
 * cannot change while the thread stays in that call, which the caller
 * checks afterwards.  Near the top of a stack the whole snapshot may not be
 * mapped: then less; stack_len says how much.
 */
void ks_read_wait_stack(const struct ks_thread *thread,
			struct ks_wait_begin *begin);

#endif /* KS_SCAN_H */
