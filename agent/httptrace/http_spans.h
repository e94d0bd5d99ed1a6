/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * HTTP spans from socket records: each request and its response on a traced
 * connection is an exchange, and each exchange a span, SERVER on accepted
 * connections and CLIENT on connected ones.
 *
 * Where a span sits in its trace, in this order (what is seen on the node
 * wins over what a header says: a proxy forwards its caller's traceparent):
 *  1. a server request whose client is a traced process on this node (the
 *     same 4-tuple from the other end): the client span is its parent;
 *  2. a client request made by a thread serving exactly one request: that
 *     request's server span is its parent;
 *  3. a valid traceparent in the request: that trace, that parent;
 *  4. otherwise a new trace.
 *
 * Records of the two ends of a connection arrive in no guaranteed order:
 * the server's read can be reported before the client's write.  A server
 * span whose client's request is not known yet waits for it at most
 * join_wait_ns (after the drain that brought it), then becomes a root; on
 * a connection within the node whose client's connection is not known
 * yet (its first write makes it known), unseen_wait_ns.
 * Spans whose trace depends on one that waits (its children) wait with it.
 * Nothing else is held: a span is handed over when its response ends.
 *
 * Only the span and the metric are built here; hooks turn them into OTLP
 * and keep the profiler's map right.  No BPF and no protobuf in here.
 */
#ifndef KS_HTTP_SPANS_H
#define KS_HTTP_SPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sampler.h"
#include "httptrace/http_parser.h"
#include "httptrace/http_route.h"
#include "httptrace/http_span.h"
#include "knotscope_abi.h"

/* A client's request not yet seen is waited for this long. */
#define KS_HTTP_JOIN_WAIT_NS (100 * 1000000ull)
/*
 * A client's connection within the node not yet seen: until the end of the
 * drain that brought the request (the client's record, if any, is most
 * often a few records behind).  An exchange held longer goes cold, and an
 * untraced client, the common case, would make every span pay for it.
 */
#define KS_HTTP_UNSEEN_WAIT_NS 1ull
/* Exchanges in flight or waiting, over all connections. */
#define KS_HTTP_MAX_EXCHANGES 65536
/*
 * Requests one connection may have awaiting their responses: pipelining
 * goes no deeper in practice, and one connection must not take all the
 * exchanges there are.
 */
#define KS_HTTP_MAX_PER_CONN 32

struct ks_http_hooks {
	/* A span ended and its trace is final; valid during the call. */
	void (*span_ready)(void *ctx, const struct ks_http_span *span);
	/*
	 * The kernel published span_id for thread pid_tgid with a trace id
	 * that turned out wrong (a traceparent, a peer): fix the profiler's
	 * entry if it still holds span_id.
	 */
	void (*trace_ctx_update)(void *ctx, uint64_t pid_tgid,
				 const uint8_t span_id[8],
				 const uint8_t trace_id[16]);
	/* Thread pid_tgid is gone: its entry for span_id, if any, goes. */
	void (*trace_ctx_retract)(void *ctx, uint64_t pid_tgid,
				  const uint8_t span_id[8]);
	/* The kernel may stop tracking connection conn_id, on socket sock
	 * (ks_sock_open). */
	void (*forget_sock)(void *ctx, uint64_t sock, uint64_t conn_id);
};

struct ks_http_spans_config {
	/*
	 * Decides each span once its trace is final: roots by their trace
	 * id, children by their parent (local or from a traceparent) as the
	 * sampler says.  NULL: the default, parentbased_always_on.
	 */
	const struct ks_sampler *sampler;
	bool keep_query; /* keep the query in target (it may hold secrets) */
	const struct ks_http_routes *routes; /* may be NULL */
	uint64_t join_wait_ns;
	/*
	 * A server request on a connection within the node whose client's
	 * connection is not known yet waits this long for it (0: it does
	 * not wait).
	 */
	uint64_t unseen_wait_ns;
	size_t max_conns; /* also the most threads followed at once */
	size_t max_exchanges;
};

struct ks_http_stats {
	uint64_t connections; /* tracked now */
	uint64_t threads; /* followed now */
	uint64_t connections_opened;
	uint64_t connections_refused; /* the table was full */
	uint64_t not_http; /* connections given up as another protocol */
	uint64_t spans; /* handed to span_ready */
	uint64_t unsampled; /* not handed: the sampler said not sampled */
	uint64_t failed; /* ended without a response */
	uint64_t joined; /* server spans parented by a peer client span */
	uint64_t join_expired; /* ... whose client request never came */
	uint64_t
		exchanges_refused; /* too many in flight, or on its connection */
	/* Times a thread could not be followed: too many followed already. */
	uint64_t threads_refused;
	uint64_t desyncs; /* the parser lost message boundaries */
	uint64_t malformed; /* records that did not decode */
};

struct ks_http_spans;
struct ks_http_metrics;

struct ks_http_spans *
ks_http_spans_new(const struct ks_http_spans_config *config,
		  const struct ks_http_hooks *hooks, void *ctx);
/*
 * The end of a run: everything in flight ends as of now_ns, nothing waits
 * any more, every span is handed over.  The metrics stay, to be sent.
 */
void ks_http_spans_finish(struct ks_http_spans *spans, uint64_t now_ns);
/* Finishes if need be, and frees; NULL is fine. */
void ks_http_spans_free(struct ks_http_spans *spans, uint64_t now_ns);

/* One socket ring buffer record (KS_EV_SOCK_*); -EINVAL when malformed. */
int ks_http_spans_apply(struct ks_http_spans *spans, const void *record,
			size_t size);

/*
 * After each drain of the ring buffer, with CLOCK_MONOTONIC now: spans
 * that waited for a client long enough stop waiting.
 */
void ks_http_spans_tick(struct ks_http_spans *spans, uint64_t now_ns);

void ks_http_spans_thread_exit(struct ks_http_spans *spans, uint32_t tgid,
			       uint32_t tid);
/*
 * The process exited or exec'd: its connections end as of now_ns.  Its
 * metrics stay until ks_http_spans_forget_metrics(), to be sent last.
 */
void ks_http_spans_process_gone(struct ks_http_spans *spans, uint32_t tgid,
				uint64_t now_ns);
void ks_http_spans_forget_metrics(struct ks_http_spans *spans, uint32_t tgid);

/*
 * The SERVER span thread tid of tgid has been in since since_ns: the one
 * request it serves now (its response not begun), begun by since_ns, whose
 * trace is final and sampled.  False when there is none, when the thread
 * is in the middle of several (an event loop: no guess), or when the
 * trace may still change (a local client's request not seen yet).
 */
bool ks_http_spans_enclosing(struct ks_http_spans *spans, uint32_t tgid,
			     uint32_t tid, uint64_t since_ns,
			     uint8_t trace_id[16], uint8_t span_id[8]);

const struct ks_http_metrics *
ks_http_spans_metrics(const struct ks_http_spans *spans);
void ks_http_spans_stats(const struct ks_http_spans *spans,
			 struct ks_http_stats *stats);

typedef void (*ks_http_counter_fn)(void *ctx, const char *name, uint64_t value);

/* Each counter of stats (all but the connections gauge), as outputs name
 * them: "not_http", "peer_joined"... */
void ks_http_stats_foreach(const struct ks_http_stats *stats,
			   ks_http_counter_fn fn, void *ctx);

#endif /* KS_HTTP_SPANS_H */
