// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Symbolization and DWARF unwinding, on this very process: a helper thread
 * blocks in a known function, and its stack is unwound from nothing but the
 * stack pointer and pc the kernel shows in /proc.
 */
#include "unit.h"

#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/proc.h"
#include "stacks/symbolize.h"

static uint32_t released;
static volatile uint32_t blocked_tid;

__attribute__((noinline)) static void wait_in_futex(void)
{
	blocked_tid = (uint32_t)syscall(SYS_gettid);
	while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &released, FUTEX_WAIT_PRIVATE, 0, NULL, NULL,
			0);
}

__attribute__((noinline)) static void *blocked_worker(void *arg)
{
	wait_in_futex();
	return NULL;
}

__attribute__((noinline)) int well_known_function(int x)
{
	return x * 3 + 1;
}

static void test_lookup_names_function_module_and_line(void **state)
{
	struct ks_symbolizer *symbolizer = ks_symbolizer_new();
	struct ks_frame frames[8];
	uint64_t pc = (uintptr_t)well_known_function + 4;
	int n;

	n = ks_symbolizer_lookup(symbolizer, (uint32_t)getpid(), pc, false,
				 frames, 8);
	assert_true(n >= 1);
	assert_string_equal(frames[n - 1].function, "well_known_function");
	assert_int_equal(frames[n - 1].function_offset, 4);
	assert_non_null(strstr(frames[n - 1].module, "test_symbolize"));
	assert_non_null(strstr(frames[n - 1].file, "test_symbolize.c"));
	assert_true(frames[n - 1].line > 0);
	ks_symbolizer_free(symbolizer);
}

/*
 * The addresses come from a stack the traced program wrote: one near the
 * top of the address space must not wrap round into the snapshot.
 */
static void test_snapshot_reads_stay_inside_it(void **state)
{
	uint8_t snapshot[512];
	__u64 regs[KS_NR_USER_REGS] = { [KS_REG_SP] = 0x1000 };
	struct ks_stack_source source = {
		.regs = regs,
		.snapshot = snapshot,
		.snapshot_len = sizeof(snapshot),
	};
	uint64_t value;

	for (size_t i = 0; i < sizeof(snapshot); i++)
		snapshot[i] = (uint8_t)i;
	assert_true(ks_stack_snapshot_read(&source, 0x1000, &value));
	assert_true(ks_stack_snapshot_read(&source, 0x1000 + 504, &value));
	assert_int_equal(value & 0xff, 504 & 0xff);
	assert_false(ks_stack_snapshot_read(&source, 0x1000 + 505, &value));
	assert_false(ks_stack_snapshot_read(&source, 0xfff, &value));
	assert_false(ks_stack_snapshot_read(&source, UINT64_MAX - 3, &value));
	assert_false(ks_stack_snapshot_read(&source, UINT64_MAX, &value));
}

static void test_unknown_address_has_no_module(void **state)
{
	struct ks_symbolizer *symbolizer = ks_symbolizer_new();
	struct ks_frame frame;

	assert_int_equal(ks_symbolizer_lookup(symbolizer, (uint32_t)getpid(),
					      0x10, false, &frame, 1),
			 1);
	assert_string_equal(frame.module, "");
	assert_string_equal(frame.function, "");
	ks_symbolizer_free(symbolizer);
}

static bool stack_has(const struct ks_stack *stack, const char *function)
{
	for (unsigned int i = 0; i < stack->nr; i++)
		if (!strcmp(stack->frames[i].function, function))
			return true;
	return false;
}

static void test_blocked_thread_unwinds_from_sp_and_pc(void **state)
{
	struct ks_symbolizer *symbolizer = ks_symbolizer_new();
	__u64 regs[KS_NR_USER_REGS] = { 0 };
	struct ks_proc_syscall sc;
	struct ks_stack *stack = calloc(1, sizeof(*stack));
	struct ks_stack_source source = { 0 };
	pthread_t worker;

	assert_int_equal(pthread_create(&worker, NULL, blocked_worker, NULL),
			 0);
	/* Until the kernel shows it inside futex(): polled, not slept on. */
	while (!blocked_tid ||
	       ks_proc_read_syscall((uint32_t)getpid(), blocked_tid, &sc) ||
	       sc.nr != SYS_futex)
		sched_yield();
	regs[KS_REG_IP] = sc.pc;
	regs[KS_REG_SP] = sc.sp;
	source.regs = regs;
	source.live = true;
	assert_int_equal(ks_symbolizer_unwind(symbolizer, (uint32_t)getpid(),
					      blocked_tid, &source,
					      KS_MAX_FRAMES, stack),
			 0);
	assert_true(stack->nr >= 3);
	assert_true(stack_has(stack, "wait_in_futex"));
	assert_true(stack_has(stack, "blocked_worker"));
	assert_true(stack_has(stack, "start_thread"));
	/* Frames above the first are return addresses: the call's line. */
	for (unsigned int i = 0; i < stack->nr; i++)
		if (!strcmp(stack->frames[i].function, "blocked_worker"))
			assert_non_null(strstr(stack->frames[i].file,
					       "test_symbolize.c"));
	__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &released, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(worker, NULL);
	free(stack);
	ks_symbolizer_free(symbolizer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_names_function_module_and_line),
		cmocka_unit_test(test_unknown_address_has_no_module),
		cmocka_unit_test(test_snapshot_reads_stay_inside_it),
		cmocka_unit_test(test_blocked_thread_unwinds_from_sp_and_pc),
	};

	assert_int_equal(well_known_function(1), 4);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
