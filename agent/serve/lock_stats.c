// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "base/clock.h"
#include "model/wait_target.h"
#include "serve/lock_stats.h"
#include "stacks/wait_site.h"

#define KS_NS_PER_S 1000000000ull

struct ks_lock_key {
	uint32_t tgid;
	uint32_t zero; /* hashed with the rest: keep it defined */
	uint64_t address;
};

struct ks_lock_node {
	struct ks_lock_key key;
	struct ks_lock_entry entry;
	UT_hash_handle hh;
};

struct ks_lock_stats {
	struct ks_lock_stats_config cfg;
	/* uthash keeps insertion order: re-adding on use makes it LRU. */
	struct ks_lock_node *locks;
	uint64_t evicted;
	uint64_t budget_window_mono_ns;
	unsigned int budget_used;
	uint64_t site_lookups;
	uint64_t sites_skipped;
};

struct ks_lock_stats *ks_lock_stats_new(const struct ks_lock_stats_config *cfg)
{
	struct ks_lock_stats *stats = calloc(1, sizeof(*stats));

	if (!stats)
		return NULL;
	stats->cfg = *cfg;
	if (!stats->cfg.capacity)
		stats->cfg.capacity = KS_LOCK_STATS_DEFAULT_CAPACITY;
	return stats;
}

static void ks_lock_node_free(struct ks_lock_stats *stats,
			      struct ks_lock_node *node)
{
	HASH_DEL(stats->locks, node);
	free(node->entry.sites);
	free(node);
}

void ks_lock_stats_free(struct ks_lock_stats *stats)
{
	struct ks_lock_node *node, *tmp;

	if (!stats)
		return;
	HASH_ITER(hh, stats->locks, node, tmp)
		ks_lock_node_free(stats, node);
	free(stats);
}

static struct ks_lock_node *ks_lock_node_get(struct ks_lock_stats *stats,
					     const struct ks_lock_key *key)
{
	struct ks_lock_node *node;

	HASH_FIND(hh, stats->locks, key, sizeof(*key), node);
	if (node) {
		/* To the tail: the head is always the least recent. */
		HASH_DEL(stats->locks, node);
		HASH_ADD(hh, stats->locks, key, sizeof(node->key), node);
		return node;
	}
	if (HASH_COUNT(stats->locks) >= stats->cfg.capacity) {
		ks_lock_node_free(stats, stats->locks);
		stats->evicted++;
	}
	node = calloc(1, sizeof(*node));
	if (!node)
		return NULL;
	node->key = *key;
	node->entry.tgid = key->tgid;
	node->entry.address = key->address;
	node->entry.mutex_kind = UINT32_MAX;
	HASH_ADD(hh, stats->locks, key, sizeof(node->key), node);
	return node;
}

static void ks_count_holder(struct ks_lock_stats *stats,
			    struct ks_lock_entry *entry, uint32_t tid)
{
	const struct ks_thread *thread;
	struct ks_lock_holder *least = NULL;

	if (!tid) {
		entry->unknown_holder_waits++;
		return;
	}
	for (unsigned int i = 0; i < entry->nr_holders; i++) {
		if (entry->holders[i].tid == tid) {
			entry->holders[i].waits++;
			return;
		}
		if (!least || entry->holders[i].waits < least->waits)
			least = &entry->holders[i];
	}
	if (entry->nr_holders < KS_LOCK_STATS_MAX_HOLDERS)
		least = &entry->holders[entry->nr_holders++];
	least->tid = tid;
	least->waits = 1;
	thread = stats->cfg.table ? ks_table_thread(stats->cfg.table, tid) :
				    NULL;
	ks_comm_copy(least->comm, thread ? thread->comm : "");
}

/* Whether the global budget allows one more site lookup at now. */
static bool ks_take_site_budget(struct ks_lock_stats *stats, uint64_t now)
{
	if (now - stats->budget_window_mono_ns >= KS_NS_PER_S) {
		stats->budget_window_mono_ns = now;
		stats->budget_used = 0;
	}
	if (stats->budget_used >= stats->cfg.site_budget) {
		stats->sites_skipped++;
		return false;
	}
	stats->budget_used++;
	return true;
}

static bool ks_same_site(const struct ks_frame *a, const struct ks_frame *b)
{
	return a->module_offset == b->module_offset &&
	       !strcmp(a->module, b->module) &&
	       !strcmp(a->function, b->function);
}

static void ks_sample_site(struct ks_lock_stats *stats,
			   struct ks_lock_entry *entry,
			   const struct ks_thread *thread, uint64_t now)
{
	struct ks_frame frame;
	struct ks_lock_site *site;

	/* A wait that copied no stack leaves the sample to the next. */
	if (!stats->cfg.resolve_site || now < entry->next_site_sample_mono_ns ||
	    !ks_wait_has_stack(&thread->wait) ||
	    !ks_take_site_budget(stats, now))
		return;
	entry->next_site_sample_mono_ns = now + KS_NS_PER_S;
	stats->site_lookups++;
	if (stats->cfg.resolve_site(stats->cfg.resolve_ctx, thread, &frame))
		return;
	if (!entry->sites) {
		entry->sites =
			calloc(KS_LOCK_STATS_MAX_SITES, sizeof(*entry->sites));
		if (!entry->sites)
			return;
	}
	for (unsigned int i = 0; i < entry->nr_sites; i++) {
		if (ks_same_site(&entry->sites[i].frame, &frame)) {
			entry->sites[i].samples++;
			return;
		}
	}
	/* The first sites found stay: later ones are rarer on average. */
	if (entry->nr_sites == KS_LOCK_STATS_MAX_SITES)
		return;
	site = &entry->sites[entry->nr_sites++];
	site->frame = frame;
	site->samples = 1;
}

static void ks_on_wait_ended(void *ctx, struct ks_thread *thread,
			     const struct ks_wait_end *end)
{
	struct ks_lock_stats *stats = ctx;
	const struct ks_thread_wait *wait = &thread->wait;
	struct ks_lock_key key = { .tgid = thread->tgid,
				   .address = wait->lock_addr };
	uint64_t waited = ks_lasted_ns(end->begin_ts_ns, end->hdr.ts_ns);
	struct ks_lock_entry *entry;
	struct ks_lock_node *node;

	if (wait->lock_kind == KS_LOCK_NONE)
		return;
	node = ks_lock_node_get(stats, &key);
	if (!node)
		return;
	entry = &node->entry;
	entry->kind = wait->lock_kind;
	if (wait->mutex_kind != UINT32_MAX)
		entry->mutex_kind = wait->mutex_kind;
	ks_comm_copy(entry->process_comm, thread->process->comm);
	entry->waits++;
	entry->wait_ns += waited;
	if (waited > entry->max_wait_ns)
		entry->max_wait_ns = waited;
	entry->last_wait_end_mono_ns = end->hdr.ts_ns;
	ks_lock_trend_add(&entry->trend, end->hdr.ts_ns, waited);
	ks_count_holder(stats, entry, wait->holder_tid);
	ks_sample_site(stats, entry, thread, end->hdr.ts_ns);
}

const struct ks_model_hooks ks_lock_stats_hooks = {
	.wait_ended = ks_on_wait_ended,
};

int ks_lock_stats_wait_site(void *symbolizer, const struct ks_thread *thread,
			    struct ks_frame *site)
{
	return ks_wait_site(symbolizer, thread, site);
}

void ks_lock_stats_forget_process(struct ks_lock_stats *stats, uint32_t tgid)
{
	struct ks_lock_node *node, *tmp;

	HASH_ITER(hh, stats->locks, node, tmp)
		if (node->key.tgid == tgid)
			ks_lock_node_free(stats, node);
}

static int ks_by_wait_time(const void *a, const void *b)
{
	const struct ks_lock_entry *x = *(const struct ks_lock_entry *const *)a;
	const struct ks_lock_entry *y = *(const struct ks_lock_entry *const *)b;

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	return x->waits < y->waits ? 1 : x->waits > y->waits ? -1 : 0;
}

/* A lock and its wait time in the last hour, to sort by. */
struct ks_recent {
	const struct ks_lock_entry *entry;
	uint64_t wait_ns;
};

static int ks_by_recent_wait(const void *a, const void *b)
{
	const struct ks_recent *x = a, *y = b;

	if (x->wait_ns != y->wait_ns)
		return x->wait_ns < y->wait_ns ? 1 : -1;
	return ks_by_wait_time(&x->entry, &y->entry);
}

/*
 * The max first locks by wait time, all-time or (recent_ns) in the hour
 * up to it.
 */
static size_t ks_top(const struct ks_lock_stats *stats, uint64_t recent_ns,
		     const struct ks_lock_entry **out, size_t max)
{
	size_t n = HASH_COUNT(stats->locks), i = 0;
	struct ks_recent *all;
	struct ks_lock_node *node;

	if (!n || !max)
		return 0;
	all = malloc(n * sizeof(*all));
	if (!all)
		return 0;
	for (node = stats->locks; node; node = node->hh.next, i++) {
		all[i].entry = &node->entry;
		all[i].wait_ns =
			recent_ns ? ks_lock_trend_read(&node->entry.trend,
						       recent_ns, NULL, NULL) :
				    0;
	}
	qsort(all, n, sizeof(*all), ks_by_recent_wait);
	if (n > max)
		n = max;
	for (i = 0; i < n; i++)
		out[i] = all[i].entry;
	free(all);
	return n;
}

size_t ks_lock_stats_top(const struct ks_lock_stats *stats,
			 const struct ks_lock_entry **out, size_t max)
{
	return ks_top(stats, 0, out, max);
}

size_t ks_lock_stats_top_recent(const struct ks_lock_stats *stats,
				uint64_t now_ns,
				const struct ks_lock_entry **out, size_t max)
{
	return ks_top(stats, now_ns, out, max);
}

size_t ks_lock_stats_count(const struct ks_lock_stats *stats)
{
	return HASH_COUNT(stats->locks);
}

uint64_t ks_lock_stats_evicted(const struct ks_lock_stats *stats)
{
	return stats->evicted;
}

uint64_t ks_lock_stats_site_lookups(const struct ks_lock_stats *stats)
{
	return stats->site_lookups;
}

uint64_t ks_lock_stats_sites_skipped(const struct ks_lock_stats *stats)
{
	return stats->sites_skipped;
}
