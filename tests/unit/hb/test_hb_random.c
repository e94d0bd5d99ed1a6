// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The engine against an unbounded reference, on random executions: forks,
 * exits and joins, lock and channel hand-offs, wakeups, objects that go
 * away, points recorded and dropped.  Records arrive as a ring buffer
 * delivers them: each thread's in its own order, threads interleaved with
 * their timestamps a little (and sometimes a lot) out of order.
 *
 * With room enough the engine must answer exactly.  Under pressure (tiny
 * clocks, few objects, threads and points, a small hold-back buffer and
 * records later than the window) every answer must be the reference's or
 * KS_HB_UNKNOWN.  Exported points are held to the same rule.
 */
#include "unit.h"

#include <stdlib.h>

#include "hb/hb.h"
#include "rng.h"

#define MAX_THREADS 24
#define NR_OBJECTS 5
#define MAX_EVENTS 400
#define MAX_POINTS 200
#define KEY(thread) (1000 + (uint64_t)(thread))

/* Dense vector clocks: the latest known event time of every thread. */
struct dense {
	uint64_t at[MAX_THREADS];
};

struct event {
	uint64_t ts, arrival;
	int kind, thread, other, object, point;
};

struct ref_point {
	int thread;
	uint64_t ts;
	struct dense clock;
	uint64_t stamp;
	bool dropped;
	bool exported;
	char text[512];
};

struct run {
	struct dense threads[MAX_THREADS];
	struct dense objects[NR_OBJECTS];
	struct dense exits[MAX_THREADS];
	bool live[MAX_THREADS], exited[MAX_THREADS], joined[MAX_THREADS];
	int nr_threads;
	struct event events[MAX_EVENTS];
	int nr_events;
	struct ref_point points[MAX_POINTS];
	int nr_points;
};

enum {
	EV_STAMP,
	EV_RELEASE,
	EV_ACQUIRE,
	EV_WAKEUP,
	EV_FORK,
	EV_EXIT,
	EV_JOIN,
	EV_GONE,
	EV_DROP
};

static struct ks_rng rng;

static int rng_below(int n)
{
	return (int)ks_rng_below(&rng, (uint64_t)n);
}

static void dense_join(struct dense *into, const struct dense *from)
{
	for (int i = 0; i < MAX_THREADS; i++)
		if (from->at[i] > into->at[i])
			into->at[i] = from->at[i];
}

static int random_live_thread(const struct run *run)
{
	int thread;

	do
		thread = rng_below(run->nr_threads);
	while (!run->live[thread]);
	return thread;
}

static enum ks_hb_sync_kind object_kind(int object)
{
	return object < 3 ? KS_HB_WORD : KS_HB_CHANNEL;
}

/*
 * One event of the execution, in true time order, applied to the
 * reference at once: the model's semantics, with nothing bounded.
 */
static void generate(struct run *run, uint64_t ts)
{
	struct event *e = &run->events[run->nr_events];
	int thread = random_live_thread(run), roll = rng_below(100);
	struct dense *clock = &run->threads[thread];

	*e = (struct event){ .ts = ts, .thread = thread, .point = -1 };
	clock->at[thread] = ts;
	if (roll < 22 && run->nr_points < MAX_POINTS) {
		e->kind = EV_STAMP;
		e->point = run->nr_points++;
		run->points[e->point] = (struct ref_point){ .thread = thread,
							    .ts = ts,
							    .clock = *clock };
	} else if (roll < 44) {
		e->kind = EV_RELEASE;
		e->object = rng_below(NR_OBJECTS);
		dense_join(&run->objects[e->object], clock);
	} else if (roll < 66) {
		e->kind = EV_ACQUIRE;
		e->object = rng_below(NR_OBJECTS);
		dense_join(clock, &run->objects[e->object]);
	} else if (roll < 76) {
		e->kind = EV_WAKEUP;
		e->other = random_live_thread(run);
		/* The wakee's next event comes later: learning now is alike. */
		if (e->other != thread)
			dense_join(&run->threads[e->other], clock);
	} else if (roll < 82 && run->nr_threads < MAX_THREADS) {
		e->kind = EV_FORK;
		e->other = run->nr_threads++;
		run->live[e->other] = true;
		run->threads[e->other] = *clock;
	} else if (roll < 87 && thread) {
		e->kind = EV_EXIT;
		run->live[thread] = false;
		run->exited[thread] = true;
		run->exits[thread] = *clock;
	} else if (roll < 94) {
		e->kind = EV_JOIN;
		e->other = rng_below(run->nr_threads);
		if (!run->exited[e->other] || run->joined[e->other]) {
			e->kind = EV_STAMP;
			e->point = -1;
			return;
		}
		run->joined[e->other] = true;
		dense_join(clock, &run->exits[e->other]);
	} else if (roll < 97) {
		e->kind = EV_GONE;
		e->object = rng_below(NR_OBJECTS);
		memset(&run->objects[e->object], 0, sizeof(struct dense));
	} else {
		e->kind = EV_DROP;
		e->point = run->nr_points ? rng_below(run->nr_points) : -1;
	}
}

/*
 * When each record reaches the consumer: its timestamp plus a delay, most
 * small, late_permille of them late_delay more; a thread's records never
 * overtake each other.
 */
static void schedule_arrivals(struct run *run, uint64_t late_delay,
			      int late_permille)
{
	uint64_t last[MAX_THREADS] = { 0 };

	for (int i = 0; i < run->nr_events; i++) {
		struct event *e = &run->events[i];
		uint64_t delay = (uint64_t)rng_below(3000);

		if (rng_below(1000) < late_permille)
			delay += late_delay;
		e->arrival = e->ts + delay;
		if (e->arrival <= last[e->thread])
			e->arrival = last[e->thread] + 1;
		last[e->thread] = e->arrival;
	}
}

static int by_arrival(const void *a, const void *b)
{
	const struct event *ea = a, *eb = b;

	if (ea->arrival != eb->arrival)
		return ea->arrival < eb->arrival ? -1 : 1;
	return ea->ts < eb->ts ? -1 : ea->ts > eb->ts;
}

static void export_point(const struct ks_hb *hb, struct ref_point *point)
{
	struct ks_hb_point exported;

	if (point->dropped ||
	    ks_hb_stamp_point(hb, point->stamp, &exported) != 0)
		return;
	assert_true(ks_hb_point_encode(&exported, point->text,
				       sizeof(point->text)) <
		    sizeof(point->text));
	point->exported = true;
}

static void feed(struct ks_hb *hb, struct run *run, bool export_at_drop)
{
	for (int i = 0; i < run->nr_events; i++) {
		const struct event *e = &run->events[i];
		uint64_t t = KEY(e->thread);

		switch (e->kind) {
		case EV_STAMP:
			if (e->point >= 0)
				run->points[e->point].stamp =
					ks_hb_stamp(hb, e->ts, t);
			else
				ks_hb_stamp(hb, e->ts, t);
			break;
		case EV_RELEASE:
			ks_hb_release(hb, e->ts, t, object_kind(e->object),
				      e->object);
			break;
		case EV_ACQUIRE:
			ks_hb_acquire(hb, e->ts, t, object_kind(e->object),
				      e->object);
			break;
		case EV_WAKEUP:
			ks_hb_wakeup(hb, e->ts, t, KEY(e->other));
			break;
		case EV_FORK:
			ks_hb_fork(hb, e->ts, t, KEY(e->other));
			break;
		case EV_EXIT:
			ks_hb_exit(hb, e->ts, t, 0);
			break;
		case EV_JOIN:
			ks_hb_joined(hb, e->ts, t, KEY(e->other));
			break;
		case EV_GONE:
			ks_hb_sync_gone(hb, e->ts, object_kind(e->object),
					e->object);
			break;
		case EV_DROP:
			/* Only points handed out already can be dropped. */
			if (e->point < 0 || !run->points[e->point].stamp)
				break;
			if (export_at_drop)
				export_point(hb, &run->points[e->point]);
			ks_hb_stamp_drop(hb, run->points[e->point].stamp);
			run->points[e->point].dropped = true;
			break;
		}
	}
	ks_hb_flush(hb);
}

static enum ks_hb_order truth(const struct ref_point *a,
			      const struct ref_point *b)
{
	if (a->thread == b->thread) {
		if (a->ts == b->ts)
			return KS_HB_EQUAL;
		return a->ts < b->ts ? KS_HB_BEFORE : KS_HB_AFTER;
	}
	if (b->clock.at[a->thread] >= a->ts)
		return KS_HB_BEFORE;
	if (a->clock.at[b->thread] >= b->ts)
		return KS_HB_AFTER;
	return KS_HB_CONCURRENT;
}

struct tally {
	unsigned long exact, unknown;
};

static void check(enum ks_hb_order answer, enum ks_hb_order expected,
		  struct tally *tally)
{
	if (answer == KS_HB_UNKNOWN) {
		tally->unknown++;
		return;
	}
	assert_string_equal(ks_hb_order_name(answer),
			    ks_hb_order_name(expected));
	tally->exact++;
}

static void check_engine(const struct ks_hb *hb, const struct run *run,
			 struct tally *tally)
{
	for (int i = 0; i < run->nr_points; i++)
		for (int j = 0; j < run->nr_points; j++)
			if (!run->points[i].dropped && !run->points[j].dropped)
				check(ks_hb_order(hb, run->points[i].stamp,
						  run->points[j].stamp),
				      truth(&run->points[i], &run->points[j]),
				      tally);
}

static void check_exported(const struct run *run, struct tally *tally)
{
	struct ks_hb_point decoded[MAX_POINTS];
	struct ks_vclock *clocks[MAX_POINTS] = { 0 };

	for (int i = 0; i < run->nr_points; i++)
		if (run->points[i].exported)
			assert_int_equal(ks_hb_point_decode(run->points[i].text,
							    &decoded[i],
							    &clocks[i]),
					 0);
	for (int i = 0; i < run->nr_points; i++)
		for (int j = 0; j < run->nr_points; j++)
			if (run->points[i].exported && run->points[j].exported)
				check(ks_hb_point_order(&decoded[i],
							&decoded[j]),
				      truth(&run->points[i], &run->points[j]),
				      tally);
	for (int i = 0; i < run->nr_points; i++)
		ks_vclock_put(NULL, clocks[i]);
}

/*
 * Runs random executions; export_at_drop: export each point before it is
 * dropped, so exported answers also cover points of collected threads
 * (only where no record is late: lost edges found after an export cannot
 * be in it).
 */
static void run_many(const struct ks_hb_config *cfg, uint64_t seed,
		     uint64_t late_delay, int late_permille,
		     bool export_at_drop, struct tally *engine,
		     struct tally *exported)
{
	static struct run run;

	rng.state = seed;
	for (int round = 0; round < 150; round++) {
		struct ks_hb *hb = ks_hb_new(cfg);

		assert_non_null(hb);
		memset(&run, 0, sizeof(run));
		run.nr_threads = 4;
		for (int t = 0; t < 4; t++)
			run.live[t] = true;
		for (int i = 0; i < MAX_EVENTS; i++) {
			generate(&run, 1000000 + 1000 * (uint64_t)i);
			run.nr_events++;
		}
		schedule_arrivals(&run, late_delay, late_permille);
		qsort(run.events, (size_t)run.nr_events, sizeof(run.events[0]),
		      by_arrival);
		feed(hb, &run, export_at_drop);
		check_engine(hb, &run, engine);
		for (int i = 0; i < run.nr_points; i++)
			export_point(hb, &run.points[i]);
		check_exported(&run, exported);
		ks_hb_free(hb);
	}
}

static void test_with_room_enough_every_answer_is_exact(void **state)
{
	struct tally engine = { 0 }, exported = { 0 };

	run_many(NULL, 1, 0, 0, true, &engine, &exported);
	assert_int_equal(engine.unknown, 0);
	assert_true(engine.exact > 100000);
	/* Exported points of collected threads can only be unsure. */
	assert_true(exported.exact > 20 * exported.unknown);
}

/* Bounded everywhere, records in time: what is lost is never guessed. */
static void test_tiny_bounds_are_never_wrong(void **state)
{
	const struct ks_hb_config cfg = {
		.max_clock_entries = 3,
		.max_actors = 4,
		.max_objects = 3,
		.max_stamps = 48,
	};
	struct tally engine = { 0 }, exported = { 0 };

	run_many(&cfg, 2, 0, 0, true, &engine, &exported);
	assert_true(engine.unknown > 0);
	assert_true(engine.exact > 0);
	assert_true(exported.unknown > 0);
	assert_true(exported.exact > 0);
}

/* Records later than the window and a hold-back buffer that overflows. */
static void test_late_records_are_never_wrong(void **state)
{
	const struct ks_hb_config cfg = {
		.holdback_events = 4,
		.reorder_window_ns = 5000,
	};
	struct tally engine = { 0 }, exported = { 0 };

	run_many(&cfg, 3, 40000, 40, false, &engine, &exported);
	assert_true(engine.unknown > 0);
	assert_true(engine.exact > 0);
}

/*
 * Bounds a little under what the executions need, and a few records in a
 * thousand later than the window: most answers stay exact.
 */
static void test_moderate_pressure_keeps_most_answers(void **state)
{
	const struct ks_hb_config cfg = {
		.max_clock_entries = 16,
		.max_actors = 16,
		.max_objects = 8,
		.max_stamps = 128,
		.holdback_events = 64,
		.reorder_window_ns = 5000,
	};
	struct tally engine = { 0 }, exported = { 0 };

	run_many(&cfg, 5, 20000, 2, false, &engine, &exported);
	assert_true(engine.unknown > 0);
	assert_true(engine.exact > 4 * engine.unknown);
}

static void test_everything_at_once_is_never_wrong(void **state)
{
	const struct ks_hb_config cfg = {
		.max_clock_entries = 2,
		.max_actors = 3,
		.max_objects = 2,
		.max_stamps = 32,
		.holdback_events = 3,
		.reorder_window_ns = 4000,
	};
	struct tally engine = { 0 }, exported = { 0 };

	run_many(&cfg, 4, 30000, 40, false, &engine, &exported);
	assert_true(engine.unknown > 0);
	assert_true(engine.exact > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_with_room_enough_every_answer_is_exact),
		cmocka_unit_test(test_tiny_bounds_are_never_wrong),
		cmocka_unit_test(test_late_records_are_never_wrong),
		cmocka_unit_test(test_moderate_pressure_keeps_most_answers),
		cmocka_unit_test(test_everything_at_once_is_never_wrong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
