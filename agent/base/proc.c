// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "base/proc.h"
#include "base/small_file.h"

static const char *proc_root = "/proc";

void ks_proc_set_root(const char *root)
{
	proc_root = root;
}

const char *ks_proc_root(void)
{
	return proc_root;
}

/* Fields of /proc/.../stat after the comm, which may hold spaces and ')'. */
static int ks_parse_stat(const char *stat, struct ks_proc_task *out)
{
	const char *open = strchr(stat, '(');
	const char *close = strrchr(stat, ')');
	const char *p;
	size_t len;
	int field;

	if (!open || !close || close < open)
		return -1;
	len = (size_t)(close - open - 1);
	if (len >= KS_COMM_LEN)
		len = KS_COMM_LEN - 1;
	memset(out->comm, 0, sizeof(out->comm));
	memcpy(out->comm, open + 1, len);

	/* close + 2 is field 3 (state); starttime is field 22. */
	p = close + 2;
	for (field = 3; field < 22 && *p; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	if (field != 22)
		return -1;
	out->start_ticks = strtoull(p, NULL, 10);
	return 0;
}

static uint32_t ks_parse_nspid(const char *status)
{
	const char *line = strstr(status, "\nNSpid:");
	const char *end, *last = NULL;

	if (!line)
		return 0;
	line += strlen("\nNSpid:");
	end = strchr(line, '\n');
	if (!end)
		end = line + strlen(line);
	for (const char *p = line; p < end; p++) {
		if (isdigit((unsigned char)*p) &&
		    (p == line || !isdigit((unsigned char)p[-1])))
			last = p;
	}
	return last ? (uint32_t)strtoul(last, NULL, 10) : 0;
}

int ks_proc_read_task(uint32_t tgid, uint32_t tid, struct ks_proc_task *out)
{
	char path[128], buf[4096];
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->tgid = tgid;
	out->tid = tid;

	snprintf(path, sizeof(path), "%s/%u/task/%u/stat", proc_root, tgid,
		 tid);
	if (ks_read_small_file(path, buf, sizeof(buf)) < 0 ||
	    ks_parse_stat(buf, out))
		return -1;

	snprintf(path, sizeof(path), "%s/%u/task/%u/status", proc_root, tgid,
		 tid);
	if (ks_read_small_file(path, buf, sizeof(buf)) < 0)
		return -1;
	out->ns_tid = ks_parse_nspid(buf);
	if (!out->ns_tid)
		out->ns_tid = tid; /* kernels before 4.1 have no NSpid */

	snprintf(path, sizeof(path), "%s/%u/task/%u/ns/pid", proc_root, tgid,
		 tid);
	if (stat(path, &st) == 0)
		out->pidns_ino = (uint32_t)st.st_ino;
	return 0;
}

int ks_proc_read_comm(uint32_t tgid, char comm[KS_COMM_LEN])
{
	char path[128], buf[64];
	int len;

	snprintf(path, sizeof(path), "%s/%u/comm", proc_root, tgid);
	len = ks_read_small_file(path, buf, sizeof(buf));
	if (len <= 0)
		return -1;
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	memset(comm, 0, KS_COMM_LEN);
	memcpy(comm, buf, len < KS_COMM_LEN ? (size_t)len : KS_COMM_LEN - 1);
	return 0;
}

int ks_proc_read_syscall(uint32_t tgid, uint32_t tid,
			 struct ks_proc_syscall *out)
{
	char path[128], buf[512];
	unsigned long long v[8];
	long nr;

	snprintf(path, sizeof(path), "%s/%u/task/%u/syscall", proc_root, tgid,
		 tid);
	if (ks_read_small_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* "running", or "-1 sp pc" when blocked outside a system call. */
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr,
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		   &v[7]) != 9 ||
	    nr < 0)
		return -1;
	out->nr = nr;
	for (int i = 0; i < 6; i++)
		out->args[i] = v[i];
	out->sp = v[6];
	out->pc = v[7];
	return 0;
}

/* voluntary_ctxt_switches + nonvoluntary_ctxt_switches, from status. */
static int ks_status_switches(const char *path, uint64_t *switches)
{
	const char *voluntary, *involuntary;
	char text[4096];

	if (ks_read_small_file(path, text, sizeof(text)) < 0)
		return -1;
	voluntary = ks_status_field(text, "voluntary_ctxt_switches");
	involuntary = ks_status_field(text, "nonvoluntary_ctxt_switches");
	if (!voluntary || !involuntary)
		return -1;
	*switches =
		strtoull(voluntary, NULL, 10) + strtoull(involuntary, NULL, 10);
	return 0;
}

int ks_proc_read_progress(uint32_t tgid, uint32_t tid,
			  struct ks_proc_progress *out)
{
	char path[128], buf[128];
	unsigned long long run_ns, delay_ns, switches;

	snprintf(path, sizeof(path), "%s/%u/task/%u/schedstat", proc_root, tgid,
		 tid);
	if (ks_read_small_file(path, buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%llu %llu %llu", &run_ns, &delay_ns, &switches) == 3 &&
	    (run_ns || switches)) {
		out->run_ns = run_ns;
		out->switches = switches;
		return 0;
	}
	out->run_ns = 0;
	snprintf(path, sizeof(path), "%s/%u/task/%u/status", proc_root, tgid,
		 tid);
	return ks_status_switches(path, &out->switches);
}

#define KS_SIG_BIT(sig) (1ull << ((sig)-1))

/* The signals process tgid has handlers for (SigCgt); -1 if unreadable. */
static int ks_caught_signals(uint32_t tgid, uint64_t *mask)
{
	char path[128], text[4096];
	const char *caught;

	snprintf(path, sizeof(path), "%s/%u/status", proc_root, tgid);
	if (ks_read_small_file(path, text, sizeof(text)) < 0)
		return -1;
	caught = ks_status_field(text, "SigCgt");
	if (!caught)
		return -1;
	*mask = strtoull(caught, NULL, 16);
	return 0;
}

bool ks_proc_may_time_itself(uint32_t tgid)
{
	/* What alarm() and setitimer() send. */
	const uint64_t timer_signals = KS_SIG_BIT(SIGALRM) |
				       KS_SIG_BIT(SIGVTALRM) |
				       KS_SIG_BIT(SIGPROF);
	char path[128], text[4096];
	uint64_t caught;

	if (ks_caught_signals(tgid, &caught) || caught & timer_signals)
		return true;
	/* Absent where the kernel lacks it: then signals caught say all. */
	snprintf(path, sizeof(path), "%s/%u/timers", proc_root, tgid);
	return ks_read_small_file(path, text, sizeof(text)) > 0;
}

bool ks_proc_handles_events(uint32_t tgid)
{
	/*
	 * A program's own faults (crash handlers), and signals 32 and 33,
	 * which glibc keeps for its threads (cancellation, set*id): not
	 * events from outside.
	 */
	const uint64_t not_events =
		KS_SIG_BIT(SIGILL) | KS_SIG_BIT(SIGTRAP) | KS_SIG_BIT(SIGABRT) |
		KS_SIG_BIT(SIGBUS) | KS_SIG_BIT(SIGFPE) | KS_SIG_BIT(SIGSEGV) |
		KS_SIG_BIT(SIGSYS) | KS_SIG_BIT(32) | KS_SIG_BIT(33);
	uint64_t caught;

	return ks_caught_signals(tgid, &caught) || (caught & ~not_events);
}

int ks_proc_read_wchan(uint32_t tgid, uint32_t tid, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%u/task/%u/wchan", proc_root, tgid,
		 tid);
	return ks_read_small_file(path, buf, size) < 0 ? -1 : 0;
}

int ks_proc_elf_class(uint32_t tgid)
{
	static const char magic[] = { 0x7f, 'E', 'L', 'F' };
	unsigned char ident[5];
	char path[128];
	FILE *exe;
	size_t len;

	snprintf(path, sizeof(path), "%s/%u/exe", proc_root, tgid);
	exe = fopen(path, "re");
	if (!exe)
		return -1;
	len = fread(ident, 1, sizeof(ident), exe);
	fclose(exe);
	if (len != sizeof(ident) || memcmp(ident, magic, sizeof(magic)))
		return -1;
	return ident[4] == KS_ELF_CLASS_32 || ident[4] == KS_ELF_CLASS_64 ?
		       ident[4] :
		       -1;
}

int ks_proc_read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr,
				.iov_len = len };

	return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) ==
			       (ssize_t)len ?
		       0 :
		       -1;
}

static int ks_for_each_numeric(const char *dir_path, ks_proc_pid_fn fn,
			       void *ctx)
{
	DIR *dir = opendir(dir_path);
	struct dirent *entry;
	int ret = 0;

	if (!dir)
		return -errno;
	while (!ret && (entry = readdir(dir))) {
		char *end;
		unsigned long id = strtoul(entry->d_name, &end, 10);

		if (*end || !id)
			continue;
		ret = fn((uint32_t)id, ctx);
	}
	closedir(dir);
	return ret;
}

int ks_proc_for_each_process(ks_proc_pid_fn fn, void *ctx)
{
	return ks_for_each_numeric(proc_root, fn, ctx);
}

int ks_proc_for_each_thread(uint32_t tgid, ks_proc_pid_fn fn, void *ctx)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%u/task", proc_root, tgid);
	return ks_for_each_numeric(path, fn, ctx);
}

int ks_proc_mapping_shared(uint32_t pid, uint64_t addr)
{
	char path[128], *line = NULL;
	size_t size = 0;
	int shared = -1;
	FILE *maps;

	snprintf(path, sizeof(path), "%s/%u/maps", proc_root, pid);
	maps = fopen(path, "re");
	if (!maps)
		return -1;
	while (shared < 0 && getline(&line, &size, maps) > 0) {
		unsigned long long start, end;
		char perms[8];

		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) == 3 &&
		    addr >= start && addr < end)
			shared = perms[3] == 's';
	}
	free(line);
	fclose(maps);
	return shared;
}

int ks_proc_read_caught_signals(uint32_t pid, uint64_t *mask)
{
	char path[128], status[4096];
	const char *value;

	snprintf(path, sizeof(path), "%s/%u/status", proc_root, pid);
	if (ks_read_small_file(path, status, sizeof(status)) < 0)
		return -1;
	value = ks_status_field(status, "SigCgt");
	if (!value)
		return -1;
	*mask = strtoull(value, NULL, 16);
	return 0;
}

static int ks_count_one(uint32_t id, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

int ks_proc_count_threads(uint32_t tgid)
{
	int count = 0;

	return ks_proc_for_each_thread(tgid, ks_count_one, &count) ? -1 : count;
}
