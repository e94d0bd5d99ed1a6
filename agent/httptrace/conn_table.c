// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>

#include "httptrace/conn_table.h"
#include "httptrace/http_semconv.h"

/* A process's connections, by id. */
struct ks_conn_proc {
	uint32_t tgid;
	struct ks_conn *conns;
	UT_hash_handle hh;
};

static struct ks_conn_proc *ks_proc_find(const struct ks_conn_table *table,
					 uint32_t tgid)
{
	struct ks_conn_proc *proc;

	HASH_FIND(hh, table->procs, &tgid, sizeof(tgid), proc);
	return proc;
}

static struct ks_conn *ks_conn_find(struct ks_conn_table *table, uint64_t id)
{
	struct ks_conn *conn = table->latest;

	if (conn && conn->id == id)
		return conn;
	HASH_FIND(hh, table->conns, &id, sizeof(id), conn);
	if (conn)
		table->latest = conn;
	return conn;
}

static void ks_forward(struct ks_conn *conn, enum ks_http_direction dir,
		       enum ks_http_event event,
		       const struct ks_http_message *msg)
{
	struct ks_conn_table *table = conn->table;

	if (table->ops->message)
		table->ops->message(table->ctx, conn, dir, event, msg);
}

static void ks_on_request_event(void *ctx, enum ks_http_event event,
				const struct ks_http_message *msg)
{
	struct ks_conn *conn = ctx;

	/* The response is framed by its request's method (HEAD, CONNECT). */
	if (event == KS_HTTP_EV_HEAD)
		ks_http_parser_expect(&conn->responses, msg->method);
	ks_forward(conn, KS_HTTP_REQUESTS, event, msg);
	if (event == KS_HTTP_EV_HEAD)
		conn->nr_requests++;
}

static void ks_on_response_event(void *ctx, enum ks_http_event event,
				 const struct ks_http_message *msg)
{
	ks_forward(ctx, KS_HTTP_RESPONSES, event, msg);
}

void ks_conn_table_init(struct ks_conn_table *table, size_t max,
			const struct ks_conn_ops *ops, void *ctx)
{
	memset(table, 0, sizeof(*table));
	table->tuples_version = 1;
	table->max = max;
	table->ops = ops;
	table->ctx = ctx;
}

/* Only one connection per 4-tuple is indexed: the latest. */
static bool ks_tuple_indexed(const struct ks_conn_table *table,
			     const struct ks_conn *conn)
{
	struct ks_conn *found;

	HASH_FIND(hh_tuple, table->by_tuple, &conn->tuple, sizeof(conn->tuple),
		  found);
	return found == conn;
}

/*
 * Ends a connection as of ts_ns: what its parsers had open ends (a body
 * that runs until the close completes, anything else aborts), the consumer
 * lets go of it, and with forget the kernel stops tracking the socket.
 */
static void ks_conn_free(struct ks_conn *conn, uint64_t ts_ns, bool forget)
{
	struct ks_conn_table *table = conn->table;
	struct ks_conn_proc *proc = ks_proc_find(table, conn->tgid);

	conn->closing = true;
	table->feed = (struct ks_conn_feed){ .ts_ns = ts_ns };
	ks_http_parser_close(&conn->requests, ts_ns);
	ks_http_parser_close(&conn->responses, ts_ns);
	if (table->ops->closing)
		table->ops->closing(table->ctx, conn);
	if (forget && table->ops->forget)
		table->ops->forget(table->ctx, conn->sock, conn->id);
	if (ks_tuple_indexed(table, conn)) {
		HASH_DELETE(hh_tuple, table->by_tuple, conn);
		table->tuples_version++;
	}
	if (table->latest == conn)
		table->latest = NULL;
	HASH_DELETE(hh, table->conns, conn);
	if (proc) {
		HASH_DELETE(hh_proc, proc->conns, conn);
		if (!proc->conns) {
			HASH_DELETE(hh, table->procs, proc);
			free(proc);
		}
	}
	table->nr--;
	free(conn);
}

static void ks_conn_open(struct ks_conn_table *table,
			 const struct ks_sock_event *ev)
{
	struct ks_conn_proc *proc = ks_proc_find(table, ev->tgid);
	struct ks_conn *conn, *same_tuple;

	if (table->nr >= table->max) {
		table->stats.table_full++;
		if (table->ops->forget)
			table->ops->forget(table->ctx, ev->sock, ev->conn_id);
		return;
	}
	if (!proc) {
		proc = calloc(1, sizeof(*proc));
		if (!proc)
			return;
		proc->tgid = ev->tgid;
		HASH_ADD(hh, table->procs, tgid, sizeof(proc->tgid), proc);
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		if (!proc->conns) {
			HASH_DELETE(hh, table->procs, proc);
			free(proc);
		}
		return;
	}
	conn->id = ev->conn_id;
	conn->sock = ev->sock;
	conn->tgid = ev->tgid;
	conn->role = ev->role;
	conn->tuple = ev->tuple;
	ks_http_tuple_text(&conn->tuple, &conn->tuple_text);
	conn->table = table;
	ks_http_parser_init(&conn->requests, KS_HTTP_REQUESTS,
			    ks_on_request_event, conn);
	ks_http_parser_init(&conn->responses, KS_HTTP_RESPONSES,
			    ks_on_response_event, conn);
	/* Seen from its first byte, or for a connection older than the
	 * agent from a call in mid-life: what does not start as HTTP there
	 * is given up. */
	ks_http_parser_stream_start(&conn->requests);
	ks_http_parser_stream_start(&conn->responses);
	HASH_ADD(hh, table->conns, id, sizeof(conn->id), conn);
	HASH_ADD(hh_proc, proc->conns, id, sizeof(conn->id), conn);
	/* A tuple still indexed belongs to a connection whose close was
	 * lost, or to another network namespace's. */
	HASH_FIND(hh_tuple, table->by_tuple, &conn->tuple, sizeof(conn->tuple),
		  same_tuple);
	if (same_tuple)
		HASH_DELETE(hh_tuple, table->by_tuple, same_tuple);
	HASH_ADD(hh_tuple, table->by_tuple, tuple, sizeof(conn->tuple), conn);
	table->tuples_version++;
	table->nr++;
	table->stats.opened++;
}

static struct ks_conn *ks_conn_of(struct ks_conn_table *table,
				  const struct ks_sock_event *ev)
{
	struct ks_conn *conn = ks_conn_find(table, ev->conn_id);

	if (conn)
		return conn;
	table->stats.unknown++;
	return NULL;
}

/* Remembers where each direction's latest turn began. */
static void ks_note_turn(struct ks_conn *conn, const struct ks_sock_event *ev)
{
	struct ks_conn_turn *turn = &conn->turn[ev->direction];

	if (conn->last_direction == ev->direction)
		return;
	conn->last_direction = ev->direction;
	turn->ts_ns = ev->ts_ns;
	turn->tid = ev->tid;
	turn->flags = ev->flags;
	turn->claimed = false;
	memcpy(turn->trace_id, ev->trace_id, sizeof(turn->trace_id));
	memcpy(turn->span_id, ev->span_id, sizeof(turn->span_id));
}

static void ks_conn_data(struct ks_conn_table *table,
			 const struct ks_sock_event *ev)
{
	struct ks_conn *conn = ks_conn_of(table, ev);
	struct ks_http_parser *parser;

	if (!conn)
		return;
	ks_note_turn(conn, ev);
	/* Requests come in on a server connection and go out on a client's. */
	parser = (conn->role == KS_CONN_SERVER) ==
				 (ev->direction == KS_SOCK_RECV) ?
			 &conn->requests :
			 &conn->responses;
	table->feed = (struct ks_conn_feed){
		.tid = ev->tid,
		.ts_ns = ev->ts_ns,
	};
	ks_http_parser_feed(parser, ev->data, ev->captured_len, ev->total_len,
			    ev->ts_ns);
	/* Another protocol (TLS, a database's): stop copying its bytes. */
	if (!ks_http_parser_is_http(&conn->requests) ||
	    !ks_http_parser_is_http(&conn->responses)) {
		table->stats.not_http++;
		ks_conn_free(conn, ev->ts_ns, true);
	}
}

void ks_conn_table_apply(struct ks_conn_table *table,
			 const struct ks_sock_event *ev)
{
	struct ks_conn *conn;

	switch (ev->kind) {
	case KS_EV_SOCK_OPEN:
		ks_conn_open(table, ev);
		break;
	case KS_EV_SOCK_DATA:
		ks_conn_data(table, ev);
		break;
	case KS_EV_SOCK_CLOSE:
		conn = ks_conn_of(table, ev);
		if (conn)
			ks_conn_free(conn, ev->ts_ns, false);
		break;
	}
}

void ks_conn_table_drop_process(struct ks_conn_table *table, uint32_t tgid,
				uint64_t ts_ns)
{
	struct ks_conn_proc *proc = ks_proc_find(table, tgid);
	struct ks_conn *conn, *tmp;

	if (!proc)
		return;
	/* The last free frees proc too: HASH_ITER reads it only at the start. */
	HASH_ITER(hh_proc, proc->conns, conn, tmp)
		ks_conn_free(conn, ts_ns, true);
}

void ks_conn_table_clear(struct ks_conn_table *table, uint64_t ts_ns)
{
	while (table->procs)
		ks_conn_table_drop_process(table, table->procs->tgid, ts_ns);
}

struct ks_conn *ks_conn_table_peer(const struct ks_conn_table *table,
				   struct ks_conn *conn)
{
	struct ks_conn_tuple reversed = {
		.local = conn->tuple.remote,
		.remote = conn->tuple.local,
	};
	struct ks_conn *peer;

	if (conn->peer_version == table->tuples_version)
		return conn->peer;
	HASH_FIND(hh_tuple, table->by_tuple, &reversed, sizeof(reversed), peer);
	conn->peer = peer && peer->role != conn->role ? peer : NULL;
	conn->peer_version = table->tuples_version;
	return conn->peer;
}
