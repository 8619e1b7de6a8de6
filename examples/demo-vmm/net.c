// SPDX-License-Identifier: MIT
/* TCP on IPv4 for the migration stream: "host:port", port 0 = any free. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm.h"

static int parse(const char *addr, struct sockaddr_in *sa, char *why,
		 size_t why_len)
{
	const char *colon = strrchr(addr, ':');
	char host[256];
	struct addrinfo hints, *res = NULL;
	char *end;
	long port;
	int r;

	if (!colon || (size_t)(colon - addr) >= sizeof(host)) {
		snprintf(why, why_len, "\"%s\" is not host:port", addr);
		return -EINVAL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535) {
		snprintf(why, why_len, "\"%s\": bad port", addr);
		return -EINVAL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host[0] ? host : "127.0.0.1", NULL, &hints, &res);
	if (r || !res) {
		snprintf(why, why_len, "%s: %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	memcpy(sa, res->ai_addr, sizeof(*sa));
	sa->sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
	return 0;
}

int net_listen(const char *addr, int *ret_port, char *why, size_t why_len)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1, r;

	r = parse(addr, &sa, why, why_len);
	if (r)
		return r;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		goto fail;
	*ret_port = ntohs(sa.sin_port);
	return fd;
fail:
	r = -errno;
	snprintf(why, why_len, "listening on %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int net_accept(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int c, one = 1, r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return -errno;
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return c;
}

int net_connect(const char *addr, char *why, size_t why_len)
{
	struct sockaddr_in sa;
	int fd, one = 1, r;

	r = parse(addr, &sa, why, why_len);
	if (r)
		return r;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		snprintf(why, why_len, "connecting to %s: %s", addr,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}
