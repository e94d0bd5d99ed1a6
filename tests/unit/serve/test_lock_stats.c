// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Per-lock contention statistics, fed as the model feeds them. */
#include "unit.h"

#include <stdio.h>

#include "fixtures.h"
#include "model/wait_target.h"
#include "serve/lock_stats.h"

#define MS 1000000ull
#define S (1000 * MS)

struct world {
	struct ks_table table;
	struct ks_lock_stats_config cfg;
	struct ks_lock_stats *stats;
	unsigned int lookups;
	const char *site_function; /* what the fake resolver finds */
	bool stackless; /* the next waits copied no stack when they began */
};

static int fake_site(void *ctx, const struct ks_thread *thread,
		     struct ks_frame *site)
{
	struct world *w = ctx;

	w->lookups++;
	if (!w->site_function)
		return -1;
	memset(site, 0, sizeof(*site));
	snprintf(site->function, sizeof(site->function), "%s",
		 w->site_function);
	snprintf(site->module, sizeof(site->module), "/srv/app");
	site->module_offset = strlen(w->site_function);
	return 0;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	ks_table_init(&w->table, 100);
	w->cfg = (struct ks_lock_stats_config){
		.capacity = 8,
		.site_budget = 100,
		.resolve_site = fake_site,
		.resolve_ctx = w,
		.table = &w->table,
	};
	w->stats = ks_lock_stats_new(&w->cfg);
	w->site_function = "take";
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	ks_lock_stats_free(w->stats);
	ks_table_clear(&w->table);
	free(w);
	return 0;
}

static void renew(struct world *w)
{
	ks_lock_stats_free(w->stats);
	w->stats = ks_lock_stats_new(&w->cfg);
}

/* Thread tid of pid waited on the mutex at address from begin to end. */
static void waited(struct world *w, uint32_t pid, uint32_t tid,
		   uint64_t address, uint32_t holder, uint64_t begin,
		   uint64_t end)
{
	struct ks_thread *thread = ks_table_thread(&w->table, tid);
	struct ks_wait_end rec = { 0 };

	if (!thread)
		thread = add_thread(&w->table, pid, tid);
	wait_for_mutex(thread, address, holder);
	if (w->stackless)
		thread->wait.begin.flags |= KS_WAIT_STACK_LATER;
	thread->wait.lock_kind = KS_LOCK_MUTEX;
	thread->wait.lock_addr = address;
	thread->wait.mutex_kind = 0;
	thread->wait.holder_tid = holder;
	rec.hdr.kind = KS_EV_WAIT_END;
	rec.hdr.tgid = pid;
	rec.hdr.tid = tid;
	rec.hdr.ts_ns = end;
	rec.begin_ts_ns = begin;
	ks_lock_stats_hooks.wait_ended(w->stats, thread, &rec);
	thread->wait.active = false;
}

static const struct ks_lock_entry *lock_at(struct world *w, uint32_t pid,
					   uint64_t address)
{
	const struct ks_lock_entry *top[16];
	size_t n = ks_lock_stats_top(w->stats, top, 16);

	for (size_t i = 0; i < n; i++)
		if (top[i]->tgid == pid && top[i]->address == address)
			return top[i];
	return NULL;
}

static void test_waits_are_summed_per_lock_and_ranked(void **state)
{
	struct world *w = *state;
	const struct ks_lock_entry *top[4];
	const struct ks_lock_entry *a;

	add_thread(&w->table, 10, 10);
	waited(w, 10, 11, 0xa000, 10, 0, 10 * MS);
	waited(w, 10, 12, 0xa000, 10, 0, 30 * MS);
	waited(w, 10, 11, 0xb000, 12, 0, 50 * MS);
	assert_int_equal(ks_lock_stats_count(w->stats), 2);
	assert_int_equal(ks_lock_stats_top(w->stats, top, 4), 2);
	/* Most total wait time first. */
	assert_int_equal(top[0]->address, 0xb000);
	assert_int_equal(top[1]->address, 0xa000);
	a = top[1];
	assert_int_equal(a->waits, 2);
	assert_int_equal(a->wait_ns, 40 * MS);
	assert_int_equal(a->max_wait_ns, 30 * MS);
	assert_int_equal(a->kind, KS_LOCK_MUTEX);
	assert_int_equal(a->mutex_kind, 0);
	assert_int_equal(a->last_wait_end_mono_ns, 30 * MS);
	assert_string_equal(a->process_comm, "worker");
	/* The holder is named from the thread table. */
	assert_int_equal(a->nr_holders, 1);
	assert_int_equal(a->holders[0].tid, 10);
	assert_int_equal(a->holders[0].waits, 2);
	assert_string_equal(a->holders[0].comm, "worker");
	/* At most what was asked for. */
	assert_int_equal(ks_lock_stats_top(w->stats, top, 1), 1);
	assert_int_equal(top[0]->address, 0xb000);
}

static void test_waits_on_other_futexes_are_not_locks(void **state)
{
	struct world *w = *state;
	struct ks_thread *thread = add_thread(&w->table, 10, 11);
	struct ks_wait_end rec = { .begin_ts_ns = 0 };

	wait_for_mutex(thread, 0xa000, 0);
	thread->wait.lock_kind = KS_LOCK_NONE;
	rec.hdr.ts_ns = MS;
	ks_lock_stats_hooks.wait_ended(w->stats, thread, &rec);
	assert_int_equal(ks_lock_stats_count(w->stats), 0);
}

static void test_frequent_holders_are_kept(void **state)
{
	struct world *w = *state;
	const struct ks_lock_entry *a;

	/* Holder 20 three times, 21..24 once each, and one unknown. */
	for (int i = 0; i < 3; i++)
		waited(w, 10, 11, 0xa000, 20, 0, MS);
	for (uint32_t holder = 21; holder <= 24; holder++)
		waited(w, 10, 11, 0xa000, holder, 0, MS);
	waited(w, 10, 11, 0xa000, 0, 0, MS);
	a = lock_at(w, 10, 0xa000);
	assert_non_null(a);
	assert_int_equal(a->waits, 8);
	assert_int_equal(a->unknown_holder_waits, 1);
	assert_int_equal(a->nr_holders, KS_LOCK_STATS_MAX_HOLDERS);
	assert_int_equal(a->holders[0].tid, 20);
	assert_int_equal(a->holders[0].waits, 3);
	/* 24 took the place of the least seen of 21..23; 20 stays. */
	for (unsigned int i = 1; i < a->nr_holders; i++)
		assert_int_equal(a->holders[i].waits, 1);
	assert_true(a->holders[1].tid == 24 || a->holders[2].tid == 24 ||
		    a->holders[3].tid == 24);
	/* A holder not in the table has no name, but is counted. */
	assert_string_equal(a->holders[1].comm, "");
}

static void test_the_least_recently_contended_lock_is_evicted(void **state)
{
	struct world *w = *state;

	w->cfg.capacity = 2;
	renew(w);
	waited(w, 10, 11, 0xa000, 0, 0, MS);
	waited(w, 10, 11, 0xb000, 0, 0, MS);
	waited(w, 10, 11, 0xa000, 0, 0, MS); /* b is now the oldest */
	waited(w, 10, 11, 0xc000, 0, 0, MS);
	assert_int_equal(ks_lock_stats_count(w->stats), 2);
	assert_int_equal(ks_lock_stats_evicted(w->stats), 1);
	assert_non_null(lock_at(w, 10, 0xa000));
	assert_null(lock_at(w, 10, 0xb000));
	assert_non_null(lock_at(w, 10, 0xc000));
	assert_int_equal(lock_at(w, 10, 0xa000)->waits, 2);
}

static void test_sites_are_sampled_once_a_second_per_lock(void **state)
{
	struct world *w = *state;
	const struct ks_lock_entry *a;

	for (int i = 0; i < 5; i++)
		waited(w, 10, 11, 0xa000, 0, 0, 10 * S + i * MS);
	assert_int_equal(w->lookups, 1);
	/* A second later: another sample, at the same site. */
	waited(w, 10, 11, 0xa000, 0, 0, 11 * S + 10 * MS);
	assert_int_equal(w->lookups, 2);
	w->site_function = "other_caller";
	waited(w, 10, 11, 0xa000, 0, 0, 13 * S);
	a = lock_at(w, 10, 0xa000);
	assert_int_equal(a->nr_sites, 2);
	assert_string_equal(a->sites[0].frame.function, "take");
	assert_int_equal(a->sites[0].samples, 2);
	assert_string_equal(a->sites[1].frame.function, "other_caller");
	assert_int_equal(a->sites[1].samples, 1);
	assert_int_equal(ks_lock_stats_site_lookups(w->stats), 3);
}

static void test_site_lookups_have_a_budget_per_second(void **state)
{
	struct world *w = *state;

	w->cfg.site_budget = 2;
	renew(w);
	/* Three locks in the same second: the third one's site must wait. */
	waited(w, 10, 11, 0xa000, 0, 0, 20 * S);
	waited(w, 10, 11, 0xb000, 0, 0, 20 * S + 1);
	waited(w, 10, 11, 0xc000, 0, 0, 20 * S + 2);
	assert_int_equal(w->lookups, 2);
	assert_int_equal(ks_lock_stats_sites_skipped(w->stats), 1);
	assert_int_equal(lock_at(w, 10, 0xc000)->nr_sites, 0);
	/* Next second, the budget is back and c gets its sample. */
	waited(w, 10, 11, 0xc000, 0, 0, 21 * S + 5);
	assert_int_equal(w->lookups, 3);
	assert_int_equal(lock_at(w, 10, 0xc000)->nr_sites, 1);
}

static void test_a_failed_lookup_leaves_no_site(void **state)
{
	struct world *w = *state;

	w->site_function = NULL;
	waited(w, 10, 11, 0xa000, 0, 0, MS);
	assert_int_equal(w->lookups, 1);
	assert_int_equal(lock_at(w, 10, 0xa000)->nr_sites, 0);
}

static void
test_a_wait_without_its_stack_leaves_the_sample_to_the_next(void **state)
{
	struct world *w = *state;

	w->stackless = true;
	waited(w, 10, 11, 0xa000, 0, 0, MS);
	assert_int_equal(w->lookups, 0);
	w->stackless = false;
	waited(w, 10, 11, 0xa000, 0, 0, 2 * MS);
	assert_int_equal(w->lookups, 1);
	assert_int_equal(lock_at(w, 10, 0xa000)->nr_sites, 1);
	assert_int_equal(lock_at(w, 10, 0xa000)->waits, 2);
}

static void test_an_end_read_before_the_begin_lasted_no_time(void **state)
{
	struct world *w = *state;

	/* Ended by a waker on another CPU, whose clock reads 100 ns less. */
	waited(w, 10, 11, 0xa000, 0, 10 * MS + 100, 10 * MS);
	assert_int_equal(lock_at(w, 10, 0xa000)->waits, 1);
	assert_int_equal(lock_at(w, 10, 0xa000)->wait_ns, 0);
	assert_int_equal(lock_at(w, 10, 0xa000)->max_wait_ns, 0);
}

static void test_a_gone_process_takes_its_locks_along(void **state)
{
	struct world *w = *state;

	waited(w, 10, 11, 0xa000, 0, 0, MS);
	waited(w, 30, 31, 0xa000, 0, 0, MS);
	waited(w, 10, 12, 0xb000, 0, 0, MS);
	ks_lock_stats_forget_process(w->stats, 10);
	assert_int_equal(ks_lock_stats_count(w->stats), 1);
	assert_non_null(lock_at(w, 30, 0xa000));
	/* Forgetting is not evicting. */
	assert_int_equal(ks_lock_stats_evicted(w->stats), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_waits_are_summed_per_lock_and_ranked),
		T(test_waits_on_other_futexes_are_not_locks),
		T(test_frequent_holders_are_kept),
		T(test_the_least_recently_contended_lock_is_evicted),
		T(test_sites_are_sampled_once_a_second_per_lock),
		T(test_site_lookups_have_a_budget_per_second),
		T(test_a_failed_lookup_leaves_no_site),
		T(test_a_wait_without_its_stack_leaves_the_sample_to_the_next),
		T(test_an_end_read_before_the_begin_lasted_no_time),
		T(test_a_gone_process_takes_its_locks_along),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
