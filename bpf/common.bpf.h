/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Shared by every knotscope BPF source file.  The maps and configuration are
 * defined once in maps.bpf.c; the other files see them through the extern
 * declarations below, and bpftool's static linker joins them into one object.
 */
#ifndef KNOTSCOPE_COMMON_BPF_H
#define KNOTSCOPE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "knotscope_abi.h"

/* Configuration, written by the agent before load. */
extern const volatile __u32 ks_agent_tgid;
extern const volatile __u32 ks_filter_mode; /* KS_FILTER_* */
extern const volatile __u64 ks_wakeup_bytes;
extern const volatile __u64 ks_offcpu_min_ns;
/* --wait-stack-every, and --min-wait: the waits whose spans name a site. */
extern const volatile __u64 ks_stack_every_ns;
extern const volatile __u64 ks_stack_min_ns;
extern const volatile __u32 ks_capture_bytes; /* <= KS_SOCK_CAPTURE_MAX */
/*
 * Whether spans are published in ks_traces_ctx: only when it is the shared,
 * pinned traces_ctx_v1 and another program uses it (a profiler reading it).
 * The agent turns it on and off as such programs come and go, so nobody
 * pays for publication nothing reads.
 */
extern __u32 ks_publish_trace_ctx;
/* For the generic sys_enter/sys_exit hooks, which serve both: */
extern const volatile __u32 ks_syscall_waits; /* --wait-hooks syscall */
extern const volatile __u32 ks_channel_edges; /* --channel-edges */

typedef struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, KS_RINGBUF_DEFAULT_BYTES);
} ks_events_map;
extern ks_events_map ks_events SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ks_cpu_stats);
} ks_stats_map;
extern ks_stats_map ks_stats SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ks_inflight);
} ks_inflight_map;
extern ks_inflight_map ks_inflight SEC(".maps");

/* LRU: an entry pushed out costs one edge, never a wait. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_BLOCKED);
	__type(key, __u32);
	__type(value, struct ks_blocked);
} ks_blocked_map;
extern ks_blocked_map ks_blocked SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KS_SEL_TGID_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} ks_sel_tgids_map;
extern ks_sel_tgids_map ks_sel_tgids SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_MAX_SELECTED);
	__type(key, struct ks_comm_key);
	__type(value, __u8);
} ks_sel_comms_map;
extern ks_sel_comms_map ks_sel_comms SEC(".maps");

typedef struct {
	/* LRU: a forgotten entry is only classified again. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_FD_CLASSES);
	__type(key, struct ks_fd_key);
	__type(value, struct ks_fd_class);
} ks_fd_classes_map;
extern ks_fd_classes_map ks_fd_classes SEC(".maps");

typedef struct {
	/* LRU: a thread killed inside a read leaves no entry behind for long. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ks_io_inflight);
} ks_io_inflight_map;
extern ks_io_inflight_map ks_io_inflight SEC(".maps");

typedef struct {
	/*
	 * LRU: a stream object's state goes when the object does not come
	 * back; one evicted under a running read makes that read overlapped.
	 */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_STREAMS);
	__type(key, struct ks_stream_key);
	__type(value, struct ks_stream_state);
} ks_streams_map;
extern ks_streams_map ks_streams SEC(".maps");

typedef struct {
	/* LRU: a thread that exits off CPU leaves no entry behind for long. */
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ks_offcpu_since);
} ks_offcpu_since_map;
extern ks_offcpu_since_map ks_offcpu_since SEC(".maps");

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_MAX_INFLIGHT);
	__type(key, __u32);
	__type(value, struct ks_klock_inflight);
} ks_klock_inflight_map;
extern ks_klock_inflight_map ks_klock_inflight SEC(".maps");

/*
 * Tracked connections by socket (the struct sock's address).  Deleted when
 * the socket is destroyed, which frees the address for another; LRU, so
 * that sockets whose end was missed (open when the agent stopped and
 * started again) cannot fill it.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct ks_sock_state);
} ks_socks_map;
extern ks_socks_map ks_socks SEC(".maps");

/* traces_ctx_v1 when the agent reuses or creates the pinned one; else a
 * private stand-in that nothing reads (ks_publish_trace_ctx stays 0). */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_TRACES_CTX_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct ks_trace_ctx);
} ks_traces_ctx_map;
extern ks_traces_ctx_map ks_traces_ctx SEC(".maps");

/* Local endpoints of the agent's own connections (OTLP export): a watched
 * collector's side of them is not traced, or every export would produce
 * spans that produce exports. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_AGENT_CONNS);
	__type(key, struct ks_endpoint);
	__type(value, __u8);
} ks_agent_conns_map;
extern ks_agent_conns_map ks_agent_conns SEC(".maps");

/* The agent's own sockets between connect() and the handshake's end, when
 * their local port is known and goes into ks_agent_conns. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_MAX_AGENT_CONNS);
	__type(key, __u64);
	__type(value, __u8);
} ks_agent_connecting_map;
extern ks_agent_connecting_map ks_agent_connecting SEC(".maps");

/*
 * Every handler exists twice: as tp_btf (cheapest dispatch, needs kernel BTF
 * for the tracepoint) and as raw_tp (works wherever raw tracepoints do).  The
 * agent keeps one set autoloaded after probing the kernel.  The bodies are
 * the same code: ks_typed, a constant in each, says whether the arguments
 * are typed pointers, which KS_ARG() reads with plain loads.
 */
/* clang-format off */
#define KS_TP_DISPATCH(name, typed, args...)				\
	{								\
		_Pragma("GCC diagnostic push")				\
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")	\
		return name##_body(typed, ___bpf_ctx_cast(args));	\
		_Pragma("GCC diagnostic pop")				\
	}

#define KS_TRACEPOINT(tp, name, args...)				\
	static __always_inline int name##_body(bool ks_typed,		\
					       unsigned long long *ctx,	\
					       ##args);			\
	SEC("tp_btf/" #tp)						\
	int name(unsigned long long *ctx)				\
	KS_TP_DISPATCH(name, true, args)				\
	SEC("raw_tp/" #tp)						\
	int name##_rt(unsigned long long *ctx)				\
	KS_TP_DISPATCH(name, false, args)				\
	static __always_inline int name##_body(bool ks_typed,		\
					       unsigned long long *ctx,	\
					       ##args)
/* clang-format on */

static __always_inline struct ks_cpu_stats *ks_cpu_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ks_stats, &zero);
}

/*
 * Counts a record per kind: stored, or lost to a full ring buffer.  Stored
 * records only inform, and every record pays for their count: a plain
 * increment of this CPU's value (the program cannot migrate), where a
 * locked one costs about 20 ns more.  A program nested on the same CPU
 * between its load and store (an interrupt's) can lose a count.  Drops are
 * shown, and counted the same everywhere: their count is exact.
 */
static __always_inline void ks_count_record(__u16 kind, bool stored)
{
	struct ks_cpu_stats *stats = ks_cpu_stats();

	if (!stats || kind >= KS_EV_KIND_MAX)
		return;
	if (stored)
		stats->submitted[kind]++;
	else
		__sync_fetch_and_add(&stats->reserve_failed[kind], 1);
}

/* pid_tgid: the task the record is about, as bpf_get_current_pid_tgid(). */
static __always_inline void ks_fill_header(struct ks_event_header *hdr,
					   __u32 size, __u16 kind, __u64 ts_ns,
					   __u64 pid_tgid)
{
	hdr->ts_ns = ts_ns;
	hdr->tgid = pid_tgid >> 32;
	hdr->tid = (__u32)pid_tgid;
	hdr->kind = kind;
	hdr->size = size;
	hdr->cpu = bpf_get_smp_processor_id();
}

/*
 * Reserves a record and fills its header for the task pid_tgid, at ts_ns.
 * A full ring buffer is counted, never waited on: the traced program must
 * not slow down.
 */
static __always_inline void *ks_reserve_for(__u32 size, __u16 kind, __u64 ts_ns,
					    __u64 pid_tgid)
{
	struct ks_event_header *hdr = bpf_ringbuf_reserve(&ks_events, size, 0);

	ks_count_record(kind, hdr);
	if (!hdr)
		return NULL;
	ks_fill_header(hdr, size, kind, ts_ns, pid_tgid);
	return hdr;
}

/* The same, for the current task. */
static __always_inline void *ks_reserve_at(__u32 size, __u16 kind, __u64 ts_ns)
{
	return ks_reserve_for(size, kind, ts_ns, bpf_get_current_pid_tgid());
}

/* The same, now. */
static __always_inline void *ks_reserve(__u32 size, __u16 kind)
{
	return ks_reserve_at(size, kind, bpf_ktime_get_ns());
}

/*
 * Waking the agent costs the traced thread an irq_work on every record.  The
 * agent drains the buffer on a short timer anyway, so records go in quietly
 * until the buffer fills past ks_wakeup_bytes.
 *
 * Asking how full it is costs too (about 15 ns: the agent's CPU last wrote
 * the consumer position), so only every KS_WAKEUP_CHECK_EVERY-th record of
 * a kind on a CPU asks.  Between two questions a CPU stores at most 15
 * records of each kind: about 100 KiB at most, against the 768 KiB or more
 * left above the threshold in the smallest buffer.
 */
#define KS_WAKEUP_CHECK_EVERY 16

static __always_inline __u64 ks_wakeup_flags(__u16 kind)
{
	struct ks_cpu_stats *stats = ks_cpu_stats();

	if (stats && kind < KS_EV_KIND_MAX &&
	    stats->submitted[kind] % KS_WAKEUP_CHECK_EVERY)
		return BPF_RB_NO_WAKEUP;
	return bpf_ringbuf_query(&ks_events, BPF_RB_AVAIL_DATA) >=
			       ks_wakeup_bytes ?
		       BPF_RB_FORCE_WAKEUP :
		       BPF_RB_NO_WAKEUP;
}

static __always_inline void ks_submit(void *record)
{
	struct ks_event_header *hdr = record;

	bpf_ringbuf_submit(record, ks_wakeup_flags(hdr->kind));
}

/* Whether tgid is one of --pid's: one bit of ks_sel_tgids. */
static __always_inline bool ks_tgid_listed(__u32 tgid)
{
	__u32 word = tgid / 64;
	__u64 *bits = bpf_map_lookup_elem(&ks_sel_tgids, &word);

	return bits && (*bits >> (tgid % 64)) & 1;
}

/* task: NULL for the current task, which is then found only if its name
 * is needed (a helper call less on every run of the hot paths). */
static __always_inline bool ks_tgid_selected(struct task_struct *task,
					     __u32 tgid)
{
	struct ks_comm_key key = {};

	if (tgid == ks_agent_tgid)
		return false;
	if (!ks_filter_mode)
		return true;
	if ((ks_filter_mode & KS_FILTER_PID) && ks_tgid_listed(tgid))
		return true;
	if (ks_filter_mode & KS_FILTER_COMM) {
		if (!task)
			task = (struct task_struct *)bpf_get_current_task();
		/*
		 * The leader's comm names the process; a thread's own comm is
		 * often a thread name set with pthread_setname_np().
		 */
		BPF_CORE_READ_INTO(&key.comm, task, group_leader, comm);
		if (bpf_map_lookup_elem(&ks_sel_comms, &key))
			return true;
	}
	return false;
}

static __always_inline bool ks_task_selected(struct task_struct *task)
{
	return ks_tgid_selected(task, BPF_CORE_READ(task, tgid));
}

/* The hot path's check: the tgid without reading the task. */
static __always_inline bool ks_current_selected(void)
{
	return ks_tgid_selected(NULL, bpf_get_current_pid_tgid() >> 32);
}

/*
 * Whether the kernel hands out typed pointers to the current task (5.11+,
 * whatever the program type), whose fields plain loads read.
 */
#define KS_HAVE_TASK_BTF                             \
	bpf_core_enum_value_exists(enum bpf_func_id, \
				   BPF_FUNC_get_current_task_btf)

/*
 * The current task as a typed pointer, or NULL where the kernel has none
 * and KS_SELF() reads through helpers.  A program that reads several fields
 * of the current task takes it once: each helper call is a call and a
 * return, about 7 ns on a small VM whose kernel thunks its returns.
 */
static __always_inline struct task_struct *ks_current_task(void)
{
	return KS_HAVE_TASK_BTF ? bpf_get_current_task_btf() : NULL;
}

/*
 * A field of the current task, self: ks_current_task(), or a typed
 * tracepoint argument that is the current task.
 */
#define KS_SELF(self, field)                                                 \
	(KS_HAVE_TASK_BTF ?                                                  \
		 (self)->field :                                             \
		 BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), \
			       field))

/* The same as bpf_get_current_pid_tgid(), with plain loads where it can. */
static __always_inline __u64 ks_self_pid_tgid(struct task_struct *self)
{
	if (!KS_HAVE_TASK_BTF)
		return bpf_get_current_pid_tgid();
	return (__u64)self->tgid << 32 | (__u32)self->pid;
}

/* ks_current_selected(), where the caller has the current task at hand. */
static __always_inline bool ks_self_selected(struct task_struct *self,
					     __u64 pid_tgid)
{
	if (!KS_HAVE_TASK_BTF)
		self = (struct task_struct *)bpf_get_current_task();
	return ks_tgid_selected(self, pid_tgid >> 32);
}

/*
 * A field of a tracepoint argument, in a KS_TRACEPOINT body: a plain load in
 * the tp_btf twin, a helper call (about 35 ns on a small VM) in the raw_tp
 * one.  The compiler drops the branch the twin does not take.
 */
#define KS_ARG(ptr, field) (ks_typed ? (ptr)->field : BPF_CORE_READ(ptr, field))

/*
 * A field of the current task, read once: a program that reads several
 * takes ks_current_task() and reads them with KS_SELF().
 */
#define KS_CURRENT(field) KS_SELF(ks_current_task(), field)

/* Which program image the current task runs: exec bumps it. */
static __always_inline __u32 ks_current_exec_id(void)
{
	return KS_CURRENT(self_exec_id);
}

static __always_inline void ks_fill_task_id(struct ks_task_id *id,
					    struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);

	/* The deepest level is the task's own namespace: the tids it sees. */
	id->ns_tid = BPF_CORE_READ(pid, numbers[level].nr);
	id->pidns_ino = BPF_CORE_READ(pid, numbers[level].ns, ns.inum);
	id->start_boottime_ns = BPF_CORE_READ(task, start_boottime);
}

/* File types of an inode's i_mode (the kernel's S_IF*, not in BTF). */
#define KS_S_IFMT 00170000
#define KS_S_IFIFO 0010000
#define KS_S_IFSOCK 0140000

/* The file behind descriptor fd of task, or NULL if none is open there. */
static __always_inline struct file *ks_file_of_fd(struct task_struct *task,
						  int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

#endif /* KNOTSCOPE_COMMON_BPF_H */
