/*
 * test_compat: the portability layer (src/compat.h) on real sockets:
 * close-on-exec descriptors from compat_socket and compat_socketpair, a
 * peek offset that moves, a receive buffer that is set, a bind that leaves
 * the port to connect.  Built twice: as is (Linux's calls) and, by
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_socketpair),
		cmocka_unit_test(test_peek_off),
		cmocka_unit_test(test_rcvbuf),
		cmocka_unit_test(test_bind_no_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
