/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Which system calls a thread can wait in for another process or thread
 * to move bytes or exit, read from the call as /proc/PID/task/TID/syscall
 * shows it: read, write and their vector and socket forms on one fd, a
 * poll or epoll of one fd, and a wait for one child.  Calls with a timeout
 * can end on their own and are none of these.
 */
#ifndef KS_IO_CALL_H
#define KS_IO_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/proc.h"

enum ks_io_dir {
	KS_IO_DIR_NONE = 0,
	KS_IO_DIR_READ, /* waits for data to arrive */
	KS_IO_DIR_WRITE, /* waits for room to write */
	KS_IO_DIR_CHILD, /* waits for a child process to exit */
};

/* How the thread waits on the fd. */
enum ks_io_via {
	KS_IO_VIA_CALL = 0, /* in the read or write itself */
	KS_IO_VIA_POLL, /* poll()/ppoll() of that one fd */
	KS_IO_VIA_EPOLL, /* epoll_wait() on an instance that watches one fd */
};

struct ks_io_call {
	enum ks_io_dir dir; /* NONE until the poll or epoll is looked into */
	enum ks_io_via via;
	/*
	 * The fd: read and write's own, the epoll instance's for an epoll
	 * (the fd it watches is found in /proc), or for a poll the address
	 * of its one struct pollfd in the process.
	 */
	int64_t fd;
	uint64_t pollfd_addr;
	uint32_t child; /* KS_IO_DIR_CHILD: its pid, in the waiter's pid ns */
	const char *name; /* the call's name: "read", "epoll_wait", ... */
};

/*
 * Whether the call in sc can wait, without a timeout, on I/O or a child,
 * and how; the system call numbers are the agent's own architecture's.
 */
bool ks_io_call_of(const struct ks_proc_syscall *sc, struct ks_io_call *out);

/* The direction a poll's or epoll's event mask waits in; NONE if both. */
enum ks_io_dir ks_io_dir_of_events(uint32_t events);

#endif /* KS_IO_CALL_H */
