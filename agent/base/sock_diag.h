/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel's socket tables, asked through NETLINK_SOCK_DIAG (what `ss`
 * shows): the other end of a unix socket, and the local socket at the
 * other end of a TCP connection.  Each question names one socket, which
 * the kernel looks up directly; nothing is dumped.
 *
 * Sockets belong to network namespaces, and so do the answers: questions
 * about a socket go to its own namespace (the fd of it that SIOCGSKNS
 * gives), through a netlink socket made there and kept for later.
 */
#ifndef KS_SOCK_DIAG_H
#define KS_SOCK_DIAG_H

#include <stdint.h>
#include <sys/socket.h>

struct ks_sock_diag;

struct ks_sock_diag *ks_sock_diag_new(void);
void ks_sock_diag_free(struct ks_sock_diag *diag);

struct ks_unix_diag {
	uint64_t inode;
	uint64_t peer_inode; /* 0: not connected */
	uint8_t type; /* SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM */
	uint8_t state; /* TCP_ESTABLISHED when connected, TCP_LISTEN */
	uint32_t rqueue; /* bytes not yet read (listening: the backlog) */
	uint32_t wqueue; /* bytes sent that the other end has not read */
};

/*
 * The unix socket with that inode, in the network namespace netns_fd
 * (-1: the agent's own).  0, or -errno (ENOENT: no such socket).
 */
int ks_sock_diag_unix(struct ks_sock_diag *diag, int netns_fd, uint64_t inode,
		      struct ks_unix_diag *out);

struct ks_tcp_diag {
	uint64_t inode; /* 0: the kernel holds it, no file does */
	uint8_t state; /* TCP_ESTABLISHED, ... */
	uint32_t rqueue; /* bytes received, not yet read */
	uint32_t wqueue; /* bytes written, not yet acknowledged */
};

/*
 * The TCP socket whose own address is local and whose peer is remote
 * (both AF_INET, or both AF_INET6), in netns_fd (-1: the agent's own).
 * 0, or -errno (ENOENT: none, e.g. the other end is on another host).
 */
int ks_sock_diag_tcp(struct ks_sock_diag *diag, int netns_fd,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *remote,
		     struct ks_tcp_diag *out);

#endif /* KS_SOCK_DIAG_H */
