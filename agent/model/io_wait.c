// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd_peek.h"
#include "base/proc_fd.h"
#include "model/io_wait.h"

const char *ks_io_wait_kind_name(enum ks_io_wait_kind kind)
{
	switch (kind) {
	case KS_IO_WAIT_PIPE_READ:
		return "pipe-read";
	case KS_IO_WAIT_PIPE_WRITE:
		return "pipe-write";
	case KS_IO_WAIT_SOCKET_READ:
		return "socket-read";
	case KS_IO_WAIT_SOCKET_WRITE:
		return "socket-write";
	case KS_IO_WAIT_CHILD_EXIT:
		return "child-exit";
	case KS_IO_WAIT_NONE:
		break;
	}
	return "none";
}

const char *ks_io_object_name(enum ks_io_object object)
{
	switch (object) {
	case KS_IO_OBJ_PIPE:
		return "pipe";
	case KS_IO_OBJ_FIFO:
		return "fifo";
	case KS_IO_OBJ_UNIX:
		return "unix";
	case KS_IO_OBJ_TCP:
		return "tcp";
	case KS_IO_OBJ_CHILD:
		return "process";
	case KS_IO_OBJ_NONE:
		break;
	}
	return "none";
}

const char *ks_io_rule_name(enum ks_io_rule rule)
{
	switch (rule) {
	case KS_IO_RULE_HOLDERS:
		return "holders";
	case KS_IO_RULE_SERVING:
		return "serving-thread";
	case KS_IO_RULE_CHILD:
		return "child";
	case KS_IO_RULE_NONE:
		break;
	}
	return "none";
}

uint64_t ks_thread_io_since(const struct ks_thread_io *io, bool *first_seen)
{
	*first_seen = !io->begin_ns;
	return io->begin_ns ? io->begin_ns : io->seen_ns;
}

void ks_thread_io_reset(struct ks_thread_io *io)
{
	if (io->target)
		free(io->target->parties);
	free(io->target);
	memset(io, 0, sizeof(*io));
}

/*
 * The one fd a poll or epoll waits on, and in which direction; -1 when it
 * is not one fd in one direction.
 */
static int ks_watched_fd(uint32_t tgid, const struct ks_io_call *call, int *fd,
			 enum ks_io_dir *dir)
{
	struct ks_epoll_target watched;
	struct ks_fd_link link;
	struct pollfd pollfd;

	*fd = -1;
	*dir = KS_IO_DIR_NONE;
	switch (call->via) {
	case KS_IO_VIA_CALL:
		*fd = (int)call->fd;
		*dir = call->dir;
		return 0;
	case KS_IO_VIA_POLL:
		if (ks_proc_read_mem(tgid, call->pollfd_addr, &pollfd,
				     sizeof(pollfd)))
			return -1;
		*fd = pollfd.fd;
		*dir = ks_io_dir_of_events((uint16_t)pollfd.events);
		break;
	case KS_IO_VIA_EPOLL:
		if (ks_proc_read_epoll_targets(tgid, (int)call->fd, &watched,
					       1) != 1 ||
		    ks_proc_read_fd_link(tgid, watched.fd, &link) ||
		    link.inode != watched.inode)
			return -1; /* the number names another file since */
		*fd = watched.fd;
		*dir = ks_io_dir_of_events(watched.events);
		break;
	}
	return *fd >= 0 && *dir != KS_IO_DIR_NONE ? 0 : -1;
}

static bool ks_readable(unsigned int flags)
{
	return (flags & O_ACCMODE) != O_WRONLY;
}

static bool ks_writable(unsigned int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

static int ks_resolve_pipe(const struct ks_peeked_file *file, bool anonymous,
			   enum ks_io_dir dir, struct ks_io_target *target)
{
	target->object = anonymous ? KS_IO_OBJ_PIPE : KS_IO_OBJ_FIFO;
	target->dev = file->dev;
	target->inode = file->inode;
	target->queued = file->pipe_bytes;
	if (dir == KS_IO_DIR_READ) {
		target->kind = KS_IO_WAIT_PIPE_READ;
		/* With bytes in it a reader is not blocked on the writers. */
		return ks_readable(file->flags) && file->pipe_bytes == 0 ? 0 :
									   -1;
	}
	target->kind = KS_IO_WAIT_PIPE_WRITE;
	return ks_writable(file->flags) && file->pipe_bytes > 0 ? 0 : -1;
}

static void ks_endpoint(const struct sockaddr_storage *ss,
			struct ks_io_endpoint *out)
{
	memset(out, 0, sizeof(*out));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		out->addr[10] = out->addr[11] = 0xff;
		memcpy(&out->addr[12], &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		memcpy(out->addr, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
	}
}

static int ks_resolve_unix(struct ks_sock_diag *diag, int netns,
			   const struct ks_peeked_file *file,
			   enum ks_io_dir dir, struct ks_io_target *target)
{
	struct ks_unix_diag found;

	/* A datagram socket can hear from anyone who knows its name. */
	if (file->type != SOCK_STREAM && file->type != SOCK_SEQPACKET)
		return -1;
	if (ks_sock_diag_unix(diag, netns, file->inode, &found) ||
	    !found.peer_inode || found.state != TCP_ESTABLISHED)
		return -1;
	target->object = KS_IO_OBJ_UNIX;
	target->sock_type = (uint8_t)file->type;
	target->peer_inode = found.peer_inode;
	if (dir == KS_IO_DIR_READ) {
		target->queued = found.rqueue;
		return found.rqueue == 0 ? 0 : -1;
	}
	/* What it sent counts against it until the other end reads it. */
	target->queued = found.wqueue;
	return found.wqueue > 0 ? 0 : -1;
}

static int ks_resolve_tcp(struct ks_sock_diag *diag, int netns,
			  const struct ks_peeked_file *file, enum ks_io_dir dir,
			  struct ks_io_target *target)
{
	struct ks_tcp_diag peer;

	if (file->protocol != IPPROTO_TCP || !file->local_len ||
	    !file->remote_len)
		return -1;
	/* The other end: its own address is this one's peer, and back. */
	if (ks_sock_diag_tcp(diag, netns, &file->remote, &file->local, &peer) ||
	    !peer.inode || peer.state != TCP_ESTABLISHED)
		return -1;
	target->object = KS_IO_OBJ_TCP;
	target->sock_type = SOCK_STREAM;
	target->peer_inode = peer.inode;
	ks_endpoint(&file->local, &target->local);
	ks_endpoint(&file->remote, &target->remote);
	if (dir == KS_IO_DIR_READ) {
		/* Bytes the other end sent and the kernel has yet to move
		 * arrive with nobody's help. */
		target->queued = file->in_queue;
		target->peer_queued = peer.wqueue;
		return file->in_queue == 0 && peer.wqueue == 0 ? 0 : -1;
	}
	target->queued = file->out_queue;
	target->peer_queued = peer.rqueue;
	return file->out_queue > 0 ? 0 : -1;
}

static int ks_resolve_socket(struct ks_sock_diag *diag, int netns,
			     const struct ks_peeked_file *file,
			     const struct ks_io_call *call, enum ks_io_dir dir,
			     struct ks_io_target *target)
{
	if (file->listening)
		return -1;
	/* SO_RCVTIMEO/SO_SNDTIMEO end a read or write, not a poll. */
	if (call->via == KS_IO_VIA_CALL &&
	    (dir == KS_IO_DIR_READ ? file->recv_timeout : file->send_timeout))
		return -1;
	target->kind = dir == KS_IO_DIR_READ ? KS_IO_WAIT_SOCKET_READ :
					       KS_IO_WAIT_SOCKET_WRITE;
	target->inode = file->inode;
	if (file->domain == AF_UNIX)
		return ks_resolve_unix(diag, netns, file, dir, target);
	if (file->domain == AF_INET || file->domain == AF_INET6)
		return ks_resolve_tcp(diag, netns, file, dir, target);
	return -1;
}

int ks_io_target_resolve(struct ks_sock_diag *diag, uint32_t tgid,
			 const struct ks_io_call *call, uint32_t child_tgid,
			 struct ks_io_target *target)
{
	struct ks_peeked_file file;
	struct ks_fd_link link;
	enum ks_io_dir dir;
	int fd, netns = -1, ret = -1;

	memset(target, 0, sizeof(*target));
	target->epoll_fd =
		call->via == KS_IO_VIA_EPOLL ? (int32_t)call->fd : -1;
	target->via = call->via;
	target->call = call->name;
	target->fd = -1;
	/* alarm() before a read is how some programs time it out. */
	if (ks_proc_may_time_itself(tgid))
		return -1;
	if (call->dir == KS_IO_DIR_CHILD) {
		target->kind = KS_IO_WAIT_CHILD_EXIT;
		target->object = KS_IO_OBJ_CHILD;
		target->child_tgid = child_tgid;
		return child_tgid ? 0 : -1;
	}
	if (ks_watched_fd(tgid, call, &fd, &dir) ||
	    ks_proc_read_fd_link(tgid, fd, &link) ||
	    ks_fd_peek(tgid, fd, &file, &netns))
		return -1;
	target->fd = fd;
	if (S_ISFIFO(file.mode))
		ret = ks_resolve_pipe(&file, link.type == KS_FD_PIPE, dir,
				      target);
	else if (S_ISSOCK(file.mode))
		ret = ks_resolve_socket(diag, netns, &file, call, dir, target);
	if (netns >= 0)
		close(netns);
	return ret;
}

bool ks_io_target_unchanged(struct ks_sock_diag *diag, uint32_t tgid,
			    const struct ks_io_call *call,
			    const struct ks_io_target *target)
{
	struct ks_io_target now;

	if (ks_io_target_resolve(diag, tgid, call, target->child_tgid, &now))
		return false;
	return now.kind == target->kind && now.object == target->object &&
	       now.fd == target->fd && now.dev == target->dev &&
	       now.inode == target->inode &&
	       now.peer_inode == target->peer_inode &&
	       now.queued == target->queued &&
	       now.peer_queued == target->peer_queued;
}
