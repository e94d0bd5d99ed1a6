// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <utlist.h>

#include "base/mix64.h"
#include "hb/causality.h"
#include "hb/hb_point.h"
#include "model/model.h"

#define FUTEX_CMD_MASK 0x7f
#define FUTEX_PRIVATE_FLAG 128

/*
 * Releasers and joinable threads are remembered for links only; the
 * engine keeps its own, bounded, state.  Past these, the least recently
 * used go: a span then links to nothing rather than costing memory.
 */
#define KS_MAX_RELEASES 65536
#define KS_MAX_JOINABLE 65536
/*
 * Stream writes whose span a read may link to, by tag: a ring.  A write
 * older than the last KS_WRITE_SOURCES is linked to by nothing.
 */
#define KS_WRITE_SOURCES 65536

/* Who last released a sync object. */
struct ks_release {
	struct ks_release_key {
		uint64_t id;
		uint32_t kind; /* enum ks_hb_sync_kind */
		uint32_t _pad0;
	} key;
	struct ks_edge_source source;
	struct ks_release *prev, *next; /* least recently used first */
	UT_hash_handle hh;
};

/* A thread that a join can wait for: its clear_child_tid word. */
struct ks_joinable {
	struct ks_joinable_key {
		uint64_t word;
		uint32_t tgid;
		uint32_t _pad0;
	} key;
	uint64_t thread; /* engine key */
	uint32_t tid;
	uint64_t exit_ns; /* 0 while it runs */
	struct ks_span_ref last_span; /* at its exit */
	/* Joined before its exit record came: that record must do nothing. */
	bool joined;
	struct ks_joinable *prev, *next;
	UT_hash_handle hh;
};

/* A stream write, for the reads that learn it. */
struct ks_write_source {
	uint64_t tag; /* 0: none */
	struct ks_edge_source source;
};

struct ks_causality {
	struct ks_hb *hb;
	struct ks_write_source *writes; /* [KS_WRITE_SOURCES] */
	uint64_t last_tag;
	struct ks_release *releases, *release_lru;
	unsigned int nr_releases;
	struct ks_joinable *joinable, *joinable_lru;
	unsigned int nr_joinable;
};

const char *ks_edge_kind_name(enum ks_edge_kind kind)
{
	switch (kind) {
	case KS_EDGE_FUTEX_WAKE:
		return "futex_wake";
	case KS_EDGE_UNLOCK:
		return "unlock";
	case KS_EDGE_CHANNEL:
		return "channel";
	case KS_EDGE_WAKEUP:
		return "wakeup";
	case KS_EDGE_JOIN:
		return "join";
	case KS_EDGE_NONE:
		break;
	}
	return "none";
}

struct ks_causality *ks_causality_new(const struct ks_hb_config *cfg)
{
	struct ks_causality *causality = calloc(1, sizeof(*causality));

	if (!causality)
		return NULL;
	causality->hb = ks_hb_new(cfg);
	causality->writes =
		calloc(KS_WRITE_SOURCES, sizeof(*causality->writes));
	if (!causality->hb || !causality->writes) {
		ks_hb_free(causality->hb);
		free(causality->writes);
		free(causality);
		return NULL;
	}
	return causality;
}

void ks_causality_free(struct ks_causality *causality)
{
	struct ks_release *release, *release_tmp;
	struct ks_joinable *joinable, *joinable_tmp;

	if (!causality)
		return;
	HASH_ITER(hh, causality->releases, release, release_tmp) {
		HASH_DEL(causality->releases, release);
		free(release);
	}
	HASH_ITER(hh, causality->joinable, joinable, joinable_tmp) {
		HASH_DEL(causality->joinable, joinable);
		free(joinable);
	}
	ks_hb_free(causality->hb);
	free(causality->writes);
	free(causality);
}

/* A reused tid is a new thread: its start time tells them apart. */
static uint64_t ks_thread_key(uint32_t tid, uint64_t start_ticks)
{
	return start_ticks << 32 ^ tid;
}

static uint64_t ks_key_of(const struct ks_thread *thread)
{
	return ks_thread_key(thread->tid, thread->start_ticks);
}

/* A pid names one process from its fork until it is reaped. */
static uint64_t ks_process_key(uint32_t tgid)
{
	return 1ull << 63 | tgid;
}

/*
 * A private word is an address in one process's memory: named with the
 * process's serial, not its pid, so that a process reusing a dead one's pid
 * (or one that exec'd: the memory is new) starts with no history.
 */
static uint64_t ks_word_id(const struct ks_thread *thread, uint64_t uaddr,
			   uint32_t op)
{
	if (op & FUTEX_PRIVATE_FLAG)
		return ks_mix64(uaddr ^ ks_mix64(thread->process->serial));
	return ks_mix64(uaddr);
}

static void ks_release_note(struct ks_causality *causality,
			    enum ks_hb_sync_kind kind, uint64_t id,
			    const struct ks_thread *thread,
			    enum ks_edge_kind edge, uint64_t ts)
{
	struct ks_release_key key = { .id = id, .kind = kind };
	struct ks_release *release;

	HASH_FIND(hh, causality->releases, &key, sizeof(key), release);
	if (release) {
		DL_DELETE(causality->release_lru, release);
	} else if (causality->nr_releases >= KS_MAX_RELEASES) {
		release = causality->release_lru;
		DL_DELETE(causality->release_lru, release);
		HASH_DEL(causality->releases, release);
	} else {
		release = calloc(1, sizeof(*release));
		if (!release)
			return;
		causality->nr_releases++;
	}
	if (memcmp(&release->key, &key, sizeof(key))) {
		release->key = key;
		HASH_ADD(hh, causality->releases, key, sizeof(key), release);
	}
	release->source = (struct ks_edge_source){
		.kind = edge,
		.tid = thread->tid,
		.release_ns = ts,
		.span = thread->causal.last_span,
	};
	DL_APPEND(causality->release_lru, release);
}

static void ks_release(struct ks_causality *causality,
		       enum ks_hb_sync_kind kind, uint64_t id,
		       struct ks_thread *thread, enum ks_edge_kind edge,
		       uint64_t ts)
{
	ks_hb_release(causality->hb, ts, ks_key_of(thread), kind, id);
	ks_release_note(causality, kind, id, thread, edge, ts);
}

/*
 * Records from different CPUs arrive slightly out of time order: only a
 * release from before the acquire is its source.
 */
static void ks_acquire(struct ks_causality *causality,
		       enum ks_hb_sync_kind kind, uint64_t id,
		       struct ks_thread *thread, uint64_t ts)
{
	struct ks_release_key key = { .id = id, .kind = kind };
	struct ks_release *release;

	ks_hb_acquire(causality->hb, ts, ks_key_of(thread), kind, id);
	HASH_FIND(hh, causality->releases, &key, sizeof(key), release);
	if (!release || release->source.release_ns > ts)
		return;
	thread->causal.acquired = release->source;
	thread->causal.acquired.acquire_ns = ts;
}

static void ks_forget_release(struct ks_causality *causality,
			      enum ks_hb_sync_kind kind, uint64_t id)
{
	struct ks_release_key key = { .id = id, .kind = kind };
	struct ks_release *release;

	HASH_FIND(hh, causality->releases, &key, sizeof(key), release);
	if (!release)
		return;
	HASH_DEL(causality->releases, release);
	DL_DELETE(causality->release_lru, release);
	causality->nr_releases--;
	free(release);
}

static struct ks_joinable *ks_joinable_find(struct ks_causality *causality,
					    uint32_t tgid, uint64_t word)
{
	struct ks_joinable_key key = { .word = word, .tgid = tgid };
	struct ks_joinable *joinable;

	HASH_FIND(hh, causality->joinable, &key, sizeof(key), joinable);
	return joinable;
}

static void ks_joinable_drop(struct ks_causality *causality,
			     struct ks_joinable *joinable)
{
	HASH_DEL(causality->joinable, joinable);
	DL_DELETE(causality->joinable_lru, joinable);
	causality->nr_joinable--;
	free(joinable);
}

static void ks_joinable_add(struct ks_causality *causality, uint32_t tgid,
			    uint64_t word, uint32_t tid, uint64_t thread)
{
	struct ks_joinable *joinable = ks_joinable_find(causality, tgid, word);

	/* The word of a thread long gone, reused for a new one. */
	if (joinable)
		ks_joinable_drop(causality, joinable);
	if (causality->nr_joinable >= KS_MAX_JOINABLE)
		ks_joinable_drop(causality, causality->joinable_lru);
	joinable = calloc(1, sizeof(*joinable));
	if (!joinable)
		return;
	joinable->key = (struct ks_joinable_key){ .word = word, .tgid = tgid };
	joinable->thread = thread;
	joinable->tid = tid;
	HASH_ADD(hh, causality->joinable, key, sizeof(joinable->key), joinable);
	DL_APPEND(causality->joinable_lru, joinable);
	causality->nr_joinable++;
}

/* A direct edge: whatever woke the wakee at ts happened before its next. */
static struct ks_edge_source ks_woken_by(struct ks_causality *causality,
					 const struct ks_thread *waker,
					 const struct ks_thread *wakee,
					 enum ks_edge_kind kind, uint64_t ts)
{
	ks_hb_wakeup(causality->hb, ts, ks_key_of(waker), ks_key_of(wakee));
	return (struct ks_edge_source){
		.kind = kind,
		.tid = waker->tid,
		.release_ns = ts,
		.acquire_ns = ts,
		.span = waker->causal.last_span,
	};
}

static void ks_on_wake(struct ks_causality *causality, struct ks_model *model,
		       const struct ks_wake *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);

	if (!thread)
		return;
	ks_release(causality, KS_HB_WORD,
		   ks_word_id(thread, rec->uaddr, rec->op), thread,
		   KS_EDGE_FUTEX_WAKE, rec->hdr.ts_ns);
	/* Requeued waiters are woken from the second word later. */
	if (rec->uaddr2)
		ks_release(causality, KS_HB_WORD,
			   ks_word_id(thread, rec->uaddr2, rec->op), thread,
			   KS_EDGE_FUTEX_WAKE, rec->hdr.ts_ns);
}

/*
 * sched_process_exit fires after the exiting thread's mm_release() has
 * cleared its tid word and woken its joiner, which can be back before the
 * exit is recorded, and the engine needs the exit first.  Just before the
 * join returned is as good a moment: the thread did nothing after its
 * mm_release() that the engine could know of.
 */
static void ks_on_joined(struct ks_causality *causality,
			 struct ks_thread *thread, struct ks_joinable *exited,
			 uint64_t ts)
{
	bool exit_recorded = exited->exit_ns;

	if (!exit_recorded) {
		exited->exit_ns = ts - 1;
		ks_hb_exit(causality->hb, exited->exit_ns, exited->thread,
			   ks_process_key(thread->tgid));
	}
	ks_hb_joined(causality->hb, ts, ks_key_of(thread), exited->thread);
	thread->causal.acquired = (struct ks_edge_source){
		.kind = KS_EDGE_JOIN,
		.tid = exited->tid,
		.release_ns = exited->exit_ns,
		.acquire_ns = ts,
		.span = exited->last_span,
	};
	if (exit_recorded)
		ks_joinable_drop(causality, exited);
	else
		exited->joined = true;
}

/*
 * 0 is a wake, -EAGAIN a word that changed before the wait could sleep:
 * either way the waiter saw what a releaser wrote.  Timeouts and signals
 * carry nothing.
 */
static void ks_on_wait_end(struct ks_causality *causality,
			   struct ks_model *model,
			   const struct ks_wait_end *rec)
{
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_thread *waker;
	struct ks_joinable *exited;

	if (!thread || thread->tgid != rec->hdr.tgid ||
	    (rec->ret != 0 && rec->ret != -EAGAIN))
		return;
	/*
	 * Only the exit changes that word and wakes its waiters.  Its record
	 * may still be on its way from another CPU: the engine orders the
	 * two, and only the link misses the exited thread's span.
	 */
	exited = ks_joinable_find(causality, rec->hdr.tgid, rec->uaddr);
	if (exited) {
		ks_on_joined(causality, thread, exited, rec->hdr.ts_ns);
		return;
	}
	/* Taken from the scheduler: no word, the waker itself. */
	if (rec->waker_tid) {
		waker = ks_model_thread(model, rec->waker_tgid, rec->waker_tid);
		if (waker)
			thread->causal.acquired =
				ks_woken_by(causality, waker, thread,
					    KS_EDGE_FUTEX_WAKE, rec->hdr.ts_ns);
		return;
	}
	ks_acquire(causality, KS_HB_WORD,
		   ks_word_id(thread, rec->uaddr, rec->op), thread,
		   rec->hdr.ts_ns);
}

/* A stream write's source, under a new tag for the engine to hand back. */
static uint64_t ks_write_note(struct ks_causality *causality,
			      const struct ks_thread *thread, uint64_t ts)
{
	uint64_t tag = ++causality->last_tag;

	causality->writes[tag % KS_WRITE_SOURCES] = (struct ks_write_source){
		.tag = tag,
		.source = {
			.kind = KS_EDGE_CHANNEL,
			.tid = thread->tid,
			.release_ns = ts,
			.span = thread->causal.last_span,
		},
	};
	return tag;
}

static uint32_t ks_hb_io_flags(uint8_t flags)
{
	return (flags & KS_IO_COUNTED ? KS_HB_IO_COUNTED : 0) |
	       (flags & KS_IO_OVERLAPPED ? KS_HB_IO_OVERLAPPED : 0) |
	       (flags & KS_IO_PEEK ? KS_HB_IO_PEEK : 0);
}

/*
 * A pipe, FIFO or unix stream socket: a read learns the writes whose
 * bytes it returned, found by the engine once the records around it are
 * in order; its links come from there (ks_causality_sources).
 */
static void ks_on_stream_io(struct ks_causality *causality,
			    struct ks_thread *thread, uint64_t id,
			    const struct ks_io *rec)
{
	struct ks_hb_io io = {
		.units = (int64_t)rec->bytes,
		.flags = ks_hb_io_flags(rec->flags),
		.pending = rec->pending,
	};
	uint64_t ts = rec->hdr.ts_ns, key = ks_key_of(thread);

	switch (rec->op) {
	case KS_IO_WRITE:
		io.tag = ks_write_note(causality, thread, ts);
		ks_hb_stream_write(causality->hb, ts, key, id, &io);
		break;
	case KS_IO_WROTE:
		ks_hb_stream_wrote(causality->hb, ts, key, id, &io);
		break;
	case KS_IO_READ:
		ks_hb_stream_read(causality->hb, ts, key, id, &io);
		break;
	case KS_IO_COUNT:
		ks_hb_stream_count(causality->hb, ts, key, id, &io);
		break;
	}
}

static void ks_on_io(struct ks_causality *causality, struct ks_model *model,
		     const struct ks_io *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	/* The address alone would hand a dead object's history to the next. */
	uint64_t id = ks_mix64(rec->object ^ ks_mix64(rec->inode));

	if (rec->op == KS_IO_MADE) {
		ks_hb_sync_gone(causality->hb, rec->hdr.ts_ns, KS_HB_CHANNEL,
				id);
		ks_forget_release(causality, KS_HB_CHANNEL, id);
		return;
	}
	if (!thread)
		return;
	if (rec->flags & KS_IO_STREAM)
		ks_on_stream_io(causality, thread, id, rec);
	else if (rec->op == KS_IO_WRITE)
		ks_release(causality, KS_HB_CHANNEL, id, thread,
			   KS_EDGE_CHANNEL, rec->hdr.ts_ns);
	else
		ks_acquire(causality, KS_HB_CHANNEL, id, thread,
			   rec->hdr.ts_ns);
}

/* Taken from the scheduler: the waker of a blocked read, not its bytes. */
static void ks_on_read_woken(struct ks_causality *causality,
			     struct ks_model *model,
			     const struct ks_read_woken *rec)
{
	struct ks_thread *reader =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	struct ks_thread *waker =
		rec->waker_tid ? ks_model_thread(model, rec->waker_tgid,
						 rec->waker_tid) :
				 NULL;

	if (reader && waker)
		reader->causal.acquired =
			ks_woken_by(causality, waker, reader, KS_EDGE_CHANNEL,
				    rec->hdr.ts_ns);
}

static void ks_on_fork(struct ks_causality *causality, struct ks_model *model,
		       const struct ks_fork *rec)
{
	struct ks_thread *parent =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	uint64_t child = ks_thread_key(
		rec->child_tid,
		ks_table_ns_to_ticks(&model->table,
				     rec->child.start_boottime_ns));

	if (!parent)
		return;
	ks_hb_fork(causality->hb, rec->hdr.ts_ns, ks_key_of(parent), child);
	if ((rec->flags & KS_FORK_THREAD) && rec->clear_child_tid)
		ks_joinable_add(causality, rec->child_tgid,
				rec->clear_child_tid, rec->child_tid, child);
}

static void ks_on_exit(struct ks_causality *causality, struct ks_model *model,
		       const struct ks_exit *rec)
{
	uint64_t ticks = ks_table_ns_to_ticks(&model->table,
					      rec->task.start_boottime_ns);
	struct ks_thread *thread = ks_table_thread(&model->table, rec->hdr.tid);
	struct ks_joinable *joinable = NULL;

	if (thread && thread->start_ticks == ticks && thread->clear_child_tid)
		joinable = ks_joinable_find(causality, rec->hdr.tgid,
					    thread->clear_child_tid);
	if (!joinable) {
		ks_hb_exit(causality->hb, rec->hdr.ts_ns,
			   ks_thread_key(rec->hdr.tid, ticks),
			   ks_process_key(rec->hdr.tgid));
		return;
	}
	/* Its join came first and applied the exit already. */
	if (joinable->joined) {
		ks_joinable_drop(causality, joinable);
		return;
	}
	ks_hb_exit(causality->hb, rec->hdr.ts_ns, joinable->thread,
		   ks_process_key(rec->hdr.tgid));
	joinable->exit_ns = rec->hdr.ts_ns;
	joinable->last_span = thread->causal.last_span;
}

static void ks_on_reaped(struct ks_causality *causality, struct ks_model *model,
			 const struct ks_reaped *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);

	if (thread)
		ks_hb_reaped(causality->hb, rec->hdr.ts_ns, ks_key_of(thread),
			     ks_process_key(rec->child_tgid));
}

static void ks_on_wakeup(struct ks_causality *causality, struct ks_model *model,
			 const struct ks_wakeup *rec)
{
	struct ks_thread *waker =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	struct ks_thread *wakee =
		ks_model_thread(model, rec->wakee_tgid, rec->wakee_tid);

	if (waker && wakee)
		wakee->causal.woken =
			ks_woken_by(causality, waker, wakee, KS_EDGE_WAKEUP,
				    rec->hdr.ts_ns);
}

/* Precise mode sees the hand-offs that never enter the kernel. */
static void ks_on_lock_call(struct ks_causality *causality,
			    struct ks_model *model,
			    const struct ks_lock_call_rec *rec)
{
	struct ks_thread *thread =
		ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	uint64_t id;

	if (!thread)
		return;
	id = ks_word_id(thread, rec->mutex, FUTEX_PRIVATE_FLAG);
	if (rec->call == KS_CALL_DESTROY) {
		ks_hb_sync_gone(causality->hb, rec->hdr.ts_ns, KS_HB_WORD, id);
		ks_forget_release(causality, KS_HB_WORD, id);
		return;
	}
	if (rec->call == KS_CALL_UNLOCK)
		ks_release(causality, KS_HB_WORD, id, thread, KS_EDGE_UNLOCK,
			   rec->hdr.ts_ns);
}

static void ks_on_lock_result(struct ks_causality *causality,
			      struct ks_model *model,
			      const struct ks_lock_result *rec)
{
	struct ks_thread *thread;

	if (rec->ret)
		return;
	thread = ks_model_thread(model, rec->hdr.tgid, rec->hdr.tid);
	if (thread)
		ks_acquire(causality, KS_HB_WORD,
			   ks_word_id(thread, rec->mutex, FUTEX_PRIVATE_FLAG),
			   thread, rec->hdr.ts_ns);
}

void ks_causality_apply(struct ks_causality *causality, struct ks_model *model,
			const void *record)
{
	const struct ks_event_header *hdr = record;

	switch (hdr->kind) {
	case KS_EV_WAKE:
		ks_on_wake(causality, model, record);
		break;
	case KS_EV_WAIT_END:
		ks_on_wait_end(causality, model, record);
		break;
	case KS_EV_IO:
		ks_on_io(causality, model, record);
		break;
	case KS_EV_READ_WOKEN:
		ks_on_read_woken(causality, model, record);
		break;
	case KS_EV_FORK:
		ks_on_fork(causality, model, record);
		break;
	case KS_EV_EXIT:
		ks_on_exit(causality, model, record);
		break;
	case KS_EV_REAPED:
		ks_on_reaped(causality, model, record);
		break;
	case KS_EV_WAKEUP:
		ks_on_wakeup(causality, model, record);
		break;
	case KS_EV_LOCK_CALL:
		ks_on_lock_call(causality, model, record);
		break;
	case KS_EV_LOCK_RESULT:
		ks_on_lock_result(causality, model, record);
		break;
	}
}

void ks_causality_lost(struct ks_causality *causality, uint64_t from_ns,
		       uint64_t to_ns)
{
	ks_hb_lost(causality->hb, from_ns, to_ns);
}

void ks_causality_advance(struct ks_causality *causality, uint64_t now_ns)
{
	ks_hb_advance(causality->hb, now_ns);
}

void ks_causality_flush(struct ks_causality *causality)
{
	ks_hb_flush(causality->hb);
}

uint64_t ks_causality_stamp(struct ks_causality *causality,
			    struct ks_thread *thread, uint64_t ts_ns)
{
	return ks_hb_stamp(causality->hb, ts_ns, ks_key_of(thread));
}

int ks_causality_point(struct ks_causality *causality, uint64_t stamp,
		       char *text, size_t size, uint64_t *lamport)
{
	struct ks_hb_point point;
	int err = ks_hb_stamp_point(causality->hb, stamp, &point);

	if (err)
		return err;
	if (ks_hb_point_encode(&point, text, size) >= size)
		return -ENOSPC;
	*lamport = point.lamport;
	return 0;
}

size_t ks_causality_sources(const struct ks_causality *causality,
			    uint64_t stamp, struct ks_edge_source *sources,
			    size_t max)
{
	uint64_t tags[KS_CAUSALITY_SOURCES_MAX];
	size_t n, found = 0;

	if (max > KS_CAUSALITY_SOURCES_MAX)
		max = KS_CAUSALITY_SOURCES_MAX;
	n = ks_hb_stamp_sources(causality->hb, stamp, tags, max);
	for (size_t i = 0; i < n; i++) {
		const struct ks_write_source *write =
			&causality->writes[tags[i] % KS_WRITE_SOURCES];

		if (write->tag == tags[i])
			sources[found++] = write->source;
	}
	return found;
}

void ks_causality_stats(const struct ks_causality *causality,
			struct ks_hb_stats *stats)
{
	ks_hb_get_stats(causality->hb, stats);
}
