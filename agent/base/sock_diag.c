// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sock_diag.h"

/* Namespaces asked about at once, beyond which the oldest is dropped. */
#define KS_DIAG_NETNS_MAX 8

struct ks_netns_socket {
	uint64_t netns_inode; /* 0: unused slot */
	int fd;
	uint64_t last_use;
};

struct ks_sock_diag {
	int own_netns; /* the agent's own namespace, to come back to */
	uint64_t own_netns_inode;
	uint32_t seq;
	uint64_t uses;
	struct ks_netns_socket sockets[KS_DIAG_NETNS_MAX];
};

static int ks_diag_socket(void)
{
	return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

struct ks_sock_diag *ks_sock_diag_new(void)
{
	struct ks_sock_diag *diag = calloc(1, sizeof(*diag));
	struct stat st;

	if (!diag)
		return NULL;
	diag->own_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (diag->own_netns >= 0 && !fstat(diag->own_netns, &st))
		diag->own_netns_inode = st.st_ino;
	for (int i = 0; i < KS_DIAG_NETNS_MAX; i++)
		diag->sockets[i].fd = -1;
	return diag;
}

void ks_sock_diag_free(struct ks_sock_diag *diag)
{
	if (!diag)
		return;
	for (int i = 0; i < KS_DIAG_NETNS_MAX; i++)
		if (diag->sockets[i].fd >= 0)
			close(diag->sockets[i].fd);
	if (diag->own_netns >= 0)
		close(diag->own_netns);
	free(diag);
}

/*
 * A netlink socket answers about the namespace it was made in: enter the
 * other one on this thread just to make it, then come back.
 */
static int ks_socket_in(struct ks_sock_diag *diag, int netns_fd)
{
	int fd, saved;

	if (diag->own_netns < 0)
		return -ENOTSUP;
	if (setns(netns_fd, CLONE_NEWNET))
		return -errno;
	fd = ks_diag_socket();
	saved = errno;
	if (setns(diag->own_netns, CLONE_NEWNET))
		ks_err("could not return to the agent's network namespace: %s\n",
		       strerror(errno));
	return fd < 0 ? -saved : fd;
}

/* The netlink socket for netns_fd's namespace, made when first needed. */
static int ks_diag_fd(struct ks_sock_diag *diag, int netns_fd)
{
	struct ks_netns_socket *slot = &diag->sockets[0];
	uint64_t inode = diag->own_netns_inode;
	struct stat st;
	int fd;

	if (netns_fd >= 0) {
		if (fstat(netns_fd, &st))
			return -errno;
		inode = st.st_ino;
	}
	for (int i = 0; i < KS_DIAG_NETNS_MAX; i++) {
		struct ks_netns_socket *s = &diag->sockets[i];

		if (s->fd >= 0 && s->netns_inode == inode) {
			s->last_use = ++diag->uses;
			return s->fd;
		}
		if (s->last_use < slot->last_use)
			slot = s;
	}
	fd = netns_fd < 0 || inode == diag->own_netns_inode ?
		     ks_diag_socket() :
		     ks_socket_in(diag, netns_fd);
	if (fd < 0)
		return fd;
	if (slot->fd >= 0)
		close(slot->fd);
	slot->fd = fd;
	slot->netns_inode = inode;
	slot->last_use = ++diag->uses;
	return fd;
}

/*
 * Sends one request and copies its answer (at most capacity bytes, and at
 * least needed) into answer, never waiting: the kernel answers a diag
 * request before send() returns.  Answers to requests given up on earlier
 * are skipped by their sequence numbers.  Returns the length copied.
 */
static int ks_diag_ask(struct ks_sock_diag *diag, int netns_fd,
		       struct nlmsghdr *request, void *answer, size_t capacity,
		       size_t needed)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int fd = ks_diag_fd(diag, netns_fd);

	if (fd < 0)
		return fd;
	request->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	request->nlmsg_flags = NLM_F_REQUEST;
	request->nlmsg_seq = ++diag->seq;
	if (send(fd, request, request->nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (len < 0)
			return -errno;
		for (; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			size_t payload = NLMSG_PAYLOAD(h, 0);

			if (h->nlmsg_seq != request->nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *err = NLMSG_DATA(h);

				return err->error ? err->error : -ENOENT;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    payload < needed)
				return -EPROTO;
			if (payload > capacity)
				payload = capacity;
			memcpy(answer, NLMSG_DATA(h), payload);
			return (int)payload;
		}
	}
}

int ks_sock_diag_unix(struct ks_sock_diag *diag, int netns_fd, uint64_t inode,
		      struct ks_unix_diag *out)
{
	struct {
		struct nlmsghdr h;
		struct unix_diag_req r;
	} request = { .h.nlmsg_len = sizeof(request) };
	struct {
		struct unix_diag_msg msg;
		char attrs[1024];
	} answer;
	struct rtattr *attr = (struct rtattr *)answer.attrs;
	int len;

	memset(out, 0, sizeof(*out));
	if (inode > UINT32_MAX)
		return -ENOENT; /* unix diag names sockets by 32 bits */
	request.r.sdiag_family = AF_UNIX;
	request.r.udiag_states = ~0u;
	request.r.udiag_ino = (uint32_t)inode;
	request.r.udiag_show = UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
	request.r.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
	request.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	len = ks_diag_ask(diag, netns_fd, &request.h, &answer, sizeof(answer),
			  sizeof(answer.msg));
	if (len < 0)
		return len;
	out->inode = answer.msg.udiag_ino;
	out->type = answer.msg.udiag_type;
	out->state = answer.msg.udiag_state;
	len -= (int)sizeof(answer.msg);
	for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
		if (attr->rta_type == UNIX_DIAG_PEER &&
		    RTA_PAYLOAD(attr) >= sizeof(uint32_t)) {
			out->peer_inode = *(uint32_t *)RTA_DATA(attr);
		} else if (attr->rta_type == UNIX_DIAG_RQLEN &&
			   RTA_PAYLOAD(attr) >=
				   sizeof(struct unix_diag_rqlen)) {
			struct unix_diag_rqlen *q = RTA_DATA(attr);

			out->rqueue = q->udiag_rqueue;
			out->wqueue = q->udiag_wqueue;
		}
	}
	return 0;
}

/* Copies an address and port into the big-endian words diag wants. */
static int ks_diag_endpoint(const struct sockaddr_storage *ss, __be16 *port,
			    __be32 addr[4])
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		*port = in->sin_port;
		addr[0] = in->sin_addr.s_addr;
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		*port = in6->sin6_port;
		memcpy(addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int ks_sock_diag_tcp(struct ks_sock_diag *diag, int netns_fd,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *remote,
		     struct ks_tcp_diag *out)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} request = { .h.nlmsg_len = sizeof(request) };
	struct inet_diag_msg answer;
	int len;

	memset(out, 0, sizeof(*out));
	if (local->ss_family != remote->ss_family)
		return -EAFNOSUPPORT;
	request.r.sdiag_family = local->ss_family;
	request.r.sdiag_protocol = IPPROTO_TCP;
	request.r.idiag_states = ~0u;
	if (ks_diag_endpoint(local, &request.r.id.idiag_sport,
			     request.r.id.idiag_src) ||
	    ks_diag_endpoint(remote, &request.r.id.idiag_dport,
			     request.r.id.idiag_dst))
		return -EAFNOSUPPORT;
	request.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	request.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	len = ks_diag_ask(diag, netns_fd, &request.h, &answer, sizeof(answer),
			  sizeof(answer));
	if (len < 0)
		return len;
	out->inode = answer.idiag_inode;
	out->state = answer.idiag_state;
	out->rqueue = answer.idiag_rqueue;
	out->wqueue = answer.idiag_wqueue;
	return 0;
}
