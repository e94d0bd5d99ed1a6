// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Which futex waits are lock waits, and whose: glibc layouts, validated. */
#include "unit.h"

#include "fixtures.h"
#include "model/wait_target.h"

struct world {
	struct ks_table table;
	struct ks_thread *a, *b, *other_process;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->table, 100);
	w->a = add_thread(&w->table, 100, 100);
	w->b = add_thread(&w->table, 100, 101);
	w->other_process = add_thread(&w->table, 200, 200);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_table_clear(&w->table);
	free(w);
	return 0;
}

static struct ks_wait_target resolve(struct world *w, struct ks_thread *t)
{
	struct ks_wait_target target;

	ks_wait_target_resolve(&w->table, t, &target);
	return target;
}

static void test_glibc_mutex_wait_names_its_owner(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	wait_for_mutex(w->a, 0x1000, 101);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_ptr_equal(target.holder, w->b);
	assert_int_equal(target.lock_addr, 0x1000);
	assert_int_equal(target.mutex_kind, 0);
	assert_true(target.deadlock_edge);
}

static void test_owner_must_be_a_live_thread(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	wait_for_mutex(w->a, 0x1000, 4242);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_null(target.holder);
	assert_false(target.deadlock_edge);
}

static void test_private_futex_owner_must_share_the_process(void **state)
{
	struct world *w = *state;
	const uint32_t words[6] = { 2, 0, 200, 1, 0x80, 0 };

	wait_for_mutex(w->a, 0x1000, 200);
	assert_null(resolve(w, w->a).holder);
	/* Process-shared: a holder in another process is legitimate. */
	begin_wait(w->a, FUTEX_WAIT, 0x1000, 2, words, KS_WAIT_SHARED);
	assert_ptr_equal(resolve(w, w->a).holder, w->other_process);
}

static void test_condvar_and_semaphore_waits_have_no_owner(void **state)
{
	struct world *w = *state;
	/* A condvar's __g_signals wait: value 0, neighbours arbitrary. */
	const uint32_t cond[6] = { 0, 0, 101, 1, 0, 0 };
	/* A semaphore with value 0 and waiters. */
	const uint32_t sem[6] = { 0, 1, 101, 0, 0, 0 };

	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x2000, 0,
		   cond, 0);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x3000, 0, sem,
		   0);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	begin_wait(w->a, FUTEX_WAIT_REQUEUE_PI | FUTEX_PRIVATE_FLAG, 0x3000, 2,
		   sem, 0);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_implausible_mutex_words_are_not_a_mutex(void **state)
{
	struct world *w = *state;
	const uint32_t bad_kind[6] = { 2, 0, 101, 1, 0x12345678, 0 };
	const uint32_t pi_kind[6] = { 2, 0, 101, 1, 0x20, 0 };

	begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, bad_kind, 0);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	/* PI mutexes wait with FUTEX_LOCK_PI, never FUTEX_WAIT. */
	begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, pi_kind, 0);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

/*
 * A contended mutex being handed over: the unlocker has cleared __owner
 * and __nusers, the lock word still says locked with waiters.  A waiter
 * arriving then waits for the same mutex as the others: the same kind,
 * only with no holder to name (and so no deadlock edge).
 */
static void test_a_mutex_between_holders_is_still_a_mutex(void **state)
{
	struct world *w = *state;
	const uint32_t handing_over[6] = { 2, 0, 0, 0, 0, 0 };
	const uint32_t stale_owner[6] = { 2, 0, 101, 0, 0, 0 };
	struct ks_wait_target target;

	begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, handing_over, 0);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_null(target.holder);
	assert_false(target.deadlock_edge);
	begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, stale_owner, 0);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_null(target.holder);
	/*
	 * Words read mid-handover: the waiter stored 2, then the lock was
	 * released (0) or retaken (1) before the read; the kernel slept
	 * because it was 2 again.  The same mutex, its holder unknown.
	 */
	for (uint32_t lock = 0; lock <= 1; lock++) {
		const uint32_t handed_over[6] = { lock, 0, 101, 1, 0, 0 };

		begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, handed_over, 0);
		target = resolve(w, w->a);
		assert_int_equal(target.kind, KS_LOCK_MUTEX);
		assert_null(target.holder);
		assert_false(target.deadlock_edge);
	}
	assert_string_equal(ks_lock_kind_family(KS_LOCK_ROBUST_MUTEX), "mutex");
	assert_string_equal(ks_lock_kind_family(KS_LOCK_NONE), "futex");
}

static void test_timed_waits_are_never_deadlock_edges(void **state)
{
	struct world *w = *state;
	const uint32_t words[6] = { 2, 0, 101, 1, 0, 0 };
	struct ks_wait_target target;

	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x1000, 2,
		   words, KS_WAIT_TIMED);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_ptr_equal(target.holder, w->b);
	assert_true(target.timed);
	assert_false(target.deadlock_edge);
}

static void test_robust_mutex_owner_is_in_the_lock_word(void **state)
{
	struct world *w = *state;
	const uint32_t val = FUTEX_WAITERS | 101;
	const uint32_t words[6] = { val, 0, 101, 1, 0x10 | 0x80, 0 };
	struct ks_wait_target target;

	begin_wait(w->a, FUTEX_WAIT, 0x1000, val, words, KS_WAIT_SHARED);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_ROBUST_MUTEX);
	assert_ptr_equal(target.holder, w->b);
}

static void test_pi_owner_is_in_the_lock_word(void **state)
{
	struct world *w = *state;
	const uint32_t words[6] = { FUTEX_WAITERS | 101, 0, 101, 1, 0x20, 0 };
	struct ks_wait_target target;

	begin_wait(w->a, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0x1000, 0, words,
		   0);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_PI_MUTEX);
	assert_ptr_equal(target.holder, w->b);
	assert_int_equal(target.mutex_kind, 0x20);
}

static void test_refused_pi_lock_is_what_a_parked_thread_waits_for(void **state)
{
	struct world *w = *state;
	const uint32_t pi_words[6] = { 101, 0, 101, 1, 0x20, 0 };
	const uint32_t park_words[6] = { 0 };
	struct ks_wait_begin refused;
	struct ks_wait_target target;

	/* The FUTEX_LOCK_PI that the kernel refused with EDEADLK... */
	begin_wait(w->a, FUTEX_LOCK_PI | FUTEX_PRIVATE_FLAG, 0x1000, 0,
		   pi_words, 0);
	refused = w->a->wait.begin;
	/* ...then glibc parks the thread on a word of its own stack. */
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x7ffd0000, 0,
		   park_words, 0);
	w->a->wait.pi_refused = true;
	w->a->wait.refused = refused;
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_PI_MUTEX);
	assert_int_equal(target.lock_addr, 0x1000);
	assert_ptr_equal(target.holder, w->b);
	assert_true(target.deadlock_edge);
}

static void test_join_waits_for_the_joined_thread(void **state)
{
	struct world *w = *state;
	const uint32_t words[6] = { 101, 0, 0, 0, 0, 0 };
	struct ks_wait_target target;

	w->b->clear_child_tid = 0x5000;
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0x5000, 101,
		   words, KS_WAIT_SHARED);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_THREAD_EXIT);
	assert_ptr_equal(target.holder, w->b);
	assert_true(target.deadlock_edge);

	/* The same value at another address is not that thread's tid word. */
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0x6000, 101,
		   words, KS_WAIT_SHARED);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_holders_are_found_by_their_namespace_tid(void **state)
{
	struct world *w = *state;
	struct ks_thread *in_container, *holder;
	const uint32_t words[6] = { 2, 0, 7, 1, 0, 0 };

	/* Host tids 900/901 are 1 and 7 inside their own pid namespace. */
	in_container =
		ks_table_add_thread(&w->table, 900, 900, 77, 1, 5, "app");
	holder = ks_table_add_thread(&w->table, 900, 901, 77, 7, 5, "app");
	begin_wait(in_container, FUTEX_WAIT_PRIVATE, 0x1000, 2, words, 0);
	assert_ptr_equal(resolve(w, in_container).holder, holder);
	/* The same words seen from the host namespace name no thread. */
	begin_wait(w->a, FUTEX_WAIT_PRIVATE, 0x1000, 2, words, 0);
	assert_null(resolve(w, w->a).holder);
}

static void test_futex2_and_waitv_waits_are_not_glibc_locks(void **state)
{
	struct world *w = *state;

	wait_for_mutex(w->a, 0x1000, 101);
	w->a->wait.begin.syscall = KS_SYS_FUTEX_WAITV;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	w->a->wait.begin.syscall = KS_SYS_FUTEX_WAIT;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_rwlock_writer_waits_for_the_writer(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	wait_to_write_rwlock(w->a, 0x4000, 101);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_RWLOCK_WRITE);
	assert_int_equal(target.lock_addr, 0x4000);
	assert_ptr_equal(target.holder, w->b);
	assert_int_equal(target.readers, 0);
	assert_true(target.deadlock_edge);
	assert_string_equal(ks_lock_kind_name(target.kind), "rwlock-write");
}

static void test_rwlock_reader_waits_for_the_writer(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	wait_to_read_rwlock(w->a, 0x4000, 101);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_RWLOCK_READ);
	assert_int_equal(target.lock_addr, 0x4000);
	assert_ptr_equal(target.holder, w->b);
	assert_true(target.deadlock_edge);
}

static void
test_rwlock_writer_waiting_for_readers_knows_only_a_count(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	wait_for_rwlock_readers(w->a, 0x4000, 2);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_RWLOCK_WRITE);
	assert_null(target.holder);
	assert_int_equal(target.readers, 2);
	assert_false(target.deadlock_edge);
}

static void test_rwlock_words_must_agree(void **state)
{
	struct world *w = *state;
	struct ks_thread_wait *wait = &w->a->wait;

	/* No writer claims the lock: not a writer's wait. */
	wait_to_write_rwlock(w->a, 0x4000, 101);
	wait->begin.words_before[1] = 0;
	assert_int_not_equal(resolve(w, w->a).kind, KS_LOCK_RWLOCK_WRITE);
	/* The padding after __writers_futex is never written. */
	wait_to_write_rwlock(w->a, 0x4000, 101);
	wait->begin.words[1] = 7;
	assert_int_not_equal(resolve(w, w->a).kind, KS_LOCK_RWLOCK_WRITE);
	/* __shared says process-shared, the futex op says private. */
	wait_to_read_rwlock(w->a, 0x4000, 101);
	wait->begin.words[5] = 1;
	assert_int_not_equal(resolve(w, w->a).kind, KS_LOCK_RWLOCK_READ);
	/* A reader waits out a write phase, not a read phase. */
	wait_to_read_rwlock(w->a, 0x4000, 101);
	wait->begin.words_before[2] = 2 | 1 << 3;
	assert_int_not_equal(resolve(w, w->a).kind, KS_LOCK_RWLOCK_READ);
	/* Without the words before the futex, nothing is known. */
	wait_to_write_rwlock(w->a, 0x4000, 101);
	wait->begin.flags &= ~KS_WAIT_BEFORE_OK;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_musl_mutexes_name_their_owner_in_the_lock_word(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	w->a->process->libc = KS_LIBC_MUSL;
	wait_for_musl_mutex(w->a, 0x5000, 2 /* errorcheck */, 101);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_int_equal(target.lock_addr, 0x5000);
	assert_ptr_equal(target.holder, w->b);
	assert_int_equal(target.mutex_kind, 2);
	assert_true(target.deadlock_edge);

	wait_for_musl_mutex(w->a, 0x5000, 1 | 4 /* recursive, robust */, 101);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_ROBUST_MUTEX);
	assert_ptr_equal(target.holder, w->b);
	assert_int_equal(target.mutex_kind, 1 | 0x10);
}

static void test_musl_normal_mutex_is_a_mutex_without_owner(void **state)
{
	struct world *w = *state;
	struct ks_wait_target target;

	w->a->process->libc = KS_LIBC_MUSL;
	wait_for_musl_mutex(w->a, 0x5000, 0, 16 /* EBUSY */);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_MUTEX);
	assert_null(target.holder);
	assert_false(target.deadlock_edge);
	/* A normal mutex's word is EBUSY or nothing: a tid is not one. */
	wait_for_musl_mutex(w->a, 0x5000, 0, 101);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_musl_words_must_agree(void **state)
{
	struct world *w = *state;

	w->a->process->libc = KS_LIBC_MUSL;
	/* Type bits musl never sets. */
	wait_for_musl_mutex(w->a, 0x5000, 0x1000 | 2, 101);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	/* A waiter always counts itself in _m_waiters. */
	wait_for_musl_mutex(w->a, 0x5000, 2, 101);
	w->a->wait.begin.words[1] = 0;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	/* A process-shared mutex is waited for without the private flag. */
	wait_for_musl_mutex(w->a, 0x5000, 2, 101);
	w->a->wait.begin.words_before[3] = 2 | 128;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void test_libc_decides_which_layouts_apply(void **state)
{
	struct world *w = *state;

	/* Not known to be either: musl's layout is tried after glibc's. */
	wait_for_musl_mutex(w->a, 0x5000, 2, 101);
	assert_ptr_equal(resolve(w, w->a).holder, w->b);
	/* Known to be glibc: musl's never is. */
	w->a->process->libc = KS_LIBC_GLIBC;
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
	/* Known to be musl: glibc's never is. */
	w->a->process->libc = KS_LIBC_MUSL;
	wait_for_mutex(w->a, 0x1000, 101);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_NONE);
}

static void
test_musl_join_waits_for_the_thread_whose_exit_clears_it(void **state)
{
	struct world *w = *state;
	const uint32_t words[6] = { 2, 0, 0, 0, 0, 0 };
	struct ks_wait_target target;

	w->a->process->libc = KS_LIBC_MUSL;
	w->b->clear_child_tid = 0x6000;
	begin_wait(w->a, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0x6000, 2, words, 0);
	target = resolve(w, w->a);
	assert_int_equal(target.kind, KS_LOCK_THREAD_EXIT);
	assert_ptr_equal(target.holder, w->b);
}

static enum ks_wait_guess guess_of(struct world *w, struct ks_thread *t)
{
	struct ks_wait_target target = resolve(w, t);

	return ks_wait_guess_from_words(t, &target);
}

static void test_ownerless_waits_are_guessed_from_their_words(void **state)
{
	struct world *w = *state;
	/* As live glibc 2.36 and musl 1.2.3 showed them. */
	const uint32_t glibc_sem[6] = { 0, 1, 0, 0, 0, 0 };
	const uint32_t glibc_shared_sem[6] = { 0, 1, 128, 0, 0, 0 };
	const uint32_t musl_sem[6] = { UINT32_MAX, 1, 128, 0, 0, 0 };
	const uint32_t rust_mutex[6] = { 2, 0, 7, 0, 0, 0 };
	const uint32_t cond[6] = { 0, 0, 101, 1, 0, 0 };

	begin_wait(w->a, RWLOCK_WAIT_OP, 0x2000, 0, glibc_sem, 0);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_SEMAPHORE);
	begin_wait(w->a, FUTEX_WAIT_BITSET | 256, 0x2000, 0, glibc_shared_sem,
		   KS_WAIT_SHARED);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_SEMAPHORE);
	/* The private word must agree with the op's flag. */
	begin_wait(w->a, RWLOCK_WAIT_OP, 0x2000, 0, glibc_shared_sem, 0);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_UNKNOWN);
	begin_wait(w->a, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0x2000, UINT32_MAX,
		   musl_sem, 0);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_SEMAPHORE);
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x2000, 2,
		   rust_mutex, 0);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_RUST_MUTEX);
	/* glibc's timed lock waits with a bitset too, and a timeout. */
	begin_wait(w->a, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 0x2000, 2,
		   rust_mutex, KS_WAIT_TIMED);
	assert_int_equal(resolve(w, w->a).kind, KS_LOCK_MUTEX);
	/* A condition variable's word, nobody waiting on the other group. */
	begin_wait(w->a, RWLOCK_WAIT_OP, 0x2000, 0, cond, 0);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_UNKNOWN);
	/* Lock kinds guess themselves. */
	wait_for_rwlock_readers(w->a, 0x4000, 1);
	assert_int_equal(guess_of(w, w->a), KS_GUESS_RWLOCK);
	assert_true(ks_wait_guess_is_lock(KS_GUESS_CPYTHON_LOCK));
	assert_false(ks_wait_guess_is_lock(KS_GUESS_CONDVAR));
	assert_string_equal(ks_wait_guess_name(KS_GUESS_MUTEX, KS_LIBC_MUSL),
			    "musl-mutex");
	assert_string_equal(ks_wait_guess_name(KS_GUESS_UNKNOWN, KS_LIBC_GLIBC),
			    "futex");
}

static void test_mutex_kinds_are_described(void **state)
{
	char buf[64];

	ks_mutex_kind_describe(1, buf, sizeof(buf));
	assert_string_equal(buf, "recursive");
	ks_mutex_kind_describe(2 | 0x80, buf, sizeof(buf));
	assert_string_equal(buf, "errorcheck,pshared");
	/* glibc marks every robust mutex pshared: not worth saying. */
	ks_mutex_kind_describe(0x10 | 0x80, buf, sizeof(buf));
	assert_string_equal(buf, "normal,robust");
	ks_mutex_kind_describe(UINT32_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_glibc_mutex_wait_names_its_owner),
		T(test_owner_must_be_a_live_thread),
		T(test_private_futex_owner_must_share_the_process),
		T(test_condvar_and_semaphore_waits_have_no_owner),
		T(test_implausible_mutex_words_are_not_a_mutex),
		T(test_a_mutex_between_holders_is_still_a_mutex),
		T(test_timed_waits_are_never_deadlock_edges),
		T(test_robust_mutex_owner_is_in_the_lock_word),
		T(test_pi_owner_is_in_the_lock_word),
		T(test_refused_pi_lock_is_what_a_parked_thread_waits_for),
		T(test_join_waits_for_the_joined_thread),
		T(test_holders_are_found_by_their_namespace_tid),
		T(test_futex2_and_waitv_waits_are_not_glibc_locks),
		T(test_rwlock_writer_waits_for_the_writer),
		T(test_rwlock_reader_waits_for_the_writer),
		T(test_rwlock_writer_waiting_for_readers_knows_only_a_count),
		T(test_rwlock_words_must_agree),
		T(test_musl_mutexes_name_their_owner_in_the_lock_word),
		T(test_musl_normal_mutex_is_a_mutex_without_owner),
		T(test_musl_words_must_agree),
		T(test_libc_decides_which_layouts_apply),
		T(test_musl_join_waits_for_the_thread_whose_exit_clears_it),
		T(test_ownerless_waits_are_guessed_from_their_words),
		T(test_mutex_kinds_are_described),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
