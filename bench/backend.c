/*
 * backend: the backend service of every benchmark chain, a single-threaded
 * epoll server on 127.0.0.1:PORT that speaks two tiny protocols, chosen by
 * the first byte a connection sends:
 *
 *   'e'  echo: that byte and everything after it is echoed back until EOF
 *        (bench/connrate.c writes one 'e' and waits for it);
 *   's'  sink: an 8-byte big-endian count N follows, then N bytes of data,
 *        which are discarded; once all N have arrived the sink answers with
 *        the same 8 bytes (bench/source.c stops its clock on them);
 *   'd'  duplex: like 's', but from the moment the count has arrived the
 *        backend also sends N bytes of its own (xorshift, incompressible)
 *        while it sinks the N coming in, reading and writing as each
 *        socket allows, so neither direction waits on the other; once it
 *        has sent its N and received the peer's N it sends the 8-byte
 *        count (bench/source.c -d).
 *
 * The sink needs no half-close from the tunnel under test: the count says
 * where the data ends.  Usage: backend PORT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (256 * 1024)

struct conn {
	int fd;
	char mode;              /* 0 until the first byte, then 'e', 's', 'd' */
	uint8_t hdr[8];
	size_t nhdr;
	uint64_t want, got;     /* sink */
	uint64_t sent;          /* duplex: own bytes sent */
	size_t nconf;           /* duplex: bytes of the final count sent */
	char *pend;             /* echo bytes not yet written */
	size_t npend, opend;
};

static int ep;
static char buf[BUFSZ];
static char pattern[BUFSZ];     /* what a duplex connection sends */

static void
conn_close(struct conn *c)
{
	close(c->fd);           /* also removes it from the epoll set */
	free(c->pend);
	free(c);
}

/* Write all of c->pend that the socket takes; 0 done, 1 blocked, -1 error. */
static int
flush(struct conn *c)
{
	while (c->opend < c->npend) {
		ssize_t n = write(c->fd, c->pend + c->opend, c->npend - c->opend);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			return -1;
		}
		c->opend += (size_t)n;
	}
	c->npend = c->opend = 0;
	return 0;
}

static void
watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queue ${len} bytes to send back; returns -1 on a dead socket. */
static int
send_back(struct conn *c, const void *p, size_t len)
{
	int r;

	if ((c->pend = realloc(c->pend, c->npend + len)) == NULL)
		return -1;
	memcpy(c->pend + c->npend, p, len);
	c->npend += len;
	if ((r = flush(c)) == 1)
		watch(c, EPOLLOUT);     /* stop reading until the peer drains */
	return r < 0 ? -1 : 0;
}

/*
 * Duplex: send as much of the own stream, then of the final count, as the
 * socket takes, and watch for writability only while something is left.
 * Returns -1 on a dead socket.
 */
static int
pump(struct conn *c)
{
	for (;;) {
		const char *p;
		size_t len;
		if (c->sent < c->want) {
			size_t off = (size_t)(c->sent % BUFSZ);
			p = pattern + off;
			len = BUFSZ - off;
			if (len > c->want - c->sent)
				len = (size_t)(c->want - c->sent);
		} else if (c->got == c->want && c->nconf < 8) {
			p = (const char *)c->hdr + c->nconf;
			len = 8 - c->nconf;
		} else {
			watch(c, EPOLLIN);
			return 0;
		}
		ssize_t n = write(c->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				watch(c, EPOLLIN | EPOLLOUT);
				return 0;
			}
			return -1;
		}
		if (c->sent < c->want)
			c->sent += (uint64_t)n;
		else
			c->nconf += (size_t)n;
	}
}

/* Handle the bytes just read; returns -1 to close. */
static int
consume(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		if (c->mode == 0) {
			if (p[0] != 'e' && p[0] != 's' && p[0] != 'd')
				return -1;
			c->mode = p[0];
			if (c->mode != 'e') {
				p++;
				n--;
				continue;
			}
		}
		if (c->mode == 'e')
			return send_back(c, p, n);
		/* sink */
		if (c->nhdr < 8) {
			size_t k = 8 - c->nhdr < n ? 8 - c->nhdr : n;
			memcpy(c->hdr + c->nhdr, p, k);
			c->nhdr += k;
			p += k;
			n -= k;
			if (c->nhdr == 8) {
				c->want = 0;
				for (int i = 0; i < 8; i++)
					c->want = c->want << 8 | c->hdr[i];
				if (c->mode == 'd' && pump(c))
					return -1;
				if (c->mode == 's' && c->want == 0 &&
				    send_back(c, c->hdr, 8))
					return -1;
			}
			continue;
		}
		uint64_t k = c->want - c->got < n ? c->want - c->got : n;
		c->got += k;
		p += k;
		n -= k;
		if (k > 0 && c->got == c->want &&
		    (c->mode == 'd' ? pump(c) : send_back(c, c->hdr, 8)))
			return -1;
		if (n > 0)
			return -1;      /* more than announced */
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct epoll_event ev, evs[64];
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int lfd, one = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: backend PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(pattern); i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(pattern + i, &x, 8);
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lfd, 4096)) {
		perror("backend: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			perror("backend: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c == NULL) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL,
				    SOCK_NONBLOCK)) >= 0) {
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
					    &one, sizeof(one));
					if ((c = calloc(1, sizeof(*c))) == NULL) {
						close(fd);
						continue;
					}
					c->fd = fd;
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			if (c->mode == 'd') {
				/* Both ways at once: write, then read. */
				if ((evs[i].events & EPOLLOUT) && pump(c)) {
					conn_close(c);
					continue;
				}
				if (!(evs[i].events & (EPOLLIN | EPOLLHUP |
				    EPOLLERR)))
					continue;
			} else if (evs[i].events & EPOLLOUT) {
				int r = flush(c);
				if (r < 0) {
					conn_close(c);
					continue;
				}
				if (r == 0)
					watch(c, EPOLLIN);
				continue;
			}
			ssize_t k = read(c->fd, buf, sizeof(buf));
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (k <= 0 || consume(c, buf, (size_t)k))
				conn_close(c);
		}
	}
}
