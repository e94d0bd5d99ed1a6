// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Sparse vector clocks: the lattice laws, checked over many random clocks
 * against a dense reference, from a fixed seed so a failure reproduces.
 */
#include "unit.h"

#include <stdlib.h>

#include "hb/vclock.h"
#include "rng.h"

/* Few actors and small counts: random clocks are often comparable. */
#define NR_ACTORS 10
#define MAX_COUNT 4
#define ROUNDS 3000

struct dense {
	uint64_t count[NR_ACTORS + 1]; /* index = actor; actor 0 unused */
};

static struct ks_rng rng;

static void random_dense(struct dense *d)
{
	memset(d, 0, sizeof(*d));
	for (uint64_t actor = 1; actor <= NR_ACTORS; actor++)
		/* About half the components absent: clocks stay sparse. */
		if (ks_rng_next(&rng) & 1)
			d->count[actor] = 1 + ks_rng_next(&rng) % MAX_COUNT;
}

static struct ks_vclock *from_dense(const struct dense *d)
{
	struct ks_vclock_entry entries[NR_ACTORS];
	struct ks_vclock *clock;
	size_t n = 0;

	for (uint64_t actor = 1; actor <= NR_ACTORS; actor++)
		if (d->count[actor])
			entries[n++] = (struct ks_vclock_entry){
				.actor = actor, .count = d->count[actor]
			};
	clock = ks_vclock_new(NULL, entries, n);
	assert_non_null(clock);
	return clock;
}

static void to_dense(const struct ks_vclock *clock, struct dense *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < ks_vclock_len(clock); i++) {
		const struct ks_vclock_entry *e = &clock->entries[i];

		assert_true(e->actor >= 1 && e->actor <= NR_ACTORS);
		assert_true(e->count > 0);
		/* Strictly ascending: no actor twice. */
		if (i)
			assert_true(clock->entries[i - 1].actor < e->actor);
		d->count[e->actor] = e->count;
	}
}

static struct ks_vclock *join(const struct ks_vclock *a,
			      const struct ks_vclock *b)
{
	struct ks_vclock_entry out[2 * NR_ACTORS];
	size_t n = ks_vclock_join(out, a, b, 0);
	struct ks_vclock *clock = ks_vclock_new(NULL, out, n);

	assert_non_null(clock);
	return clock;
}

static bool same(const struct ks_vclock *a, const struct ks_vclock *b)
{
	return ks_vclock_compare(a, b) == KS_VCLOCK_EQUAL;
}

static void test_bottom_and_absent_components_are_zero(void **state)
{
	const struct ks_vclock_entry e[] = { { 3, 7 } };
	struct ks_vclock *clock = ks_vclock_new(NULL, e, 1);

	assert_int_equal(ks_vclock_count(NULL, 3), 0);
	assert_int_equal(ks_vclock_count(clock, 3), 7);
	assert_int_equal(ks_vclock_count(clock, 2), 0);
	assert_int_equal(ks_vclock_count(clock, 4), 0);
	assert_true(ks_vclock_leq(NULL, clock));
	assert_false(ks_vclock_leq(clock, NULL));
	assert_int_equal(ks_vclock_compare(NULL, NULL), KS_VCLOCK_EQUAL);
	ks_vclock_put(NULL, clock);
}

/* Join is the componentwise maximum, whatever the sparsity pattern. */
static void test_join_matches_dense_maximum(void **state)
{
	rng.state = 1;
	for (int round = 0; round < ROUNDS; round++) {
		struct dense da, db, dj;
		struct ks_vclock *a, *b, *j;

		random_dense(&da);
		random_dense(&db);
		a = from_dense(&da);
		b = from_dense(&db);
		j = join(a, b);
		to_dense(j, &dj);
		for (int actor = 1; actor <= NR_ACTORS; actor++)
			assert_int_equal(dj.count[actor],
					 da.count[actor] > db.count[actor] ?
						 da.count[actor] :
						 db.count[actor]);
		ks_vclock_put(NULL, a);
		ks_vclock_put(NULL, b);
		ks_vclock_put(NULL, j);
	}
}

static void test_join_commutative_associative_idempotent(void **state)
{
	rng.state = 2;
	for (int round = 0; round < ROUNDS; round++) {
		struct dense d[3];
		struct ks_vclock *a, *b, *c, *ab, *ba, *ab_c, *bc, *a_bc, *aa;

		for (int i = 0; i < 3; i++)
			random_dense(&d[i]);
		a = from_dense(&d[0]);
		b = from_dense(&d[1]);
		c = from_dense(&d[2]);
		ab = join(a, b);
		ba = join(b, a);
		assert_true(same(ab, ba));
		ab_c = join(ab, c);
		bc = join(b, c);
		a_bc = join(a, bc);
		assert_true(same(ab_c, a_bc));
		aa = join(a, a);
		assert_true(same(aa, a));
		ks_vclock_put(NULL, a);
		ks_vclock_put(NULL, b);
		ks_vclock_put(NULL, c);
		ks_vclock_put(NULL, ab);
		ks_vclock_put(NULL, ba);
		ks_vclock_put(NULL, ab_c);
		ks_vclock_put(NULL, bc);
		ks_vclock_put(NULL, a_bc);
		ks_vclock_put(NULL, aa);
	}
}

/* a ⊔ b is above both, and below anything that is above both. */
static void test_join_is_least_upper_bound(void **state)
{
	rng.state = 3;
	for (int round = 0; round < ROUNDS; round++) {
		struct dense da, db, dx;
		struct ks_vclock *a, *b, *x, *ab, *upper;

		random_dense(&da);
		random_dense(&db);
		random_dense(&dx);
		a = from_dense(&da);
		b = from_dense(&db);
		x = from_dense(&dx);
		ab = join(a, b);
		upper = join(ab, x);
		assert_true(ks_vclock_leq(a, ab));
		assert_true(ks_vclock_leq(b, ab));
		assert_true(ks_vclock_leq(ab, upper));
		/* x is an upper bound of a and b only sometimes: check then. */
		if (ks_vclock_leq(a, x) && ks_vclock_leq(b, x))
			assert_true(ks_vclock_leq(ab, x));
		ks_vclock_put(NULL, a);
		ks_vclock_put(NULL, b);
		ks_vclock_put(NULL, x);
		ks_vclock_put(NULL, ab);
		ks_vclock_put(NULL, upper);
	}
}

static bool dense_leq(const struct dense *a, const struct dense *b)
{
	for (int actor = 1; actor <= NR_ACTORS; actor++)
		if (a->count[actor] > b->count[actor])
			return false;
	return true;
}

/*
 * compare() against the definition, and <= a partial order: reflexive,
 * antisymmetric, transitive; concurrent exactly when incomparable.
 */
static void test_order_is_a_partial_order(void **state)
{
	size_t comparable = 0, concurrent = 0;

	rng.state = 4;
	for (int round = 0; round < ROUNDS; round++) {
		struct dense d[3];
		struct ks_vclock *c[3];
		enum ks_vclock_order order;
		bool le, ge;

		for (int i = 0; i < 3; i++) {
			random_dense(&d[i]);
			c[i] = from_dense(&d[i]);
		}
		le = dense_leq(&d[0], &d[1]);
		ge = dense_leq(&d[1], &d[0]);
		assert_int_equal(ks_vclock_leq(c[0], c[1]), le);
		order = ks_vclock_compare(c[0], c[1]);
		if (le && ge)
			assert_int_equal(order, KS_VCLOCK_EQUAL);
		else if (le)
			assert_int_equal(order, KS_VCLOCK_BEFORE);
		else if (ge)
			assert_int_equal(order, KS_VCLOCK_AFTER);
		else
			assert_int_equal(order, KS_VCLOCK_CONCURRENT);
		if (le && ge)
			assert_memory_equal(&d[0], &d[1], sizeof(d[0]));
		assert_true(ks_vclock_leq(c[0], c[0]));
		if (ks_vclock_leq(c[0], c[1]) && ks_vclock_leq(c[1], c[2]))
			assert_true(ks_vclock_leq(c[0], c[2]));
		comparable += le || ge;
		concurrent += !le && !ge;
		for (int i = 0; i < 3; i++)
			ks_vclock_put(NULL, c[i]);
	}
	/* The generator must exercise both outcomes to prove anything. */
	assert_true(comparable > ROUNDS / 50);
	assert_true(concurrent > ROUNDS / 50);
}

/* Chains built by joins are totally ordered; transitivity on real chains. */
static void test_chains_of_joins_are_ordered(void **state)
{
	rng.state = 5;
	for (int round = 0; round < ROUNDS / 10; round++) {
		struct ks_vclock *chain[8];
		struct dense d;

		random_dense(&d);
		chain[0] = from_dense(&d);
		for (int i = 1; i < 8; i++) {
			struct ks_vclock *step;

			random_dense(&d);
			step = from_dense(&d);
			chain[i] = join(chain[i - 1], step);
			ks_vclock_put(NULL, step);
		}
		for (int i = 0; i < 8; i++)
			for (int k = i; k < 8; k++)
				assert_true(ks_vclock_leq(chain[i], chain[k]));
		for (int i = 0; i < 8; i++)
			ks_vclock_put(NULL, chain[i]);
	}
}

static void test_join_leaves_out_excluded_actor(void **state)
{
	const struct ks_vclock_entry ea[] = { { 1, 2 }, { 5, 1 } };
	const struct ks_vclock_entry eb[] = { { 2, 3 }, { 5, 9 } };
	struct ks_vclock *a = ks_vclock_new(NULL, ea, 2);
	struct ks_vclock *b = ks_vclock_new(NULL, eb, 2);
	struct ks_vclock_entry out[4];
	size_t n = ks_vclock_join(out, a, b, 5);

	assert_int_equal(n, 2);
	assert_int_equal(out[0].actor, 1);
	assert_int_equal(out[1].actor, 2);
	assert_int_equal(out[1].count, 3);
	n = ks_vclock_join(out, a, NULL, 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[1].count, 1);
	ks_vclock_put(NULL, a);
	ks_vclock_put(NULL, b);
}

static void test_raise_inserts_in_order_and_never_lowers(void **state)
{
	struct ks_vclock_entry e[4] = { { 4, 2 }, { 8, 5 } };
	size_t n = 2;

	n = ks_vclock_raise(e, n, (struct ks_vclock_entry){ 6, 1 });
	n = ks_vclock_raise(e, n, (struct ks_vclock_entry){ 1, 3 });
	assert_int_equal(n, 4);
	assert_int_equal(e[0].actor, 1);
	assert_int_equal(e[1].actor, 4);
	assert_int_equal(e[2].actor, 6);
	assert_int_equal(e[3].actor, 8);
	n = ks_vclock_raise(e, n, (struct ks_vclock_entry){ 8, 3 });
	assert_int_equal(n, 4);
	assert_int_equal(e[3].count, 5);
	n = ks_vclock_raise(e, n, (struct ks_vclock_entry){ 8, 7 });
	assert_int_equal(e[3].count, 7);
}

static void test_references_and_usage(void **state)
{
	const struct ks_vclock_entry e[] = { { 1, 1 }, { 2, 2 }, { 3, 3 } };
	struct ks_vclock_usage usage = { 0 };
	struct ks_vclock *clock = ks_vclock_new(&usage, e, 3);

	assert_int_equal(usage.clocks, 1);
	assert_int_equal(usage.entries, 3);
	assert_ptr_equal(ks_vclock_get(clock), clock);
	ks_vclock_put(&usage, clock);
	/* Still referenced: still counted, still readable. */
	assert_int_equal(usage.clocks, 1);
	assert_int_equal(ks_vclock_count(clock, 2), 2);
	ks_vclock_put(&usage, clock);
	assert_int_equal(usage.clocks, 0);
	assert_int_equal(usage.entries, 0);
	assert_null(ks_vclock_get(NULL));
	ks_vclock_put(&usage, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bottom_and_absent_components_are_zero),
		cmocka_unit_test(test_join_matches_dense_maximum),
		cmocka_unit_test(test_join_commutative_associative_idempotent),
		cmocka_unit_test(test_join_is_least_upper_bound),
		cmocka_unit_test(test_order_is_a_partial_order),
		cmocka_unit_test(test_chains_of_joins_are_ordered),
		cmocka_unit_test(test_join_leaves_out_excluded_actor),
		cmocka_unit_test(test_raise_inserts_in_order_and_never_lowers),
		cmocka_unit_test(test_references_and_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
