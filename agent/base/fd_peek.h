/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A look at another process's open file through a duplicate of it
 * (pidfd_getfd(2), Linux 5.6+): the very file the process has open, so
 * what the process's own calls would tell about it (bytes in a pipe, a
 * socket's queues, names and timeouts).  Opening the file again through
 * /proc would be another file, and would count as a new reader or writer
 * of a pipe.  The duplicate is closed before returning; the process's file
 * is left as it was.
 */
#ifndef KS_FD_PEEK_H
#define KS_FD_PEEK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ks_peeked_file {
	uint64_t dev;
	uint64_t inode;
	unsigned int mode; /* st_mode: S_IFIFO, S_IFSOCK, ... */
	unsigned int flags; /* F_GETFL: O_ACCMODE, O_NONBLOCK */
	/* A pipe or FIFO: the bytes in it (FIONREAD) and what it holds. */
	int pipe_bytes;
	int pipe_size;
	/* A socket. */
	int domain, type, protocol;
	bool listening;
	/* SO_RCVTIMEO, SO_SNDTIMEO set: its reads or writes time out. */
	bool recv_timeout, send_timeout;
	/* SIOCINQ and SIOCOUTQ: unread bytes, bytes not yet taken by the
	 * other end (unacknowledged for TCP); -1 when not answered. */
	int in_queue, out_queue;
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len; /* 0 when unnamed or unconnected */
};

/*
 * Fills out about fd of process tgid.  With netns_fd, a socket's network
 * namespace is opened there (SIOCGSKNS; -1 otherwise): the caller closes
 * it.  Returns 0, or -errno (ESRCH: no such process, EBADF: no such fd,
 * EPERM: not allowed, ENOSYS: a kernel before 5.6, ENOTSUP: a socket,
 * which a duplicate would mark, below).
 */
int ks_fd_peek(uint32_t tgid, int fd, struct ks_peeked_file *out,
	       int *netns_fd);

/*
 * Whether /proc/cgroups text says controller is mounted as a cgroup v1
 * hierarchy.  The kernel gives a socket passed to another process that
 * process's net_cls class id and net_prio index; those mean something only
 * where the controllers are mounted, so sockets are not duplicated there.
 */
bool ks_cgroup_v1_mounted(const char *proc_cgroups, const char *controller);

#endif /* KS_FD_PEEK_H */
