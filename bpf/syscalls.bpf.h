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
#define KS_NR_SENDTO 44
#define KS_NR_RECVFROM 45
#define KS_NR_SENDMSG 46
#define KS_NR_RECVMSG 47
#define KS_NR_WAIT4 61
#define KS_NR_FUTEX 202
#define KS_NR_RESTART_SYSCALL 219
#define KS_NR_WAITID 247
#define KS_NR_EVENTFD2 290
#define KS_NR_DUP3 292
#elif defined(__TARGET_ARCH_arm64)
/* arm64 has dup3 only */
#define KS_NR_EVENTFD2 19
#define KS_NR_DUP3 24
#define KS_NR_CLOSE 57
#define KS_NR_READ 63
#define KS_NR_WRITE 64
#define KS_NR_READV 65
#define KS_NR_WRITEV 66
#define KS_NR_WAITID 95
#define KS_NR_FUTEX 98
#define KS_NR_RESTART_SYSCALL 128
#define KS_NR_SENDTO 206
#define KS_NR_RECVFROM 207
#define KS_NR_SENDMSG 211
#define KS_NR_RECVMSG 212
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

/* The same, from a copy of the registers. */
static __always_inline long ks_regs_syscall_nr(const struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	return regs->syscallno;
#endif
}

/*
 * The user registers of the current task, self (as KS_SELF() takes it), or
 * of any task held by a typed pointer, saved at its syscall entry: a typed
 * pointer, read with plain loads.  Only the
 * generic hooks run where the helpers do not exist (before 5.15), and they
 * always have the registers.
 */
static __always_inline struct pt_regs *ks_self_regs(struct task_struct *self)
{
	if (!bpf_core_enum_value_exists(enum bpf_func_id,
					BPF_FUNC_task_pt_regs))
		return NULL;
	return (struct pt_regs *)bpf_task_pt_regs(self);
}

static __always_inline struct pt_regs *ks_current_regs(void)
{
	return ks_self_regs(ks_current_task());
}

/*
 * A copy of the user registers the generic hooks are handed, a pointer the
 * raw_tp twin cannot load from: every field the wait path needs, in one
 * helper call, which costs less than a dozen.  pt_regs is the syscall
 * frame, laid out by the architecture's entry code, so its fields sit at
 * the same offsets on every kernel and the copy can be read directly.
 */
static __always_inline int ks_copy_regs(struct pt_regs *copy,
					const struct pt_regs *regs)
{
	return bpf_probe_read_kernel(copy, sizeof(*copy), regs);
}

/* The callee-saved registers a DWARF unwinder starts from. */
static __always_inline void ks_save_user_regs(__u64 *out,
					      const struct pt_regs *regs)
{
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

/* A system call's arguments, however the hook got them. */
struct ks_syscall_args {
	unsigned long arg[6];
};

/* From the user's registers (a copy, or fentry's typed pointer). */
static __always_inline void ks_args_of_regs(struct ks_syscall_args *args,
					    const struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	args->arg[0] = regs->di;
	args->arg[1] = regs->si;
	args->arg[2] = regs->dx;
	args->arg[3] = regs->r10; /* rcx is taken by syscall */
	args->arg[4] = regs->r8;
	args->arg[5] = regs->r9;
#elif defined(__TARGET_ARCH_arm64)
	args->arg[0] = regs->orig_x0; /* x0 becomes the return value */
	for (int i = 1; i < 6; i++)
		args->arg[i] = regs->regs[i];
#endif
}

/*
 * Every system call handler exists in the flavours the agent chooses from
 * at start (docs/capture-cost.md says what each costs):
 *
 * - the per-syscall tracepoint syscalls:sys_enter_NAME / sys_exit_NAME,
 *   which the kernel runs only for that call: a call nobody watches pays a
 *   bitmap test.  Needs tracefs (libbpf reads the event id there) and
 *   CONFIG_FTRACE_SYSCALLS;
 * - fentry / fexit on the call's own function (__x64_sys_NAME): no cost at
 *   all for other calls, the cheapest dispatch for this one, where the
 *   kernel allows BPF trampolines;
 * - the generic sys_enter / sys_exit hooks (syscalls.bpf.c),
 *   which run for every system call of the machine and switch on its
 *   number: the fallback that works wherever raw tracepoints do.
 *
 * All of them run the same body.  An entry body gets the arguments and the
 * user registers (NULL: the current task's, fetched only if needed); an
 * exit body the return value, and with _REGS the registers, where the
 * arguments still are.
 */
#if defined(__TARGET_ARCH_x86)
#define KS_SYSCALL_FN(sc) "__x64_sys_" #sc
/* Calls without arguments have no wrapper: the function itself. */
#define KS_SYSCALL_FN0(sc) "__do_sys_" #sc
#elif defined(__TARGET_ARCH_arm64)
#define KS_SYSCALL_FN(sc) "__arm64_sys_" #sc
#define KS_SYSCALL_FN0(sc) "__arm64_sys_" #sc
#endif

/* clang-format off */
#define KS_SYSCALL_ENTER(sc, name)					\
	static __always_inline int name##_body(				\
		const struct ks_syscall_args *args, struct pt_regs *regs); \
	SEC("tracepoint/syscalls/sys_enter_" #sc)			\
	int name(struct trace_event_raw_sys_enter *ctx)			\
	{								\
		/* Constant offsets: the verifier refuses a moved ctx. */ \
		struct ks_syscall_args args = {				\
			.arg = { ctx->args[0], ctx->args[1], ctx->args[2], \
				 ctx->args[3], ctx->args[4], ctx->args[5] }, \
		};							\
		return name##_body(&args, NULL);			\
	}								\
	SEC("fentry/" KS_SYSCALL_FN(sc))				\
	int BPF_PROG(name##_fe, struct pt_regs *regs)			\
	{								\
		struct ks_syscall_args args;				\
									\
		ks_args_of_regs(&args, regs);				\
		return name##_body(&args, regs);			\
	}								\
	static __always_inline int name##_body(				\
		const struct ks_syscall_args *args, struct pt_regs *regs)

#define KS_SYSCALL_EXIT(sc, name) KS_SYSCALL_EXIT_AT(sc, KS_SYSCALL_FN(sc), name)

/* fn: the call's function, where it is not KS_SYSCALL_FN(sc). */
#define KS_SYSCALL_EXIT_AT(sc, fn, name)				\
	static __always_inline int name##_body(long ret);		\
	SEC("tracepoint/syscalls/sys_exit_" #sc)			\
	int name(struct trace_event_raw_sys_exit *ctx)			\
	{								\
		return name##_body(ctx->ret);				\
	}								\
	SEC("fexit/" fn)						\
	int BPF_PROG(name##_fx, struct pt_regs *regs, long ret)		\
	{								\
		return name##_body(ret);				\
	}								\
	static __always_inline int name##_body(long ret)

#define KS_SYSCALL_EXIT_REGS(sc, name)					\
	static __always_inline int name##_body(struct pt_regs *regs,	\
					       long ret);		\
	SEC("tracepoint/syscalls/sys_exit_" #sc)			\
	int name(struct trace_event_raw_sys_exit *ctx)			\
	{								\
		return name##_body((struct pt_regs *)bpf_task_pt_regs(	\
			bpf_get_current_task_btf()), ctx->ret);		\
	}								\
	SEC("fexit/" KS_SYSCALL_FN(sc))					\
	int BPF_PROG(name##_fx, struct pt_regs *regs, long ret)		\
	{								\
		return name##_body(regs, ret);				\
	}								\
	static __always_inline int name##_body(struct pt_regs *regs, long ret)
/* clang-format on */

/* From the live frame at exit, where only these are still the arguments. */
#if defined(__TARGET_ARCH_x86)
#define KS_SYSCALL_ARG3_CORE(r) BPF_CORE_READ(r, dx)
#elif defined(__TARGET_ARCH_arm64)
#define KS_SYSCALL_ARG3_CORE(r) BPF_CORE_READ(r, regs[2])
#endif

#endif /* KNOTSCOPE_SYSCALLS_BPF_H */
