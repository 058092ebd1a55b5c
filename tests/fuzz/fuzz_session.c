/*
 * libFuzzer target: the session layer's state machine (src/relay.c), not
 * only its parsers.  One real struct relay runs in a real libuv loop: its
 * plain side is a loopback TCP pair whose other end ("the application")
 * the target drives, and its carrier is a socketpair whose other end ("the
 * peer") the fuzzer plays.  The peer seals records of the fuzzer's choosing
 * under the carrier's real keys (record.c), in any order, with any offsets,
 * kills carriers and swaps new ones in (relay_resume, the next carrier
 * number, fresh keys), exactly as warrend's node or warren's agent would.
 * Nothing waits on a clock: the loop runs with UV_RUN_NOWAIT only, on a
 * virtual clock (clock_gettime below) that stands still unless the input
 * lets time pass (op 16), so the relay's timer (ACK on the tick,
 * keepalives, dead carriers, stall lines, the linger of a CLOSE and
 * relay_finish's grace) fires exactly when the input says, the same on
 * any machine.  On the node, the input can also kill the relay's worker
 * and have a new relay adopt its backend socket (op 17, relay_adopt).
 *
 * The input: a header byte, then operations, each an op byte and its
 * arguments (a missing byte reads as 0; a value "x" is read only when the
 * "how" before it asks for one):
 *
 *   header  bit 0: the relay is the node (1) or the client agent (0);
 *           bit 1: attach the plain side at once (else: op 14 does);
 *           bits 2-4, 5-7: where the relay's stream and the peer's start
 *
 *   op % 16 arguments                 what
 *   0       u8 seq, u8 ack, u16 n     DATA: n+1 bytes (n & 0x8000: up to
 *                                     WIRE_REC_MAXDATA) of the peer's
 *                                     stream at an offset picked by seq
 *   1       u8 seq, u8 ack            ACK
 *   2       u8 bad, u8 win, u8 rcv,   HELLO; bad bit 0: a wrong session
 *           u8 seq, u8 ack            id, bit 1: a wrong carrier number
 *   3       u8 seq, u8 ack            FIN
 *   4       u8 reason, u8 n           CLOSE with n bytes of text (n > 200:
 *                                     malformed)
 *   5       u8 kind, u8 type, u8 v,   a malformed record, sealed: flags
 *           u16 n                     set, a reserved byte set, an unknown
 *                                     type, or a body size its type forbids
 *   6       u8 how, u16 pos           an ACK sealed, then a byte of it
 *                                     flipped (how even) or the frame cut
 *                                     short (how odd)
 *   7       u8 n, n bytes             raw bytes onto the carrier
 *   8       u8 how                    kill the carrier: close our end,
 *                                     shutdown(SHUT_WR) or (SHUT_RDWR)
 *   9       u8 how                    swap in a new carrier (relay_resume):
 *                                     the next number, one further on, the
 *                                     same number, or a wrong session id
 *   10      u16 n                     the application writes n+1 bytes
 *   11      u8 how                    the application shuts its write
 *                                     side (how even) or resets its socket
 *   12      u8 which                  stop or restart reading the plain
 *                                     side (even) or the carrier (odd)
 *   13      u8 n                      run the loop n % 32 + 1 times
 *   14                                attach the plain side (relay_attach)
 *   15      u8 reason                 relay_abort
 *
 * An op byte from 0xf0 on is op 16 + (byte % 16) % 3 instead (so the
 * seeds of ops 0-15 mostly kept their meaning):
 *
 *   16      u8 a                      time passes: the a % 16th of 1, 49,
 *                                     50, 450, 499, 500, 501, 1000, 2500,
 *                                     2950, 3000, 5000, 9950, 10000, 15000,
 *                                     30000 ms, times a / 16 % 8 + 1; in
 *                                     steps of at most a tick, the loop
 *                                     running after each
 *   17                                the node's worker dies and a new
 *                                     relay adopts the backend (op_adopt)
 *   18      u8 how                    relay_finish with a grace of
 *                                     how / 2 * 100 ms (even), or
 *                                     relay_set_stall(how / 2 % 8) (odd)
 *
 * An offset "picked by how" (u8, % 8): the model's value (what a correct
 * peer sends: its next byte, the relay's bytes it got, its window), just
 * below it, just above it, a u64 x read next, the stream's start, or the
 * model's value again (5-7, so that most inputs make progress).
 *
 * After every operation the loop runs and the target checks, aborting on
 * any violation: every byte the relay delivers to the application equals
 * the peer's stream at that offset and was sealed in a DATA record (so
 * never twice, never out of order, never made up); the application sees
 * EOF only after a FIN at exactly its offset or the relay's end; every ack
 * the relay sends counts only bytes that reached the application's socket
 * (read, queued there, or in the relay's send queue) and never goes back;
 * every frame on the carrier opens under its keys, starts with a HELLO
 * that names the session, the carrier and RELAY_WINDOW and never claims
 * more than it got; its DATA runs contiguously from what the peer's HELLO
 * said it had received, holds the application's bytes at those offsets,
 * stays within the peer's window and within what the application wrote;
 * a FIN comes only after the application's EOF (or relay_finish), at
 * its end; a HELLO's stream end is never below what the peer got; nothing
 * follows a CLOSE; relay_resume succeeds exactly when it should; the end
 * callback runs once, "done" only after both streams ended; a relay that
 * reports its carrier lost has closed it; and at the end of each input
 * the relay, aborted, closes every handle so that the loop closes clean
 * (ASan sees any leak).  After each step of time (check_timers): a relay
 * that relay_abort left flushing its CLOSE has ended within keepalive/2,
 * one that relay_finish was given has ended within its grace and that;
 * a carrier the relay reads and the peer has been silent on for three
 * keepalives is lost (or the session over); a proven carrier that the
 * peer reads hears from the relay at least every keepalive; and once
 * the application has read all the relay received, an ACK for it comes
 * within a tick or two (each deadline with SLACK_MS to spare).  Across
 * an adoption (op_adopt) the kernel's counts of the backend socket must
 * agree with the model, and every byte still arrives once and in order
 * at both ends.  A backend that the application reset while the old
 * relay was not reading it (so its error is still pending) must come out
 * of sockq_get as reset, and the new relay must send nothing on its next
 * carrier but its HELLO and a CLOSE with reason BACKEND (relay_adopt).
 * Not modelled (op 17 does nothing then, or the new worker gives up): a
 * reset after a FIN either way, or one whose error the old relay read,
 * which sockq_get cannot tell from an orderly close (sockq.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>
#include <uv.h>

#include "crypto.h"
#include "log.h"
#include "record.h"
#include "relay.h"
#include "session.h"
#include "sockq.h"
#include "wire.h"

#include "fuzz_pattern.h"

#define APP_SHIFT 499979u         /* the relay's stream: the table from here */
#define KEEPALIVE 10              /* seconds, as the defaults */
#define DEAD_BUSY 3
#define OPS_MAX 256
#define BUDGET (16u << 20)        /* bytes sealed or written per input */
#define FRAME_MAX (WIRE_REC_LENLEN + WIRE_REC_MAX)
#define OUTQ_MAX (4u << 20)       /* sealed bytes the peer queues at most */
#define PLAIN_BUF (16 * 1024)     /* socket buffers toward the application */
#define SETTLE 3                  /* loop runs after each operation */
#define END_RUNS 20000            /* loop runs for the relay to end */
#define END_WAITS 40              /* then ticks of virtual time */
#define DEAD_MS (KEEPALIVE * RELAY_DEAD_FACTOR * 1000u)
#define LINGER_MS (KEEPALIVE * 1000u / 2)   /* relay_abort's flush */
#define SLACK_MS (3u * RELAY_TICK_MS)       /* the timer's lateness, and more */
#define VCLOCK_BASE 1000000000ull /* ms: where virtual time starts */
#define STEPS_MAX 4000            /* timer steps per input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The peer's end of one carrier. */
struct carrier {
	int fd;                   /* -1 once closed */
	uint32_t num;
	struct record_dir tx, rx; /* we seal to the relay; we open its records */
	int queued;               /* something was queued on it */
	int first_hello;          /* the first thing queued was a HELLO... */
	int hello_ok;             /* ...naming the session and this carrier */
	uint64_t rewind;          /* its received field: where DATA resumes */
	int hello_in, fin_in, close_in;
	uint64_t data_next;       /* the offset the relay's next DATA must have */
	uint64_t peer_next;       /* where the peer's next DATA goes */
	int proven;               /* the relay proved this carrier */
	int killed;               /* op 8 shut it down (our end stays open) */
	uint64_t quiet_since;     /* virtual ms: the peer last wrote to it */
	uint64_t rx_at;           /* virtual ms: the relay's last record here */
};

static struct {
	uv_loop_t loop;
	struct relay *r;          /* NULL once the end callback ran */
	int node, ended, established, lost;
	int aborting;             /* relay_abort: flushing its CLOSE */
	enum relay_end end;
	struct session s;         /* the id, the current carrier's number, keys */
	struct carrier c;
	int app_fd, relay_fd;     /* the plain pair: ours and the relay's */
	int attached;
	int app_shut, app_eof, app_reset, app_dead;
	int plain_pause, carrier_pause;
	uint64_t start_send, start_recv;  /* the relay's stream, the peer's */
	uint64_t app_written, app_read;
	uint64_t ack_in;          /* the highest ack in the relay's records */
	uint64_t hello_recv_in, hello_seq_in;
	uint64_t relay_got;       /* the relay's stream the peer got, in order */
	uint64_t ack_out_max;     /* the highest ack the peer sealed */
	uint64_t claim_max;       /* ... or HELLO "received" it sealed */
	int claim_lied;           /* one of them was beyond relay_got then */
	int dying;                /* op 17: the old relay's end is no end */
	int finishing;            /* op 18 called relay_finish */
	unsigned adopted;         /* op 17 adoptions */
	int doomed;               /* op 17 adopted a backend that was reset */
	int doom_told;            /* ...and a carrier was swapped in since */
	uint64_t abort_at;        /* virtual ms of op 15's relay_abort */
	uint64_t finish_dl;       /* op 18: relay_finish's deadline, or 0 */
	uint64_t ack_due;         /* virtual ms since an ACK is due, or 0 */
	unsigned steps;           /* timer steps taken */
	uint64_t win_max;         /* the widest window the peer sealed */
	uint64_t peer_end;        /* the highest end of the peer's DATA */
	size_t nspan;
	struct { uint64_t a, b; } span[OPS_MAX];   /* the peer's DATA */
	size_t nfin;
	uint64_t fin[OPS_MAX];    /* the peer's FIN offsets */
	uint64_t cov;             /* the peer's stream covered from its start */
	size_t budget;
	uint8_t *outq;            /* sealed bytes not yet written */
	size_t outlen;
	uint8_t *inb;             /* the relay's bytes not yet opened */
	size_t inlen;
	unsigned op;              /* for messages */
} fz;

static uint8_t frame[FRAME_MAX];
static uint8_t opened[FRAME_MAX];
static uint8_t rbuf[64 * 1024];
static uint8_t body[WIRE_REC_MAXDATA];
static struct sockaddr_in listen_addr;
static int listen_fd = -1;
static int trace;                 /* FUZZ_SESSION_TRACE=1: a line per op */
static int vclock_on;             /* the loop's clock is vclock_ms */
static uint64_t vclock_ms;

/*
 * The loop's clock, which only the input moves.  libuv (a shared library)
 * reads CLOCK_MONOTONIC, or CLOCK_MONOTONIC_COARSE, through clock_gettime
 * for uv_now and its timers; this definition in the executable comes
 * first in the symbol lookup, so during an input (vclock_on) the loop
 * sees virtual time, which stands still unless op 16 advances it.  Every
 * other clock, and every clock between inputs (libFuzzer's, the
 * sanitizers' own go to the real one anyway), is the kernel's.  So
 * relay.c needs no seam, and a run is the same on any machine at any
 * load.
 */
int
clock_gettime(clockid_t id, struct timespec *ts)
{
	if (vclock_on && (id == CLOCK_MONOTONIC ||
	    id == CLOCK_MONOTONIC_COARSE)) {
		ts->tv_sec = (time_t)(vclock_ms / 1000);
		ts->tv_nsec = (long)(vclock_ms % 1000 * 1000000);
		return 0;
	}
	return (int)syscall(SYS_clock_gettime, id, ts);
}

static void
fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_session: broken invariant after op %u: ", fz.op);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  node=%d ended=%d lost=%d carrier=%u "
	    "app_written=%llu app_read=%llu ack_in=%llu relay_got=%llu "
	    "cov=%llu\n", fz.node, fz.ended, fz.lost, (unsigned)fz.c.num,
	    (unsigned long long)fz.app_written,
	    (unsigned long long)fz.app_read, (unsigned long long)fz.ack_in,
	    (unsigned long long)fz.relay_got, (unsigned long long)fz.cov);
	abort();
}

/* An offset by ${how} around the model's value ${model}. */
static uint64_t
pick(struct in *in, unsigned how, uint64_t model, uint64_t start)
{
	switch (how % 8) {
	case 1:
		return model - 1 - how / 8 % 4;
	case 2:
		return model + 1 + how / 8 % 4;
	case 3:
		return get(in, 8);
	case 4:
		return start;
	default:
		return model;
	}
}

/* A record's seq (around the peer's next byte) and ack (around what the
 * relay got), each picked by the input. */
static void
pick_seq_ack(struct in *in, uint64_t *seq, uint64_t *ack)
{
	unsigned a;

	a = (unsigned)get(in, 1);
	*seq = pick(in, a, fz.c.peer_next, fz.start_recv);
	a = (unsigned)get(in, 1);
	*ack = pick(in, a, fz.relay_got, fz.start_send);
}

/* How far the peer's stream is covered by its DATA, from its start. */
static uint64_t
cov(void)
{
	int moved = 1;
	size_t i;

	while (moved) {
		moved = 0;
		for (i = 0; i < fz.nspan; i++)
			if (fz.span[i].a <= fz.cov && fz.span[i].b > fz.cov) {
				fz.cov = fz.span[i].b;
				moved = 1;
			}
	}
	return fz.cov;
}

/* The keys of carrier ${num}: fixed, distinct per carrier and direction. */
static void
carrier_keys(struct session *s, uint32_t num)
{
	size_t i;

	for (i = 0; i < sizeof(s->key_c2s); i++) {
		s->key_c2s[i] = (uint8_t)(num * 31u + i);
		s->key_s2c[i] = (uint8_t)(num * 17u + i + 128u);
	}
}

/* Make ${c} the peer's end ${fd} of carrier ${s}->carrier. */
static void
carrier_init(struct carrier *c, int fd, const struct session *s)
{
	const uint8_t *ktx = fz.node ? s->key_c2s : s->key_s2c;
	const uint8_t *krx = fz.node ? s->key_s2c : s->key_c2s;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->num = s->carrier;
	if ((c->tx.aead = crypto_aead_new(CRYPTO_AESGCM, ktx)) == NULL ||
	    (c->rx.aead = crypto_aead_new(CRYPTO_AESGCM, krx)) == NULL)
		fatal("cannot set up the carrier's ciphers");
	c->peer_next = cov();
	c->quiet_since = c->rx_at = vclock_ms;
	fz.outlen = fz.inlen = 0;
}

/* Close the peer's end of ${c} and forget its keys. */
static void
carrier_close(struct carrier *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	c->fd = -1;
	crypto_aead_free(c->tx.aead);
	crypto_aead_free(c->rx.aead);
	c->tx.aead = c->rx.aead = NULL;
	fz.outlen = fz.inlen = 0;
}

/* Queue ${n} bytes at ${p} onto the carrier; -1 if over the limits. */
static int
queue(const uint8_t *p, size_t n)
{
	if (fz.c.fd < 0 || fz.c.tx.aead == NULL || n > BUDGET - fz.budget ||
	    n > OUTQ_MAX - fz.outlen)
		return -1;
	if (n == 0)
		return 0;
	memcpy(fz.outq + fz.outlen, p, n);
	fz.outlen += n;
	fz.budget += n;
	fz.c.queued = 1;
	return 0;
}

/*
 * Seal a record as a peer would (record.c) into frame; with ${flags} or
 * ${rsv} set, seal the header as given, as record.c would never.  Returns
 * the frame's length, or -1 if it is not sent.
 */
static long
seal(uint8_t type, uint8_t flags, uint8_t rsv, uint64_t seq, uint64_t ack,
    const uint8_t *b, size_t blen)
{
	uint8_t *pt = frame + WIRE_REC_LENLEN;
	int len;

	if (fz.c.fd < 0 || fz.c.tx.aead == NULL || blen > WIRE_REC_MAXDATA ||
	    WIRE_REC_OVERHEAD + blen > BUDGET - fz.budget)
		return -1;
	if (flags == 0 && rsv == 0) {
		if ((len = record_seal_from(&fz.c.tx, frame, type, seq, ack, b,
		    blen)) < 0)
			fatal("record_seal_from failed");
		return len;
	}
	wire_put32(frame, (uint32_t)(WIRE_REC_HDR + blen + CRYPTO_TAGLEN));
	wire_rec_hdr(pt, type, seq, ack);
	pt[1] = flags;
	if (rsv != 0)
		pt[2 + rsv % 6] = rsv;
	if (crypto_aead_seal2(fz.c.tx.aead, fz.c.tx.nonce, frame,
	    WIRE_REC_LENLEN, pt, WIRE_REC_HDR, b, blen, pt))
		fatal("crypto_aead_seal2 failed");
	fz.c.tx.nonce++;
	return (long)(WIRE_REC_OVERHEAD + blen);
}

/*
 * The peer claims to have ${x} of the relay's stream (an ack, or a
 * HELLO's received): the relay may consume up to there from a backend.
 */
static void
claim(uint64_t x)
{
	if (x > fz.claim_max)
		fz.claim_max = x;
	if (x > fz.relay_got)
		fz.claim_lied = 1;
}

/* Seal and queue a well-formed record; note the ack it carries. */
static int
send_rec(uint8_t type, uint64_t seq, uint64_t ack, const uint8_t *b,
    size_t blen)
{
	long len = seal(type, 0, 0, seq, ack, b, blen);

	if (len < 0 || queue(frame, (size_t)len))
		return -1;
	if (ack > fz.ack_out_max)
		fz.ack_out_max = ack;
	claim(ack);
	return 0;
}

/* Write what the peer has queued, as far as the carrier takes it. */
static void
flush_outq(void)
{
	ssize_t n;

	while (fz.c.fd >= 0 && fz.outlen > 0) {
		n = send(fz.c.fd, fz.outq, fz.outlen,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			fz.outlen = 0;   /* the relay dropped this carrier */
			return;
		}
		memmove(fz.outq, fz.outq + n, fz.outlen - (size_t)n);
		fz.outlen -= (size_t)n;
		fz.c.quiet_since = vclock_ms;
	}
}

/* Check one record the relay sent on the current carrier. */
static void
check_record(const struct wire_rec *rec)
{
	struct carrier *c = &fz.c;
	const uint8_t *b = rec->body;
	uint64_t end, rcv;

	if (c->close_in)
		fatal("a record (type %u) after CLOSE", rec->type);
	if (rec->ack < fz.ack_in)
		fatal("ack went back from %llu to %llu",
		    (unsigned long long)fz.ack_in,
		    (unsigned long long)rec->ack);
	if (rec->ack < fz.start_recv || rec->ack > cov())
		fatal("ack %llu acknowledges bytes the peer never sent",
		    (unsigned long long)rec->ack);
	fz.ack_in = rec->ack;
	if (!c->hello_in && rec->type != WIRE_REC_HELLO)
		fatal("carrier %u starts with type %u, not HELLO",
		    (unsigned)c->num, rec->type);
	switch (rec->type) {
	case WIRE_REC_HELLO:
		if (c->hello_in)
			fatal("a second HELLO on carrier %u", (unsigned)c->num);
		c->hello_in = 1;
		rcv = wire_get64(b + WIRE_SESSION_ID_LEN + 8);
		if (memcmp(b, fz.s.id, WIRE_SESSION_ID_LEN) != 0 ||
		    wire_get32(b + WIRE_SESSION_ID_LEN) != c->num ||
		    wire_get32(b + WIRE_SESSION_ID_LEN + 4) != RELAY_WINDOW)
			fatal("HELLO names another session, carrier or window");
		if (rcv < fz.hello_recv_in || rcv < rec->ack || rcv > cov())
			fatal("HELLO received %llu: below an earlier one or "
			    "its ack, or beyond the peer's DATA",
			    (unsigned long long)rcv);
		if (rec->seq < fz.hello_seq_in || rec->seq < fz.start_send ||
		    rec->seq < fz.relay_got || rec->seq > fz.app_written)
			fatal("HELLO stream end %llu: went back, below what "
			    "the peer got, or beyond what the application "
			    "wrote",
			    (unsigned long long)rec->seq);
		fz.hello_recv_in = rcv;
		fz.hello_seq_in = rec->seq;
		c->peer_next = rcv;   /* a peer sends again from here */
		break;
	case WIRE_REC_DATA:
		if (fz.doomed)
			fatal("DATA from a relay that adopted a reset backend");
		end = rec->seq + rec->bodylen;
		if (!c->first_hello || !c->hello_ok)
			fatal("DATA on carrier %u, whose first record was not "
			    "a good HELLO", (unsigned)c->num);
		if (c->fin_in)
			fatal("DATA after FIN");
		if (rec->seq != c->data_next)
			fatal("DATA at %llu, not at %llu (contiguous from the "
			    "peer's received)", (unsigned long long)rec->seq,
			    (unsigned long long)c->data_next);
		if (end > fz.app_written)
			fatal("DATA up to %llu, beyond what the application "
			    "wrote", (unsigned long long)end);
		if (end > fz.ack_out_max &&
		    end - fz.ack_out_max > fz.win_max)
			fatal("DATA up to %llu beyond the peer's window",
			    (unsigned long long)end);
		if (!pat_equal(b, rec->seq + APP_SHIFT, rec->bodylen))
			fatal("DATA at %llu differs from the application's "
			    "bytes", (unsigned long long)rec->seq);
		c->data_next = end;
		if (rec->seq <= fz.relay_got && end > fz.relay_got)
			fz.relay_got = end;
		break;
	case WIRE_REC_ACK:
		if (rec->seq < fz.start_send || rec->seq > fz.app_written)
			fatal("ACK seq %llu outside the relay's stream",
			    (unsigned long long)rec->seq);
		break;
	case WIRE_REC_FIN:
		/*
		 * A reset is never a FIN (docs/PROTOCOL.md 7.7), but one
		 * after a shutdown drops what the application's socket had
		 * not sent yet.  relay_finish ends the stream where the relay
		 * stopped reading.
		 */
		if (!(fz.app_shut || fz.finishing) ||
		    rec->seq > fz.app_written ||
		    (!fz.app_reset && !fz.finishing &&
		    rec->seq != fz.app_written) ||
		    !c->first_hello || !c->hello_ok ||
		    rec->seq != c->data_next || c->fin_in || fz.doomed)
			fatal("FIN at %llu: before the application's EOF, not "
			    "at its end, not after all DATA, or twice",
			    (unsigned long long)rec->seq);
		c->fin_in = 1;
		break;
	case WIRE_REC_CLOSE:
		c->close_in = 1;
		if (b[0] > WIRE_CLOSE_PROTOCOL ||
		    (fz.doomed && b[0] != WIRE_CLOSE_BACKEND))
			fatal("CLOSE reason %u", b[0]);
		break;
	default:
		fatal("record type %u", rec->type);
	}
}

/* Read and check what the relay sent on the current carrier. */
static void
read_carrier(void)
{
	struct wire_rec rec;
	size_t off;
	ssize_t n;
	long flen;
	int rc;

	while (fz.c.fd >= 0 && fz.c.rx.aead != NULL) {
		n = recv(fz.c.fd, fz.inb + fz.inlen, 2 * FRAME_MAX - fz.inlen,
		    MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;   /* EAGAIN; or the relay closed it */
		fz.inlen += (size_t)n;
		off = 0;
		while ((flen = record_frame_len(fz.inb + off,
		    fz.inlen - off)) != 0) {
			if (flen < 0)
				fatal("the relay sent a record length out of "
				    "range");
			rc = record_open(&fz.c.rx, fz.inb + off, (size_t)flen,
			    opened, &rec);
			if (rc != 0)
				fatal("the relay's record %s",
				    rc == -1 ? "does not open under the "
				    "carrier's keys" : "is malformed");
			check_record(&rec);
			fz.c.rx_at = vclock_ms;
			off += (size_t)flen;
		}
		memmove(fz.inb, fz.inb + off, fz.inlen - off);
		fz.inlen -= off;
	}
}

/* Whether the peer sealed a FIN at ${off}. */
static int
fin_at(uint64_t off)
{
	size_t i;

	for (i = 0; i < fz.nfin; i++)
		if (fz.fin[i] == off)
			return 1;
	return 0;
}

/* Read and check what the relay delivered to the application. */
static void
drain_plain(void)
{
	ssize_t n;

	while (!fz.plain_pause && !fz.app_eof && !fz.app_reset) {
		n = recv(fz.app_fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			fz.app_reset = 1;   /* the relay reset it (or ss -K) */
			break;
		}
		if (n == 0) {
			if (!fz.ended && !fin_at(fz.app_read))
				fatal("the application sees EOF at %llu with "
				    "no FIN there and the relay alive",
				    (unsigned long long)fz.app_read);
			fz.app_eof = 1;
			break;
		}
		if (fz.app_read + (uint64_t)n > cov())
			fatal("delivered up to %llu, beyond the peer's DATA",
			    (unsigned long long)(fz.app_read + (uint64_t)n));
		if (!pat_equal(rbuf, fz.app_read, (size_t)n))
			fatal("a delivered byte in [%llu, %llu) differs from "
			    "the peer's", (unsigned long long)fz.app_read,
			    (unsigned long long)(fz.app_read + (uint64_t)n));
		fz.app_read += (uint64_t)n;
	}
}

/*
 * An ack means delivered: every byte acknowledged was read by the
 * application, waits in its socket or in the relay's send queue.
 */
static void
check_delivered(void)
{
	int inq = 0, outq = 0;
	struct carrier *c = &fz.c;
	uint64_t sent, received;

	if (fz.r == NULL)
		return;
	relay_stats(fz.r, &sent, &received);
	if (sent < fz.start_send || sent > fz.app_written)
		fatal("relay_stats sent %llu outside what the application "
		    "wrote", (unsigned long long)sent);
	if (received < fz.app_read || received > cov() ||
	    received < fz.hello_recv_in)
		fatal("relay_stats received %llu: below what was delivered "
		    "or beyond the peer's DATA", (unsigned long long)received);
	if (relay_carrier(fz.r) != (fz.lost ? 0 : c->num))
		fatal("relay_carrier %u, not %u", relay_carrier(fz.r),
		    fz.lost ? 0 : (unsigned)c->num);
	if (!fz.attached || fz.app_reset)
		return;
	if (ioctl(fz.app_fd, SIOCINQ, &inq) < 0 ||
	    ioctl(fz.relay_fd, SIOCOUTQ, &outq) < 0)
		fatal("SIOCINQ/SIOCOUTQ: %s", strerror(errno));
	if (fz.ack_in > fz.app_read + (uint64_t)inq + (uint64_t)outq)
		fatal("ack %llu, but only %llu bytes reached the application "
		    "(%d more queued)", (unsigned long long)fz.ack_in,
		    (unsigned long long)fz.app_read, inq + outq);
}

/* Move bytes between the test's ends and the loop's, and check. */
static void
pump(void)
{
	flush_outq();
	if (!fz.carrier_pause) {
		read_carrier();
		/* Its CLOSE went out with its HELLO (relay.c carrier_start). */
		if (fz.doomed && fz.c.fd >= 0 && fz.c.hello_in && !fz.c.close_in)
			fatal("a relay that adopted a reset backend sent HELLO "
			    "and no CLOSE");
	}
	drain_plain();
	check_delivered();
}

/* Run the loop ${n} times without waiting, pumping in between. */
static void
run(unsigned n)
{
	pump();
	while (n-- > 0) {
		(void)uv_run(&fz.loop, UV_RUN_NOWAIT);
		pump();
	}
}

static void
on_proven(struct relay *r, void *arg)
{
	if (r != fz.r || !fz.c.first_hello || !fz.c.hello_ok)
		fatal("proven on carrier %u, whose first record was not a "
		    "good HELLO", (unsigned)fz.c.num);
	fz.established = 1;
	fz.c.proven = 1;
}

static void
on_lost(struct relay *r, void *arg, const char *text)
{
	struct pollfd pfd = { fz.c.fd, POLLIN | POLLRDHUP, 0 };

	if (r != fz.r || fz.lost || relay_carrier(r) != 0)
		fatal("lost twice, or still on a carrier (%s)", text);
	/* Detached: the relay has let its carrier go, and sends nothing. */
	if (fz.c.fd >= 0 && (poll(&pfd, 1, 0) != 1 ||
	    !(pfd.revents & (POLLHUP | POLLRDHUP))))
		fatal("lost (%s), but its carrier is still open", text);
	fz.lost = 1;
	fz.ack_due = 0;
}

static void
on_end(struct relay *r, void *arg, enum relay_end end, const char *text)
{
	if (r != fz.r || fz.ended)
		fatal("the end callback ran twice or for another relay");
	if (fz.dying) {
		fz.r = NULL;      /* op 17: the worker died, not the session */
		return;
	}
	if (end == RELAY_END_DONE &&
	    (!(fz.app_shut || fz.finishing) ||
	    fz.nfin == 0))
		fatal("\"done\" before both streams ended (%s)", text);
	fz.ended = 1;
	fz.end = end;
	fz.r = NULL;
}

/* A uv_tcp_t on ${fd}, for the relay (which frees it). */
static uv_tcp_t *
tcp_handle(int fd)
{
	uv_tcp_t *h = malloc(sizeof(*h));

	if (h == NULL || uv_tcp_init(&fz.loop, h) != 0 ||
	    uv_tcp_open(h, fd) != 0)
		fatal("cannot make a handle for fd %d", fd);
	return h;
}

/*
 * A connected loopback TCP pair: ${fd}[0] ours, ${fd}[1] the relay's,
 * the end that connects if ${relay_connects} (as warrend's backend
 * sockets do: sockq_get counts their streams right).
 */
static void
plain_pair(int fd[2], int relay_connects)
{
	int c = relay_connects ? 1 : 0;

	socklen_t alen = sizeof(listen_addr);
	int one = 1, small = PLAIN_BUF, err = 0;

	if (listen_fd < 0) {
		memset(&listen_addr, 0, sizeof(listen_addr));
		listen_addr.sin_family = AF_INET;
		listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if ((listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) < 0 || setsockopt(listen_fd, SOL_SOCKET,
		    SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(listen_fd, (struct sockaddr *)&listen_addr,
		    sizeof(listen_addr)) < 0 || listen(listen_fd, 8) < 0 ||
		    getsockname(listen_fd, (struct sockaddr *)&listen_addr,
		    &alen) < 0)
			fatal("loopback listener: %s", strerror(errno));
	}
	/*
	 * A signal (libFuzzer's -timeout alarm) may interrupt the connect,
	 * which then goes on by itself: wait for it and take its result.
	 */
	if ((fd[c] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		fatal("loopback pair: %s", strerror(errno));
	if (connect(fd[c], (struct sockaddr *)&listen_addr,
	    sizeof(listen_addr)) < 0) {
		struct pollfd pw = { fd[c], POLLOUT, 0 };
		socklen_t elen = sizeof(err);

		if (errno != EINTR)
			fatal("loopback connect: %s", strerror(errno));
		while (poll(&pw, 1, -1) < 0)
			if (errno != EINTR)
				fatal("loopback connect: %s", strerror(errno));
		if (getsockopt(fd[c], SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err != 0)
			fatal("loopback connect: %s", strerror(err));
	}
	while ((fd[1 - c] = accept4(listen_fd, NULL, NULL,
	    SOCK_CLOEXEC | SOCK_NONBLOCK)) < 0)
		if (errno != EINTR)
			fatal("loopback accept: %s", strerror(errno));
	if (fcntl(fd[c], F_SETFL, O_NONBLOCK) < 0)
		fatal("loopback pair: %s", strerror(errno));
	/*
	 * Small buffers toward the application, so that a few records fill
	 * them and the relay must queue (a slow application), well within
	 * its window.
	 */
	(void)setsockopt(fd[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	(void)setsockopt(fd[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
}

/* Attach the plain side, as warrend does once its backend connects. */
static void
attach(void)
{
	uv_tcp_t *h;

	if (fz.r == NULL || fz.attached)
		return;
	h = tcp_handle(fz.relay_fd);
	fz.attached = 1;
	fz.c.quiet_since = vclock_ms;   /* the relay reads its carrier now */
	relay_attach(fz.r, (uv_stream_t *)h, (uv_stream_t *)h);
}

/* The application writes ${n} more bytes of its stream, as far as it can. */
static void
app_write(size_t n)
{
	ssize_t k;

	if (fz.app_shut || fz.app_dead || n > BUDGET - fz.budget)
		return;
	while (n > 0) {
		size_t len = n < sizeof(rbuf) ? n : sizeof(rbuf);

		pat_fill(body, fz.app_written + APP_SHIFT, len);
		k = send(fz.app_fd, body, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (k <= 0) {
			fz.app_dead = 1;
			return;
		}
		fz.app_written += (uint64_t)k;
		fz.budget += (size_t)k;
		n -= (size_t)k;
	}
}

/* Op 11: the application shuts its write side, or resets its socket. */
static void
app_end(unsigned how)
{
	struct linger lg = { 1, 0 };

	if (fz.app_fd < 0)
		return;
	if (how % 2 == 0) {
		if (!fz.app_shut)
			(void)shutdown(fz.app_fd, SHUT_WR);
		fz.app_shut = 1;
		return;
	}
	(void)setsockopt(fz.app_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)close(fz.app_fd);
	fz.app_fd = -1;
	fz.app_reset = fz.app_dead = 1;
}

/* Note the first record queued on a fresh carrier. */
static void
first(int hello, int ok, uint64_t rewind)
{
	if (fz.c.queued || fz.c.fd < 0)
		return;
	fz.c.first_hello = hello;
	fz.c.hello_ok = ok;
	fz.c.rewind = fz.c.data_next = rewind;
}

/* Op 0: DATA of the peer's stream at an offset of the fuzzer's choice. */
static void
op_data(struct in *in)
{
	unsigned hs = (unsigned)get(in, 1), ha = (unsigned)get(in, 1);
	unsigned n = (unsigned)get(in, 2);
	uint64_t seq = pick(in, hs, fz.c.peer_next, fz.start_recv);
	uint64_t ack = pick(in, ha, fz.relay_got, fz.start_send);
	size_t len = n & 0x8000 ? (n & 0x7fff) * 16u % WIRE_REC_MAXDATA + 1 :
	    n % 4096 + 1;

	if (fz.c.fd < 0 || seq > UINT64_MAX - len)
		return;
	pat_fill(body, seq, len);
	first(0, 0, 0);
	if (send_rec(WIRE_REC_DATA, seq, ack, body, len))
		return;
	if (fz.nspan < OPS_MAX) {
		fz.span[fz.nspan].a = seq;
		fz.span[fz.nspan++].b = seq + len;
	}
	if (seq + len > fz.peer_end)
		fz.peer_end = seq + len;
	fz.c.peer_next = seq + len;
}

/* Op 2: HELLO, right or wrong in each field. */
static void
op_hello(struct in *in)
{
	uint8_t b[WIRE_HELLO_BODY];
	unsigned bad = (unsigned)get(in, 1), hw = (unsigned)get(in, 1);
	unsigned hr = (unsigned)get(in, 1), hs = (unsigned)get(in, 1);
	unsigned ha = (unsigned)get(in, 1);
	uint64_t win, rcv, seq, ack;

	win = pick(in, hw, RELAY_WINDOW, WIRE_WINDOW_MIN);
	win = (hw & 0x80) ? WIRE_WINDOW_MIN + (win & 0xffff) : win;
	rcv = pick(in, hr, fz.relay_got, fz.start_send);
	seq = pick(in, hs, fz.peer_end > fz.start_recv ? fz.peer_end :
	    fz.start_recv, fz.start_recv);
	ack = pick(in, ha, fz.relay_got, fz.start_send);
	memcpy(b, fz.s.id, WIRE_SESSION_ID_LEN);
	if (bad & 1)
		b[bad % WIRE_SESSION_ID_LEN] ^= (uint8_t)(bad | 1);
	wire_put32(b + WIRE_SESSION_ID_LEN, fz.c.num + (bad & 2 ?
	    1 + bad / 4 : 0));
	wire_put32(b + WIRE_SESSION_ID_LEN + 4, (uint32_t)win);
	wire_put64(b + WIRE_SESSION_ID_LEN + 8, rcv);
	first(1, (bad & 3) == 0, rcv);
	if (send_rec(WIRE_REC_HELLO, seq, ack, b, sizeof(b)) == 0) {
		if ((uint32_t)win > fz.win_max)
			fz.win_max = (uint32_t)win;
		claim(rcv);
	}
}

/* Op 5: a record its parser must refuse, sealed under the right keys. */
static void
op_malformed(struct in *in)
{
	unsigned kind = (unsigned)get(in, 1), type = (unsigned)get(in, 1);
	unsigned v = (unsigned)get(in, 1), n = (unsigned)get(in, 2);
	uint8_t t = (uint8_t)(WIRE_REC_HELLO + type % 5), flags = 0, rsv = 0;
	size_t len = 0;
	long flen;

	switch (kind % 4) {
	case 0:
		flags = (uint8_t)(v | 1);
		break;
	case 1:
		rsv = (uint8_t)(v | 1);
		break;
	case 2:   /* 0 or 6..255 */
		t = type % 5 == 0 ? 0 : (uint8_t)(6 + type % 250);
		break;
	default:  /* a body size its type forbids */
		switch (t) {
		case WIRE_REC_HELLO:
			len = n % 64 == WIRE_HELLO_BODY ? 0 : n % 64;
			break;
		case WIRE_REC_DATA:
			len = 0;
			break;
		case WIRE_REC_CLOSE:
			len = n & 1 ? 0 : WIRE_CLOSE_TEXT_MAX + 2 + n % 512;
			break;
		default:
			len = 1 + n % 64;
		}
	}
	if (kind % 4 != 3)
		len = n % 64;
	memset(body, 0, len);
	first(0, 0, 0);
	if ((flen = seal(t, flags, rsv, fz.c.peer_next, fz.relay_got, body,
	    len)) >= 0)
		(void)queue(frame, (size_t)flen);
}

/* Op 6: a sealed ACK with one byte flipped, or cut short. */
static void
op_corrupt(struct in *in)
{
	unsigned how = (unsigned)get(in, 1), pos = (unsigned)get(in, 2);
	long flen = seal(WIRE_REC_ACK, 0, 0, fz.c.peer_next, fz.relay_got,
	    NULL, 0);

	if (flen < 0)
		return;
	first(0, 0, 0);
	if (how % 2 == 0) {
		frame[pos % flen] ^= (uint8_t)(how | 1);
		(void)queue(frame, (size_t)flen);
	} else
		(void)queue(frame, pos % (size_t)flen);
}

/* Op 9: a new carrier under the relay (relay_resume). */
static void
op_swap(unsigned how)
{
	struct session s2 = fz.s;
	int fd[2], ok, rc;

	if (fz.r == NULL)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    fd) < 0)
		fatal("socketpair: %s", strerror(errno));
	switch (how % 8) {
	case 5:
		s2.carrier = fz.s.carrier + 2 + how / 8;
		break;
	case 6:
		s2.carrier = fz.s.carrier;
		break;
	case 7:
		s2.carrier = fz.s.carrier + 1;
		s2.id[how / 8 % WIRE_SESSION_ID_LEN] ^= 0x5a;
		break;
	default:
		s2.carrier = fz.s.carrier + 1;
	}
	carrier_keys(&s2, s2.carrier);
	ok = fz.established && !fz.aborting && how % 8 < 6;
	rc = relay_resume(fz.r, tcp_handle(fd[1]), &s2);
	/* A reset application makes the relay abort (and refuse) itself. */
	if (rc != (ok ? 0 : -1) && !(rc == -1 && (fz.ended || fz.app_reset)))
		fatal("relay_resume returned %d (carrier %u after %u, %s)", rc,
		    (unsigned)s2.carrier, (unsigned)fz.s.carrier,
		    fz.established ? "established" : "not established");
	/* One that adopted a reset backend ends at once, its CLOSE sent. */
	if (rc != 0 && !(fz.doomed && ok)) {
		(void)close(fd[0]);
		session_wipe(&s2);
		return;
	}
	/* The relay dropped the old carrier: what it sent there, then EOF. */
	if (!fz.carrier_pause)
		read_carrier();
	carrier_close(&fz.c);
	fz.s.carrier = s2.carrier;
	memcpy(fz.s.key_c2s, s2.key_c2s, sizeof(fz.s.key_c2s));
	memcpy(fz.s.key_s2c, s2.key_s2c, sizeof(fz.s.key_s2c));
	session_wipe(&s2);
	carrier_init(&fz.c, fd[0], &fz.s);
	fz.lost = 0;
	fz.doom_told += fz.doomed;
}

/* Op 8: kill the carrier from the peer's end. */
static void
op_kill(unsigned how)
{
	if (fz.c.fd < 0)
		return;
	switch (how % 3) {
	case 0:
		carrier_close(&fz.c);
		break;
	case 1:
		(void)shutdown(fz.c.fd, SHUT_WR);
		fz.outlen = 0;
		fz.c.killed = 1;
		break;
	default:
		(void)shutdown(fz.c.fd, SHUT_RDWR);
		fz.outlen = 0;
		fz.c.killed = 1;
	}
}

/*
 * After each step of time: what the relay's timer must have done by now.
 * Each deadline has SLACK_MS on top of the relay's own (its tick checks
 * "within a tick before the limit, not after it").
 */
static void
check_timers(void)
{
	struct carrier *c = &fz.c;
	uint64_t now = vclock_ms, sent, received;
	int up;

	if (fz.r == NULL) {
		fz.ack_due = 0;
		return;
	}
	/* Linger: a CLOSE waiting to go out waits keepalive/2 at most. */
	if (fz.aborting && now - fz.abort_at > LINGER_MS + SLACK_MS)
		fatal("relay_abort %llu ms ago, and the relay has not ended",
		    (unsigned long long)(now - fz.abort_at));
	/* relay_finish: ended by its grace, then the abort's linger. */
	if (fz.finish_dl != 0 && now > fz.finish_dl + LINGER_MS + SLACK_MS)
		fatal("relay_finish's grace ended at %llu, and the relay has "
		    "not", (unsigned long long)(fz.finish_dl - VCLOCK_BASE));
	/*
	 * Dead carrier: one the relay reads (attached, or not proven yet)
	 * and the peer has written nothing to for DEAD_MS is lost (or the
	 * session ends): with bytes in flight after dead_busy already.
	 */
	if (!fz.lost && c->fd >= 0 && !c->killed &&
	    (fz.attached || !c->proven) &&
	    now - c->quiet_since > DEAD_MS + SLACK_MS)
		fatal("carrier %u silent for %llu ms, and the relay still "
		    "on it", (unsigned)c->num,
		    (unsigned long long)(now - c->quiet_since));
	/*
	 * A proven carrier that the peer reads and that nothing ends hears
	 * from the relay at least every keepalive.
	 */
	up = !fz.lost && c->fd >= 0 && !c->killed && c->proven &&
	    !fz.carrier_pause && !fz.aborting && fz.finish_dl == 0 &&
	    !c->fin_in && !c->close_in && !fz.app_reset && !fz.app_dead;
	if (up && now - c->rx_at > KEEPALIVE * 1000u + SLACK_MS)
		fatal("nothing from the relay on carrier %u for %llu ms "
		    "(keepalive %d s)", (unsigned)c->num,
		    (unsigned long long)(now - c->rx_at), KEEPALIVE);
	/*
	 * Ack on the tick: once the application has read all the relay
	 * received, an ACK for it comes within a tick (or two).
	 */
	relay_stats(fz.r, &sent, &received);
	if (!up || !fz.attached || fz.plain_pause || received != fz.app_read ||
	    fz.ack_in >= received) {
		fz.ack_due = 0;
		return;
	}
	if (fz.ack_due == 0)
		fz.ack_due = now;
	else if (now - fz.ack_due > SLACK_MS)
		fatal("the application read %llu, the last ack is %llu, "
		    "%llu ms later", (unsigned long long)received,
		    (unsigned long long)fz.ack_in,
		    (unsigned long long)(now - fz.ack_due));
}

/*
 * Op 16: ${ms} of time pass, in steps of at most a tick; the loop runs and
 * the timers' effects are checked after each.
 */
static void
advance(uint64_t ms)
{
	while (ms > 0 && fz.steps < STEPS_MAX) {
		uint64_t step = ms < RELAY_TICK_MS ? ms : RELAY_TICK_MS;

		vclock_ms += step;
		ms -= step;
		fz.steps++;
		run(1);
		check_timers();
	}
}

/*
 * Op 18: relay_finish with a grace of ${how} / 2 * 100 ms (even), or
 * relay_set_stall of ${how} / 2 % 8 seconds (odd).
 */
static void
op_finish(unsigned how)
{
	uint64_t grace = how / 2 * 100u;

	if (fz.r == NULL)
		return;
	if (how % 2 == 1) {
		relay_set_stall(fz.r, (int)(how / 2 % 8));
		return;
	}
	fz.finishing = 1;
	relay_finish(fz.r, (int)grace, "fuzz finish");
	if (fz.r != NULL && !fz.aborting)
		fz.finish_dl = vclock_ms + (grace > 0 ? grace : 1);
}

/*
 * Op 17, the node only: its worker dies and a new one adopts the session,
 * as cmd/warrend/carrier.c does after a restart.  The dead worker's
 * carrier goes (the peer drops it: what the relay sent there and the peer
 * did not read is lost), the old relay goes without a word (its CLOSE
 * meets a closed carrier; the backend socket lives on in a duplicate, as
 * the keeper holds it), and a new relay takes the backend socket with the
 * offsets the kernel counts (sockq_get, relay_adopt), detached, until the
 * peer resumes (op 9).  Checked: the old relay consumed from the backend
 * only what the peer claimed (acked, or said it received in a HELLO); the
 * backend socket holds every byte the application wrote and the relay did
 * not consume; every byte the relay acknowledged reached it, and only the
 * peer's bytes.  The model's checks then see that every byte arrives at
 * either end once and in order across it: the application's bytes in the
 * new relay's DATA from where the peer's HELLO says (its stream starts
 * at the first unconsumed byte), the peer's from what the backend got.
 */
static void
op_adopt(void)
{
	struct linger lg = { 0, 0 };
	struct sockq q, *qp = NULL;
	uint64_t written, consumed;
	int fd, i, inq = 0, aoutq = 0, routq = 0;

	/*
	 * A backend that was reset is adopted only if no FIN went either way
	 * before: sockq_get cannot tell a FIN before a reset (sockq.h), so
	 * its counts would be one byte off, and the relay's HELLO with them.
	 * And only if the application reset it (op 11), not the relay.
	 */
	if (!fz.node || fz.r == NULL || !fz.attached || !fz.established ||
	    fz.aborting || fz.c.close_in || (fz.app_reset && (!fz.app_dead ||
	    fz.app_shut || fz.nfin > 0)))
		return;
	carrier_close(&fz.c);
	if ((fd = fcntl(fz.relay_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		fatal("dup of the backend socket: %s", strerror(errno));
	fz.dying = 1;
	relay_abort(fz.r, WIRE_CLOSE_ERROR, "worker killed");
	for (i = 0; fz.r != NULL && i < END_RUNS; i++)
		run(1);
	for (i = 0; fz.r != NULL && i < END_WAITS; i++) {
		vclock_ms += RELAY_TICK_MS;
		run(1);
	}
	fz.dying = 0;
	if (fz.r != NULL)
		fatal("the old relay did not end (its carrier closed)");
	fz.relay_fd = fd;         /* the relay's own descriptor is closed */
	/* A dead worker's close is plain: undo the abort's SO_LINGER reset. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (sockq_get(fd, &q) == 0)
		qp = &q;
	if (qp != NULL && fz.app_reset && !q.reset) {
		/*
		 * The old relay read the reset's error before it died: a
		 * worker that crashes in the same turn, which no new worker
		 * can tell from an orderly close (sockq.h).  Not modelled:
		 * the new worker gives up, as when sockq_get fails.
		 */
		qp = NULL;
	}
	if (qp != NULL && q.reset != fz.app_reset)
		fatal("sockq_get: reset %d, but the application %s",
		    q.reset, fz.app_reset ? "reset it" : "did not reset it");
	if (qp != NULL) {
		written = q.written + fz.start_recv;
		consumed = q.consumed + fz.start_send;
		if ((!fz.app_dead && (ioctl(fz.app_fd, SIOCINQ, &inq) < 0 ||
		    ioctl(fz.app_fd, SIOCOUTQ, &aoutq) < 0)) ||
		    ioctl(fd, SIOCOUTQ, &routq) < 0)
			fatal("SIOCINQ/SIOCOUTQ: %s", strerror(errno));
		if (consumed > fz.claim_max ||
		    (!fz.claim_lied && consumed > fz.relay_got))
			fatal("the old relay consumed %llu of the backend's "
			    "bytes; the peer claimed %llu, got %llu",
			    (unsigned long long)consumed,
			    (unsigned long long)fz.claim_max,
			    (unsigned long long)fz.relay_got);
		/* A reset drops what the application's socket still held. */
		if (consumed + q.unread > fz.app_written || (!fz.app_dead &&
		    consumed + q.unread + (uint64_t)aoutq < fz.app_written))
			fatal("backend socket: consumed %llu, unread %llu, "
			    "but the application wrote %llu (%d queued)",
			    (unsigned long long)consumed,
			    (unsigned long long)q.unread,
			    (unsigned long long)fz.app_written, aoutq);
		if (written < fz.ack_in || written > cov() || (!fz.app_dead &&
		    (written < fz.app_read + (uint64_t)inq ||
		    written > fz.app_read + (uint64_t)inq + (uint64_t)routq)))
			fatal("backend socket: written %llu; acked %llu, the "
			    "application read %llu (%d queued, %d on the way)",
			    (unsigned long long)written,
			    (unsigned long long)fz.ack_in,
			    (unsigned long long)fz.app_read, inq, routq);
		q.written = written;
		q.consumed = consumed;
	}
	fz.r = relay_adopt(&fz.loop, tcp_handle(fd), qp, &fz.s, KEEPALIVE,
	    "fuzz", on_proven, on_end, NULL);
	if (fz.r == NULL) {
		if (qp != NULL)
			fatal("relay_adopt failed");
		fz.ended = 1;             /* the new worker gives up */
		fz.end = RELAY_END_LOCAL;
		return;
	}
	relay_set_resumable(fz.r, on_lost, DEAD_BUSY);
	fz.adopted++;
	fz.doomed = q.reset;      /* its next carrier: HELLO, CLOSE BACKEND */
	fz.lost = 1;              /* no carrier until the peer resumes */
	fz.finish_dl = fz.ack_due = 0;
	/* What the dead worker had received and not written is gone. */
	fz.hello_recv_in = q.written;
}

/* Set up the relay for one input, by the header byte ${hdr}. */
static void
start(unsigned hdr)
{
	static const uint64_t starts[8] = { 0, 1, 4095, 0xffffffffu,
	    1ull << 32, (1ull << 40) + 7, 1ull << 48, 1ull << 62 };
	int cfd[2], pfd[2];

	memset(&fz.c, 0, sizeof(fz.c));
	fz.c.fd = -1;
	fz.node = hdr & 1;
	fz.start_send = starts[hdr >> 2 & 7];
	fz.start_recv = starts[hdr >> 5 & 7];
	fz.app_written = fz.app_read = fz.start_send;
	fz.app_read = fz.start_recv;
	fz.ack_in = fz.cov = fz.start_recv;
	fz.hello_recv_in = fz.start_recv;
	fz.hello_seq_in = fz.relay_got = fz.ack_out_max = fz.start_send;
	fz.peer_end = fz.start_recv;
	memset(&fz.s, 0, sizeof(fz.s));
	memset(fz.s.id, 0xa5, sizeof(fz.s.id));
	fz.s.id[0] = 0x17;
	snprintf(fz.s.service, sizeof(fz.s.service), "fuzz");
	fz.s.carrier = 0;
	fz.s.sent = fz.start_send;
	fz.s.received = fz.start_recv;
	carrier_keys(&fz.s, 0);
	if (uv_loop_init(&fz.loop) != 0)
		fatal("uv_loop_init");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    cfd) < 0)
		fatal("socketpair: %s", strerror(errno));
	plain_pair(pfd, fz.node);
	fz.app_fd = pfd[0];
	fz.relay_fd = pfd[1];
	carrier_init(&fz.c, cfd[0], &fz.s);
	fz.r = relay_new(&fz.loop, tcp_handle(cfd[1]), &fz.s, fz.node,
	    KEEPALIVE, "fuzz", on_proven, on_end, NULL);
	if (fz.r == NULL)
		fatal("relay_new failed");
	/* As warren does at once, and warrend once the carrier proves. */
	relay_set_resumable(fz.r, on_lost, DEAD_BUSY);
	if (hdr & 2)
		attach();
}

/* End the relay as the owner would, and check that the loop closes clean. */
static void
finish_input(void)
{
	struct linger lg = { 1, 0 };
	int i;

	if (fz.doom_told) {
		read_carrier();
		if (!fz.c.hello_in || !fz.c.close_in)
			fatal("no HELLO and CLOSE BACKEND on the carrier after "
			    "the adoption of a reset backend");
	}
	if (fz.r != NULL)
		relay_abort(fz.r, WIRE_CLOSE_ERROR, "fuzz input ended");
	run(SETTLE);
	/* Its sockets closed: whatever it waits for fails at once. */
	carrier_close(&fz.c);
	if (fz.app_fd >= 0) {
		(void)setsockopt(fz.app_fd, SOL_SOCKET, SO_LINGER, &lg,
		    sizeof(lg));
		(void)close(fz.app_fd);
	}
	if (!fz.attached)
		(void)close(fz.relay_fd);
	for (i = 0; i < END_RUNS && uv_loop_alive(&fz.loop); i++)
		(void)uv_run(&fz.loop, UV_RUN_NOWAIT);
	for (i = 0; i < END_WAITS && uv_loop_alive(&fz.loop); i++) {
		vclock_ms += RELAY_TICK_MS;
		(void)uv_run(&fz.loop, UV_RUN_NOWAIT);
	}
	if (fz.r != NULL)
		fatal("the relay did not end after relay_abort with both its "
		    "sockets closed");
	if (uv_loop_close(&fz.loop) != 0)
		fatal("a handle is still open when the relay has ended");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct in in = { data, size };
	unsigned op, a;

	if (!ready) {
		pat_init(0x2545f491);
		trace = getenv("FUZZ_SESSION_TRACE") != NULL;
		log_init("fuzz", trace ? LOG_DEBUG : LOG_SILENT);
		signal(SIGPIPE, SIG_IGN);
		if ((fz.outq = malloc(OUTQ_MAX)) == NULL ||
		    (fz.inb = malloc(2 * FRAME_MAX)) == NULL)
			fatal("out of memory");
		ready = 1;
	}
	if (size == 0)
		return 0;
	vclock_ms = VCLOCK_BASE;
	vclock_on = 1;
	{
		uint8_t *oq = fz.outq, *ib = fz.inb;

		memset(&fz, 0, sizeof(fz));
		fz.outq = oq;
		fz.inb = ib;
	}
	start((unsigned)get(&in, 1));
	run(SETTLE);
	for (fz.op = 1; in.n > 0 && fz.op <= OPS_MAX; fz.op++) {
		op = (unsigned)get(&in, 1);
		op = op < 0xf0 ? op % 16 : 16 + op % 16 % 3;
		switch (op) {
		case 0:
			op_data(&in);
			break;
		case 1: {
			uint64_t seq, ack;

			pick_seq_ack(&in, &seq, &ack);
			first(0, 0, 0);
			(void)send_rec(WIRE_REC_ACK, seq, ack, NULL, 0);
			break;
		}
		case 2:
			op_hello(&in);
			break;
		case 3: {
			uint64_t seq, ack;

			pick_seq_ack(&in, &seq, &ack);
			first(0, 0, 0);
			if (send_rec(WIRE_REC_FIN, seq, ack, NULL, 0) == 0 &&
			    fz.nfin < OPS_MAX)
				fz.fin[fz.nfin++] = seq;
			break;
		}
		case 4: {
			unsigned reason = (unsigned)get(&in, 1);
			size_t i, n = (size_t)get(&in, 1);

			body[0] = (uint8_t)reason;
			for (i = 1; i <= n; i++)
				body[i] = (uint8_t)(i * 37);
			first(0, 0, 0);
			if (n <= WIRE_CLOSE_TEXT_MAX)
				(void)send_rec(WIRE_REC_CLOSE, fz.c.peer_next,
				    fz.relay_got, body, 1 + n);
			else {
				long flen = seal(WIRE_REC_CLOSE, 0, 0,
				    fz.c.peer_next, fz.relay_got, body, 1 + n);

				if (flen >= 0)
					(void)queue(frame, (size_t)flen);
			}
			break;
		}
		case 5:
			op_malformed(&in);
			break;
		case 6:
			op_corrupt(&in);
			break;
		case 7: {
			size_t n = (size_t)get(&in, 1);

			if (n > in.n)
				n = in.n;
			first(0, 0, 0);
			(void)queue(in.p, n);
			in.p += n;
			in.n -= n;
			break;
		}
		case 8:
			op_kill((unsigned)get(&in, 1));
			break;
		case 9:
			op_swap((unsigned)get(&in, 1));
			break;
		case 10:
			app_write((size_t)get(&in, 2) + 1);
			break;
		case 11:
			app_end((unsigned)get(&in, 1));
			break;
		case 12:
			a = (unsigned)get(&in, 1);
			if (a % 2 == 0)
				fz.plain_pause = !fz.plain_pause;
			else
				fz.carrier_pause = !fz.carrier_pause;
			break;
		case 13:
			run((unsigned)get(&in, 1) % 32 + 1);
			break;
		case 14:
			attach();
			break;
		case 15:
			a = (unsigned)get(&in, 1);
			if (fz.r != NULL && !fz.aborting)
				fz.abort_at = vclock_ms;
			if (fz.r != NULL)
				relay_abort(fz.r, (uint8_t)(a % 4), "fuzz abort");
			fz.aborting = fz.r != NULL;
			break;
		case 16: {
			static const uint16_t ms[16] = { 1, 49, 50, 450, 499,
			    500, 501, 1000, 2500, 2950, 3000, 5000, 9950,
			    10000, 15000, 30000 };

			a = (unsigned)get(&in, 1);
			advance((uint64_t)ms[a % 16] * (1 + a / 16 % 8));
			break;
		}
		case 17:
			op_adopt();
			break;
		case 18:
			op_finish((unsigned)get(&in, 1));
			break;
		}
		run(SETTLE);
		if (trace)
			fprintf(stderr, "op %3u: %2u t=%llu carrier=%u%s%s%s%s%s "
			    "app_written=%llu relay_got=%llu peer_end=%llu "
			    "app_read=%llu ack_in=%llu\n", fz.op, op,
			    (unsigned long long)(vclock_ms - VCLOCK_BASE),
			    (unsigned)fz.c.num, fz.established ?
			    " established" : "", fz.lost ? " lost" : "",
			    fz.doomed ? " doomed" : "",
			    fz.ended ? " ended=" : "", fz.ended ?
			    relay_end_str(fz.end) : "",
			    (unsigned long long)fz.app_written,
			    (unsigned long long)fz.relay_got,
			    (unsigned long long)fz.peer_end,
			    (unsigned long long)fz.app_read,
			    (unsigned long long)fz.ack_in);
	}
	finish_input();
	vclock_on = 0;
	return 0;
}
