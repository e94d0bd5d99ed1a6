/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where the main thread hands documents to the HTTP server's threads.
 *
 * The model belongs to the main thread and is never locked.  Instead, the
 * main thread renders what the server serves (JSON documents, Prometheus
 * text) into immutable, reference-counted buffers and publishes the whole
 * set at once.  A mutex guards only the swap of pointers and the taking of
 * a reference, so the main thread never waits for a request, and a request
 * never sees the model.
 *
 * Publication is on demand: a request that finds the published set older
 * than it wants raises a flag, and its server puts it aside until the main
 * thread publishes on its next tick (or, briefly, not).  An idle agent
 * renders nothing.
 */
#ifndef KS_PUBLICATION_H
#define KS_PUBLICATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ks_doc_id {
	KS_DOC_GRAPH,
	KS_DOC_LOCKS,
	KS_DOC_DEADLOCKS,
	KS_DOC_HISTORY, /* every finding kept, restored ones included */
	KS_DOC_TRENDS, /* the last hour of the most contended locks */
	KS_DOC_HTTP, /* HTTP rate, errors and duration per service and route */
	KS_DOC_HEALTH,
	KS_DOC_PROCESSES,
	KS_DOC_METRICS,
	KS_DOC_WAITS, /* long waits nobody is known to hold, with stacks */
	KS_DOC_EVENT, /* the Server-Sent Event announcing this set */
	KS_NR_DOCS,
};

/* An immutable buffer with its content type. */
struct ks_doc;

/* Takes data, a malloc()ed buffer of len bytes; NULL (data freed) on ENOMEM. */
struct ks_doc *ks_doc_adopt(const char *content_type, char *data, size_t len);
struct ks_doc *ks_doc_get(struct ks_doc *doc);
/* Drops a reference; thread-safe; NULL is fine. */
void ks_doc_put(struct ks_doc *doc);
const char *ks_doc_data(const struct ks_doc *doc);
size_t ks_doc_len(const struct ks_doc *doc);
const char *ks_doc_content_type(const struct ks_doc *doc);

enum ks_phase {
	KS_PHASE_STARTING, /* BPF not attached or /proc not scanned yet */
	KS_PHASE_READY,
	KS_PHASE_STOPPING,
};

struct ks_board;

struct ks_board *ks_board_new(void);
/* After every reader is gone. */
void ks_board_free(struct ks_board *board);

/* --- The main thread's side: none of these wait for a reader. */

/*
 * Publishes a full set: takes the references in docs (NULL entries keep
 * nothing for that id) and wakes whoever waits.
 */
void ks_board_publish(struct ks_board *board, struct ks_doc *docs[KS_NR_DOCS],
		      uint64_t now_mono_ns);
/* Whether a reader asked for a fresher set, or an event stream is open. */
bool ks_board_wanted(struct ks_board *board);
void ks_board_set_phase(struct ks_board *board, enum ks_phase phase);
/* The main loop went round: what /healthz looks at. */
void ks_board_heartbeat(struct ks_board *board, uint64_t now_mono_ns);
/* Wakes every waiting reader for good: the server is stopping. */
void ks_board_close(struct ks_board *board);

/*
 * --- The readers' side, on the HTTP server's threads.  None of these
 * waits but ks_board_wait(): a server thread serves many connections.
 */

/*
 * A reference to the published document id (NULL when nothing was ever
 * published, or id was not), and the set's generation.  When the set is
 * older than max_age_ns, *stale is set and a fresh one is asked for: the
 * caller may wait for a generation past *generation, then read again.
 */
struct ks_doc *ks_board_take(struct ks_board *board, enum ks_doc_id id,
			     uint64_t max_age_ns, bool *stale,
			     uint64_t *generation);

/*
 * The event document of a set newer than generation *seen, a reference,
 * with *seen moved to it; NULL when there is none yet (or the board is
 * closed).
 */
struct ks_doc *ks_board_next_event(struct ks_board *board, uint64_t *seen);

/*
 * Waits up to timeout_ms for a set newer than generation seen, or for the
 * board to close; returns the generation then.
 */
uint64_t ks_board_wait(struct ks_board *board, uint64_t seen,
		       unsigned int timeout_ms);
uint64_t ks_board_generation(struct ks_board *board);
bool ks_board_closed(struct ks_board *board);
/* Counts open event streams: while one is, every tick may publish. */
void ks_board_stream_opened(struct ks_board *board);
void ks_board_stream_closed(struct ks_board *board);

enum ks_phase ks_board_phase(struct ks_board *board);
/* When the main loop last went round; 0 before it first did. */
uint64_t ks_board_last_heartbeat(struct ks_board *board);

#endif /* KS_PUBLICATION_H */
