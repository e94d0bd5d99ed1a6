// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "preflight.h"

#define KS_BTF_PATH "/sys/kernel/btf/vmlinux"

/* Capability numbers from <linux/capability.h>; 38 and 39 are 5.8+. */
#define KS_CAP_SYS_PTRACE 19
#define KS_CAP_SYS_ADMIN 21
#define KS_CAP_PERFMON 38
#define KS_CAP_BPF 39

static int ks_effective_caps(unsigned long long *caps)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", caps) == 1) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int ks_check_kernel_version(void)
{
	struct utsname uts;
	int major = 0, minor = 0;

	if (uname(&uts) || sscanf(uts.release, "%d.%d", &major, &minor) != 2)
		return 0; /* unknown: let the load tell */
	if (major > 5 || (major == 5 && minor >= 8))
		return 0;
	ks_err("Linux %s is too old: knotscope needs 5.8 or newer (BPF ring "
	       "buffer, CAP_BPF)\n",
	       uts.release);
	return -1;
}

int ks_preflight(void)
{
	unsigned long long caps = 0;
	bool bpf_ok, ptrace_ok;

	if (ks_check_kernel_version())
		return -1;
	if (access(KS_BTF_PATH, R_OK)) {
		ks_err("this kernel exposes no BTF (%s is missing): knotscope "
		       "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
		       KS_BTF_PATH);
		return -1;
	}
	if (ks_effective_caps(&caps)) {
		ks_err("cannot read /proc/self/status to check privileges\n");
		return -1;
	}
#define HAS(cap) (!!(caps & (1ull << (cap))))
	bpf_ok = (HAS(KS_CAP_BPF) && HAS(KS_CAP_PERFMON)) ||
		 HAS(KS_CAP_SYS_ADMIN);
	/* Reading stacks, lock words and /proc/PID/syscall of others. */
	ptrace_ok = HAS(KS_CAP_SYS_PTRACE);
#undef HAS
	if (!bpf_ok || !ptrace_ok) {
		ks_err("missing privileges: run as root or grant "
		       "CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE\n");
		return -1;
	}
	return 0;
}
