/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between knotscope's BPF programs and its agent: every record
 * the kernel side writes into the ring buffer, the maps the agent reads or
 * fills, and the configuration it writes into .rodata before load.
 *
 * Both sides compile this file.  The BPF side includes vmlinux.h first, which
 * already defines the __u* types; userspace gets them from <linux/types.h>.
 * Every record is a multiple of 8 bytes with explicit padding, so its layout
 * does not depend on which compiler (clang -target bpf or the host gcc) laid
 * it out; the _Static_asserts at the bottom pin that down.
 */
#ifndef KNOTSCOPE_ABI_H
#define KNOTSCOPE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Bump on any incompatible change of a record or map below. */
#define KS_ABI_VERSION 2

#define KS_COMM_LEN 16

enum ks_event_kind {
	KS_EV_WAIT_BEGIN = 1, /* a thread entered a futex wait */
	KS_EV_WAIT_END = 2, /* ... and came back from it */
	KS_EV_FORK = 3, /* a thread or process was created */
	KS_EV_EXEC = 4, /* a process replaced its image */
	KS_EV_EXIT = 5, /* a thread exited */
	KS_EV_RENAME = 6, /* a thread changed its comm */
	KS_EV_SOCK_OPEN = 7, /* a TCP connection was accepted or connected */
	KS_EV_SOCK_DATA = 8, /* a read or write moved bytes on one */
	KS_EV_SOCK_CLOSE = 9, /* its file descriptor was closed */
	KS_EV_KIND_MAX = 10,
};

/* Which system call a wait came from. */
enum ks_syscall {
	KS_SYS_FUTEX = 1, /* futex(2) */
	KS_SYS_FUTEX_WAITV = 2, /* futex_waitv(2), 5.16+ */
	KS_SYS_FUTEX_WAIT = 3, /* futex2 futex_wait(2), 6.7+ */
};

/* ks_wait_begin.flags */
#define KS_WAIT_TIMED (1u << 0) /* a timeout was passed: can expire */
#define KS_WAIT_SHARED (1u << 1) /* not FUTEX_PRIVATE: may cross processes */
#define KS_WAIT_WORDS_OK (1u << 2) /* words[0..2] were read */
#define KS_WAIT_KIND_OK (1u << 3) /* words[3..5] were read */
#define KS_WAIT_SEEDED (1u << 4) /* found blocked at start, not seen entering */

/*
 * User registers saved at wait entry, enough for a DWARF unwinder to walk the
 * stack while the thread stays blocked: the stack itself is read later from
 * the process, since a blocked thread cannot change it.
 */
#define KS_NR_USER_REGS 16

/*
 * Bytes of user stack copied at wait entry, from the stack pointer up: the
 * frames of the lock implementation and the return address into its caller,
 * enough to name the wait site after the thread has moved on.
 */
#define KS_STACK_SNAPSHOT_BYTES 512
#if defined(__TARGET_ARCH_x86) || defined(__x86_64__)
enum ks_user_reg {
	KS_REG_IP = 0,
	KS_REG_SP,
	KS_REG_BP,
	KS_REG_BX,
	KS_REG_R12,
	KS_REG_R13,
	KS_REG_R14,
	KS_REG_R15,
};
#elif defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
enum ks_user_reg {
	KS_REG_IP = 0, /* pc */
	KS_REG_SP,
	KS_REG_FP, /* x29 */
	KS_REG_LR, /* x30 */
	KS_REG_X19, /* x19..x28 follow in order */
};
#else
#error "knotscope supports x86_64 and arm64"
#endif

struct ks_event_header {
	__u64 ts_ns; /* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u32 tgid;
	__u32 tid;
	__u16 kind; /* enum ks_event_kind */
	__u16 size; /* of the whole record */
	__u32 cpu;
};

/* Identity of a thread that survives pid reuse and pid namespaces. */
struct ks_task_id {
	__u64 start_boottime_ns; /* task->start_boottime */
	__u32 ns_tid; /* tid as seen inside its own pid namespace */
	__u32 pidns_ino; /* inode of that pid namespace */
};

struct ks_wait_begin {
	struct ks_event_header hdr;
	struct ks_task_id task;
	__u64 uaddr; /* futex word */
	__u32 op; /* futex op as passed, flags included */
	__u32 val; /* expected value (or the waitv count) */
	__u32 flags; /* KS_WAIT_* */
	__u16 syscall; /* enum ks_syscall */
	__u16 _pad0;
	/*
	 * The six 32-bit words at uaddr when the wait began.  For a glibc
	 * pthread_mutex_t they are __lock, __count, __owner, __nusers, __kind,
	 * __spins; for anything else they are whatever lies there, which is why
	 * the agent validates before it trusts an owner.
	 */
	__u32 words[6];
	__u64 regs[KS_NR_USER_REGS]; /* enum ks_user_reg */
	__u32 stack_len; /* valid bytes of stack, from regs[KS_REG_SP] */
	__u32 _pad1;
	__u8 stack[KS_STACK_SNAPSHOT_BYTES];
};

struct ks_wait_end {
	struct ks_event_header hdr;
	__u64 uaddr;
	__u64 begin_ts_ns; /* ts_ns of the matching KS_EV_WAIT_BEGIN */
	__s64 ret; /* syscall return: 0, -ETIMEDOUT, -EAGAIN, -EDEADLK ... */
	__u32 op;
	__u32 _pad0;
};

#define KS_FORK_THREAD (1u << 0) /* CLONE_THREAD: same process */

struct ks_fork {
	struct ks_event_header hdr; /* tgid/tid of the parent */
	struct ks_task_id child;
	__u32 child_tgid;
	__u32 child_tid;
	/* Where the child's exit clears its tid: what pthread_join waits on. */
	__u64 clear_child_tid;
	__u32 flags; /* KS_FORK_* */
	__u32 _pad0;
	char comm[KS_COMM_LEN];
};

struct ks_exec {
	struct ks_event_header hdr; /* tgid == tid after exec */
	struct ks_task_id task;
	__u32 old_tid; /* the thread that called execve */
	__u32 _pad0;
	char comm[KS_COMM_LEN];
};

#define KS_EXIT_GROUP_DEAD (1u << 0) /* last thread of its process */

struct ks_exit {
	struct ks_event_header hdr;
	struct ks_task_id task;
	__s32 exit_code;
	__u32 flags; /* KS_EXIT_* */
};

struct ks_rename {
	struct ks_event_header hdr;
	char comm[KS_COMM_LEN];
};

/*
 * TCP connections, for HTTP spans (--http).  A connection is tracked from
 * the accept() or connect() that made it to the close() of its descriptor;
 * its reads and writes report how many bytes moved and a copy of the first
 * of them (at most the configured capture size), never more.
 */
enum ks_conn_role {
	KS_CONN_SERVER = 1, /* accepted: the peer sends requests */
	KS_CONN_CLIENT = 2, /* connected: this process sends requests */
};

enum ks_sock_direction {
	KS_SOCK_RECV = 1,
	KS_SOCK_SEND = 2,
};

/* An IP endpoint.  IPv4 is IPv4-mapped IPv6 (::ffff:a.b.c.d): one form to
 * compare, whichever family each end's socket has. */
struct ks_endpoint {
	__u8 addr[16];
	__u16 port; /* host byte order */
	__u16 _pad0;
	__u32 _pad1;
};

struct ks_conn_tuple {
	struct ks_endpoint local;
	struct ks_endpoint remote;
};

struct ks_sock_open {
	struct ks_event_header hdr;
	__u64 conn_id; /* unique for the run: names the connection below */
	__s32 fd;
	__u8 role; /* enum ks_conn_role */
	__u8 family; /* the socket's own: AF_INET or AF_INET6 */
	__u16 _pad0;
	struct ks_conn_tuple tuple;
};

/* ks_sock_data.flags */
/* The kernel began a server span here: the read that starts a request on a
 * server connection.  trace_id and span_id are that span's ids. */
#define KS_SOCK_SPAN_STARTED (1u << 0)
/* ... and published them in the profiler's traces_ctx_v1 map for this
 * thread, until the response's first write or the close. */
#define KS_SOCK_SPAN_PUBLISHED (1u << 1)

/*
 * A read or write that moved total_len bytes, of which the first
 * captured_len follow the struct (the record, hdr.size, is exactly that much
 * longer than the struct, so unlike the others not a multiple of 8).  readv/recvmsg/writev/sendmsg capture from their first
 * buffer only, sendfile captures nothing.
 */
struct ks_sock_data {
	struct ks_event_header hdr; /* ts_ns: when the system call returned */
	__u64 conn_id;
	__u64 total_len;
	__s32 fd;
	__u16 captured_len;
	__u8 direction; /* enum ks_sock_direction */
	__u8 flags; /* KS_SOCK_* */
	__u8 trace_id[16];
	__u8 span_id[8];
	/* captured_len bytes follow */
};

struct ks_sock_close {
	struct ks_event_header hdr;
	__u64 conn_id;
	__s32 fd;
	__u32 _pad0;
};

/* Key and value of map "ks_socks": the descriptors of tracked connections. */
struct ks_sock_key {
	__u32 tgid;
	__s32 fd;
};

struct ks_sock_state {
	__u64 conn_id;
	/* Its struct sock: after a close, whether the descriptor number is
	 * still this connection's, or already another's. */
	__u64 sk;
	/* The thread whose traces_ctx_v1 entry this connection set, 0: none */
	__u64 published_pid_tgid;
	__u8 published_span_id[8];
	__u8 role; /* enum ks_conn_role */
	__u8 last_direction; /* of the last data that counted, 0: none yet */
	__u16 _pad0;
	/* The process image that opened it: after an exec the descriptor
	 * number may name something else (close-on-exec closes silently). */
	__u32 exec_id;
};

/*
 * The value of traces_ctx_v1, the map OpenTelemetry's eBPF profiler and
 * eBPF instrumentation (OBI) share to tie profile samples to spans: an LRU
 * hash pinned at <bpffs>/otel/traces_ctx_v1, keyed by the thread's pid_tgid
 * (tgid << 32 | tid), created by whoever starts first with exactly this
 * definition, which its readers check.
 */
struct ks_trace_ctx {
	__u8 trace_id[16];
	__u8 span_id[8];
};

#define KS_TRACES_CTX_MAX_ENTRIES (1u << 14)
#define KS_TRACES_CTX_NAME "traces_ctx_v1"

/* Bytes copied from each read or write: the configurable default, and the
 * most the per-CPU scratch buffer holds. */
#define KS_SOCK_CAPTURE_DEFAULT 1024
#define KS_SOCK_CAPTURE_MAX 4096
#define KS_MAX_SOCKS 65536
/* Connections the agent itself opened, whose far end is not traced. */
#define KS_MAX_AGENT_CONNS 256

/*
 * Per-CPU counters (BPF_MAP_TYPE_PERCPU_ARRAY "ks_stats", one entry).
 * reserve_failed counts records lost because the ring buffer was full;
 * inflight_full counts waits whose end could not be tracked; socks_full
 * counts connections that could not be tracked.
 */
struct ks_cpu_stats {
	__u64 submitted[KS_EV_KIND_MAX];
	__u64 reserve_failed[KS_EV_KIND_MAX];
	__u64 inflight_full;
	__u64 socks_full;
};

/* Value of map "ks_inflight" (key: host tid): a wait not yet returned. */
struct ks_inflight {
	__u64 begin_ts_ns;
	__u64 uaddr;
	__u32 op;
	__u32 _pad0;
};

/* Bits of the .rodata variable ks_filter_mode. */
#define KS_FILTER_PID (1u << 0) /* tgid must be in map ks_selected_tgids */
#define KS_FILTER_COMM (1u << 1) /* leader comm must be in ks_selected_comms */

/* Key of map ks_selected_comms. */
struct ks_comm_key {
	char comm[KS_COMM_LEN];
};

#define KS_RINGBUF_DEFAULT_BYTES (16u << 20)
#define KS_MAX_INFLIGHT 65536
#define KS_MAX_SELECTED 1024

_Static_assert(sizeof(struct ks_event_header) == 24, "header layout");
_Static_assert(sizeof(struct ks_task_id) == 16, "task id layout");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, task) == 24,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, uaddr) == 40,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, words) == 64,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, regs) == 88,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, stack) == 224,
	       "wait_begin");
_Static_assert(sizeof(struct ks_wait_begin) == 224 + KS_STACK_SNAPSHOT_BYTES,
	       "wait_begin size");
_Static_assert(sizeof(struct ks_wait_end) == 56, "wait_end size");
_Static_assert(__builtin_offsetof(struct ks_fork, clear_child_tid) == 48,
	       "fork");
_Static_assert(sizeof(struct ks_fork) == 80, "fork size");
_Static_assert(sizeof(struct ks_exec) == 64, "exec size");
_Static_assert(sizeof(struct ks_exit) == 48, "exit size");
_Static_assert(sizeof(struct ks_rename) == 40, "rename size");
_Static_assert(sizeof(struct ks_cpu_stats) == 8 * (2 * KS_EV_KIND_MAX + 2),
	       "stats size");
_Static_assert(sizeof(struct ks_inflight) == 24, "inflight size");
_Static_assert(sizeof(struct ks_endpoint) == 24, "endpoint size");
_Static_assert(sizeof(struct ks_conn_tuple) == 48, "tuple size");
_Static_assert(__builtin_offsetof(struct ks_sock_open, tuple) == 40,
	       "sock_open");
_Static_assert(sizeof(struct ks_sock_open) == 88, "sock_open size");
_Static_assert(__builtin_offsetof(struct ks_sock_data, total_len) == 32,
	       "sock_data");
_Static_assert(__builtin_offsetof(struct ks_sock_data, trace_id) == 48,
	       "sock_data");
_Static_assert(sizeof(struct ks_sock_data) == 72, "sock_data size");
_Static_assert(sizeof(struct ks_sock_close) == 40, "sock_close size");
_Static_assert(sizeof(struct ks_sock_key) == 8, "sock key size");
_Static_assert(sizeof(struct ks_sock_state) == 40, "sock state size");
_Static_assert(sizeof(struct ks_trace_ctx) == 24, "trace ctx size");
_Static_assert(KS_SOCK_CAPTURE_MAX <= 0xffff, "captured_len is 16 bits");
_Static_assert(sizeof(struct ks_comm_key) == KS_COMM_LEN, "comm key");

#endif /* KNOTSCOPE_ABI_H */
