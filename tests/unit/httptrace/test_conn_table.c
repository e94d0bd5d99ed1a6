// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Connection tracking: ids, 4-tuples, directions, limits. */
#include <errno.h>

#include "unit.h"

#include "httptrace/conn_table.h"
#include "sock_records.h"

struct seen {
	unsigned int heads[2]; /* by enum ks_http_direction */
	unsigned int closing;
	unsigned int forgotten;
	uint64_t last_forgotten_sock;
	uint64_t last_forgotten_id;
	uint64_t last_closing_id;
};

static void on_message(void *ctx, struct ks_conn *conn,
		       enum ks_http_direction dir, enum ks_http_event event,
		       const struct ks_http_message *msg)
{
	struct seen *seen = ctx;

	if (event == KS_HTTP_EV_HEAD)
		seen->heads[dir]++;
}

static void on_closing(void *ctx, struct ks_conn *conn)
{
	struct seen *seen = ctx;

	seen->closing++;
	seen->last_closing_id = conn->id;
}

static void on_forget(void *ctx, uint64_t sock, uint64_t conn_id)
{
	struct seen *seen = ctx;

	seen->forgotten++;
	seen->last_forgotten_sock = sock;
	seen->last_forgotten_id = conn_id;
}

static const struct ks_conn_ops ops = {
	.message = on_message,
	.closing = on_closing,
	.forget = on_forget,
};

struct fixture {
	struct ks_conn_table table;
	struct seen seen;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ks_conn_table_init(&f->table, 3, &ops, &f->seen);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ks_conn_table_clear(&f->table, 0);
	assert_int_equal(f->table.nr, 0);
	assert_null(f->table.procs);
	assert_null(f->table.by_tuple);
	free(f);
	return 0;
}

static void feed(struct fixture *f, void *record, size_t size)
{
	struct ks_sock_event ev;

	assert_int_equal(ks_sock_record_decode(record, size, &ev), 0);
	ks_conn_table_apply(&f->table, &ev);
	free(record);
}

/* Connection id's socket is 0x1000 + id. */
static void open_conn(struct fixture *f, uint64_t id, uint32_t tgid,
		      uint8_t role, uint16_t local, uint16_t remote)
{
	size_t size;
	void *rec =
		test_open(&size, id, tgid, 0x1000 + id, role, local, remote, 1);

	feed(f, rec, size);
}

static void send_text(struct fixture *f, uint64_t id, uint32_t tgid, int fd,
		      uint8_t direction, const char *text, uint8_t flags)
{
	struct test_data d = {
		.conn_id = id,
		.tgid = tgid,
		.tid = tgid + 1,
		.fd = fd,
		.direction = direction,
		.flags = flags,
		.ts_ns = 10,
		.bytes = text,
		.captured = strlen(text),
		.trace_id = { 6 },
		.span_id = { 7 },
	};
	size_t size;
	void *rec = test_data_record(&size, &d);

	feed(f, rec, size);
}

static const char request[] = "GET / HTTP/1.1\r\n\r\n";

/* The connection whose end is local_port, talking to remote_port. */
static struct ks_conn *by_tuple(struct fixture *f, uint16_t local_port,
				uint16_t remote_port)
{
	struct ks_conn_tuple tuple = {
		.local = test_endpoint(local_port),
		.remote = test_endpoint(remote_port),
	};
	struct ks_conn *conn;

	HASH_FIND(hh_tuple, f->table.by_tuple, &tuple, sizeof(tuple), conn);
	return conn;
}

static void test_directions(void **state)
{
	struct fixture *f = *state;
	struct ks_conn *server;

	open_conn(f, 1, 10, KS_CONN_SERVER, 80, 5000);
	open_conn(f, 2, 20, KS_CONN_CLIENT, 5000, 80);
	/* A server reads requests; a client writes them. */
	send_text(f, 1, 10, 4, KS_SOCK_RECV, request, KS_SOCK_SPAN_STARTED);
	send_text(f, 2, 20, 4, KS_SOCK_SEND, request, 0);
	assert_int_equal(f->seen.heads[KS_HTTP_REQUESTS], 2);
	send_text(f, 2, 20, 4, KS_SOCK_RECV, "HTTP/1.1 204 No\r\n\r\n", 0);
	assert_int_equal(f->seen.heads[KS_HTTP_RESPONSES], 1);

	/* Where the server's request turn began, and the kernel's ids. */
	server = by_tuple(f, 80, 5000);
	assert_non_null(server);
	assert_int_equal(server->id, 1);
	assert_int_equal(server->nr_requests, 1);
	assert_int_equal(server->turn[KS_SOCK_RECV].ts_ns, 10);
	assert_int_equal(server->turn[KS_SOCK_RECV].tid, 11);
	assert_int_equal(server->turn[KS_SOCK_RECV].flags,
			 KS_SOCK_SPAN_STARTED);
	assert_int_equal(server->turn[KS_SOCK_RECV].span_id[0], 7);
}

/* The kernel reserves a data record in one of a few sizes: what follows
 * the copy is padding, and a copy longer than its record is refused. */
static void test_padded_data_records(void **state)
{
	struct test_data d = {
		.conn_id = 1,
		.tgid = 10,
		.tid = 10,
		.direction = KS_SOCK_RECV,
		.bytes = request,
		.captured = sizeof(request) - 1,
		.padding = 128 - (sizeof(request) - 1),
	};
	struct ks_sock_data *rec;
	struct ks_sock_event ev;
	size_t size;

	(void)state;
	rec = test_data_record(&size, &d);
	assert_int_equal(ks_sock_record_decode(rec, size, &ev), 0);
	assert_int_equal(ev.captured_len, sizeof(request) - 1);
	assert_memory_equal(ev.data, request, sizeof(request) - 1);
	rec->captured_len = 129;
	rec->total_len = 129;
	assert_int_equal(ks_sock_record_decode(rec, size, &ev), -EINVAL);
	free(rec);
}

/*
 * A socket is shared by the processes that hold it (fork) and ends where its
 * last reference goes, often in a softirq: the records of one connection
 * carry whatever process ran, and only the id says whose they are.
 */
static void test_found_by_id_in_any_process(void **state)
{
	struct fixture *f = *state;
	void *record;
	size_t size;

	open_conn(f, 1, 10, KS_CONN_SERVER, 80, 5000);
	open_conn(f, 2, 10, KS_CONN_SERVER, 80, 5001);
	/* A child that inherited the socket reads the request. */
	send_text(f, 1, 30, 4, KS_SOCK_RECV, request, 0);
	assert_int_equal(f->seen.heads[KS_HTTP_REQUESTS], 1);
	assert_int_equal(f->table.stats.unknown, 0);
	record = test_close(&size, 1, 0, 5);
	feed(f, record, size);
	assert_int_equal(f->seen.closing, 1);
	assert_int_equal(f->seen.last_closing_id, 1);
	assert_int_equal(f->table.nr, 1);
	/* Late bytes of the ended connection go nowhere. */
	send_text(f, 1, 10, 4, KS_SOCK_RECV, request, 0);
	assert_int_equal(f->table.stats.unknown, 1);
	assert_int_equal(f->seen.heads[KS_HTTP_REQUESTS], 1);
	/* The process's other connection is still there, for its end. */
	ks_conn_table_drop_process(&f->table, 10, 6);
	assert_int_equal(f->seen.last_closing_id, 2);
	assert_int_equal(f->table.nr, 0);
}

static void test_peer_by_tuple(void **state)
{
	struct fixture *f = *state;
	struct ks_conn *client, *server;
	void *record;
	size_t size;

	open_conn(f, 1, 10, KS_CONN_SERVER, 80, 5000);
	/* A remote client: nobody at the other end. */
	server = by_tuple(f, 80, 5000);
	assert_non_null(server);
	assert_null(ks_conn_table_peer(&f->table, server));
	open_conn(f, 2, 20, KS_CONN_CLIENT, 5000, 80);
	client = ks_conn_table_peer(&f->table, server);
	assert_non_null(client);
	assert_int_equal(client->id, 2);
	assert_ptr_equal(ks_conn_table_peer(&f->table, client), server);
	record = test_close(&size, 2, 20, 5);
	feed(f, record, size);
	assert_null(ks_conn_table_peer(&f->table, server));
	/* The same port again, another client: the answer is not kept. */
	open_conn(f, 3, 30, KS_CONN_CLIENT, 5000, 80);
	client = ks_conn_table_peer(&f->table, server);
	assert_non_null(client);
	assert_int_equal(client->id, 3);
}

static void test_full_table_refuses(void **state)
{
	struct fixture *f = *state;

	for (int id = 1; id <= 4; id++)
		open_conn(f, id, 10, KS_CONN_SERVER, 80, 5000 + id);
	assert_int_equal(f->table.nr, 3);
	assert_int_equal(f->table.stats.table_full, 1);
	/* The kernel stops copying what nobody follows. */
	assert_int_equal(f->seen.forgotten, 1);
	/* That connection only: the socket's memory may be another's by the
	 * time the kernel side hears of it. */
	assert_int_equal(f->seen.last_forgotten_sock, 0x1000 + 4);
	assert_int_equal(f->seen.last_forgotten_id, 4);
}

static void test_process_dropped(void **state)
{
	struct fixture *f = *state;

	open_conn(f, 1, 10, KS_CONN_SERVER, 80, 5000);
	open_conn(f, 2, 10, KS_CONN_SERVER, 80, 5001);
	open_conn(f, 3, 20, KS_CONN_CLIENT, 5000, 80);
	ks_conn_table_drop_process(&f->table, 10, 50);
	assert_int_equal(f->seen.closing, 2);
	assert_int_equal(f->seen.forgotten, 2);
	assert_int_equal(f->table.nr, 1);
	ks_conn_table_drop_process(&f->table, 99, 50);
	assert_int_equal(f->table.nr, 1);
}

static void test_not_http_dropped(void **state)
{
	struct fixture *f = *state;

	open_conn(f, 1, 10, KS_CONN_CLIENT, 5000, 22);
	/* An SSH client's first line. */
	send_text(f, 1, 10, 4, KS_SOCK_SEND, "SSH-2.0-OpenSSH_9.2\r\n", 0);
	assert_int_equal(f->table.stats.not_http, 1);
	assert_int_equal(f->table.nr, 0);
	assert_int_equal(f->seen.forgotten, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_directions, setup,
						teardown),
		cmocka_unit_test(test_padded_data_records),
		cmocka_unit_test_setup_teardown(test_found_by_id_in_any_process,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_by_tuple, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_table_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_process_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_http_dropped, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
