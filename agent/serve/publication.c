// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "serve/publication.h"

struct ks_doc {
	atomic_uint refs;
	const char *content_type; /* a string literal */
	size_t len;
	char *data;
};

struct ks_doc *ks_doc_adopt(const char *content_type, char *data, size_t len)
{
	struct ks_doc *doc = malloc(sizeof(*doc));

	if (!doc) {
		free(data);
		return NULL;
	}
	atomic_init(&doc->refs, 1);
	doc->content_type = content_type;
	doc->len = len;
	doc->data = data;
	return doc;
}

struct ks_doc *ks_doc_get(struct ks_doc *doc)
{
	if (doc)
		atomic_fetch_add_explicit(&doc->refs, 1, memory_order_relaxed);
	return doc;
}

void ks_doc_put(struct ks_doc *doc)
{
	if (!doc ||
	    atomic_fetch_sub_explicit(&doc->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(doc->data);
	free(doc);
}

const char *ks_doc_data(const struct ks_doc *doc)
{
	return doc->data;
}

size_t ks_doc_len(const struct ks_doc *doc)
{
	return doc->len;
}

const char *ks_doc_content_type(const struct ks_doc *doc)
{
	return doc->content_type;
}

struct ks_board {
	pthread_mutex_t lock;
	pthread_cond_t published; /* CLOCK_MONOTONIC */
	/* Under lock: */
	struct ks_doc *docs[KS_NR_DOCS];
	uint64_t generation;
	uint64_t published_mono_ns;
	bool closed;
	/* Lock-free, so the main thread only ever takes the lock to swap: */
	atomic_bool wanted;
	atomic_uint streams;
	atomic_int phase;
	atomic_uint_least64_t heartbeat_mono_ns;
};

struct ks_board *ks_board_new(void)
{
	struct ks_board *board = calloc(1, sizeof(*board));
	pthread_condattr_t attr;

	if (!board)
		return NULL;
	pthread_mutex_init(&board->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&board->published, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&board->wanted, false);
	atomic_init(&board->streams, 0);
	atomic_init(&board->phase, KS_PHASE_STARTING);
	atomic_init(&board->heartbeat_mono_ns, 0);
	return board;
}

void ks_board_free(struct ks_board *board)
{
	if (!board)
		return;
	for (int i = 0; i < KS_NR_DOCS; i++)
		ks_doc_put(board->docs[i]);
	pthread_cond_destroy(&board->published);
	pthread_mutex_destroy(&board->lock);
	free(board);
}

void ks_board_publish(struct ks_board *board, struct ks_doc *docs[KS_NR_DOCS],
		      uint64_t now_mono_ns)
{
	struct ks_doc *old[KS_NR_DOCS];

	pthread_mutex_lock(&board->lock);
	for (int i = 0; i < KS_NR_DOCS; i++) {
		old[i] = board->docs[i];
		board->docs[i] = docs[i];
	}
	board->generation++;
	board->published_mono_ns = now_mono_ns;
	atomic_store(&board->wanted, false);
	pthread_cond_broadcast(&board->published);
	pthread_mutex_unlock(&board->lock);
	/* Freed outside the lock; readers may still hold their own refs. */
	for (int i = 0; i < KS_NR_DOCS; i++)
		ks_doc_put(old[i]);
}

bool ks_board_wanted(struct ks_board *board)
{
	return atomic_load(&board->wanted) || atomic_load(&board->streams) > 0;
}

void ks_board_set_phase(struct ks_board *board, enum ks_phase phase)
{
	atomic_store(&board->phase, phase);
}

enum ks_phase ks_board_phase(struct ks_board *board)
{
	return atomic_load(&board->phase);
}

void ks_board_heartbeat(struct ks_board *board, uint64_t now_mono_ns)
{
	atomic_store_explicit(&board->heartbeat_mono_ns, now_mono_ns,
			      memory_order_relaxed);
}

uint64_t ks_board_last_heartbeat(struct ks_board *board)
{
	return atomic_load_explicit(&board->heartbeat_mono_ns,
				    memory_order_relaxed);
}

void ks_board_close(struct ks_board *board)
{
	pthread_mutex_lock(&board->lock);
	board->closed = true;
	pthread_cond_broadcast(&board->published);
	pthread_mutex_unlock(&board->lock);
}

bool ks_board_closed(struct ks_board *board)
{
	bool closed;

	pthread_mutex_lock(&board->lock);
	closed = board->closed;
	pthread_mutex_unlock(&board->lock);
	return closed;
}

static struct timespec ks_deadline(unsigned int wait_ms)
{
	uint64_t at = ks_now_mono_ns() + (uint64_t)wait_ms * 1000000ull;

	return (struct timespec){ .tv_sec = (time_t)(at / 1000000000ull),
				  .tv_nsec = (long)(at % 1000000000ull) };
}

/* With the lock held: waits for a generation past seen, or the deadline. */
static void ks_wait_past(struct ks_board *board, uint64_t seen,
			 const struct timespec *deadline)
{
	while (!board->closed && board->generation <= seen &&
	       !pthread_cond_timedwait(&board->published, &board->lock,
				       deadline))
		;
}

struct ks_doc *ks_board_take(struct ks_board *board, enum ks_doc_id id,
			     uint64_t max_age_ns, bool *stale,
			     uint64_t *generation)
{
	struct ks_doc *doc;

	pthread_mutex_lock(&board->lock);
	*stale = !board->generation ||
		 ks_now_mono_ns() - board->published_mono_ns > max_age_ns;
	if (*stale)
		atomic_store(&board->wanted, true);
	*generation = board->generation;
	doc = ks_doc_get(board->docs[id]);
	pthread_mutex_unlock(&board->lock);
	return doc;
}

struct ks_doc *ks_board_next_event(struct ks_board *board, uint64_t *seen)
{
	struct ks_doc *doc = NULL;

	pthread_mutex_lock(&board->lock);
	if (!board->closed && board->generation > *seen) {
		doc = ks_doc_get(board->docs[KS_DOC_EVENT]);
		*seen = board->generation;
	}
	pthread_mutex_unlock(&board->lock);
	return doc;
}

uint64_t ks_board_wait(struct ks_board *board, uint64_t seen,
		       unsigned int timeout_ms)
{
	struct timespec deadline = ks_deadline(timeout_ms);
	uint64_t generation;

	pthread_mutex_lock(&board->lock);
	ks_wait_past(board, seen, &deadline);
	generation = board->generation;
	pthread_mutex_unlock(&board->lock);
	return generation;
}

uint64_t ks_board_generation(struct ks_board *board)
{
	uint64_t generation;

	pthread_mutex_lock(&board->lock);
	generation = board->generation;
	pthread_mutex_unlock(&board->lock);
	return generation;
}

void ks_board_stream_opened(struct ks_board *board)
{
	atomic_fetch_add(&board->streams, 1);
}

void ks_board_stream_closed(struct ks_board *board)
{
	atomic_fetch_sub(&board->streams, 1);
}
