/*
 * test_relay: a session by swapping carriers under it (src/relay.c), on a
 * real libuv loop in one process.  A "client" relay (node=0) and a "node"
 * relay (node=1) are joined by a loopback TCP connection, the carrier;
 * each relay's plain side is a loopback TCP pair whose other end the test
 * drives (the application and the backend).  The test's ends write a
 * pseudo-random stream each way at once and check what arrives: byte-exact,
 * in order, nothing extra, then EOF exactly once.  While bytes flow the test
 * kills the carrier (shutdown(2) of one end, or garbage written into it) or
 * simply swaps it, and gives both relays a new loopback carrier with the
 * next carrier number and fresh keys (relay_resume), from the lost callback,
 * a moment later, or before either side noticed.  In case (h) the node's
 * worker dies instead, and a new relay adopts its backend socket
 * (relay_adopt) before the swap.  Every case must end with both relays
 * reporting RELAY_END_DONE and with no carrier lost that the test did not
 * kill.  Each case runs RELAY_TEST_RUNS times (default 10; case h a fifth
 * of that, at least 2); RELAY_TEST_VERBOSE=1 prints what happens.  Every
 * wait is bounded by a uv timer, so a bug fails a case rather than
 * hanging it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "compat.h"
#include "crypto.h"
#include "log.h"
#include "record.h"
#include "relay.h"
#include "session.h"
#include "sockq.h"
#include "stream.h"
#include "wire.h"

#define KEEPALIVE 10            /* seconds, as warrend's default */
#define DEAD_BUSY 3             /* seconds, as the default */
#define CASE_TIMEOUT_MS 60000   /* a case that takes longer has failed */
#define ABORT_GRACE_MS 15000    /* after a failure, for the relays to end */
#define POLL_MS 10
#define STALL_MS 1200           /* no progress this long: the window is full */
#define CHUNK (128 * 1024)      /* one write of a test end */
#define QUEUE_MAX (1u << 20)    /* bytes a test end keeps in uv_write */
#define MIB (1024 * 1024)

enum kill {
	K_SWAP,          /* no kill: swap both carriers before either noticed */
	K_RDWR_CLIENT,   /* shutdown(SHUT_RDWR) of the client's carrier fd */
	K_RDWR_NODE,     /* the same on the node's */
	K_WR_NODE,       /* shutdown(SHUT_WR) of the node's: the client sees EOF */
	K_GARBAGE,       /* bytes that do not authenticate, client to node */
	K_N
};
static const char *kill_names[] = { "swap", "rdwr-client", "rdwr-node",
    "wr-node", "garbage" };

enum swap_when {
	W_SYNC,          /* from the first lost_cb, the other may be attached */
	W_DEFER0,        /* from a timer right after the first lost_cb */
	W_DEFER100,      /* 100 ms later: usually both have noticed */
	W_N
};
static const char *when_names[] = { "sync", "defer0", "defer100" };

struct tc;

/* One relay and the test's end of its plain side. */
struct end {
	struct tc *t;
	int idx;                 /* 0: client, 1: node */
	const char *name;
	struct relay *r;         /* NULL once ended */
	int ended;
	enum relay_end how;
	char how_text[WIRE_CLOSE_TEXT_MAX + 1];
	int lost;                /* detached: lost_cb, no resume since */
	int proven;              /* proven on the current carrier */
	int established;         /* proven on some carrier */
	unsigned losses;
	int cfd;                 /* the raw fd of its current carrier */
	int pfd;                 /* the raw fd of the relay's plain side */

	uv_tcp_t app;            /* the test's end of the plain pair */
	int app_closed;
	uint64_t seed_out, seed_in;
	uint64_t want;           /* bytes this end writes */
	uint64_t wrote;          /* handed to uv_write */
	size_t queued;           /* in uv_write requests */
	int write_go;
	uint64_t lead;           /* write at most this far ahead of the peer's
				    reads (0: no limit) */
	uint64_t cap;            /* write no more than this for now (0: no
				    limit) */
	int shut_at_end;         /* shut our write side after want */
	int shut, shut_done;
	uv_shutdown_t shreq;
	uint64_t expect;         /* bytes the other end writes */
	uint64_t got;            /* read and checked */
	int eof;                 /* EOFs seen */
	int paused;
	int read_err;
	uint8_t rbuf[64 * 1024];
	uint8_t cmp[64 * 1024];
};

struct tc {
	uv_loop_t loop;
	uv_timer_t guard, poll, defer;
	uv_timer_t hard;         /* after a timeout, for the aborts */
	int run;
	struct session s;
	struct end e[2];
	int expect_loss;         /* the test killed the carrier */
	int defer_pending;
	enum swap_when when;
	unsigned swaps;
	unsigned unexpected;     /* carriers lost that the test did not kill */
	int phase;
	int finished;            /* teardown started */
	int failed;
	int stopped;             /* the hard stop fired */
	char why[512];
	void (*step)(struct tc *t);
	/* case (b): stall detection */
	uint64_t mark_val, mark_time;
	uint64_t g0;
	int variant;
	/* case (h): a worker restart */
	int hold_swap;           /* lost_cb leaves the swap to the step */
	int old_ending;          /* the replaced node relay is ending */
	int old_ended;
};

static int verbose;

static void
vlog(struct tc *t, const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fprintf(stderr, "  [run %d t=%llu] ", t->run,
	    (unsigned long long)uv_now(&t->loop));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Record the first failure of a case. */
static void
fail_case(struct tc *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	t->failed = 1;
	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	vlog(t, "FAIL: %s", t->why);
}

/* splitmix64. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The ${n} bytes of stream ${seed} at offset ${off}. */
static void
fill(uint64_t seed, uint64_t off, uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint64_t x = off + i;
		uint64_t w = mix(seed ^ (x >> 3));
		unsigned k;

		for (k = (unsigned)(x & 7); k < 8 && i < n; k++, i++)
			p[i] = (uint8_t)(w >> (8 * k));
	}
}

/*
 * Bind ${fd} to 127.0.0.1 and a port in PORT_LO..PORT_HI: above the
 * kernel's ephemeral range (32768-60999), warren's default grant ports
 * (61000-63999) and every grant range of the system tests and the demo,
 * so that their `ss -K` of a port range, run on the same machine at the
 * same time, never destroys this test's sockets (it did).
 */
#define PORT_LO 64000
#define PORT_HI 65499
static void
bind_high(int fd, struct sockaddr_in *a)
{
	static unsigned next;
	int tries, one = 1;

	if (next == 0)
		assert_int_equal(crypto_random((uint8_t *)&next,
		    sizeof(next)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)), 0);
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (tries = 0; tries < 1000; tries++) {
		a->sin_port = htons((uint16_t)(PORT_LO + next++ %
		    (PORT_HI - PORT_LO + 1)));
		if (bind(fd, (struct sockaddr *)a, sizeof(*a)) == 0)
			return;
		assert_int_equal(errno, EADDRINUSE);
	}
	fail_msg("no free port in %d..%d", PORT_LO, PORT_HI);
}

/* A connected loopback TCP pair, non-blocking: ${fd}[0] connected. */
static void
tcp_pair(int fd[2])
{
	struct sockaddr_in a, b;
	int l, tries;

	assert_true((l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	bind_high(l, &a);
	assert_int_equal(listen(l, 1), 0);
	/*
	 * The ports cycle through a small range, so the pair (a, b) can
	 * repeat that of a connection still in TIME_WAIT: the kernel then
	 * refuses the connect (EADDRNOTAVAIL), and another b is taken.
	 */
	for (tries = 0;; tries++) {
		assert_true((fd[0] = socket(AF_INET, SOCK_STREAM |
		    SOCK_CLOEXEC, 0)) >= 0);
		bind_high(fd[0], &b);
		if (connect(fd[0], (struct sockaddr *)&a, sizeof(a)) == 0)
			break;
		if ((errno != EADDRNOTAVAIL && errno != EADDRINUSE) ||
		    tries == 100)
			fail_msg("connect to port %u from %u: %s",
			    ntohs(a.sin_port), ntohs(b.sin_port),
			    strerror(errno));
		close(fd[0]);
	}
	assert_true((fd[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	close(l);
	assert_int_equal(fcntl(fd[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fd[1], F_SETFL, O_NONBLOCK), 0);
}

/* A heap uv_tcp_t on ${fd} (a relay frees it when it closes it). */
static uv_tcp_t *
tcp_handle(struct tc *t, int fd)
{
	uv_tcp_t *h = malloc(sizeof(*h));

	assert_non_null(h);
	assert_int_equal(uv_tcp_init(&t->loop, h), 0);
	assert_int_equal(uv_tcp_open(h, fd), 0);
	return h;
}

static void check_done(struct tc *t);
static void teardown(struct tc *t);

/* Run the case's step function, then see whether the case is over. */
static void
kick(struct tc *t)
{
	if (!t->finished && !t->failed && t->step != NULL)
		t->step(t);
	check_done(t);
}

/* Both relays alive, on a carrier proven at both ends, nothing pending. */
static int
ready(const struct tc *t)
{
	int i;

	if (t->expect_loss || t->defer_pending || t->finished || t->failed)
		return 0;
	for (i = 0; i < 2; i++)
		if (t->e[i].r == NULL || t->e[i].lost || !t->e[i].proven)
			return 0;
	return 1;
}

/*
 * Give both relays a new carrier: a fresh loopback pair, the next carrier
 * number, fresh keys.  A relay still on its old carrier drops it.
 */
static void
swap(struct tc *t)
{
	int fd[2], i;

	t->defer_pending = 0;
	for (i = 0; i < 2; i++) {
		if (t->e[i].r == NULL) {
			fail_case(t, "swap: the %s relay has ended (%s: %s) "
			    "while the %s relay %s", t->e[i].name,
			    relay_end_str(t->e[i].how), t->e[i].how_text,
			    t->e[!i].name, t->e[!i].lost ?
			    "waits detached for a resume" : "lives");
			teardown(t);
			return;
		}
		if (!t->e[i].established) {
			fail_case(t, "swap before %s established",
			    t->e[i].name);
			teardown(t);
			return;
		}
	}
	tcp_pair(fd);
	t->s.carrier++;
	assert_int_equal(crypto_random(t->s.key_c2s, sizeof(t->s.key_c2s)), 0);
	assert_int_equal(crypto_random(t->s.key_s2c, sizeof(t->s.key_s2c)), 0);
	t->swaps++;
	t->expect_loss = 0;
	vlog(t, "swap to carrier %u (client %s, node %s)", t->s.carrier,
	    t->e[0].lost ? "lost" : "attached",
	    t->e[1].lost ? "lost" : "attached");
	for (i = 0; i < 2; i++) {
		struct end *e = &t->e[i];

		e->lost = 0;
		e->proven = 0;
		e->cfd = fd[i];
		if (e->r == NULL) {
			/* Ended in the other relay's resume: close ours. */
			uv_close((uv_handle_t *)tcp_handle(t, fd[i]),
			    (uv_close_cb)free);
			continue;
		}
		if (relay_resume(e->r, tcp_handle(t, fd[i]), &t->s) != 0)
			fail_case(t, "relay_resume(%s) failed", e->name);
	}
}

static void
on_defer(uv_timer_t *h)
{
	struct tc *t = h->data;

	if (t->defer_pending && !t->finished)
		swap(t);
	kick(t);
}

/* Kill the current carrier by ${how}; the lost callbacks swap it. */
static void
kill_carrier(struct tc *t, enum kill how, enum swap_when when)
{
	static const uint8_t junk[16] = {
		0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

	vlog(t, "kill carrier %u: %s, swap %s", t->s.carrier, kill_names[how],
	    when_names[when]);
	t->when = when;
	if (how == K_SWAP) {
		swap(t);
		return;
	}
	t->expect_loss = 1;
	switch (how) {
	case K_RDWR_CLIENT:
		assert_int_equal(shutdown(t->e[0].cfd, SHUT_RDWR), 0);
		break;
	case K_RDWR_NODE:
		assert_int_equal(shutdown(t->e[1].cfd, SHUT_RDWR), 0);
		break;
	case K_WR_NODE:
		assert_int_equal(shutdown(t->e[1].cfd, SHUT_WR), 0);
		break;
	case K_GARBAGE:
		/* A length out of range: the node drops the carrier. */
		if (write(t->e[0].cfd, junk, sizeof(junk)) < 0 &&
		    errno != EAGAIN)
			fail_case(t, "garbage write: %s", strerror(errno));
		break;
	default:
		break;
	}
}

static void
on_proven(struct relay *r, void *arg)
{
	struct end *e = arg;

	e->proven = 1;
	e->established = 1;
	vlog(e->t, "%s proven on carrier %u", e->name, e->t->s.carrier);
	kick(e->t);
}

static void
on_lost(struct relay *r, void *arg, const char *text)
{
	struct end *e = arg;
	struct tc *t = e->t;

	e->lost = 1;
	e->proven = 0;
	e->losses++;
	vlog(t, "%s lost carrier %u: %s", e->name, t->s.carrier, text);
	if (!t->expect_loss) {
		t->unexpected++;
		fail_case(t, "%s lost carrier %u that the test did not kill: "
		    "%s", e->name, t->s.carrier, text);
		teardown(t);
		return;
	}
	if (t->finished || t->defer_pending || t->hold_swap)
		return;
	if (t->e[!e->idx].r == NULL) {
		fail_case(t, "%s lost its carrier (%s) after the %s relay "
		    "ended (%s): stranded, no resume can come", e->name, text,
		    t->e[!e->idx].name, relay_end_str(t->e[!e->idx].how));
		teardown(t);
		return;
	}
	switch (t->when) {
	case W_SYNC:
		swap(t);
		break;
	case W_DEFER0:
	case W_DEFER100:
		t->defer_pending = 1;
		uv_timer_start(&t->defer, on_defer,
		    t->when == W_DEFER0 ? 0 : 100, 0);
		break;
	default:
		break;
	}
}

static void
on_end(struct relay *r, void *arg, enum relay_end how, const char *text)
{
	struct end *e = arg;
	struct tc *t = e->t;

	if (t->old_ending && e->idx == 1) {
		/* The old worker's relay, replaced (case h): not this end's. */
		t->old_ended = 1;
		vlog(t, "old node relay ended: %s (%s)", relay_end_str(how),
		    text);
		return;
	}
	e->r = NULL;
	e->ended = 1;
	e->how = how;
	snprintf(e->how_text, sizeof(e->how_text), "%s", text);
	vlog(t, "%s ended: %s (%s)", e->name, relay_end_str(how), text);
	if (how != RELAY_END_DONE) {
		fail_case(t, "%s relay ended %s: %s", e->name,
		    relay_end_str(how), text);
		teardown(t);
		return;
	}
	kick(t);
}

/* The test's ends. */

struct wreq {
	uv_write_t req;
	struct end *e;
	size_t n;
	uint8_t data[];
};

static void write_more(struct end *e);

static void
on_app_shut(uv_shutdown_t *req, int status)
{
	struct end *e = req->data;

	if (status < 0 && !e->t->finished)
		fail_case(e->t, "%s end: shutdown: %s", e->name,
		    uv_strerror(status));
	e->shut_done = 1;
	vlog(e->t, "%s end shut its write side", e->name);
	kick(e->t);
}

static void
on_app_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct end *e = w->e;

	e->queued -= w->n;
	free(w);
	if (status < 0) {
		if (!e->t->finished)
			fail_case(e->t, "%s end: write: %s", e->name,
			    uv_strerror(status));
		return;
	}
	write_more(e);
	kick(e->t);
}

/* Keep up to QUEUE_MAX bytes of the stream in flight; shut at the end. */
static void
write_more(struct end *e)
{
	if (e->app_closed || e->t->finished)
		return;
	while (e->write_go && e->wrote < e->want && e->queued < QUEUE_MAX &&
	    (e->lead == 0 || e->wrote < e->t->e[!e->idx].got + e->lead) &&
	    (e->cap == 0 || e->wrote < e->cap)) {
		size_t n = e->want - e->wrote < CHUNK ?
		    (size_t)(e->want - e->wrote) : CHUNK;
		struct wreq *w = malloc(sizeof(*w) + n);
		uv_buf_t b;

		assert_non_null(w);
		w->e = e;
		w->n = n;
		fill(e->seed_out, e->wrote, w->data, n);
		b = uv_buf_init((char *)w->data, (unsigned)n);
		assert_int_equal(uv_write(&w->req, (uv_stream_t *)&e->app, &b,
		    1, on_app_write), 0);
		e->wrote += n;
		e->queued += n;
	}
	if (e->write_go && e->wrote == e->want && e->shut_at_end &&
	    !e->shut) {
		e->shut = 1;
		e->shreq.data = e;
		assert_int_equal(uv_shutdown(&e->shreq, (uv_stream_t *)&e->app,
		    on_app_shut), 0);
	}
}

static void
app_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct end *e = h->data;

	*buf = uv_buf_init((char *)e->rbuf, sizeof(e->rbuf));
}

static void
app_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct end *e = s->data;
	struct tc *t = e->t;

	if (nread == 0)
		return;
	if (nread == UV_EOF) {
		e->eof++;
		vlog(t, "%s end: EOF after %llu bytes", e->name,
		    (unsigned long long)e->got);
		if (e->got != e->expect)
			fail_case(t, "%s end: EOF after %llu bytes, expected "
			    "%llu", e->name, (unsigned long long)e->got,
			    (unsigned long long)e->expect);
		uv_read_stop(s);
		kick(t);
		return;
	}
	if (nread < 0) {
		e->read_err = (int)nread;
		uv_read_stop(s);
		fail_case(t, "%s end: read: %s", e->name,
		    uv_strerror((int)nread));
		teardown(t);
		return;
	}
	if (e->eof)
		fail_case(t, "%s end: bytes after EOF", e->name);
	if (e->got + (uint64_t)nread > e->expect) {
		fail_case(t, "%s end: %llu bytes, more than the %llu sent",
		    e->name, (unsigned long long)(e->got + (uint64_t)nread),
		    (unsigned long long)e->expect);
	} else {
		fill(e->seed_in, e->got, e->cmp, (size_t)nread);
		if (memcmp(e->cmp, buf->base, (size_t)nread) != 0) {
			size_t i = 0;

			while (e->cmp[i] == (uint8_t)buf->base[i])
				i++;
			fail_case(t, "%s end: byte %llu differs", e->name,
			    (unsigned long long)(e->got + i));
		}
	}
	e->got += (uint64_t)nread;
	write_more(&t->e[!e->idx]);
	kick(t);
}

/* Stop or start reading the test's end ${e} (its window fills). */
static void
set_paused(struct end *e, int paused)
{
	if (e->paused == paused || e->eof || e->app_closed)
		return;
	e->paused = paused;
	vlog(e->t, "%s end %s reading at %llu", e->name,
	    paused ? "stops" : "resumes", (unsigned long long)e->got);
	if (paused)
		uv_read_stop((uv_stream_t *)&e->app);
	else
		assert_int_equal(uv_read_start((uv_stream_t *)&e->app,
		    app_alloc, app_read), 0);
}

static void
close_test_handles(struct tc *t)
{
	int i;

	for (i = 0; i < 2; i++)
		if (!t->e[i].app_closed) {
			t->e[i].app_closed = 1;
			uv_close((uv_handle_t *)&t->e[i].app, NULL);
		}
	uv_timer_stop(&t->poll);
	uv_timer_stop(&t->defer);
	uv_timer_stop(&t->guard);
	if (!uv_is_closing((uv_handle_t *)&t->poll)) {
		uv_close((uv_handle_t *)&t->poll, NULL);
		uv_close((uv_handle_t *)&t->defer, NULL);
		uv_close((uv_handle_t *)&t->guard, NULL);
	}
}

static void
on_hard_stop(uv_timer_t *h)
{
	struct tc *t = h->data;

	fail_case(t, "relays did not end after abort");
	t->stopped = 1;
	uv_stop(&t->loop);
}

/* After a failure: abort what lives, close what is ours, bounded. */
static void
teardown(struct tc *t)
{
	int i;

	if (t->finished)
		return;
	t->finished = 1;
	vlog(t, "teardown");
	for (i = 0; i < 2; i++)
		if (t->e[i].r != NULL)
			relay_abort(t->e[i].r, WIRE_CLOSE_ERROR, "test failed");
	close_test_handles(t);
}

/* Everything ended well: close the test's handles, the loop ends. */
static void
check_done(struct tc *t)
{
	int i;

	if (t->finished)
		return;
	for (i = 0; i < 2; i++) {
		struct end *e = &t->e[i];

		if (!e->ended || e->eof == 0 || e->got != e->expect ||
		    e->wrote != e->want || !e->shut_done || e->queued > 0)
			return;
	}
	t->finished = 1;
	vlog(t, "done: %u swaps", t->swaps);
	close_test_handles(t);
}

static void
on_guard(uv_timer_t *h)
{
	struct tc *t = h->data;
	int i;

	for (i = 0; i < 2; i++) {
		struct end *e = &t->e[i];
		uint64_t sent = 0, rcvd = 0;

		if (e->r != NULL)
			relay_stats(e->r, &sent, &rcvd);
		fprintf(stderr, "  timeout: %s relay %s%s sent=%llu "
		    "received=%llu; end wrote=%llu/%llu got=%llu/%llu eof=%d "
		    "shut=%d paused=%d\n", e->name,
		    e->ended ? relay_end_str(e->how) : "live",
		    e->lost ? " (lost)" : "", (unsigned long long)sent,
		    (unsigned long long)rcvd, (unsigned long long)e->wrote,
		    (unsigned long long)e->want, (unsigned long long)e->got,
		    (unsigned long long)e->expect, e->eof, e->shut_done,
		    e->paused);
	}
	fail_case(t, "timed out in phase %d after %u swaps", t->phase,
	    t->swaps);
	teardown(t);
	/* Unreferenced: it fires only if the aborted relays hang. */
	uv_timer_start(&t->hard, on_hard_stop, ABORT_GRACE_MS, 0);
	uv_unref((uv_handle_t *)&t->hard);
}

static void
on_poll(uv_timer_t *h)
{
	kick(h->data);
}

/*
 * Set up a case: the session, a carrier, both relays and their plain
 * sides.  ${na} bytes go from the application (client end) to the backend
 * (node end), ${nb} the other way.  A non-zero ${plain_buf} sets the
 * kernel buffers of the plain pairs that small, so that a test end that
 * stops reading holds bytes in its relay at once.
 */
static void
tc_init(struct tc *t, int run, uint64_t na, uint64_t nb, int plain_buf,
    void (*step)(struct tc *))
{
	int fd[2], pfd[2], i;
	uint64_t seeds[2];

	memset(t, 0, sizeof(*t));
	t->run = run;
	t->step = step;
	assert_int_equal(uv_loop_init(&t->loop), 0);
	assert_int_equal(crypto_random(t->s.id, sizeof(t->s.id)), 0);
	assert_int_equal(crypto_random(t->s.key_c2s, sizeof(t->s.key_c2s)), 0);
	assert_int_equal(crypto_random(t->s.key_s2c, sizeof(t->s.key_s2c)), 0);
	assert_int_equal(crypto_random((uint8_t *)seeds, sizeof(seeds)), 0);
	snprintf(t->s.service, sizeof(t->s.service), "test");
	uv_timer_init(&t->loop, &t->guard);
	uv_timer_init(&t->loop, &t->poll);
	uv_timer_init(&t->loop, &t->defer);
	uv_timer_init(&t->loop, &t->hard);
	uv_unref((uv_handle_t *)&t->hard);
	t->guard.data = t->poll.data = t->defer.data = t->hard.data = t;
	uv_timer_start(&t->guard, on_guard, CASE_TIMEOUT_MS, 0);
	uv_timer_start(&t->poll, on_poll, POLL_MS, POLL_MS);

	tcp_pair(fd);
	for (i = 0; i < 2; i++) {
		struct end *e = &t->e[i];
		uv_tcp_t *plain;

		e->t = t;
		e->idx = i;
		e->name = i ? "node" : "client";
		e->seed_out = seeds[i];
		e->seed_in = seeds[!i];
		e->want = i ? nb : na;
		e->expect = i ? na : nb;
		e->write_go = 1;
		e->shut_at_end = 1;
		e->cfd = fd[i];
		tcp_pair(pfd);
		if (i == 1) {
			/*
			 * The node's relay holds the end that connected, as
			 * warrend's backend connection (sockq.h needs it).
			 */
			int k = pfd[0];

			pfd[0] = pfd[1];
			pfd[1] = k;
		}
		if (plain_buf > 0) {
			int k;

			for (k = 0; k < 2; k++) {
				assert_int_equal(setsockopt(pfd[k], SOL_SOCKET,
				    SO_SNDBUF, &plain_buf, sizeof(plain_buf)), 0);
				assert_int_equal(setsockopt(pfd[k], SOL_SOCKET,
				    SO_RCVBUF, &plain_buf, sizeof(plain_buf)), 0);
			}
		}
		assert_int_equal(uv_tcp_init(&t->loop, &e->app), 0);
		assert_int_equal(uv_tcp_open(&e->app, pfd[0]), 0);
		e->app.data = e;
		plain = tcp_handle(t, pfd[1]);
		e->pfd = pfd[1];
		e->r = relay_new(&t->loop, tcp_handle(t, fd[i]), &t->s, i,
		    KEEPALIVE, i ? "test-client" : "test-node", on_proven,
		    on_end, e);
		assert_non_null(e->r);
		relay_set_resumable(e->r, on_lost, DEAD_BUSY);
		relay_attach(e->r, (uv_stream_t *)plain, (uv_stream_t *)plain);
		assert_int_equal(uv_read_start((uv_stream_t *)&e->app,
		    app_alloc, app_read), 0);
	}
}

/* Start the writers (those with write_go) and run the case to its end. */
static void
tc_run(struct tc *t)
{
	int i, rc;

	for (i = 0; i < 2; i++)
		write_more(&t->e[i]);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	if (!uv_is_closing((uv_handle_t *)&t->hard)) {
		uv_close((uv_handle_t *)&t->hard, NULL);
		if (!t->stopped)
			uv_run(&t->loop, UV_RUN_DEFAULT);
	}
	if (!t->failed)
		for (i = 0; i < 2; i++) {
			struct end *e = &t->e[i];

			if (!e->ended || e->how != RELAY_END_DONE)
				fail_case(t, "%s relay did not end done",
				    e->name);
			else if (e->eof != 1 || e->got != e->expect)
				fail_case(t, "%s end: %llu of %llu bytes, %d "
				    "EOF", e->name, (unsigned long long)e->got,
				    (unsigned long long)e->expect, e->eof);
			else if (e->wrote != e->want)
				fail_case(t, "%s end wrote %llu of %llu",
				    e->name, (unsigned long long)e->wrote,
				    (unsigned long long)e->want);
		}
	if (!t->failed && t->unexpected)
		fail_case(t, "%u carriers lost unexpectedly", t->unexpected);
	if (t->failed)
		fail_msg("run %d: %s", t->run, t->why);
	rc = uv_loop_close(&t->loop);
	assert_int_equal(rc, 0);
}

/* RELAY_TEST_FIRST=k starts each case at run k (a failing variant). */
static int
first_run(void)
{
	const char *v = getenv("RELAY_TEST_FIRST");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 0;
}

static int
runs(void)
{
	const char *v = getenv("RELAY_TEST_RUNS");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 10;
}

/* Kills in turn, so the runs between them try every kind and moment. */
static enum kill
kind(struct tc *t, int k)
{
	return (enum kill)((t->run + k) % K_N);
}

/*
 * (a) Several swaps during a 32 MiB bidirectional transfer: each time
 * another tenth of the bytes has arrived at both ends (six times), the
 * carrier is killed in one of K_N ways and swapped in one of W_N ways.
 * The writers stay at most A_LEAD ahead of the readers, so every kill
 * falls while both directions still have bytes to send (teardown is
 * case d), and until the last swap they write no further than A_LEAD
 * past the next mark, so a slow new carrier cannot let the transfer end
 * before all the swaps were made (seen in CI on a loaded machine).
 */
#define A_BYTES (32ull * MIB)
#define A_SWAPS 6
#define A_LEAD (8ull * MIB)     /* so every kill is mid-stream both ways */

static uint64_t
a_mark(int phase)
{
	return (uint64_t)(phase + 1) * A_BYTES / (A_SWAPS + 4);
}

/* Let both writers go up to A_LEAD past the current phase's mark. */
static void
a_gate(struct tc *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		t->e[i].cap = t->phase < A_SWAPS ? a_mark(t->phase) + A_LEAD :
		    0;
		write_more(&t->e[i]);
	}
}

static void
step_a(struct tc *t)
{
	uint64_t mark = a_mark(t->phase);

	if (t->phase < A_SWAPS && ready(t) && t->e[0].got >= mark &&
	    t->e[1].got >= mark) {
		enum kill k = kind(t, t->phase);

		t->phase++;
		kill_carrier(t, k, (enum swap_when)((t->run / K_N + t->phase)
		    % W_N));
		a_gate(t);
	}
}

static void
test_swaps_bulk(void **state)
{
	struct tc *t = malloc(sizeof(*t));
	int run;

	assert_non_null(t);
	for (run = first_run(); run < first_run() + runs(); run++) {
		tc_init(t, run, A_BYTES, A_BYTES, 0, step_a);
		t->e[0].lead = t->e[1].lead = A_LEAD;
		t->e[0].cap = t->e[1].cap = a_mark(0) + A_LEAD;
		tc_run(t);
		assert_true(t->swaps >= A_SWAPS);
	}
	free(t);
}

/*
 * (b) A swap right after the sender's window fills.  The backend end
 * stops reading, the client's stream stops when its window is full (its
 * sent offset is still for STALL_MS, and at least a window beyond what the
 * backend read), the carrier is swapped, and the backend reads again
 * (before or after the new carrier is proven).  Then the same the other
 * way: the application stops reading while the backend writes.
 */
#define B_BYTES (24ull * MIB)

/* The stream of ${e}'s relay has not moved for STALL_MS. */
static int
stalled(struct tc *t, struct end *e)
{
	uint64_t sent, rcvd, now = uv_now(&t->loop);

	relay_stats(e->r, &sent, &rcvd);
	if (sent != t->mark_val || t->mark_time == 0) {
		t->mark_val = sent;
		t->mark_time = now;
		return 0;
	}
	return now - t->mark_time >= STALL_MS;
}

static void
swap_b(struct tc *t, int k)
{
	static const enum kill kinds[] = { K_SWAP, K_RDWR_CLIENT, K_RDWR_NODE,
	    K_WR_NODE };

	kill_carrier(t, kinds[(t->run + k) % 4],
	    (enum swap_when)((t->run + k) % W_N));
}

static void
step_b(struct tc *t)
{
	uint64_t sent, rcvd;

	switch (t->phase) {
	case 0:   /* client -> node: the window fills */
		if (!ready(t) || !stalled(t, &t->e[0]))
			return;
		relay_stats(t->e[0].r, &sent, &rcvd);
		vlog(t, "client stream stalled at %llu, backend read %llu",
		    (unsigned long long)sent, (unsigned long long)t->e[1].got);
		assert_int_equal(t->e[1].got, 0);
		assert_true(sent >= RELAY_WINDOW - 2 * STREAM_MIN_READ);
		assert_true(sent < B_BYTES);
		t->phase = 1;
		swap_b(t, 0);
		break;
	case 1:
		if ((t->run & 1) && !ready(t))
			return;
		set_paused(&t->e[1], 0);
		t->phase = 2;
		break;
	case 2:   /* node -> client: the application stops reading */
		if (!ready(t))
			return;
		set_paused(&t->e[0], 1);
		t->g0 = t->e[0].got;
		t->e[1].write_go = 1;
		write_more(&t->e[1]);
		t->mark_time = 0;
		t->phase = 3;
		break;
	case 3:
		if (!ready(t) || !stalled(t, &t->e[1]))
			return;
		relay_stats(t->e[1].r, &sent, &rcvd);
		vlog(t, "node stream stalled at %llu, application read %llu",
		    (unsigned long long)sent, (unsigned long long)t->e[0].got);
		assert_int_equal(t->e[0].got, t->g0);
		assert_true(sent >= t->g0 + RELAY_WINDOW - 2 * STREAM_MIN_READ);
		assert_true(sent < B_BYTES);
		t->phase = 4;
		swap_b(t, 1);
		break;
	case 4:
		if (!(t->run & 1) && !ready(t))
			return;
		set_paused(&t->e[0], 0);
		t->phase = 5;
		break;
	default:
		break;
	}
}

static void
test_swap_window_full(void **state)
{
	struct tc *t = malloc(sizeof(*t));
	int run;

	assert_non_null(t);
	for (run = first_run(); run < first_run() + runs(); run++) {
		tc_init(t, run, B_BYTES, B_BYTES, 0, step_b);
		set_paused(&t->e[1], 1);
		t->e[1].write_go = 0;
		tc_run(t);
		assert_true(t->swaps >= 2);
	}
	free(t);
}

/*
 * (c) Swaps after one side's FIN.  One end (the application on even runs,
 * the backend on odd ones) writes 4 MiB and shuts its write side; the
 * carrier is swapped when that shutdown completes, again when the other
 * end sees the EOF, and again half-way through the other end's 32 MiB,
 * which it writes all along (but not past 24 MiB before that third swap,
 * so the transfer cannot end first).  Both relays must end done, each end see all
 * bytes and exactly one EOF.
 */
#define C_SHORT (4ull * MIB)
#define C_LONG (32ull * MIB)

static void
step_c(struct tc *t)
{
	int a = t->run & 1, b = !a;   /* a closes first */

	switch (t->phase) {
	case 0:
		if (!t->e[a].shut_done || !ready(t))
			return;
		t->phase = 1;
		kill_carrier(t, kind(t, 0), (enum swap_when)(t->run % W_N));
		break;
	case 1:
		if (!t->e[b].eof || !ready(t))
			return;
		t->phase = 2;
		kill_carrier(t, kind(t, 1),
		    (enum swap_when)((t->run + 1) % W_N));
		break;
	case 2:
		if (t->e[a].got < C_LONG / 2 || !ready(t))
			return;
		t->phase = 3;
		kill_carrier(t, kind(t, 2),
		    (enum swap_when)((t->run + 2) % W_N));
		t->e[b].cap = 0;   /* now the rest */
		write_more(&t->e[b]);
		break;
	default:
		break;
	}
}

static void
test_swap_half_close(void **state)
{
	struct tc *t = malloc(sizeof(*t));
	int run;

	assert_non_null(t);
	for (run = first_run(); run < first_run() + runs(); run++) {
		int a = run & 1;

		tc_init(t, run, a ? C_LONG : C_SHORT, a ? C_SHORT : C_LONG,
		    0, step_c);
		/* The long stream waits half-way for the third swap. */
		t->e[!a].cap = C_LONG * 3 / 4;
		tc_run(t);
		assert_true(t->swaps >= 3);
	}
	free(t);
}

/*
 * (d) A swap during the orderly teardown.  Both ends write 4 MiB and shut
 * their write sides.  The carrier is swapped or killed (by run):
 *   0  when the first end sees EOF (a swap)
 *   1  when both ends' shutdowns have completed (a swap)
 *   2  when the first relay has ended (the other's carrier killed)
 * Those moments race the teardown, which often wins.  The rest hold the
 * teardown half-way, deterministically: the backend does not read (its
 * plain pair has small kernel buffers, so the node relay keeps most of
 * the client's bytes and its FIN), the application has read everything
 * and EOF, so the client has sent its FIN, received the node's, and shut
 * its side of the carrier.  Then, 200 ms on:
 *   3  a swap, then the backend reads again
 *   4  the client's carrier fd shut (SHUT_RDWR), swapped from lost_cb
 *   5  the node's carrier fd shut (SHUT_RDWR), swapped 100 ms later
 *   6  the node's carrier fd shut for writing, swapped at once (timer)
 *   7  a swap, and as soon as both are proven the node's fd shut
 * Both relays must end done and every byte arrive; a relay stranded
 * detached after its peer ended, or one that never ends, fails the case.
 */
#define D_BYTES (4ull * MIB)
#define D_PLAINBUF (16 * 1024)
#define D_HOLD_MS 200

/* The teardown is held: the client's half is done, the backend waits. */
static int
held(struct tc *t)
{
	uint64_t now = uv_now(&t->loop);

	if (!(t->e[0].eof && t->e[0].got == t->e[0].expect &&
	    t->e[0].shut_done && t->e[1].shut_done && t->e[1].paused &&
	    t->e[1].got < t->e[1].expect && ready(t))) {
		t->mark_time = 0;
		return 0;
	}
	if (t->mark_time == 0)
		t->mark_time = now;
	return now - t->mark_time >= D_HOLD_MS;
}

static void
step_d(struct tc *t)
{
	static const enum kill hk[] = { K_SWAP, K_RDWR_CLIENT, K_RDWR_NODE,
	    K_WR_NODE, K_SWAP };
	static const enum swap_when hw[] = { W_SYNC, W_SYNC, W_DEFER100,
	    W_DEFER0, W_SYNC };
	int v = t->variant, i;

	switch (t->phase) {
	case 0:
		if (v == 0 && (t->e[0].eof || t->e[1].eof) && ready(t)) {
			t->phase = 9;
			kill_carrier(t, K_SWAP, W_SYNC);
		} else if (v == 1 && t->e[0].shut_done && t->e[1].shut_done &&
		    ready(t)) {
			t->phase = 9;
			kill_carrier(t, K_SWAP, W_SYNC);
		} else if (v == 2) {
			for (i = 0; i < 2; i++)
				if (t->e[i].ended && t->e[!i].r != NULL &&
				    !t->e[!i].lost) {
					t->phase = 9;
					vlog(t, "%s ended; kill the %s's "
					    "carrier", t->e[i].name,
					    t->e[!i].name);
					t->expect_loss = 1;
					(void)shutdown(t->e[!i].cfd, SHUT_RDWR);
					return;
				}
		} else if (v >= 3 && held(t)) {
			vlog(t, "teardown held: backend read %llu of %llu",
			    (unsigned long long)t->e[1].got,
			    (unsigned long long)t->e[1].expect);
			t->phase = v == 7 ? 1 : 2;
			kill_carrier(t, hk[v - 3], hw[v - 3]);
		}
		break;
	case 1:   /* variant 7: the node's fd, on the new carrier */
		if (!ready(t))
			return;
		t->phase = 2;
		kill_carrier(t, K_RDWR_NODE, W_SYNC);
		break;
	case 2:
		if (!ready(t) && t->e[0].r != NULL && t->e[1].r != NULL)
			return;
		t->phase = 3;
		set_paused(&t->e[1], 0);
		break;
	default:
		break;
	}
}

/* Run variant ${v} of case (d). */
static void
run_d(struct tc *t, int run, int v)
{
	tc_init(t, run, D_BYTES, D_BYTES, v >= 3 ? D_PLAINBUF : 0, step_d);
	t->variant = v;
	if (v >= 3)
		set_paused(&t->e[1], 1);
	tc_run(t);
}

/* Variants 0-3 of case (d), each runs() / 2 times (at least 3). */
static void
test_swap_teardown(void **state)
{
	struct tc *t = malloc(sizeof(*t));
	int run, n = runs() * 2 > 12 ? runs() * 2 : 12;

	assert_non_null(t);
	for (run = first_run(); run < first_run() + n; run++)
		run_d(t, run, run % 4);
	free(t);
}

/*
 * Variants 4-7 of case (d): the carrier killed in the held teardown.
 * They failed before the fix that came with them: the client took a
 * carrier EOF after both FINs for the orderly end although the node had
 * not delivered (acknowledged) its stream, and the node, which saw the
 * client's orderly EOF, then never ended when a write to that carrier
 * failed (PROTOCOL.md 7.7: the final ACK, and when an EOF is orderly).
 */
static void
test_swap_teardown_kill(void **state)
{
	struct tc *t;
	int run;

	t = malloc(sizeof(*t));
	assert_non_null(t);
	for (run = first_run(); run < first_run() + runs(); run++)
		run_d(t, run, 4 + run % 4);
	free(t);
}

/*
 * (e) Carriers swapped many times in a row before any data: after both
 * relays are up, 24 swaps: back-to-back pairs (the second before the
 * first carrier's HELLOs were read), single swaps once both are proven,
 * kills of either end, and swaps as soon as one relay is proven (from
 * inside its proven callback, before the other has read the HELLO).
 * Then 8 MiB each way on the last carrier, whose number both relays
 * report.
 */
#define E_SWAPS 24
#define E_BYTES (8ull * MIB)

static void
step_e(struct tc *t)
{
	int i;

	if (t->phase >= E_SWAPS) {
		if (t->phase == E_SWAPS && ready(t)) {
			t->phase++;
			for (i = 0; i < 2; i++) {
				assert_int_equal(relay_carrier(t->e[i].r),
				    t->s.carrier);
				t->e[i].write_go = 1;
				write_more(&t->e[i]);
			}
		}
		return;
	}
	switch (t->phase % 4) {
	case 0:
		if (!ready(t))
			return;
		t->phase++;
		swap(t);
		swap(t);
		break;
	case 1:
		if (!ready(t))
			return;
		t->phase++;
		kill_carrier(t, (t->phase / 4) & 1 ? K_RDWR_NODE :
		    K_RDWR_CLIENT, (enum swap_when)((t->phase / 4) % W_N));
		break;
	case 2:
		/* As soon as one relay is proven, the other maybe not. */
		if (t->expect_loss || t->defer_pending ||
		    !(t->e[0].proven || t->e[1].proven))
			return;
		t->phase++;
		swap(t);
		break;
	case 3:
		if (!ready(t))
			return;
		t->phase++;
		swap(t);
		break;
	}
}

static void
test_swap_before_data(void **state)
{
	struct tc *t = malloc(sizeof(*t));
	int run;

	assert_non_null(t);
	for (run = first_run(); run < first_run() + runs(); run++) {
		tc_init(t, run, E_BYTES, E_BYTES, 0, step_e);
		t->e[0].write_go = t->e[1].write_go = 0;
		tc_run(t);
		assert_true(t->swaps >= E_SWAPS);
	}
	free(t);
}

/*
 * (f) CLOSE is the last record on its carrier (PROTOCOL.md 7.8).  A client
 * relay whose carrier and plain side are both backed up (the peer, played
 * here with record.c, reads neither) is aborted: its CLOSE waits behind
 * queued DATA.  Then the peer reads the carrier and the application its
 * socket, which completes the relay's queued writes both ways.  Nothing may
 * follow the CLOSE: before the fix an ACK for the bytes that reached the
 * application went out after it, and DATA still kept from the application.
 * Found by tests/fuzz/fuzz_session.c.  The loop runs without waiting.
 */
#define F_PEER_DATA (1u << 20)      /* peer to application: fills its side */
#define F_APP_DATA (4u << 20)       /* application to peer: fills the carrier */

static void
f_on_end(struct relay *r, void *arg, enum relay_end how, const char *text)
{
	*(int *)arg = 1;
	if (verbose)
		fprintf(stderr, "  relay ended: %s: %s\n", relay_end_str(how),
		    text);
}

/*
 * A relay on ${loop} with carrier ${cfd} and plain side ${pfd} (both
 * opened as heap handles, which the relay frees), for session ${s};
 * ${ended} is set when it ends.
 */
static struct relay *
f_relay(uv_loop_t *loop, int cfd, int pfd, const struct session *s,
    int node, const char *name, int *ended)
{
	uv_tcp_t *carrier, *plain;
	struct relay *r;

	assert_non_null(carrier = malloc(sizeof(*carrier)));
	assert_non_null(plain = malloc(sizeof(*plain)));
	assert_int_equal(uv_tcp_init(loop, carrier), 0);
	assert_int_equal(uv_tcp_open(carrier, cfd), 0);
	assert_int_equal(uv_tcp_init(loop, plain), 0);
	assert_int_equal(uv_tcp_open(plain, pfd), 0);
	r = relay_new(loop, carrier, s, node, KEEPALIVE, name, NULL,
	    f_on_end, ended);
	assert_non_null(r);
	relay_attach(r, (uv_stream_t *)plain, (uv_stream_t *)plain);
	return r;
}

/* Seal one record from the peer into ${out} (room for it); its length. */
static size_t
f_seal(struct record_dir *d, uint8_t *out, uint8_t type, uint64_t seq,
    const uint8_t *body, size_t len)
{
	int n = record_seal_from(d, out, type, seq, 0, body, len);

	assert_true(n > 0);
	return (size_t)n;
}

static void
test_close_is_last(void **state)
{
	static uint8_t buf[2 * (WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA)];
	static uint8_t pt[WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA];
	uint8_t hello[WIRE_HELLO_BODY];
	uv_loop_t loop;
	struct session s;
	struct record_dir ptx = { NULL, 0 }, prx = { NULL, 0 };
	struct relay *r;
	int cfd[2], pfd[2], ended = 0, small = 16 * 1024, closes = 0, after = 0;
	uint64_t off, wrote = 0;
	size_t have = 0, i, n;
	ssize_t k;

	memset(&s, 0, sizeof(s));
	assert_int_equal(crypto_random(s.id, sizeof(s.id)), 0);
	assert_int_equal(crypto_random(s.key_c2s, sizeof(s.key_c2s)), 0);
	assert_int_equal(crypto_random(s.key_s2c, sizeof(s.key_s2c)), 0);
	snprintf(s.service, sizeof(s.service), "test");
	/* The peer is the node: it seals with s2c and opens c2s. */
	assert_non_null(ptx.aead = crypto_aead_new(CRYPTO_AESGCM, s.key_s2c));
	assert_non_null(prx.aead = crypto_aead_new(CRYPTO_AESGCM, s.key_c2s));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, cfd), 0);
	tcp_pair(pfd);
	assert_int_equal(setsockopt(pfd[0], SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(setsockopt(pfd[1], SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	r = f_relay(&loop, cfd[1], pfd[1], &s, 0, "test-node", &ended);

	/* The peer's HELLO, then 1 MiB of DATA: more than the plain side holds. */
	memcpy(hello, s.id, WIRE_SESSION_ID_LEN);
	wire_put32(hello + WIRE_SESSION_ID_LEN, 0);
	wire_put32(hello + WIRE_SESSION_ID_LEN + 4, RELAY_WINDOW);
	wire_put64(hello + WIRE_SESSION_ID_LEN + 8, 0);
	n = f_seal(&ptx, buf, WIRE_REC_HELLO, F_PEER_DATA, hello,
	    sizeof(hello));
	assert_int_equal(write(cfd[0], buf, n), (ssize_t)n);
	for (off = 0; off < F_PEER_DATA; off += WIRE_REC_MAXDATA) {
		fill(1, off, pt, WIRE_REC_MAXDATA);
		n = f_seal(&ptx, buf, WIRE_REC_DATA, off, pt, WIRE_REC_MAXDATA);
		for (i = 0; i < n; i += (size_t)k) {
			k = write(cfd[0], buf + i, n - i);
			if (k < 0 && errno == EAGAIN) {
				k = 0;
				uv_run(&loop, UV_RUN_NOWAIT);
				continue;
			}
			assert_true(k > 0);
		}
	}
	/* 4 MiB from the application, while the peer reads nothing. */
	for (i = 0; i < 2000 && wrote < F_APP_DATA; i++) {
		fill(2, wrote, pt, 64 * 1024);
		k = send(pfd[0], pt, 64 * 1024, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0)
			wrote += (uint64_t)k;
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	assert_false(ended);
	relay_abort(r, WIRE_CLOSE_ERROR, "test abort");
	assert_false(ended);   /* the CLOSE waits behind queued DATA */

	/* Now the peer reads the carrier and the application its socket. */
	for (i = 0; i < 200000 && !ended; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		while (recv(pfd[0], pt, sizeof(pt), MSG_DONTWAIT) > 0)
			;
		while ((k = recv(cfd[0], buf + have, sizeof(buf) - have,
		    MSG_DONTWAIT)) > 0) {
			long flen;
			size_t at = 0;
			struct wire_rec rec;

			have += (size_t)k;
			while ((flen = record_frame_len(buf + at,
			    have - at)) > 0) {
				assert_int_equal(record_open(&prx, buf + at,
				    (size_t)flen, pt, &rec), 0);
				if (closes > 0)
					after++;
				if (rec.type == WIRE_REC_CLOSE)
					closes++;
				at += (size_t)flen;
			}
			assert_true(flen >= 0);
			memmove(buf, buf + at, have - at);
			have -= at;
		}
	}
	assert_true(ended);
	assert_int_equal(closes, 1);
	assert_int_equal(after, 0);
	/*
	 * The carrier lingers: shut for writing (the peer reads EOF, not a
	 * reset, though the relay never read all that the peer sent), and
	 * closed only once the peer closes.
	 */
	for (i = 0; i < 100000; i++) {
		if ((k = recv(cfd[0], buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
			break;
		assert_int_equal(errno, EAGAIN);
		uv_run(&loop, UV_RUN_NOWAIT);
	}
	assert_int_equal(k, 0);
	for (i = 0; i < 1000; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_true(uv_loop_alive(&loop));
	close(cfd[0]);
	for (i = 0; i < 1000 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(&loop), 0);
	crypto_aead_free(ptx.aead);
	crypto_aead_free(prx.aead);
	close(pfd[0]);
}

/*
 * (g) A node relay whose session starts its stream at a non-zero offset
 * (relay_new with s.sent > 0) reads its backend by peeking and consumes a
 * byte only once the client acknowledges it (relay_attach).  The client
 * acknowledges all it got, then the backend writes more: the relay must
 * send it at the right offsets.  Before the fix the relay counted the
 * bytes consumed from the socket from 0, not from s.sent, so it tried to
 * consume s.sent bytes too many: it ended ("Resource temporarily
 * unavailable") or skipped bytes of the backend.  Found by
 * tests/fuzz/fuzz_session.c.
 */
#define G_START 4095u
#define G_CHUNK 20000u

/* Read and open what the relay sent; check DATA against stream 2. */
static void
g_read(int fd, struct record_dir *prx, uint8_t *buf, size_t cap,
    size_t *have, uint64_t *next)
{
	static uint8_t pt[WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA];
	static uint8_t want[WIRE_REC_MAXDATA];
	struct wire_rec rec;
	ssize_t k;
	long flen;
	size_t at;

	while ((k = recv(fd, buf + *have, cap - *have, MSG_DONTWAIT)) > 0) {
		*have += (size_t)k;
		at = 0;
		while ((flen = record_frame_len(buf + at, *have - at)) > 0) {
			assert_int_equal(record_open(prx, buf + at,
			    (size_t)flen, pt, &rec), 0);
			if (rec.type == WIRE_REC_DATA) {
				assert_int_equal(rec.seq, *next);
				fill(2, rec.seq - G_START, want, rec.bodylen);
				assert_memory_equal(rec.body, want,
				    rec.bodylen);
				*next += rec.bodylen;
			}
			at += (size_t)flen;
		}
		memmove(buf, buf + at, *have - at);
		*have -= at;
	}
}

static void
test_node_stream_offset(void **state)
{
	static uint8_t buf[2 * (WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA)];
	uint8_t hello[WIRE_HELLO_BODY], app[G_CHUNK];
	uv_loop_t loop;
	struct session s;
	struct record_dir ptx = { NULL, 0 }, prx = { NULL, 0 };
	struct relay *r;
	int cfd[2], pfd[2], ended = 0, round;
	uint64_t next = G_START;
	size_t have = 0, n, i;

	memset(&s, 0, sizeof(s));
	assert_int_equal(crypto_random(s.id, sizeof(s.id)), 0);
	assert_int_equal(crypto_random(s.key_c2s, sizeof(s.key_c2s)), 0);
	assert_int_equal(crypto_random(s.key_s2c, sizeof(s.key_s2c)), 0);
	snprintf(s.service, sizeof(s.service), "test");
	s.sent = G_START;
	/* The peer is the client: it seals with c2s and opens s2c. */
	assert_non_null(ptx.aead = crypto_aead_new(CRYPTO_AESGCM, s.key_c2s));
	assert_non_null(prx.aead = crypto_aead_new(CRYPTO_AESGCM, s.key_s2c));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, cfd), 0);
	tcp_pair(pfd);
	r = f_relay(&loop, cfd[1], pfd[1], &s, 1, "test-client", &ended);

	memcpy(hello, s.id, WIRE_SESSION_ID_LEN);
	wire_put32(hello + WIRE_SESSION_ID_LEN, 0);
	wire_put32(hello + WIRE_SESSION_ID_LEN + 4, RELAY_WINDOW);
	wire_put64(hello + WIRE_SESSION_ID_LEN + 8, G_START);
	assert_int_equal(record_seal_from(&ptx, app, WIRE_REC_HELLO, 0,
	    G_START, hello, sizeof(hello)), (int)(n = WIRE_REC_OVERHEAD +
	    sizeof(hello)));
	assert_int_equal(write(cfd[0], app, n), (ssize_t)n);
	for (round = 0; round < 3; round++) {
		/* The backend writes; the client gets it all, then acks it. */
		fill(2, (uint64_t)round * G_CHUNK, app, G_CHUNK);
		assert_int_equal(send(pfd[0], app, G_CHUNK, MSG_NOSIGNAL),
		    (ssize_t)G_CHUNK);
		for (i = 0; i < 10000 && next < G_START + (round + 1) *
		    (uint64_t)G_CHUNK && !ended; i++) {
			uv_run(&loop, UV_RUN_NOWAIT);
			g_read(cfd[0], &prx, buf, sizeof(buf), &have, &next);
		}
		assert_false(ended);
		assert_int_equal(next, G_START + (round + 1) *
		    (uint64_t)G_CHUNK);
		n = WIRE_REC_OVERHEAD;
		assert_int_equal(record_seal_from(&ptx, app, WIRE_REC_ACK, 0,
		    next, NULL, 0), (int)n);
		assert_int_equal(write(cfd[0], app, n), (ssize_t)n);
		for (i = 0; i < 100; i++)
			uv_run(&loop, UV_RUN_NOWAIT);
		assert_false(ended);
	}
	relay_abort(r, WIRE_CLOSE_ERROR, "test done");
	close(cfd[0]);
	close(pfd[0]);
	for (i = 0; i < 100000 && uv_loop_alive(&loop); i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_true(ended);
	assert_int_equal(uv_loop_close(&loop), 0);
	crypto_aead_free(ptx.aead);
	crypto_aead_free(prx.aead);
}

/*
 * (h) A worker restart while the client holds bytes it has not delivered
 * (commit cce9a63).  The application does not read, so the client relay
 * keeps most of the 4 MiB the backend wrote (received, not delivered, not
 * acknowledged).  Then the node's worker "dies": its carrier is shut, its
 * relay goes (relay_abort of the detached relay sends nothing; the
 * backend socket lives on in a duplicate, as the keeper holds it) and a
 * new one adopts the backend socket as cmd/warrend/carrier.c does after a
 * restart (sockq_get, relay_adopt, then relay_resume with the next
 * carrier): on even runs before the old worker consumed a byte of the
 * backend socket, on odd ones after the client's acknowledgement made it
 * consume what the client had delivered.  The backend writes 8 MiB more.
 * The adopted relay starts its stream at what the client received, but
 * the client's window counts from what it delivered: the node may send
 * only up to delivered + RELAY_WINDOW.  It sends that much (the client's
 * received reaches it, less a read's slack), the test holds it there for
 * H_HOLD_MS with the application still not reading, and only then does
 * the application read again: every byte must arrive once and in order,
 * and both relays end done.  Before the fix the node took a whole window
 * beyond what the client had received, and the client ended the session
 * with "peer overran the receive window".  Needs a backend receive buffer
 * that holds the window (SO_RCVBUFFORCE, as root; relay.c's peek_setup
 * asks for it).
 */
#define H_FIRST (4ull * MIB)    /* backend bytes before the restart */
#define H_BYTES (12ull * MIB)   /* all of them: more than a window after */
#define H_APP (1ull * MIB)      /* application to backend, after it */
#define H_PLAINBUF (64 * 1024)
#define H_HOLD_MS 300

/* The value of the queue ioctl ${req} (SIOCINQ, SIOCOUTQ) on ${fd}. */
static uint64_t
h_queue(int fd, unsigned long req)
{
	int n = -1;

	assert_int_equal(ioctl(fd, req, &n), 0);
	assert_true(n >= 0);
	return (uint64_t)n;
}

/*
 * What the client relay has delivered, as the kernel counts it: read by
 * the application, waiting in its socket, or on the way there.  At least
 * what the relay counts (a write the kernel took in part counts only once
 * whole), at most WIRE_REC_MAXDATA more.
 */
static uint64_t
h_delivered(struct tc *t)
{
	uv_os_fd_t afd;

	assert_int_equal(uv_fileno((uv_handle_t *)&t->e[0].app, &afd), 0);
	return t->e[0].got + h_queue(afd, SIOCINQ) +
	    h_queue(t->e[0].pfd, SIOCOUTQ);
}

/*
 * The node's worker dies and a new one adopts the session: the old relay
 * (detached) goes, the backend socket stays, a new relay takes it.
 */
static void
h_restart(struct tc *t)
{
	struct end *e = &t->e[1];
	struct linger lg = { 0, 0 };
	struct sockq q;
	int fd;

	assert_true((fd = fcntl(e->pfd, F_DUPFD_CLOEXEC, 3)) >= 0);
	t->old_ending = 1;
	relay_abort(e->r, WIRE_CLOSE_ERROR, "worker killed");
	t->old_ending = 0;
	if (!t->old_ended) {
		close(fd);
		fail_case(t, "the old node relay did not end at once");
		teardown(t);
		return;
	}
	/* A dead worker's close is plain: undo the abort's SO_LINGER reset. */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(sockq_get(fd, &q), 0);
	vlog(t, "adopt: backend socket written %llu consumed %llu unread "
	    "%llu", (unsigned long long)q.written,
	    (unsigned long long)q.consumed, (unsigned long long)q.unread);
	/* The old worker consumed only what the client acknowledged. */
	assert_int_equal(q.written, 0);
	assert_int_equal(q.consumed + q.unread, H_FIRST);
	assert_true(q.consumed <= t->mark_val);
	assert_false(q.fin_sent || q.fin_received);
	e->pfd = fd;
	e->r = relay_adopt(&t->loop, tcp_handle(t, fd), &q, &t->s, KEEPALIVE,
	    "test-client", on_proven, on_end, e);
	assert_non_null(e->r);
	relay_set_resumable(e->r, on_lost, DEAD_BUSY);
	e->cap = 0;              /* the backend writes the rest */
	write_more(e);
}

static void
step_h(struct tc *t)
{
	uint64_t d = 0, rcvd = 0, sent = 0, x, now = uv_now(&t->loop);

	if (t->e[0].r == NULL || t->e[1].r == NULL)
		return;
	if (t->phase >= 4 && t->phase < 6) {
		/* Never beyond the window, as the kernel counts delivery. */
		d = h_delivered(t);
		relay_stats(t->e[0].r, &x, &rcvd);
		relay_stats(t->e[1].r, &sent, &x);
		if (rcvd > d + RELAY_WINDOW) {
			fail_case(t, "client received %llu, delivered %llu: "
			    "more than its window", (unsigned long long)rcvd,
			    (unsigned long long)d);
			teardown(t);
			return;
		}
	}
	switch (t->phase) {
	case 0:   /* the client holds what the application does not read */
		if (!ready(t))
			return;
		relay_stats(t->e[0].r, &x, &rcvd);
		if (rcvd < H_FIRST)
			return;
		/*
		 * Odd runs: once the client's acknowledgement of what it
		 * delivered (within a tick) made the old worker consume it.
		 */
		if (t->run & 1) {
			struct sockq q;

			assert_int_equal(sockq_get(t->e[1].pfd, &q), 0);
			if (q.consumed == 0)
				return;
		}
		t->mark_val = h_delivered(t);
		vlog(t, "client received %llu, delivered %llu: the node's "
		    "worker dies", (unsigned long long)rcvd,
		    (unsigned long long)t->mark_val);
		assert_true(t->mark_val < H_FIRST / 2);
		t->phase = 1;
		t->hold_swap = 1;
		t->expect_loss = 1;
		assert_int_equal(shutdown(t->e[1].cfd, SHUT_RDWR), 0);
		break;
	case 1:
		if (!t->e[1].lost)
			return;
		t->phase = 2;
		h_restart(t);
		break;
	case 2:   /* the client's resume brings the next carrier */
		if (!t->e[0].lost)
			return;
		t->phase = 3;
		t->hold_swap = 0;
		swap(t);
		break;
	case 3:
		if (!ready(t))
			return;
		t->phase = 4;
		t->e[0].write_go = 1;
		write_more(&t->e[0]);
		break;
	case 4:   /* the node sends all that the client's window allows */
		if (sent != rcvd || rcvd + 2 * STREAM_MIN_READ +
		    WIRE_REC_MAXDATA < d + RELAY_WINDOW)
			return;
		vlog(t, "window used: client received %llu, delivered %llu",
		    (unsigned long long)rcvd, (unsigned long long)d);
		t->phase = 5;
		t->mark_time = now;
		break;
	case 5:   /* held there, then the application reads */
		if (now - t->mark_time < H_HOLD_MS)
			return;
		assert_int_equal(t->e[0].got, 0);
		vlog(t, "held: client received %llu, delivered %llu",
		    (unsigned long long)rcvd, (unsigned long long)d);
		t->phase = 6;
		set_paused(&t->e[0], 0);
		break;
	default:
		break;
	}
}

/* Runs of case (h): a fifth of runs(), at least two (both variants). */
static int
h_runs(void)
{
	return runs() / 5 > 2 ? runs() / 5 : 2;
}

static void
test_adopt_undelivered(void **state)
{
	struct tc *t;
	int run, fd, buf = (int)(2 * RELAY_WINDOW);
	socklen_t len = sizeof(buf);

	assert_true((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
	(void)compat_rcvbuf(fd, buf);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, &len), 0);
	close(fd);
	if (buf < (int)(2 * RELAY_WINDOW)) {
		fprintf(stderr, "  skipped: a backend receive buffer of %d "
		    "bytes cannot hold the window (SO_RCVBUFFORCE needs "
		    "CAP_NET_ADMIN, or raise net.core.rmem_max)\n", buf);
		skip();
	}
	t = malloc(sizeof(*t));
	assert_non_null(t);
	for (run = first_run(); run < first_run() + h_runs(); run++) {
		tc_init(t, run, H_APP, H_BYTES, H_PLAINBUF, step_h);
		set_paused(&t->e[0], 1);
		t->e[0].write_go = 0;
		t->e[1].cap = H_FIRST;
		tc_run(t);
		assert_true(t->swaps == 1);
	}
	free(t);
}

/*
 * (i) A reset of the plain side (the application's socket on the client,
 * the backend's on the node) must reach the peer as a CLOSE, never as a
 * FIN: a FIN would tell the other application that the stream ended in
 * order, and what was lost with the reset would go unnoticed.  The test
 * plays the peer on the carrier and the application on the plain side,
 * for each side (node 0 and 1), in four variants:
 *   I_DATA      the application writes and resets before the relay has
 *               read a byte: data, reset and end arrive in one wakeup;
 *   I_PAUSED    the application writes more than the peer's window and
 *               resets while the relay waits for the peer's ACK;
 *   I_HALF_IN   the application has shut its write side (the relay sent
 *               FIN) and closes without reading what the peer sent it,
 *               which resets the connection: the peer's bytes are lost,
 *               so the peer's FIN that follows must not end the session
 *               cleanly;
 *   I_HALF_OUT  the peer's FIN reached the application first (the relay
 *               shut the plain side's write side), then the application
 *               writes and resets;
 *   I_DETACHED  the carrier is lost (the session is resumable), then the
 *               application resets: the relay keeps its CLOSE, and the
 *               peer gets it on the next carrier, after HELLO.
 * Before the fix the client relay sent FIN in I_DATA, I_PAUSED and
 * I_HALF_OUT (libuv reports EOF, without reading again, when the kernel
 * says POLLHUP after a short read: the reset's error stays unread), and
 * both relays ended I_HALF_IN "done" (the failed shutdown(2) of the plain
 * side counted as done).
 */
enum { I_DATA, I_PAUSED, I_HALF_IN, I_HALF_OUT, I_DETACHED, I_N };
static const char *i_names[] = { "data", "paused", "half-in", "half-out",
    "detached" };
#define I_BYTES 1000
#define I_MUCH (3 * WIRE_WINDOW_MIN)

struct i_peer {
	int fd;
	struct record_dir tx, rx;
	uint8_t buf[2 * (WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA)];
	size_t have;
	uint64_t data;           /* stream bytes the relay sent */
	int fins, closes, eof, after;   /* after: records after FIN or CLOSE */
	int hellos, lost;
	uint8_t close_reason;    /* of the last CLOSE */
	int ended;
	enum relay_end how;
};

static void
i_on_end(struct relay *r, void *arg, enum relay_end how, const char *text)
{
	struct i_peer *p = arg;

	p->ended = 1;
	p->how = how;
	if (verbose)
		fprintf(stderr, "  relay ended: %s: %s\n", relay_end_str(how),
		    text);
}

/* Read and open what the relay sent on the carrier. */
static void
i_read(struct i_peer *p)
{
	static uint8_t pt[WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA];
	struct wire_rec rec;
	ssize_t k = -1;
	long flen;
	size_t at;

	while (!p->eof && (k = recv(p->fd, p->buf + p->have,
	    sizeof(p->buf) - p->have, MSG_DONTWAIT)) != 0) {
		if (k < 0) {
			assert_true(errno == EAGAIN || errno == ECONNRESET);
			if (errno == ECONNRESET)
				p->eof = 1;
			return;
		}
		p->have += (size_t)k;
		at = 0;
		while ((flen = record_frame_len(p->buf + at,
		    p->have - at)) > 0) {
			assert_int_equal(record_open(&p->rx, p->buf + at,
			    (size_t)flen, pt, &rec), 0);
			if (p->fins + p->closes > 0 && rec.type != WIRE_REC_ACK)
				p->after++;
			if (rec.type == WIRE_REC_DATA)
				p->data += rec.bodylen;
			if (rec.type == WIRE_REC_FIN)
				p->fins++;
			if (rec.type == WIRE_REC_CLOSE) {
				p->closes++;
				p->close_reason = rec.body[0];
			}
			if (rec.type == WIRE_REC_HELLO)
				p->hellos++;
			at += (size_t)flen;
		}
		assert_true(flen >= 0);
		memmove(p->buf, p->buf + at, p->have - at);
		p->have -= at;
	}
	if (k == 0)
		p->eof = 1;
}

/* The peer sends a record; its ack is all the relay's data it got. */
static void
i_send(struct i_peer *p, uint8_t type, uint64_t seq, const uint8_t *body,
    size_t len)
{
	static uint8_t out[WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA];
	int n = record_seal_from(&p->tx, out, type, seq, p->data, body, len);

	assert_true(n > 0);
	assert_int_equal(send(p->fd, out, (size_t)n, MSG_NOSIGNAL), n);
}

/* Run the loop ${n} times, reading the carrier. */
static void
i_spin(uv_loop_t *loop, struct i_peer *p, int n)
{
	for (int i = 0; i < n; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		i_read(p);
	}
}

static void
i_on_lost(struct relay *r, void *arg, const char *text)
{
	((struct i_peer *)arg)->lost = 1;
}

/*
 * The peer's end of a fresh carrier for ${r} (number ${s}->carrier + 1,
 * fresh keys in ${s}) replaces ${p}'s, which is closed.
 */
static void
i_resume(uv_loop_t *loop, struct relay *r, struct i_peer *p,
    struct session *s, int node)
{
	uv_tcp_t *carrier;
	int cfd[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, cfd), 0);
	s->carrier++;
	assert_int_equal(crypto_random(s->key_c2s, sizeof(s->key_c2s)), 0);
	assert_int_equal(crypto_random(s->key_s2c, sizeof(s->key_s2c)), 0);
	crypto_aead_free(p->tx.aead);
	crypto_aead_free(p->rx.aead);
	memset(&p->tx, 0, sizeof(p->tx));
	memset(&p->rx, 0, sizeof(p->rx));
	assert_non_null(p->tx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    node ? s->key_c2s : s->key_s2c));
	assert_non_null(p->rx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    node ? s->key_s2c : s->key_c2s));
	(void)close(p->fd);
	p->fd = cfd[0];
	p->have = 0;
	p->eof = 0;
	assert_non_null(carrier = malloc(sizeof(*carrier)));
	assert_int_equal(uv_tcp_init(loop, carrier), 0);
	assert_int_equal(uv_tcp_open(carrier, cfd[1]), 0);
	/* -1 only if the relay ended at once, its CLOSE written. */
	if (relay_resume(r, carrier, s) != 0)
		assert_true(p->ended);
}

/* Close ${fd} with a reset (SO_LINGER 0). */
static void
i_reset(int fd)
{
	struct linger lg = { 1, 0 };

	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	assert_int_equal(close(fd), 0);
}

/*
 * Close the peer's carrier (a relay that sent CLOSE lingers until then),
 * run ${loop} until its handles are closed, close it, free ${p}.
 */
static void
i_done(uv_loop_t *loop, struct i_peer *p)
{
	close(p->fd);
	for (int i = 0; i < 1000 && uv_loop_alive(loop); i++)
		uv_run(loop, UV_RUN_NOWAIT);
	assert_int_equal(uv_loop_close(loop), 0);
	crypto_aead_free(p->tx.aead);
	crypto_aead_free(p->rx.aead);
	free(p);
}

static int
i_case(int node, int variant)
{
	static uint8_t pt[64 * 1024];
	uint8_t hello[WIRE_HELLO_BODY];
	uv_loop_t loop;
	struct session s;
	struct i_peer *p;
	struct relay *r;
	int cfd[2], pfd[2], i, ok;
	uint64_t wrote = 0, seen;
	ssize_t k;

	if (verbose)
		fprintf(stderr, "  case (i): %s relay, %s\n",
		    node ? "node" : "client", i_names[variant]);
	assert_non_null(p = calloc(1, sizeof(*p)));
	memset(&s, 0, sizeof(s));
	assert_int_equal(crypto_random(s.id, sizeof(s.id)), 0);
	assert_int_equal(crypto_random(s.key_c2s, sizeof(s.key_c2s)), 0);
	assert_int_equal(crypto_random(s.key_s2c, sizeof(s.key_s2c)), 0);
	snprintf(s.service, sizeof(s.service), "test");
	assert_non_null(p->tx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    node ? s.key_c2s : s.key_s2c));
	assert_non_null(p->rx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    node ? s.key_s2c : s.key_c2s));
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0, cfd), 0);
	p->fd = cfd[0];
	tcp_pair(pfd);
	{
		uv_tcp_t *carrier, *plain;

		assert_non_null(carrier = malloc(sizeof(*carrier)));
		assert_non_null(plain = malloc(sizeof(*plain)));
		assert_int_equal(uv_tcp_init(&loop, carrier), 0);
		assert_int_equal(uv_tcp_open(carrier, cfd[1]), 0);
		assert_int_equal(uv_tcp_init(&loop, plain), 0);
		assert_int_equal(uv_tcp_open(plain, pfd[1]), 0);
		r = relay_new(&loop, carrier, &s, node, KEEPALIVE, "test-peer",
		    NULL, i_on_end, p);
		assert_non_null(r);
		relay_attach(r, (uv_stream_t *)plain, (uv_stream_t *)plain);
	}

	/* The peer's HELLO: a small window in I_PAUSED. */
	memcpy(hello, s.id, WIRE_SESSION_ID_LEN);
	wire_put32(hello + WIRE_SESSION_ID_LEN, 0);
	wire_put32(hello + WIRE_SESSION_ID_LEN + 4, variant == I_PAUSED ?
	    WIRE_WINDOW_MIN : RELAY_WINDOW);
	wire_put64(hello + WIRE_SESSION_ID_LEN + 8, 0);
	i_send(p, WIRE_REC_HELLO, 0, hello, sizeof(hello));
	fill(2, 0, pt, I_BYTES);

	switch (variant) {
	case I_DATA:
		/* All of it waits in the relay's socket before it reads. */
		assert_int_equal(send(pfd[0], pt, I_BYTES, MSG_NOSIGNAL),
		    I_BYTES);
		i_reset(pfd[0]);
		break;
	case I_PAUSED:
		for (i = 0; i < 20000 && wrote < I_MUCH; i++) {
			fill(2, wrote, pt, sizeof(pt));
			k = send(pfd[0], pt, sizeof(pt), MSG_DONTWAIT |
			    MSG_NOSIGNAL);
			if (k > 0)
				wrote += (uint64_t)k;
			i_spin(&loop, p, 1);
		}
		assert_int_equal(wrote, I_MUCH);
		/* The relay stops at the window, with the rest unread. */
		do {
			seen = p->data;
			i_spin(&loop, p, 200);
		} while (p->data != seen);
		assert_true(p->data <= WIRE_WINDOW_MIN);
		assert_true(p->data > 0);
		i_reset(pfd[0]);
		i_spin(&loop, p, 100);
		assert_int_equal(p->fins + p->closes, 0);
		/* Its ACK opens the window: the relay reads on, to the reset. */
		i_send(p, WIRE_REC_ACK, 0, NULL, 0);
		break;
	case I_HALF_IN:
		/* The peer's bytes wait, unread, in the application's socket. */
		i_spin(&loop, p, 10);
		i_send(p, WIRE_REC_DATA, 0, pt, I_BYTES);
		assert_int_equal(send(pfd[0], pt, I_BYTES, MSG_NOSIGNAL),
		    I_BYTES);
		assert_int_equal(shutdown(pfd[0], SHUT_WR), 0);
		for (i = 0; i < 10000 && p->fins == 0 && !p->ended; i++)
			i_spin(&loop, p, 1);
		assert_int_equal(p->fins, 1);
		assert_int_equal(p->data, I_BYTES);
		assert_false(p->ended);
		/* A plain close with unread bytes: the kernel resets. */
		assert_true(recv(pfd[0], pt, 1, MSG_PEEK | MSG_DONTWAIT) == 1);
		assert_int_equal(close(pfd[0]), 0);
		i_spin(&loop, p, 100);
		i_send(p, WIRE_REC_FIN, I_BYTES, NULL, 0);
		break;
	case I_HALF_OUT:
		i_spin(&loop, p, 10);
		i_send(p, WIRE_REC_FIN, 0, NULL, 0);
		for (i = 0; i < 10000 && (k = recv(pfd[0], pt, sizeof(pt),
		    MSG_DONTWAIT)) != 0; i++)
			i_spin(&loop, p, 1);
		assert_int_equal(k, 0);  /* the application saw the peer's end */
		fill(2, 0, pt, I_BYTES);
		assert_int_equal(send(pfd[0], pt, I_BYTES, MSG_NOSIGNAL),
		    I_BYTES);
		i_reset(pfd[0]);
		break;
	case I_DETACHED:
		relay_set_resumable(r, i_on_lost, DEAD_BUSY);
		i_spin(&loop, p, 10);
		assert_int_equal(shutdown(p->fd, SHUT_RDWR), 0);
		for (i = 0; i < 10000 && !p->lost && !p->ended; i++)
			i_spin(&loop, p, 1);
		assert_true(p->lost);
		assert_int_equal(send(pfd[0], pt, I_BYTES, MSG_NOSIGNAL),
		    I_BYTES);
		i_reset(pfd[0]);
		i_spin(&loop, p, 100);
		assert_false(p->ended);   /* it waits to say why */
		p->hellos = 0;
		i_resume(&loop, r, p, &s, node);
		for (i = 0; i < 10000 && !p->eof; i++)
			i_spin(&loop, p, 1);
		break;
	}

	/* The peer acknowledges what it gets, until the relay ends. */
	for (i = 0, seen = p->data; i < 100000 && !p->ended && !p->eof; i++) {
		i_spin(&loop, p, 1);
		if (p->data != seen && p->fins + p->closes == 0 && !p->eof) {
			i_send(p, WIRE_REC_ACK, 0, NULL, 0);
			seen = p->data;
		}
	}
	ok = p->ended && p->how == RELAY_END_LOCAL && p->closes == 1 &&
	    p->fins == (variant == I_HALF_IN) &&
	    p->after == (variant == I_HALF_IN) &&
	    (variant != I_DETACHED || (p->hellos == 1 && p->data == 0));
	if (verbose || !ok)
		fprintf(stderr, "  (i) %s relay, %s: %s: the peer got %llu "
		    "bytes, %d FIN, %d CLOSE, %d records after them, carrier "
		    "end %d; the relay ended %s\n", node ? "node" : "client",
		    i_names[variant], ok ? "ok" : "FAILED",
		    (unsigned long long)p->data, p->fins, p->closes, p->after,
		    p->eof, p->ended ? relay_end_str(p->how) : "no");
	if (!p->ended)
		relay_abort(r, WIRE_CLOSE_ERROR, "test over");
	i_spin(&loop, p, 10);
	i_done(&loop, p);
	return ok;
}

/*
 * (j) A backend reset while no worker held it (sockq_get: reset): the
 * adopted relay reads none of the unread bytes, whose offsets are not
 * known, and tells the resuming client why, with CLOSE BACKEND after
 * HELLO.  Before, the reset read as an orderly end, one byte off.
 */
static void
test_adopt_reset(void **state)
{
	static uint8_t pt[I_BYTES];
	uv_loop_t loop;
	struct session s;
	struct sockq q;
	struct i_peer *p;
	struct relay *r;
	uv_tcp_t *backend;
	int pfd[2], i;

	assert_non_null(p = calloc(1, sizeof(*p)));
	memset(&s, 0, sizeof(s));
	assert_int_equal(crypto_random(s.id, sizeof(s.id)), 0);
	snprintf(s.service, sizeof(s.service), "test");
	s.carrier = 3;
	p->fd = -1;
	assert_int_equal(uv_loop_init(&loop), 0);
	tcp_pair(pfd);
	fill(3, 0, pt, sizeof(pt));
	/* pfd[0] is warrend's end (it connected), pfd[1] the backend's. */
	assert_int_equal(send(pfd[0], pt, 100, MSG_NOSIGNAL), 100);
	assert_int_equal(send(pfd[1], pt, sizeof(pt), MSG_NOSIGNAL),
	    sizeof(pt));
	for (i = 0; i < 1000 && h_queue(pfd[0], SIOCINQ) < sizeof(pt); i++)
		usleep(1000);
	i_reset(pfd[1]);
	/* poll reports POLLERR once the reset arrived, leaving it unread. */
	for (i = 0; i < 1000 && poll(&(struct pollfd){ pfd[0], 0, 0 }, 1,
	    0) == 0; i++)
		usleep(1000);
	assert_int_equal(sockq_get(pfd[0], &q), 0);
	assert_true(q.reset);
	assert_int_equal(q.written, 100);
	assert_int_equal(q.unread, sizeof(pt));
	assert_non_null(backend = malloc(sizeof(*backend)));
	assert_int_equal(uv_tcp_init(&loop, backend), 0);
	assert_int_equal(uv_tcp_open(backend, pfd[0]), 0);
	assert_non_null(r = relay_adopt(&loop, backend, &q, &s, KEEPALIVE,
	    "test-peer", NULL, i_on_end, p));
	relay_set_resumable(r, i_on_lost, DEAD_BUSY);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_false(p->ended);
	i_resume(&loop, r, p, &s, 1);
	for (i = 0; i < 10000 && !p->eof; i++)
		i_spin(&loop, p, 1);
	assert_true(p->ended);
	assert_int_equal(p->how, RELAY_END_LOCAL);
	assert_int_equal(p->hellos, 1);
	assert_int_equal(p->data, 0);
	assert_int_equal(p->fins, 0);
	assert_int_equal(p->closes, 1);
	assert_int_equal(p->close_reason, WIRE_CLOSE_BACKEND);
	i_done(&loop, p);
}

static void
test_plain_reset(void **state)
{
	int bad = 0;

	for (int node = 0; node < 2; node++)
		for (int v = 0; v < I_N; v++)
			bad += !i_case(node, v);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_before_data),
		cmocka_unit_test(test_swaps_bulk),
		cmocka_unit_test(test_swap_window_full),
		cmocka_unit_test(test_swap_half_close),
		cmocka_unit_test(test_swap_teardown),
		cmocka_unit_test(test_swap_teardown_kill),
		cmocka_unit_test(test_close_is_last),
		cmocka_unit_test(test_node_stream_offset),
		cmocka_unit_test(test_adopt_undelivered),
		cmocka_unit_test(test_plain_reset),
		cmocka_unit_test(test_adopt_reset),
	};

	verbose = getenv("RELAY_TEST_VERBOSE") != NULL;
	if (getenv("RELAY_TEST_ONLY") != NULL)
		cmocka_set_test_filter(getenv("RELAY_TEST_ONLY"));
	log_init("test_relay", verbose ? LOG_INFO : LOG_SILENT);
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
