/*
 * test_sockq: sockq_get (src/sockq.c) on real loopback TCP connections,
 * in every TCP state that a socket whose descriptor is still held can be
 * in: ESTABLISHED (data acknowledged by the peer's kernel, data it has
 * not acknowledged because its window is shut, data unread, read, or
 * only peeked), FIN_WAIT1 (our FIN held behind data), FIN_WAIT2,
 * CLOSE_WAIT, CLOSING, LAST_ACK and CLOSE (both FINs exchanged: the
 * kernel moves a socket with a descriptor from LAST_ACK, CLOSING or
 * FIN_WAIT2 to CLOSE, never to TIME_WAIT).  Each check is of exact byte
 * counts and FIN flags.  A state is waited for by polling TCP_INFO,
 * bounded by WAIT_MS; states that would pass by on loopback (FIN_WAIT1,
 * CLOSING, LAST_ACK) are held by a peer that does not read, so that our
 * FIN stays queued behind data its window cannot take.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sockq.h"

#define WAIT_MS 5000            /* the longest wait for a state or queue */
#define SMALL_RCVBUF 4096       /* the non-reading peer's (kernel doubles it) */
#define BIG_SNDBUF (256 * 1024) /* ours, so that a backlog fits in it */
#define FILL (64 * 1024)        /* bytes that cannot all reach that peer */

static const char *state_names[] = { "?", "ESTABLISHED", "SYN_SENT",
    "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
    "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };

/* Milliseconds on the monotonic clock. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Sleep a millisecond, between two looks at the kernel's state. */
static void
nap(void)
{
	struct timespec ts = { 0, 1000000 };

	(void)nanosleep(&ts, NULL);
}

/*
 * A connected loopback pair on an ephemeral port: ${fd}[0] connected,
 * ${fd}[1] accepted, both blocking.  A non-zero ${rcvbuf} is set on the
 * accepted end before the handshake (so its window is small from the
 * start) and BIG_SNDBUF on the connected end.
 */
static void
tcp_pair(int fd[2], int rcvbuf)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int l, sndbuf = BIG_SNDBUF;

	assert_true((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_true((fd[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd[0], SOL_SOCKET, SO_SNDBUF,
		    &sndbuf, sizeof(sndbuf)), 0);
	assert_int_equal(connect(fd[0], (struct sockaddr *)&a, sizeof(a)), 0);
	assert_true((fd[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	close(l);
}

/* The TCP state of ${fd}. */
static int
tcp_state(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_state;
}

static const char *
state_name(int st)
{
	return st >= 0 && st < (int)(sizeof(state_names) /
	    sizeof(state_names[0])) ? state_names[st] : "?";
}

/* Wait (at most WAIT_MS) until ${fd} is in TCP state ${want}. */
static void
wait_state(int fd, int want)
{
	uint64_t t0 = now_ms();
	int st;

	while ((st = tcp_state(fd)) != want) {
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("fd %d: state %s after %d ms, waiting for %s",
			    fd, state_name(st), WAIT_MS, state_name(want));
		nap();
	}
}

/* The value of the queue ioctl ${req} (SIOCINQ, SIOCOUTQ...) on ${fd}. */
static int
queue(int fd, unsigned long req)
{
	int n = -1;

	assert_int_equal(ioctl(fd, req, &n), 0);
	return n;
}

/* Wait (at most WAIT_MS) until the ioctl ${req} on ${fd} gives ${want}. */
static void
wait_queue(int fd, unsigned long req, int want)
{
	uint64_t t0 = now_ms();
	int n;

	while ((n = queue(fd, req)) != want) {
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("fd %d: queue ioctl %#lx is %d after %d ms, "
			    "waiting for %d", fd, req, n, WAIT_MS, want);
		nap();
	}
}

/* Write ${n} bytes of pattern to ${fd}, waiting while its buffer is full. */
static void
put(int fd, size_t n)
{
	uint8_t buf[4096];
	uint64_t t0 = now_ms();
	size_t done = 0;
	ssize_t k;

	memset(buf, 'w', sizeof(buf));
	while (done < n) {
		k = send(fd, buf, n - done < sizeof(buf) ? n - done :
		    sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (now_ms() - t0 > WAIT_MS)
				fail_msg("fd %d: %zu of %zu bytes written "
				    "after %d ms", fd, done, n, WAIT_MS);
			nap();
			continue;
		}
		assert_true(k > 0);
		done += (size_t)k;
	}
}

/* Read exactly ${n} bytes from ${fd} (blocking). */
static void
get(int fd, size_t n)
{
	uint8_t buf[4096];
	ssize_t k;

	while (n > 0) {
		k = recv(fd, buf, n < sizeof(buf) ? n : sizeof(buf), 0);
		assert_true(k > 0);
		n -= (size_t)k;
	}
}

/* Read ${fd} to its end: exactly ${n} bytes, then EOF. */
static void
get_eof(int fd, size_t n)
{
	uint8_t buf[4096];

	get(fd, n);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
}

/*
 * Assert that sockq_get(${fd}) reports exactly these counts and flags
 * (${written} unchecked if ${peer}); a mismatch names the socket's TCP
 * state and every field.
 */
static void
check_q(int fd, int peer, uint64_t written, uint64_t consumed,
    uint64_t unread, int fin_sent, int fin_received)
{
	struct sockq q;
	int st = tcp_state(fd);

	memset(&q, 0xa5, sizeof(q));
	if (sockq_get(fd, &q) != 0)
		fail_msg("sockq_get in %s: %s", state_name(st),
		    strerror(errno));
	if (peer)
		q.written = written;
	if (q.written != written || q.consumed != consumed ||
	    q.unread != unread || q.fin_sent != fin_sent ||
	    q.fin_received != fin_received)
		fail_msg("sockq_get in %s: written %llu consumed %llu unread "
		    "%llu fin_sent %d fin_received %d; want %llu %llu %llu "
		    "%d %d", state_name(st), (unsigned long long)q.written,
		    (unsigned long long)q.consumed,
		    (unsigned long long)q.unread, q.fin_sent, q.fin_received,
		    (unsigned long long)written, (unsigned long long)consumed,
		    (unsigned long long)unread, fin_sent, fin_received);
}

/* check_q of the end that connected, as warrend's backend sockets do. */
static void
check(int fd, uint64_t written, uint64_t consumed, uint64_t unread,
    int fin_sent, int fin_received)
{
	check_q(fd, 0, written, consumed, unread, fin_sent, fin_received);
}

/*
 * check_q of the accepted end, but for what it wrote: the kernel counts
 * no SYN in an accepted socket's tcpi_bytes_acked (the handshake's ACK
 * reached the listener's request, not the socket), so sockq.h leaves it
 * out of the contract.
 */
static void
check_peer(int fd, uint64_t consumed, uint64_t unread, int fin_sent,
    int fin_received)
{
	check_q(fd, 1, 0, consumed, unread, fin_sent, fin_received);
}

/*
 * Fill the non-reading peer of ${fd}: FILL bytes, at least four times its
 * receive buffer ${peer}, so that most of them (and any FIN after them)
 * stay queued on ${fd} for as long as the peer does not read.
 */
static void
fill_peer(int fd, int peer)
{
	int rcvbuf;
	socklen_t len = sizeof(rcvbuf);

	assert_int_equal(getsockopt(peer, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    &len), 0);
	assert_true(4 * (size_t)rcvbuf <= FILL);
	put(fd, FILL);
}

/*
 * ESTABLISHED, everything sent acknowledged by the peer's kernel: both
 * ends count what they wrote, and what arrived is unread, not consumed.
 */
static void
test_established(void **state)
{
	int fd[2];

	tcp_pair(fd, 0);
	check(fd[0], 0, 0, 0, 0, 0);
	put(fd[0], 1000);
	put(fd[1], 3000);
	wait_queue(fd[0], SIOCOUTQ, 0);
	wait_queue(fd[1], SIOCOUTQ, 0);
	wait_queue(fd[0], SIOCINQ, 3000);
	wait_queue(fd[1], SIOCINQ, 1000);
	assert_int_equal(tcp_state(fd[0]), TCP_ESTABLISHED);
	check(fd[0], 1000, 0, 3000, 0, 0);
	check_peer(fd[1], 0, 1000, 0, 0);
	get(fd[0], 3000);
	check(fd[0], 1000, 3000, 0, 0, 0);
	put(fd[0], 24);
	wait_queue(fd[0], SIOCOUTQ, 0);
	check(fd[0], 1024, 3000, 0, 0, 0);
	close(fd[0]);
	close(fd[1]);
}

/*
 * ESTABLISHED, bytes read and bytes only peeked: a read moves bytes from
 * unread to consumed; a peek (MSG_PEEK, also at a peek offset under
 * SO_PEEK_OFF, as relay.c reads a backend) moves nothing.
 */
static void
test_consumed_peeked(void **state)
{
	uint8_t buf[1000];
	int fd[2], off = 0;

	tcp_pair(fd, 0);
	put(fd[1], 1000);
	wait_queue(fd[0], SIOCINQ, 1000);
	get(fd[0], 300);
	check(fd[0], 0, 300, 700, 0, 0);
	assert_int_equal(recv(fd[0], buf, 500, MSG_PEEK), 500);
	check(fd[0], 0, 300, 700, 0, 0);
	assert_int_equal(setsockopt(fd[0], SOL_SOCKET, SO_PEEK_OFF, &off,
	    sizeof(off)), 0);
	assert_int_equal(recv(fd[0], buf, 200, MSG_PEEK), 200);
	assert_int_equal(recv(fd[0], buf, 200, MSG_PEEK), 200);
	check(fd[0], 0, 300, 700, 0, 0);
	get(fd[0], 100);
	check(fd[0], 0, 400, 600, 0, 0);
	assert_int_equal(recv(fd[0], buf, sizeof(buf), MSG_PEEK |
	    MSG_DONTWAIT), 300);    /* the rest after the peek offset */
	check(fd[0], 0, 400, 600, 0, 0);
	check_peer(fd[1], 0, 0, 0, 0);
	close(fd[0]);
	close(fd[1]);
}

/*
 * ESTABLISHED with bytes the peer's kernel has not acknowledged (its
 * window is shut): they count as written all the same.
 */
static void
test_unacked(void **state)
{
	int fd[2], inq;

	tcp_pair(fd, SMALL_RCVBUF);
	put(fd[1], 10);    /* an accepted end must write (see check_peer) */
	get(fd[0], 10);
	fill_peer(fd[0], fd[1]);
	assert_true(queue(fd[0], SIOCOUTQ) > 0);
	check(fd[0], FILL, 10, 0, 0, 0);
	inq = queue(fd[1], SIOCINQ);
	assert_true(inq > 0 && inq < FILL);
	check_peer(fd[1], 0, (uint64_t)inq, 0, 0);
	get(fd[1], FILL);
	wait_queue(fd[0], SIOCOUTQ, 0);
	check(fd[0], FILL, 10, 0, 0, 0);
	check_peer(fd[1], FILL, 0, 0, 0);
	close(fd[0]);
	close(fd[1]);
}

/*
 * Our shutdown(SHUT_WR) acknowledged (FIN_WAIT2) and, at the peer, our
 * FIN received (CLOSE_WAIT): the FIN is a flag, not a byte, at both ends,
 * also once the peer has read it (recv returned 0).
 */
static void
test_fin_wait2_close_wait(void **state)
{
	int fd[2];

	tcp_pair(fd, 0);
	put(fd[0], 1000);
	put(fd[1], 2000);
	wait_queue(fd[0], SIOCINQ, 2000);
	wait_queue(fd[1], SIOCINQ, 1000);
	get(fd[0], 500);
	get(fd[1], 600);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	wait_state(fd[0], TCP_FIN_WAIT2);
	wait_state(fd[1], TCP_CLOSE_WAIT);
	check(fd[0], 1000, 500, 1500, 1, 0);
	check_peer(fd[1], 600, 400, 0, 1);
	get_eof(fd[1], 400);
	check_peer(fd[1], 1000, 0, 0, 1);
	check(fd[0], 1000, 500, 1500, 1, 0);
	close(fd[0]);
	close(fd[1]);
}

/*
 * FIN_WAIT1 (our FIN queued behind data the peer's window cannot take),
 * then CLOSING (the peer's FIN came first), then CLOSE at both ends once
 * the peer has read everything.
 */
static void
test_fin_wait1_closing(void **state)
{
	int fd[2];

	tcp_pair(fd, SMALL_RCVBUF);
	fill_peer(fd[0], fd[1]);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	assert_int_equal(tcp_state(fd[0]), TCP_FIN_WAIT1);
	check(fd[0], FILL, 0, 0, 1, 0);
	put(fd[1], 700);
	assert_int_equal(shutdown(fd[1], SHUT_WR), 0);
	wait_state(fd[0], TCP_CLOSING);
	wait_state(fd[1], TCP_FIN_WAIT2);
	wait_queue(fd[0], SIOCINQ, 700);
	check(fd[0], FILL, 0, 700, 1, 1);
	check_peer(fd[1], 0, (uint64_t)queue(fd[1], SIOCINQ), 1, 0);
	get_eof(fd[1], FILL);
	wait_state(fd[0], TCP_CLOSE);
	wait_state(fd[1], TCP_CLOSE);
	check(fd[0], FILL, 0, 700, 1, 1);
	check_peer(fd[1], FILL, 0, 1, 1);
	get_eof(fd[0], 700);
	check(fd[0], FILL, 700, 0, 1, 1);
	close(fd[0]);
	close(fd[1]);
}

/*
 * The peer shuts down (CLOSE_WAIT here), we shut down (LAST_ACK, our FIN
 * held behind data), the peer reads all and closes, and we, with bytes
 * still unread, reach CLOSE: both FINs count as flags, not bytes (before
 * f2632d9 a socket in CLOSE counted neither FIN, and each as a byte).
 */
static void
test_last_ack_close(void **state)
{
	int fd[2];

	tcp_pair(fd, SMALL_RCVBUF);
	put(fd[1], 1000);
	assert_int_equal(shutdown(fd[1], SHUT_WR), 0);
	wait_state(fd[0], TCP_CLOSE_WAIT);
	wait_state(fd[1], TCP_FIN_WAIT2);
	get(fd[0], 400);
	check(fd[0], 0, 400, 600, 0, 1);
	fill_peer(fd[0], fd[1]);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	assert_int_equal(tcp_state(fd[0]), TCP_LAST_ACK);
	check(fd[0], FILL, 400, 600, 1, 1);
	get_eof(fd[1], FILL);
	close(fd[1]);
	wait_state(fd[0], TCP_CLOSE);
	check(fd[0], FILL, 400, 600, 1, 1);
	get_eof(fd[0], 600);
	check(fd[0], FILL, 1000, 0, 1, 1);
	close(fd[0]);
}

/*
 * We shut down first (FIN_WAIT2), then the peer reads all and closes: its
 * FIN takes us to CLOSE, with bytes still unread.
 */
static void
test_fin_wait2_close(void **state)
{
	int fd[2];

	tcp_pair(fd, 0);
	put(fd[0], 1000);
	put(fd[1], 2000);
	wait_queue(fd[0], SIOCINQ, 2000);
	get(fd[0], 700);
	assert_int_equal(shutdown(fd[0], SHUT_WR), 0);
	wait_state(fd[0], TCP_FIN_WAIT2);
	check(fd[0], 1000, 700, 1300, 1, 0);
	get_eof(fd[1], 1000);
	close(fd[1]);
	wait_state(fd[0], TCP_CLOSE);
	check(fd[0], 1000, 700, 1300, 1, 1);
	get_eof(fd[0], 1300);
	check(fd[0], 1000, 2000, 0, 1, 1);
	close(fd[0]);
}

/*
 * The peer resets the connection (SO_LINGER 0) with our bytes unread: we
 * reach CLOSE with its error pending, which sockq_get reports as a reset
 * (no FIN counted) and, reading it, clears; asked again, it can only take
 * the CLOSE for an orderly one (sockq.h).
 */
static void
test_reset_close(void **state)
{
	struct linger lg = { 1, 0 };
	struct sockq q;
	int fd[2], err;
	socklen_t len = sizeof(err);

	tcp_pair(fd, 0);
	put(fd[1], 1500);
	put(fd[0], 700);
	wait_queue(fd[0], SIOCINQ, 1500);
	get(fd[0], 500);
	assert_int_equal(setsockopt(fd[1], SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(fd[1]);
	wait_state(fd[0], TCP_CLOSE);
	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(sockq_get(fd[0], &q), 0);
	assert_int_equal(q.reset, 1);
	assert_int_equal(q.fin_sent, 0);
	assert_int_equal(q.fin_received, 0);
	assert_int_equal(q.written, 700);
	assert_int_equal(q.consumed, 500);
	assert_int_equal(q.unread, 1000);
	assert_int_equal(getsockopt(fd[0], SOL_SOCKET, SO_ERROR, &err, &len),
	    0);
	assert_int_equal(err, 0);
	check(fd[0], 699, 499, 1000, 1, 1);
	close(fd[0]);
}

/* Not a connected TCP socket: -1 with errno set. */
static void
test_errors(void **state)
{
	struct sockq q;
	int p[2], l;

	assert_int_equal(pipe(p), 0);
	errno = 0;
	assert_int_equal(sockq_get(p[0], &q), -1);
	assert_int_equal(errno, ENOTSOCK);
	close(p[0]);
	close(p[1]);
	errno = 0;
	assert_int_equal(sockq_get(p[0], &q), -1);
	assert_int_equal(errno, EBADF);
	assert_true((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(listen(l, 1), 0);
	errno = 0;
	assert_int_equal(sockq_get(l, &q), -1);
	assert_int_not_equal(errno, 0);
	close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_established),
		cmocka_unit_test(test_consumed_peeked),
		cmocka_unit_test(test_unacked),
		cmocka_unit_test(test_fin_wait2_close_wait),
		cmocka_unit_test(test_fin_wait1_closing),
		cmocka_unit_test(test_last_ack_close),
		cmocka_unit_test(test_fin_wait2_close),
		cmocka_unit_test(test_reset_close),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
