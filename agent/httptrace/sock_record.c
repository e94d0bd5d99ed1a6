// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "httptrace/sock_record.h"

#define KS_AF_INET 2
#define KS_AF_INET6 10

static int ks_decode_open(const void *record, size_t size,
			  struct ks_sock_event *ev)
{
	struct ks_sock_open open;

	if (size != sizeof(open))
		return -EINVAL;
	memcpy(&open, record, sizeof(open));
	if ((open.role != KS_CONN_SERVER && open.role != KS_CONN_CLIENT) ||
	    (open.family != KS_AF_INET && open.family != KS_AF_INET6) ||
	    !open.sock)
		return -EINVAL;
	ev->conn_id = open.conn_id;
	ev->sock = open.sock;
	ev->role = open.role;
	ev->tuple = open.tuple;
	/* Tuples are compared whole: padding must not tell them apart. */
	ev->tuple.local._pad0 = ev->tuple.remote._pad0 = 0;
	ev->tuple.local._pad1 = ev->tuple.remote._pad1 = 0;
	return 0;
}

static bool ks_all_zero(const uint8_t *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (bytes[i])
			return false;
	return true;
}

static int ks_decode_data(const void *record, size_t size,
			  struct ks_sock_event *ev)
{
	struct ks_sock_data data;

	if (size < sizeof(data))
		return -EINVAL;
	memcpy(&data, record, sizeof(data));
	/* The kernel pads a record to one of a few sizes. */
	if (size - sizeof(data) < data.captured_len ||
	    data.captured_len > KS_SOCK_CAPTURE_MAX ||
	    data.captured_len > data.total_len || !data.total_len ||
	    data.fd < -1 ||
	    (data.direction != KS_SOCK_RECV && data.direction != KS_SOCK_SEND))
		return -EINVAL;
	/* Trace Context forbids all-zero ids; the kernel never draws them. */
	if ((data.flags & KS_SOCK_SPAN_STARTED) &&
	    (ks_all_zero(data.trace_id, sizeof(data.trace_id)) ||
	     ks_all_zero(data.span_id, sizeof(data.span_id))))
		return -EINVAL;
	ev->conn_id = data.conn_id;
	ev->fd = data.fd;
	ev->direction = data.direction;
	ev->flags = data.flags;
	ev->total_len = data.total_len;
	ev->captured_len = data.captured_len;
	ev->data = (const uint8_t *)record + sizeof(data);
	memcpy(ev->trace_id, data.trace_id, sizeof(ev->trace_id));
	memcpy(ev->span_id, data.span_id, sizeof(ev->span_id));
	return 0;
}

static int ks_decode_close(const void *record, size_t size,
			   struct ks_sock_event *ev)
{
	struct ks_sock_close close;

	if (size != sizeof(close))
		return -EINVAL;
	memcpy(&close, record, sizeof(close));
	ev->conn_id = close.conn_id;
	return 0;
}

int ks_sock_record_decode(const void *record, size_t size,
			  struct ks_sock_event *ev)
{
	struct ks_event_header hdr;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (size < sizeof(hdr))
		return -EINVAL;
	memcpy(&hdr, record, sizeof(hdr));
	if (hdr.size != size)
		return -EINVAL;
	switch (hdr.kind) {
	case KS_EV_SOCK_OPEN:
		err = ks_decode_open(record, size, ev);
		break;
	case KS_EV_SOCK_DATA:
		err = ks_decode_data(record, size, ev);
		break;
	case KS_EV_SOCK_CLOSE:
		err = ks_decode_close(record, size, ev);
		break;
	default:
		err = -EINVAL;
	}
	if (err || !ev->conn_id)
		return -EINVAL;
	ev->kind = hdr.kind;
	ev->ts_ns = hdr.ts_ns;
	ev->tgid = hdr.tgid;
	ev->tid = hdr.tid;
	return 0;
}
