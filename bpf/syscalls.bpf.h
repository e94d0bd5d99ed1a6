/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* System call numbers and register access that differ between architectures. */
#ifndef KNOTSCOPE_SYSCALLS_BPF_H
#define KNOTSCOPE_SYSCALLS_BPF_H

#include "common.bpf.h"

#if defined(__TARGET_ARCH_x86)
#define KS_NR_READ 0
#define KS_NR_WRITE 1
#define KS_NR_CLOSE 3
#define KS_NR_READV 19
#define KS_NR_WRITEV 20
#define KS_NR_DUP2 33
#define KS_NR_SENDFILE 40
#define KS_NR_CONNECT 42
#define KS_NR_ACCEPT 43
#define KS_NR_SENDTO 44
#define KS_NR_RECVFROM 45
#define KS_NR_SENDMSG 46
#define KS_NR_RECVMSG 47
#define KS_NR_WAIT4 61
#define KS_NR_FUTEX 202
#define KS_NR_RESTART_SYSCALL 219
#define KS_NR_WAITID 247
#define KS_NR_ACCEPT4 288
#define KS_NR_DUP3 292
#elif defined(__TARGET_ARCH_arm64)
/* arm64 has dup3 only */
#define KS_NR_DUP3 24
#define KS_NR_CLOSE 57
#define KS_NR_READ 63
#define KS_NR_WRITE 64
#define KS_NR_READV 65
#define KS_NR_WRITEV 66
#define KS_NR_SENDFILE 71
#define KS_NR_WAITID 95
#define KS_NR_FUTEX 98
#define KS_NR_RESTART_SYSCALL 128
#define KS_NR_ACCEPT 202
#define KS_NR_CONNECT 203
#define KS_NR_SENDTO 206
#define KS_NR_RECVFROM 207
#define KS_NR_SENDMSG 211
#define KS_NR_RECVMSG 212
#define KS_NR_ACCEPT4 242
#define KS_NR_WAIT4 260
#endif
/* Numbered alike on every architecture since the syscall table unification. */
#define KS_NR_FUTEX_WAITV 449
#define KS_NR_FUTEX_WAKE 454
#define KS_NR_FUTEX_WAIT 455
#define KS_NR_FUTEX_REQUEUE 456

/* The syscall number at sys_exit, where the tracepoint passes only ret. */
static __always_inline long ks_syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#endif
}

/*
 * The user registers at syscall entry, copied in one read: every field the
 * wait path needs is in them, and one helper call costs less than a dozen.
 * pt_regs is the syscall frame, laid out by the architecture's entry code,
 * so its fields sit at the same offsets on every kernel and the copy can be
 * read directly.
 */
static __always_inline int ks_copy_regs(struct pt_regs *copy,
					struct pt_regs *regs)
{
	return bpf_probe_read_kernel(copy, sizeof(*copy), regs);
}

/* The callee-saved registers a DWARF unwinder starts from. */
static __always_inline void ks_save_user_regs(__u64 *out,
					      const struct pt_regs *regs)
{
	__builtin_memset(out, 0, KS_NR_USER_REGS * sizeof(__u64));
#if defined(__TARGET_ARCH_x86)
	out[KS_REG_IP] = regs->ip;
	out[KS_REG_SP] = regs->sp;
	out[KS_REG_BP] = regs->bp;
	out[KS_REG_BX] = regs->bx;
	out[KS_REG_R12] = regs->r12;
	out[KS_REG_R13] = regs->r13;
	out[KS_REG_R14] = regs->r14;
	out[KS_REG_R15] = regs->r15;
#elif defined(__TARGET_ARCH_arm64)
	out[KS_REG_IP] = regs->pc;
	out[KS_REG_SP] = regs->sp;
	out[KS_REG_FP] = regs->regs[29];
	out[KS_REG_LR] = regs->regs[30];
	for (int i = 0; i < 10; i++)
		out[KS_REG_X19 + i] = regs->regs[19 + i];
#endif
}

/* Syscall arguments from the copy: the user's registers, not a wrapper's. */
#if defined(__TARGET_ARCH_x86)
#define KS_SYSCALL_ARG1(r) ((r)->di)
#define KS_SYSCALL_ARG2(r) ((r)->si)
#define KS_SYSCALL_ARG3(r) ((r)->dx)
#define KS_SYSCALL_ARG4(r) ((r)->r10) /* rcx is taken by syscall */
#define KS_SYSCALL_ARG5(r) ((r)->r8)
#define KS_SYSCALL_NR_IS_CLOSE(r) ((r)->orig_ax == KS_NR_CLOSE)
/* From the live frame at exit, where only these are still the arguments. */
#define KS_SYSCALL_ARG3_CORE(r) BPF_CORE_READ(r, dx)
#elif defined(__TARGET_ARCH_arm64)
#define KS_SYSCALL_ARG1(r) ((r)->orig_x0) /* x0 becomes the return value */
#define KS_SYSCALL_ARG2(r) ((r)->regs[1])
#define KS_SYSCALL_ARG3(r) ((r)->regs[2])
#define KS_SYSCALL_ARG4(r) ((r)->regs[3])
#define KS_SYSCALL_ARG5(r) ((r)->regs[4])
#define KS_SYSCALL_NR_IS_CLOSE(r) ((r)->syscallno == KS_NR_CLOSE)
#define KS_SYSCALL_ARG3_CORE(r) BPF_CORE_READ(r, regs[2])
#endif

#endif /* KNOTSCOPE_SYSCALLS_BPF_H */
