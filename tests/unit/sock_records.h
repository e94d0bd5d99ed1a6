/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Socket ring buffer records as the kernel side writes them, for tests:
 * each builder returns a malloc()ed record and its size in *size.
 */
#ifndef KS_TEST_SOCK_RECORDS_H
#define KS_TEST_SOCK_RECORDS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knotscope_abi.h"
#include "record_header.h"

/* 127.0.0.1:port, IPv4-mapped. */
static inline struct ks_endpoint test_endpoint(uint16_t port)
{
	struct ks_endpoint endpoint = { .port = port };

	endpoint.addr[10] = endpoint.addr[11] = 0xff;
	endpoint.addr[12] = 127;
	endpoint.addr[15] = 1;
	return endpoint;
}

/* A connection from local_port to remote_port, first seen in tgid. */
static inline void *test_open(size_t *size, uint64_t conn_id, uint32_t tgid,
			      uint64_t sock, uint8_t role, uint16_t local_port,
			      uint16_t remote_port, uint64_t ts_ns)
{
	struct ks_sock_open *rec = calloc(1, sizeof(*rec));

	record_header(&rec->hdr, KS_EV_SOCK_OPEN, sizeof(*rec), tgid, tgid,
		      ts_ns);
	rec->conn_id = conn_id;
	rec->sock = sock;
	rec->role = role;
	rec->family = 2;
	rec->tuple.local = test_endpoint(local_port);
	rec->tuple.remote = test_endpoint(remote_port);
	*size = sizeof(*rec);
	return rec;
}

struct test_data {
	uint64_t conn_id;
	uint32_t tgid;
	uint32_t tid;
	int32_t fd;
	uint8_t direction;
	uint8_t flags;
	uint64_t ts_ns;
	const void *bytes;
	size_t captured; /* of bytes */
	size_t total; /* 0: captured */
	size_t padding; /* after the bytes, as the kernel pads to a size */
	uint8_t trace_id[16];
	uint8_t span_id[8];
};

static inline void *test_data_record(size_t *size, const struct test_data *d)
{
	size_t total = d->total ? d->total : d->captured;
	struct ks_sock_data *rec =
		calloc(1, sizeof(*rec) + d->captured + d->padding);

	*size = sizeof(*rec) + d->captured + d->padding;
	record_header(&rec->hdr, KS_EV_SOCK_DATA, *size, d->tgid, d->tid,
		      d->ts_ns);
	rec->conn_id = d->conn_id;
	rec->total_len = total;
	rec->fd = d->fd;
	rec->captured_len = (uint16_t)d->captured;
	rec->direction = d->direction;
	rec->flags = d->flags;
	memcpy(rec->trace_id, d->trace_id, sizeof(rec->trace_id));
	memcpy(rec->span_id, d->span_id, sizeof(rec->span_id));
	memcpy(rec + 1, d->bytes, d->captured);
	return rec;
}

/* Its socket ended, seen in whatever process tgid was running then. */
static inline void *test_close(size_t *size, uint64_t conn_id, uint32_t tgid,
			       uint64_t ts_ns)
{
	struct ks_sock_close *rec = calloc(1, sizeof(*rec));

	record_header(&rec->hdr, KS_EV_SOCK_CLOSE, sizeof(*rec), tgid, tgid,
		      ts_ns);
	rec->conn_id = conn_id;
	*size = sizeof(*rec);
	return rec;
}

#endif /* KS_TEST_SOCK_RECORDS_H */
