/*
 * compat: Linux's socket extensions with their POSIX fallbacks.
 * COMPAT_POSIX_ONLY builds the fallbacks even where the extensions exist
 * (tests/unit/test_compat_posix.c tests them so on Linux).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"

/* Set close-on-exec on ${fd}; 0 or -1. */
static int
cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -1;
	return 0;
}

int
compat_socket(int domain, int type, int protocol)
{
	int fd, e;

#if defined(SOCK_CLOEXEC) && !defined(COMPAT_POSIX_ONLY)
	if ((fd = socket(domain, type | SOCK_CLOEXEC, protocol)) >= 0 ||
	    errno != EINVAL)
		return fd;
	/* An old kernel that knows no SOCK_CLOEXEC: as below. */
#endif
	if ((fd = socket(domain, type, protocol)) < 0)
		return -1;
	if (cloexec(fd) < 0) {
		e = errno;
		(void)close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
compat_socketpair(int domain, int type, int protocol, int sv[2])
{
	int p[2], e;

#if defined(SOCK_CLOEXEC) && !defined(COMPAT_POSIX_ONLY)
	if (socketpair(domain, type | SOCK_CLOEXEC, protocol, p) == 0) {
		sv[0] = p[0];
		sv[1] = p[1];
		return 0;
	}
	if (errno != EINVAL)
		return -1;
#endif
	if (socketpair(domain, type, protocol, p) < 0)
		return -1;
	if (cloexec(p[0]) < 0 || cloexec(p[1]) < 0) {
		e = errno;
		(void)close(p[0]);
		(void)close(p[1]);
		errno = e;
		return -1;
	}
	sv[0] = p[0];
	sv[1] = p[1];
	return 0;
}

void
compat_bind_no_port(int fd)
{
#if defined(IP_BIND_ADDRESS_NO_PORT) && !defined(COMPAT_POSIX_ONLY)
	int one = 1;

	(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	    sizeof(one));
#else
	(void)fd;
#endif
}

int
compat_peek_off(int fd, int off)
{
#if defined(SO_PEEK_OFF) && !defined(COMPAT_POSIX_ONLY)
	return setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
#else
	(void)fd;
	(void)off;
	errno = ENOPROTOOPT;
	return -1;
#endif
}

int
compat_rcvbuf(int fd, int size)
{
#if defined(SO_RCVBUFFORCE) && !defined(COMPAT_POSIX_ONLY)
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == 0)
		return 1;
#endif
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		return -1;
	return 0;
}

int
compat_eof_reset(int fd, int shut)
{
	int err = 0, closed = 0;
	socklen_t len = sizeof(err);
#if defined(__linux__) && defined(TCP_INFO) && !defined(COMPAT_POSIX_ONLY)
	/*
	 * Linux's struct tcp_info starts with the state, numbered as in its
	 * include/net/tcp_states.h.  A reset takes any state to CLOSE; so
	 * does the peer's FIN after ours (not TIME_WAIT while the socket
	 * still has its descriptor).
	 */
	enum { ST_TIME_WAIT = 6, ST_CLOSE = 7, ST_CLOSE_WAIT = 8,
	    ST_LAST_ACK = 9, ST_CLOSING = 11 };
	unsigned char ti[8];
	socklen_t tlen = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &tlen) == 0 &&
	    tlen >= 1) {
		if (ti[0] == ST_CLOSE_WAIT || ti[0] == ST_LAST_ACK ||
		    ti[0] == ST_CLOSING || ti[0] == ST_TIME_WAIT)
			return 0;       /* the peer's FIN, and no reset since */
		closed = ti[0] == ST_CLOSE;
	}
#endif
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return -1;
	if (err == 0 && closed && !shut)
		err = ECONNRESET;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
