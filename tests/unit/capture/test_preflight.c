// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start-up checks: what blocks the agent, what is only explained, and in
 * which order, for machines described by hand.
 */
#include "unit.h"

#include <errno.h>
#include <stdbool.h>

#include "base/log.h"
#include "capture/preflight.h"

#define CAP(n) (1ull << (n))
#define CAPS_NEEDED (CAP(19) | CAP(38) | CAP(39)) /* PTRACE, PERFMON, BPF */
#define CAP_SYS_ADMIN CAP(21)
#define CAP_SYS_RESOURCE CAP(24)

static struct ks_preflight_facts facts;
static struct ks_preflight_report report;

/* A recent kernel, root with every capability, nothing in the way. */
static int healthy(void **state)
{
	memset(&facts, 0, sizeof(facts));
	facts.caps_known = true;
	facts.caps = (1ull << 41) - 1;
	facts.cap_last_cap = 40;
	facts.root = true;
	facts.kernel_major = 6;
	facts.kernel_minor = 1;
	facts.btf = true;
	facts.seccomp = 0;
	facts.lockdown = KS_LOCKDOWN_NONE;
	facts.memlock_soft = facts.memlock_hard = 8 << 20;
	facts.perf_event_paranoid = 2;
	facts.unprivileged_bpf_disabled = 0;
	ks_log_set_level(KS_LOG_ERROR);
	return 0;
}

/* The images' case: nobody, with the three capabilities from the file. */
static void as_nobody_with(uint64_t caps)
{
	facts.root = false;
	facts.caps = caps;
}

static unsigned int count(enum ks_preflight_severity severity)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < report.nr; i++)
		n += report.findings[i].severity == severity;
	return n;
}

static const char *first_blocker(void)
{
	for (unsigned int i = 0; i < report.nr; i++)
		if (report.findings[i].severity == KS_PREFLIGHT_BLOCKER)
			return report.findings[i].text;
	return "";
}

static bool noted(const char *needle)
{
	for (unsigned int i = 0; i < report.nr; i++)
		if (report.findings[i].severity == KS_PREFLIGHT_NOTE &&
		    strstr(report.findings[i].text, needle))
			return true;
	return false;
}

#define assert_first_blocker_has(needle)                          \
	do {                                                      \
		if (!strstr(first_blocker(), (needle)))           \
			fail_msg("first blocker '%s' lacks '%s'", \
				 first_blocker(), (needle));      \
	} while (0)

static void test_nothing_blocks_a_ready_machine(void **state)
{
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);

	as_nobody_with(CAPS_NEEDED);
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);

	/* CAP_SYS_ADMIN covers BPF and PERFMON, as on older kernels. */
	as_nobody_with(CAP_SYS_ADMIN | CAP(19));
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
}

static void test_missing_capabilities_are_named_once(void **state)
{
	as_nobody_with(0);
	/* What the kernel then does; a consequence, not another cause. */
	facts.prog_load = -EPERM;
	facts.ringbuf = -EPERM;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 1);
	assert_first_blocker_has(
		"missing privileges (no CAP_BPF CAP_PERFMON CAP_SYS_PTRACE)");
	assert_first_blocker_has(
		"run as root or grant CAP_BPF,CAP_PERFMON,CAP_SYS_PTRACE");

	as_nobody_with(CAP(38) | CAP(39));
	ks_preflight_decide(&facts, &report);
	assert_first_blocker_has("(no CAP_SYS_PTRACE)");
}

static void test_kernel_without_cap_bpf_needs_privileged(void **state)
{
	facts.cap_last_cap = 37;
	as_nobody_with(CAP(19));
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 1);
	assert_first_blocker_has("predates CAP_BPF");
	assert_first_blocker_has("privileged: true");
}

static void test_what_the_kernel_lacks_comes_first(void **state)
{
	facts.btf = false;
	as_nobody_with(0);
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 2);
	assert_first_blocker_has("exposes no BTF");
	assert_first_blocker_has("mount the host's /sys/kernel/btf");
}

static void test_refused_bpf_names_seccomp_or_lsm(void **state)
{
	as_nobody_with(CAPS_NEEDED);
	facts.prog_load = -EPERM;
	facts.seccomp = 2;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 1);
	assert_first_blocker_has("refused a trivial BPF program");
	assert_first_blocker_has("seccomp filter");

	facts.seccomp = 0;
	ks_preflight_decide(&facts, &report);
	assert_first_blocker_has("an LSM (AppArmor, SELinux)");

	facts.prog_load = 0;
	facts.ringbuf = -EACCES;
	ks_preflight_decide(&facts, &report);
	assert_first_blocker_has("refused a BPF ring buffer");
}

static void test_kernel_without_bpf_or_ring_buffer(void **state)
{
	facts.prog_load = -ENOSYS;
	ks_preflight_decide(&facts, &report);
	assert_first_blocker_has("cannot load the BPF programs");

	facts.prog_load = 0;
	facts.ringbuf = -EINVAL;
	ks_preflight_decide(&facts, &report);
	assert_first_blocker_has("too old: it has no BPF ring buffer");
}

static void test_memlock_matters_before_5_11_only(void **state)
{
	as_nobody_with(CAPS_NEEDED);
	facts.kernel_major = 5;
	facts.kernel_minor = 10;
	facts.memlock_soft = facts.memlock_hard = 64 << 10;
	/* The probe itself is charged, and refused past the limit. */
	facts.prog_load = -EPERM;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 1);
	assert_first_blocker_has("Linux 5.10 charges BPF maps to "
				 "RLIMIT_MEMLOCK, limited to 64 KiB");
	assert_first_blocker_has("kernelBefore511: true");

	facts.prog_load = 0;
	as_nobody_with(CAPS_NEEDED | CAP_SYS_RESOURCE);
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);

	/* libbpf can raise the soft limit up to an unlimited hard one. */
	as_nobody_with(CAPS_NEEDED);
	facts.memlock_hard = KS_RLIM_UNLIMITED;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);

	facts.memlock_hard = 64 << 10;
	facts.kernel_minor = 11;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
}

static void test_lockdown_confidentiality_blocks(void **state)
{
	facts.lockdown = KS_LOCKDOWN_CONFIDENTIALITY;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 1);
	assert_first_blocker_has("bpf_probe_read_kernel");

	facts.lockdown = KS_LOCKDOWN_INTEGRITY;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
	assert_true(noted("integrity mode: no matter"));

	facts.lockdown = KS_LOCKDOWN_UNKNOWN;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
	assert_true(noted("lockdown mode unknown"));
}

static void test_sysctls_that_do_not_apply_are_explained(void **state)
{
	facts.unprivileged_bpf_disabled = 2;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
	assert_true(noted("unprivileged_bpf_disabled=2 does not apply"));
	/* Root bypasses perf_event_paranoid anyway: nothing to explain. */
	assert_false(noted("perf_event_paranoid"));

	as_nobody_with(CAPS_NEEDED);
	facts.perf_event_paranoid = 3;
	ks_preflight_decide(&facts, &report);
	assert_int_equal(count(KS_PREFLIGHT_BLOCKER), 0);
	assert_true(noted("perf_event_paranoid=3 does not apply"));
}

static void test_warn_mode_starts_anyway(void **state)
{
	ks_preflight_decide(&facts, &report);
	assert_int_equal(ks_preflight_apply(&report, KS_PREFLIGHT_ENFORCE), 0);

	facts.btf = false;
	as_nobody_with(0);
	ks_preflight_decide(&facts, &report);
	assert_int_equal(ks_preflight_apply(&report, KS_PREFLIGHT_ENFORCE), -1);
	assert_int_equal(ks_preflight_apply(&report, KS_PREFLIGHT_WARN), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_nothing_blocks_a_ready_machine,
				       healthy),
		cmocka_unit_test_setup(test_missing_capabilities_are_named_once,
				       healthy),
		cmocka_unit_test_setup(
			test_kernel_without_cap_bpf_needs_privileged, healthy),
		cmocka_unit_test_setup(test_what_the_kernel_lacks_comes_first,
				       healthy),
		cmocka_unit_test_setup(test_refused_bpf_names_seccomp_or_lsm,
				       healthy),
		cmocka_unit_test_setup(test_kernel_without_bpf_or_ring_buffer,
				       healthy),
		cmocka_unit_test_setup(test_memlock_matters_before_5_11_only,
				       healthy),
		cmocka_unit_test_setup(test_lockdown_confidentiality_blocks,
				       healthy),
		cmocka_unit_test_setup(
			test_sysctls_that_do_not_apply_are_explained, healthy),
		cmocka_unit_test_setup(test_warn_mode_starts_anyway, healthy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
