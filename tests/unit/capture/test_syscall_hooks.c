// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * How system calls get hooked: the order the ways are tried in for each
 * kernel, and which programs of the real BPF object each way loads.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>

#include "base/log.h"
#include "capture/syscall_hooks.h"
#include "knotscope.skel.h"

static void names_round_trip(void **state)
{
	enum ks_syscall_hooks parsed;

	for (int i = 0; i < KS_HOOKS_COUNT; i++) {
		assert_int_equal(ks_syscall_hooks_parse(
					 ks_syscall_hooks_name(i), &parsed),
				 0);
		assert_int_equal(parsed, i);
	}
	assert_int_equal(ks_syscall_hooks_parse("kprobe", &parsed), -EINVAL);
	assert_string_equal(ks_syscall_hooks_name(KS_HOOKS_SYS_ENTER),
			    "sys_enter");
}

static void cheapest_first_and_sys_enter_last(void **state)
{
	enum ks_syscall_hooks plan[KS_HOOKS_COUNT];

	assert_int_equal(ks_syscall_hooks_plan(NULL, true, true, plan), 3);
	assert_int_equal(plan[0], KS_HOOKS_FENTRY);
	assert_int_equal(plan[1], KS_HOOKS_TRACEPOINT);
	assert_int_equal(plan[2], KS_HOOKS_SYS_ENTER);
	/* This project's VM: fentry refused, tracefs mountable. */
	assert_int_equal(ks_syscall_hooks_plan(NULL, false, true, plan), 2);
	assert_int_equal(plan[0], KS_HOOKS_TRACEPOINT);
	assert_int_equal(plan[1], KS_HOOKS_SYS_ENTER);
	/* A container without tracefs. */
	assert_int_equal(ks_syscall_hooks_plan(NULL, false, false, plan), 1);
	assert_int_equal(plan[0], KS_HOOKS_SYS_ENTER);
	assert_int_equal(ks_syscall_hooks_plan(NULL, true, false, plan), 2);
	assert_int_equal(plan[0], KS_HOOKS_FENTRY);
	assert_int_equal(plan[1], KS_HOOKS_SYS_ENTER);
}

/* Asked for by name: only that, even where it cannot work. */
static void a_requested_way_is_the_only_one(void **state)
{
	enum ks_syscall_hooks plan[KS_HOOKS_COUNT];

	for (int i = 0; i < KS_HOOKS_COUNT; i++) {
		enum ks_syscall_hooks asked = i;

		assert_int_equal(
			ks_syscall_hooks_plan(&asked, false, false, plan), 1);
		assert_int_equal(plan[0], asked);
	}
}

static void programs_are_classified_by_section(void **state)
{
	assert_int_equal(ks_syscall_hooks_of("tracepoint/syscalls/sys_enter_"
					     "futex",
					     "ks_enter_futex"),
			 KS_HOOKS_TRACEPOINT);
	assert_int_equal(ks_syscall_hooks_of("fentry/__x64_sys_futex",
					     "ks_enter_futex_fe"),
			 KS_HOOKS_FENTRY);
	assert_int_equal(
		ks_syscall_hooks_of("fexit/__x64_sys_read", "ks_exit_read_fx"),
		KS_HOOKS_FENTRY);
	assert_int_equal(
		ks_syscall_hooks_of("tp_btf/sys_enter", "ks_sys_enter"),
		KS_HOOKS_SYS_ENTER);
	assert_int_equal(
		ks_syscall_hooks_of("raw_tp/sys_exit", "ks_sys_exit_rt"),
		KS_HOOKS_SYS_ENTER);
	/* Other tracepoints are not system call hooks: the socket layer's
	 * (--http) neither. */
	assert_int_equal(
		ks_syscall_hooks_of("tp_btf/sched_process_fork", "ks_fork"),
		KS_HOOKS_NONE);
	assert_int_equal(
		ks_syscall_hooks_of("tp_btf/sock_recv_length", "ks_sock_recv"),
		KS_HOOKS_NONE);
	assert_int_equal(ks_syscall_hooks_of("raw_tp/sock_send_length",
					     "ks_sock_send_rt"),
			 KS_HOOKS_NONE);
}

static void wait_hooks_names_round_trip(void **state)
{
	enum ks_wait_hooks parsed;

	assert_int_equal(ks_wait_hooks_parse("sched", &parsed), 0);
	assert_int_equal(parsed, KS_WAITS_SCHED);
	assert_int_equal(ks_wait_hooks_parse("syscall", &parsed), 0);
	assert_int_equal(parsed, KS_WAITS_SYSCALL);
	assert_string_equal(ks_wait_hooks_name(KS_WAITS_SYSCALL), "syscall");
	assert_int_equal(ks_wait_hooks_parse("fentry", &parsed), -EINVAL);
}

/* Which option needs a system call program decides whether it loads. */
static void programs_are_claimed_by_what_needs_them(void **state)
{
	assert_int_equal(ks_syscall_user_of("ks_enter_futex_wait_fe"),
			 KS_FOR_WAITS);
	assert_int_equal(ks_syscall_user_of("ks_exit_restart_syscall"),
			 KS_FOR_WAITS);
	assert_int_equal(ks_syscall_user_of("ks_enter_write"), KS_FOR_CHANNELS);
	assert_int_equal(ks_syscall_user_of("ks_exit_wait4_fx"),
			 KS_FOR_CHANNELS);
	/* --http hooks no system call. */
	assert_int_equal(ks_syscall_user_of("ks_sock_recv"), KS_FOR_NOTHING);
	assert_int_equal(ks_syscall_user_of("ks_sys_exit_rt"),
			 KS_FOR_WAITS_OR_CHANNELS);
	assert_int_equal(ks_syscall_user_of("ks_block"), KS_FOR_NOTHING);
	assert_int_equal(ks_syscall_user_of("ks_fork"), KS_FOR_NOTHING);
}

static const struct bpf_program *find(struct bpf_object *obj, const char *name)
{
	return bpf_object__find_program_by_name(obj, name);
}

/*
 * The real object: every system call handler exists as a per-syscall
 * tracepoint and as fentry/fexit, so each way hooks the same calls; the
 * generic hooks are there too.
 */
static void every_handler_exists_in_every_way(void **state)
{
	struct knotscope_bpf *skel = knotscope_bpf__open();
	unsigned int per_way[KS_HOOKS_COUNT + 1] = { 0 };
	struct bpf_program *prog;
	char twin[128];

	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *section = bpf_program__section_name(prog);
		const char *name = bpf_program__name(prog);
		enum ks_syscall_hooks hooks =
			ks_syscall_hooks_of(section, name);

		per_way[hooks]++;
		if (hooks != KS_HOOKS_TRACEPOINT)
			continue;
		snprintf(twin, sizeof(twin), "%s_%s", name,
			 strstr(section, "sys_enter_") ? "fe" : "fx");
		assert_non_null(find(skel->obj, twin));
	}
	assert_int_equal(per_way[KS_HOOKS_FENTRY],
			 per_way[KS_HOOKS_TRACEPOINT]);
	assert_true(per_way[KS_HOOKS_TRACEPOINT] > 20);
	/* sys_enter and sys_exit, tp_btf and raw_tp. */
	assert_int_equal(per_way[KS_HOOKS_SYS_ENTER], 4);
	assert_non_null(find(skel->obj, "ks_enter_futex"));
	assert_non_null(find(skel->obj, "ks_exit_restart_syscall"));
	assert_non_null(find(skel->obj, "ks_sys_enter_rt"));
	knotscope_bpf__destroy(skel);
}

/*
 * Every system call program of the real object is claimed by an option, so
 * that a run asking for none of them (the default) hooks no system call;
 * the programs that take waits from the scheduler hook none.
 */
static void every_syscall_program_has_an_owner(void **state)
{
	struct knotscope_bpf *skel = knotscope_bpf__open();
	struct bpf_program *prog;

	assert_non_null(skel);
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);

		if (ks_syscall_hooks_of(bpf_program__section_name(prog),
					name) != KS_HOOKS_NONE)
			assert_int_not_equal(ks_syscall_user_of(name),
					     KS_FOR_NOTHING);
	}
	prog = bpf_object__find_program_by_name(skel->obj, "ks_block");
	assert_non_null(prog);
	assert_int_equal(ks_syscall_hooks_of(bpf_program__section_name(prog),
					     "ks_block"),
			 KS_HOOKS_NONE);
	assert_non_null(find(skel->obj, "ks_woken_rt"));
	/* The socket programs (--http) are tracepoints of the socket layer. */
	prog = bpf_object__find_program_by_name(skel->obj, "ks_sock_recv_rt");
	assert_non_null(prog);
	assert_int_equal(ks_syscall_hooks_of(bpf_program__section_name(prog),
					     "ks_sock_recv_rt"),
			 KS_HOOKS_NONE);
	knotscope_bpf__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(cheapest_first_and_sys_enter_last),
		cmocka_unit_test(a_requested_way_is_the_only_one),
		cmocka_unit_test(programs_are_classified_by_section),
		cmocka_unit_test(every_handler_exists_in_every_way),
		cmocka_unit_test(wait_hooks_names_round_trip),
		cmocka_unit_test(programs_are_claimed_by_what_needs_them),
		cmocka_unit_test(every_syscall_program_has_an_owner),
	};

	ks_log_set_level(KS_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
