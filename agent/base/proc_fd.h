/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Another process's open files as /proc shows them: what an fd names
 * (/proc/PID/fd/N), how it was opened and what an epoll instance watches
 * (/proc/PID/fdinfo/N).  Reading these costs the process nothing.
 */
#ifndef KS_PROC_FD_H
#define KS_PROC_FD_H

#include <stddef.h>
#include <stdint.h>

enum ks_fd_type {
	KS_FD_OTHER = 0, /* a device, an anonymous inode, ... */
	KS_FD_PIPE, /* "pipe:[INODE]" */
	KS_FD_SOCKET, /* "socket:[INODE]" */
	KS_FD_PATH, /* a path: a file, a directory, or a FIFO */
};

struct ks_fd_link {
	enum ks_fd_type type;
	uint64_t inode; /* pipes and sockets; 0 for the others */
};

/* What the text of a /proc/PID/fd/N link names. */
void ks_fd_link_parse(const char *text, struct ks_fd_link *out);
/* Reads and parses /proc/TGID/fd/FD; -1 when there is no such fd. */
int ks_proc_read_fd_link(uint32_t tgid, int fd, struct ks_fd_link *out);

/*
 * The file behind /proc/TGID/fd/FD, as stat(2) describes it (a FIFO
 * opened by path shows its device and inode here only).
 */
int ks_proc_stat_fd(uint32_t tgid, int fd, uint64_t *dev, uint64_t *inode,
		    unsigned int *mode);

/* The "flags:" of /proc/TGID/fdinfo/FD: O_ACCMODE, O_NONBLOCK, ... */
int ks_proc_read_fd_flags(uint32_t tgid, int fd, unsigned int *flags);

/* One fd an epoll instance watches, from a "tfd:" line of its fdinfo. */
struct ks_epoll_target {
	int fd; /* as registered: the number may name another file since */
	uint32_t events; /* EPOLLIN, EPOLLOUT, ... */
	uint64_t inode; /* of the file registered (Linux 3.8+) */
};

/*
 * Parses an epoll instance's fdinfo text: fills at most max targets and
 * returns how many there are in all.  Reading one checks first that the
 * fd is an epoll instance, and fails (-1) when it is not.
 */
int ks_epoll_targets_parse(const char *text, struct ks_epoll_target *out,
			   size_t max);
int ks_proc_read_epoll_targets(uint32_t tgid, int epfd,
			       struct ks_epoll_target *out, size_t max);

typedef int (*ks_proc_fd_fn)(int fd, const struct ks_fd_link *link, void *ctx);
/*
 * Calls fn for every open fd of tgid (of its thread tid, when not 0: a
 * leader that exited has no files left to show), in no order; stops on
 * nonzero and returns it, or -errno when there is no such process.
 */
int ks_proc_for_each_fd(uint32_t tgid, uint32_t tid, ks_proc_fd_fn fn,
			void *ctx);

#endif /* KS_PROC_FD_H */
