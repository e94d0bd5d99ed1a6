/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TCP connections being traced, as the kernel reported them: which
 * process first moved data on each, which way its requests flow, its
 * addresses as text for its spans, and the two HTTP parsers that follow its
 * byte streams.  Found by the kernel's connection id, for the records, and
 * by 4-tuple, for the other end when both ends are on this node.  Bounded: a full table
 * refuses new connections and counts them.
 *
 * What the parsers find goes to the ops, with the connection and, in
 * ks_conn_table.feed, the record being fed.
 */
#ifndef KS_CONN_TABLE_H
#define KS_CONN_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "httptrace/http_parser.h"
#include "httptrace/http_span.h"
#include "httptrace/sock_record.h"
#include "knotscope_abi.h"

/*
 * The first syscall of the latest run of syscalls in one direction: where a
 * message that starts a turn began, and, on a server connection, the span
 * the kernel started there.
 */
struct ks_conn_turn {
	uint64_t ts_ns; /* its return */
	uint32_t tid;
	uint8_t flags; /* KS_SOCK_* */
	/* A span took the kernel's ids: requests pipelined in the same read
	 * get their own. */
	bool claimed;
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

struct ks_http_conn; /* what the consumer keeps per connection */

struct ks_conn {
	uint64_t id;
	uint64_t sock; /* the kernel side's key, to forget it */
	uint32_t tgid; /* the process whose data opened it */
	uint8_t role; /* enum ks_conn_role */
	uint8_t last_direction; /* enum ks_sock_direction, 0: none yet */
	bool closing;
	struct ks_conn_tuple tuple;
	struct ks_tuple_text tuple_text; /* for each of its spans */
	struct ks_conn_turn turn[KS_SOCK_SEND + 1]; /* by direction */
	/* Client to server, and back, whichever end this is. */
	struct ks_http_parser requests;
	struct ks_http_parser responses;
	/* Request heads seen: the ordinal of the next one. */
	uint32_t nr_requests;
	/* ks_conn_table_peer()'s answer while the table's tuples_version is
	 * peer_version: asked on every request, it changes only when a
	 * connection opens or ends. */
	struct ks_conn *peer;
	uint64_t peer_version;
	struct ks_http_conn *http; /* the consumer's; NULL until it sets it */
	struct ks_conn_table *table;
	UT_hash_handle hh; /* by id */
	UT_hash_handle hh_proc; /* in its process's table, by id */
	UT_hash_handle hh_tuple;
};

struct ks_conn_ops {
	/* A parser event: dir KS_HTTP_REQUESTS or KS_HTTP_RESPONSES. */
	void (*message)(void *ctx, struct ks_conn *conn,
			enum ks_http_direction dir, enum ks_http_event event,
			const struct ks_http_message *msg);
	/* conn goes away, its parsers closed: drop what refers to it. */
	void (*closing)(void *ctx, struct ks_conn *conn);
	/* The kernel may stop tracking connection conn_id on socket sock:
	 * not HTTP, or gone. */
	void (*forget)(void *ctx, uint64_t sock, uint64_t conn_id);
};

struct ks_conn_stats {
	uint64_t opened;
	uint64_t table_full; /* connections refused */
	uint64_t not_http; /* given up as another protocol */
	uint64_t unknown; /* data or close for no known connection */
};

/* The record being fed to a parser, for its callbacks. */
struct ks_conn_feed {
	uint32_t tid;
	uint64_t ts_ns;
};

struct ks_conn_proc;

struct ks_conn_table {
	struct ks_conn *conns; /* by id */
	struct ks_conn_proc *procs; /* by tgid, for a process's end */
	struct ks_conn *by_tuple;
	uint64_t tuples_version; /* changes with by_tuple, never 0 */
	/* The connection of the latest record: the next is often its too. */
	struct ks_conn *latest;
	size_t nr;
	size_t max;
	const struct ks_conn_ops *ops;
	void *ctx;
	struct ks_conn_feed feed;
	struct ks_conn_stats stats;
};

void ks_conn_table_init(struct ks_conn_table *table, size_t max,
			const struct ks_conn_ops *ops, void *ctx);
/* Closes every connection, as of ts_ns, and frees them. */
void ks_conn_table_clear(struct ks_conn_table *table, uint64_t ts_ns);

/* The records, decoded (sock_record.h). */
void ks_conn_table_apply(struct ks_conn_table *table,
			 const struct ks_sock_event *ev);

/* Closes every connection of process tgid (exit, exec), as of ts_ns. */
void ks_conn_table_drop_process(struct ks_conn_table *table, uint32_t tgid,
				uint64_t ts_ns);

/* The connection of this node at the other end of conn, if traced. */
struct ks_conn *ks_conn_table_peer(const struct ks_conn_table *table,
				   struct ks_conn *conn);

#endif /* KS_CONN_TABLE_H */
