// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The system calls the futex waits (--wait-hooks syscall) and the
 * per-message happens-before edges (--channel-edges) need, each hooked on
 * its own (see KS_SYSCALL_ENTER in syscalls.bpf.h), and the
 * generic pair of hooks the agent falls back to: sys_enter/sys_exit, which
 * every system call of the machine passes through, so each decides on the
 * syscall number first.
 */
#include "common.bpf.h"
#include "futex.bpf.h"
#include "io_edges.bpf.h"
#include "syscalls.bpf.h"

/* Futex waits begin and wakes happen at entry; only the watched pay more. */
#define KS_FUTEX_ENTER(sc, nr)                                                 \
	KS_SYSCALL_ENTER(sc, ks_enter_##sc)                                    \
	{                                                                      \
		if (!ks_current_selected())                                    \
			return 0;                                              \
		return ks_futex_sys_enter(args,                                \
					  regs ? regs : ks_current_regs(), nr, \
					  bpf_get_current_pid_tgid(), 0);      \
	}

KS_FUTEX_ENTER(futex, KS_NR_FUTEX)
KS_FUTEX_ENTER(futex_waitv, KS_NR_FUTEX_WAITV)
KS_FUTEX_ENTER(futex_wait, KS_NR_FUTEX_WAIT)
KS_FUTEX_ENTER(futex_wake, KS_NR_FUTEX_WAKE)
KS_FUTEX_ENTER(futex_requeue, KS_NR_FUTEX_REQUEUE)

/* A wait ends where a call that waits returns; a lookup by tid says if. */
#define KS_WAIT_EXIT(sc, fn)                     \
	KS_SYSCALL_EXIT_AT(sc, fn, ks_exit_##sc) \
	{                                        \
		return ks_futex_sys_exit(ret);   \
	}

KS_WAIT_EXIT(futex, KS_SYSCALL_FN(futex))
KS_WAIT_EXIT(futex_waitv, KS_SYSCALL_FN(futex_waitv))
KS_WAIT_EXIT(futex_wait, KS_SYSCALL_FN(futex_wait))
/* How a wait a signal interrupted resumes. */
KS_WAIT_EXIT(restart_syscall, KS_SYSCALL_FN0(restart_syscall))

/*
 * sized: the third argument is the byte count.  The return matters for
 * streams only: how much was written.
 */
#define KS_IO_WRITE(sc, sized)                         \
	KS_SYSCALL_ENTER(sc, ks_enter_##sc)            \
	{                                              \
		return ks_io_write_enter(args, sized); \
	}                                              \
	KS_SYSCALL_EXIT(sc, ks_exit_##sc)              \
	{                                              \
		return ks_io_write_exit(ret);          \
	}

KS_IO_WRITE(write, true)
KS_IO_WRITE(sendto, true)
KS_IO_WRITE(writev, false)
KS_IO_WRITE(sendmsg, false)

/* recv_flags: the recv flags argument, for MSG_PEEK; 0 for none. */
#define KS_IO_READ(sc, recv_flags)                         \
	KS_SYSCALL_ENTER(sc, ks_enter_##sc)                \
	{                                                  \
		return ks_io_read_enter(args, recv_flags); \
	}                                                  \
	KS_SYSCALL_EXIT(sc, ks_exit_##sc)                  \
	{                                                  \
		return ks_io_read_exit(ret);               \
	}

KS_IO_READ(read, 0)
KS_IO_READ(readv, 0)
KS_IO_READ(recvfrom, args->arg[3])
KS_IO_READ(recvmsg, args->arg[2])

KS_SYSCALL_ENTER(close, ks_enter_close)
{
	return ks_io_fd_changed(args->arg[0]);
}

#ifdef KS_NR_DUP2
KS_SYSCALL_ENTER(dup2, ks_enter_dup2)
{
	return ks_io_fd_changed(args->arg[1]);
}
#endif

KS_SYSCALL_ENTER(dup3, ks_enter_dup3)
{
	return ks_io_fd_changed(args->arg[1]);
}

KS_SYSCALL_EXIT(eventfd2, ks_exit_eventfd2)
{
	return ks_io_eventfd_made(ret);
}

KS_SYSCALL_EXIT_REGS(wait4, ks_exit_wait4)
{
	return ks_reaped_sys_exit(regs, false, ret);
}

KS_SYSCALL_EXIT_REGS(waitid, ks_exit_waitid)
{
	return ks_reaped_sys_exit(regs, true, ret);
}

/* --- The generic hooks: every system call of the machine. */

KS_TRACEPOINT(sys_enter, ks_sys_enter, struct pt_regs *regs, long id)
{
	struct ks_syscall_args args;
	struct pt_regs copy;

	bool waits = ks_syscall_waits && ks_is_futex_syscall(id);

	if (!waits &&
	    !(ks_channel_edges &&
	      (ks_is_io_read(id) || ks_is_io_write(id) || ks_is_fd_change(id))))
		return 0;
	if (ks_copy_regs(&copy, regs))
		return 0;
	ks_args_of_regs(&args, &copy);
	if (waits)
		return ks_current_selected() ?
			       ks_futex_sys_enter(&args, &copy, id,
						  bpf_get_current_pid_tgid(),
						  0) :
			       0;
	if (ks_is_io_read(id))
		return ks_io_read_enter(&args,
					id == KS_NR_RECVFROM ? args.arg[3] :
					id == KS_NR_RECVMSG  ? args.arg[2] :
							       0);
	if (ks_is_io_write(id))
		return ks_io_write_enter(&args, id == KS_NR_WRITE ||
							id == KS_NR_SENDTO);
	/* close(fd), dup3(old, new, flags): the fd whose file changes. */
	return ks_io_fd_changed(id == KS_NR_CLOSE ? args.arg[0] : args.arg[1]);
}

KS_TRACEPOINT(sys_exit, ks_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = ks_syscall_nr(regs);

	if (ks_syscall_waits &&
	    (ks_is_futex_syscall(nr) || nr == KS_NR_RESTART_SYSCALL))
		return ks_futex_sys_exit(ret);
	if (!ks_channel_edges)
		return 0;
	if (ks_is_io_read(nr))
		return ks_io_read_exit(ret);
	if (ks_is_io_write(nr))
		return ks_io_write_exit(ret);
	if (nr == KS_NR_WAIT4 || nr == KS_NR_WAITID)
		return ks_reaped_sys_exit(regs, nr == KS_NR_WAITID, ret);
	if (nr == KS_NR_EVENTFD2)
		return ks_io_eventfd_made(ret);
	return 0;
}
