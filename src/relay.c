/*
 * relay: plain stream <-> encrypted carrier, both directions.
 *
 * Plain -> carrier: each read lands straight in the stream's kept blocks
 * (stream.h), where it stays until the peer acknowledges delivery; it is
 * sealed out of place from there into a record buffer and written with
 * uv_try_write; only a partial write hands the buffer to a uv_write
 * request.  Carrier -> plain: frames are opened in place in the input
 * buffer and written with uv_try_write; only what the kernel refuses is
 * copied.  So in the steady state there is no copy besides the cipher's.
 *
 * Flow control (docs/PROTOCOL.md 7.6): the two directions never wait on
 * each other.  The carrier is always read, whatever the plain side is
 * doing, so acknowledgements for our own stream always get through.  An
 * acknowledgement counts the bytes *delivered*: handed to the plain side
 * and accepted by its kernel, not merely received.  Each end advertises
 * its receive window in HELLO; a sender keeps at most that many bytes that
 * the peer has not delivered, so what waits for a slow plain side
 * (plain_queued) is bounded by our own window, and a peer that overruns it
 * breaks the protocol.  The plain reader stops only while the peer's
 * window is full; records go out while the carrier's send queue is under
 * RELAY_HIGH_WATER.  So backpressure is per direction.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "compat.h"
#include "log.h"
#include "record.h"
#include "relay.h"
#include "sockq.h"
#include "stream.h"

#define FRAME_MAX (WIRE_REC_LENLEN + WIRE_REC_MAX)
#define INBUF_CAP (2 * FRAME_MAX)
#define BLOCK_CAP (WIRE_REC_OVERHEAD + WIRE_REC_MAXDATA)
#define POOL_MAX 32            /* 16 MiB of spare buffers at most */
#define WBUF_SMALL (64 * 1024)  /* bigger write buffers come from the pool */
#define READ_SMALL (64 * 1024)  /* the longest carrier read between frames */


/*
 * A carrier input buffer.  Records are opened in place in it, and a body
 * that the plain side cannot take at once is written from there: each
 * such write holds a reference, and so does the relay while it reads into
 * the buffer.
 */
struct ibuf {
	int refs;
	uint8_t data[INBUF_CAP];
};

/* A write in flight: its bytes are its own (data) or in an ibuf. */
struct wbuf {
	uv_write_t req;
	struct relay *r;
	int to_carrier;
	int pooled;          /* a record buffer: back to blockpool when done */
	unsigned gen;        /* the carrier it was written to (r->gen) */
	struct ibuf *ib;     /* the bytes are in this input buffer */
	uint8_t *bytes;      /* data, or a body in ib */
	size_t len;          /* bytes this request still accounts for */
	size_t off;          /* where the unwritten bytes start in bytes */
	uint8_t data[];
};

/*
 * Big buffers come from and go back to a small per-process pool, so an
 * idle session holds none and a busy one does not call malloc per read.
 * The loop is single-threaded.
 */
struct pool {
	size_t size, n;
	void *bufs[POOL_MAX];
};
static struct pool inpool = { .size = sizeof(struct ibuf) };
static struct pool blockpool = { .size = sizeof(struct wbuf) + BLOCK_CAP };

static void *
pool_get(struct pool *p)
{
	return p->n > 0 ? p->bufs[--p->n] : malloc(p->size);
}

static void
pool_put(struct pool *p, void *buf)
{
	if (buf == NULL)
		return;
	if (p->n < POOL_MAX)
		p->bufs[p->n++] = buf;
	else
		free(buf);
}

struct relay {
	uv_loop_t *loop;
	uv_tcp_t *carrier;            /* NULL while detached */
	unsigned gen;                 /* counts the carriers attached */
	uv_stream_t *in, *out;
	uv_timer_t timer;
	/*
	 * The node reads its backend by peeking (relay_attach): peekfd is a
	 * duplicate of the backend socket watched by poll; consumed counts
	 * the bytes of our stream removed from the socket, which is done
	 * only when the peer acknowledges them (os.acked).
	 */
	uv_poll_t *poll;
	int peekfd, lowat;
	uint64_t consumed;
	uint64_t hello_end;           /* adopted: the least end HELLO claims */
	uint64_t ack_floor;           /* acks in [ack_floor, os.acked) are old */
	uint32_t peer_window;         /* the window of the peer's last HELLO */
	uv_shutdown_t carrier_shut_req, out_shut_req;
	struct session s;
	struct record_dir tx, rx;
	int node, keepalive_ms;
	char peer[ADDR_STRLEN + 16];
	relay_proven_cb *proven_cb;
	relay_end_cb *end_cb;
	relay_lost_cb *lost_cb;       /* NULL: the session ends with its carrier */
	relay_lost_cb *doomed_cb;     /* the plain side failed while detached */
	void *arg;
	int dead_busy_ms;             /* silence that kills a busy carrier */

	struct ibuf *ib;              /* from inpool while it holds bytes */
	size_t inoff, inlen;          /* unprocessed bytes: [inoff, inlen) */

	struct stream_out os;         /* our stream: kept until delivered */
	uint64_t received, ack_sent;
	uint64_t delivered;           /* of received: accepted by the plain side */
	size_t carrier_queued, plain_queued;
	uint64_t last_rx, last_tx;
	uint64_t last_moved;          /* a byte last moved on either stream */
	uint64_t flush_until;         /* how long a CLOSE may take to go out */
	uint64_t linger_until;        /* ended: how long the carrier lingers */
	uint64_t finish_by;           /* relay_finish: abort if not ended by */
	char finish_text[WIRE_CLOSE_TEXT_MAX + 1];
	int stall_ms;

	unsigned proven : 1, attached : 1, plain_eof : 1, fin_sent : 1;
	unsigned peer_fin : 1, fin_here : 1, established : 1;
	unsigned out_shut : 1, out_shut_done : 1, carrier_shut : 1;
	unsigned carrier_eof : 1, ending : 1, flush_then_end : 1;
	unsigned plain_reading : 1, carrier_reading : 1, stalled : 1;
	unsigned adopted : 1;         /* relay_adopt, until a HELLO proves */
	unsigned close_pending : 1;   /* detached: CLOSE on the next carrier */
	uint8_t pending_reason;
	char pending_text[WIRE_CLOSE_TEXT_MAX + 1];
	int carrier_err;              /* a write to the carrier failed */
	int handles;                  /* open handles; free when 0 */
	enum relay_end end_kind;
	char end_text[WIRE_CLOSE_TEXT_MAX + 1];
};

static void update_reading(struct relay *r);
static void carrier_failed(struct relay *r, int err);
static void plain_failed(struct relay *r, int err);
static void plain_lost(struct relay *r, const char *text);
static void finish(struct relay *r, enum relay_end end, const char *text);
static void on_carrier_shut(uv_shutdown_t *req, int status);
static void maybe_done(struct relay *r);
static void plain_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void flush_out(struct relay *r);
static void carrier_lost(struct relay *r, const char *text);
static void send_record(struct relay *r, uint8_t type, uint64_t seq,
    const void *body, size_t bodylen);

/* ${n} more bytes of the peer's stream were accepted by the plain side. */
static void
delivered_add(struct relay *r, size_t n)
{
	r->delivered += n;
	r->last_moved = uv_now(r->loop);
}

/*
 * Peek mode: make the backend socket readable (for poll) only when it
 * holds bytes beyond those already peeked, by raising its low-water mark
 * past them.
 */
static void
peek_lowat(struct relay *r)
{
	uint64_t peeked = r->os.end - r->consumed;
	int want = peeked < INT_MAX ? (int)peeked + 1 : INT_MAX;

	if (r->peekfd < 0 || want == r->lowat)
		return;
	if (setsockopt(r->peekfd, SOL_SOCKET, SO_RCVLOWAT, &want,
	    sizeof(want)) == 0)
		r->lowat = want;
}

/*
 * Peek mode: remove from the backend socket what the peer has
 * acknowledged.  A byte stays in the socket, where a new worker finds it
 * (warrend(8)), until then.  Ends the relay if the socket fails.
 */
static void
peek_consume(struct relay *r)
{
	while (r->peekfd >= 0 && r->consumed < r->os.acked) {
		uint64_t want = r->os.acked - r->consumed;
		ssize_t n = recv(r->peekfd, NULL, want > (1u << 30) ?
		    (1u << 30) : (size_t)want, MSG_TRUNC | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			finish(r, RELAY_END_LOCAL, n < 0 ? strerror(errno) :
			    "backend socket lost acknowledged bytes");
			return;
		}
		r->consumed += (uint64_t)n;
	}
	peek_lowat(r);
}

/*
 * The peer has delivered everything before ${ack}: free our kept bytes
 * up to it (and in peek mode consume them from the socket).  An adopted
 * session skipped what the client had received but not yet delivered
 * (adopt_skip): acks from ack_floor up to there change nothing.  Returns
 * -1 if ${ack} is out of range (nothing changed).
 */
static int
os_ack(struct relay *r, uint64_t ack)
{
	if (ack < r->os.acked && ack >= r->ack_floor) {
		/*
		 * The client still holds [ack, os.acked) undelivered, and
		 * its window counts from what it delivered: ours is smaller
		 * by that much until its acks reach os.acked.
		 */
		uint64_t held = r->os.acked - ack;

		r->os.window = held < r->peer_window ? r->peer_window - held :
		    0;
		return 0;
	}
	if (stream_out_ack(&r->os, ack))
		return -1;
	r->os.window = r->peer_window;
	peek_consume(r);
	return 0;
}

/*
 * Acknowledge delivery when the sender may be waiting for it: after every
 * RELAY_ACK_EVERY bytes, and when the plain side has just drained
 * (${drained}) after it made us queue.
 */
static void
maybe_ack(struct relay *r, int drained)
{
	if (r->delivered - r->ack_sent >= RELAY_ACK_EVERY ||
	    (drained && r->delivered != r->ack_sent))
		send_record(r, WIRE_REC_ACK, r->os.sent, NULL, 0);
}

/*
 * Allocate a write buffer with ${cap} data bytes.  Big ones come from the
 * pool: a fresh malloc that size is an mmap, and its page faults cost more
 * than the bytes.
 */
static struct wbuf *
wbuf_new(struct relay *r, size_t cap, int to_carrier)
{
	int pooled = cap > WBUF_SMALL;
	struct wbuf *w = pooled ? pool_get(&blockpool) :
	    malloc(sizeof(*w) + cap);

	if (w != NULL) {
		w->r = r;
		w->to_carrier = to_carrier;
		w->pooled = pooled;
		w->gen = r->gen;
		w->ib = NULL;
		w->bytes = w->data;
		w->len = w->off = 0;
	}
	return w;
}

/* A fresh input buffer, with the relay's reference; or NULL. */
static struct ibuf *
ibuf_get(void)
{
	struct ibuf *b = pool_get(&inpool);

	if (b != NULL)
		b->refs = 1;
	return b;
}

/* Drop a reference to ${b}; the last one gives it back to the pool. */
static void
ibuf_unref(struct ibuf *b)
{
	if (b != NULL && --b->refs == 0)
		pool_put(&inpool, b);
}

/* Release a write buffer to where it came from. */
static void
wbuf_release(struct wbuf *w)
{
	if (w != NULL)
		ibuf_unref(w->ib);
	if (w != NULL && w->pooled)
		pool_put(&blockpool, w);
	else
		free(w);
}

static void
on_write(uv_write_t *req, int status)
{
	struct wbuf *w = (struct wbuf *)req;
	struct relay *r = w->r;
	int to_carrier = w->to_carrier;
	size_t len = w->len;

	if (to_carrier && w->gen != r->gen) {
		/* A write to a carrier that has been dropped since. */
		wbuf_release(w);
		return;
	}
	if (to_carrier)
		r->carrier_queued -= len;
	else
		r->plain_queued -= len;
	wbuf_release(w);
	if (r->ending)
		return;
	if (status < 0) {
		if (to_carrier)
			carrier_failed(r, status);
		else
			plain_failed(r, status);
		return;
	}
	if (!to_carrier) {
		delivered_add(r, len);
		maybe_ack(r, r->plain_queued == 0);
		if (r->ending)
			return;
	}
	if (r->flush_then_end && r->carrier_queued == 0) {
		finish(r, r->end_kind, r->end_text);
		return;
	}
	if (to_carrier)
		flush_out(r);
	if (r->ending)
		return;
	maybe_done(r);
	update_reading(r);
}

/*
 * Write ${len} bytes at ${w}->data + ${w}->off to ${s}, in order after what
 * is queued.  Takes ${w}: returns it if it was written at once (for reuse),
 * else NULL.  On error ends the relay and returns NULL.
 */
static struct wbuf *
stream_send(struct relay *r, uv_stream_t *s, struct wbuf *w, size_t len)
{
	int to_carrier = w->to_carrier;
	size_t *queued = to_carrier ? &r->carrier_queued : &r->plain_queued;
	uv_buf_t b = uv_buf_init((char *)w->bytes + w->off, (unsigned)len);
	int n = 0;

	if (*queued == 0) {
		n = uv_try_write(s, &b, 1);
		if (n > 0 && !to_carrier)
			delivered_add(r, (size_t)n);   /* the kernel took them */
		if (n == (int)len)
			return w;
		if (n < 0 && n != UV_EAGAIN) {
			wbuf_release(w);
			if (to_carrier)
				carrier_failed(r, n);
			else
				plain_failed(r, n);
			return NULL;
		}
		if (n < 0)
			n = 0;
	}
	w->off += (size_t)n;
	w->len = len - (size_t)n;
	b = uv_buf_init((char *)w->bytes + w->off, (unsigned)w->len);
	*queued += w->len;
	if ((n = uv_write(&w->req, s, &b, 1, on_write)) < 0) {
		*queued -= w->len;
		wbuf_release(w);
		if (to_carrier)
			carrier_lost(r, uv_strerror(n));
		else
			finish(r, RELAY_END_LOCAL, uv_strerror(n));
	}
	return NULL;
}

/*
 * Seal and send a control record with ${body}.  Nothing follows a CLOSE
 * (relay_abort sets flush_then_end once it has been sent).
 */
static void
send_record(struct relay *r, uint8_t type, uint64_t seq, const void *body,
    size_t bodylen)
{
	struct wbuf *w;
	int len;

	if (r->carrier == NULL || r->carrier_shut || r->ending ||
	    r->carrier_err || r->flush_then_end)
		return;
	if ((w = wbuf_new(r, WIRE_REC_OVERHEAD + bodylen, 1)) == NULL) {
		finish(r, RELAY_END_LOCAL, "out of memory");
		return;
	}
	if (bodylen)
		memcpy(w->data + WIRE_REC_LENLEN + WIRE_REC_HDR, body, bodylen);
	if ((len = record_seal(&r->tx, w->data, type, seq, r->delivered,
	    bodylen)) < 0) {
		free(w);
		finish(r, RELAY_END_LOCAL, "record seal failed");
		return;
	}
	r->ack_sent = r->delivered;
	r->last_tx = uv_now(r->loop);
	wbuf_release(stream_send(r, (uv_stream_t *)r->carrier, w, (size_t)len));
}

/* Handle close: free the handle, and the relay after the last one. */
static void
on_close(uv_handle_t *h)
{
	struct relay *r = h->data;

	if (h != (uv_handle_t *)&r->timer)
		free(h);
	if (--r->handles > 0)
		return;
	stream_out_free(&r->os);
	crypto_aead_free(r->tx.aead);
	crypto_aead_free(r->rx.aead);
	session_wipe(&r->s);
	ibuf_unref(r->ib);
	free(r);
}

/* Close ${h} (if set and not closing); reset TCP if ${reset}. */
static void
close_handle(struct relay *r, uv_handle_t *h, int reset)
{
	if (h == NULL || uv_is_closing(h))
		return;
	if (reset && h->type == UV_TCP &&
	    uv_tcp_close_reset((uv_tcp_t *)h, on_close) == 0)
		return;
	uv_close(h, on_close);
}

/* The lingering carrier reads into this, and drops it. */
static void
linger_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static _Thread_local char sink[16384];

	*buf = uv_buf_init(sink, sizeof(sink));
}

/* The lingering carrier's time is up: close it and the timer. */
static void
linger_end(struct relay *r)
{
	close_handle(r, (uv_handle_t *)&r->timer, 0);
	close_handle(r, (uv_handle_t *)r->carrier, 0);
}

static void
linger_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	if (nread < 0)
		linger_end(s->data);
}

/*
 * After our CLOSE, let the carrier linger instead of closing it at once.
 * A socket closed with unread input resets its connection, and the reset
 * discards what the kernel has not yet delivered: our CLOSE, if it was
 * lost once on the path.  So shut our side down (a FIN after the queued
 * writes), read and drop what the peer still sends, and close on its EOF
 * or an error, or after half a keepalive (on_timer).  Returns -1 if there
 * is nothing to wait for, and then the caller closes the carrier.
 */
static int
carrier_linger(struct relay *r)
{
	uv_stream_t *c = (uv_stream_t *)r->carrier;

	/* An unproven peer (the grant expired) gets no more of our time. */
	if (c == NULL || !r->proven || r->carrier_eof || r->carrier_err)
		return -1;
	if (!r->carrier_shut) {
		r->carrier_shut = 1;
		r->carrier_shut_req.data = r;
		if (uv_shutdown(&r->carrier_shut_req, c, on_carrier_shut) < 0)
			return -1;
	}
	uv_read_stop(c);
	if (uv_read_start(c, linger_alloc, linger_read) < 0)
		return -1;
	r->linger_until = uv_now(r->loop) + (uint64_t)r->keepalive_ms / 2;
	stream_out_free(&r->os);  /* nothing is sent again: free it now */
	return 0;
}

/* End the session once: tell the owner, close every handle. */
static void
finish(struct relay *r, enum relay_end end, const char *text)
{
	int reset = end != RELAY_END_DONE;

	if (r->ending)
		return;
	r->ending = 1;
	r->end_kind = end;
	snprintf(r->end_text, sizeof(r->end_text), "%s", text ? text : "");
	if (r->end_cb != NULL)
		r->end_cb(r, r->arg, end, r->end_text);
	/*
	 * A CLOSE we sent must reach the peer: only a broken carrier is reset
	 * (a reset would discard what is still in flight), and after a local
	 * end (our CLOSE) the carrier lingers (the timer bounds it).  The plain side is
	 * reset on any abnormal end, so the application sees an error.
	 */
	if (end != RELAY_END_LOCAL || carrier_linger(r) < 0) {
		uv_timer_stop(&r->timer);
		close_handle(r, (uv_handle_t *)&r->timer, 0);
		close_handle(r, (uv_handle_t *)r->carrier,
		    end == RELAY_END_CARRIER);
	}
	close_handle(r, (uv_handle_t *)r->poll, 0);
	if (r->peekfd >= 0)
		(void)close(r->peekfd);   /* polling stopped with uv_close */
	r->peekfd = -1;
	close_handle(r, (uv_handle_t *)r->in, reset);
	if (r->out != r->in)
		close_handle(r, (uv_handle_t *)r->out, 0);
}

void
relay_abort(struct relay *r, uint8_t reason, const char *text)
{
	uint8_t body[1 + WIRE_CLOSE_TEXT_MAX];
	size_t n = strnlen(text, WIRE_CLOSE_TEXT_MAX);

	if (r->ending || r->flush_then_end)
		return;
	body[0] = reason;
	memcpy(body + 1, text, n);
	send_record(r, WIRE_REC_CLOSE, r->os.sent, body, 1 + n);
	if (r->ending)
		return;
	if (r->carrier_queued == 0) {
		finish(r, RELAY_END_LOCAL, text);
		return;
	}
	/* Let CLOSE reach the peer; the keepalive timer bounds the wait. */
	r->flush_then_end = 1;
	r->flush_until = uv_now(r->loop) + (uint64_t)r->keepalive_ms / 2;
	r->end_kind = RELAY_END_LOCAL;
	snprintf(r->end_text, sizeof(r->end_text), "%s", text);
	update_reading(r);
}

void
relay_finish(struct relay *r, int grace_ms, const char *text)
{
	if (r->ending || r->flush_then_end)
		return;
	/* No carrier, or none proven yet: nothing can end in order. */
	if (r->carrier == NULL || !r->established) {
		relay_abort(r, WIRE_CLOSE_ERROR, text);
		return;
	}
	snprintf(r->finish_text, sizeof(r->finish_text), "%s", text);
	r->finish_by = uv_now(r->loop) + (uint64_t)(grace_ms > 0 ? grace_ms : 1);
	if (!r->plain_eof) {
		r->plain_eof = 1;       /* as if the plain side had ended */
		update_reading(r);
		flush_out(r);
	}
}

/*
 * Writing to the plain side failed (the backend or the application went
 * away): tell the peer why with a CLOSE, reason BACKEND on the node, then
 * end.
 */
static void
plain_failed(struct relay *r, int err)
{
	plain_lost(r, uv_strerror(err));
}

/* Keep a CLOSE (${reason}, ${text}) for the next carrier; read no more. */
static void
close_later(struct relay *r, uint8_t reason, const char *text)
{
	r->close_pending = 1;
	r->pending_reason = reason;
	snprintf(r->pending_text, sizeof(r->pending_text), "%s", text);
}

/*
 * The plain side failed (${text}): the peer must learn it with a CLOSE.
 * A resumable session that is detached keeps that CLOSE for its next
 * carrier (carrier_start), so that the peer, which is resuming, hears
 * why rather than silence; its owner's linger bounds the wait.
 */
static void
plain_lost(struct relay *r, const char *text)
{
	uint8_t reason = r->node ? WIRE_CLOSE_BACKEND : WIRE_CLOSE_ERROR;

	if (r->ending || r->flush_then_end || r->close_pending)
		return;
	if (r->carrier != NULL || r->lost_cb == NULL || !r->established) {
		relay_abort(r, reason, text);
		return;
	}
	close_later(r, reason, text);
	update_reading(r);
	if (r->doomed_cb != NULL)
		r->doomed_cb(r, r->arg, r->pending_text);
}

static void
on_carrier_shut(uv_shutdown_t *req, int status)
{
	struct relay *r = req->data;

	if (!r->ending && r->carrier_eof)
		finish(r, RELAY_END_DONE, "closed");
}

/*
 * The error to report for a failed shutdown(2) of the plain side: ENOTCONN
 * means the connection is closed although we had not sent our FIN, that
 * is, reset (or timed out); say so, with the socket's pending error if it
 * has one.
 */
static int
plain_shut_error(struct relay *r, int status)
{
	uv_os_fd_t fd;
	int err = 0;
	socklen_t len = sizeof(err);

	if (status != UV_ENOTCONN)
		return status;
	if (uv_fileno((uv_handle_t *)r->out, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
	    err != 0 && err != EPIPE)
		return uv_translate_sys_error(err);
	return UV_ECONNRESET;
}

/*
 * The plain side's write side is shut.  If that failed, the connection
 * was reset before our FIN went out: what we delivered to it may be lost,
 * so the peer must not see an orderly end.
 */
static void
on_out_shut(uv_shutdown_t *req, int status)
{
	struct relay *r = req->data;

	if (r->ending)
		return;
	if (status < 0) {
		plain_failed(r, plain_shut_error(r, status));
		return;
	}
	r->out_shut_done = 1;
	maybe_done(r);
}

/* Propagate the peer's FIN to the plain side once its queue is flushed. */
static void
shut_plain_out(struct relay *r)
{
	if (!r->peer_fin || r->out_shut || r->plain_queued > 0 || !r->attached)
		return;
	r->out_shut = 1;
	if (r->out == r->in && r->out->type == UV_TCP) {
		int rc;

		r->out_shut_req.data = r;
		if ((rc = uv_shutdown(&r->out_shut_req, r->out,
		    on_out_shut)) == 0)
			return;
		plain_failed(r, plain_shut_error(r, rc));
		return;
	} else if (r->out != r->in) {
		uv_os_fd_t fd;

		/*
		 * Separate output (warren connect's stdout): a socket that is
		 * also the input (inetd style) sees EOF only after a shutdown;
		 * a pipe when its last descriptor closes.  All is written.
		 * ENOTCONN: that socket was reset (a pipe says ENOTSOCK).
		 */
		if (uv_fileno((uv_handle_t *)r->out, &fd) == 0 &&
		    shutdown(fd, SHUT_WR) < 0 && errno == ENOTCONN) {
			plain_failed(r, plain_shut_error(r, UV_ENOTCONN));
			return;
		}
		close_handle(r, (uv_handle_t *)r->out, 0);
		r->out = NULL;
	}
	r->out_shut_done = 1;
}

/* Both streams ended and flushed: shut the carrier, then end at its EOF. */
static void
maybe_done(struct relay *r)
{
	shut_plain_out(r);
	/*
	 * The peer shut the carrier after it had everything of ours, and
	 * we have delivered all of its: nothing more to say on the carrier,
	 * which may be broken by now.
	 */
	if (r->carrier_eof && r->out_shut_done && r->carrier_err &&
	    !r->ending) {
		finish(r, RELAY_END_DONE, "closed");
		return;
	}
	if (!r->fin_sent || !r->peer_fin || !r->out_shut_done ||
	    r->carrier_queued > 0 || r->carrier_shut || r->ending ||
	    r->carrier_err)
		return;
	/* Our last ack first: the peer's EOF counts only when acknowledged. */
	if (r->delivered != r->ack_sent) {
		send_record(r, WIRE_REC_ACK, r->os.sent, NULL, 0);
		if (r->ending || r->carrier_queued > 0 || r->carrier_err)
			return;
	}
	r->carrier_shut = 1;
	r->carrier_shut_req.data = r;
	if (uv_shutdown(&r->carrier_shut_req, (uv_stream_t *)r->carrier,
	    on_carrier_shut) < 0)
		finish(r, RELAY_END_DONE, "closed");
}

/*
 * An adopted session (relay_adopt) learns from the client's first HELLO
 * how much of our stream it has ${received}.  What the old worker sent
 * and the client got but had not acknowledged is still in the backend
 * socket, unconsumed: consume it, and start our stream there.  Returns -1
 * if the relay ended.
 */
static int
adopt_skip(struct relay *r, uint64_t received, uint64_t delivered)
{
	if (received <= r->os.end)
		return 0;
	if (r->peekfd < 0 || r->os.end != r->os.acked ||
	    received > r->hello_end || delivered > received) {
		finish(r, RELAY_END_CARRIER, "bad HELLO");
		return -1;
	}
	stream_out_free(&r->os);
	r->os.acked = r->os.sent = r->os.end = received;
	/* The client holds [delivered, received) already. */
	if (delivered < r->os.acked && delivered >= r->consumed)
		r->ack_floor = delivered;
	peek_consume(r);
	return r->ending ? -1 : 0;
}

/*
 * The first record on a carrier: the peer's HELLO (docs/PROTOCOL.md 7.4).
 * It proves the carrier's keys, gives the peer's window, and says what
 * the peer has received, from where sending starts again.  Returns -1 if
 * the relay ended.
 */
static int
handle_hello(struct relay *r, const struct wire_rec *rec)
{
	const uint8_t *b = rec->body;

	if (rec->type != WIRE_REC_HELLO) {
		carrier_lost(r, r->established ?
		    "resumed carrier did not start with HELLO" :
		    "bad HELLO");
		return -1;
	}
	if (!crypto_equal(b, r->s.id, WIRE_SESSION_ID_LEN) ||
	    wire_get32(b + WIRE_SESSION_ID_LEN) != r->s.carrier) {
		finish(r, RELAY_END_CARRIER, "bad HELLO");
		return -1;
	}
	if (r->adopted && adopt_skip(r,
	    wire_get64(b + WIRE_SESSION_ID_LEN + 8), rec->ack))
		return -1;
	if (rec->seq < r->received) {
		finish(r, RELAY_END_CARRIER, "bad HELLO (its stream end is "
		    "below what we received)");
		return -1;
	}
	if ((rec->ack < r->os.acked && rec->ack < r->ack_floor) ||
	    rec->ack > r->os.sent ||
	    stream_out_rewind(&r->os, wire_get64(b + WIRE_SESSION_ID_LEN + 8))) {
		char why[WIRE_CLOSE_TEXT_MAX + 1];

		/* The numbers, to tell which end lost count. */
		snprintf(why, sizeof(why), "bad HELLO (its ack %llu or "
		    "received %llu is out of our stream's range: acked %llu, "
		    "sent %llu, end %llu)", (unsigned long long)rec->ack,
		    (unsigned long long)wire_get64(b + WIRE_SESSION_ID_LEN + 8),
		    (unsigned long long)r->os.acked,
		    (unsigned long long)r->os.sent,
		    (unsigned long long)r->os.end);
		finish(r, RELAY_END_CARRIER, why);
		return -1;
	}
	r->os.window = r->peer_window = wire_get32(b + WIRE_SESSION_ID_LEN +
	    4);
	if (r->os.window < WIRE_WINDOW_MIN) {
		finish(r, RELAY_END_CARRIER, "HELLO window too small");
		return -1;
	}
	if (os_ack(r, rec->ack)) {
		finish(r, RELAY_END_CARRIER, "bad HELLO");
		return -1;
	}
	if (r->ending)
		return -1;
	r->proven = 1;
	r->adopted = 0;
	r->established = 1;
	if (r->proven_cb != NULL)
		r->proven_cb(r, r->arg);
	if (r->ending)
		return -1;
	flush_out(r);       /* what the peer lacks, again */
	return r->ending ? -1 : 0;
}

/* Process one opened record. Returns -1 if the relay ended. */
static int
handle_record(struct relay *r, const struct wire_rec *rec)
{
	if (!r->proven)
		return handle_hello(r, rec);
	if (rec->ack != r->os.acked) {
		if (os_ack(r, rec->ack)) {
			finish(r, RELAY_END_CARRIER, "ack out of range");
			return -1;
		}
		if (r->ending)
			return -1;
		r->last_moved = uv_now(r->loop);
	}
	switch (rec->type) {
	case WIRE_REC_DATA: {
		const uint8_t *body = rec->body;
		size_t len = rec->bodylen;
		struct wbuf *w;

		if (r->peer_fin || rec->seq != r->received) {
			finish(r, RELAY_END_CARRIER, "data out of sequence");
			return -1;
		}
		if (r->received + len - r->delivered > RELAY_WINDOW) {
			finish(r, RELAY_END_CARRIER,
			    "peer overran the receive window");
			return -1;
		}
		r->received += len;
		/*
		 * Written from the input buffer, not copied: at once if the
		 * plain side takes it, else queued with a reference.
		 */
		if ((w = wbuf_new(r, 0, 0)) == NULL) {
			finish(r, RELAY_END_LOCAL, "out of memory");
			return -1;
		}
		w->ib = r->ib;
		w->ib->refs++;
		w->bytes = (uint8_t *)body;
		wbuf_release(stream_send(r, r->out, w, len));
		if (r->ending || r->flush_then_end)
			return -1;
		break;
	}
	case WIRE_REC_ACK:
		break;
	case WIRE_REC_FIN:
		/* A resumed carrier repeats a FIN the last one may have lost. */
		if (r->fin_here || rec->seq != r->received) {
			finish(r, RELAY_END_CARRIER, "bad FIN");
			return -1;
		}
		r->peer_fin = 1;
		r->fin_here = 1;
		maybe_done(r);
		break;
	case WIRE_REC_CLOSE: {
		char text[WIRE_CLOSE_TEXT_MAX + 1];
		size_t n = rec->bodylen - 1;

		memcpy(text, rec->body + 1, n);
		text[n] = '\0';
		log_clean(text);
		finish(r, RELAY_END_CLOSED, text);
		return -1;
	}
	default:   /* a second HELLO */
		finish(r, RELAY_END_CARRIER, "unexpected record");
		return -1;
	}
	return 0;
}

/* Open and handle every complete frame in the input buffer. */
static void
process_input(struct relay *r)
{
	long flen;

	while (!r->ending && (r->attached || !r->proven) && r->ib != NULL &&
	    (flen = record_frame_len(r->ib->data + r->inoff,
	    r->inlen - r->inoff)) != 0) {
		struct wire_rec rec;
		uint8_t *frame = r->ib->data + r->inoff;
		int rc;

		/*
		 * Bytes that do not authenticate may come from anyone on
		 * the path: the carrier is lost, the session may resume.  An
		 * authenticated record that is malformed is the peer's fault.
		 */
		if (flen < 0) {
			carrier_lost(r, "record length out of range");
			return;
		}
		if ((rc = record_open(&r->rx, frame, (size_t)flen,
		    frame + WIRE_REC_LENLEN, &rec)) != 0) {
			if (rc == -2)
				finish(r, RELAY_END_CARRIER, "malformed record "
				    "(bad header, type or body size)");
			else
				carrier_lost(r, r->proven ?
				    "record failed to authenticate" :
				    "carrier failed to prove the session keys");
			return;
		}
		r->inoff += (size_t)flen;
		if (handle_record(r, &rec))
			return;
	}
	if (r->ib != NULL && r->inoff == r->inlen && r->ib->refs == 1) {
		/* Nothing buffered or written from it: back to the pool. */
		ibuf_unref(r->ib);
		r->ib = NULL;
		r->inoff = r->inlen = 0;
	} else if (r->ib != NULL && INBUF_CAP - r->inlen < FRAME_MAX) {
		/* Make room for a whole frame; keep what writes still use. */
		struct ibuf *nb = r->ib;

		if (r->ib->refs > 1 && (nb = ibuf_get()) == NULL) {
			finish(r, RELAY_END_LOCAL, "out of memory");
			return;
		}
		memmove(nb->data, r->ib->data + r->inoff, r->inlen - r->inoff);
		if (nb != r->ib) {
			ibuf_unref(r->ib);
			r->ib = nb;
		}
		r->inlen -= r->inoff;
		r->inoff = 0;
	}
	if (!r->ending)
		maybe_ack(r, 0);
	if (!r->ending)
		update_reading(r);
}

/*
 * Read into the input buffer.  A read stops at the end of a big frame, so
 * that frames end where reads end and little is left to move when bodies
 * still being written pin the buffer (process_input); after a small frame
 * a read takes at most READ_SMALL.
 */
static void
carrier_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct relay *r = h->data;
	size_t n, have, need = READ_SMALL;

	if (r->ib == NULL && (r->ib = ibuf_get()) == NULL) {
		*buf = uv_buf_init(NULL, 0);   /* libuv reports UV_ENOBUFS */
		return;
	}
	n = INBUF_CAP - r->inlen;
	have = r->inlen - r->inoff;
	if (have >= WIRE_REC_LENLEN) {
		need = WIRE_REC_LENLEN + wire_get32(r->ib->data + r->inoff);
		need = need > have ? need - have : 0;
		if (need < READ_SMALL)
			need = READ_SMALL;
	}
	if (n > need)
		n = need;
	*buf = uv_buf_init((char *)r->ib->data + r->inlen, (unsigned)n);
}

static void
carrier_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct relay *r = s->data;

	if (r->ending)
		return;
	if (nread > 0) {
		r->inlen += (size_t)nread;
		r->last_rx = uv_now(r->loop);
		process_input(r);
		return;
	}
	if (nread == 0)
		return;
	if (r->carrier_err != 0) {
		/* Everything the peer sent before it broke off has been read. */
		carrier_lost(r, uv_strerror(r->carrier_err));
		return;
	}
	if (nread == UV_EOF && r->peer_fin && r->fin_sent &&
	    r->os.acked == r->os.end) {
		r->carrier_eof = 1;
		update_reading(r);
		if (r->carrier_shut)
			finish(r, RELAY_END_DONE, "closed");
		return;
	}
	carrier_lost(r, nread == UV_EOF ? "carrier closed by peer" :
	    uv_strerror((int)nread));
}

static void
plain_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct relay *r = h->data;

	size_t len;
	uint8_t *p = stream_out_buf(&r->os, &len);

	/* NULL: libuv reports UV_ENOBUFS. */
	*buf = uv_buf_init((char *)p, (unsigned)len);
}

/*
 * Seal what the plain side gave and the carrier has not had, out of place
 * from the kept bytes, while the carrier's queue has room; then the FIN
 * once the plain side has ended and all of it went out.  Nothing after
 * our CLOSE (flush_then_end).
 */
static void
flush_out(struct relay *r)
{
	const uint8_t *p;
	struct wbuf *w;
	size_t n;
	int len;

	while (r->carrier != NULL && r->proven && !r->ending &&
	    !r->flush_then_end && !r->carrier_err && !r->carrier_shut &&
	    r->carrier_queued < RELAY_HIGH_WATER &&
	    (p = stream_out_next(&r->os, &n)) != NULL) {
		if ((w = wbuf_new(r, WIRE_REC_OVERHEAD + n, 1)) == NULL) {
			finish(r, RELAY_END_LOCAL, "out of memory");
			return;
		}
		if ((len = record_seal_from(&r->tx, w->data, WIRE_REC_DATA,
		    r->os.sent, r->delivered, p, n)) < 0) {
			wbuf_release(w);
			finish(r, RELAY_END_LOCAL, "record seal failed");
			return;
		}
		stream_out_sent(&r->os, n);
		r->ack_sent = r->delivered;
		r->last_tx = uv_now(r->loop);
		wbuf_release(stream_send(r, (uv_stream_t *)r->carrier, w,
		    (size_t)len));
	}
	if (r->plain_eof && !r->fin_sent && r->os.sent == r->os.end &&
	    r->carrier != NULL && r->proven && !r->ending &&
	    !r->flush_then_end) {
		r->fin_sent = 1;
		send_record(r, WIRE_REC_FIN, r->os.sent, NULL, 0);
		if (!r->ending)
			maybe_done(r);
	}
}

/*
 * The plain side read as ended (UV_EOF): 0 if it ended in order, else the
 * error (a UV_* code) of the reset or failure that ended it (see
 * compat_eof_reset).  Only a TCP socket can tell.
 */
static int
plain_eof_error(struct relay *r)
{
	uv_os_fd_t fd;

	if (r->in->type != UV_TCP)
		return 0;
	if (r->peekfd >= 0)
		fd = r->peekfd;
	else if (uv_fileno((uv_handle_t *)r->in, &fd) != 0)
		return 0;
	if (compat_eof_reset(fd, r->out_shut) == 0)
		return 0;
	return uv_translate_sys_error(errno);
}

static void
plain_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct relay *r = s->data;
	int err;

	if (r->ending || nread == 0)
		return;
	/*
	 * A reset must reach the peer as CLOSE, never as FIN: an end of file
	 * that was a reset (its error unread) is the error it is.
	 */
	if (nread == UV_EOF && (err = plain_eof_error(r)) != 0)
		nread = err;
	if (nread == UV_EOF) {
		r->plain_eof = 1;
		update_reading(r);
		flush_out(r);
		return;
	}
	if (nread < 0) {
		plain_failed(r, (int)nread);
		return;
	}
	stream_out_wrote(&r->os, (size_t)nread);
	r->last_moved = uv_now(r->loop);
	flush_out(r);
	if (!r->ending)
		update_reading(r);
}

/*
 * Peek mode: the backend socket has bytes we have not peeked (or its
 * end, or an error).  Peek them into the kept blocks, as plain_read
 * would read them; the socket's peek offset moves past them.
 */
static void
plain_poll(uv_poll_t *h, int status, int events)
{
	struct relay *r = h->data;

	for (int i = 0; i < 8 && r->plain_reading && !r->ending; i++) {
		size_t len;
		uint8_t *p = stream_out_buf(&r->os, &len);
		ssize_t n;

		if (p == NULL) {
			if (stream_out_room(&r->os) > 0)
				finish(r, RELAY_END_LOCAL, "out of memory");
			break;
		}
		n = recv(r->peekfd, p, len, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		plain_read(r->in, n > 0 ? n : n == 0 ? UV_EOF : -errno, NULL);
		if (n <= 0)
			break;
	}
	if (r->ending)
		return;
	peek_lowat(r);
	if (status < 0 && r->plain_reading) {
		/* libuv stopped the handle on POLLERR: poll again for the rest. */
		r->plain_reading = 0;
		update_reading(r);
	}
}

/*
 * Peek mode for the node's backend socket ${fd}: the receive buffer holds
 * the whole window, the peek offset starts at the first unconsumed byte,
 * and a duplicate of the socket is polled (libuv watches the original
 * for writes).  Returns -1 (the relay reads as usual) if the kernel
 * cannot.
 */
static int
peek_setup(struct relay *r, int fd)
{
	int buf = 2 * RELAY_WINDOW;

	(void)compat_rcvbuf(fd, buf);
	if (compat_peek_off(fd, 0) < 0 ||
	    (r->poll = malloc(sizeof(*r->poll))) == NULL)
		return -1;
	if ((r->peekfd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    uv_poll_init_socket(r->loop, r->poll, r->peekfd) < 0) {
		if (r->peekfd >= 0)
			(void)close(r->peekfd);
		r->peekfd = -1;
		free(r->poll);
		r->poll = NULL;
		return -1;
	}
	r->poll->data = r;
	r->handles++;
	r->lowat = 0;
	peek_lowat(r);
	return 0;
}

/*
 * A write to the carrier failed: the peer is gone.  It may have said why
 * in a CLOSE that is still unread, so stop sending and read to the end
 * before ending the session.
 */
static void
carrier_failed(struct relay *r, int err)
{
	if (r->ending || r->carrier_err)
		return;
	r->carrier_err = err;
	if (r->proven && !r->attached) {
		carrier_lost(r, uv_strerror(err));
		return;
	}
	if (r->carrier_eof) {
		maybe_done(r);
		return;
	}
	update_reading(r);
}

/* Start or stop each reader to match the state. */
static void
update_reading(struct relay *r)
{
	/* A read may fill a whole record: read only if one fits the window. */
	int want_plain = r->attached && r->established && !r->plain_eof &&
	    !r->ending && !r->flush_then_end && !r->close_pending &&
	    !r->carrier_err &&
	    stream_out_room(&r->os) >= STREAM_MIN_READ;
	/*
	 * The carrier is read whatever the plain side does: the peer's
	 * window bounds what can arrive.  Only a session still waiting for
	 * its plain side (the backend connecting) leaves it unread.
	 */
	int want_carrier = r->carrier != NULL && !r->ending &&
	    !r->carrier_eof && (r->attached || !r->proven);

	if (want_plain != r->plain_reading) {
		if (r->poll != NULL && want_plain)
			uv_poll_start(r->poll, UV_READABLE, plain_poll);
		else if (r->poll != NULL)
			uv_poll_stop(r->poll);
		else if (want_plain)
			uv_read_start(r->in, plain_alloc, plain_read);
		else
			uv_read_stop(r->in);
		r->plain_reading = want_plain;
	}
	if (want_carrier != r->carrier_reading) {
		if (want_carrier) {
			uv_read_start((uv_stream_t *)r->carrier, carrier_alloc,
			    carrier_read);
			/* Silence counts only while we listen (see on_timer). */
			r->last_rx = uv_now(r->loop);
		} else
			uv_read_stop((uv_stream_t *)r->carrier);
		r->carrier_reading = want_carrier;
	}
}

/*
 * Log once when data waits in either direction and no byte has moved for
 * stall_ms, naming the side that is not taking it; and once more when
 * bytes move again.
 */
static void
check_stall(struct relay *r, uint64_t now)
{
	const char *side = NULL;
	uint64_t waiting = 0;
	int idle = now - r->last_moved >= (uint64_t)r->stall_ms;

	if (r->plain_queued > 0) {
		side = r->node ? "backend" : "application";
		waiting = r->plain_queued;
	} else if (r->carrier_queued > 0) {
		side = "carrier";
		waiting = r->carrier_queued;
	} else if (r->os.end != r->os.acked) {
		side = r->node ? "client" : "service";
		waiting = r->os.end - r->os.acked;
	}
	if (r->stalled && (side == NULL || !idle)) {
		r->stalled = 0;
		log_info("stall_end", "peer=%s session=%02x%02x%02x%02x",
		    r->peer, r->s.id[0], r->s.id[1], r->s.id[2], r->s.id[3]);
	} else if (!r->stalled && side != NULL && idle) {
		r->stalled = 1;
		log_warn("stall", "peer=%s session=%02x%02x%02x%02x side=%s "
		    "waiting_bytes=%llu idle_s=%llu", r->peer, r->s.id[0],
		    r->s.id[1], r->s.id[2], r->s.id[3], side,
		    (unsigned long long)waiting,
		    (unsigned long long)(now - r->last_moved) / 1000);
	}
}

static void
on_timer(uv_timer_t *t)
{
	struct relay *r = t->data;
	uint64_t now = uv_now(r->loop);
	uint64_t dead = (uint64_t)r->keepalive_ms * RELAY_DEAD_FACTOR;

	if (r->ending) {          /* only a lingering carrier keeps the timer */
		if (now >= r->linger_until)
			linger_end(r);
		return;
	}
	/*
	 * A dead carrier is one we read and hear nothing from.  The peer
	 * answers data within RELAY_TICK_MS (below), so a resumable session
	 * with bytes in flight gives up after dead_busy_ms, an idle one after
	 * missing RELAY_DEAD_FACTOR keepalives.  The node waiting for its
	 * backend does not read the carrier yet, and counts no silence.
	 */
	if (r->lost_cb != NULL && r->os.sent != r->os.acked &&
	    (uint64_t)r->dead_busy_ms < dead)
		dead = (uint64_t)r->dead_busy_ms;
	/* Checked every tick: within a tick before the limit, not after it. */
	if (r->carrier_reading && now - r->last_rx + RELAY_TICK_MS >= dead) {
		log_warn("carrier_dead", "peer=%s silent_ms=%llu", r->peer,
		    (unsigned long long)(now - r->last_rx));
		carrier_lost(r, "carrier silent (keepalive timeout)");
		return;
	}
	if (r->flush_then_end && now >= r->flush_until) {
		finish(r, r->end_kind, r->end_text);
		return;
	}
	if (r->finish_by != 0 && now >= r->finish_by) {
		relay_abort(r, WIRE_CLOSE_ERROR, r->finish_text);
		return;
	}
	if (r->carrier == NULL)
		return;
	if (r->proven && r->attached)
		check_stall(r, now);
	/*
	 * Keepalive when idle; and within a tick, an ACK for what was
	 * delivered, or (while our plain side holds up the peer's bytes) to
	 * show that this end is alive though it cannot acknowledge.
	 */
	if (now - r->last_tx + 50 >= (uint64_t)r->keepalive_ms ||
	    (r->proven && (r->delivered != r->ack_sent ||
	    r->received != r->delivered) &&
	    now - r->last_tx + 50 >= RELAY_TICK_MS))
		send_record(r, WIRE_REC_ACK, r->os.sent, NULL, 0);
}

/* Send our HELLO on the current carrier (docs/PROTOCOL.md 7.4). */
static void
send_hello(struct relay *r)
{
	uint8_t hello[WIRE_HELLO_BODY];

	memcpy(hello, r->s.id, WIRE_SESSION_ID_LEN);
	wire_put32(hello + WIRE_SESSION_ID_LEN, r->s.carrier);
	wire_put32(hello + WIRE_SESSION_ID_LEN + 4, RELAY_WINDOW);
	wire_put64(hello + WIRE_SESSION_ID_LEN + 8, r->received);
	send_record(r, WIRE_REC_HELLO, r->os.end > r->hello_end ? r->os.end :
	    r->hello_end, hello, sizeof(hello));
}

/*
 * Take carrier ${carrier} with the keys of ${s} (carrier number and
 * direction keys) as the current one and send HELLO.  Returns -1 if the
 * keys cannot be set up (the relay has ended then).
 */
static int
carrier_start(struct relay *r, uv_tcp_t *carrier, const struct session *s)
{
	r->carrier = carrier;
	carrier->data = r;
	r->handles++;
	r->gen++;
	r->s.carrier = s->carrier;
	memcpy(r->s.key_c2s, s->key_c2s, sizeof(r->s.key_c2s));
	memcpy(r->s.key_s2c, s->key_s2c, sizeof(r->s.key_s2c));
	r->tx.nonce = r->rx.nonce = 0;
	r->tx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    r->node ? s->key_s2c : s->key_c2s);
	r->rx.aead = crypto_aead_new(CRYPTO_AESGCM,
	    r->node ? s->key_c2s : s->key_s2c);
	if (r->tx.aead == NULL || r->rx.aead == NULL) {
		finish(r, RELAY_END_LOCAL, "cipher setup failed");
		return -1;
	}
	r->last_rx = r->last_tx = uv_now(r->loop);
	uv_tcp_nodelay(carrier, 1);
	send_hello(r);
	if (r->ending)
		return -1;
	if (r->close_pending) {
		r->close_pending = 0;
		relay_abort(r, r->pending_reason, r->pending_text);
		return r->ending ? -1 : 0;
	}
	update_reading(r);
	return 0;
}

/*
 * Drop the current carrier (reset it) and forget its state; the session,
 * its streams and its plain side stay.
 */
static void
carrier_drop(struct relay *r)
{
	close_handle(r, (uv_handle_t *)r->carrier, 1);
	r->carrier = NULL;
	r->gen++;                 /* its writes in flight no longer count */
	r->carrier_queued = 0;
	r->carrier_reading = 0;
	r->carrier_shut = r->carrier_eof = 0;
	r->carrier_err = 0;
	r->proven = r->fin_sent = r->fin_here = 0;
	ibuf_unref(r->ib);
	r->ib = NULL;
	r->inoff = r->inlen = 0;
	crypto_aead_free(r->tx.aead);
	crypto_aead_free(r->rx.aead);
	r->tx.aead = r->rx.aead = NULL;
	crypto_wipe(r->s.key_c2s, sizeof(r->s.key_c2s));
	crypto_wipe(r->s.key_s2c, sizeof(r->s.key_s2c));
}

/*
 * The carrier broke (reset, silence, bytes that do not authenticate).  A
 * resumable session that was established detaches and tells its owner,
 * who may bring a new carrier (relay_resume); any other ends.
 */
static void
carrier_lost(struct relay *r, const char *text)
{
	if (r->ending)
		return;
	if (r->lost_cb == NULL || !r->established || r->flush_then_end) {
		finish(r, RELAY_END_CARRIER, text);
		return;
	}
	/*
	 * Lost in the orderly teardown, with both streams complete: the peer
	 * has delivered all we sent, and we all it sent.  Nothing is left to
	 * send again (only, perhaps, our FIN record, whose loss the peer's
	 * linger covers): a resume would find a session the peer has ended.
	 */
	if (r->plain_eof && r->peer_fin && r->out_shut_done &&
	    r->os.acked == r->os.end && r->delivered == r->received) {
		finish(r, RELAY_END_DONE, "closed");
		return;
	}
	carrier_drop(r);
	update_reading(r);
	r->lost_cb(r, r->arg, text);
}

struct relay *
relay_new(uv_loop_t *loop, uv_tcp_t *carrier, const struct session *s,
    int node, int keepalive, const char *peer, relay_proven_cb *proven,
    relay_end_cb *end, void *arg)
{
	struct relay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		uv_close((uv_handle_t *)carrier, (uv_close_cb)free);
		return NULL;
	}
	r->loop = loop;
	r->peekfd = -1;
	r->ack_floor = UINT64_MAX;
	r->handles = 1;           /* the timer; carrier_start adds the carrier */
	r->s = *s;
	r->node = node;
	r->keepalive_ms = keepalive * 1000;
	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	r->proven_cb = proven;
	r->end_cb = end;
	r->arg = arg;
	stream_out_init(&r->os, s->sent);
	/* The plain side's first byte (peek mode) is our stream's s->sent. */
	r->consumed = s->sent;
	r->received = r->ack_sent = r->delivered = s->received;
	r->last_rx = r->last_tx = r->last_moved = uv_now(loop);
	r->stall_ms = RELAY_STALL_DEFAULT * 1000;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->dead_busy_ms = RELAY_DEAD_BUSY_DEFAULT * 1000;
	uv_timer_start(&r->timer, on_timer, RELAY_TICK_MS, RELAY_TICK_MS);
	r->end_cb = NULL;    /* the caller learns of a failure here from NULL */
	if (carrier_start(r, carrier, s))
		return NULL;
	r->end_cb = end;
	return r;
}

struct relay *
relay_adopt(uv_loop_t *loop, uv_tcp_t *backend, const struct sockq *q,
    const struct session *s, int keepalive, const char *peer,
    relay_proven_cb *proven, relay_end_cb *end, void *arg)
{
	struct relay *r = NULL;

	if (q == NULL || (r = calloc(1, sizeof(*r))) == NULL) {
		free(r);
		uv_close((uv_handle_t *)backend, (uv_close_cb)free);
		return NULL;
	}
	r->loop = loop;
	r->peekfd = -1;
	r->ack_floor = UINT64_MAX;
	r->handles = 1;           /* the timer */
	r->s = *s;
	r->node = 1;
	r->keepalive_ms = keepalive * 1000;
	snprintf(r->peer, sizeof(r->peer), "%s", peer);
	r->proven_cb = proven;
	r->end_cb = end;
	r->arg = arg;
	/*
	 * What reached the backend is what the kernel says was written to
	 * its socket; our stream starts at the first byte not consumed from
	 * it, and the old worker may have sent the client up to all it holds.
	 */
	stream_out_init(&r->os, q->consumed);
	r->consumed = q->consumed;
	r->hello_end = q->consumed + q->unread;
	r->received = r->ack_sent = r->delivered = q->written;
	if (q->fin_sent)
		r->peer_fin = r->out_shut = r->out_shut_done = 1;
	/* Its error is the session's end; the unread bytes' offsets are not
	 * known (sockq.h), so none of them is sent. */
	if (q->reset)
		close_later(r, WIRE_CLOSE_BACKEND, "the backend reset the "
		    "connection while no worker held it");
	r->established = 1;
	r->adopted = 1;
	r->last_rx = r->last_tx = r->last_moved = uv_now(loop);
	r->stall_ms = RELAY_STALL_DEFAULT * 1000;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	r->dead_busy_ms = RELAY_DEAD_BUSY_DEFAULT * 1000;
	uv_timer_start(&r->timer, on_timer, RELAY_TICK_MS, RELAY_TICK_MS);
	relay_attach(r, (uv_stream_t *)backend, (uv_stream_t *)backend);
	if (r->peekfd < 0) {
		/* Without peeking the unacknowledged bytes cannot be kept. */
		r->end_cb = NULL;
		finish(r, RELAY_END_LOCAL, "cannot peek at the backend");
		return NULL;
	}
	return r;
}

void
relay_attach(struct relay *r, uv_stream_t *in, uv_stream_t *out)
{
	r->in = in;
	r->out = out;
	in->data = out->data = r;
	r->handles += in == out ? 1 : 2;
	r->attached = 1;
	if (in->type == UV_TCP)
		uv_tcp_nodelay((uv_tcp_t *)in, 1);
	if (r->node && in == out && in->type == UV_TCP && !r->ending) {
		uv_os_fd_t fd;

		if (uv_fileno((uv_handle_t *)in, &fd) == 0 && peek_setup(r, fd))
			log_warn("backend_peek", "peer=%s msg=\"cannot peek at the "
			    "backend socket (SO_PEEK_OFF): its unacknowledged "
			    "bytes will not survive a worker restart\"", r->peer);
	}
	if (r->ending) {
		close_handle(r, (uv_handle_t *)in, 1);
		if (out != in)
			close_handle(r, (uv_handle_t *)out, 0);
		return;
	}
	process_input(r);
	if (!r->ending)
		update_reading(r);
}

const char *
relay_end_str(enum relay_end end)
{
	static const char *words[] = { "done", "closed", "local", "carrier" };

	return (unsigned)end < 4 ? words[end] : "?";
}

void
relay_stats(const struct relay *r, uint64_t *sent, uint64_t *received)
{
	*sent = r->os.sent;
	*received = r->received;
}

void
relay_set_resumable(struct relay *r, relay_lost_cb *lost, int dead_busy)
{
	r->lost_cb = lost;
	r->dead_busy_ms = dead_busy * 1000;
}

void
relay_set_doomed(struct relay *r, relay_lost_cb *doomed)
{
	r->doomed_cb = doomed;
}

int
relay_resume(struct relay *r, uv_tcp_t *carrier, const struct session *s)
{
	if (r->ending || r->flush_then_end || !r->established ||
	    !crypto_equal(s->id, r->s.id, WIRE_SESSION_ID_LEN) ||
	    s->carrier <= r->s.carrier) {
		uv_close((uv_handle_t *)carrier, (uv_close_cb)free);
		return -1;
	}
	if (r->carrier != NULL)
		carrier_drop(r);  /* the owner knows it is dead before we do */
	return carrier_start(r, carrier, s);
}

unsigned
relay_carrier(const struct relay *r)
{
	return r->carrier != NULL ? r->s.carrier : 0;
}

void
relay_set_stall(struct relay *r, int seconds)
{
	r->stall_ms = seconds * 1000;
}

int
relay_stalled(const struct relay *r)
{
	return r->stalled;
}

uint64_t
relay_idle(const struct relay *r)
{
	uint64_t now = uv_now(r->loop);

	return now > r->last_moved ? now - r->last_moved : 0;
}
