// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/decimal.h"
#include "serve/listen_addr.h"

static int ks_parse_port(const char *text, in_port_t *port)
{
	unsigned long long value;

	if (ks_parse_decimal(text, &value, NULL) || value > 65535)
		return -1;
	*port = htons((uint16_t)value);
	return 0;
}

int ks_listen_addr_parse(const char *text, struct sockaddr_storage *addr,
			 socklen_t *len)
{
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	const char *colon = strrchr(text, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t host_len;

	if (!colon)
		return -1;
	host_len = (size_t)(colon - text);
	if (host_len == 0 || host_len >= sizeof(host))
		return -1;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (host[0] == '[' && host[host_len - 1] == ']') {
		host[host_len - 1] = '\0';
		in6->sin6_family = AF_INET6;
		*len = sizeof(*in6);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -1;
		return ks_parse_port(colon + 1, &in6->sin6_port);
	}
	in4->sin_family = AF_INET;
	*len = sizeof(*in4);
	if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
		return -1;
	return ks_parse_port(colon + 1, &in4->sin_port);
}

bool ks_listen_addr_off(const char *text)
{
	return !strcmp(text, "off");
}

void ks_listen_addr_format(const struct sockaddr *addr, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
		return;
	}
	inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, host,
		  sizeof(host));
	snprintf(buf, size, "%s:%u", host,
		 ntohs(((const struct sockaddr_in *)addr)->sin_port));
}

bool ks_listen_host_allowed(const char *host)
{
	char name[256], bytes[sizeof(struct in6_addr)];
	const char *colon = strrchr(host, ':');
	size_t len;

	if (host[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		const char *close = strchr(host, ']');

		if (!close || (close[1] && close[1] != ':'))
			return false;
		len = (size_t)(close - host - 1);
		if (len >= sizeof(name))
			return false;
		memcpy(name, host + 1, len);
		name[len] = '\0';
		return inet_pton(AF_INET6, name, bytes) == 1;
	}
	len = colon ? (size_t)(colon - host) : strlen(host);
	if (len >= sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	if (inet_pton(AF_INET, name, bytes) == 1)
		return true;
	while (len && name[len - 1] == '.')
		name[--len] = '\0';
	return !strcasecmp(name, "localhost") ||
	       (len > 10 && !strcasecmp(name + len - 10, ".localhost"));
}
