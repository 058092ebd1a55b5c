/*
 * compat: Linux's socket extensions with their POSIX fallbacks.
 * COMPAT_POSIX_ONLY builds the fallbacks even where the extensions exist
 * (tests/unit/test_compat_posix.c tests them so on Linux).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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
