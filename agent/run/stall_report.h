/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Turns a confirmed stall into its reports: every thread's stack unwound
 * while it is still blocked and, from it, a guess at what it waits for;
 * the process's signal handlers; then text on stderr, a line on the
 * --json sink, a log record for OTLP, and the dashboard's history.
 */
#ifndef KS_STALL_REPORT_H
#define KS_STALL_REPORT_H

#include "detect/stall.h"
#include "run/deadlock_report.h"

/* A ks_stall_ops.report; ctx is a struct ks_deadlock_reporter. */
void ks_stall_report(void *ctx, const struct ks_stall *stall);

#endif /* KS_STALL_REPORT_H */
