// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The one pair of system call hooks.  Every system call of the machine
 * passes through them, so each decides on the syscall number first, and
 * there is one program per direction rather than one per concern: each
 * program attached to sys_enter costs every syscall its dispatch.
 */
#include "common.bpf.h"
#include "futex.bpf.h"
#include "io_edges.bpf.h"
#include "syscalls.bpf.h"

KS_TRACEPOINT(sys_enter, ks_sys_enter, struct pt_regs *regs, long id)
{
	struct pt_regs copy;
	bool futex = ks_is_futex_syscall(id);
	bool io = ks_is_io_read(id) || ks_is_io_write(id);

	if (!futex && !io && !ks_is_fd_change(id))
		return 0;
	if (!ks_current_selected() || ks_copy_regs(&copy, regs))
		return 0;
	if (futex)
		return ks_futex_sys_enter(&copy, id);
	if (io)
		return ks_io_sys_enter(&copy, id);
	return ks_io_fd_changed(&copy);
}

KS_TRACEPOINT(sys_exit, ks_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = ks_syscall_nr(regs);

	if (ks_is_futex_syscall(nr) || nr == KS_NR_RESTART_SYSCALL)
		return ks_futex_sys_exit(ret);
	if (ks_is_io_read(nr))
		return ks_io_read_exit(ret);
	if ((nr == KS_NR_WAIT4 || nr == KS_NR_WAITID) && ret >= 0)
		return ks_reaped_sys_exit(regs, nr, ret);
	return 0;
}
