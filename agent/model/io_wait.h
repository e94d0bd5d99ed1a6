/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a thread blocked in I/O waits on: the pipe, FIFO, connected stream
 * socket or child process behind the call it is blocked in, found from
 * outside when the wait has lasted (/proc, a duplicate of the file, the
 * kernel's socket tables), and the state that keeps it blocked (a pipe
 * empty for a reader, or holding bytes nobody takes for a writer).  Who can
 * end the wait is io_parties' business.
 */
#ifndef KS_IO_WAIT_H
#define KS_IO_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/proc.h"
#include "base/sock_diag.h"
#include "model/io_call.h"

enum ks_io_wait_kind {
	KS_IO_WAIT_NONE = 0,
	KS_IO_WAIT_PIPE_READ, /* data from a pipe or FIFO */
	KS_IO_WAIT_PIPE_WRITE, /* room in a pipe or FIFO */
	KS_IO_WAIT_SOCKET_READ, /* data from a connected stream socket */
	KS_IO_WAIT_SOCKET_WRITE, /* room in a connected stream socket */
	KS_IO_WAIT_CHILD_EXIT, /* a child process to exit */
};

enum ks_io_object {
	KS_IO_OBJ_NONE = 0,
	KS_IO_OBJ_PIPE,
	KS_IO_OBJ_FIFO,
	KS_IO_OBJ_UNIX, /* a connected unix stream or seqpacket socket */
	KS_IO_OBJ_TCP, /* a TCP connection both ends of which are here */
	KS_IO_OBJ_CHILD,
};

/* An IP endpoint, IPv4 as IPv4-mapped IPv6. */
struct ks_io_endpoint {
	uint8_t addr[16];
	uint16_t port; /* host order */
};

/*
 * Who can end a wait: a thread of a process, or any of its threads.  fd is
 * the process's fd to the other end, -1 for a child.
 */
struct ks_io_party {
	uint32_t tgid;
	uint32_t tid; /* 0: any thread of tgid */
	int32_t fd;
};

/* How the parties were found: what a report says about its edge. */
enum ks_io_rule {
	KS_IO_RULE_NONE = 0,
	/* Every thread of every process holding the other end open. */
	KS_IO_RULE_HOLDERS,
	/* The one thread that took in the last request from the other end. */
	KS_IO_RULE_SERVING,
	/* Every thread of the child: any of them can make it exit. */
	KS_IO_RULE_CHILD,
};

/* What a wait that lasted was found to be; one per wait. */
struct ks_io_target {
	enum ks_io_wait_kind kind;
	enum ks_io_object object;
	enum ks_io_via via;
	const char *call; /* "read", "poll", "wait4", ... */
	int32_t fd; /* the fd waited on (for poll and epoll, the one watched) */
	int32_t epoll_fd; /* via epoll: the instance's fd; else -1 */
	uint64_t dev; /* a FIFO's device */
	uint64_t inode; /* of the waiter's end */
	uint64_t peer_inode; /* sockets: of the other end */
	uint8_t sock_type; /* SOCK_STREAM or SOCK_SEQPACKET */
	struct ks_io_endpoint local, remote; /* TCP */
	/*
	 * What keeps it blocked, as first found: for a reader the bytes it
	 * could read (0); for a writer the bytes in the pipe or not yet taken
	 * from its socket; for TCP, peer_queued is the other end's unsent
	 * (reader) or unread (writer) bytes.
	 */
	int64_t queued, peer_queued;
	uint32_t child_tgid; /* a child's host pid */
	/* Who can end it (io_parties.c), and how they were found. */
	struct ks_io_party *parties;
	uint32_t nr_parties;
	enum ks_io_rule rule;
	/* Every process was searched, not only the watched ones blocked. */
	bool complete;
	uint64_t parties_ns; /* when they were found */
};

/* A thread's I/O wait as sampled, and what it was found to be. */
struct ks_thread_io {
	/* Blocked, at the last sample, in a call ks_io_call_of() takes. */
	bool blocked;
	struct ks_proc_syscall sc;
	struct ks_proc_progress progress;
	uint64_t seen_ns; /* the first sample that saw this very call */
	unsigned int samples; /* how many saw it, without the thread running */
	/* When it began, from the kernel side, when known; else 0. */
	uint64_t begin_ns;
	/* Once resolved: its target, or that it has none (unresolved). */
	struct ks_io_target *target;
	bool unresolvable;
};

const char *ks_io_wait_kind_name(enum ks_io_wait_kind kind);
const char *ks_io_object_name(enum ks_io_object object);
const char *ks_io_rule_name(enum ks_io_rule rule);

/*
 * When the wait began: as the kernel side timed it, else (first_seen)
 * when a sweep first saw the thread in it, which is no earlier.
 */
uint64_t ks_thread_io_since(const struct ks_thread_io *io, bool *first_seen);

/* Forgets the sample and the target. */
void ks_thread_io_reset(struct ks_thread_io *io);

/*
 * Finds what call, in thread tid of tgid, waits on: fills target (its
 * parties left empty) and returns 0, or -1 when it is nothing an edge can
 * be drawn for (a file, a listening or unconnected socket, a TCP peer on
 * another host, several fds, a socket read or write with a timeout, a
 * process that may interrupt itself on a timer...).
 * child_tgid: the host pid of the child a wait4() names (the caller knows
 * pid namespaces), 0 if none.
 */
int ks_io_target_resolve(struct ks_sock_diag *diag, uint32_t tgid,
			 const struct ks_io_call *call, uint32_t child_tgid,
			 struct ks_io_target *target);

/*
 * Whether what keeps the wait blocked still holds now, as when resolved:
 * the same object, a reader's source still empty, a writer's bytes still
 * there, not one taken.
 */
bool ks_io_target_unchanged(struct ks_sock_diag *diag, uint32_t tgid,
			    const struct ks_io_call *call,
			    const struct ks_io_target *target);

#endif /* KS_IO_WAIT_H */
