/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a wait is, guessed from the functions on its stack: the runtime's
 * (CPython, Rust's std) first, then the C library's.  Names say more than
 * futex words, when the binaries have symbols.
 */
#ifndef KS_LOCK_GUESS_H
#define KS_LOCK_GUESS_H

#include "model/wait_target.h"
#include "stacks/symbolize.h"

/* The guess the stack supports, or from_words when it says nothing. */
enum ks_wait_guess ks_guess_from_stack(const struct ks_stack *stack,
				       enum ks_wait_guess from_words);

#endif /* KS_LOCK_GUESS_H */
