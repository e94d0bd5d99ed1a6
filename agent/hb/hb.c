// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hb/hb.h"
#include "hb/hb_actors.h"
#include "hb/hb_damage.h"
#include "hb/hb_holdback.h"
#include "hb/hb_objects.h"

#define KS_HB_STAMP_INDEX_BITS 24
#define KS_HB_STAMP_INDEX_MASK ((1ull << KS_HB_STAMP_INDEX_BITS) - 1)
#define KS_HB_STAMP_GEN_MASK ((1ull << (64 - KS_HB_STAMP_INDEX_BITS)) - 1)

static const struct ks_hb_config ks_hb_defaults = {
	.max_clock_entries = 64,
	.max_actors = 131072,
	.max_objects = 262144,
	.max_stamps = 65536,
	.holdback_events = 16384,
	.max_segments = 65536,
	.reorder_window_ns = 1000000,
};

enum ks_hb_stamp_state {
	KS_HB_STAMP_FREE,
	KS_HB_STAMP_PENDING, /* handed out, its event not applied yet */
	KS_HB_STAMP_READY,
	KS_HB_STAMP_FAILED,
};

struct ks_hb_stamp_slot {
	uint64_t gen; /* bumped each time the slot is handed out */
	uint64_t ts;
	struct ks_hb_time at;
	enum ks_hb_stamp_state state;
	/* The writes the stream read just before it learnt, for links. */
	uint32_t nr_sources;
	uint64_t sources[KS_HB_SOURCES];
};

struct ks_hb {
	struct ks_hb_config cfg;
	struct ks_hb_stats stats; /* the counters only the engine keeps */
	struct ks_vclock_usage usage;
	struct ks_hb_holdback held;
	struct ks_hb_actors actors;
	struct ks_hb_objects objects;
	struct ks_hb_stream_pool streams;
	struct ks_hb_damage damage; /* where negatives may be wrong */
	struct ks_hb_damage doubts; /* where positives may be wrong */
	/* A ring: points are dropped oldest first. */
	struct ks_hb_stamp_slot *stamps;
	uint32_t next_stamp;
	uint64_t nr_stamps; /* slots not free */
	/* Where joins are built: two bounded clocks and two epochs. */
	struct ks_vclock_entry *scratch;
	uint64_t high_water; /* the latest time handed in or advanced to */
	uint64_t applied_ts; /* the latest time applied in order */
};

static uint64_t ks_hb_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint32_t ks_hb_or_default(uint32_t value, uint32_t fallback)
{
	return value ? value : fallback;
}

static int ks_hb_configure(struct ks_hb_config *cfg,
			   const struct ks_hb_config *asked)
{
	const struct ks_hb_config *d = &ks_hb_defaults;

	*cfg = asked ? *asked : *d;
	cfg->max_clock_entries =
		ks_hb_or_default(cfg->max_clock_entries, d->max_clock_entries);
	cfg->max_actors = ks_hb_or_default(cfg->max_actors, d->max_actors);
	cfg->max_objects = ks_hb_or_default(cfg->max_objects, d->max_objects);
	cfg->max_stamps = ks_hb_or_default(cfg->max_stamps, d->max_stamps);
	cfg->holdback_events =
		ks_hb_or_default(cfg->holdback_events, d->holdback_events);
	cfg->max_segments =
		ks_hb_or_default(cfg->max_segments, d->max_segments);
	if (!cfg->reorder_window_ns)
		cfg->reorder_window_ns = d->reorder_window_ns;
	/*
	 * Two actors at least: an edge between two threads may create one
	 * while the other is in use, and eviction must not pick that one.
	 */
	if (cfg->max_actors < 2 || cfg->max_stamps > KS_HB_STAMP_INDEX_MASK ||
	    cfg->max_clock_entries > UINT32_MAX / 4)
		return -EINVAL;
	return 0;
}

struct ks_hb *ks_hb_new(const struct ks_hb_config *cfg)
{
	struct ks_hb *hb = calloc(1, sizeof(*hb));
	int err = -ENOMEM;

	if (!hb)
		return NULL;
	ks_hb_actors_init(&hb->actors, &hb->usage);
	err = ks_hb_configure(&hb->cfg, cfg);
	if (err)
		goto cleanup;
	hb->streams.usage = &hb->usage;
	hb->streams.max_segments = hb->cfg.max_segments;
	ks_hb_objects_init(&hb->objects, hb->cfg.max_objects, &hb->usage,
			   &hb->streams);
	hb->stamps = calloc(hb->cfg.max_stamps, sizeof(*hb->stamps));
	hb->scratch = calloc(2 * (size_t)hb->cfg.max_clock_entries + 2,
			     sizeof(*hb->scratch));
	err = hb->stamps && hb->scratch ? 0 : -ENOMEM;
	if (err)
		goto cleanup;
	/* One over capacity: an insertion comes before the forced pop. */
	err = ks_hb_holdback_init(&hb->held, hb->cfg.holdback_events + 1);
cleanup:
	if (err) {
		ks_hb_free(hb);
		hb = NULL;
	}
	return hb;
}

static void ks_hb_stamp_clear(struct ks_hb *hb, struct ks_hb_stamp_slot *slot)
{
	if (slot->state == KS_HB_STAMP_READY) {
		ks_hb_actors_unhold(&hb->actors, slot->at.actor);
		ks_vclock_put(&hb->usage, slot->at.others);
	}
	if (slot->state != KS_HB_STAMP_FREE)
		hb->nr_stamps--;
	slot->state = KS_HB_STAMP_FREE;
}

void ks_hb_free(struct ks_hb *hb)
{
	if (!hb)
		return;
	if (hb->stamps)
		for (uint32_t i = 0; i < hb->cfg.max_stamps; i++)
			ks_hb_stamp_clear(hb, &hb->stamps[i]);
	ks_hb_actors_destroy(&hb->actors);
	ks_hb_objects_destroy(&hb->objects);
	ks_hb_holdback_destroy(&hb->held);
	free(hb->stamps);
	free(hb->scratch);
	free(hb);
}

/* --- What was lost, and the oldest point it could matter to. */

static uint64_t ks_hb_oldest_stamp_ts(const struct ks_hb *hb)
{
	uint64_t oldest = UINT64_MAX;

	for (uint32_t i = 0; i < hb->cfg.max_stamps; i++)
		if (hb->stamps[i].state == KS_HB_STAMP_PENDING ||
		    hb->stamps[i].state == KS_HB_STAMP_READY)
			if (hb->stamps[i].ts < oldest)
				oldest = hb->stamps[i].ts;
	return oldest;
}

static void ks_hb_note(struct ks_hb *hb, struct ks_hb_damage *log,
		       uint64_t from, uint64_t to)
{
	hb->stats.lost++;
	/* Rare: only lost edges fill it.  Then a scan of the points is fine. */
	if (ks_hb_damage_full(log))
		ks_hb_damage_forget(log, ks_hb_oldest_stamp_ts(hb));
	ks_hb_damage_add(log, from, to);
}

static void ks_hb_note_lost(struct ks_hb *hb, uint64_t ts)
{
	ks_hb_note(hb, &hb->damage, ts, ts);
}

/* Whether lost edges at ts may have been forgotten (hb_damage.h). */
static bool ks_hb_forgotten_at(const struct ks_hb *hb, uint64_t ts)
{
	uint64_t until = ks_hb_max(hb->damage.forgotten, hb->doubts.forgotten);

	return until && ts <= until;
}

static bool ks_hb_is_late(const struct ks_hb *hb, uint64_t ts)
{
	return ts < hb->applied_ts;
}

/* --- Joins, bounded. */

/* Keeps the scratch entries whose actor is at least in state min. */
static size_t ks_hb_keep_states(struct ks_hb *hb, size_t len,
				enum ks_hb_actor_state min)
{
	size_t kept = 0;

	for (size_t i = 0; i < len; i++)
		if (ks_hb_actors_state(&hb->actors, hb->scratch[i].actor) >=
		    min)
			hb->scratch[kept++] = hb->scratch[i];
	return kept;
}

/*
 * Brings the scratch entries to the bound.  Components of actors no held
 * point is of go first, as soon as a clock is half full: that costs no
 * answer (hb_actors.h), only what an exported point says, and keeps the
 * joins short (a fifth to a third fewer instructions in the benchmark's
 * mixes).  If that is not enough, knowledge is really lost, and marked:
 * gone threads first (their points are older), then the lowest ids, down
 * to three quarters of the bound so that the next joins do not trim
 * again.
 *
 * The marks take the latest time applied, not the event's: a late event
 * can join into a clock that already knows later events, and no clock
 * knows of anything later than what was applied.
 */
static size_t ks_hb_trim(struct ks_hb *hb, size_t len, struct ks_hb_time *marks)
{
	size_t max = hb->cfg.max_clock_entries, target = max - max / 4;
	size_t kept;

	if (len <= max / 2)
		return len;
	kept = ks_hb_keep_states(hb, len, KS_HB_ACTOR_GONE);
	if (kept < len) {
		hb->stats.entries_pruned += len - kept;
		marks->pruned_before =
			ks_hb_max(marks->pruned_before, hb->applied_ts);
		len = kept;
	}
	if (len <= max)
		return len;
	kept = ks_hb_keep_states(hb, len, KS_HB_ACTOR_LIVE);
	if (kept > max) {
		memmove(hb->scratch, hb->scratch + kept - target,
			target * sizeof(hb->scratch[0]));
		kept = target;
	}
	hb->stats.entries_dropped += len - kept;
	marks->lost_before = ks_hb_max(marks->lost_before, hb->applied_ts);
	return kept;
}

/*
 * Joins what a and b know into scratch, for a place whose own actor is
 * own (0 for a sync object: both epochs go into the clock).  Returns the
 * number of entries, never 0 for two times that are not both empty.
 */
static size_t ks_hb_join(struct ks_hb *hb, const struct ks_hb_time *a,
			 const struct ks_hb_time *b, uint64_t own)
{
	size_t n = ks_vclock_join(hb->scratch, a->others, b->others, own);

	if (a->actor && a->actor != own)
		n = ks_vclock_raise(
			hb->scratch, n,
			(struct ks_vclock_entry){ a->actor, a->count });
	if (b->actor && b->actor != own)
		n = ks_vclock_raise(
			hb->scratch, n,
			(struct ks_vclock_entry){ b->actor, b->count });
	return n;
}

/*
 * A new clock of the join in scratch, within the bound, any loss marked
 * in marks.  NULL without memory.
 */
static struct ks_vclock *ks_hb_install(struct ks_hb *hb, size_t n,
				       struct ks_hb_time *marks)
{
	n = ks_hb_trim(hb, n, marks);
	hb->stats.merges++;
	return ks_vclock_new(&hb->usage, hb->scratch, n);
}

static void ks_hb_absorb_marks(struct ks_hb_time *dst,
			       const struct ks_hb_time *src)
{
	dst->lamport = ks_hb_max(dst->lamport, src->lamport);
	dst->lost_before = ks_hb_max(dst->lost_before, src->lost_before);
	dst->pruned_before = ks_hb_max(dst->pruned_before, src->pruned_before);
}

/*
 * Whether the join in scratch[0..n) knows anything base does not, other
 * than of collected actors.  Those are moot (hb_actors.h): *pruned then
 * records that an exported point could have read them.  Knowledge of
 * actors merely unasked now is learnt all the same: looking every one up
 * would cost more than the merges it saves, and exported points keep it.
 * One linear walk, looking up actors only where the join is ahead, and
 * stopping at the first that matters.
 */
static bool ks_hb_adds_to(const struct ks_hb *hb, size_t n,
			  const struct ks_hb_time *base, bool *pruned)
{
	const struct ks_vclock *known = base->others;
	size_t nr_known = ks_vclock_len(known), j = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ks_vclock_entry *e = &hb->scratch[i];
		uint64_t count = 0;

		if (e->actor == base->actor) {
			count = base->count;
		} else {
			while (j < nr_known &&
			       known->entries[j].actor < e->actor)
				j++;
			if (j < nr_known && known->entries[j].actor == e->actor)
				count = known->entries[j].count;
		}
		if (count >= e->count)
			continue;
		if (ks_hb_actors_state(&hb->actors, e->actor) !=
		    KS_HB_ACTOR_COLLECTED)
			return true;
		*pruned = true;
	}
	return false;
}

/*
 * Whether actor is not collected.  An epoch the other side has not seen
 * (the epoch tests failed) of such an actor settles that a join adds
 * something, without a walk.
 */
static bool ks_hb_uncollected(const struct ks_hb *hb, uint64_t actor)
{
	return actor &&
	       ks_hb_actors_state(&hb->actors, actor) != KS_HB_ACTOR_COLLECTED;
}

/* Marks where a time did without moot components. */
static void ks_hb_mark_pruned(const struct ks_hb *hb, struct ks_hb_time *time)
{
	time->pruned_before = ks_hb_max(time->pruned_before, hb->applied_ts);
}

/* A thread's time (dst) learns all that src knows: an acquire. */
static void ks_hb_learn(struct ks_hb *hb, struct ks_hb_time *dst,
			const struct ks_hb_time *src, uint64_t ts)
{
	struct ks_vclock *joined;
	bool pruned = false;
	size_t n;

	ks_hb_absorb_marks(dst, src);
	if (!src->actor && !src->others)
		return;
	/*
	 * FastTrack's epoch test: having seen src's latest event, dst saw
	 * everything src knew at that event, so there is nothing to merge.
	 * This is every repeated hand-off between the same threads.
	 */
	if (src->actor && ks_hb_time_count(dst, src->actor) >= src->count)
		return;
	n = ks_hb_join(hb, dst, src, dst->actor);
	if (!ks_hb_uncollected(hb, src->actor) &&
	    !ks_hb_adds_to(hb, n, dst, &pruned)) {
		if (pruned)
			ks_hb_mark_pruned(hb, dst);
		return;
	}
	joined = ks_hb_install(hb, n, dst);
	if (!joined) {
		ks_hb_note_lost(hb, ts);
		return;
	}
	ks_vclock_put(&hb->usage, dst->others);
	dst->others = joined;
}

/* A sync object's time (dst) receives a release by a thread (src). */
static void ks_hb_publish(struct ks_hb *hb, struct ks_hb_time *dst,
			  const struct ks_hb_time *src, uint64_t ts)
{
	struct ks_vclock *joined;
	bool pruned = false, replace;
	size_t n = 0;

	/*
	 * If src saw dst's latest release, it saw all dst holds, and its
	 * time replaces dst's, sharing its clock: O(1), the usual case of a
	 * lock released by whoever acquired it last.  Failing that, src may
	 * still know all of dst that matters (the last releaser has been
	 * collected, or dst joined releases src has all seen since).
	 */
	replace =
		(!dst->actor && !dst->others) ||
		(dst->actor && ks_hb_time_count(src, dst->actor) >= dst->count);
	if (!replace) {
		n = ks_hb_join(hb, dst, src, 0);
		replace = !ks_hb_uncollected(hb, dst->actor) &&
			  !ks_hb_adds_to(hb, n, src, &pruned);
	}
	if (replace) {
		struct ks_hb_time replaced = *dst;

		*dst = *src;
		dst->others = ks_vclock_get(src->others);
		/* What dst lost stays lost: src may only have covered it. */
		ks_hb_absorb_marks(dst, &replaced);
		if (pruned)
			ks_hb_mark_pruned(hb, dst);
		ks_vclock_put(&hb->usage, replaced.others);
		return;
	}
	/* Concurrent releases (two sem_posts, two writers): keep both. */
	joined = ks_hb_install(hb, n, dst);
	if (!joined) {
		ks_hb_note_lost(hb, ts);
		return;
	}
	ks_hb_absorb_marks(dst, src);
	ks_vclock_put(&hb->usage, dst->others);
	dst->others = joined;
	dst->actor = 0;
	dst->count = 0;
}

/* --- Actors. */

/* Every recorded event, the recorded points included, is one tick. */
static void ks_hb_tick(struct ks_hb_actor *actor)
{
	actor->now.count++;
	actor->now.lamport++;
}

static struct ks_hb_actor *ks_hb_new_actor(struct ks_hb *hb, uint64_t key)
{
	struct ks_hb_actor *actor;

	/*
	 * The least recent is never the one the caller touched just now.
	 * Nothing it knew is later than what was applied.
	 */
	if (hb->actors.nr_live >= hb->cfg.max_actors)
		ks_hb_actors_evict(&hb->actors,
				   ks_hb_actors_least_recent(&hb->actors),
				   hb->applied_ts);
	actor = ks_hb_actors_add(&hb->actors, key);
	if (!actor)
		return NULL;
	/*
	 * If this key lived before and was evicted, what it knew is lost,
	 * and so is program order from its earlier points.
	 */
	actor->now.lost_before = ks_hb_actors_forgotten(&hb->actors, key);
	return actor;
}

/*
 * Wakeups are taken at the wakee's first event after them.  Its events
 * and its wakers' come in separate records, so one of its events may be
 * applied late, after a wakeup it preceded: it must not learn that one.
 */
static void ks_hb_take_wakeups(struct ks_hb *hb, struct ks_hb_actor *actor,
			       uint64_t ts)
{
	if (!actor->inbox_last_ts || ts < actor->inbox_first_ts)
		return;
	if (ts < actor->inbox_last_ts) {
		/*
		 * Wakeups before and after this event, joined in one time
		 * that cannot be split: learn none of them yet, and say the
		 * ones from the first to this event were lost for it.
		 */
		ks_hb_note(hb, &hb->damage, actor->inbox_first_ts, ts);
		return;
	}
	ks_hb_learn(hb, &actor->now, &actor->inbox, ts);
	ks_vclock_put(&hb->usage, actor->inbox.others);
	memset(&actor->inbox, 0, sizeof(actor->inbox));
	actor->inbox_first_ts = 0;
	actor->inbox_last_ts = 0;
	hb->stats.edges++;
}

/* The start of every event of an actor: recency, wakeups, its time. */
static void ks_hb_actor_event(struct ks_hb *hb, struct ks_hb_actor *actor,
			      uint64_t ts)
{
	ks_hb_actors_touch(&hb->actors, actor);
	ks_hb_take_wakeups(hb, actor, ts);
	actor->last_ts = ks_hb_max(actor->last_ts, ts);
}

/* The actor of key, created on first sight; NULL (and lost) without memory. */
static struct ks_hb_actor *ks_hb_actor_at(struct ks_hb *hb, uint64_t key,
					  uint64_t ts)
{
	struct ks_hb_actor *actor = ks_hb_actors_find(&hb->actors, key);

	if (!actor)
		actor = ks_hb_new_actor(hb, key);
	if (!actor) {
		ks_hb_note_lost(hb, ts);
		return NULL;
	}
	ks_hb_actor_event(hb, actor, ts);
	return actor;
}

/* --- Applying events, in timestamp order. */

static struct ks_hb_object_key ks_hb_key(uint64_t kind, uint64_t id)
{
	return (struct ks_hb_object_key){ .kind = kind, .id = id };
}

static void ks_hb_release_to(struct ks_hb *hb, struct ks_hb_actor *actor,
			     struct ks_hb_object_key key, uint64_t ts)
{
	struct ks_hb_object *object = ks_hb_objects_find(&hb->objects, key);

	if (!object)
		object = ks_hb_objects_add(&hb->objects, key, hb->applied_ts);
	/*
	 * A release for an object gone since must not reach the id's next
	 * object; whoever acquired the old one late missed it.
	 */
	if (!object || ts <= object->floor_ts) {
		ks_hb_note_lost(hb, ts);
		return;
	}
	/* Arriving late, it was missed by the acquires applied after it. */
	if (ts < object->last_acquire_ts)
		ks_hb_note_lost(hb, ts);
	ks_hb_publish(hb, &object->released, &actor->now, ts);
	object->last_release_ts = ks_hb_max(object->last_release_ts, ts);
}

static void ks_hb_apply_release(struct ks_hb *hb,
				const struct ks_hb_event *event)
{
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);

	if (!actor)
		return;
	ks_hb_tick(actor);
	ks_hb_release_to(hb, actor, ks_hb_key(event->sync_kind, event->target),
			 event->ts);
}

/* An acquire; consume: the object serves one acquire (a join, a reap). */
static void ks_hb_apply_acquire(struct ks_hb *hb,
				const struct ks_hb_event *event, bool consume)
{
	struct ks_hb_object_key key =
		ks_hb_key(event->sync_kind, event->target);
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);
	struct ks_hb_object *object;

	if (!actor)
		return;
	object = ks_hb_objects_find(&hb->objects, key);
	if (!object) {
		/* Evicted with releases in it: what they carried is lost. */
		actor->now.lost_before = ks_hb_max(
			actor->now.lost_before,
			ks_hb_objects_evicted_until(&hb->objects, key));
		/* Gone since this acquire: so is what it should learn. */
		if (event->ts <= ks_hb_objects_gone_until(&hb->objects, key))
			ks_hb_note_lost(hb, event->ts);
	} else if (event->ts <= object->floor_ts ||
		   event->ts < object->last_release_ts) {
		/*
		 * Late: the object under this id now is a later one, or it
		 * holds a release made after this acquire.  Learning it would
		 * be learning the future; learn nothing, and say the releases
		 * it should have learnt may be missing.
		 */
		ks_hb_note_lost(hb, event->ts);
	} else {
		/* Even with no release in it: it may say what it lost. */
		ks_hb_learn(hb, &actor->now, &object->released, event->ts);
		hb->stats.edges += object->last_release_ts != 0;
	}
	ks_hb_tick(actor);
	if (object && consume)
		ks_hb_objects_remove(&hb->objects, object);
	else if (object)
		object->last_acquire_ts =
			ks_hb_max(object->last_acquire_ts, event->ts);
}

static void ks_hb_apply_sync_gone(struct ks_hb *hb,
				  const struct ks_hb_event *event)
{
	struct ks_hb_object_key key =
		ks_hb_key(event->sync_kind, event->target);
	struct ks_hb_object *object = ks_hb_objects_find(&hb->objects, key);

	/*
	 * Arriving after the id's next object was used, the old object's
	 * releases (events up to this time) were taught to acquires of the
	 * new one: answers that lean on them may be wrong.  Unknown now, the
	 * object may have been removed or evicted after such acquires.  A
	 * known one stays, since the new one's releases are in it too, but
	 * late records of the old one are kept out from now on.
	 */
	bool mixed = object ? object->last_release_ts > event->ts ||
				      object->last_acquire_ts > event->ts :
			      ks_hb_is_late(hb, event->ts);

	if (mixed)
		ks_hb_note(hb, &hb->doubts, event->ts, event->ts);
	if (mixed && object) {
		object->floor_ts = ks_hb_max(object->floor_ts, event->ts);
		if (object->stream)
			ks_hb_stream_desync(&hb->streams, object->stream);
		object = NULL;
	}
	ks_hb_objects_gone(&hb->objects, key, object, event->ts);
	/* A stream under this id from now on starts empty, in step. */
	if (key.kind == KS_HB_OBJECT_STREAM && !mixed) {
		object = ks_hb_objects_add(&hb->objects, key, hb->applied_ts);
		if (object)
			object->stream = ks_hb_stream_new(true);
	}
}

/*
 * The thread another thread's event is about: a forked child, a wakee.
 * When that event is late, the target's own later events may have been
 * applied without it, by the actor now under its key or by one evicted
 * before: what the event carried is lost for them.  If the target is
 * unknown then, it may have exited since: it is not made up again, and
 * the edge is lost for whatever it did.
 */
static struct ks_hb_actor *ks_hb_target_at(struct ks_hb *hb, uint64_t key,
					   uint64_t ts)
{
	struct ks_hb_actor *target = ks_hb_actors_find(&hb->actors, key);

	if (target && (target->last_ts > ts ||
		       ks_hb_actors_forgotten(&hb->actors, key) > ts))
		ks_hb_note_lost(hb, ts);
	if (target)
		return target;
	target = ks_hb_is_late(hb, ts) ? NULL : ks_hb_new_actor(hb, key);
	if (!target)
		ks_hb_note_lost(hb, ts);
	return target;
}

/*
 * The two ends of a direct edge (a fork, a wakeup): the source's event,
 * ticked, and the target.  False when either is missing (and lost).
 */
static bool ks_hb_direct_edge(struct ks_hb *hb, const struct ks_hb_event *event,
			      struct ks_hb_actor **source,
			      struct ks_hb_actor **target)
{
	*source = ks_hb_actor_at(hb, event->thread, event->ts);
	if (!*source)
		return false;
	ks_hb_tick(*source);
	*target = ks_hb_target_at(hb, event->target, event->ts);
	return *target;
}

static void ks_hb_apply_fork(struct ks_hb *hb, const struct ks_hb_event *event)
{
	struct ks_hb_actor *parent, *child;

	if (!ks_hb_direct_edge(hb, event, &parent, &child))
		return;
	ks_hb_learn(hb, &child->now, &parent->now, event->ts);
	hb->stats.edges++;
}

static void ks_hb_apply_wakeup(struct ks_hb *hb,
			       const struct ks_hb_event *event)
{
	struct ks_hb_actor *waker, *wakee;

	if (!ks_hb_direct_edge(hb, event, &waker, &wakee))
		return;
	/*
	 * Always through the inbox, even late: the wakee's own records can
	 * be late too, and only its events after the wakeup may learn it.
	 */
	if (!wakee->inbox_last_ts || event->ts < wakee->inbox_first_ts)
		wakee->inbox_first_ts = event->ts;
	wakee->inbox_last_ts = ks_hb_max(wakee->inbox_last_ts, event->ts);
	ks_hb_publish(hb, &wakee->inbox, &waker->now, event->ts);
}

static void ks_hb_apply_exit(struct ks_hb *hb, const struct ks_hb_event *event)
{
	/*
	 * Even a thread not known now: it may have been evicted, and its
	 * join must then learn that its history is lost.
	 */
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);

	if (!actor)
		return;
	ks_hb_tick(actor);
	ks_hb_release_to(hb, actor,
			 ks_hb_key(KS_HB_OBJECT_THREAD_EXIT, event->thread),
			 event->ts);
	if (event->target)
		ks_hb_release_to(
			hb, actor,
			ks_hb_key(KS_HB_OBJECT_PROCESS_EXIT, event->target),
			event->ts);
	ks_hb_actors_retire(&hb->actors, actor);
}

/* --- Streams. */

/*
 * A stream event applied out of time order: reads or writes applied since
 * may have taken its place, so the stream trusts nothing until its next
 * count, and what the event carried is lost at its time.
 */
static void ks_hb_stream_late(struct ks_hb *hb, struct ks_hb_object *object,
			      uint64_t ts)
{
	uint64_t last =
		ks_hb_max(object->last_release_ts, object->last_acquire_ts);

	if (ks_hb_is_late(hb, ts)) {
		ks_hb_note_lost(hb, ts);
		ks_hb_stream_desync(&hb->streams, object->stream);
	}
	/* Records lost since its last event may have been its. */
	if (ks_hb_damage_latest(&hb->damage, ts) >= last ||
	    ks_hb_forgotten_at(hb, last))
		ks_hb_stream_desync(&hb->streams, object->stream);
}

/*
 * The stream under id for an event at ts, made on first sight; NULL when
 * there is none to apply it to: no memory, or the record is of an object
 * gone since, which the id's next object must not see.
 */
static struct ks_hb_stream *ks_hb_stream_of(struct ks_hb *hb, uint64_t id,
					    uint64_t ts,
					    struct ks_hb_object **object)
{
	struct ks_hb_object_key key = ks_hb_key(KS_HB_OBJECT_STREAM, id);

	*object = ks_hb_objects_find(&hb->objects, key);
	if (!*object)
		*object = ks_hb_objects_add(&hb->objects, key, hb->applied_ts);
	if (!*object || ts <= (*object)->floor_ts)
		return NULL;
	/* First seen: it may hold bytes from before. */
	if (!(*object)->stream)
		(*object)->stream = ks_hb_stream_new(false);
	if ((*object)->stream)
		ks_hb_stream_late(hb, *object, ts);
	return (*object)->stream;
}

static void ks_hb_apply_stream_write(struct ks_hb *hb,
				     const struct ks_hb_event *event)
{
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);
	struct ks_hb_object *object;
	struct ks_hb_stream *stream;

	if (!actor)
		return;
	ks_hb_tick(actor);
	stream = ks_hb_stream_of(hb, event->target, event->ts, &object);
	if (!stream) {
		ks_hb_note_lost(hb, event->ts);
		return;
	}
	ks_hb_stream_append(&hb->streams, stream, &actor->now, event->thread,
			    event->tag, event->ts, (uint64_t)event->units,
			    event->flags, event->pending);
	actor->writing = event->target;
	object->last_release_ts = ks_hb_max(object->last_release_ts, event->ts);
}

static void ks_hb_apply_stream_wrote(struct ks_hb *hb,
				     const struct ks_hb_event *event)
{
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);
	struct ks_hb_object *object;
	struct ks_hb_stream *stream;

	if (!actor)
		return;
	actor->writing = 0;
	stream = ks_hb_stream_of(hb, event->target, event->ts, &object);
	if (!stream)
		return;
	ks_hb_stream_returned(&hb->streams, stream, event->thread, event->units,
			      event->flags, event->pending, event->ts);
	object->last_release_ts = ks_hb_max(object->last_release_ts, event->ts);
}

static void ks_hb_apply_stream_count(struct ks_hb *hb,
				     const struct ks_hb_event *event)
{
	struct ks_hb_object *object;
	struct ks_hb_stream *stream;

	stream = ks_hb_stream_of(hb, event->target, event->ts, &object);
	if (stream)
		ks_hb_stream_counted(&hb->streams, stream, event->flags,
				     event->pending, event->ts);
}

/*
 * A thread in a write system call does nothing else the engine sees but
 * wake others: any other event of it means the write's return was lost.
 */
static void ks_hb_check_writing(struct ks_hb *hb,
				const struct ks_hb_event *event)
{
	struct ks_hb_object *object;
	struct ks_hb_actor *actor;

	if (event->kind == KS_HB_EV_SYNC_GONE ||
	    event->kind == KS_HB_EV_STAMP || event->kind == KS_HB_EV_WAKEUP)
		return;
	actor = ks_hb_actors_find(&hb->actors, event->thread);
	if (!actor || !actor->writing ||
	    (event->kind == KS_HB_EV_STREAM_WROTE &&
	     event->target == actor->writing))
		return;
	object = ks_hb_objects_find(
		&hb->objects, ks_hb_key(KS_HB_OBJECT_STREAM, actor->writing));
	if (object && object->stream)
		ks_hb_stream_forget_writer(&hb->streams, object->stream,
					   event->thread);
	actor->writing = 0;
}

/*
 * A read that returned exactly the units of these segments learns their
 * writes, the latest first: a writer's earlier writes are then known by
 * the epoch test at no cost.  The latest write of each writer is a source.
 */
static void ks_hb_learn_segments(struct ks_hb *hb, struct ks_hb_actor *actor,
				 const struct ks_hb_stream *stream,
				 const struct ks_hb_stream_plan *plan,
				 uint64_t ts)
{
	uint64_t writers[KS_HB_SOURCES];

	actor->nr_sources = 0;
	actor->sources_ts = ts;
	for (uint32_t i = plan->end; i-- > 0;) {
		const struct ks_hb_segment *seg = ks_hb_stream_at(stream, i);
		uint32_t n = actor->nr_sources, known = 0;

		if (!plan->take[i] || seg->unknown)
			continue;
		ks_hb_learn(hb, &actor->now, &seg->at, ts);
		while (known < n && writers[known] != seg->at.actor)
			known++;
		if (known == n && n < KS_HB_SOURCES && seg->tag) {
			writers[n] = seg->at.actor;
			actor->sources[n] = seg->tag;
			actor->nr_sources++;
		}
	}
	if (actor->nr_sources)
		hb->stats.edges++;
	/* Units of unknown origin: what their writers knew is missing. */
	actor->now.lost_before =
		ks_hb_max(actor->now.lost_before, plan->unknown_ts);
}

static void ks_hb_apply_stream_read(struct ks_hb *hb,
				    const struct ks_hb_event *event)
{
	struct ks_hb_actor *actor =
		ks_hb_actor_at(hb, event->thread, event->ts);
	struct ks_hb_stream_plan plan = { 0 };
	struct ks_hb_object *object;
	struct ks_hb_stream *stream;

	if (!actor)
		return;
	hb->stats.stream_reads++;
	actor->nr_sources = 0;
	stream = ks_hb_stream_of(hb, event->target, event->ts, &object);
	if (stream)
		ks_hb_stream_plan_read(stream, (uint64_t)event->units,
				       event->flags, event->pending, &plan);
	if (plan.exact) {
		ks_hb_learn_segments(hb, actor, stream, &plan, event->ts);
	} else {
		/* Whose units it returned is not sure: it learns none. */
		actor->now.lost_before =
			ks_hb_max(actor->now.lost_before, event->ts);
		hb->stats.stream_reads_unsure++;
	}
	ks_hb_tick(actor);
	if (!stream)
		return;
	ks_hb_stream_consume(&hb->streams, stream, event->flags, event->pending,
			     &plan, event->ts);
	object->last_acquire_ts = ks_hb_max(object->last_acquire_ts, event->ts);
}

static struct ks_hb_stamp_slot *ks_hb_stamp_slot(const struct ks_hb *hb,
						 uint64_t stamp)
{
	uint64_t index = stamp & KS_HB_STAMP_INDEX_MASK;
	struct ks_hb_stamp_slot *slot;

	if (index >= hb->cfg.max_stamps)
		return NULL;
	slot = &hb->stamps[index];
	if (slot->gen != stamp >> KS_HB_STAMP_INDEX_BITS ||
	    slot->state == KS_HB_STAMP_FREE)
		return NULL;
	return slot;
}

static void ks_hb_apply_stamp(struct ks_hb *hb, const struct ks_hb_event *event)
{
	struct ks_hb_stamp_slot *slot = ks_hb_stamp_slot(hb, event->target);
	struct ks_hb_actor *actor;

	/* Dropped before its event came: nothing to fill. */
	if (!slot || slot->state != KS_HB_STAMP_PENDING)
		return;
	/* So late that lost edges before it were already forgotten. */
	if (ks_hb_forgotten_at(hb, event->ts)) {
		slot->state = KS_HB_STAMP_FAILED;
		hb->stats.stamps_failed++;
		return;
	}
	actor = ks_hb_actor_at(hb, event->thread, event->ts);
	if (!actor) {
		slot->state = KS_HB_STAMP_FAILED;
		hb->stats.stamps_failed++;
		return;
	}
	ks_hb_tick(actor);
	slot->at = actor->now;
	slot->at.others = ks_vclock_get(actor->now.others);
	slot->state = KS_HB_STAMP_READY;
	slot->nr_sources = 0;
	if (actor->sources_ts == event->ts) {
		slot->nr_sources = actor->nr_sources;
		memcpy(slot->sources, actor->sources, sizeof(slot->sources));
	}
	ks_hb_actors_hold(&hb->actors, actor->now.actor);
}

static void ks_hb_apply(struct ks_hb *hb, const struct ks_hb_event *event)
{
	if (ks_hb_is_late(hb, event->ts))
		hb->stats.late++;
	else
		hb->applied_ts = event->ts;
	ks_hb_check_writing(hb, event);
	switch (event->kind) {
	case KS_HB_EV_RELEASE:
		ks_hb_apply_release(hb, event);
		break;
	case KS_HB_EV_ACQUIRE:
		ks_hb_apply_acquire(hb, event, false);
		break;
	case KS_HB_EV_SYNC_GONE:
		ks_hb_apply_sync_gone(hb, event);
		break;
	case KS_HB_EV_FORK:
		ks_hb_apply_fork(hb, event);
		break;
	case KS_HB_EV_WAKEUP:
		ks_hb_apply_wakeup(hb, event);
		break;
	case KS_HB_EV_EXIT:
		ks_hb_apply_exit(hb, event);
		break;
	case KS_HB_EV_JOINED:
	case KS_HB_EV_REAPED:
		ks_hb_apply_acquire(hb, event, true);
		break;
	case KS_HB_EV_STAMP:
		ks_hb_apply_stamp(hb, event);
		break;
	case KS_HB_EV_STREAM_WRITE:
		ks_hb_apply_stream_write(hb, event);
		break;
	case KS_HB_EV_STREAM_WROTE:
		ks_hb_apply_stream_wrote(hb, event);
		break;
	case KS_HB_EV_STREAM_READ:
		ks_hb_apply_stream_read(hb, event);
		break;
	case KS_HB_EV_STREAM_COUNT:
		ks_hb_apply_stream_count(hb, event);
		break;
	}
}

/* --- Holding back. */

static void ks_hb_drain(struct ks_hb *hb, uint64_t until)
{
	const struct ks_hb_event *first;
	struct ks_hb_event event;

	while ((first = ks_hb_holdback_first(&hb->held)) &&
	       first->ts <= until) {
		ks_hb_holdback_pop(&hb->held, &event);
		ks_hb_apply(hb, &event);
	}
}

void ks_hb_advance(struct ks_hb *hb, uint64_t now)
{
	hb->high_water = ks_hb_max(hb->high_water, now);
	if (hb->high_water >= hb->cfg.reorder_window_ns)
		ks_hb_drain(hb, hb->high_water - hb->cfg.reorder_window_ns);
}

void ks_hb_flush(struct ks_hb *hb)
{
	ks_hb_drain(hb, UINT64_MAX);
}

static void ks_hb_submit_event(struct ks_hb *hb,
			       const struct ks_hb_event *event)
{
	struct ks_hb_event early;

	hb->stats.events++;
	ks_hb_holdback_insert(&hb->held, event);
	if (ks_hb_holdback_len(&hb->held) > hb->cfg.holdback_events) {
		ks_hb_holdback_pop(&hb->held, &early);
		hb->stats.forced++;
		ks_hb_apply(hb, &early);
	}
	ks_hb_advance(hb, event->ts);
}

static void ks_hb_submit(struct ks_hb *hb, uint64_t ts, uint32_t kind,
			 uint64_t thread, uint64_t target, uint32_t sync_kind)
{
	const struct ks_hb_event event = {
		.ts = ts,
		.thread = thread,
		.target = target,
		.kind = kind,
		.sync_kind = sync_kind,
	};

	ks_hb_submit_event(hb, &event);
}

/* Never an internal namespace, whatever the caller passes. */
static uint32_t ks_hb_object_kind(enum ks_hb_sync_kind kind)
{
	switch (kind) {
	case KS_HB_CHANNEL:
		return KS_HB_OBJECT_CHANNEL;
	case KS_HB_STREAM:
		return KS_HB_OBJECT_STREAM;
	default:
		return KS_HB_OBJECT_WORD;
	}
}

void ks_hb_release(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		   enum ks_hb_sync_kind kind, uint64_t id)
{
	ks_hb_submit(hb, ts, KS_HB_EV_RELEASE, thread, id,
		     ks_hb_object_kind(kind));
}

void ks_hb_acquire(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		   enum ks_hb_sync_kind kind, uint64_t id)
{
	ks_hb_submit(hb, ts, KS_HB_EV_ACQUIRE, thread, id,
		     ks_hb_object_kind(kind));
}

void ks_hb_sync_gone(struct ks_hb *hb, uint64_t ts, enum ks_hb_sync_kind kind,
		     uint64_t id)
{
	ks_hb_submit(hb, ts, KS_HB_EV_SYNC_GONE, 0, id,
		     ks_hb_object_kind(kind));
}

void ks_hb_fork(struct ks_hb *hb, uint64_t ts, uint64_t parent, uint64_t child)
{
	ks_hb_submit(hb, ts, KS_HB_EV_FORK, parent, child, 0);
}

void ks_hb_wakeup(struct ks_hb *hb, uint64_t ts, uint64_t waker, uint64_t wakee)
{
	ks_hb_submit(hb, ts, KS_HB_EV_WAKEUP, waker, wakee, 0);
}

void ks_hb_exit(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		uint64_t process)
{
	ks_hb_submit(hb, ts, KS_HB_EV_EXIT, thread, process, 0);
}

void ks_hb_joined(struct ks_hb *hb, uint64_t ts, uint64_t joiner,
		  uint64_t exited)
{
	ks_hb_submit(hb, ts, KS_HB_EV_JOINED, joiner, exited,
		     KS_HB_OBJECT_THREAD_EXIT);
}

void ks_hb_reaped(struct ks_hb *hb, uint64_t ts, uint64_t waiter,
		  uint64_t process)
{
	ks_hb_submit(hb, ts, KS_HB_EV_REAPED, waiter, process,
		     KS_HB_OBJECT_PROCESS_EXIT);
}

static void ks_hb_submit_io(struct ks_hb *hb, uint64_t ts, uint32_t kind,
			    uint64_t thread, uint64_t stream,
			    const struct ks_hb_io *io)
{
	const struct ks_hb_event event = {
		.ts = ts,
		.thread = thread,
		.target = stream,
		.kind = kind,
		.units = io->units,
		.pending = io->pending,
		.tag = io->tag,
		.flags = io->flags,
	};

	ks_hb_submit_event(hb, &event);
}

void ks_hb_stream_write(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io)
{
	ks_hb_submit_io(hb, ts, KS_HB_EV_STREAM_WRITE, thread, stream, io);
}

void ks_hb_stream_wrote(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io)
{
	ks_hb_submit_io(hb, ts, KS_HB_EV_STREAM_WROTE, thread, stream, io);
}

void ks_hb_stream_read(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		       uint64_t stream, const struct ks_hb_io *io)
{
	ks_hb_submit_io(hb, ts, KS_HB_EV_STREAM_READ, thread, stream, io);
}

void ks_hb_stream_count(struct ks_hb *hb, uint64_t ts, uint64_t thread,
			uint64_t stream, const struct ks_hb_io *io)
{
	ks_hb_submit_io(hb, ts, KS_HB_EV_STREAM_COUNT, thread, stream, io);
}

void ks_hb_lost(struct ks_hb *hb, uint64_t from_ts, uint64_t to_ts)
{
	ks_hb_note(hb, &hb->damage, from_ts, ks_hb_max(from_ts, to_ts));
}

/* --- Points. */

uint64_t ks_hb_stamp(struct ks_hb *hb, uint64_t ts, uint64_t thread)
{
	uint32_t index = hb->next_stamp;
	struct ks_hb_stamp_slot *slot = &hb->stamps[index];
	uint64_t stamp;

	hb->next_stamp = (index + 1) % hb->cfg.max_stamps;
	if (slot->state != KS_HB_STAMP_FREE) {
		ks_hb_stamp_clear(hb, slot);
		hb->stats.stamps_dropped++;
	}
	/* Wraps after 2^40 uses of one slot; 0 stays unused. */
	slot->gen = (slot->gen + 1) & KS_HB_STAMP_GEN_MASK;
	if (!slot->gen)
		slot->gen = 1;
	slot->ts = ts;
	slot->state = KS_HB_STAMP_PENDING;
	hb->nr_stamps++;
	stamp = (slot->gen << KS_HB_STAMP_INDEX_BITS) | index;
	ks_hb_submit(hb, ts, KS_HB_EV_STAMP, thread, stamp, 0);
	return stamp;
}

void ks_hb_stamp_drop(struct ks_hb *hb, uint64_t stamp)
{
	struct ks_hb_stamp_slot *slot = ks_hb_stamp_slot(hb, stamp);

	if (slot)
		ks_hb_stamp_clear(hb, slot);
}

/*
 * A held point as the order rules read it.  Its unknown_before gathers
 * what its own clock lost and the latest lost edge not after it; an
 * exported point also says where moot components were pruned.
 */
static void ks_hb_point_of(const struct ks_hb *hb,
			   const struct ks_hb_stamp_slot *slot, bool exported,
			   struct ks_hb_point *point)
{
	uint64_t unknown =
		ks_hb_max(slot->at.lost_before,
			  ks_hb_damage_latest(&hb->damage, slot->ts));

	if (exported)
		unknown = ks_hb_max(unknown, slot->at.pruned_before);
	*point = (struct ks_hb_point){
		.ts = slot->ts,
		.actor = slot->at.actor,
		.count = slot->at.count,
		.lamport = slot->at.lamport,
		.unknown_before = unknown,
		.doubtful_before = ks_hb_damage_latest(&hb->doubts, slot->ts),
		.clock = slot->at.others,
	};
}

int ks_hb_stamp_point(const struct ks_hb *hb, uint64_t stamp,
		      struct ks_hb_point *point)
{
	const struct ks_hb_stamp_slot *slot = ks_hb_stamp_slot(hb, stamp);

	if (!slot)
		return -ENOENT;
	if (slot->state == KS_HB_STAMP_PENDING)
		return -EAGAIN;
	if (slot->state == KS_HB_STAMP_FAILED)
		return -EIO;
	ks_hb_point_of(hb, slot, true, point);
	return 0;
}

size_t ks_hb_stamp_sources(const struct ks_hb *hb, uint64_t stamp,
			   uint64_t *tags, size_t max)
{
	const struct ks_hb_stamp_slot *slot = ks_hb_stamp_slot(hb, stamp);
	size_t n;

	if (!slot || slot->state != KS_HB_STAMP_READY)
		return 0;
	n = slot->nr_sources < max ? slot->nr_sources : max;
	memcpy(tags, slot->sources, n * sizeof(*tags));
	return n;
}

enum ks_hb_order ks_hb_order(const struct ks_hb *hb, uint64_t a, uint64_t b)
{
	const struct ks_hb_stamp_slot *slot_a = ks_hb_stamp_slot(hb, a);
	const struct ks_hb_stamp_slot *slot_b = ks_hb_stamp_slot(hb, b);
	struct ks_hb_point point_a, point_b;

	if (!slot_a || !slot_b || slot_a->state != KS_HB_STAMP_READY ||
	    slot_b->state != KS_HB_STAMP_READY)
		return KS_HB_UNKNOWN;
	ks_hb_point_of(hb, slot_a, false, &point_a);
	ks_hb_point_of(hb, slot_b, false, &point_b);
	return ks_hb_point_order(&point_a, &point_b);
}

void ks_hb_get_stats(const struct ks_hb *hb, struct ks_hb_stats *stats)
{
	*stats = hb->stats;
	stats->held = ks_hb_holdback_len(&hb->held);
	stats->actors = hb->actors.nr_live;
	stats->actors_gone = hb->actors.nr_gone;
	stats->actor_slots = hb->actors.nr_slots;
	stats->actors_created = hb->actors.created;
	stats->actors_collected = hb->actors.collected;
	stats->actors_evicted = hb->actors.evicted;
	stats->objects = hb->objects.nr;
	stats->objects_evicted = hb->objects.evicted;
	stats->objects_gone = hb->objects.removed;
	stats->stamps = hb->nr_stamps;
	stats->clocks = hb->usage.clocks;
	stats->clock_entries = hb->usage.entries;
	stats->stream_desyncs = hb->streams.desyncs;
	stats->stream_restarts = hb->streams.restarts;
	stats->stream_segments = hb->streams.segments;
}
