/*
 * The grant listener's source filters against real loopback sockets: the
 * classic per-grant program (grant_filter) and the shared eBPF one
 * (grant_bpf, only where this process may load eBPF).  A filtered SYN
 * gets no SYN-ACK, so a connect from any other address stays pending.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grant.h"
#include "grant_bpf.h"

#define PENDING_MS 300   /* a SYN-ACK on loopback takes microseconds */

/* ${ip}:${port} (IPv4 or IPv6 text) into ${ss}; its length. */
static socklen_t
sockaddr_of(const char *ip, int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof(*s4);
	}
	assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((uint16_t)port);
	return sizeof(*s6);
}

/* A TCP socket bound to ${ip} on a free port, not listening; its port. */
static int
bound(const char *ip, int *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sockaddr_of(ip, 0, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)&ss)->sin_port :
	    ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/*
 * Connect from ${src} to ${dst}:${port}; return the socket once connected,
 * or -1 if it is still pending after PENDING_MS (the SYN was dropped).
 */
static int
try_connect(const char *src, const char *dst, int port)
{
	struct sockaddr_storage from, to;
	socklen_t flen = sockaddr_of(src, 0, &from);
	socklen_t tlen = sockaddr_of(dst, port, &to);
	struct pollfd p;
	int fd, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, flen), 0);
	if (connect(fd, (struct sockaddr *)&to, tlen) < 0)
		assert_int_equal(errno, EINPROGRESS);
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, PENDING_MS) == 0) {
		(void)close(fd);
		return -1;
	}
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen), 0);
	assert_int_equal(err, 0);
	return fd;
}

/* Accept one connection from listener ${l} (it is already queued). */
static int
accept_one(int l)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	int fd;

	assert_int_equal(poll(&p, 1, 5000), 1);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* The classic filter: only 127.0.0.2 gets through. */
static void
test_classic(void **state)
{
	struct sockaddr_storage client;
	int l, port, c, a;

	(void)state;
	l = bound("127.0.0.1", &port);
	(void)sockaddr_of("127.0.0.2", 0, &client);
	assert_int_equal(grant_filter(l, (struct sockaddr *)&client), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(try_connect("127.0.0.3", "127.0.0.1", port), -1);
	assert_true((c = try_connect("127.0.0.2", "127.0.0.1", port)) >= 0);
	a = accept_one(l);
	(void)close(a);
	(void)close(c);
	(void)close(l);
}

/* The shared filter, or NULL (the test is skipped) without CAP_BPF. */
static struct grant_bpf *
shared(void)
{
	struct grant_bpf *gb = grant_bpf_new(16);

	if (gb == NULL)
		assert_true(errno == EPERM || errno == EACCES);
	return gb;
}

/* Send a byte on ${from}, read it on ${to} within a second; 1 if it came. */
static int
moves(int from, int to)
{
	struct pollfd p = { .fd = to, .events = POLLIN };
	char b = 'x';

	assert_int_equal(send(from, &b, 1, MSG_NOSIGNAL), 1);
	if (poll(&p, 1, 1000) != 1)
		return 0;
	return recv(to, &b, 1, 0) == 1 && b == 'x';
}

/*
 * The shared filter on IPv4: only the admitted client gets through; an
 * accepted socket keeps working after its listener's port is released
 * once the filter is detached from it (the inherited filter drops its
 * packets otherwise); a released port admits nobody.
 */
static void
test_shared_v4(void **state)
{
	struct grant_bpf *gb;
	struct sockaddr_storage client;
	int l, port, c, a, l2, port2, c2, a2, zero = 0;

	(void)state;
	if ((gb = shared()) == NULL)
		skip();
	(void)sockaddr_of("127.0.0.2", 0, &client);
	l = bound("127.0.0.1", &port);
	assert_int_equal(grant_bpf_admit(gb, l, port,
	    (struct sockaddr *)&client), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(try_connect("127.0.0.3", "127.0.0.1", port), -1);
	assert_true((c = try_connect("127.0.0.2", "127.0.0.1", port)) >= 0);
	a = accept_one(l);
	assert_int_equal(setsockopt(a, SOL_SOCKET, SO_DETACH_FILTER, &zero,
	    sizeof(zero)), 0);

	/* A second grant with the filter left on its accepted socket. */
	l2 = bound("127.0.0.1", &port2);
	assert_int_equal(grant_bpf_admit(gb, l2, port2,
	    (struct sockaddr *)&client), 0);
	assert_int_equal(listen(l2, 4), 0);
	assert_true((c2 = try_connect("127.0.0.2", "127.0.0.1", port2)) >= 0);
	a2 = accept_one(l2);

	grant_bpf_release(gb, port);
	grant_bpf_release(gb, port2);
	assert_true(moves(c, a));
	assert_false(moves(c2, a2));
	assert_int_equal(try_connect("127.0.0.2", "127.0.0.1", port), -1);
	(void)close(a);
	(void)close(c);
	(void)close(a2);
	(void)close(c2);
	(void)close(l);
	(void)close(l2);
	grant_bpf_free(gb);
}

/* A port admitted once cannot be admitted again until it is released. */
static void
test_shared_port_taken(void **state)
{
	struct grant_bpf *gb;
	struct sockaddr_storage client;
	int l, l2, port, port2;

	(void)state;
	if ((gb = shared()) == NULL)
		skip();
	(void)sockaddr_of("127.0.0.2", 0, &client);
	l = bound("127.0.0.1", &port);
	l2 = bound("127.0.0.4", &port2);
	assert_int_equal(grant_bpf_admit(gb, l, port,
	    (struct sockaddr *)&client), 0);
	assert_int_equal(grant_bpf_admit(gb, l2, port,
	    (struct sockaddr *)&client), -1);
	assert_int_equal(errno, EADDRINUSE);
	grant_bpf_release(gb, port);
	assert_int_equal(grant_bpf_admit(gb, l2, port,
	    (struct sockaddr *)&client), 0);
	(void)close(l);
	(void)close(l2);
	grant_bpf_free(gb);
}

/* The shared filter on IPv6: ::1 passes when admitted, not otherwise. */
static void
test_shared_v6(void **state)
{
	struct grant_bpf *gb;
	struct sockaddr_storage other, me;
	int l, port, c, a;

	(void)state;
	if ((gb = shared()) == NULL)
		skip();
	(void)sockaddr_of("2001:db8::1", 0, &other);
	(void)sockaddr_of("::1", 0, &me);
	l = bound("::1", &port);
	assert_int_equal(grant_bpf_admit(gb, l, port,
	    (struct sockaddr *)&other), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(try_connect("::1", "::1", port), -1);
	grant_bpf_release(gb, port);
	(void)close(l);

	l = bound("::1", &port);
	assert_int_equal(grant_bpf_admit(gb, l, port, (struct sockaddr *)&me),
	    0);
	assert_int_equal(listen(l, 4), 0);
	assert_true((c = try_connect("::1", "::1", port)) >= 0);
	a = accept_one(l);
	(void)close(a);
	(void)close(c);
	(void)close(l);
	grant_bpf_free(gb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classic),
		cmocka_unit_test(test_shared_v4),
		cmocka_unit_test(test_shared_port_taken),
		cmocka_unit_test(test_shared_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
