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
#define KS_ABI_VERSION 11

#define KS_COMM_LEN 16

enum ks_event_kind {
	KS_EV_WAIT_BEGIN = 1, /* a thread entered a futex wait */
	KS_EV_WAIT_END = 2, /* ... and came back from it */
	KS_EV_FORK = 3, /* a thread or process was created */
	KS_EV_EXEC = 4, /* a process replaced its image */
	KS_EV_EXIT = 5, /* a thread exited */
	KS_EV_RENAME = 6, /* a thread changed its comm */
	KS_EV_WAKE = 7, /* a thread woke the waiters of a futex */
	KS_EV_IO = 8, /* data went through a pipe, unix socket or eventfd */
	KS_EV_REAPED = 9, /* wait4/waitid returned an exited child */
	KS_EV_OFFCPU = 10, /* a thread was off CPU longer than the threshold */
	KS_EV_KLOCK_BEGIN = 11, /* a thread waits for a kernel lock */
	KS_EV_KLOCK_END = 12, /* ... and got it, or gave up */
	KS_EV_LOCK_CALL = 13, /* precise mode: a pthread mutex call began */
	KS_EV_LOCK_RESULT = 14, /* ... and returned */
	KS_EV_WAKEUP = 15, /* a thread woke one that was off CPU for long */
	KS_EV_SOCK_OPEN = 16, /* a TCP connection was accepted or connected */
	KS_EV_SOCK_DATA = 17, /* a read or write moved bytes on one */
	KS_EV_SOCK_CLOSE = 18, /* its file descriptor was closed */
	KS_EV_READ_WOKEN = 19, /* a read that blocked on a channel was woken */
	KS_EV_KIND_MAX = 20,
};

/* Which system call a wait or a wake came from. */
enum ks_syscall {
	KS_SYS_FUTEX = 1, /* futex(2) */
	KS_SYS_FUTEX_WAITV = 2, /* futex_waitv(2), 5.16+ */
	KS_SYS_FUTEX_WAIT = 3, /* futex2 futex_wait(2), 6.7+ */
	KS_SYS_FUTEX_WAKE = 4, /* futex2 futex_wake(2), 6.7+ */
	KS_SYS_FUTEX_REQUEUE = 5, /* futex2 futex_requeue(2), 6.7+ */
};

/* ks_wait_begin.flags */
#define KS_WAIT_TIMED (1u << 0) /* a timeout was passed: can expire */
#define KS_WAIT_SHARED (1u << 1) /* not FUTEX_PRIVATE: may cross processes */
#define KS_WAIT_WORDS_OK (1u << 2) /* words[0..2] were read */
#define KS_WAIT_KIND_OK (1u << 3) /* words[3..5] were read */
#define KS_WAIT_SEEDED (1u << 4) /* found blocked at start, not seen entering */
#define KS_WAIT_BEFORE_OK (1u << 5) /* words_before were read */
/*
 * No stack: the thread copied one less than --wait-stack-every before, and
 * the record ends where stack[] would begin.  The stack stays where it is
 * while the thread waits: its wait_end carries it if the wait lasted
 * --min-wait and whoever ended it could read it, else the agent reads it
 * from the process if the wait lasts.
 */
#define KS_WAIT_STACK_LATER (1u << 6)

/*
 * Bytes of user stack copied at wait entry, from the stack pointer up: the
 * frames of the lock implementation and the return address into its caller,
 * enough to name the wait site after the thread has moved on.
 */
#define KS_STACK_SNAPSHOT_BYTES 512
/*
 * A thread copies its stack at a wait at most this often (--wait-stack-every):
 * each copy costs the waiting thread about 280 ns on a small VM, a thread
 * that blocks 100,000 times a second would pay it on every one, and the
 * agent samples wait sites far less often.  A thread that blocks less often
 * than this copies it every time.
 */
#define KS_DEFAULT_STACK_EVERY_NS 100000ull
/*
 * User registers saved at wait entry, enough for a DWARF unwinder to walk the
 * stack while the thread stays blocked: the stack itself is read later from
 * the process, since a blocked thread cannot change it.  Only the ones the
 * unwinder starts from, KS_NR_USER_REGS of them: every byte of a wait's
 * record is written to ring buffer memory that is cold, by the thread that
 * waits.
 */
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
	KS_NR_USER_REGS
};
#elif defined(__TARGET_ARCH_arm64) || defined(__aarch64__)
enum ks_user_reg {
	KS_REG_IP = 0, /* pc */
	KS_REG_SP,
	KS_REG_FP, /* x29 */
	KS_REG_LR, /* x30 */
	KS_REG_X19, /* x19..x28 follow in order */
	KS_NR_USER_REGS = KS_REG_X19 + 10
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

/*
 * The waiting thread is named by hdr alone: the agent knows its namespace
 * identity from its fork record or /proc, so the hot path does not read it.
 */
struct ks_wait_begin {
	struct ks_event_header hdr;
	__u64 uaddr; /* futex word */
	/*
	 * futex op as passed, flags included; the futex2 calls give their
	 * futex(2) twin's op with FUTEX_PRIVATE_FLAG for FUTEX2_PRIVATE.
	 */
	__u32 op;
	__u32 val; /* expected value (or the waitv count) */
	__u32 flags; /* KS_WAIT_* */
	__u16 syscall; /* enum ks_syscall */
	__u16 _pad0;
	/*
	 * The four words before uaddr, words_before[3] right below it.  Some
	 * locks keep their futex word inside: musl's mutex type lies before
	 * its lock word, glibc's rwlock state before its writers' futex.
	 * words follows, as in memory, so that one read fills both.
	 */
	__u32 words_before[4];
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

/*
 * hdr names the waiting thread.  Where waits are taken from the scheduler
 * the record is made when the thread is woken, in the waker's context: the
 * waker is named (0 when an interrupt woke it: a timeout, a signal from no
 * thread), and ret is 0 for a wake by a thread, else -ETIMEDOUT.  A wake
 * that raced the sleep is ended by the sleeper itself: ret 0, no waker.
 */
struct ks_wait_end {
	struct ks_event_header hdr;
	__u64 uaddr;
	__u64 begin_ts_ns; /* ts_ns of the matching KS_EV_WAIT_BEGIN */
	__s64 ret; /* syscall return: 0, -ETIMEDOUT, -EAGAIN, -EDEADLK ... */
	__u32 op;
	__u32 waker_tgid; /* with waker_tid: 0 where none is known */
	__u32 waker_tid;
	__u32 _pad0;
};

/*
 * The end of a wait whose begin copied no stack (KS_WAIT_STACK_LATER) and
 * which lasted --min-wait: its stack, read before the thread ran again, by
 * whoever ended the wait where it shares the thread's memory (a thread of
 * the same process, or the thread itself).  The span of the wait names its
 * site from it.  Same kind as wait_end, told apart by its size.
 */
struct ks_wait_end_stack {
	struct ks_wait_end end;
	__u32 stack_len; /* valid bytes of stack */
	__u32 _pad0;
	__u8 stack[KS_STACK_SNAPSHOT_BYTES];
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
 * A wake of a futex's waiters: a release, in happens-before terms, that the
 * woken waits acquire when they return.  Recorded at entry, before any
 * waiter can return.
 */
struct ks_wake {
	struct ks_event_header hdr;
	__u64 uaddr;
	__u64 uaddr2; /* the requeue target, or FUTEX_WAKE_OP's second word */
	__u32 op; /* as in ks_wait_begin */
	__u32 nr; /* most waiters it may wake */
	__u16 syscall; /* enum ks_syscall */
	__u16 _pad0;
	__u32 _pad1;
};

enum ks_io_kind {
	KS_IO_PIPE = 1, /* pipes and FIFOs */
	KS_IO_UNIX = 2, /* unix domain sockets */
	KS_IO_EVENTFD = 3,
};

enum ks_io_op {
	KS_IO_READ = 0, /* an acquire */
	KS_IO_WRITE = 1, /* a release */
	/*
	 * An eventfd was just made: its context may sit where a freed one
	 * was, and eventfds have no inode number to tell them apart.
	 */
	KS_IO_MADE = 2,
	/* A write recorded at its entry returned: bytes what it wrote. */
	KS_IO_WROTE = 3,
	/*
	 * What a stream object held (pending) when a read entered it and
	 * the kernel side had no state of it yet: the object may hold bytes
	 * written before anyone watched; from here on they are known.
	 */
	KS_IO_COUNT = 4,
};

/* Bits of ks_io.flags. */
/*
 * A byte stream: a pipe, a FIFO, a unix stream socket.  A read returns the
 * bytes of particular writes; it learns those, not every write before it.
 */
#define KS_IO_STREAM (1u << 0)
/* pending says what the object held: after the call, or at a write's
 * entry before it.  Not set when a read of the object ran meanwhile. */
#define KS_IO_COUNTED (1u << 1)
/* Another read of the same object ran while this one did. */
#define KS_IO_OVERLAPPED (1u << 2)
/* recv with MSG_PEEK: the bytes stay in the object. */
#define KS_IO_PEEK (1u << 3)

/*
 * Bytes written into, or read out of, a kernel object that connects
 * threads: writes release, reads acquire.  object names what is shared by
 * both ends: the pipe, the receiving unix socket, the eventfd context.
 * A write is recorded at its entry, before a reader can see its data
 * (hdr.ts_ns == begin_ns, bytes as asked where the call says: write and
 * sendto); a read at its return, when it returned data (bytes returned).
 * A stream's (KS_IO_STREAM) write is recorded at its return too
 * (KS_IO_WROTE), and its records say what the object held (pending).
 */
struct ks_io {
	struct ks_event_header hdr;
	__u64 object;
	__u64 bytes;
	__u64 begin_ns; /* the system call's entry */
	__s32 fd;
	__u8 kind; /* enum ks_io_kind */
	__u8 op; /* enum ks_io_op */
	__u8 flags; /* KS_IO_STREAM, ... */
	__u8 _pad0;
	/*
	 * The pipe's or the socket's inode number (0 for an eventfd): the
	 * kernel reuses a freed object's address at once, but numbers these
	 * inodes from a counter, so the pair names one object for 2^32 more.
	 */
	__u32 inode;
	__u32 _pad1;
	/* Bytes the stream object held, with KS_IO_COUNTED. */
	__u64 pending;
};

/*
 * Where waits are taken from the scheduler: a read of a pipe, unix socket
 * or eventfd that blocked, made when something woke it, in the waker's
 * context.  How many bytes it then returned is not known.
 */
struct ks_read_woken {
	struct ks_event_header hdr; /* the reader */
	__u64 object; /* as in ks_io */
	__u64 begin_ns; /* when the read blocked */
	__s32 fd;
	__u32 inode;
	__u32 waker_tgid; /* 0: woken by an interrupt, or an unwatched task */
	__u32 waker_tid;
	__u8 kind; /* enum ks_io_kind */
	__u8 _pad0[7];
};

/*
 * Value of map ks_io_inflight (key: host tid): a read not yet returned, or
 * a write to a stream (op), whose return says how much it wrote.
 */
struct ks_io_inflight {
	__u64 begin_ns;
	__u64 object;
	/* A stream read's: ks_stream_state.seq just after its entry. */
	__u64 seq;
	__s32 fd;
	__u32 inode;
	__u8 kind;
	__u8 op; /* KS_IO_READ or KS_IO_WRITE */
	__u8 flags; /* as ks_io.flags */
	__u8 _pad0[5];
};

/* Key of map ks_streams: one stream object (see struct ks_io). */
struct ks_stream_key {
	__u64 object;
	__u32 inode;
	__u32 _pad0;
};

/*
 * Value of map ks_streams: the reads of a stream object running now, and
 * a sequence number each read's entry and return moves on, so that a read
 * knows whether another ran while it did.  Starts at the time it was made,
 * so that a state evicted and made again does not repeat numbers.
 */
struct ks_stream_state {
	__s64 readers;
	__u64 seq;
};

/* wait4() or waitid() returned child_tgid, which exited. */
struct ks_reaped {
	struct ks_event_header hdr;
	__u32 child_tgid;
	__u32 _pad0;
};

/*
 * A thread that blocked longer than ks_offcpu_min_ns, reported when it runs
 * again (hdr.ts_ns), with the thread that woke it when one did.
 */
struct ks_offcpu {
	struct ks_event_header hdr;
	__u64 start_ns; /* when it left the CPU */
	__u32 waker_tgid; /* 0: woken by an interrupt, a timer or unknown */
	__u32 waker_tid;
	__u32 state; /* task->__state when it left: 1 interruptible, 2 not */
	__u32 _pad0;
};

/*
 * A wakeup, in the waker's context, of a thread off CPU for at least the
 * off-CPU threshold: the waker's events so far happened before whatever
 * the wakee does next.  Wakes from interrupts have no waker and no record.
 */
struct ks_wakeup {
	struct ks_event_header hdr; /* the waker */
	__u64 off_since_ns; /* when the wakee left the CPU */
	__u32 wakee_tgid;
	__u32 wakee_tid;
};

/* Value of map ks_offcpu_since (key: host tid): a thread now off CPU. */
struct ks_offcpu_since {
	__u64 start_ns;
	__u32 waker_tgid;
	__u32 waker_tid;
	__u32 state;
	__u32 _pad0;
};

/* lock:contention_begin flags (include/trace/events/lock.h). */
#define KS_KLOCK_SPIN (1u << 0)
#define KS_KLOCK_READ (1u << 1)
#define KS_KLOCK_WRITE (1u << 2)
#define KS_KLOCK_RT (1u << 3)
#define KS_KLOCK_PERCPU (1u << 4)
#define KS_KLOCK_MUTEX (1u << 5)

/*
 * A wait for a kernel lock (mutex, rwsem, rtmutex, semaphore) that took the
 * slow path.  One acquisition can pass contention_begin several times; the
 * first is recorded.
 */
struct ks_klock_begin {
	struct ks_event_header hdr;
	__u64 lock;
	__u32 flags; /* KS_KLOCK_* */
	__u32 owner_tid; /* holder of a mutex or write-held rwsem; 0 unknown */
	__u32 owner_tgid;
	__u32 _pad0;
};

/* Value of map ks_klock_inflight (key: host tid). */
struct ks_klock_inflight {
	__u64 begin_ts_ns;
	__u64 lock;
};

struct ks_klock_end {
	struct ks_event_header hdr;
	__u64 lock;
	__u64 begin_ts_ns;
	__s32 ret; /* 0: acquired; else an error such as -EINTR */
	__u32 _pad0;
};

/*
 * TCP connections, for HTTP spans (--http).  A connection is its socket,
 * tracked from the first data a watched process moves on it to the
 * socket's destruction; its reads and writes report how many bytes moved
 * and a copy of the first of them (at most the configured capture size),
 * never more.
 */
enum ks_conn_role {
	/* Its first data came in: the peer sends requests. */
	KS_CONN_SERVER = 1,
	/* Its first data went out: this process sends them. */
	KS_CONN_CLIENT = 2,
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

/* The first data on a connection: the record just before its ks_sock_data. */
struct ks_sock_open {
	struct ks_event_header hdr;
	__u64 conn_id; /* unique for the run: names the connection below */
	__u64 sock; /* its key in map "ks_socks" (the kernel's struct sock) */
	__u8 role; /* enum ks_conn_role */
	__u8 family; /* the socket's own: AF_INET or AF_INET6 */
	__u16 _pad0;
	__u32 _pad1;
	struct ks_conn_tuple tuple;
};

/* ks_sock_data.flags */
/* The kernel began a server span here: the read that starts a request on a
 * server connection.  trace_id and span_id are that span's ids. */
#define KS_SOCK_SPAN_STARTED (1u << 0)
/* ... and published them in the profiler's traces_ctx_v1 map for this
 * thread, until the response's first write or the socket's end. */
#define KS_SOCK_SPAN_PUBLISHED (1u << 1)

/*
 * A read or write that moved total_len bytes, of which the first
 * captured_len follow the struct.  The record (hdr.size) is longer than the
 * struct by 16, 128, 256, 512, 1024, 2048 or KS_SOCK_CAPTURE_MAX bytes, the
 * smallest that holds the copy: the kernel reserves it in the ring buffer
 * at a constant size and copies the bytes straight into it.  What follows
 * the copy is padding, of no meaning.
 * readv/recvmsg/writev/sendmsg capture from their first buffer only;
 * sendfile, splice, io_uring and the like capture nothing.
 */
struct ks_sock_data {
	struct ks_event_header hdr; /* ts_ns: when the socket call ended */
	__u64 conn_id;
	__u64 total_len;
	/* The descriptor the system call named; -1 for a call that names
	 * none the kernel side knows (io_uring, splice). */
	__s32 fd;
	__u16 captured_len;
	__u8 direction; /* enum ks_sock_direction */
	__u8 flags; /* KS_SOCK_* */
	__u8 trace_id[16];
	__u8 span_id[8];
	/* captured_len bytes follow */
};

/* The socket was destroyed (tcp:tcp_destroy_sock), in whatever context:
 * hdr.tgid and hdr.tid say nothing about the connection. */
struct ks_sock_close {
	struct ks_event_header hdr;
	__u64 conn_id;
};

/*
 * Value of map "ks_socks", keyed by the socket (its struct sock's address,
 * __u64): the connections of watched processes, and the sockets to leave
 * alone (ignored), so that what is not HTTP is judged once.
 */
struct ks_sock_state {
	__u64 conn_id; /* 0 for an ignored socket that was never a connection */
	/* The thread whose traces_ctx_v1 entry this connection set, 0: none */
	__u64 published_pid_tgid;
	__u8 published_span_id[8];
	__u8 role; /* enum ks_conn_role */
	__u8 last_direction; /* of the last data that counted, 0: none yet */
	/* Not traced: another protocol, the agent's own, or one the agent
	 * had no room for.  The agent sets it (ks_capture_forget_sock). */
	__u8 ignored;
	__u8 _pad0;
	__u32 _pad1;
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
 * most a record holds. */
#define KS_SOCK_CAPTURE_DEFAULT 1024
#define KS_SOCK_CAPTURE_MAX 4096
#define KS_MAX_SOCKS 65536
/* Connections the agent itself opened, whose far end is not traced. */
#define KS_MAX_AGENT_CONNS 256

/*
 * Per-CPU counters (BPF_MAP_TYPE_PERCPU_ARRAY "ks_stats", one entry).
 * reserve_failed counts records lost because the ring buffer was full;
 * inflight_full counts waits whose end could not be tracked (and precise
 * mode's lock calls whose result could not be); socks_full counts
 * connections that could not be tracked.
 */
struct ks_cpu_stats {
	__u64 submitted[KS_EV_KIND_MAX];
	__u64 reserve_failed[KS_EV_KIND_MAX];
	__u64 inflight_full;
	__u64 socks_full;
};

/*
 * Value of map "ks_inflight" (key: host tid): the thread's futex wait.  An
 * entry stays from the thread's first wait to its exit, and each wait
 * begins and ends in place (active), without the map's allocation and
 * bucket lock on every wait.
 */
struct ks_inflight {
	__u64 begin_ts_ns;
	__u64 uaddr;
	__u32 op;
	__u32 _pad0;
	__u64 stack_ns; /* when the thread last copied its stack at a wait */
	__u64 sp; /* the stack pointer of a wait that copied none, else 0 */
	/* A wait not yet returned; 64 bits, for BPF's compare-and-swap. */
	__u64 active;
	/*
	 * Where waits are taken from the scheduler: the thread's
	 * se.exec_start when the wait began (0: unknown, a wait the agent
	 * seeded).  The scheduler sets it again when it next picks the
	 * thread, so a wake that finds it changed finds a wait the thread
	 * has left: one whose own wake came before it was recorded.
	 */
	__u64 begin_exec_start;
	/*
	 * A wake that came while the thread was still on its way into a sleep,
	 * before its wait was recorded: the waker's pid_tgid (0: none, an
	 * interrupt), and 1 + the thread's count of context switches then
	 * (0: no such wake), which tells this sleep's from an earlier one's.
	 */
	__u64 early_waker;
	__u64 early_switches;
};

/*
 * Where waits are taken from the scheduler: a watched thread blocked in a
 * call whose wake-up is a happens-before edge (map ks_blocked, key: host
 * tid), until that wake-up.
 */
enum ks_blocked_in {
	KS_BLOCKED_READ = 1, /* read, readv, recvfrom, recvmsg of a channel */
	KS_BLOCKED_CHILD = 2, /* wait4, waitid */
};

struct ks_blocked {
	__u64 since_ns;
	__u64 object; /* a read's channel, as in ks_io */
	__s32 fd;
	__u32 inode;
	__u8 in; /* enum ks_blocked_in */
	__u8 kind; /* a read's enum ks_io_kind */
	__u16 _pad0;
	__u32 _pad1;
};

/* The pthread calls precise mode instruments (uprobes). */
enum ks_lock_call {
	KS_CALL_LOCK = 1, /* pthread_mutex_lock */
	KS_CALL_TIMEDLOCK = 2, /* pthread_mutex_timedlock, _clocklock */
	KS_CALL_TRYLOCK = 3, /* pthread_mutex_trylock */
	KS_CALL_UNLOCK = 4, /* pthread_mutex_unlock */
	KS_CALL_DESTROY =
		5, /* pthread_mutex_destroy: the address may be reused */
};

/* Bytes of stack from the stack pointer at a call's entry. */
#define KS_CALL_STACK_BYTES 256

/*
 * A call into the mutex API by a thread of a process in precise mode, at
 * its entry: the mutex, and where it was called from.  Calls that can
 * acquire (lock, timedlock, trylock) are followed by a KS_EV_LOCK_RESULT.
 */
struct ks_lock_call_rec {
	struct ks_event_header hdr;
	__u64 mutex;
	__u16 call; /* enum ks_lock_call */
	__u16 _pad0;
	__u32 stack_len;
	__u64 regs[KS_NR_USER_REGS];
	__u8 stack[KS_CALL_STACK_BYTES];
};

struct ks_lock_result {
	struct ks_event_header hdr;
	__u64 mutex;
	__s32 ret; /* 0: the mutex is now held */
	__u16 call;
	__u16 _pad0;
};

/*
 * Map ks_fd_classes, kernel-side only: what an fd is, cached so reads and
 * writes of ordinary files cost one lookup.  Keyed by the program image too
 * (task->self_exec_id), since exec closes fds without a close() call.
 */
struct ks_fd_key {
	__u32 tgid;
	__s32 fd;
	__u64 exec_id;
};

struct ks_fd_class {
	__u64 object; /* see struct ks_io; the socket itself for KS_IO_UNIX */
	__u8 kind; /* enum ks_io_kind, 0 for anything else */
	__u8 flags; /* KS_IO_STREAM for a pipe, FIFO, unix stream socket */
	__u8 _pad0[2];
	__u32 inode; /* see struct ks_io; the socket's own for KS_IO_UNIX */
};

/* Bits of the .rodata variable ks_filter_mode. */
#define KS_FILTER_PID (1u << 0) /* tgid's bit must be set in map ks_sel_tgids */
#define KS_FILTER_COMM (1u << 1) /* leader comm must be in map ks_sel_comms */

/*
 * Map ks_sel_tgids is a bitmap of the --pid processes, one bit per possible
 * tgid (PID_MAX_LIMIT, 2^22 on 64-bit kernels): tgid t is bit t % 64 of the
 * __u64 at index t / 64.  Every socket read and write of the machine tests
 * it with --http, and an array's lookup is a bounds check and an addition
 * where a hash's is a call and a hash of the key.
 */
#define KS_SEL_TGID_LIMIT (1u << 22)
#define KS_SEL_TGID_WORDS (KS_SEL_TGID_LIMIT / 64)

/* Key of map ks_sel_comms. */
struct ks_comm_key {
	char comm[KS_COMM_LEN];
};

#define KS_RINGBUF_DEFAULT_BYTES (16u << 20)
#define KS_MAX_INFLIGHT 65536
#define KS_MAX_BLOCKED 16384
#define KS_MAX_FD_CLASSES 65536
#define KS_MAX_STREAMS 65536
#define KS_MAX_SELECTED 1024

_Static_assert(sizeof(struct ks_event_header) == 24, "header layout");
_Static_assert(sizeof(struct ks_task_id) == 16, "task id layout");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, uaddr) == 24,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, words) == 64,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, words_before) == 48,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, regs) == 88,
	       "wait_begin");
_Static_assert(__builtin_offsetof(struct ks_wait_begin, stack) ==
		       96 + 8 * KS_NR_USER_REGS,
	       "wait_begin");
_Static_assert(sizeof(struct ks_wait_begin) ==
		       96 + 8 * KS_NR_USER_REGS + KS_STACK_SNAPSHOT_BYTES,
	       "wait_begin size");
_Static_assert(sizeof(struct ks_wait_end) == 64, "wait_end size");
_Static_assert(__builtin_offsetof(struct ks_fork, clear_child_tid) == 48,
	       "fork");
_Static_assert(sizeof(struct ks_fork) == 80, "fork size");
_Static_assert(sizeof(struct ks_exec) == 64, "exec size");
_Static_assert(sizeof(struct ks_exit) == 48, "exit size");
_Static_assert(sizeof(struct ks_rename) == 40, "rename size");
_Static_assert(sizeof(struct ks_wake) == 56, "wake size");
_Static_assert(__builtin_offsetof(struct ks_io, pending) == 64, "io");
_Static_assert(sizeof(struct ks_io) == 72, "io size");
_Static_assert(sizeof(struct ks_io_inflight) == 40, "io inflight size");
_Static_assert(sizeof(struct ks_stream_key) == 16, "stream key size");
_Static_assert(sizeof(struct ks_stream_state) == 16, "stream state size");
_Static_assert(sizeof(struct ks_wakeup) == 40, "wakeup size");
_Static_assert(sizeof(struct ks_reaped) == 32, "reaped size");
_Static_assert(sizeof(struct ks_offcpu) == 48, "offcpu size");
_Static_assert(sizeof(struct ks_klock_begin) == 48, "klock_begin size");
_Static_assert(sizeof(struct ks_klock_end) == 48, "klock_end size");
_Static_assert(sizeof(struct ks_offcpu_since) == 24, "offcpu since size");
_Static_assert(__builtin_offsetof(struct ks_lock_call_rec, regs) == 40,
	       "lock call");
_Static_assert(sizeof(struct ks_lock_call_rec) ==
		       40 + 8 * KS_NR_USER_REGS + KS_CALL_STACK_BYTES,
	       "lock call size");
_Static_assert(sizeof(struct ks_lock_result) == 40, "lock result size");
_Static_assert(sizeof(struct ks_klock_inflight) == 16, "klock inflight");
_Static_assert(sizeof(struct ks_cpu_stats) == 8 * (2 * KS_EV_KIND_MAX + 2),
	       "stats size");
_Static_assert(sizeof(struct ks_inflight) == 72, "inflight size");
_Static_assert(sizeof(struct ks_wait_end_stack) ==
		       sizeof(struct ks_wait_end) + 8 + KS_STACK_SNAPSHOT_BYTES,
	       "wait_end with its stack");
_Static_assert(sizeof(struct ks_blocked) == 32, "blocked size");
_Static_assert(sizeof(struct ks_read_woken) == 64, "read woken size");
_Static_assert(sizeof(struct ks_endpoint) == 24, "endpoint size");
_Static_assert(sizeof(struct ks_conn_tuple) == 48, "tuple size");
_Static_assert(__builtin_offsetof(struct ks_sock_open, tuple) == 48,
	       "sock_open");
_Static_assert(sizeof(struct ks_sock_open) == 96, "sock_open size");
_Static_assert(__builtin_offsetof(struct ks_sock_data, total_len) == 32,
	       "sock_data");
_Static_assert(__builtin_offsetof(struct ks_sock_data, trace_id) == 48,
	       "sock_data");
_Static_assert(sizeof(struct ks_sock_data) == 72, "sock_data size");
_Static_assert(sizeof(struct ks_sock_close) == 32, "sock_close size");
_Static_assert(sizeof(struct ks_sock_state) == 32, "sock state size");
_Static_assert(sizeof(struct ks_trace_ctx) == 24, "trace ctx size");
_Static_assert(KS_SOCK_CAPTURE_MAX <= 0xffff, "captured_len is 16 bits");
_Static_assert(sizeof(struct ks_comm_key) == KS_COMM_LEN, "comm key");
_Static_assert(sizeof(struct ks_fd_key) == 16, "fd key");
_Static_assert(sizeof(struct ks_fd_class) == 16, "fd class");

#endif /* KNOTSCOPE_ABI_H */
