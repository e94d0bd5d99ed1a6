/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The address the HTTP server listens on, as --listen gives it: an IPv4
 * address or a bracketed IPv6 address, a colon and a port ("127.0.0.1:9464",
 * "[::1]:9464", port 0 for any free one), or "off".
 */
#ifndef KS_LISTEN_ADDR_H
#define KS_LISTEN_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#define KS_DEFAULT_LISTEN "127.0.0.1:9464"

/* 0 with addr filled, or -1 when text is not such an address. */
int ks_listen_addr_parse(const char *text, struct sockaddr_storage *addr,
			 socklen_t *len);
bool ks_listen_addr_off(const char *text);
/* "ADDR:PORT" or "[ADDR]:PORT" into buf. */
void ks_listen_addr_format(const struct sockaddr *addr, char *buf, size_t size);

/*
 * Whether a request's Host header names this server the way no other
 * site can: an IP address (of either family, with or without a port), or
 * "localhost" and names under it.  Any other name may be an attacker's
 * that resolves here (DNS rebinding).
 */
bool ks_listen_host_allowed(const char *host);

#endif /* KS_LISTEN_ADDR_H */
