/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* System call numbers and register access that differ between architectures. */
#ifndef KNOTSCOPE_SYSCALLS_BPF_H
#define KNOTSCOPE_SYSCALLS_BPF_H

#include "common.bpf.h"

#if defined(__TARGET_ARCH_x86)
#define KS_NR_FUTEX 202
#define KS_NR_RESTART_SYSCALL 219
#define KS_NR_READ 0
#define KS_NR_WRITE 1
#define KS_NR_CLOSE 3
#define KS_NR_READV 19
#define KS_NR_WRITEV 20
#define KS_NR_SENDFILE 40
#define KS_NR_CONNECT 42
#define KS_NR_ACCEPT 43
#define KS_NR_SENDTO 44
#define KS_NR_RECVFROM 45
#define KS_NR_SENDMSG 46
#define KS_NR_RECVMSG 47
#define KS_NR_ACCEPT4 288
#define KS_NR_DUP2 33
#define KS_NR_DUP3 292
#elif defined(__TARGET_ARCH_arm64)
#define KS_NR_FUTEX 98
#define KS_NR_RESTART_SYSCALL 128
#define KS_NR_CLOSE 57
#define KS_NR_READ 63
#define KS_NR_WRITE 64
#define KS_NR_READV 65
#define KS_NR_WRITEV 66
#define KS_NR_SENDFILE 71
#define KS_NR_ACCEPT 202
#define KS_NR_ACCEPT4 242
#define KS_NR_CONNECT 203
#define KS_NR_SENDTO 206
#define KS_NR_RECVFROM 207
#define KS_NR_SENDMSG 211
#define KS_NR_RECVMSG 212
/* arm64 has dup3 only */
#define KS_NR_DUP3 24
#endif
/* Numbered alike on every architecture since the syscall table unification. */
#define KS_NR_FUTEX_WAITV 449
#define KS_NR_FUTEX_WAIT 455

/* The syscall number at sys_exit, where the tracepoint passes only ret. */
static __always_inline long ks_syscall_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return BPF_CORE_READ(regs, orig_ax);
#elif defined(__TARGET_ARCH_arm64)
	return BPF_CORE_READ(regs, syscallno);
#endif
}

/* The callee-saved registers a DWARF unwinder starts from. */
static __always_inline void ks_save_user_regs(__u64 *out, struct pt_regs *regs)
{
	__builtin_memset(out, 0, KS_NR_USER_REGS * sizeof(__u64));
#if defined(__TARGET_ARCH_x86)
	out[KS_REG_IP] = BPF_CORE_READ(regs, ip);
	out[KS_REG_SP] = BPF_CORE_READ(regs, sp);
	out[KS_REG_BP] = BPF_CORE_READ(regs, bp);
	out[KS_REG_BX] = BPF_CORE_READ(regs, bx);
	out[KS_REG_R12] = BPF_CORE_READ(regs, r12);
	out[KS_REG_R13] = BPF_CORE_READ(regs, r13);
	out[KS_REG_R14] = BPF_CORE_READ(regs, r14);
	out[KS_REG_R15] = BPF_CORE_READ(regs, r15);
#elif defined(__TARGET_ARCH_arm64)
	out[KS_REG_IP] = BPF_CORE_READ(regs, pc);
	out[KS_REG_SP] = BPF_CORE_READ(regs, sp);
	bpf_probe_read_kernel(&out[KS_REG_FP], 2 * sizeof(__u64),
			      &regs->regs[29]);
	bpf_probe_read_kernel(&out[KS_REG_X19], 10 * sizeof(__u64),
			      &regs->regs[19]);
#endif
}

#endif /* KNOTSCOPE_SYSCALLS_BPF_H */
