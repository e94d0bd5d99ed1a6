// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Streams in the happens-before engine: a read acquires the writes whose
 * bytes it returned and no others; writes that overlapped are learnt only
 * together; and whatever the engine cannot tell for sure (a count that
 * does not add up, reads at the same time, records out of order, bounds)
 * makes answers unknown, never wrong.
 */
#include "unit.h"

#include "hb_engine.h"

enum { A = 101, B, C, D };
enum { PIPE = 0x2000, PIPE2 };

#define COUNTED KS_HB_IO_COUNTED

static void write_in(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		     uint64_t stream, int64_t asked, uint64_t tag,
		     uint32_t flags, uint64_t pending)
{
	const struct ks_hb_io io = {
		.units = asked, .flags = flags, .pending = pending, .tag = tag
	};

	ks_hb_stream_write(hb, ts, thread, stream, &io);
}

static void write_back(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		       uint64_t stream, int64_t written, uint32_t flags,
		       uint64_t pending)
{
	const struct ks_hb_io io = { .units = written,
				     .flags = flags,
				     .pending = pending };

	ks_hb_stream_wrote(hb, ts, thread, stream, &io);
}

static void read_of(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		    uint64_t stream, int64_t units, uint32_t flags,
		    uint64_t pending)
{
	const struct ks_hb_io io = { .units = units,
				     .flags = flags,
				     .pending = pending };

	ks_hb_stream_read(hb, ts, thread, stream, &io);
}

/*
 * One write of n bytes, counted at its entry and its return (no read was
 * running), the object then holding pending_after.
 */
static void write_of(struct ks_hb *hb, uint64_t ts, uint64_t thread,
		     uint64_t stream, uint64_t n, uint64_t pending_after)
{
	write_in(hb, ts, thread, stream, (int64_t)n, ts, COUNTED,
		 pending_after - n);
	write_back(hb, ts + 1, thread, stream, (int64_t)n, COUNTED,
		   pending_after);
}

/*
 * The issue this design answers: a writer writes 1..N, each after a point
 * of its own; the reader, later, reads them one by one.  Each read is
 * after the points before its value's write, and concurrent with the
 * points before later writes, although those writes were made before it.
 */
static void test_a_read_learns_the_writes_of_its_bytes_only(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t before_write[10], read[10];

	for (int i = 0; i < 10; i++) {
		before_write[i] = ks_hb_stamp(hb, US(10 + 10 * i), A);
		write_of(hb, US(12 + 10 * i), A, PIPE, 1, (uint64_t)i + 1);
	}
	for (int i = 0; i < 10; i++) {
		read_of(hb, US(200 + 10 * i), B, PIPE, 1, COUNTED,
			9 - (uint64_t)i);
		read[i] = ks_hb_stamp(hb, US(200 + 10 * i), B);
	}
	ks_hb_flush(hb);

	for (int i = 0; i < 10; i++)
		for (int j = 0; j < 10; j++)
			assert_order(hb, before_write[j], read[i],
				     j <= i ? KS_HB_BEFORE : KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).stream_reads_unsure, 0);
	assert_int_equal(stats_of(hb).stream_segments, 0);
	ks_hb_free(hb);
}

/* A read of many writes' bytes learns them all, and links to each writer. */
static void test_a_read_of_two_writers_learns_both(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, c, read, tags[4];

	a = ks_hb_stamp(hb, US(10), A);
	c = ks_hb_stamp(hb, US(11), C);
	write_in(hb, US(12), A, PIPE, 3, 77, 0, 0);
	write_back(hb, US(13), A, PIPE, 3, COUNTED, 3);
	write_in(hb, US(14), C, PIPE, 2, 88, 0, 0);
	write_back(hb, US(15), C, PIPE, 2, COUNTED, 5);
	read_of(hb, US(20), B, PIPE, 5, COUNTED, 0);
	read = ks_hb_stamp(hb, US(20), B);
	ks_hb_flush(hb);

	assert_order(hb, a, read, KS_HB_BEFORE);
	assert_order(hb, c, read, KS_HB_BEFORE);
	/* The write of the last byte first. */
	assert_int_equal(ks_hb_stamp_sources(hb, read, tags, 4), 2);
	assert_int_equal(tags[0], 88);
	assert_int_equal(tags[1], 77);
	ks_hb_free(hb);
}

/* A write's bytes read in parts: each part learns it. */
static void test_parts_of_a_write_each_learn_it(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, first, second, tags[4];

	a = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 10, 10);
	read_of(hb, US(20), B, PIPE, 4, COUNTED, 6);
	first = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(30), C, PIPE, 6, COUNTED, 0);
	second = ks_hb_stamp(hb, US(30), C);
	ks_hb_flush(hb);

	assert_order(hb, a, first, KS_HB_BEFORE);
	assert_order(hb, a, second, KS_HB_BEFORE);
	assert_order(hb, first, second, KS_HB_CONCURRENT);
	assert_int_equal(ks_hb_stamp_sources(hb, second, tags, 4), 1);
	assert_int_equal(tags[0], US(11));
	ks_hb_free(hb);
}

/*
 * A blocked writer's bytes are read while its write is still in flight:
 * they can only be its, and the reads learn it before it returns.
 */
static void test_reads_during_a_long_write_learn_it(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, read;

	a = ks_hb_stamp(hb, US(10), A);
	write_in(hb, US(11), A, PIPE, 100, 1, COUNTED, 0);
	read_of(hb, US(20), B, PIPE, 40, COUNTED, 0);
	read = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(30), B, PIPE, 40, COUNTED, 20);
	write_back(hb, US(31), A, PIPE, 100, COUNTED, 20);
	read_of(hb, US(40), B, PIPE, 20, COUNTED, 0);
	ks_hb_flush(hb);

	assert_order(hb, a, read, KS_HB_BEFORE);
	assert_int_equal(stats_of(hb).stream_reads_unsure, 0);
	assert_int_equal(stats_of(hb).stream_segments, 0);
	ks_hb_free(hb);
}

/*
 * Two writes in flight at once may have appended in either order: a read
 * of part of their bytes learns neither; one of all of them learns both.
 */
static void test_overlapping_writes_are_learnt_only_together(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, c, part, rest, all;

	a = ks_hb_stamp(hb, US(10), A);
	c = ks_hb_stamp(hb, US(11), C);
	write_in(hb, US(12), A, PIPE, 1, 1, COUNTED, 0);
	write_in(hb, US(13), C, PIPE, 1, 2, 0, 0);
	write_back(hb, US(14), A, PIPE, 1, 0, 0);
	write_back(hb, US(15), C, PIPE, 1, COUNTED, 2);
	read_of(hb, US(20), B, PIPE, 1, COUNTED, 1);
	part = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(30), D, PIPE, 1, COUNTED, 0);
	rest = ks_hb_stamp(hb, US(30), D);
	/* Again, read at once. */
	write_in(hb, US(40), A, PIPE, 1, 1, 0, 0);
	write_in(hb, US(41), C, PIPE, 1, 2, 0, 0);
	write_back(hb, US(42), A, PIPE, 1, 0, 0);
	write_back(hb, US(43), C, PIPE, 1, COUNTED, 2);
	read_of(hb, US(50), D, PIPE, 2, COUNTED, 0);
	all = ks_hb_stamp(hb, US(50), D);
	ks_hb_flush(hb);

	assert_order(hb, a, part, KS_HB_UNKNOWN);
	assert_order(hb, c, part, KS_HB_UNKNOWN);
	assert_order(hb, a, rest, KS_HB_UNKNOWN);
	assert_order(hb, a, all, KS_HB_BEFORE);
	assert_order(hb, c, all, KS_HB_BEFORE);
	assert_int_equal(stats_of(hb).stream_reads_unsure, 2);
	ks_hb_free(hb);
}

/* Two readers at once: which took which bytes is not known. */
static void test_overlapped_reads_learn_nothing(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, b, c, a_later;

	a = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 1, 1);
	a_later = ks_hb_stamp(hb, US(13), A);
	write_of(hb, US(14), A, PIPE, 1, 2);
	read_of(hb, US(20), B, PIPE, 1, COUNTED | KS_HB_IO_OVERLAPPED, 0);
	b = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(21), C, PIPE, 1, COUNTED | KS_HB_IO_OVERLAPPED, 0);
	c = ks_hb_stamp(hb, US(21), C);
	ks_hb_flush(hb);

	assert_order(hb, a, b, KS_HB_UNKNOWN);
	assert_order(hb, a_later, c, KS_HB_UNKNOWN);
	/* The stream still knows where it is: the next read is exact. */
	write_of(hb, US(30), A, PIPE, 1, 1);
	read_of(hb, US(40), B, PIPE, 1, COUNTED, 0);
	b = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);
	assert_order(hb, a_later, b, KS_HB_BEFORE);
	ks_hb_free(hb);
}

/*
 * Bytes written by calls the engine never saw (io_uring, a process not
 * watched, data from before the agent): the count gives them away, the
 * read learns nothing, and the stream starts again from the count.
 */
static void test_unseen_bytes_are_never_taken_for_seen_ones(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, first, second, third;

	/* In step: a byte written and read. */
	write_of(hb, US(5), C, PIPE, 1, 1);
	read_of(hb, US(8), D, PIPE, 1, COUNTED, 0);
	/* 5 bytes from nowhere, then A's byte. */
	a = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 1, 6);
	read_of(hb, US(20), B, PIPE, 1, COUNTED, 5);
	first = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(30), B, PIPE, 4, COUNTED, 1);
	second = ks_hb_stamp(hb, US(30), B);
	read_of(hb, US(40), C, PIPE, 1, COUNTED, 0);
	third = ks_hb_stamp(hb, US(40), C);
	ks_hb_flush(hb);

	/*
	 * The write's count disagreed: the 5 bytes before its byte are of
	 * unknown origin, and their reads unsure.  Its own byte, the last
	 * one in the pipe when it returned, is still known.
	 */
	assert_order(hb, a, first, KS_HB_UNKNOWN);
	assert_order(hb, a, second, KS_HB_UNKNOWN);
	assert_order(hb, a, third, KS_HB_BEFORE);
	assert_true(stats_of(hb).stream_desyncs >= 1);
	/* In step again: a new write is learnt by the read of its byte. */
	a = ks_hb_stamp(hb, US(50), A);
	write_of(hb, US(51), A, PIPE, 1, 1);
	read_of(hb, US(60), D, PIPE, 1, COUNTED, 0);
	third = ks_hb_stamp(hb, US(60), D);
	ks_hb_flush(hb);
	assert_order(hb, a, third, KS_HB_BEFORE);
	ks_hb_free(hb);
}

/* Bytes someone else read unseen: the next read's bytes are later ones. */
static void test_unseen_reads_are_caught_by_the_count(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a1, a2, read;

	a1 = ks_hb_stamp(hb, US(10), A);
	write_in(hb, US(11), A, PIPE, 1, 1, COUNTED, 0);
	write_back(hb, US(12), A, PIPE, 1, 0, 0);
	a2 = ks_hb_stamp(hb, US(13), A);
	write_in(hb, US(14), C, PIPE, 1, 2, 0, 0);
	write_back(hb, US(15), C, PIPE, 1, 0, 0);
	/* The first byte went unseen; B read C's byte, nothing is left. */
	read_of(hb, US(20), B, PIPE, 1, COUNTED, 0);
	read = ks_hb_stamp(hb, US(20), B);
	ks_hb_flush(hb);

	assert_order(hb, a1, read, KS_HB_UNKNOWN);
	assert_order(hb, a2, read, KS_HB_UNKNOWN);
	/* That read's count started the stream again: empty, in step. */
	a1 = ks_hb_stamp(hb, US(30), D);
	write_in(hb, US(31), D, PIPE, 1, 3, 0, 0);
	write_back(hb, US(32), D, PIPE, 1, 0, 0);
	read_of(hb, US(40), B, PIPE, 1, COUNTED, 0);
	read = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);
	assert_order(hb, a1, read, KS_HB_BEFORE);
	ks_hb_free(hb);
}

/* A read the kernel could not count for is not trusted either. */
static void test_reads_that_cannot_be_checked_learn_nothing(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, read;

	a = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 1, 1);
	read_of(hb, US(20), B, PIPE, 1, 0, 0);
	read = ks_hb_stamp(hb, US(20), B);
	ks_hb_flush(hb);

	assert_order(hb, a, read, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/* A peek learns the writes of what it saw and leaves them there. */
static void test_a_peek_learns_without_consuming(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, peeked, read;

	a = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 4, 4);
	read_of(hb, US(20), B, PIPE, 4, COUNTED | KS_HB_IO_PEEK, 4);
	peeked = ks_hb_stamp(hb, US(20), B);
	read_of(hb, US(30), C, PIPE, 4, COUNTED, 0);
	read = ks_hb_stamp(hb, US(30), C);
	ks_hb_flush(hb);

	assert_order(hb, a, peeked, KS_HB_BEFORE);
	assert_order(hb, a, read, KS_HB_BEFORE);
	ks_hb_free(hb);
}

/*
 * A writer's next event came, but not its write's return: that record was
 * lost, and the stream does not know how much the write appended.
 */
static void test_a_lost_return_is_not_guessed(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t a, a_later, read;

	a = ks_hb_stamp(hb, US(10), A);
	write_in(hb, US(11), A, PIPE, 0, 1, COUNTED, 0);
	ks_hb_release(hb, US(20), A, KS_HB_WORD, 1);
	a_later = ks_hb_stamp(hb, US(21), A);
	write_of(hb, US(22), A, PIPE, 1, 6);
	read_of(hb, US(30), B, PIPE, 1, COUNTED, 5);
	read = ks_hb_stamp(hb, US(30), B);
	ks_hb_flush(hb);

	assert_order(hb, a, read, KS_HB_UNKNOWN);
	assert_order(hb, a_later, read, KS_HB_UNKNOWN);
	assert_true(stats_of(hb).stream_desyncs >= 1);
	ks_hb_free(hb);
}

/*
 * A pipe closed for good and another at the same id: nothing of the old
 * one reaches the new one's reads, whatever it held.
 */
static void test_a_closed_stream_starts_afresh(void **state)
{
	struct ks_hb *hb = engine(NULL);
	uint64_t old, fresh, read;

	old = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 5, 5);
	ks_hb_sync_gone(hb, US(20), KS_HB_STREAM, PIPE);
	fresh = ks_hb_stamp(hb, US(30), C);
	write_of(hb, US(31), C, PIPE, 1, 1);
	read_of(hb, US(40), B, PIPE, 1, COUNTED, 0);
	read = ks_hb_stamp(hb, US(40), B);
	ks_hb_flush(hb);

	assert_order(hb, fresh, read, KS_HB_BEFORE);
	assert_order(hb, old, read, KS_HB_CONCURRENT);
	assert_int_equal(stats_of(hb).stream_segments, 0);
	ks_hb_free(hb);
}

/*
 * A reader that waits before anything is written: its read's entry counts
 * the object, and the stream first seen there is in step before the write
 * its read returns.  Without the count, that read learns nothing.
 */
static void test_a_count_at_a_read_entry_puts_a_stream_in_step(void **state)
{
	const struct ks_hb_io empty = { .flags = COUNTED, .pending = 0 };

	for (int counted = 0; counted < 2; counted++) {
		struct ks_hb *hb = engine(NULL);
		uint64_t before, read;

		if (counted)
			ks_hb_stream_count(hb, US(5), B, PIPE, &empty);
		before = ks_hb_stamp(hb, US(10), A);
		/* B waits in its read: no count at the write's entry. */
		write_in(hb, US(11), A, PIPE, 1, 11, 0, 0);
		write_back(hb, US(12), A, PIPE, 1, 0, 0);
		read_of(hb, US(13), B, PIPE, 1, COUNTED, 0);
		read = ks_hb_stamp(hb, US(13), B);
		ks_hb_flush(hb);

		assert_order(hb, before, read,
			     counted ? KS_HB_BEFORE : KS_HB_UNKNOWN);
		assert_int_equal(stats_of(hb).stream_reads_unsure, !counted);
		ks_hb_free(hb);
	}
}

/* A count that does not add up puts nothing in step. */
static void test_a_count_that_does_not_add_up_is_not_trusted(void **state)
{
	const struct ks_hb_io wrong = { .flags = COUNTED, .pending = 3 };
	struct ks_hb *hb = engine(NULL);
	uint64_t before, read;

	before = ks_hb_stamp(hb, US(10), A);
	write_of(hb, US(11), A, PIPE, 1, 1);
	/* Says 3 while the stream knows of 1: bytes it never saw. */
	ks_hb_stream_count(hb, US(20), B, PIPE, &wrong);
	read_of(hb, US(30), B, PIPE, 1, COUNTED, 2);
	read = ks_hb_stamp(hb, US(30), B);
	ks_hb_flush(hb);

	assert_order(hb, before, read, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/* Records later than the window cannot be placed: unknown, not wrong. */
static void test_late_stream_records_make_answers_unknown(void **state)
{
	const struct ks_hb_config cfg = { .reorder_window_ns = US(5) };
	struct ks_hb *hb = engine(&cfg);
	uint64_t a, c, read;

	a = ks_hb_stamp(hb, US(10), A);
	c = ks_hb_stamp(hb, US(11), C);
	write_of(hb, US(30), C, PIPE, 1, 1);
	read_of(hb, US(40), B, PIPE, 1, COUNTED, 1);
	read = ks_hb_stamp(hb, US(40), B);
	/* A's write, before C's, arrives after the read was applied. */
	write_of(hb, US(20), A, PIPE, 1, 2);
	ks_hb_flush(hb);

	assert_order(hb, c, read, KS_HB_UNKNOWN);
	assert_order(hb, a, read, KS_HB_UNKNOWN);
	ks_hb_free(hb);
}

/*
 * More writes unread than a stream keeps: the oldest merge into bytes of
 * unknown origin; reading them is unknown, the newer ones stay exact.
 */
static void test_a_stream_over_its_bound_is_unsure_never_wrong(void **state)
{
	const struct ks_hb_config cfg = { .max_segments = 8 };
	struct ks_hb *hb = engine(&cfg);
	uint64_t before[20], read[20];

	for (int i = 0; i < 20; i++) {
		before[i] = ks_hb_stamp(hb, US(10 + 10 * i), i % 2 ? A : C);
		write_of(hb, US(12 + 10 * i), i % 2 ? A : C, PIPE, 1,
			 (uint64_t)i + 1);
	}
	for (int i = 0; i < 20; i++) {
		read_of(hb, US(300 + 10 * i), B, PIPE, 1, COUNTED,
			19 - (uint64_t)i);
		read[i] = ks_hb_stamp(hb, US(300 + 10 * i), B);
	}
	ks_hb_flush(hb);

	for (int i = 0; i < 20; i++)
		for (int j = 0; j < 20; j++) {
			enum ks_hb_order got =
				ks_hb_order(hb, before[j], read[i]);
			enum ks_hb_order truth =
				j <= i ? KS_HB_BEFORE : KS_HB_CONCURRENT;

			if (got != KS_HB_UNKNOWN)
				assert_int_equal(got, truth);
		}
	assert_order(hb, before[19], read[19], KS_HB_BEFORE);
	assert_order(hb, before[0], read[0], KS_HB_UNKNOWN);
	assert_true(stats_of(hb).stream_segments <= 8);
	ks_hb_free(hb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_a_read_learns_the_writes_of_its_bytes_only),
		cmocka_unit_test(test_a_read_of_two_writers_learns_both),
		cmocka_unit_test(test_parts_of_a_write_each_learn_it),
		cmocka_unit_test(test_reads_during_a_long_write_learn_it),
		cmocka_unit_test(
			test_overlapping_writes_are_learnt_only_together),
		cmocka_unit_test(test_overlapped_reads_learn_nothing),
		cmocka_unit_test(
			test_unseen_bytes_are_never_taken_for_seen_ones),
		cmocka_unit_test(test_unseen_reads_are_caught_by_the_count),
		cmocka_unit_test(
			test_reads_that_cannot_be_checked_learn_nothing),
		cmocka_unit_test(test_a_peek_learns_without_consuming),
		cmocka_unit_test(test_a_lost_return_is_not_guessed),
		cmocka_unit_test(test_a_closed_stream_starts_afresh),
		cmocka_unit_test(
			test_a_count_at_a_read_entry_puts_a_stream_in_step),
		cmocka_unit_test(
			test_a_count_that_does_not_add_up_is_not_trusted),
		cmocka_unit_test(test_late_stream_records_make_answers_unknown),
		cmocka_unit_test(
			test_a_stream_over_its_bound_is_unsure_never_wrong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
