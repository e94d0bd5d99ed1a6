// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>
#include <utlist.h>

#include "base/trace_ids.h"
#include "httptrace/conn_table.h"
#include "httptrace/http_metrics.h"
#include "httptrace/http_spans.h"
#include "httptrace/sock_record.h"

/* Parent chains longer than this are not followed (nor made). */
#define KS_HTTP_MAX_DEPTH 64
/*
 * Ended exchanges kept for reuse.  An exchange is over 1 KiB: glibc
 * consolidates its free lists before every allocation that large, which,
 * once per request, costs more than anything else done for it.  A server
 * span within the node is held until the end of the drain that brought
 * it, so a whole drain's requests are in flight at once: enough for a
 * 20 ms drain at 50,000 requests per second (1.5 MiB at most).
 */
#define KS_HTTP_SPARE_EXCHANGES 1024

struct ks_http_thread;
struct ks_http_conn;

/*
 * One request and its response.  Its trace context is final once its trace
 * id can no longer change.  Until then it either waits for its peer
 * client's request (awaits), or takes its trace from a parent exchange that
 * is not final yet (parent).  It is handed over once ended and final.
 */
struct ks_http_exchange {
	struct ks_http_conn *conn; /* until it ends */
	uint32_t ordinal; /* among its connection's requests */
	/* Refused requests (too many in flight) just before it, whose
	 * responses come first. */
	uint32_t refused_before;
	bool has_response; /* its response's head went by */
	bool ended;
	bool final;
	/* The kernel published its ids for thread publisher_tid, with
	 * published_trace_id. */
	bool published;
	uint32_t publisher_tid;
	uint8_t published_trace_id[16];
	struct ks_http_thread *serving; /* server: until its response begins */
	struct ks_http_exchange *parent;
	struct ks_http_exchange *dependents;
	struct ks_http_conn *awaits;
	struct ks_http_exchange **due_list; /* spans->due or spans->unseen */
	uint64_t deadline_ns;
	/* Work list of ks_finalize(); spare list once released. */
	struct ks_http_exchange *next_final;
	/* Links in conn->queue, serving->serving, parent->dependents,
	 * awaits->waiters and *due_list. */
	struct ks_http_exchange *prev, *next;
	struct ks_http_exchange *srv_prev, *srv_next;
	struct ks_http_exchange *dep_prev, *dep_next;
	struct ks_http_exchange *wait_prev, *wait_next;
	struct ks_http_exchange *due_prev, *due_next;
	struct ks_http_span span; /* last: its text is not cleared */
};

/* What this file keeps per connection. */
struct ks_http_conn {
	/* Requests awaiting their response, oldest first. */
	struct ks_http_exchange *queue;
	unsigned int nr_queued;
	/*
	 * Server exchanges waiting for this client's requests: elsewhere,
	 * or on a server connection its own, until its client's connection
	 * is seen.
	 */
	struct ks_http_exchange *waiters;
	/* Refused requests after the last queued one. */
	uint32_t refused_tail;
	/* The response being parsed belongs to a refused request. */
	bool skipping;
};

/* A thread: the requests it serves now, and what the kernel published. */
struct ks_http_thread {
	uint32_t tid;
	uint32_t tgid;
	struct ks_http_exchange *serving;
	unsigned int nr_serving;
	bool published;
	uint8_t published_span_id[8];
	UT_hash_handle hh;
};

struct ks_http_spans {
	struct ks_http_spans_config config;
	const struct ks_http_hooks *hooks;
	void *ctx;
	struct ks_conn_table conns;
	/* Threads serving requests, or with an id the kernel published, and
	 * idle ones (see ks_stop_serving()). */
	struct ks_http_thread *threads;
	size_t nr_threads;
	size_t nr_idle; /* serving nothing, published nothing */
	/* Exchanges waiting for a peer's request, by deadline (FIFO). */
	struct ks_http_exchange *due;
	/* Server exchanges waiting for their client's connection to be seen,
	 * by deadline (FIFO). */
	struct ks_http_exchange *unseen;
	struct ks_http_metrics metrics;
	size_t nr_exchanges;
	struct ks_http_exchange *spare;
	size_t nr_spare;
	uint64_t now_ns; /* of the latest tick */
	struct ks_http_stats stats;
};

static uint64_t ks_pid_tgid(uint32_t tgid, uint32_t tid)
{
	return (uint64_t)tgid << 32 | tid;
}

static struct ks_http_thread *ks_thread_find(struct ks_http_spans *spans,
					     uint32_t tid)
{
	struct ks_http_thread *thread;

	HASH_FIND(hh, spans->threads, &tid, sizeof(tid), thread);
	return thread;
}

static bool ks_thread_idle(const struct ks_http_thread *thread)
{
	return !thread->nr_serving && !thread->published;
}

static void ks_thread_free(struct ks_http_spans *spans,
			   struct ks_http_thread *thread)
{
	struct ks_http_exchange *ex, *tmp;

	if (ks_thread_idle(thread))
		spans->nr_idle--;
	DL_FOREACH_SAFE2(thread->serving, ex, tmp, srv_next)
	{
		DL_DELETE2(thread->serving, ex, srv_prev, srv_next);
		ex->serving = NULL;
	}
	HASH_DELETE(hh, spans->threads, thread);
	spans->nr_threads--;
	free(thread);
}

/* A full table makes room from the threads that serve nothing now. */
static void ks_thread_evict_idle(struct ks_http_spans *spans)
{
	struct ks_http_thread *thread, *tmp;

	HASH_ITER(hh, spans->threads, thread, tmp)
		if (ks_thread_idle(thread))
			ks_thread_free(spans, thread);
}

static struct ks_http_thread *ks_thread_get(struct ks_http_spans *spans,
					    uint32_t tgid, uint32_t tid)
{
	struct ks_http_thread *thread = ks_thread_find(spans, tid);

	if (thread) {
		/* Idle, it may be the tid of a new thread: exits get lost. */
		if (ks_thread_idle(thread))
			thread->tgid = tgid;
		return thread;
	}
	if (spans->nr_threads >= spans->config.max_conns && spans->nr_idle)
		ks_thread_evict_idle(spans);
	/* Exit records can be lost: the table must not grow with them. */
	if (spans->nr_threads >= spans->config.max_conns) {
		spans->stats.threads_refused++;
		return NULL;
	}
	thread = calloc(1, sizeof(*thread));
	if (!thread)
		return NULL;
	thread->tid = tid;
	thread->tgid = tgid;
	HASH_ADD(hh, spans->threads, tid, sizeof(thread->tid), thread);
	spans->nr_threads++;
	spans->nr_idle++;
	return thread;
}

/*
 * A thread that serves nothing and published nothing stays, idle: a server
 * thread serves request after request, and finding it costs less than
 * making it again.  Idle threads go at their exit, or to make room.
 */
static void ks_stop_serving(struct ks_http_spans *spans,
			    struct ks_http_exchange *ex)
{
	struct ks_http_thread *thread = ex->serving;

	if (!thread)
		return;
	DL_DELETE2(thread->serving, ex, srv_prev, srv_next);
	thread->nr_serving--;
	ex->serving = NULL;
	if (ks_thread_idle(thread))
		spans->nr_idle++;
}

/* Marks thread as serving ex. */
static void ks_start_serving(struct ks_http_spans *spans,
			     struct ks_http_thread *thread,
			     struct ks_http_exchange *ex)
{
	if (ks_thread_idle(thread))
		spans->nr_idle--;
	DL_APPEND2(thread->serving, ex, srv_prev, srv_next);
	thread->nr_serving++;
	ex->serving = thread;
}

static void ks_stop_waiting(struct ks_http_spans *spans,
			    struct ks_http_exchange *ex)
{
	if (!ex->awaits)
		return;
	DL_DELETE2(ex->awaits->waiters, ex, wait_prev, wait_next);
	DL_DELETE2(*ex->due_list, ex, due_prev, due_next);
	ex->awaits = NULL;
}

static void ks_release(struct ks_http_spans *spans, struct ks_http_exchange *ex)
{
	if (!(ex->span.trace_flags & KS_TRACE_FLAG_SAMPLED)) {
		spans->stats.unsampled++;
	} else {
		spans->stats.spans++;
		if (spans->hooks->span_ready)
			spans->hooks->span_ready(spans->ctx, &ex->span);
	}
	spans->nr_exchanges--;
	if (spans->nr_spare == KS_HTTP_SPARE_EXCHANGES) {
		free(ex);
		return;
	}
	ex->next_final = spans->spare;
	spans->spare = ex;
	spans->nr_spare++;
}

/*
 * A reused exchange is cleared up to its span's text, and each string made
 * empty: clearing all of it wrote 23 cache lines per request, most of them
 * cold (an exchange comes back a drain later), for strings that are
 * written over or never read.
 */
static struct ks_http_exchange *ks_exchange_new(struct ks_http_spans *spans)
{
	struct ks_http_exchange *ex = spans->spare;
	const size_t cleared =
		offsetof(struct ks_http_exchange, span.tuple_text);

	if (!ex)
		return calloc(1, sizeof(*ex));
	spans->spare = ex->next_final;
	spans->nr_spare--;
	/*
	 * The next one is most often out of cache by now: it is fetched
	 * while this request goes on, not when the next one waits for it.
	 */
	for (size_t at = 0; spans->spare && at < cleared; at += 64)
		__builtin_prefetch((char *)spans->spare + at, 1);
	memset(ex, 0, cleared);
	ex->span.tuple_text.local[0] = ex->span.tuple_text.remote[0] = '\0';
	ex->span.method[0] = ex->span.target[0] = ex->span.host[0] = '\0';
	ex->span.tracestate[0] = '\0';
	return ex;
}

/* The profiler's entry still says the kernel's guess: correct it. */
static void ks_correct_published(struct ks_http_spans *spans,
				 struct ks_http_exchange *ex)
{
	if (!ex->published || !ex->serving ||
	    !memcmp(ex->published_trace_id, ex->span.trace_id,
		    sizeof(ex->span.trace_id)))
		return;
	memcpy(ex->published_trace_id, ex->span.trace_id,
	       sizeof(ex->span.trace_id));
	if (spans->hooks->trace_ctx_update)
		spans->hooks->trace_ctx_update(
			spans->ctx,
			ks_pid_tgid(ex->span.tgid, ex->publisher_tid),
			ex->span.span_id, ex->span.trace_id);
}

static void ks_inherit_trace(struct ks_http_exchange *child,
			     const struct ks_http_exchange *parent)
{
	memcpy(child->span.trace_id, parent->span.trace_id,
	       sizeof(child->span.trace_id));
	child->span.trace_flags = parent->span.trace_flags;
	memcpy(child->span.tracestate, parent->span.tracestate,
	       sizeof(child->span.tracestate));
}

/* The sampler's decision, now that the span's parent is final. */
static void ks_sample(const struct ks_http_spans *spans,
		      struct ks_http_exchange *ex)
{
	static const struct ks_sampler parent_based = { 0 };
	const struct ks_sampler *sampler =
		spans->config.sampler ?: &parent_based;
	struct ks_http_span *span = &ex->span;
	enum ks_sampler_parent parent = KS_PARENT_NONE;

	if (span->parent != KS_HTTP_PARENT_NONE)
		parent = span->trace_flags & KS_TRACE_FLAG_SAMPLED ?
				 KS_PARENT_SAMPLED :
				 KS_PARENT_NOT_SAMPLED;
	span->trace_flags &= (uint8_t)~KS_TRACE_FLAG_SAMPLED;
	if (ks_sampler_sample(sampler, span->trace_id, parent))
		span->trace_flags |= KS_TRACE_FLAG_SAMPLED;
}

/*
 * ex's trace can no longer change: so are its dependents', and whatever
 * of them ended is handed over.  A work list, not recursion: chains of
 * dependents have no length limit the stack would like.
 */
static void ks_finalize(struct ks_http_spans *spans,
			struct ks_http_exchange *ex)
{
	struct ks_http_exchange *work = ex, *dep, *tmp;

	ex->next_final = NULL;
	while (work) {
		ex = work;
		work = ex->next_final;
		ks_stop_waiting(spans, ex);
		ks_sample(spans, ex);
		ex->final = true;
		ex->parent = NULL;
		ks_correct_published(spans, ex);
		DL_FOREACH_SAFE2(ex->dependents, dep, tmp, dep_next)
		{
			DL_DELETE2(ex->dependents, dep, dep_prev, dep_next);
			ks_inherit_trace(dep, ex);
			dep->next_final = work;
			work = dep;
		}
		if (ex->ended)
			ks_release(spans, ex);
	}
}

/* Whether ex is parent or one of its ancestors (or the chain is absurd). */
static bool ks_is_ancestor(const struct ks_http_exchange *ex,
			   const struct ks_http_exchange *parent)
{
	for (int depth = 0; parent; depth++, parent = parent->parent)
		if (parent == ex || depth == KS_HTTP_MAX_DEPTH)
			return true;
	return false;
}

/* child's parent is parent: its trace follows, now or when final. */
static void ks_set_parent(struct ks_http_spans *spans,
			  struct ks_http_exchange *child,
			  struct ks_http_exchange *parent,
			  enum ks_http_parent kind)
{
	if (ks_is_ancestor(child, parent)) {
		ks_finalize(spans, child);
		return;
	}
	child->span.parent = kind;
	memcpy(child->span.parent_span_id, parent->span.span_id,
	       sizeof(child->span.parent_span_id));
	if (parent->final) {
		ks_inherit_trace(child, parent);
		ks_finalize(spans, child);
		return;
	}
	child->parent = parent;
	DL_APPEND2(parent->dependents, child, dep_prev, dep_next);
}

static struct ks_http_conn *ks_http_conn_of(struct ks_conn *conn)
{
	if (!conn->http)
		conn->http = calloc(1, sizeof(*conn->http));
	return conn->http;
}

/* The same bytes, parsed at both ends: a join that does not match is not. */
static bool ks_same_request(const struct ks_http_exchange *a,
			    const struct ks_http_exchange *b)
{
	return !strcmp(a->span.method, b->span.method) &&
	       !strcmp(a->span.target, b->span.target);
}

static void ks_join_client(struct ks_http_spans *spans,
			   struct ks_http_exchange *server,
			   struct ks_http_exchange *client)
{
	if (!ks_same_request(server, client)) {
		ks_finalize(spans, server);
		return;
	}
	spans->stats.joined++;
	/*
	 * The client span starts when its write returned, and on one node
	 * the server can read the bytes before that: the write had begun.
	 */
	if (client->span.start_ns > server->span.start_ns)
		client->span.start_ns = server->span.start_ns;
	ks_set_parent(spans, server, client, KS_HTTP_PARENT_PEER);
}

/* server waits on hc's list for wait_ns after the drain that brought it. */
static void ks_await(struct ks_http_spans *spans,
		     struct ks_http_exchange *server, struct ks_http_conn *hc,
		     struct ks_http_exchange **due_list, uint64_t wait_ns,
		     uint64_t ts_ns)
{
	server->awaits = hc;
	server->due_list = due_list;
	server->deadline_ns =
		(ts_ns > spans->now_ns ? ts_ns : spans->now_ns) + wait_ns;
	DL_APPEND2(hc->waiters, server, wait_prev, wait_next);
	DL_APPEND2(*due_list, server, due_prev, due_next);
}

/*
 * A server request from a traced client on this node: the client's span of
 * the same ordinal is the parent, now, or when its record comes.
 */
static void ks_join_peer(struct ks_http_spans *spans,
			 struct ks_http_exchange *server, struct ks_conn *peer,
			 uint64_t ts_ns)
{
	struct ks_http_conn *hc = ks_http_conn_of(peer);
	struct ks_http_exchange *client;

	if (!hc) {
		ks_finalize(spans, server);
		return;
	}
	DL_FOREACH(hc->queue, client)
		if (client->ordinal == server->ordinal) {
			ks_join_client(spans, server, client);
			return;
		}
	/* The client's request came and went unanswered: no join. */
	if (peer->nr_requests > server->ordinal) {
		ks_finalize(spans, server);
		return;
	}
	ks_await(spans, server, hc, &spans->due, spans->config.join_wait_ns,
		 ts_ns);
}

/* A client's request came: the server exchanges that waited for it. */
static void ks_wake_waiters(struct ks_http_spans *spans,
			    struct ks_http_conn *hc,
			    struct ks_http_exchange *client)
{
	struct ks_http_exchange *server, *tmp;

	DL_FOREACH_SAFE2(hc->waiters, server, tmp, wait_next)
	{
		if (server->ordinal > client->ordinal)
			continue;
		ks_stop_waiting(spans, server);
		if (server->ordinal == client->ordinal)
			ks_join_client(spans, server, client);
		else
			ks_finalize(spans, server);
	}
}

/* The path of absolute-form targets (a proxy's), as origin-form has it. */
static size_t ks_path_start(const struct ks_http_message *msg)
{
	const char *scheme_end = strstr(msg->target, "://");
	const char *path;

	if (msg->target[0] == '/' || !scheme_end ||
	    scheme_end >= msg->target + msg->path_len)
		return 0;
	path = memchr(scheme_end + 3, '/',
		      msg->target + msg->path_len - (scheme_end + 3));
	return path ? (size_t)(path - msg->target) : msg->path_len;
}

static void ks_copy_request(struct ks_http_spans *spans,
			    struct ks_http_exchange *ex,
			    const struct ks_http_message *msg)
{
	struct ks_http_span *span = &ex->span;
	size_t from = ks_path_start(msg);
	size_t len =
		(spans->config.keep_query ? msg->target_len : msg->path_len) -
		from;

	memcpy(span->method, msg->method_name, sizeof(span->method));
	span->method_known = msg->method != KS_HTTP_METHOD_OTHER &&
			     msg->method != KS_HTTP_METHOD_UNKNOWN;
	/* Privacy: the query never gets here unless asked for. */
	memcpy(span->target, msg->target + from, len);
	span->target[len] = '\0';
	span->target_len = (uint16_t)len;
	span->path_len = (uint16_t)(msg->path_len - from);
	if (!span->target_len) {
		span->target[0] = '/';
		span->target_len = span->path_len = 1;
	}
	memcpy(span->host, msg->host, msg->host_len + 1);
	span->version_minor = msg->version_minor;
	span->route = ks_http_route_match(spans->config.routes, span->target,
					  span->path_len);
}

static void ks_take_traceparent(struct ks_http_exchange *ex,
				const struct ks_http_message *msg)
{
	struct ks_http_span *span = &ex->span;

	memcpy(span->trace_id, msg->traceparent.trace_id,
	       sizeof(span->trace_id));
	memcpy(span->parent_span_id, msg->traceparent.parent_id,
	       sizeof(span->parent_span_id));
	span->parent = KS_HTTP_PARENT_PROPAGATED;
	span->trace_flags = msg->traceparent.flags & KS_TRACE_FLAG_SAMPLED;
	if (msg->flags & KS_HTTP_MSG_TRACESTATE)
		memcpy(span->tracestate, msg->tracestate,
		       sizeof(span->tracestate));
}

static void ks_draw_ids(struct ks_http_exchange *ex)
{
	ks_trace_id_new(ex->span.trace_id);
	ks_span_id_new(ex->span.span_id);
}

/* The ids the kernel drew at the read this request started in, if any;
 * others drawn here. */
static void ks_take_kernel_ids(struct ks_http_exchange *ex,
			       struct ks_conn *conn,
			       const struct ks_http_message *msg)
{
	struct ks_conn_turn *turn = &conn->turn[KS_SOCK_RECV];

	if (!(turn->flags & KS_SOCK_SPAN_STARTED) || turn->claimed ||
	    turn->ts_ns != msg->start_ns) {
		ks_draw_ids(ex);
		return;
	}
	turn->claimed = true;
	memcpy(ex->span.trace_id, turn->trace_id, sizeof(ex->span.trace_id));
	memcpy(ex->span.span_id, turn->span_id, sizeof(ex->span.span_id));
	if (!(turn->flags & KS_SOCK_SPAN_PUBLISHED))
		return;
	ex->published = true;
	ex->publisher_tid = turn->tid;
	memcpy(ex->published_trace_id, turn->trace_id,
	       sizeof(ex->published_trace_id));
}

/*
 * Whether both ends of the connection are on this node: its peer is a
 * loopback address (IPv4-mapped 127/8, or ::1) or the local address.
 */
static bool ks_within_node(const struct ks_conn_tuple *tuple)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	const uint8_t *remote = tuple->remote.addr;

	return (!memcmp(remote, v4_mapped, sizeof(v4_mapped)) &&
		remote[12] == 127) ||
	       !memcmp(remote, v6_loopback, sizeof(v6_loopback)) ||
	       !memcmp(remote, tuple->local.addr, sizeof(tuple->local.addr));
}

static void ks_server_request(struct ks_http_spans *spans,
			      struct ks_http_exchange *ex, struct ks_conn *conn,
			      const struct ks_http_message *msg)
{
	const struct ks_conn_feed *feed = &spans->conns.feed;
	struct ks_http_thread *thread =
		ks_thread_get(spans, conn->tgid, feed->tid);
	struct ks_conn *peer;

	ex->span.start_ns = msg->start_ns;
	ks_take_kernel_ids(ex, conn, msg);
	if (thread)
		ks_start_serving(spans, thread, ex);
	/*
	 * A forwarded traceparent names the caller's caller when a proxy
	 * passed it on: the client seen at the other end of the connection
	 * is the better parent, and the header only the fallback.
	 */
	if (msg->flags & KS_HTTP_MSG_TRACEPARENT)
		ks_take_traceparent(ex, msg);
	peer = ks_conn_table_peer(&spans->conns, conn);
	if (peer)
		ks_join_peer(spans, ex, peer, feed->ts_ns);
	else if (spans->config.unseen_wait_ns && ks_within_node(&conn->tuple))
		/*
		 * The socket layer reports a write when it returns, by which
		 * time the server may have read it: a traced client's first
		 * write, which makes its connection known, can come after
		 * this read.  The exchange waits on its own connection.
		 */
		ks_await(spans, ex, ex->conn, &spans->unseen,
			 spans->config.unseen_wait_ns, feed->ts_ns);
	else
		ks_finalize(spans, ex);
}

static void ks_client_request(struct ks_http_spans *spans,
			      struct ks_http_exchange *ex, struct ks_conn *conn,
			      const struct ks_http_message *msg)
{
	const struct ks_conn_feed *feed = &spans->conns.feed;
	struct ks_http_thread *thread = ks_thread_find(spans, feed->tid);
	struct ks_conn *peer;

	ex->span.start_ns = msg->start_ns;
	ks_draw_ids(ex);
	/*
	 * The request the thread serves, when it serves exactly one, is the
	 * parent seen on this node; a traceparent (the client's own, or one
	 * a proxy forwards) is the fallback.
	 */
	if (thread && thread->nr_serving == 1) {
		ks_set_parent(spans, ex, thread->serving,
			      KS_HTTP_PARENT_THREAD);
	} else if (msg->flags & KS_HTTP_MSG_TRACEPARENT) {
		ks_take_traceparent(ex, msg);
		ks_finalize(spans, ex);
	} else {
		ks_finalize(spans, ex);
	}
	ks_wake_waiters(spans, ex->conn, ex);
	/* Server exchanges read before this connection was seen. */
	peer = ks_conn_table_peer(&spans->conns, conn);
	if (peer && peer->http)
		ks_wake_waiters(spans, peer->http, ex);
}

static void ks_request_head(struct ks_http_spans *spans, struct ks_conn *conn,
			    const struct ks_http_message *msg)
{
	struct ks_http_conn *hc = ks_http_conn_of(conn);
	struct ks_http_exchange *ex;

	if (!hc)
		return;
	if (spans->nr_exchanges >= spans->config.max_exchanges ||
	    hc->nr_queued >= KS_HTTP_MAX_PER_CONN ||
	    !(ex = ks_exchange_new(spans))) {
		spans->stats.exchanges_refused++;
		hc->refused_tail++;
		return;
	}
	spans->nr_exchanges++;
	ex->conn = hc;
	ex->ordinal = conn->nr_requests;
	ex->refused_before = hc->refused_tail;
	hc->refused_tail = 0;
	ex->span.kind = conn->role == KS_CONN_SERVER ? KS_HTTP_SPAN_SERVER :
						       KS_HTTP_SPAN_CLIENT;
	ex->span.tgid = conn->tgid;
	ex->span.tid = spans->conns.feed.tid;
	ex->span.tuple = conn->tuple;
	ex->span.tuple_text = conn->tuple_text;
	ex->span.trace_flags = KS_TRACE_FLAG_SAMPLED;
	ks_copy_request(spans, ex, msg);
	DL_APPEND(hc->queue, ex);
	hc->nr_queued++;
	if (conn->role == KS_CONN_SERVER)
		ks_server_request(spans, ex, conn, msg);
	else
		ks_client_request(spans, ex, conn, msg);
}

/* The response ended (or broke off): so does the exchange. */
static void ks_end(struct ks_http_spans *spans, struct ks_http_exchange *ex,
		   uint64_t end_ns, enum ks_http_failure failure)
{
	DL_DELETE(ex->conn->queue, ex);
	ex->conn->nr_queued--;
	ex->conn = NULL;
	ex->ended = true;
	ex->span.end_ns =
		end_ns > ex->span.start_ns ? end_ns : ex->span.start_ns;
	ex->span.failure = failure;
	if (failure != KS_HTTP_OK)
		spans->stats.failed++;
	ks_stop_serving(spans, ex);
	ks_http_metrics_record(&spans->metrics, &ex->span);
	if (ex->final)
		ks_release(spans, ex);
}

/*
 * Whether the response whose head goes by is a refused request's: those
 * come in their place, before the next queued one's.
 */
static bool ks_skip_response(struct ks_http_conn *hc)
{
	uint32_t *refused =
		hc->queue ? &hc->queue->refused_before : &hc->refused_tail;

	if (!*refused)
		return false;
	(*refused)--;
	return true;
}

static void ks_response_event(struct ks_http_spans *spans,
			      struct ks_http_conn *hc, enum ks_http_event event,
			      const struct ks_http_message *msg)
{
	struct ks_http_exchange *ex = hc->queue;

	switch (event) {
	case KS_HTTP_EV_HEAD:
		hc->skipping = ks_skip_response(hc);
		if (hc->skipping || !ex)
			return;
		ex->has_response = true;
		ex->span.status = msg->status;
		ex->span.version_minor = msg->version_minor;
		ks_stop_serving(spans, ex);
		return;
	case KS_HTTP_EV_COMPLETE:
	case KS_HTTP_EV_ABORT:
		if (!(msg->flags & KS_HTTP_MSG_HEAD_SEEN))
			return;
		if (hc->skipping) {
			hc->skipping = false;
			return;
		}
		if (!ex || !ex->has_response)
			return;
		ex->span.response_body_size = msg->body_len;
		ks_end(spans, ex, msg->end_ns,
		       event == KS_HTTP_EV_COMPLETE ?
			       KS_HTTP_OK :
			       KS_HTTP_CLOSED_DURING_RESPONSE);
		return;
	default:
		return;
	}
}

static void ks_on_message(void *ctx, struct ks_conn *conn,
			  enum ks_http_direction dir, enum ks_http_event event,
			  const struct ks_http_message *msg)
{
	struct ks_http_spans *spans = ctx;
	struct ks_http_conn *hc;

	if (event == KS_HTTP_EV_DESYNC)
		spans->stats.desyncs++;
	if (dir == KS_HTTP_RESPONSES) {
		if (conn->http)
			ks_response_event(spans, conn->http, event, msg);
		return;
	}
	if (event == KS_HTTP_EV_HEAD) {
		ks_request_head(spans, conn, msg);
		return;
	}
	hc = conn->http;
	/* The body of the request just queued (unless it was refused). */
	if (event == KS_HTTP_EV_COMPLETE && hc && hc->queue &&
	    !hc->refused_tail)
		hc->queue->prev->span.request_body_size = msg->body_len;
}

/* What is still queued never got its response. */
static void ks_on_closing(void *ctx, struct ks_conn *conn)
{
	struct ks_http_spans *spans = ctx;
	struct ks_http_conn *hc = conn->http;
	struct ks_http_exchange *ex, *tmp;
	uint64_t now = spans->conns.feed.ts_ns;

	if (!hc)
		return;
	while (hc->queue)
		ks_end(spans, hc->queue, now,
		       hc->queue->has_response ?
			       KS_HTTP_CLOSED_DURING_RESPONSE :
			       KS_HTTP_CLOSED_BEFORE_RESPONSE);
	/* Their client's requests can no longer come. */
	DL_FOREACH_SAFE2(hc->waiters, ex, tmp, wait_next)
	ks_finalize(spans, ex);
	free(hc);
	conn->http = NULL;
}

static void ks_on_forget(void *ctx, uint64_t sock, uint64_t conn_id)
{
	struct ks_http_spans *spans = ctx;

	if (spans->hooks->forget_sock)
		spans->hooks->forget_sock(spans->ctx, sock, conn_id);
}

static const struct ks_conn_ops ks_http_conn_ops = {
	.message = ks_on_message,
	.closing = ks_on_closing,
	.forget = ks_on_forget,
};

struct ks_http_spans *
ks_http_spans_new(const struct ks_http_spans_config *config,
		  const struct ks_http_hooks *hooks, void *ctx)
{
	struct ks_http_spans *spans = calloc(1, sizeof(*spans));

	if (!spans)
		return NULL;
	spans->config = *config;
	spans->hooks = hooks;
	spans->ctx = ctx;
	ks_conn_table_init(&spans->conns, config->max_conns, &ks_http_conn_ops,
			   spans);
	return spans;
}

void ks_http_spans_finish(struct ks_http_spans *spans, uint64_t now_ns)
{
	ks_conn_table_clear(&spans->conns, now_ns);
	while (spans->due)
		ks_finalize(spans, spans->due);
	while (spans->unseen)
		ks_finalize(spans, spans->unseen);
}

void ks_http_spans_free(struct ks_http_spans *spans, uint64_t now_ns)
{
	struct ks_http_thread *thread, *tmp;
	struct ks_http_exchange *ex;

	if (!spans)
		return;
	ks_http_spans_finish(spans, now_ns);
	HASH_ITER(hh, spans->threads, thread, tmp)
		ks_thread_free(spans, thread);
	ks_http_metrics_clear(&spans->metrics);
	while ((ex = spans->spare)) {
		spans->spare = ex->next_final;
		free(ex);
	}
	free(spans);
}

int ks_http_spans_apply(struct ks_http_spans *spans, const void *record,
			size_t size)
{
	struct ks_sock_event ev;
	struct ks_http_thread *thread;

	if (ks_sock_record_decode(record, size, &ev)) {
		spans->stats.malformed++;
		return -EINVAL;
	}
	/* Whatever becomes of the bytes, the thread's entry must go with it. */
	if (ev.kind == KS_EV_SOCK_DATA && (ev.flags & KS_SOCK_SPAN_PUBLISHED)) {
		thread = ks_thread_get(spans, ev.tgid, ev.tid);
		if (thread) {
			if (ks_thread_idle(thread))
				spans->nr_idle--;
			thread->published = true;
			memcpy(thread->published_span_id, ev.span_id,
			       sizeof(thread->published_span_id));
		}
	}
	ks_conn_table_apply(&spans->conns, &ev);
	return 0;
}

void ks_http_spans_tick(struct ks_http_spans *spans, uint64_t now_ns)
{
	spans->now_ns = now_ns;
	while (spans->due && spans->due->deadline_ns <= now_ns) {
		spans->stats.join_expired++;
		ks_finalize(spans, spans->due);
	}
	/* A client not traced, most often: nothing to count. */
	while (spans->unseen && spans->unseen->deadline_ns <= now_ns)
		ks_finalize(spans, spans->unseen);
}

void ks_http_spans_thread_exit(struct ks_http_spans *spans, uint32_t tgid,
			       uint32_t tid)
{
	struct ks_http_thread *thread = ks_thread_find(spans, tid);

	if (!thread)
		return;
	/* Killed inside a request: neither a write nor a close took it back. */
	if (thread->published && spans->hooks->trace_ctx_retract)
		spans->hooks->trace_ctx_retract(spans->ctx,
						ks_pid_tgid(tgid, tid),
						thread->published_span_id);
	ks_thread_free(spans, thread);
}

void ks_http_spans_process_gone(struct ks_http_spans *spans, uint32_t tgid,
				uint64_t now_ns)
{
	struct ks_http_thread *thread, *tmp;

	ks_conn_table_drop_process(&spans->conns, tgid, now_ns);
	HASH_ITER(hh, spans->threads, thread, tmp)
		if (thread->tgid == tgid)
			ks_http_spans_thread_exit(spans, tgid, thread->tid);
}

void ks_http_spans_forget_metrics(struct ks_http_spans *spans, uint32_t tgid)
{
	ks_http_metrics_drop_process(&spans->metrics, tgid);
}

bool ks_http_spans_enclosing(struct ks_http_spans *spans, uint32_t tgid,
			     uint32_t tid, uint64_t since_ns,
			     uint8_t trace_id[16], uint8_t span_id[8])
{
	struct ks_http_thread *thread = ks_thread_find(spans, tid);
	const struct ks_http_exchange *ex;

	if (!thread || thread->tgid != tgid || thread->nr_serving != 1)
		return false;
	ex = thread->serving;
	/* A span that is not handed over (unsampled) must have no child. */
	if (!ex->final || ex->span.start_ns > since_ns ||
	    !(ex->span.trace_flags & KS_TRACE_FLAG_SAMPLED))
		return false;
	memcpy(trace_id, ex->span.trace_id, 16);
	memcpy(span_id, ex->span.span_id, 8);
	return true;
}

const struct ks_http_metrics *
ks_http_spans_metrics(const struct ks_http_spans *spans)
{
	return &spans->metrics;
}

void ks_http_stats_foreach(const struct ks_http_stats *stats,
			   ks_http_counter_fn fn, void *ctx)
{
	const struct {
		const char *name;
		uint64_t value;
	} counters[] = {
		{ "connections_opened", stats->connections_opened },
		{ "connections_refused", stats->connections_refused },
		{ "not_http", stats->not_http },
		{ "spans", stats->spans },
		{ "unsampled", stats->unsampled },
		{ "failed", stats->failed },
		{ "peer_joined", stats->joined },
		{ "peer_join_expired", stats->join_expired },
		{ "exchanges_refused", stats->exchanges_refused },
		{ "threads_refused", stats->threads_refused },
		{ "desyncs", stats->desyncs },
		{ "malformed", stats->malformed },
	};

	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		fn(ctx, counters[i].name, counters[i].value);
}

void ks_http_spans_stats(const struct ks_http_spans *spans,
			 struct ks_http_stats *stats)
{
	const struct ks_conn_stats *conns = &spans->conns.stats;

	*stats = spans->stats;
	stats->connections = spans->conns.nr;
	stats->threads = spans->nr_threads - spans->nr_idle;
	stats->connections_opened = conns->opened;
	stats->connections_refused = conns->table_full;
	stats->not_http = conns->not_http;
}
