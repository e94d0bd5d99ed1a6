// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hb/hb_point.h"

#define KS_HB_POINT_VERSION 1

const char *ks_hb_order_name(enum ks_hb_order order)
{
	switch (order) {
	case KS_HB_BEFORE:
		return "before";
	case KS_HB_AFTER:
		return "after";
	case KS_HB_CONCURRENT:
		return "concurrent";
	case KS_HB_EQUAL:
		return "equal";
	default:
		return "unknown";
	}
}

enum ks_hb_seen {
	KS_HB_UNSEEN,
	KS_HB_SEEN,
	KS_HB_MAYBE_SEEN,
};

/* Whether from happened before to, as far as to's clock can tell. */
static enum ks_hb_seen ks_hb_point_seen(const struct ks_hb_point *to,
					const struct ks_hb_point *from)
{
	if (ks_vclock_count(to->clock, from->actor) >= from->count)
		return to->doubtful_before && from->ts <= to->doubtful_before ?
			       KS_HB_MAYBE_SEEN :
			       KS_HB_SEEN;
	/*
	 * The component may be one that was lost: only an event later than
	 * everything lost is surely unseen.
	 */
	if (to->unknown_before && from->ts <= to->unknown_before)
		return KS_HB_MAYBE_SEEN;
	return KS_HB_UNSEEN;
}

enum ks_hb_order ks_hb_point_order(const struct ks_hb_point *a,
				   const struct ks_hb_point *b)
{
	enum ks_hb_seen a_in_b, b_in_a;

	/* Program order: the counts of one actor are its events in order. */
	if (a->actor == b->actor) {
		if (a->count == b->count)
			return KS_HB_EQUAL;
		return a->count < b->count ? KS_HB_BEFORE : KS_HB_AFTER;
	}
	a_in_b = ks_hb_point_seen(b, a);
	b_in_a = ks_hb_point_seen(a, b);
	/* Each before the other: not clocks of one history. */
	if (a_in_b == KS_HB_SEEN && b_in_a == KS_HB_SEEN)
		return KS_HB_UNKNOWN;
	if (a_in_b == KS_HB_SEEN)
		return KS_HB_BEFORE;
	if (b_in_a == KS_HB_SEEN)
		return KS_HB_AFTER;
	if (a_in_b == KS_HB_UNSEEN && b_in_a == KS_HB_UNSEEN)
		return KS_HB_CONCURRENT;
	return KS_HB_UNKNOWN;
}

static const char ks_base64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Bytes in, base64url characters out, counted even past the buffer. */
struct ks_b64_writer {
	char *text;
	size_t size;
	size_t len;
	uint32_t bits;
	unsigned int nr_bits;
};

static void ks_b64_emit(struct ks_b64_writer *w, unsigned int sextet)
{
	if (w->len + 1 < w->size)
		w->text[w->len] = ks_base64url[sextet & 63];
	w->len++;
}

static void ks_b64_put_byte(struct ks_b64_writer *w, uint8_t byte)
{
	w->bits = (w->bits << 8) | byte;
	w->nr_bits += 8;
	while (w->nr_bits >= 6) {
		w->nr_bits -= 6;
		ks_b64_emit(w, w->bits >> w->nr_bits);
	}
}

static void ks_b64_put_varint(struct ks_b64_writer *w, uint64_t value)
{
	while (value >= 0x80) {
		ks_b64_put_byte(w, (uint8_t)(value | 0x80));
		value >>= 7;
	}
	ks_b64_put_byte(w, (uint8_t)value);
}

static void ks_b64_finish(struct ks_b64_writer *w)
{
	if (w->nr_bits)
		ks_b64_emit(w, w->bits << (6 - w->nr_bits));
	if (w->size)
		w->text[w->len < w->size ? w->len : w->size - 1] = '\0';
}

/* A time at or before ts, as its distance back from ts; 0 for none. */
static void ks_b64_put_mark(struct ks_b64_writer *w, uint64_t ts, uint64_t mark)
{
	if (mark > ts)
		mark = ts;
	ks_b64_put_varint(w, mark ? ts - mark + 1 : 0);
}

size_t ks_hb_point_encode(const struct ks_hb_point *point, char *text,
			  size_t size)
{
	struct ks_b64_writer w = { .text = text, .size = size };
	uint32_t previous_slot = 0;

	ks_b64_put_byte(&w, KS_HB_POINT_VERSION);
	ks_b64_put_varint(&w, point->ts);
	ks_b64_put_varint(&w, KS_HB_ACTOR_SLOT(point->actor));
	ks_b64_put_varint(&w, KS_HB_ACTOR_GEN(point->actor));
	ks_b64_put_varint(&w, point->count);
	ks_b64_put_varint(&w, point->lamport);
	ks_b64_put_mark(&w, point->ts, point->unknown_before);
	ks_b64_put_mark(&w, point->ts, point->doubtful_before);
	ks_b64_put_varint(&w, ks_vclock_len(point->clock));
	for (size_t i = 0; i < ks_vclock_len(point->clock); i++) {
		const struct ks_vclock_entry *e = &point->clock->entries[i];
		uint32_t slot = KS_HB_ACTOR_SLOT(e->actor);

		ks_b64_put_varint(&w, slot - previous_slot);
		ks_b64_put_varint(&w, KS_HB_ACTOR_GEN(e->actor));
		ks_b64_put_varint(&w, e->count);
		previous_slot = slot;
	}
	ks_b64_finish(&w);
	return w.len;
}

struct ks_b64_reader {
	const char *text;
	uint32_t bits;
	unsigned int nr_bits;
};

static int ks_b64_value(char c)
{
	const char *at = c ? strchr(ks_base64url, c) : NULL;

	return at ? (int)(at - ks_base64url) : -1;
}

static bool ks_b64_get_byte(struct ks_b64_reader *r, uint8_t *byte)
{
	while (r->nr_bits < 8) {
		int sextet = ks_b64_value(*r->text);

		if (sextet < 0)
			return false;
		r->text++;
		r->bits = (r->bits << 6) | (uint32_t)sextet;
		r->nr_bits += 6;
	}
	r->nr_bits -= 8;
	*byte = (uint8_t)(r->bits >> r->nr_bits);
	return true;
}

static bool ks_b64_get_varint(struct ks_b64_reader *r, uint64_t *value)
{
	uint8_t byte;

	*value = 0;
	for (unsigned int shift = 0; shift < 64; shift += 7) {
		if (!ks_b64_get_byte(r, &byte))
			return false;
		/* The tenth byte may only carry the top bit of 64. */
		if (shift == 63 && byte > 1)
			return false;
		*value |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return true;
	}
	return false;
}

/* All text read, and the bits left over are padding: zeros. */
static bool ks_b64_at_end(const struct ks_b64_reader *r)
{
	return !*r->text && r->nr_bits < 6 &&
	       !(r->bits & ((1u << r->nr_bits) - 1));
}

static bool ks_b64_get_mark(struct ks_b64_reader *r, uint64_t ts,
			    uint64_t *mark)
{
	uint64_t back;

	if (!ks_b64_get_varint(r, &back) || (back && back - 1 > ts))
		return false;
	*mark = back ? ts - (back - 1) : 0;
	return true;
}

static bool ks_hb_get_actor(struct ks_b64_reader *r, uint64_t slot,
			    uint64_t *actor)
{
	uint64_t gen;

	if (!ks_b64_get_varint(r, &gen) || slot > UINT32_MAX ||
	    gen > UINT32_MAX)
		return false;
	*actor = KS_HB_ACTOR(slot, gen);
	return *actor != 0;
}

int ks_hb_point_decode(const char *text, struct ks_hb_point *point,
		       struct ks_vclock **clock)
{
	struct ks_b64_reader r = { .text = text };
	struct ks_vclock_entry *entries = NULL;
	uint64_t slot, n;
	uint8_t version;
	int err = -EINVAL;

	memset(point, 0, sizeof(*point));
	*clock = NULL;
	if (!ks_b64_get_byte(&r, &version) || version != KS_HB_POINT_VERSION ||
	    !ks_b64_get_varint(&r, &point->ts) ||
	    !ks_b64_get_varint(&r, &slot) ||
	    !ks_hb_get_actor(&r, slot, &point->actor) ||
	    !ks_b64_get_varint(&r, &point->count) || !point->count ||
	    !ks_b64_get_varint(&r, &point->lamport) ||
	    !ks_b64_get_mark(&r, point->ts, &point->unknown_before) ||
	    !ks_b64_get_mark(&r, point->ts, &point->doubtful_before) ||
	    !ks_b64_get_varint(&r, &n))
		goto cleanup;
	/* Each entry takes three bytes at least: n cannot exceed the text. */
	if (n > strlen(r.text))
		goto cleanup;
	entries = malloc((n ? n : 1) * sizeof(*entries));
	if (!entries) {
		err = -ENOMEM;
		goto cleanup;
	}
	slot = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta;

		if (!ks_b64_get_varint(&r, &delta) || delta > UINT32_MAX)
			goto cleanup;
		slot += delta;
		if (!ks_hb_get_actor(&r, slot, &entries[i].actor) ||
		    !ks_b64_get_varint(&r, &entries[i].count) ||
		    !entries[i].count || entries[i].actor == point->actor ||
		    (i && entries[i].actor <= entries[i - 1].actor))
			goto cleanup;
	}
	if (!ks_b64_at_end(&r))
		goto cleanup;
	*clock = ks_vclock_new(NULL, entries, n);
	point->clock = *clock;
	err = *clock ? 0 : -ENOMEM;
cleanup:
	free(entries);
	return err;
}
