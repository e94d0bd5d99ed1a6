/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * How the system calls the kernel side needs are hooked, cheapest first:
 * fentry/fexit on each call's function, where the kernel allows BPF
 * trampolines; the per-syscall tracepoints, where tracefs can be had; the
 * generic sys_enter/sys_exit hooks, which every system call of the machine
 * pays for, everywhere else.  docs/capture-cost.md has the figures.
 */
#ifndef KS_SYSCALL_HOOKS_H
#define KS_SYSCALL_HOOKS_H

#include <stdbool.h>

enum ks_syscall_hooks {
	KS_HOOKS_FENTRY,
	KS_HOOKS_TRACEPOINT,
	KS_HOOKS_SYS_ENTER,
	KS_HOOKS_COUNT,
	KS_HOOKS_NONE = KS_HOOKS_COUNT, /* a program that hooks no syscall */
};

/*
 * Where futex waits are seen: when their thread blocks and is woken (the
 * scheduler's tracepoints, no system call hooked), or at the futex calls'
 * entries and exits.
 */
enum ks_wait_hooks {
	KS_WAITS_SCHED,
	KS_WAITS_SYSCALL,
};

/* "sched", "syscall". */
const char *ks_wait_hooks_name(enum ks_wait_hooks hooks);
/* 0, or -EINVAL for a name that is neither. */
int ks_wait_hooks_parse(const char *name, enum ks_wait_hooks *out);

/* Which system call programs a run needs, from a program's name. */
enum ks_syscall_user {
	KS_FOR_NOTHING, /* not a system call program */
	KS_FOR_WAITS, /* the futex calls, with --wait-hooks syscall */
	KS_FOR_CHANNELS, /* reads, writes, closes, reaps: --channel-edges */
	KS_FOR_WAITS_OR_CHANNELS, /* the generic hooks serve both */
};

enum ks_syscall_user ks_syscall_user_of(const char *name);

/* "fentry", "tracepoint", "sys_enter". */
const char *ks_syscall_hooks_name(enum ks_syscall_hooks hooks);
/* 0, or -EINVAL for a name that is none of them. */
int ks_syscall_hooks_parse(const char *name, enum ks_syscall_hooks *out);

/*
 * The ways to try, in order, into plan; how many.  requested: a name
 * already parsed, or NULL for the cheapest that works.  What the kernel
 * refuses is left out, but a way asked for by name is always tried, so
 * that its failure is the one reported.
 */
unsigned int ks_syscall_hooks_plan(const enum ks_syscall_hooks *requested,
				   bool fentry_works, bool tracefs_works,
				   enum ks_syscall_hooks plan[KS_HOOKS_COUNT]);

/* Which way a BPF program belongs to, from its section and name. */
enum ks_syscall_hooks ks_syscall_hooks_of(const char *section,
					  const char *name);

/* Whether the kernel loads and attaches an fentry program on a syscall. */
bool ks_fentry_works(void);

/*
 * Makes the syscall tracepoints reachable: mounts tracefs at
 * /sys/kernel/tracing when no tracefs is there (and says so).  0, or a
 * negative errno with why in reason.
 */
int ks_tracefs_ensure(char *reason, unsigned int size);

#endif /* KS_SYSCALL_HOOKS_H */
