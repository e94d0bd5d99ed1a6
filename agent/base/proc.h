/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Readers for what /proc and process_vm_readv(2) tell about other processes. */
#ifndef KS_PROC_H
#define KS_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "knotscope_abi.h"

struct ks_proc_task {
	uint32_t tgid;
	uint32_t tid;
	uint32_t ns_tid; /* last NSpid entry: tid in its own pid namespace */
	uint32_t pidns_ino;
	uint64_t start_ticks; /* stat field 22, USER_HZ ticks since boot */
	char comm[KS_COMM_LEN];
};

/* /proc/TGID/task/TID/syscall of a thread blocked in a system call. */
struct ks_proc_syscall {
	long nr;
	uint64_t args[6];
	uint64_t sp;
	uint64_t pc;
};

/* The root of /proc; tests point it at a fixture tree. */
void ks_proc_set_root(const char *root);
const char *ks_proc_root(void);

int ks_proc_read_task(uint32_t tgid, uint32_t tid, struct ks_proc_task *out);
int ks_proc_read_comm(uint32_t tgid, char comm[KS_COMM_LEN]);
/* Returns 0 when the thread sits in a system call, -1 when it runs. */
int ks_proc_read_syscall(uint32_t tgid, uint32_t tid,
			 struct ks_proc_syscall *out);
/*
 * How much a thread has run: its CPU time and the number of times it was
 * put on a CPU.  A thread blocked in one call the whole time between two
 * readings shows the same numbers; one that woke at all, even to sleep
 * again, does not.
 */
struct ks_proc_progress {
	uint64_t run_ns;
	uint64_t switches;
};

/*
 * From /proc/TGID/task/TID/schedstat, or the context switches of its
 * status where scheduler statistics are off (schedstat says "0 0 0").
 */
int ks_proc_read_progress(uint32_t tgid, uint32_t tid,
			  struct ks_proc_progress *out);

/*
 * Whether process tgid may interrupt its own blocking calls on a timer: it
 * catches SIGALRM, SIGVTALRM or SIGPROF, or has POSIX timers; true when
 * that cannot be read.
 */
bool ks_proc_may_time_itself(uint32_t tgid);

/*
 * Whether process tgid has a handler for a signal that is not one of its
 * own faults (SIGSEGV, SIGBUS...): one that events outside it, a child's
 * exit or a kill, run.  True when that cannot be read.
 */
bool ks_proc_handles_events(uint32_t tgid);

/*
 * The kernel function a blocked thread sleeps in (/proc/.../wchan), e.g.
 * "__mutex_lock.constprop.0"; empty for a running thread.
 */
int ks_proc_read_wchan(uint32_t tgid, uint32_t tid, char *buf, size_t size);
#define KS_ELF_CLASS_32 1
#define KS_ELF_CLASS_64 2

/* The ELF class of /proc/TGID/exe (KS_ELF_CLASS_*), or -1. */
int ks_proc_elf_class(uint32_t tgid);

/* Reads another process's memory; the full length or -1. */
int ks_proc_read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len);

/*
 * Whether addr lies in a mapping of process pid that other processes may
 * map too (shared, "s" in /proc/PID/maps): 1, 0 for a private one, -1
 * when no mapping holds it or maps cannot be read.
 */
int ks_proc_mapping_shared(uint32_t pid, uint64_t addr);
/* The signals the process has handlers for (SigCgt), bit n-1 for n. */
int ks_proc_read_caught_signals(uint32_t pid, uint64_t *mask);
/* How many threads the process has now; -1 when it is gone. */
int ks_proc_count_threads(uint32_t tgid);

typedef int (*ks_proc_pid_fn)(uint32_t id, void *ctx);
/* Calls fn for every process, or every thread of tgid; stops on nonzero. */
int ks_proc_for_each_process(ks_proc_pid_fn fn, void *ctx);
int ks_proc_for_each_thread(uint32_t tgid, ks_proc_pid_fn fn, void *ctx);

#endif /* KS_PROC_H */
