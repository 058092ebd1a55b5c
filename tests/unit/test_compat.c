/*
 * test_compat: the portability layer (src/compat.h) on real sockets:
 * close-on-exec descriptors from compat_socket and compat_socketpair, a
 * peek offset that moves, a receive buffer that is set, a bind that leaves
 * the port to connect, a reset told from an orderly end of file.  Built
 * twice: as is (Linux's calls) and, by
 * test_compat_posix.c, with compat.c's POSIX fallbacks compiled in
 * (COMPAT_POSIX_ONLY), which is what macOS and the BSDs run.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "compat.h"
#ifdef COMPAT_POSIX_ONLY
#include "compat.c"         /* the fallbacks, instead of libwarren's */
#endif

/* Assert that ${fd} is open and close-on-exec. */
static void
assert_cloexec(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	assert_true(fl >= 0);
	assert_true((fl & FD_CLOEXEC) != 0);
}

static void
test_socket(void **state)
{
	int fd = compat_socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_cloexec(fd);
	close(fd);
	errno = 0;
	assert_int_equal(compat_socket(-1, SOCK_STREAM, 0), -1);
	assert_int_not_equal(errno, 0);
}

static void
test_socketpair(void **state)
{
	int sv[2] = { -1, -1 }, bad[2] = { -7, -7 };
	char buf[4];

	assert_int_equal(compat_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_cloexec(sv[0]);
	assert_cloexec(sv[1]);
	assert_int_equal(write(sv[0], "ping", 4), 4);
	assert_int_equal(read(sv[1], buf, 4), 4);
	assert_memory_equal(buf, "ping", 4);
	close(sv[0]);
	close(sv[1]);
	/* A failure leaves the array alone. */
	assert_int_equal(compat_socketpair(AF_INET, SOCK_STREAM, 0, bad), -1);
	assert_int_equal(bad[0], -7);
	assert_int_equal(bad[1], -7);
}

static void
test_peek_off(void **state)
{
	int sv[2];
	char buf[4];

	assert_int_equal(compat_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], "abcdef", 6), 6);
#ifdef COMPAT_POSIX_ONLY
	errno = 0;
	assert_int_equal(compat_peek_off(sv[1], 0), -1);
	assert_int_equal(errno, ENOPROTOOPT);
#else
	/* Each peek goes on from the last; a read takes from the start. */
	assert_int_equal(compat_peek_off(sv[1], 0), 0);
	assert_int_equal(recv(sv[1], buf, 3, MSG_PEEK), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(recv(sv[1], buf, 3, MSG_PEEK), 3);
	assert_memory_equal(buf, "def", 3);
#endif
	assert_int_equal(read(sv[1], buf, 3), 3);
	assert_memory_equal(buf, "abc", 3);
	close(sv[0]);
	close(sv[1]);
}

static void
test_rcvbuf(void **state)
{
	int fd = compat_socket(AF_INET, SOCK_STREAM, 0), rc, got = 0;
	socklen_t len = sizeof(got);

	assert_true(fd >= 0);
	rc = compat_rcvbuf(fd, 65536);
#ifdef COMPAT_POSIX_ONLY
	assert_int_equal(rc, 0);       /* SO_RCVBUF only */
#else
	assert_true(rc == 0 || rc == 1);
#endif
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
	assert_true(got >= 65536);     /* Linux doubles it; others keep it */
	assert_int_equal(compat_rcvbuf(-1, 65536), -1);
	close(fd);
}

static void
test_bind_no_port(void **state)
{
	struct sockaddr_in sin, peer;
	socklen_t len = sizeof(sin);
	int lfd = compat_socket(AF_INET, SOCK_STREAM, 0);
	int cfd = compat_socket(AF_INET, SOCK_STREAM, 0), afd;

	assert_true(lfd >= 0 && cfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&peer, &len), 0);
	/* Bound to an address and port 0: connect picks the port. */
	compat_bind_no_port(cfd);
	assert_int_equal(bind(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&peer, sizeof(peer)), 0);
	len = sizeof(sin);
	assert_int_equal(getsockname(cfd, (struct sockaddr *)&sin, &len), 0);
	assert_int_not_equal(sin.sin_port, 0);
	assert_true((afd = accept(lfd, NULL, NULL)) >= 0);
	close(afd);
	close(cfd);
	close(lfd);
}

/* A connected loopback TCP pair in ${fd}: [0] connected, [1] accepted. */
static void
tcp_pair(int fd[2])
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int lfd = compat_socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	assert_true((fd[0] = compat_socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd[0], (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_true((fd[1] = accept(lfd, NULL, NULL)) >= 0);
	close(lfd);
}

/* Close ${fd} with a reset (SO_LINGER 0). */
static void
close_reset(int fd)
{
	struct linger lg = { 1, 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(close(fd), 0);
}

/* Wait until ${fd} has seen its peer's end (FIN or reset). */
static void
wait_hup(int fd, short what)
{
	struct pollfd p = { fd, POLLIN, 0 };

	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_true((p.revents & what) != 0);
}

/*
 * compat_eof_reset after a read returned end of file (or where it
 * would): an orderly end from the peer's FIN, with or without our own
 * FIN; a reset, whose error is taken; a reset after the peer's FIN; and,
 * where TCP states can be read (Linux), a reset whose error another call
 * took first.
 */
static void
test_eof_reset(void **state)
{
	int fd[2], err;
	socklen_t len = sizeof(err);
	char c;

	/* The peer's FIN: an orderly end, whatever we did. */
	tcp_pair(fd);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	wait_hup(fd[1], POLLIN);
	assert_int_equal(read(fd[1], &c, 1), 0);
	assert_int_equal(compat_eof_reset(fd[1], 0), 0);
	/* Our FIN after it: both ends closed, still in order. */
	assert_int_equal(shutdown(fd[1], SHUT_WR), 0);
	assert_int_equal(read(fd[0], &c, 1), 0);
	assert_int_equal(compat_eof_reset(fd[1], 1), 0);
	close(fd[0]);
	close(fd[1]);

	/* A reset whose error no read took. */
	tcp_pair(fd);
	close_reset(fd[0]);
	wait_hup(fd[1], POLLHUP);
	errno = 0;
	assert_int_equal(compat_eof_reset(fd[1], 0), -1);
	assert_int_equal(errno, ECONNRESET);
	/* The error is taken: a read says end of file now, and so ... */
	assert_int_equal(read(fd[1], &c, 1), 0);
	errno = 0;
#ifdef COMPAT_POSIX_ONLY
	/* ... without TCP states nothing tells a reset any more. */
	assert_int_equal(compat_eof_reset(fd[1], 0), 0);
#else
	/* ... but the socket closed without our FIN: it was reset. */
	assert_int_equal(compat_eof_reset(fd[1], 0), -1);
	assert_int_equal(errno, ECONNRESET);
#endif
	close(fd[1]);

	/* A reset after the peer's FIN (Linux says EPIPE). */
	tcp_pair(fd);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	wait_hup(fd[1], POLLIN);
	close_reset(fd[0]);
	wait_hup(fd[1], POLLHUP);
	assert_int_equal(compat_eof_reset(fd[1], 0), -1);
	assert_int_not_equal(errno, 0);
	assert_int_equal(getsockopt(fd[1], SOL_SOCKET, SO_ERROR, &err, &len),
	    0);
	assert_int_equal(err, 0);   /* taken */
	close(fd[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_peek_off),
		cmocka_unit_test(test_rcvbuf),
		cmocka_unit_test(test_bind_no_port),
		cmocka_unit_test(test_eof_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
