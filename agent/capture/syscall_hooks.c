// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "base/log.h"
#include "capture/syscall_hooks.h"

static const char *const ks_hooks_names[KS_HOOKS_COUNT] = {
	[KS_HOOKS_FENTRY] = "fentry",
	[KS_HOOKS_TRACEPOINT] = "tracepoint",
	[KS_HOOKS_SYS_ENTER] = "sys_enter",
};

const char *ks_syscall_hooks_name(enum ks_syscall_hooks hooks)
{
	return hooks < KS_HOOKS_COUNT ? ks_hooks_names[hooks] : "none";
}

/* The index of name in names[n], or -EINVAL. */
static int ks_name_index(const char *const *names, unsigned int n,
			 const char *name)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return (int)i;
	return -EINVAL;
}

int ks_syscall_hooks_parse(const char *name, enum ks_syscall_hooks *out)
{
	int i = ks_name_index(ks_hooks_names, KS_HOOKS_COUNT, name);

	if (i < 0)
		return i;
	*out = i;
	return 0;
}

static const char *const ks_wait_hooks_names[] = {
	[KS_WAITS_SCHED] = "sched",
	[KS_WAITS_SYSCALL] = "syscall",
};

const char *ks_wait_hooks_name(enum ks_wait_hooks hooks)
{
	return ks_wait_hooks_names[hooks];
}

int ks_wait_hooks_parse(const char *name, enum ks_wait_hooks *out)
{
	int i = ks_name_index(ks_wait_hooks_names,
			      sizeof(ks_wait_hooks_names) /
				      sizeof(ks_wait_hooks_names[0]),
			      name);

	if (i < 0)
		return i;
	*out = i;
	return 0;
}

unsigned int ks_syscall_hooks_plan(const enum ks_syscall_hooks *requested,
				   bool fentry_works, bool tracefs_works,
				   enum ks_syscall_hooks plan[KS_HOOKS_COUNT])
{
	unsigned int n = 0;

	if (requested) {
		plan[n++] = *requested;
		return n;
	}
	if (fentry_works)
		plan[n++] = KS_HOOKS_FENTRY;
	if (tracefs_works)
		plan[n++] = KS_HOOKS_TRACEPOINT;
	/* Works wherever anything does: always the last resort. */
	plan[n++] = KS_HOOKS_SYS_ENTER;
	return n;
}

static bool ks_starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

enum ks_syscall_hooks ks_syscall_hooks_of(const char *section, const char *name)
{
	if (ks_starts_with(section, "fentry/") ||
	    ks_starts_with(section, "fexit/"))
		return KS_HOOKS_FENTRY;
	if (ks_starts_with(section, "tracepoint/syscalls/"))
		return KS_HOOKS_TRACEPOINT;
	/* The generic hooks, as tp_btf or raw_tp twins. */
	if (ks_starts_with(name, "ks_sys_enter") ||
	    ks_starts_with(name, "ks_sys_exit"))
		return KS_HOOKS_SYS_ENTER;
	return KS_HOOKS_NONE;
}

enum ks_syscall_user ks_syscall_user_of(const char *name)
{
	if (ks_starts_with(name, "ks_sys_enter") ||
	    ks_starts_with(name, "ks_sys_exit"))
		return KS_FOR_WAITS_OR_CHANNELS;
	if (ks_starts_with(name, "ks_enter_futex") ||
	    ks_starts_with(name, "ks_exit_futex") ||
	    ks_starts_with(name, "ks_exit_restart_syscall"))
		return KS_FOR_WAITS;
	if (ks_starts_with(name, "ks_enter_") ||
	    ks_starts_with(name, "ks_exit_"))
		return KS_FOR_CHANNELS;
	return KS_FOR_NOTHING;
}

/* The function behind futex(), as fentry names it. */
#if defined(__x86_64__)
#define KS_PROBE_SYSCALL_FN "__x64_sys_futex"
#elif defined(__aarch64__)
#define KS_PROBE_SYSCALL_FN "__arm64_sys_futex"
#endif

bool ks_fentry_works(void)
{
	/* r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },
		{ .code = 0x95 },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = BPF_TRACE_FENTRY);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, prog = -1, link = -1;
	bool works = false;

	if (!vmlinux)
		goto cleanup;
	id = btf__find_by_name_kind(vmlinux, KS_PROBE_SYSCALL_FN,
				    BTF_KIND_FUNC);
	if (id <= 0)
		goto cleanup;
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ks_fentry_probe", "GPL",
			     insns, sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0) {
		ks_debug("fentry programs cannot be loaded here (%s)\n",
			 strerror(errno));
		goto cleanup;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0)
		ks_debug("fentry programs cannot be attached here (%s)\n",
			 strerror(errno));
	works = link >= 0;
cleanup:
	if (link >= 0)
		close(link);
	if (prog >= 0)
		close(prog);
	btf__free(vmlinux);
	return works;
}

int ks_tracefs_ensure(char *reason, unsigned int size)
{
	/* Where libbpf reads tracepoint ids: debugfs's view, if there. */
	const char *dir = access("/sys/kernel/debug/tracing", F_OK) ?
				  "/sys/kernel/tracing" :
				  "/sys/kernel/debug/tracing";
	char events[128], trace[128];

	snprintf(events, sizeof(events), "%s/events/syscalls", dir);
	if (!access(events, F_OK))
		return 0;
	/* Every tracefs has a trace file: without it, none is mounted. */
	snprintf(trace, sizeof(trace), "%s/trace", dir);
	if (access(trace, F_OK)) {
		if (mount("tracefs", dir, "tracefs", 0, NULL)) {
			int err = errno;

			snprintf(reason, size, "cannot mount tracefs at %s: %s",
				 dir, strerror(err));
			return -err;
		}
		ks_info("mounted tracefs at %s, for the syscall tracepoints\n",
			dir);
		if (!access(events, F_OK))
			return 0;
	}
	snprintf(reason, size,
		 "the kernel has no syscall tracepoints "
		 "(CONFIG_FTRACE_SYSCALLS)");
	return -ENOENT;
}
