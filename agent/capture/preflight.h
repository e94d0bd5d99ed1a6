/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Checks, before anything is loaded, what knotscope needs from the kernel
 * and from its own privileges, so a missing piece is one clear line rather
 * than a verifier log.  The facts are gathered in one place
 * (preflight_facts.c) and judged in another (preflight.c), so the judging
 * can be tested with any machine's facts.
 */
#ifndef KS_PREFLIGHT_H
#define KS_PREFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

enum ks_preflight_mode {
	KS_PREFLIGHT_ENFORCE = 0, /* a blocker stops the agent (default) */
	KS_PREFLIGHT_WARN, /* blockers are warnings; the load may still fail */
};

enum ks_lockdown {
	KS_LOCKDOWN_UNKNOWN = 0, /* securityfs not mounted, or no LSM */
	KS_LOCKDOWN_NONE,
	KS_LOCKDOWN_INTEGRITY,
	KS_LOCKDOWN_CONFIDENTIALITY,
};

#define KS_UNKNOWN (-1)
#define KS_RLIM_UNLIMITED UINT64_MAX

/* What the checks look at.  KS_UNKNOWN where a value could not be read. */
struct ks_preflight_facts {
	bool caps_known;
	uint64_t caps; /* the effective set, CapEff in /proc/self/status */
	int cap_last_cap; /* /proc/sys/kernel/cap_last_cap */
	bool root; /* effective UID 0 */
	int kernel_major, kernel_minor; /* from uname; KS_UNKNOWN */
	bool btf; /* /sys/kernel/btf/vmlinux is readable */
	int prog_load; /* 0, or -errno of loading a trivial raw_tp program */
	int ringbuf; /* 0, or -errno of creating a BPF ring buffer */
	int seccomp; /* Seccomp: in /proc/self/status, 2 for a filter */
	enum ks_lockdown lockdown;
	uint64_t memlock_soft, memlock_hard; /* RLIMIT_MEMLOCK, bytes */
	int perf_event_paranoid;
	int unprivileged_bpf_disabled;
};

enum ks_preflight_severity {
	KS_PREFLIGHT_NOTE, /* explains a setting that does not matter */
	KS_PREFLIGHT_BLOCKER, /* the agent cannot work without it */
};

#define KS_PREFLIGHT_MAX_FINDINGS 8
#define KS_PREFLIGHT_TEXT_SIZE 320

struct ks_preflight_finding {
	enum ks_preflight_severity severity;
	char text[KS_PREFLIGHT_TEXT_SIZE]; /* one line, no newline */
};

/* Findings in the order they should be read: the root cause first. */
struct ks_preflight_report {
	struct ks_preflight_finding findings[KS_PREFLIGHT_MAX_FINDINGS];
	unsigned int nr;
};

void ks_preflight_gather(struct ks_preflight_facts *facts);
void ks_preflight_decide(const struct ks_preflight_facts *facts,
			 struct ks_preflight_report *report);
/*
 * Logs the report: notes at debug level; in ENFORCE mode the first blocker
 * as an error, and returns -1; in WARN mode every blocker as a warning,
 * and returns 0.
 */
int ks_preflight_apply(const struct ks_preflight_report *report,
		       enum ks_preflight_mode mode);
/* Gathers, decides and applies: 0 to go on, -1 to stop. */
int ks_preflight(enum ks_preflight_mode mode);

#endif /* KS_PREFLIGHT_H */
