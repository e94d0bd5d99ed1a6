// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reads what preflight.c judges: privileges, kernel features, settings. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "base/small_file.h"
#include "capture/preflight.h"

#define KS_BTF_PATH "/sys/kernel/btf/vmlinux"
#define KS_LOCKDOWN_PATH "/sys/kernel/security/lockdown"

static int ks_read_int(const char *path)
{
	char line[32];
	int value;

	if (ks_read_first_line(path, line, sizeof(line)) ||
	    sscanf(line, "%d", &value) != 1)
		return KS_UNKNOWN;
	return value;
}

static void ks_read_status(struct ks_preflight_facts *facts)
{
	char status[4096];
	const char *field;
	unsigned long long caps;
	int seccomp;

	if (ks_read_small_file("/proc/self/status", status, sizeof(status)) < 0)
		return;
	field = ks_status_field(status, "CapEff");
	if (field && sscanf(field, "%llx", &caps) == 1) {
		facts->caps = caps;
		facts->caps_known = true;
	}
	field = ks_status_field(status, "Seccomp");
	if (field && sscanf(field, "%d", &seccomp) == 1)
		facts->seccomp = seccomp;
}

/* "none [integrity] confidentiality": the mode in force is bracketed. */
static enum ks_lockdown ks_read_lockdown(void)
{
	char line[128];

	if (ks_read_first_line(KS_LOCKDOWN_PATH, line, sizeof(line)))
		return KS_LOCKDOWN_UNKNOWN;
	if (strstr(line, "[none]"))
		return KS_LOCKDOWN_NONE;
	if (strstr(line, "[integrity]"))
		return KS_LOCKDOWN_INTEGRITY;
	if (strstr(line, "[confidentiality]"))
		return KS_LOCKDOWN_CONFIDENTIALITY;
	return KS_LOCKDOWN_UNKNOWN;
}

/*
 * The smallest program the kernel accepts ("r0 = 0; exit") of the type
 * knotscope falls back to: it tells whether bpf() works at all for this
 * process, apart from what the real programs ask of the verifier.
 */
static int ks_probe_prog_load(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL, "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/* The ring buffer map type arrived with Linux 5.8. */
static int ks_probe_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0,
				(unsigned int)sysconf(_SC_PAGESIZE), NULL);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static uint64_t ks_rlim_bytes(rlim_t value)
{
	return value == RLIM_INFINITY ? KS_RLIM_UNLIMITED : (uint64_t)value;
}

void ks_preflight_gather(struct ks_preflight_facts *facts)
{
	struct utsname uts;
	struct rlimit memlock;

	memset(facts, 0, sizeof(*facts));
	facts->seccomp = KS_UNKNOWN;
	ks_read_status(facts);
	facts->cap_last_cap = ks_read_int("/proc/sys/kernel/cap_last_cap");
	facts->root = geteuid() == 0;

	facts->kernel_major = facts->kernel_minor = KS_UNKNOWN;
	if (!uname(&uts) && sscanf(uts.release, "%d.%d", &facts->kernel_major,
				   &facts->kernel_minor) != 2)
		facts->kernel_major = facts->kernel_minor = KS_UNKNOWN;

	facts->btf = !access(KS_BTF_PATH, R_OK);
	facts->prog_load = ks_probe_prog_load();
	facts->ringbuf = ks_probe_ringbuf();
	facts->lockdown = ks_read_lockdown();

	facts->memlock_soft = facts->memlock_hard = KS_RLIM_UNLIMITED;
	if (!getrlimit(RLIMIT_MEMLOCK, &memlock)) {
		facts->memlock_soft = ks_rlim_bytes(memlock.rlim_cur);
		facts->memlock_hard = ks_rlim_bytes(memlock.rlim_max);
	}
	facts->perf_event_paranoid =
		ks_read_int("/proc/sys/kernel/perf_event_paranoid");
	facts->unprivileged_bpf_disabled =
		ks_read_int("/proc/sys/kernel/unprivileged_bpf_disabled");
}
