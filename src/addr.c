/*
 * addr: parse and print socket addresses.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"

#define ADDR_HOSTMAX 254    /* a DNS name is at most 253 characters */

static int addr_resolve = 1;

/* Split ${s} into ${host} (NUL-terminated) and ${port}. */
static int
addr_split(const char *s, int allow_port0, char host[ADDR_HOSTMAX],
    int *bracketed, int *port)
{
	const char *h, *end, *p;
	size_t hlen, i;
	long v;

	if (s[0] == '[') {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL || end[1] != ':')
			return (-1);
		p = end + 2;
		*bracketed = 1;
	} else {
		h = s;
		if ((end = strrchr(s, ':')) == NULL)
			return (-1);
		/* Two colons: an IPv6 address that needs brackets. */
		if (memchr(s, ':', (size_t)(end - s)) != NULL)
			return (-1);
		p = end + 1;
		*bracketed = 0;
	}
	hlen = (size_t)(end - h);
	if (hlen >= ADDR_HOSTMAX || (*bracketed && hlen == 0))
		return (-1);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (strpbrk(host, "[]") != NULL)
		return (-1);

	/* The port: 1 to 5 decimal digits, nothing else. */
	for (i = 0, v = 0; p[i] != '\0'; i++) {
		if (i >= 5 || p[i] < '0' || p[i] > '9')
			return (-1);
		v = v * 10 + (p[i] - '0');
	}
	if (i == 0 || v > 65535 || (v == 0 && !allow_port0))
		return (-1);
	*port = (int)v;
	return (0);
}

/*
 * Is ${host} a syntactically valid DNS name: labels of 1..63 letters,
 * digits, '-' (not first or last) or '_', a last label that is not all
 * digits (so "127.1" and "1.2.3.999" are not sent to the resolver)?
 */
static int
addr_is_name(const char *host)
{
	size_t i, label = 0, n = strlen(host);
	int alldigits = 1;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return (0);
	for (i = 0; i < n; i++) {
		char c = host[i];

		if (c == '.') {
			if (label == 0 || host[i - 1] == '-')
				return (0);
			label = 0;
			alldigits = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return (0);
		if (c < '0' || c > '9')
			alldigits = 0;
		if ((c == '-' && label == 0) || ++label > 63)
			return (0);
	}
	if (label == 0 || alldigits || host[n - 1] == '-')
		return (0);
	return (1);
}

/* Numeric IPv6 (scope ids allowed) into ${ss}, or -1. */
static int
addr_v6(const char *host, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET6;
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return (-1);
	if (res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

int
addr_syntax(const char *s, int allow_port0)
{
	char host[ADDR_HOSTMAX];
	struct sockaddr_storage ss;
	struct in_addr in;
	socklen_t len;
	int bracketed, port;

	if (addr_split(s, allow_port0, host, &bracketed, &port))
		return (-1);
	if (bracketed)
		return (addr_v6(host, &ss, &len));
	if (host[0] == '\0' || inet_pton(AF_INET, host, &in) == 1 ||
	    addr_is_name(host))
		return (0);
	return (-1);
}

void
addr_set_resolve(int on)
{

	addr_resolve = on;
}

int
addr_parse(const char *s, int allow_port0, struct sockaddr_storage *ss,
    socklen_t *len)
{
	char host[ADDR_HOSTMAX];
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct addrinfo hints, *res = NULL;
	int bracketed, port;

	if (addr_split(s, allow_port0, host, &bracketed, &port))
		return (-1);

	if (bracketed) {
		if (addr_v6(host, ss, len))
			return (-1);
		goto port;
	}

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	*len = sizeof(*sin);
	if (host[0] == '\0') {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		goto port;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1)
		goto port;

	/* A name. */
	if (!addr_resolve || !addr_is_name(host))
		return (-1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
		return (-1);
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(*ss)) {
		freeaddrinfo(res);
		return (-1);
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);

port:
	addr_set_port((struct sockaddr *)ss, port);
	return (0);
}

const char *
addr_str(const struct sockaddr *sa, char buf[ADDR_STRLEN])
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)) == NULL)
			goto bad;
		snprintf(buf, ADDR_STRLEN, "%s:%d", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			if (inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12],
			    ip, sizeof(ip)) == NULL)
				goto bad;
			snprintf(buf, ADDR_STRLEN, "%s:%d", ip,
			    ntohs(sin6->sin6_port));
		} else {
			if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip,
			    sizeof(ip)) == NULL)
				goto bad;
			snprintf(buf, ADDR_STRLEN, "[%s]:%d", ip,
			    ntohs(sin6->sin6_port));
		}
	} else {
		goto bad;
	}
	return (buf);

bad:
	snprintf(buf, ADDR_STRLEN, "-");
	return (buf);
}

int
addr_port(const struct sockaddr *sa)
{

	if (sa->sa_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)sa)->sin_port));
	if (sa->sa_family == AF_INET6)
		return (ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
	return (0);
}

void
addr_set_port(struct sockaddr *sa, int port)
{

	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

/* The IPv4 address of ${sa} (plain or mapped) into ${v4}; 0 if it has one. */
static int
addr_v4(const struct sockaddr *sa, uint8_t v4[4])
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		memcpy(v4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return (0);
	}
	if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
		memcpy(v4, &sin6->sin6_addr.s6_addr[12], 4);
		return (0);
	}
	return (-1);
}

int
addr_same_host(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t a4[4], b4[4];
	int ha = addr_v4(a, a4) == 0, hb = addr_v4(b, b4) == 0;

	if (ha || hb)
		return (ha && hb && memcmp(a4, b4, 4) == 0);
	if (a->sa_family != AF_INET6 || b->sa_family != AF_INET6)
		return (0);
	return (memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0);
}
