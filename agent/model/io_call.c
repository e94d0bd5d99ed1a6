// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "model/io_call.h"

/* waitid's P_PID (linux/wait.h). */
#define KS_P_PID 1

/* A C int passed in a 64-bit register: only its low half counts. */
static int ks_int_arg(uint64_t arg)
{
	return (int)(int32_t)(uint32_t)arg;
}

static bool ks_fd_call(struct ks_io_call *out, const struct ks_proc_syscall *sc,
		       enum ks_io_dir dir, const char *name)
{
	out->dir = dir;
	out->fd = ks_int_arg(sc->args[0]);
	out->name = name;
	return out->fd >= 0;
}

/* poll(fds, 1, timeout) and ppoll(fds, 1, NULL, ...): one fd, for good. */
static bool ks_poll_call(struct ks_io_call *out,
			 const struct ks_proc_syscall *sc, bool untimed,
			 const char *name)
{
	if (sc->args[1] != 1 || !untimed || !sc->args[0])
		return false;
	out->via = KS_IO_VIA_POLL;
	out->pollfd_addr = sc->args[0];
	out->fd = -1;
	out->name = name;
	return true;
}

static bool ks_epoll_call(struct ks_io_call *out,
			  const struct ks_proc_syscall *sc, bool untimed,
			  const char *name)
{
	if (!untimed || ks_int_arg(sc->args[0]) < 0)
		return false;
	out->via = KS_IO_VIA_EPOLL;
	out->fd = ks_int_arg(sc->args[0]);
	out->name = name;
	return true;
}

static bool ks_child_call(struct ks_io_call *out, int64_t pid, int options,
			  const char *name)
{
	/* One child, by its pid; any child or a group is not one party. */
	if (pid <= 0 || (options & WNOHANG))
		return false;
	out->dir = KS_IO_DIR_CHILD;
	out->child = (uint32_t)pid;
	out->fd = -1;
	out->name = name;
	return true;
}

bool ks_io_call_of(const struct ks_proc_syscall *sc, struct ks_io_call *out)
{
	memset(out, 0, sizeof(*out));
	switch (sc->nr) {
	case SYS_read:
		return ks_fd_call(out, sc, KS_IO_DIR_READ, "read");
	case SYS_readv:
		return ks_fd_call(out, sc, KS_IO_DIR_READ, "readv");
	case SYS_recvfrom:
		return ks_fd_call(out, sc, KS_IO_DIR_READ, "recvfrom");
	case SYS_recvmsg:
		return ks_fd_call(out, sc, KS_IO_DIR_READ, "recvmsg");
	case SYS_write:
		return ks_fd_call(out, sc, KS_IO_DIR_WRITE, "write");
	case SYS_writev:
		return ks_fd_call(out, sc, KS_IO_DIR_WRITE, "writev");
	case SYS_sendto:
		return ks_fd_call(out, sc, KS_IO_DIR_WRITE, "sendto");
	case SYS_sendmsg:
		return ks_fd_call(out, sc, KS_IO_DIR_WRITE, "sendmsg");
#ifdef SYS_poll
	case SYS_poll:
		return ks_poll_call(out, sc, ks_int_arg(sc->args[2]) < 0,
				    "poll");
#endif
	case SYS_ppoll:
		return ks_poll_call(out, sc, !sc->args[2], "ppoll");
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
		return ks_epoll_call(out, sc, ks_int_arg(sc->args[3]) == -1,
				     "epoll_wait");
#endif
	case SYS_epoll_pwait:
		return ks_epoll_call(out, sc, ks_int_arg(sc->args[3]) == -1,
				     "epoll_pwait");
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
		return ks_epoll_call(out, sc, !sc->args[3], "epoll_pwait2");
#endif
	case SYS_wait4:
		return ks_child_call(out, ks_int_arg(sc->args[0]),
				     ks_int_arg(sc->args[2]), "wait4");
	case SYS_waitid:
		if (ks_int_arg(sc->args[0]) != KS_P_PID)
			return false;
		return ks_child_call(out, ks_int_arg(sc->args[1]),
				     ks_int_arg(sc->args[3]), "waitid");
	}
	return false;
}

enum ks_io_dir ks_io_dir_of_events(uint32_t events)
{
	bool in = events & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND);
	bool out = events & (POLLOUT | POLLWRNORM | POLLWRBAND);

	/* EPOLLIN and the others have poll's values. */
	if (in == out)
		return KS_IO_DIR_NONE;
	return in ? KS_IO_DIR_READ : KS_IO_DIR_WRITE;
}
