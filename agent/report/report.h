/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A confirmed deadlock with everything a person needs to fix it. */
#ifndef KS_REPORT_H
#define KS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/trace_ids.h"
#include "detect/detector.h"
#include "detect/lockorder.h"
#include "detect/stall.h"
#include "stacks/symbolize.h"

struct ks_report {
	const struct ks_deadlock *deadlock;
	const struct ks_stack *member_stacks; /* [deadlock->nr_members] */
	const struct ks_stack *behind_stacks; /* [deadlock->nr_behind] */
	uint64_t confirmed_real_ns;
	int64_t latency_ns; /* from the last member blocking; -1 unknown */
	/* The trace the deadlock is exported as, with OTLP export. */
	bool traced;
	uint8_t trace_id[KS_TRACE_ID_LEN];
};

/* Several lines for people, on stderr. */
void ks_report_write_text(FILE *out, const struct ks_report *report);

/* A confirmed stall, with what each thread's wait most likely is. */
struct ks_stall_report {
	const struct ks_stall *stall;
	const struct ks_stack *stacks; /* [stall->nr_members] */
	const enum ks_wait_guess *guesses; /* [stall->nr_members] */
	/* Signals the process has handlers for (SigCgt); known: read. */
	uint64_t caught_signals;
	bool caught_signals_known;
	uint64_t confirmed_real_ns;
	int64_t latency_ns; /* from the last thread blocking; -1 unknown */
};

void ks_stall_write_text(FILE *out, const struct ks_stall_report *report);
/* "SIGUSR1,SIGTERM" for a SigCgt mask, "" for none. */
void ks_signal_set_describe(uint64_t mask, char *buf, size_t size);

/* A lock-order inversion found in precise mode, with its stacks. */
struct ks_inversion_report {
	const struct ks_inversion *found;
	const char *process_comm;
	const char **thread_comms; /* [nr_orders], of each order's thread */
	const struct ks_stack *first_stacks; /* [nr_orders] */
	const struct ks_stack *second_stacks; /* [nr_orders] */
	uint64_t real_ns;
};

void ks_inversion_write_text(FILE *out,
			     const struct ks_inversion_report *report);

/* "FUTEX_WAIT_PRIVATE", "FUTEX_LOCK_PI|FUTEX_CLOCK_REALTIME", ... */
void ks_futex_op_describe(uint32_t op, char *buf, unsigned long size);

#endif /* KS_REPORT_H */
