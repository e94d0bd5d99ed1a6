// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Judges the facts preflight_facts.c gathered.  Checks run in the order of
 * cause and effect: without privileges every bpf() call fails, so a failed
 * probe is only reported once privileges are known to be there, and what
 * the kernel lacks comes before what the process lacks.
 *
 * Not checked, because knotscope does not depend on them: tracefs (its
 * programs are tp_btf and raw_tp, which attach by name through bpf()
 * alone; only classic tracepoints read event ids from tracefs), and
 * kprobes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "capture/preflight.h"

/* Capability numbers from <linux/capability.h>; 38 and 39 are 5.8+. */
#define KS_CAP_SYS_PTRACE 19
#define KS_CAP_SYS_ADMIN 21
#define KS_CAP_SYS_RESOURCE 24
#define KS_CAP_PERFMON 38
#define KS_CAP_BPF 39

#define KS_SECCOMP_FILTER 2

__attribute__((format(printf, 3, 4))) static void
ks_finding(struct ks_preflight_report *report,
	   enum ks_preflight_severity severity, const char *fmt, ...)
{
	struct ks_preflight_finding *finding;
	va_list ap;

	if (report->nr == KS_PREFLIGHT_MAX_FINDINGS)
		return;
	finding = &report->findings[report->nr++];
	finding->severity = severity;
	va_start(ap, fmt);
	vsnprintf(finding->text, sizeof(finding->text), fmt, ap);
	va_end(ap);
}

static bool ks_has(const struct ks_preflight_facts *facts, int cap)
{
	return facts->caps & (1ull << cap);
}

static bool ks_bpf_capable(const struct ks_preflight_facts *facts)
{
	return (ks_has(facts, KS_CAP_BPF) && ks_has(facts, KS_CAP_PERFMON)) ||
	       ks_has(facts, KS_CAP_SYS_ADMIN);
}

/* Returns whether the privileges are there. */
static bool ks_check_privileges(const struct ks_preflight_facts *facts,
				struct ks_preflight_report *report)
{
	char missing[64] = "";
	bool bpf_ok, ptrace_ok;

	if (!facts->caps_known) {
		ks_finding(report, KS_PREFLIGHT_BLOCKER,
			   "cannot read /proc/self/status to check privileges");
		return false;
	}
	bpf_ok = ks_bpf_capable(facts);
	/* Reading stacks, lock words and /proc/PID/syscall of others. */
	ptrace_ok = ks_has(facts, KS_CAP_SYS_PTRACE);
	if (bpf_ok && ptrace_ok)
		return true;

	if (facts->cap_last_cap != KS_UNKNOWN &&
	    facts->cap_last_cap < KS_CAP_BPF) {
		ks_finding(report, KS_PREFLIGHT_BLOCKER,
			   "missing privileges: this kernel predates CAP_BPF "
			   "and CAP_PERFMON, so loading BPF programs needs "
			   "CAP_SYS_ADMIN: run as root with all capabilities "
			   "(the Helm chart's privileged: true)");
		return false;
	}
	if (!bpf_ok && !ks_has(facts, KS_CAP_BPF))
		strcat(missing, " CAP_BPF");
	if (!bpf_ok && !ks_has(facts, KS_CAP_PERFMON))
		strcat(missing, " CAP_PERFMON");
	if (!ptrace_ok)
		strcat(missing, " CAP_SYS_PTRACE");
	ks_finding(report, KS_PREFLIGHT_BLOCKER,
		   "missing privileges (no%s): run as root or grant "
		   "CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE",
		   missing);
	return false;
}

static void ks_check_btf(const struct ks_preflight_facts *facts,
			 struct ks_preflight_report *report)
{
	if (facts->btf)
		return;
	ks_finding(report, KS_PREFLIGHT_BLOCKER,
		   "this kernel exposes no BTF (/sys/kernel/btf/vmlinux is "
		   "missing): knotscope needs a kernel built with "
		   "CONFIG_DEBUG_INFO_BTF=y; in a container, mount the host's "
		   "/sys/kernel/btf");
}

/* Before 5.11 the kernel charged BPF maps to RLIMIT_MEMLOCK, not memcg. */
static bool ks_memlock_charged(const struct ks_preflight_facts *facts)
{
	return facts->kernel_major != KS_UNKNOWN &&
	       (facts->kernel_major < 5 ||
		(facts->kernel_major == 5 && facts->kernel_minor < 11));
}

/*
 * libbpf raises RLIMIT_MEMLOCK to unlimited where maps are charged to it;
 * past a finite hard limit that takes CAP_SYS_RESOURCE.
 */
static bool ks_check_memlock(const struct ks_preflight_facts *facts,
			     struct ks_preflight_report *report)
{
	if (!ks_memlock_charged(facts) ||
	    facts->memlock_soft == KS_RLIM_UNLIMITED ||
	    facts->memlock_hard == KS_RLIM_UNLIMITED ||
	    ks_has(facts, KS_CAP_SYS_RESOURCE))
		return true;
	ks_finding(report, KS_PREFLIGHT_BLOCKER,
		   "Linux %d.%d charges BPF maps to RLIMIT_MEMLOCK, limited "
		   "to %llu KiB here, and knotscope lacks CAP_SYS_RESOURCE "
		   "to raise it: grant CAP_SYS_RESOURCE (the Helm chart's "
		   "kernelBefore511: true) or lift the limit",
		   facts->kernel_major, facts->kernel_minor,
		   (unsigned long long)(facts->memlock_soft >> 10));
	return false;
}

static void ks_refused(const struct ks_preflight_facts *facts,
		       struct ks_preflight_report *report, const char *what,
		       int err)
{
	const char *who = facts->seccomp == KS_SECCOMP_FILTER ?
				  "a seccomp filter (the container's seccomp "
				  "profile) or an LSM" :
				  "an LSM (AppArmor, SELinux)";

	ks_finding(report, KS_PREFLIGHT_BLOCKER,
		   "the kernel refused %s (%s) although the privileges are "
		   "there: %s blocks bpf(); allow it, e.g. with the Helm "
		   "chart's seccompProfile or appArmorProfile",
		   what, strerror(-err), who);
}

static bool ks_is_refusal(int err)
{
	return err == -EPERM || err == -EACCES;
}

static void ks_check_bpf(const struct ks_preflight_facts *facts,
			 struct ks_preflight_report *report)
{
	/* A program is charged to RLIMIT_MEMLOCK too: refused past it. */
	if (!ks_check_memlock(facts, report))
		return;
	if (ks_is_refusal(facts->prog_load)) {
		ks_refused(facts, report, "a trivial BPF program",
			   facts->prog_load);
		return;
	}
	if (facts->prog_load) {
		ks_finding(report, KS_PREFLIGHT_BLOCKER,
			   "this kernel cannot load the BPF programs knotscope "
			   "needs: bpf(BPF_PROG_LOAD) fails with %s "
			   "(CONFIG_BPF_SYSCALL)",
			   strerror(-facts->prog_load));
		return;
	}
	if (ks_is_refusal(facts->ringbuf)) {
		ks_refused(facts, report, "a BPF ring buffer", facts->ringbuf);
	} else if (facts->ringbuf) {
		ks_finding(report, KS_PREFLIGHT_BLOCKER,
			   "this kernel is too old: it has no BPF ring buffer "
			   "(%s), which came with Linux 5.8",
			   strerror(-facts->ringbuf));
	}
}

static void ks_check_lockdown(const struct ks_preflight_facts *facts,
			      struct ks_preflight_report *report)
{
	switch (facts->lockdown) {
	case KS_LOCKDOWN_CONFIDENTIALITY:
		ks_finding(report, KS_PREFLIGHT_BLOCKER,
			   "kernel lockdown is in confidentiality mode, which "
			   "forbids BPF programs to read kernel memory "
			   "(bpf_probe_read_kernel), as knotscope's do: boot "
			   "with lockdown=integrity or none");
		break;
	case KS_LOCKDOWN_INTEGRITY:
		ks_finding(report, KS_PREFLIGHT_NOTE,
			   "kernel lockdown is in integrity mode: no matter, "
			   "knotscope neither writes user memory from BPF nor "
			   "uses kprobes");
		break;
	case KS_LOCKDOWN_UNKNOWN:
		ks_finding(report, KS_PREFLIGHT_NOTE,
			   "kernel lockdown mode unknown "
			   "(/sys/kernel/security/lockdown unreadable): in "
			   "confidentiality mode the programs will not load");
		break;
	case KS_LOCKDOWN_NONE:
		break;
	}
}

/* Settings people suspect first, and why they do not apply. */
static void ks_note_sysctls(const struct ks_preflight_facts *facts,
			    struct ks_preflight_report *report)
{
	if (facts->unprivileged_bpf_disabled > 0)
		ks_finding(report, KS_PREFLIGHT_NOTE,
			   "kernel.unprivileged_bpf_disabled=%d does not "
			   "apply: it only restricts processes without "
			   "CAP_BPF or CAP_SYS_ADMIN",
			   facts->unprivileged_bpf_disabled);
	if (!facts->root && facts->perf_event_paranoid != KS_UNKNOWN)
		ks_finding(report, KS_PREFLIGHT_NOTE,
			   "kernel.perf_event_paranoid=%d does not apply: "
			   "knotscope opens no perf events, and CAP_PERFMON "
			   "overrides it for BPF tracing",
			   facts->perf_event_paranoid);
}

void ks_preflight_decide(const struct ks_preflight_facts *facts,
			 struct ks_preflight_report *report)
{
	memset(report, 0, sizeof(*report));
	/* What no privilege can fix first, so it is not fixed in vain. */
	ks_check_btf(facts, report);
	ks_check_lockdown(facts, report);
	if (ks_check_privileges(facts, report))
		ks_check_bpf(facts, report);
	ks_note_sysctls(facts, report);
}

int ks_preflight_apply(const struct ks_preflight_report *report,
		       enum ks_preflight_mode mode)
{
	bool blocked = false;

	for (unsigned int i = 0; i < report->nr; i++) {
		const struct ks_preflight_finding *f = &report->findings[i];

		if (f->severity == KS_PREFLIGHT_NOTE) {
			ks_debug("preflight: %s\n", f->text);
		} else if (mode == KS_PREFLIGHT_WARN) {
			ks_warn("%s (--preflight warn: starting anyway)\n",
				f->text);
		} else if (!blocked) {
			/* One line: the first blocker is the root cause. */
			ks_err("%s\n", f->text);
			blocked = true;
		}
	}
	return blocked ? -1 : 0;
}

int ks_preflight(enum ks_preflight_mode mode)
{
	struct ks_preflight_facts facts;
	struct ks_preflight_report report;

	ks_preflight_gather(&facts);
	ks_preflight_decide(&facts, &report);
	return ks_preflight_apply(&report, mode);
}
