// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <linux/futex.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "base/printable.h"
#include "report/io_wait_describe.h"
#include "report/report.h"

/* A traced process's name, escaped for the terminal (see printable.h). */
struct ks_name_text {
	char text[KS_PRINTABLE_SIZE(KS_COMM_LEN)];
};

static const char *ks_name(const char *comm, struct ks_name_text *buf)
{
	return ks_printable(comm, buf->text, sizeof(buf->text));
}

void ks_futex_op_describe(uint32_t op, char *buf, unsigned long size)
{
	static const char *const names[] = {
		[FUTEX_WAIT] = "FUTEX_WAIT",
		[FUTEX_WAKE] = "FUTEX_WAKE",
		[FUTEX_FD] = "FUTEX_FD",
		[FUTEX_REQUEUE] = "FUTEX_REQUEUE",
		[FUTEX_CMP_REQUEUE] = "FUTEX_CMP_REQUEUE",
		[FUTEX_WAKE_OP] = "FUTEX_WAKE_OP",
		[FUTEX_LOCK_PI] = "FUTEX_LOCK_PI",
		[FUTEX_UNLOCK_PI] = "FUTEX_UNLOCK_PI",
		[FUTEX_TRYLOCK_PI] = "FUTEX_TRYLOCK_PI",
		[FUTEX_WAIT_BITSET] = "FUTEX_WAIT_BITSET",
		[FUTEX_WAKE_BITSET] = "FUTEX_WAKE_BITSET",
		[FUTEX_WAIT_REQUEUE_PI] = "FUTEX_WAIT_REQUEUE_PI",
		[FUTEX_CMP_REQUEUE_PI] = "FUTEX_CMP_REQUEUE_PI",
		[FUTEX_LOCK_PI2] = "FUTEX_LOCK_PI2",
	};
	uint32_t cmd = op & FUTEX_CMD_MASK;

	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		snprintf(buf, size, "%s%s%s", names[cmd],
			 op & FUTEX_PRIVATE_FLAG ? "_PRIVATE" : "",
			 op & FUTEX_CLOCK_REALTIME ? "|FUTEX_CLOCK_REALTIME" :
						     "");
	else
		snprintf(buf, size, "futex op %u", op);
}

static void ks_write_thread_name(FILE *out, const struct ks_thread *thread)
{
	struct ks_name_text comm, process_comm;

	fprintf(out, "thread %u (%s) of pid %u (%s)", thread->tid,
		ks_name(thread->comm, &comm), thread->tgid,
		ks_name(thread->process->comm, &process_comm));
}

static void ks_write_wait(FILE *out, const struct ks_deadlock *deadlock,
			  const struct ks_deadlock_member *m)
{
	const struct ks_wait_target *target = &m->target;
	char mutex_kind[64], address[32];
	struct ks_name_text holder;

	fprintf(out, "  ");
	ks_write_thread_name(out, m->thread);
	if (target->io) {
		fprintf(out, "\n    ");
		ks_io_wait_write_text(out, deadlock, m);
		fprintf(out, ";\n    so it waits for ");
	} else if (target->kind == KS_LOCK_THREAD_EXIT) {
		fprintf(out, "\n    waits in pthread_join() for ");
	} else {
		ks_lock_address_describe(target, address, sizeof(address));
		fprintf(out, "\n    waits for %s %s%s",
			ks_lock_kind_name(target->kind), address,
			ks_lock_kind_in_kernel(target->kind) ?
				" in the kernel" :
				"");
		if (target->mutex_kind != UINT32_MAX) {
			ks_mutex_kind_describe(target->mutex_kind, mutex_kind,
					       sizeof(mutex_kind));
			fprintf(out, " (%s)", mutex_kind);
		}
		fprintf(out, " held by ");
	}
	fprintf(out, "thread %u (%s)", target->holder->tid,
		ks_name(target->holder->comm, &holder));
	if (target->holder->tgid != m->thread->tgid)
		fprintf(out, " of pid %u", target->holder->tgid);
	fprintf(out, "\n");
}

/* Names from the traced program's files, which it chose: escaped too. */
static void ks_write_frame(FILE *out, unsigned int i, const struct ks_frame *f)
{
	char text[KS_PRINTABLE_SIZE(sizeof(f->module))];

	fprintf(out, "      #%-2u 0x%016" PRIx64 " %s", i, f->pc,
		f->function[0] ? ks_printable(f->function, text, sizeof(text)) :
				 "??");
	if (f->inlined)
		fprintf(out, " (inlined)");
	else if (f->function[0])
		fprintf(out, "+0x%" PRIx64, f->function_offset);
	if (f->module[0])
		fprintf(out, " (%s+0x%" PRIx64 ")",
			ks_printable(f->module, text, sizeof(text)),
			f->module_offset);
	if (f->file[0])
		fprintf(out, " %s:%d",
			ks_printable(f->file, text, sizeof(text)), f->line);
	if (f->scanned)
		fprintf(out, " (found by scanning the stack)");
	fprintf(out, "\n");
}

/* The end of a finding's first line: how soon it was found, its id. */
static void ks_write_confirmed(FILE *out, int64_t latency_ns, uint64_t id)
{
	if (latency_ns >= 0)
		fprintf(out, ", confirmed %.0f ms after the last one blocked",
			(double)latency_ns / 1e6);
	else
		fprintf(out, ", already blocked when knotscope started");
	fprintf(out, " [id %016" PRIx64 "]\n", id);
}

static void ks_write_stack(FILE *out, const struct ks_stack *stack)
{
	if (!stack->nr)
		fprintf(out, "      (stack unavailable)\n");
	for (unsigned int i = 0; i < stack->nr; i++)
		ks_write_frame(out, i, &stack->frames[i]);
}

void ks_report_write_text(FILE *out, const struct ks_report *report)
{
	const struct ks_deadlock *deadlock = report->deadlock;

	flockfile(out);
	fprintf(out, "knotscope: DEADLOCK: %zu thread%s blocked in a cycle",
		deadlock->nr_members, deadlock->nr_members == 1 ? "" : "s");
	ks_write_confirmed(out, report->latency_ns, deadlock->id);

	for (size_t i = 0; i < deadlock->nr_members; i++) {
		ks_write_wait(out, deadlock, &deadlock->members[i]);
		ks_write_stack(out, &report->member_stacks[i]);
	}
	if (deadlock->nr_behind)
		fprintf(out, "  blocked behind the cycle:\n");
	for (size_t i = 0; i < deadlock->nr_behind; i++) {
		ks_write_wait(out, deadlock, &deadlock->behind[i]);
		ks_write_stack(out, &report->behind_stacks[i]);
	}
	fflush(out);
	funlockfile(out);
}

void ks_signal_set_describe(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	for (int sig = 1; sig <= 64 && len < size; sig++) {
		const char *name = sigabbrev_np(sig);

		if (!(mask & (1ull << (sig - 1))))
			continue;
		if (name)
			len += (size_t)snprintf(buf + len, size - len,
						"%sSIG%s", len ? "," : "",
						name);
		else
			len += (size_t)snprintf(buf + len, size - len,
						"%sSIG%d", len ? "," : "", sig);
	}
}

static void ks_write_stalled_wait(FILE *out, const struct ks_stall_member *m,
				  enum ks_wait_guess guess, uint64_t now)
{
	const struct ks_wait_target *target = &m->target;
	const struct ks_wait_begin *begin = &m->thread->wait.begin;
	struct ks_name_text holder;
	char address[32];

	fprintf(out, "  ");
	ks_write_thread_name(out, m->thread);
	ks_lock_address_describe(target, address, sizeof(address));
	fprintf(out, "\n    waits for %s %s",
		ks_wait_guess_name(guess, m->thread->process->libc), address);
	if (target->holder)
		fprintf(out, " held by thread %u (%s)", target->holder->tid,
			ks_name(target->holder->comm, &holder));
	else if (target->readers)
		fprintf(out, " held by %u reader%s glibc does not name",
			target->readers, target->readers == 1 ? "" : "s");
	else
		fprintf(out, " (no holder known)");
	if (!(begin->flags & KS_WAIT_SEEDED))
		fprintf(out, ", blocked %.1f s",
			(double)(now - begin->hdr.ts_ns) / 1e9);
	fprintf(out, "\n");
}

void ks_stall_write_text(FILE *out, const struct ks_stall_report *report)
{
	const struct ks_stall *stall = report->stall;
	struct ks_name_text comm;
	char signals[512];

	flockfile(out);
	fprintf(out,
		"knotscope: STALL: all %zu thread%s of pid %u (%s) wait, "
		"without a timeout, on futexes no other process can wake",
		stall->nr_members, stall->nr_members == 1 ? "" : "s",
		stall->process->tgid, ks_name(stall->process->comm, &comm));
	ks_write_confirmed(out, report->latency_ns, stall->id);
	ks_signal_set_describe(report->caught_signals, signals,
			       sizeof(signals));
	if (!report->caught_signals_known)
		fprintf(out, "  signal handlers: unknown\n");
	else if (signals[0])
		fprintf(out,
			"  signal handlers: %s (a handler that posts or "
			"unlocks could still wake it)\n",
			signals);
	else
		fprintf(out, "  signal handlers: none\n");
	for (size_t i = 0; i < stall->nr_members; i++) {
		ks_write_stalled_wait(out, &stall->members[i],
				      report->guesses[i],
				      stall->confirmed_mono_ns);
		ks_write_stack(out, &report->stacks[i]);
	}
	fflush(out);
	funlockfile(out);
}

void ks_inversion_write_text(FILE *out,
			     const struct ks_inversion_report *report)
{
	const struct ks_inversion *found = report->found;
	struct ks_name_text comm;

	flockfile(out);
	fprintf(out,
		"knotscope: POTENTIAL DEADLOCK: pid %u (%s) takes %zu mutexes "
		"in orders that form a cycle [id %016" PRIx64 "]\n",
		found->tgid, ks_name(report->process_comm, &comm),
		found->nr_orders, found->id);
	for (size_t i = 0; i < found->nr_orders; i++) {
		const struct ks_lock_order *order = &found->orders[i];

		fprintf(out,
			"  thread %u (%s) took mutex 0x%" PRIx64
			" then mutex 0x%" PRIx64 "\n",
			order->second->tid,
			ks_name(report->thread_comms[i], &comm),
			order->first->mutex, order->second->mutex);
		fprintf(out, "    mutex 0x%" PRIx64 " taken at:\n",
			order->first->mutex);
		ks_write_stack(out, &report->first_stacks[i]);
		fprintf(out, "    then mutex 0x%" PRIx64 " taken at:\n",
			order->second->mutex);
		ks_write_stack(out, &report->second_stacks[i]);
	}
	fflush(out);
	funlockfile(out);
}
