// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>

#include "base/printable.h"
#include "report/io_wait_describe.h"
#include "report/json_build.h"

void ks_io_object_describe(const struct ks_io_target *io, char *buf,
			   size_t size)
{
	switch (io->object) {
	case KS_IO_OBJ_PIPE:
		snprintf(buf, size, "pipe:[%" PRIu64 "]", io->inode);
		break;
	case KS_IO_OBJ_FIFO:
		snprintf(buf, size, "fifo:[%" PRIu64 "]", io->inode);
		break;
	case KS_IO_OBJ_UNIX:
	case KS_IO_OBJ_TCP:
		snprintf(buf, size, "socket:[%" PRIu64 "]", io->inode);
		break;
	case KS_IO_OBJ_CHILD:
		snprintf(buf, size, "pid %u", io->child_tgid);
		break;
	case KS_IO_OBJ_NONE:
		snprintf(buf, size, "nothing");
		break;
	}
}

void ks_io_endpoint_describe(const struct ks_io_endpoint *endpoint, char *buf,
			     size_t size)
{
	static const uint8_t v4_mapped[12] = { [10] = 0xff, [11] = 0xff };
	char addr[INET6_ADDRSTRLEN];

	if (!memcmp(endpoint->addr, v4_mapped, sizeof(v4_mapped))) {
		inet_ntop(AF_INET, &endpoint->addr[12], addr, sizeof(addr));
		snprintf(buf, size, "%s:%u", addr, endpoint->port);
		return;
	}
	inet_ntop(AF_INET6, endpoint->addr, addr, sizeof(addr));
	snprintf(buf, size, "[%s]:%u", addr, endpoint->port);
}

/* "unix-stream", "unix-seqpacket" or "tcp". */
static const char *ks_socket_type(const struct ks_io_target *io)
{
	if (io->object == KS_IO_OBJ_TCP)
		return "tcp";
	return io->sock_type == SOCK_SEQPACKET ? "unix-seqpacket" :
						 "unix-stream";
}

/* The deadlock's i-th thread: its members, then those behind it. */
static const struct ks_thread *ks_nth_thread(const struct ks_deadlock *deadlock,
					     size_t i)
{
	return i < deadlock->nr_members ?
		       deadlock->members[i].thread :
		       deadlock->behind[i - deadlock->nr_members].thread;
}

/* The name of the process tgid, from the deadlock's own threads. */
static const char *ks_process_comm(const struct ks_deadlock *deadlock,
				   uint32_t tgid)
{
	for (size_t i = 0; i < deadlock->nr_members + deadlock->nr_behind; i++)
		if (ks_nth_thread(deadlock, i)->tgid == tgid)
			return ks_nth_thread(deadlock, i)->process->comm;
	return NULL;
}

static const char *ks_thread_comm(const struct ks_deadlock *deadlock,
				  uint32_t tid)
{
	for (size_t i = 0; i < deadlock->nr_members + deadlock->nr_behind; i++)
		if (ks_nth_thread(deadlock, i)->tid == tid)
			return ks_nth_thread(deadlock, i)->comm;
	return NULL;
}

static void ks_write_name(FILE *out, const char *comm)
{
	char text[KS_PRINTABLE_SIZE(KS_COMM_LEN)];

	if (comm)
		fprintf(out, " (%s)", ks_printable(comm, text, sizeof(text)));
}

/* "pid 7 (cat) by fd 4, pid 9 (tee) by fd 3" */
static void ks_write_parties(FILE *out, const struct ks_deadlock *deadlock,
			     const struct ks_io_target *io)
{
	for (uint32_t i = 0; i < io->nr_parties; i++) {
		const struct ks_io_party *p = &io->parties[i];

		fprintf(out, "%s", i ? ", " : "");
		if (p->tid) {
			fprintf(out, "thread %u", p->tid);
			ks_write_name(out, ks_thread_comm(deadlock, p->tid));
			fprintf(out, " of ");
		}
		fprintf(out, "pid %u", p->tgid);
		ks_write_name(out, ks_process_comm(deadlock, p->tgid));
		if (p->fd >= 0)
			fprintf(out, " by fd %d", p->fd);
	}
}

/* "(fd 3, a tcp socket 127.0.0.1:41234 -> 127.0.0.1:8080)" */
static void ks_write_where(FILE *out, const struct ks_io_target *io)
{
	char local[64], remote[64];

	fprintf(out, " (fd %d", io->fd);
	if (io->object == KS_IO_OBJ_TCP) {
		ks_io_endpoint_describe(&io->local, local, sizeof(local));
		ks_io_endpoint_describe(&io->remote, remote, sizeof(remote));
		fprintf(out, ", tcp %s -> %s", local, remote);
	} else if (io->object == KS_IO_OBJ_UNIX) {
		fprintf(out, ", %s", ks_socket_type(io));
	}
	fprintf(out, ")");
}

void ks_io_wait_write_text(FILE *out, const struct ks_deadlock *deadlock,
			   const struct ks_deadlock_member *member)
{
	const struct ks_io_target *io = member->target.io;
	bool reads = io->kind == KS_IO_WAIT_PIPE_READ ||
		     io->kind == KS_IO_WAIT_SOCKET_READ;
	char object[48];

	ks_io_object_describe(io, object, sizeof(object));
	fprintf(out, "waits in %s()", io->call);
	if (io->kind == KS_IO_WAIT_CHILD_EXIT) {
		fprintf(out, " for its child %s", object);
		ks_write_name(out, ks_process_comm(deadlock, io->child_tgid));
		fprintf(out, " to exit");
		return;
	}
	if (io->via == KS_IO_VIA_EPOLL)
		fprintf(out, " on epoll fd %d", io->epoll_fd);
	fprintf(out, " %s %s", io->via == KS_IO_VIA_CALL ? "on" : "for",
		object);
	ks_write_where(out, io);
	if (reads)
		fprintf(out, ", empty, for data");
	else
		fprintf(out, ", %" PRId64 " bytes untaken, for room",
			io->queued);
	if (io->object == KS_IO_OBJ_PIPE || io->object == KS_IO_OBJ_FIFO)
		fprintf(out, "; its %s end is held only by ",
			reads ? "write" : "read");
	else if (io->rule == KS_IO_RULE_SERVING)
		fprintf(out,
			"; its other end socket:[%" PRIu64 "] is served by ",
			io->peer_inode);
	else
		fprintf(out,
			"; its other end socket:[%" PRIu64 "] is held only by ",
			io->peer_inode);
	ks_write_parties(out, deadlock, io);
}

static json_object *ks_parties_json(const struct ks_deadlock *deadlock,
				    const struct ks_io_target *io)
{
	json_object *held_by = json_object_new_array();

	for (uint32_t i = 0; i < io->nr_parties; i++) {
		const struct ks_io_party *p = &io->parties[i];
		json_object *party = json_object_new_object();
		const char *comm = ks_process_comm(deadlock, p->tgid);

		ks_json_add(party, "pid", json_object_new_int((int)p->tgid));
		ks_json_add(party, "tid",
			    p->tid ? json_object_new_int((int)p->tid) : NULL);
		ks_json_add(party, "fd",
			    p->fd >= 0 ? json_object_new_int(p->fd) : NULL);
		ks_json_add(party, "process_comm",
			    comm ? json_object_new_string(comm) : NULL);
		ks_json_push(held_by, party);
	}
	return held_by;
}

static json_object *ks_socket_json(const struct ks_io_target *io)
{
	json_object *socket = json_object_new_object();
	char text[64];

	ks_json_add(socket, "type", json_object_new_string(ks_socket_type(io)));
	snprintf(text, sizeof(text), "socket:[%" PRIu64 "]", io->peer_inode);
	ks_json_add(socket, "other_end", json_object_new_string(text));
	ks_io_endpoints_add_json(socket, io);
	return socket;
}

void ks_io_endpoints_add_json(json_object *obj, const struct ks_io_target *io)
{
	char text[64];

	if (io->object != KS_IO_OBJ_TCP)
		return;
	ks_io_endpoint_describe(&io->local, text, sizeof(text));
	ks_json_add(obj, "local", json_object_new_string(text));
	ks_io_endpoint_describe(&io->remote, text, sizeof(text));
	ks_json_add(obj, "remote", json_object_new_string(text));
}

void ks_io_wait_add_names(json_object *obj, const struct ks_io_target *io)
{
	char object[48];

	ks_json_add(obj, "kind",
		    json_object_new_string(ks_io_wait_kind_name(io->kind)));
	ks_json_add(obj, "syscall", json_object_new_string(io->call));
	ks_io_object_describe(io, object, sizeof(object));
	ks_json_add(obj, "object", json_object_new_string(object));
}

void ks_io_wait_add_json(json_object *wait, const struct ks_deadlock *deadlock,
			 const struct ks_deadlock_member *member)
{
	const struct ks_io_target *io = member->target.io;
	json_object *other_end = json_object_new_object();

	ks_io_wait_add_names(wait, io);
	if (io->kind == KS_IO_WAIT_CHILD_EXIT) {
		ks_json_add(wait, "child_pid",
			    json_object_new_int((int)io->child_tgid));
	} else {
		ks_json_add(wait, "fd", json_object_new_int(io->fd));
		ks_json_add(wait, "inode", json_object_new_uint64(io->inode));
		if (io->via != KS_IO_VIA_CALL)
			ks_json_add(wait, "via",
				    json_object_new_string(
					    io->via == KS_IO_VIA_POLL ?
						    "poll" :
						    "epoll"));
		if (io->via == KS_IO_VIA_EPOLL)
			ks_json_add(wait, "epoll_fd",
				    json_object_new_int(io->epoll_fd));
		ks_json_add(wait, "queued_bytes",
			    json_object_new_int64(io->queued));
		if (io->object == KS_IO_OBJ_UNIX || io->object == KS_IO_OBJ_TCP)
			ks_json_add(wait, "socket", ks_socket_json(io));
	}
	ks_json_add(other_end, "rule",
		    json_object_new_string(ks_io_rule_name(io->rule)));
	ks_json_add(other_end, "held_by", ks_parties_json(deadlock, io));
	ks_json_add(wait, "other_end", other_end);
}
