/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contention per lock: how often and how long threads waited for each lock
 * (a process and an address), which threads held it meanwhile, and where
 * the waiters asked for it.  Fed by the model's wait_ended on the main
 * thread.
 *
 * Bounded twice: the table holds at most `capacity` locks and evicts the one
 * contended least recently; and finding a wait's site unwinds a stack,
 * which is not free, so sites are sampled, at most once a second per lock
 * and at most site_budget times a second in all.
 */
#ifndef KS_LOCK_STATS_H
#define KS_LOCK_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "model/table.h"
#include "serve/lock_trend.h"
#include "stacks/symbolize.h"

#define KS_LOCK_STATS_MAX_HOLDERS 4
#define KS_LOCK_STATS_MAX_SITES 3
#define KS_LOCK_STATS_DEFAULT_CAPACITY 1024
#define KS_LOCK_STATS_DEFAULT_SITE_BUDGET 20

/* A thread that held the lock while others waited for it. */
struct ks_lock_holder {
	uint32_t tid;
	char comm[KS_COMM_LEN];
	uint64_t waits; /* waits that began while it held the lock */
};

/* Where waiters asked for the lock, and how many samples found it there. */
struct ks_lock_site {
	struct ks_frame frame;
	uint64_t samples;
};

struct ks_lock_entry {
	uint32_t tgid;
	uint64_t address; /* the lock's address in that process */
	uint8_t kind; /* enum ks_lock_kind */
	uint32_t mutex_kind; /* glibc __kind, UINT32_MAX when unknown */
	char process_comm[KS_COMM_LEN];
	uint64_t waits;
	uint64_t wait_ns;
	uint64_t max_wait_ns;
	uint64_t last_wait_end_mono_ns;
	/*
	 * The most frequent holders, approximately: a new holder replaces
	 * the one seen least when all slots are taken.
	 */
	struct ks_lock_holder holders[KS_LOCK_STATS_MAX_HOLDERS];
	unsigned int nr_holders;
	uint64_t unknown_holder_waits;
	struct ks_lock_site *sites; /* made with the first sample */
	unsigned int nr_sites;
	uint64_t next_site_sample_mono_ns;
	struct ks_lock_trend trend; /* the last hour */
};

/* Finds where thread's current wait was asked for; 0 with site filled. */
typedef int (*ks_site_resolver)(void *ctx, const struct ks_thread *thread,
				struct ks_frame *site);

struct ks_lock_stats_config {
	unsigned int capacity; /* locks kept */
	unsigned int site_budget; /* site lookups per second, in all */
	ks_site_resolver resolve_site;
	void *resolve_ctx;
	const struct ks_table *table; /* to name holders */
};

struct ks_lock_stats;

struct ks_lock_stats *ks_lock_stats_new(const struct ks_lock_stats_config *cfg);
void ks_lock_stats_free(struct ks_lock_stats *stats);

/* The model's hooks, to subscribe with the statistics as ctx. */
extern const struct ks_model_hooks ks_lock_stats_hooks;

/* A site resolver for the agent: ks_wait_site() with a symbolizer as ctx. */
int ks_lock_stats_wait_site(void *symbolizer, const struct ks_thread *thread,
			    struct ks_frame *site);

/* The process exited or exec'd: its addresses mean nothing any more. */
void ks_lock_stats_forget_process(struct ks_lock_stats *stats, uint32_t tgid);

/*
 * Fills out with at most max entries, most waited-for first (total wait
 * time).  The entries stay valid until the next call that changes stats.
 * Returns how many.
 */
size_t ks_lock_stats_top(const struct ks_lock_stats *stats,
			 const struct ks_lock_entry **out, size_t max);

/* The same, most waited-for in the hour up to now_ns first. */
size_t ks_lock_stats_top_recent(const struct ks_lock_stats *stats,
				uint64_t now_ns,
				const struct ks_lock_entry **out, size_t max);

size_t ks_lock_stats_count(const struct ks_lock_stats *stats);
/* Locks dropped to make room since the start. */
uint64_t ks_lock_stats_evicted(const struct ks_lock_stats *stats);
/* Site lookups done, and skipped for want of budget, since the start. */
uint64_t ks_lock_stats_site_lookups(const struct ks_lock_stats *stats);
uint64_t ks_lock_stats_sites_skipped(const struct ks_lock_stats *stats);

#endif /* KS_LOCK_STATS_H */
