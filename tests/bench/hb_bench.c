// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What the happens-before engine costs on one core: edges per second for a
 * mix shaped like a busy node (lock hand-offs, channel hand-offs, wakeups,
 * threads forked, joined and exiting, span starts recorded and dropped),
 * memory for 10k live threads, and hb() queries per second.
 *
 * Executions are generated before the clock starts, so only the engine is
 * timed, in CPU time of this thread (wall-clock time on a shared VM swings
 * too much): the median of several runs, and the best, the least
 * disturbed by whatever else runs.
 *
 * Usage: hb_bench [scale], scale 1 by default; 0.1 for a quick look.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hb/hb.h"
#include "rng.h"

#define RUNS 5

enum op {
	OP_RELEASE,
	OP_ACQUIRE,
	OP_SEND,
	OP_RECEIVE,
	OP_WAKEUP,
	OP_FORK,
	OP_EXIT,
	OP_JOIN,
	OP_STAMP,
	OP_DROP,
};

struct op_record {
	uint64_t ts;
	uint64_t thread;
	uint64_t target;
	enum op op;
};

struct execution {
	struct op_record *ops;
	size_t nr_ops, capacity;
	size_t nr_edges; /* hand-offs between threads, wakeups, forks, joins */
};

static struct ks_rng rng = { .state = 42 };

static double cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts values: [0] is the best run, [n / 2] the median. */
static void sort_runs(double *values, int n)
{
	qsort(values, (size_t)n, sizeof(values[0]), by_value);
}

static void emit(struct execution *e, uint64_t *ts, enum op op, uint64_t thread,
		 uint64_t target)
{
	if (e->nr_ops == e->capacity) {
		e->capacity = e->capacity ? 2 * e->capacity : 1 << 16;
		e->ops = realloc(e->ops, e->capacity * sizeof(e->ops[0]));
		if (!e->ops) {
			perror("realloc");
			exit(1);
		}
	}
	/* 100 ns apart: ten million records a second, as one ring buffer. */
	*ts += 100;
	e->ops[e->nr_ops++] = (struct op_record){
		.ts = *ts, .thread = thread, .target = target, .op = op
	};
}

/*
 * The mix: threads take one of a few locks each (a lock's holders hand it
 * to each other), pass messages over channels, wake each other; now and
 * then one forks a worker that takes a lock twice and exits, and is
 * joined.  One event in twenty records a span start, dropped 64 later.
 */
static void generate_mix(struct execution *e, uint64_t nr_threads,
			 size_t nr_events)
{
	uint64_t nr_locks = nr_threads / 4 + 1, ts = 0, next_worker = 1 << 20;
	uint64_t *last_holder = calloc(nr_locks, sizeof(*last_holder));
	size_t nr_stamps = 0;

	if (!last_holder) {
		perror("calloc");
		exit(1);
	}
	while (e->nr_ops < nr_events) {
		uint64_t t = 1 + ks_rng_below(&rng, nr_threads),
			 roll = ks_rng_below(&rng, 100);

		if (roll < 60) {
			/* Locks are mostly shared by neighbours. */
			uint64_t lock =
				(t / 4 + ks_rng_below(&rng, 2)) % nr_locks;

			emit(e, &ts, OP_ACQUIRE, t, lock);
			emit(e, &ts, OP_RELEASE, t, lock);
			e->nr_edges +=
				last_holder[lock] && last_holder[lock] != t;
			last_holder[lock] = t;
		} else if (roll < 75) {
			uint64_t peer = 1 + ks_rng_below(&rng, nr_threads);

			emit(e, &ts, OP_SEND, t, t);
			emit(e, &ts, OP_RECEIVE, peer, t);
			e->nr_edges++;
		} else if (roll < 90) {
			emit(e, &ts, OP_WAKEUP, t,
			     1 + ks_rng_below(&rng, nr_threads));
			e->nr_edges++;
		} else if (roll < 95) {
			uint64_t worker = next_worker++;
			uint64_t lock = ks_rng_below(&rng, nr_locks);

			emit(e, &ts, OP_FORK, t, worker);
			for (int i = 0; i < 2; i++) {
				emit(e, &ts, OP_ACQUIRE, worker, lock);
				emit(e, &ts, OP_RELEASE, worker, lock);
			}
			emit(e, &ts, OP_EXIT, worker, 0);
			emit(e, &ts, OP_JOIN, t, worker);
			/* The fork, the join, and the lock if held before. */
			e->nr_edges += 2 + (last_holder[lock] != 0);
			last_holder[lock] = worker;
		} else {
			emit(e, &ts, OP_STAMP, t, nr_stamps % 64);
			if (++nr_stamps > 64)
				emit(e, &ts, OP_DROP, 0, nr_stamps % 64);
		}
	}
	free(last_holder);
}

/* Delivered almost in order: one record in ten swaps with its successor. */
static void perturb(struct execution *e)
{
	for (size_t i = 0; i + 1 < e->nr_ops; i++)
		if (e->ops[i].thread != e->ops[i + 1].thread &&
		    ks_rng_below(&rng, 10) == 0) {
			struct op_record tmp = e->ops[i];

			e->ops[i] = e->ops[i + 1];
			e->ops[i + 1] = tmp;
			i++;
		}
}

/* Feeds an execution; stamp handles live in slots (the target field). */
static void feed(struct ks_hb *hb, const struct execution *e, uint64_t *slots)
{
	for (size_t i = 0; i < e->nr_ops; i++) {
		const struct op_record *r = &e->ops[i];

		switch (r->op) {
		case OP_RELEASE:
			ks_hb_release(hb, r->ts, r->thread, KS_HB_WORD,
				      r->target);
			break;
		case OP_ACQUIRE:
			ks_hb_acquire(hb, r->ts, r->thread, KS_HB_WORD,
				      r->target);
			break;
		case OP_SEND:
			ks_hb_release(hb, r->ts, r->thread, KS_HB_CHANNEL,
				      r->target);
			break;
		case OP_RECEIVE:
			ks_hb_acquire(hb, r->ts, r->thread, KS_HB_CHANNEL,
				      r->target);
			break;
		case OP_WAKEUP:
			ks_hb_wakeup(hb, r->ts, r->thread, r->target);
			break;
		case OP_FORK:
			ks_hb_fork(hb, r->ts, r->thread, r->target);
			break;
		case OP_EXIT:
			ks_hb_exit(hb, r->ts, r->thread, r->target);
			break;
		case OP_JOIN:
			ks_hb_joined(hb, r->ts, r->thread, r->target);
			break;
		case OP_STAMP:
			slots[r->target] = ks_hb_stamp(hb, r->ts, r->thread);
			break;
		case OP_DROP:
			ks_hb_stamp_drop(hb, slots[r->target]);
			break;
		}
	}
	ks_hb_flush(hb);
}

static struct ks_hb *new_engine(void)
{
	struct ks_hb *hb = ks_hb_new(NULL);

	if (!hb) {
		fprintf(stderr, "ks_hb_new failed\n");
		exit(1);
	}
	return hb;
}

static void bench_mix(uint64_t nr_threads, size_t nr_events)
{
	struct execution e = { 0 };
	double seconds[RUNS], s;
	struct ks_hb_stats stats;
	uint64_t slots[64];

	generate_mix(&e, nr_threads, nr_events);
	perturb(&e);
	for (int run = 0; run < RUNS; run++) {
		struct ks_hb *hb = new_engine();
		double start = cpu_seconds();

		feed(hb, &e, slots);
		seconds[run] = cpu_seconds() - start;
		ks_hb_get_stats(hb, &stats);
		ks_hb_free(hb);
	}
	sort_runs(seconds, RUNS);
	s = seconds[RUNS / 2];
	printf("%-8llu %9zu %9zu %7.3f %10.2f %9.2f %9.2f %9.2f %5llu\n",
	       (unsigned long long)nr_threads, e.nr_ops, e.nr_edges, s,
	       (double)e.nr_ops / s / 1e6, (double)e.nr_edges / s / 1e6,
	       (double)e.nr_edges / seconds[0] / 1e6,
	       (double)stats.merges / (double)e.nr_edges,
	       (unsigned long long)stats.lost);
	free(e.ops);
}

/* Heap in use, the large blocks malloc maps on their own included. */
static size_t heap_in_use(void)
{
	struct mallinfo2 info = mallinfo2();

	return info.uordblks + info.hblkhd;
}

/*
 * 10k threads forked by one and left running, each with a span start held
 * (a span in flight) while they synchronise.  Neighbours: each takes its
 * neighbours' locks a few times (clocks hold a few entries); shared: all
 * take turns on one lock (clocks fill to the bound).  The engine's fixed
 * tables (points, hold-back buffer, what was forgotten) are counted apart.
 */
static void bench_memory(const char *name, bool shared)
{
	const uint64_t nr_threads = 10000;
	size_t before = heap_in_use(), empty, after;
	struct ks_hb *hb = new_engine();
	struct ks_hb_stats stats;
	uint64_t ts = 0;

	empty = heap_in_use();
	for (uint64_t t = 1; t <= nr_threads; t++) {
		ks_hb_fork(hb, ts += 100, 1 << 30, t);
		ks_hb_stamp(hb, ts += 100, t);
	}
	for (int round = 0; round < 4; round++)
		for (uint64_t t = 1; t <= nr_threads; t++) {
			uint64_t lock = shared ? 0 : (t + (uint64_t)round) / 3;

			ks_hb_acquire(hb, ts += 100, t, KS_HB_WORD, lock);
			ks_hb_release(hb, ts += 100, t, KS_HB_WORD, lock);
		}
	ks_hb_flush(hb);
	after = heap_in_use();
	ks_hb_get_stats(hb, &stats);
	printf("%-24s %9.2f %9.2f %9.0f %8llu %8llu %9.1f\n", name,
	       (double)(empty - before) / (1 << 20),
	       (double)(after - empty) / (1 << 20),
	       (double)(after - empty) / (double)nr_threads,
	       (unsigned long long)stats.actors,
	       (unsigned long long)stats.clocks,
	       (double)stats.clock_entries / (double)stats.clocks);
	ks_hb_free(hb);
}

/*
 * Queries between random pairs of 10k span starts held at once, of 48
 * threads taking turns on a few dozen locks: fewer threads with points in
 * flight than a clock's bound, so the answers are exact.
 */
static void bench_queries(size_t nr_queries)
{
	const size_t nr_stamps = 10000;
	struct execution e = { 0 };
	uint64_t *stamps = calloc(nr_stamps, sizeof(*stamps));
	size_t *pairs = calloc(2 * nr_queries, sizeof(*pairs));
	double seconds[RUNS], s;
	size_t answers[KS_HB_EQUAL + 1] = { 0 };
	struct ks_hb *hb = new_engine();
	uint64_t slots[64], ts;

	if (!stamps || !pairs) {
		perror("calloc");
		exit(1);
	}
	generate_mix(&e, 48, 2000000);
	feed(hb, &e, slots);
	ts = e.ops[e.nr_ops - 1].ts;
	for (size_t i = 0; i < nr_stamps; i++) {
		uint64_t t = 1 + ks_rng_below(&rng, 48);

		ks_hb_acquire(hb, ts += 100, t, KS_HB_WORD,
			      ks_rng_below(&rng, 37));
		stamps[i] = ks_hb_stamp(hb, ts += 100, t);
		ks_hb_release(hb, ts += 100, t, KS_HB_WORD,
			      ks_rng_below(&rng, 37));
	}
	ks_hb_flush(hb);
	for (size_t i = 0; i < 2 * nr_queries; i++)
		pairs[i] = ks_rng_below(&rng, nr_stamps);
	for (int run = 0; run < RUNS; run++) {
		double start = cpu_seconds();

		memset(answers, 0, sizeof(answers));
		for (size_t i = 0; i < nr_queries; i++)
			answers[ks_hb_order(hb, stamps[pairs[2 * i]],
					    stamps[pairs[2 * i + 1]])]++;
		seconds[run] = cpu_seconds() - start;
	}
	sort_runs(seconds, RUNS);
	s = seconds[RUNS / 2];
	printf("%-10zu %7.3f %9.2f %9.2f   before/after %.0f%%, concurrent %.0f%%, unknown %.0f%%\n",
	       nr_queries, s, (double)nr_queries / s / 1e6,
	       (double)nr_queries / seconds[0] / 1e6,
	       100.0 * (double)(answers[KS_HB_BEFORE] + answers[KS_HB_AFTER]) /
		       (double)nr_queries,
	       100.0 * (double)answers[KS_HB_CONCURRENT] / (double)nr_queries,
	       100.0 * (double)answers[KS_HB_UNKNOWN] / (double)nr_queries);
	ks_hb_free(hb);
	free(stamps);
	free(pairs);
	free(e.ops);
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	size_t nr_events = (size_t)(4e6 * scale);

	if (scale <= 0) {
		fprintf(stderr, "usage: %s [scale > 0]\n", argv[0]);
		return 2;
	}
	printf("Edges through the engine, one core (CPU time: median of %d runs, "
	       "and best)\n",
	       RUNS);
	printf("%-8s %9s %9s %7s %10s %9s %9s %9s %5s\n", "threads", "events",
	       "edges", "cpu s", "Mevents/s", "Medges/s", "best", "merges/e",
	       "lost");
	bench_mix(8, nr_events);
	bench_mix(64, nr_events);
	bench_mix(1024, nr_events);
	printf("\nMemory for 10k live threads (heap in use, default bounds)\n");
	printf("%-24s %9s %9s %9s %8s %8s %9s\n", "threads sharing",
	       "fixed MiB", "10k MiB", "B/thread", "actors", "clocks",
	       "entries/c");
	bench_memory("a few neighbours' locks", false);
	bench_memory("one lock, all of them", true);
	printf("\nhb() queries between held points (10k points, 48 threads)\n");
	printf("%-10s %7s %9s %9s\n", "queries", "cpu s", "Mq/s", "best");
	bench_queries((size_t)(2e7 * scale));
	return 0;
}
