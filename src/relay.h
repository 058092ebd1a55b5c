/*
 * relay: the data plane of one session on one carrier.  It pumps bytes
 * between a plain stream (the application's connection on the client, the
 * backend's on the node) and an encrypted carrier, both ways, with
 * half-close, bounded buffers, backpressure, acknowledgements and
 * keepalives.  Client and node run the same code; only the direction of
 * the keys differs.
 */
#ifndef WARREN_RELAY_H
#define WARREN_RELAY_H

#include <uv.h>

#include "session.h"

struct sockq;   /* sockq.h */

#define RELAY_HIGH_WATER (1u << 20)   /* carrier send queue that stops the reader */
#define RELAY_WINDOW (8u << 20)       /* our receive window, sent in HELLO */
#define RELAY_ACK_EVERY (1u << 20)    /* ACK after this many bytes delivered */
#define RELAY_DEAD_FACTOR 3           /* keepalives missed before "dead" */
#define RELAY_STALL_DEFAULT 60        /* seconds without progress: "stall" */
#define RELAY_TICK_MS 500             /* timer; ACKs go out within a tick */
#define RELAY_DEAD_BUSY_DEFAULT 3     /* seconds of silence with data in flight */

struct relay;

/* Why a relay ended; text for logs and for the user. */
enum relay_end {
	RELAY_END_DONE,        /* both directions finished cleanly */
	RELAY_END_CLOSED,      /* the peer sent CLOSE; text is its reason */
	RELAY_END_LOCAL,       /* our plain side failed or we aborted */
	RELAY_END_CARRIER,     /* the carrier broke, timed out or misbehaved */
};

/**
 * relay_end_str(end):
 * Return a word for ${end}: "done", "closed", "local" or "carrier".
 */
const char *relay_end_str(enum relay_end end);

/**
 * relay_proven_cb(r, arg):
 * Called when the peer's HELLO has authenticated on a carrier: once for
 * the first, and again for each carrier that relay_resume brings.
 */
typedef void relay_proven_cb(struct relay *r, void *arg);

/**
 * relay_end_cb(r, arg, end, text):
 * Called once when the session ends; ${r} is freed after it returns.
 */
typedef void relay_end_cb(struct relay *r, void *arg, enum relay_end end,
    const char *text);

/**
 * relay_lost_cb(r, arg, text):
 * Called when the carrier of a resumable session (relay_set_resumable) is
 * lost for the reason ${text}.  The session is detached: its plain side
 * and kept bytes stay, until relay_resume gives it a new carrier or
 * relay_abort ends it.
 */
typedef void relay_lost_cb(struct relay *r, void *arg, const char *text);

/**
 * relay_new(loop, carrier, s, node, keepalive, peer, proven, end, arg):
 * Take ownership of the connected TCP handle ${carrier} and start the
 * session ${s} (copied) on it: send our HELLO, read the peer's.  ${node}
 * says which direction's key we send with.  ${keepalive} is in seconds.
 * ${peer} names the remote end in logs.  No plain stream is attached yet.
 * Returns NULL (and closes ${carrier}) on failure.
 */
struct relay *relay_new(uv_loop_t *loop, uv_tcp_t *carrier,
    const struct session *s, int node, int keepalive, const char *peer,
    relay_proven_cb *proven, relay_end_cb *end, void *arg);

/**
 * relay_adopt(loop, backend, q, s, keepalive, peer, proven, end, arg):
 * Node side: take the session ${s} (copied), whose carrier died with the
 * worker that ran it, with its backend connection ${backend} (owned from
 * now on: an open TCP handle on the inherited socket), detached.  The
 * stream offsets come from the kernel, as the caller read them into ${q}
 * (sockq_get; NULL if it could not): what was written to the backend is
 * what the session received; its stream starts at the first byte not
 * consumed from the backend socket (the old worker consumed only what the
 * client acknowledged, see relay_attach).  The client's resume brings a
 * carrier (relay_resume).  Returns NULL (and closes ${backend}) on
 * failure, and if ${q} is NULL.  (The caller reads ${q} so that the
 * client agent, which links relay.c, does not link sockq.c, which is
 * Linux only.)
 */
struct relay *relay_adopt(uv_loop_t *loop, uv_tcp_t *backend,
    const struct sockq *q, const struct session *s, int keepalive,
    const char *peer, relay_proven_cb *proven, relay_end_cb *end,
    void *arg);

/**
 * relay_attach(r, in, out):
 * Attach the plain side: read from ${in}, write to ${out} (the same handle
 * for a socket; stdin and stdout for "warren connect").  The relay owns
 * and closes them.  Records that arrived before are delivered now.  On
 * the node the backend socket is read with MSG_PEEK under SO_PEEK_OFF,
 * and a byte is consumed from it only once the client acknowledges it,
 * so that a new worker finds every unacknowledged byte there.
 */
void relay_attach(struct relay *r, uv_stream_t *in, uv_stream_t *out);

/**
 * relay_abort(r, reason, text):
 * Send CLOSE with ${reason} (WIRE_CLOSE_*) and ${text} to the peer, then
 * end the session with RELAY_END_LOCAL: at once, or once what is queued
 * on the carrier before the CLOSE has been written.  No record follows
 * the CLOSE, and relay_resume refuses a new carrier meanwhile.  The
 * carrier then lingers, shut for writing, reading and dropping until the
 * peer closes or for half a keepalive, so that no reset discards the
 * CLOSE; the relay is freed after that, on the loop.
 */
void relay_abort(struct relay *r, uint8_t reason, const char *text);

/**
 * relay_finish(r, grace_ms, text):
 * End ${r} in order, as if its plain side had reached end of file: what
 * was read goes out, then FIN, and the session ends cleanly (DONE) once
 * the peer has finished its side too.  If it has not ended within
 * ${grace_ms} (checked every RELAY_TICK_MS), or it has no proven carrier
 * now, abort it as relay_abort(r, WIRE_CLOSE_ERROR, ${text}) does.
 */
void relay_finish(struct relay *r, int grace_ms, const char *text);

/**
 * relay_set_resumable(r, lost, dead_busy):
 * Make ${r} outlive its carrier: once established, a lost carrier calls
 * ${lost} instead of ending the session, and a carrier silent for
 * ${dead_busy} seconds while our bytes are in flight counts as lost.
 */
void relay_set_resumable(struct relay *r, relay_lost_cb *lost, int dead_busy);

/**
 * relay_set_doomed(r, doomed):
 * Call ${doomed} once (with the error's text) when the plain side of ${r}
 * fails while it is detached: the session keeps its CLOSE for the next
 * carrier and will end then (docs/PROTOCOL.md 7.8).  The plain side's
 * error has been read, so the owner must no longer keep the session for
 * another process to adopt (sockq.h).
 */
void relay_set_doomed(struct relay *r, relay_lost_cb *doomed);

/**
 * relay_resume(r, carrier, s):
 * Take ownership of the connected TCP handle ${carrier} as the new carrier
 * of ${r}, with the carrier number and keys of ${s} (its id must be the
 * session's, its carrier number higher than the last); a carrier still
 * attached is dropped first.  Both ends then send again exactly what the
 * other lacks.  Returns -1 (and closes ${carrier}) if ${r} cannot take it
 * (not established yet, another session or an old carrier number, or
 * ending: relay_abort).  A session whose plain side failed while it was
 * detached sends its CLOSE on ${carrier} (after HELLO) and ends: -1 too
 * if it ended before returning (its end callback has run).
 */
int relay_resume(struct relay *r, uv_tcp_t *carrier, const struct session *s);

/**
 * relay_carrier(r):
 * The number of ${r}'s current carrier, or 0 while it has none (or on the
 * first carrier).
 */
unsigned relay_carrier(const struct relay *r);

/**
 * relay_set_stall(r, seconds):
 * Log a "stall" line when data waits in either direction of ${r} and no
 * byte moves for ${seconds} (default RELAY_STALL_DEFAULT).
 */
void relay_set_stall(struct relay *r, int seconds);

/**
 * relay_stalled(r):
 * Return 1 if ${r} is stalled now (see relay_set_stall), else 0.
 */
int relay_stalled(const struct relay *r);

/**
 * relay_stats(r, sent, received):
 * Report the byte counts of the two streams so far.
 */
void relay_stats(const struct relay *r, uint64_t *sent, uint64_t *received);

/**
 * relay_idle(r):
 * Return the milliseconds since a byte of ${r} last moved (read from the
 * plain side, delivered to it, or acknowledged by the peer).
 */
uint64_t relay_idle(const struct relay *r);

#endif
