/*
 * door: warrend's UDP front door.
 *
 * It answers only a valid INIT from an authorized client key (and, under
 * load, an INIT without mac2 with a small COOKIE); everything else is
 * dropped without a reply, counted, and logged (rate-limited) with its
 * source address.  Checks run cheapest first: size and type, mac1, then
 * under load mac2 (else a COOKIE reply) and the source's token bucket,
 * then the queue.  Queued INITs are handled a batch per loop turn: the
 * grant caps are checked before the Diffie-Hellman; clock skew, replay and
 * the client key's rate after it (they need the client's identity).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>

#include "addr.h"
#include "crypto.h"
#include "grant.h"
#include "log.h"
#include "store.h"
#include "warrend.h"
#include "wire.h"

/*
 * libuv reads up to RECV_BATCH datagrams per recvmmsg() call into a
 * buffer of that many 64 KiB slots: under a flood the syscall cost is
 * shared by the batch.
 */
#define RECV_SLOT (64 * 1024)
#define RECV_BATCH 16
#define BATCH 32              /* handshakes per loop turn */
#define LOAD_HOLD_MS 1000     /* hysteresis: under load this long after */

static void
door_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static uint8_t slab[RECV_BATCH * RECV_SLOT];   /* used in place */

	*buf = uv_buf_init((char *)slab, sizeof(slab));
}

int
door_log_ok(struct node *n, enum door_log kind)
{
	/*
	 * Packet-path lines: 10 a second, bursts of 20.  A session's own
	 * lines (grant, carrier up, lost, resumed, end: the audit trail)
	 * come from clients that hold a key: 200 a second, bursts of 1000.
	 */
	int rate = kind == DLOG_SESSION ? 200 : 10;
	int burst = kind == DLOG_SESSION ? 1000 : 20;

	if (limit_tb_take(&n->loglim[kind], rate, burst, uv_now(n->loop)))
		return 1;
	n->stats.log_suppressed++;
	return 0;
}

/*
 * INITs waiting in the kernel for the front door: libuv reads a few dozen
 * datagrams a loop turn, so under a flood the backlog builds up in the
 * socket, not in our queue.  The socket's receive memory, over a datagram's
 * typical kernel footprint, estimates it.  Also copy the sockets' drop
 * counters (a full buffer, or the filter below) into drop_kernel.
 */
#define DGRAM_TRUESIZE 1024
static size_t
kernel_backlog(struct node *n)
{
	uint32_t mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);
	size_t total = 0;
	uint64_t drops = 0;
	uv_os_fd_t fd;

	for (size_t i = 0; i < n->nudp; i++)
		if (uv_fileno((uv_handle_t *)&n->udp[i], &fd) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) == 0) {
			total += mem[SK_MEMINFO_RMEM_ALLOC] / DGRAM_TRUESIZE;
			drops += mem[SK_MEMINFO_DROPS];
		}
	n->stats.drop_kernel = drops;
	return total;
}

/*
 * Under load the size and header check of door_recv() runs in the kernel
 * as well: a socket filter drops every datagram that is not exactly an
 * INIT, before it is queued, so junk costs the sender's CPU rather than
 * warrend's.  Those drops are counted by the kernel (drop_kernel), not
 * logged one by one; packet-path logging is rate-limited under load anyway.
 * In calm times the filter is off and each malformed packet is logged.
 * A socket filter sees the datagram from its UDP header (8 bytes) on.
 */
static void
door_filter(struct node *n, int on)
{
	static struct sock_filter code[] = {
		/* INIT and RESUME: the same length, two types. */
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 8 + WIRE_INIT_LEN, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)WIRE_INIT << 24 | (uint32_t)WIRE_VERSION << 16, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (uint32_t)WIRE_RESUME << 24 | (uint32_t)WIRE_VERSION << 16, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	static const struct sock_fprog prog = {
		.len = sizeof(code) / sizeof(code[0]), .filter = code,
	};
	uv_os_fd_t fd;
	int dummy = 0;

	if (on == n->filtered || !n->priv.udp_filter)
		return;     /* no filter: privcheck_run said so at start */
	for (size_t i = 0; i < n->nudp; i++) {
		if (uv_fileno((uv_handle_t *)&n->udp[i], &fd) != 0)
			continue;
		if (on ? setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
		    sizeof(prog)) : setsockopt(fd, SOL_SOCKET,
		    SO_DETACH_FILTER, &dummy, sizeof(dummy))) {
			log_warn("door_filter", "on=%d err=\"%s\"", on,
			    strerror(errno));
			return;
		}
	}
	n->filtered = on;
	log_info("door_filter", "on=%d", on);
}

int
door_under_load(struct node *n)
{
	uint64_t now = uv_now(n->loop);

	if (n->cfg->load_threshold == 0)
		return 1;
	if (n->qlen >= (size_t)n->cfg->load_threshold) {
		n->last_over_ms = now;
		n->was_over = 1;
	}
	return n->was_over && now - n->last_over_ms < LOAD_HOLD_MS;
}

void
door_refresh(struct node *n)
{
	if (kernel_backlog(n) + n->qlen >= (size_t)n->cfg->load_threshold &&
	    n->cfg->load_threshold > 0) {
		n->last_over_ms = uv_now(n->loop);
		n->was_over = 1;
	}
	door_filter(n, door_under_load(n));
}

/* Send ${pkt} to ${to}; the front door never queues a reply. */
static void
door_send(struct node *n, uv_udp_t *udp, const uint8_t *pkt, size_t len,
    const struct sockaddr *to)
{
	uv_buf_t b = uv_buf_init((char *)pkt, (unsigned)len);
	char a[ADDR_STRLEN];
	int rc;

	if ((rc = uv_udp_try_send(udp, &b, 1, to)) < 0 &&
	    door_log_ok(n, DLOG_DROP))
		log_warn("send_failed", "dst=%s err=\"%s\"", addr_str(to, a),
		    uv_strerror(rc));
}

/*
 * Count an INIT or RESUME from ${src} (IP key ${ip}) that the cap ${what}
 * refused; door_tick logs the count once a second.  A client that opens
 * many sessions at once retries the refused ones, so a burst is one line,
 * not a warning per connection.
 */
static void
limit_note(struct node *n, const struct sockaddr *src,
    const uint8_t ip[LIMIT_KEYLEN], const char *what)
{
	struct door_limit_sum *l;
	size_t i;

	for (i = 0; i < n->nlimsum; i++) {
		l = &n->limsum[i];
		if (l->what == what && memcmp(l->ip, ip, LIMIT_KEYLEN) == 0) {
			l->count++;
			return;
		}
	}
	if (n->nlimsum == DOOR_LIMIT_SOURCES) {
		n->limsum_other++;
		return;
	}
	l = &n->limsum[n->nlimsum++];
	memcpy(l->ip, ip, LIMIT_KEYLEN);
	memset(&l->first, 0, sizeof(l->first));
	memcpy(&l->first, src, src->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	l->what = what;
	l->count = 1;
}

/* Log and clear the second's limit_note counts: a line per IP and cap. */
static void
limit_report(struct node *n)
{
	char a[ADDR_STRLEN];

	for (size_t i = 0; i < n->nlimsum; i++) {
		struct door_limit_sum *l = &n->limsum[i];
		int cap = strcmp(l->what, "pending_per_ip") == 0 ?
		    n->cfg->pending_per_ip : strcmp(l->what,
		    "pending_per_ip_port") == 0 ? n->cfg->pending_per_ip_port :
		    n->cfg->max_grants;

		log_warn("limit", "src=%s limit=%s cap=%d count=%llu "
		    "msg=\"refused %llu handshake%s in the last second over "
		    "%s (src: the first); the client retries them\"",
		    addr_str((struct sockaddr *)&l->first, a), l->what, cap,
		    (unsigned long long)l->count, (unsigned long long)l->count,
		    l->count == 1 ? "" : "s", l->what);
	}
	if (n->limsum_other > 0)
		log_warn("limit", "src=- limit=pending count=%llu msg=\"and "
		    "%llu more from other sources\"",
		    (unsigned long long)n->limsum_other,
		    (unsigned long long)n->limsum_other);
	n->nlimsum = 0;
	n->limsum_other = 0;
}

/*
 * The grant caps of seed 002, checked before any DH: per (IP, port) once
 * the IP holds an established session (so many clients behind one NAT keep
 * working), else per IP; and a global cap.  Returns 0 if ${src} may have
 * another pending negotiation.
 */
static int
pending_ok(struct node *n, const struct sockaddr *src)
{
	uint8_t ip[LIMIT_KEYLEN], ipport[LIMIT_KEYLEN];
	const char *what = NULL;

	limit_key(src, 0, 0, ip);
	limit_key(src, 1, 0, ipport);
	if (n->ngrants >= (size_t)n->cfg->max_grants) {
		n->stats.drop_grants_full++;
		what = "max_grants";
	} else if (limit_counts_get(n->established, ip) > 0) {
		if (limit_counts_get(n->pending_ipport, ipport) >=
		    (unsigned)n->cfg->pending_per_ip_port) {
			n->stats.drop_pending_ip_port++;
			what = "pending_per_ip_port";
		}
	} else if (limit_counts_get(n->pending_ip, ip) >=
	    (unsigned)n->cfg->pending_per_ip) {
		n->stats.drop_pending_ip++;
		what = "pending_per_ip";
	}
	if (what != NULL)
		limit_note(n, src, ip, what);
	return what == NULL;
}

/* Seconds between the INIT's TAI64N label and the node's clock. */
static int64_t
clock_offset(const uint8_t ts[WIRE_TAI64N_LEN], uint64_t now)
{
	return (int64_t)(wire_tai64n_unix(ts) - now);
}

/* Milliseconds from TAI64N label ${a} up to the later label ${b}. */
static uint64_t
tai64n_ms_between(const uint8_t a[WIRE_TAI64N_LEN],
    const uint8_t b[WIRE_TAI64N_LEN])
{
	int64_t ns = (int64_t)wire_get32(b + 8) - (int64_t)wire_get32(a + 8);

	return (wire_get64(b) - wire_get64(a)) * 1000 + ns / 1000000;
}

/*
 * hs_node's check_client: 0 if ${pub} is a configured [client]'s key,
 * which it keeps in n->checked so door_init need not scan them again.
 */
static int
client_unknown(void *arg, const uint8_t pub[32])
{
	struct node *n = arg;

	n->checked = cfg_server_client(n->cfg, pub);
	if (n->checked == NULL)
		memcpy(n->offered, pub, 32);   /* public: for the log */
	return n->checked == NULL;
}

void
door_init_name(const struct cfg_client *cl,
    uint8_t name[sizeof(WIRE_STORE_INIT) - 1 + 32])
{
	memcpy(name, WIRE_STORE_INIT, sizeof(WIRE_STORE_INIT) - 1);
	memcpy(name + sizeof(WIRE_STORE_INIT) - 1, cl->public_key, 32);
}

void
door_store_failed(struct node *n, const char *what)
{
	int err = errno;

	if (n->store_failed)
		return;
	n->store_failed = 1;
	log_error("store", "op=%s err=\"%s\" msg=\"the session store failed: "
	    "new sessions go on, but a session whose state it did not take "
	    "ends if the worker restarts, and an INIT replayed after that "
	    "may be answered once\"", what, store_errstr(err));
}

/*
 * Keep ${cl}'s newest INIT timestamp ${ts} in the store too, for
 * 2 x clock_skew (after that, the clock check stops a replay).
 */
static void
remember_ts(struct node *n, const struct cfg_client *cl,
    const uint8_t ts[WIRE_TAI64N_LEN])
{
	uint8_t name[sizeof(WIRE_STORE_INIT) - 1 + 32];

	door_init_name(cl, name);
	if (store_put(n->store, name, sizeof(name), ts, WIRE_TAI64N_LEN,
	    2 * (uint32_t)n->cfg->clock_skew + 1) < 0)
		door_store_failed(n, "put");
	else
		n->store_failed = 0;
}

/*
 * A Diffie-Hellman spent on nothing (a key no [client] has, or a message
 * that does not decrypt): under load, the source gets no handshake for
 * source_penalty seconds.  A configured client never causes either.
 */
static void
penalize(struct node *n, const struct sockaddr *src)
{
	uint8_t key[LIMIT_KEYLEN];

	if (n->cfg->source_penalty == 0)
		return;
	limit_key(src, 0, 1, key);
	limit_sources_penalize(n->sources, key, n->cfg->source_rate,
	    n->cfg->source_burst,
	    (double)n->cfg->source_rate * n->cfg->source_penalty,
	    uv_now(n->loop));
}

/* Handle one queued INIT (size, type, mac1 and mac2 already checked). */
static void
door_init(struct node *n, uv_udp_t *udp, const uint8_t *pkt,
    const struct sockaddr *src)
{
	struct hs_pending *p = NULL;
	struct wire_init init;
	struct wire_resp resp;
	struct session s;
	struct grant *g = NULL;
	const struct cfg_client *cl;
	const struct cfg_service *svc = NULL;
	struct limit_tb *tb;
	uint8_t cpub[32], out[WIRE_RESP_LEN], *ts;
	uint64_t now = (uint64_t)time(NULL);
	char a[ADDR_STRLEN];
	int64_t skew;
	int rate, unknown, in_skew;

	memset(&resp, 0, sizeof(resp));
	memset(&s, 0, sizeof(s));
	if (!pending_ok(n, src))
		goto out;
	n->checked = NULL;
	p = hs_node_read(&n->hs, pkt, WIRE_INIT_LEN, &init, cpub, &unknown);
	if (p == NULL || (cl = n->checked) == NULL) {
		penalize(n, src);
		if (p == NULL && !unknown) {
			n->stats.drop_handshake++;
			if (door_log_ok(n, DLOG_DROP))
				log_info("drop", "reason=handshake src=%s",
				    addr_str(src, a));
		} else {
			char key[64];

			n->stats.drop_unknown_client++;
			if (door_log_ok(n, DLOG_CLIENT))
				log_warn("unknown_client", "src=%s key=%s",
				    addr_str(src, a), crypto_b64_encode(
				    n->offered, sizeof(n->offered), key,
				    sizeof(key)) == 0 ? key : "-");
		}
		goto out;
	}

	/*
	 * Clock first (PROTOCOL.md 4.6 steps 9 to 11): an INIT more than
	 * clock_skew from the node's clock, ahead or behind, gets the CLOCK
	 * answer even if it is older than the newest recorded, so a clock
	 * set back by more than clock_skew is told so rather than met with
	 * silence.  Within clock_skew a timestamp must exceed the newest
	 * recorded for the key; one that does not is a replay or a clock that
	 * stepped back, which look alike on the wire and get no answer.  An
	 * answer costs the key a token of its rate; a silent drop costs none,
	 * so replaying a captured INIT cannot drain the key's bucket.
	 */
	ts = n->last_ts[cl - n->cfg->clients];
	skew = clock_offset(init.timestamp, now);
	in_skew = skew <= n->cfg->clock_skew && skew >= -n->cfg->clock_skew;
	if (in_skew && memcmp(init.timestamp, ts, WIRE_TAI64N_LEN) <= 0) {
		n->stats.drop_replay++;
		if (door_log_ok(n, DLOG_CLIENT))
			log_warn("replay", "src=%s client=%s reason=%s "
			    "behind_ms=%llu", addr_str(src, a), cl->name,
			    memcmp(init.timestamp, ts, WIRE_TAI64N_LEN) == 0 ?
			    "duplicate" : "stepped_back",
			    (unsigned long long)tai64n_ms_between(init.timestamp,
			    ts));
		goto out;
	}

	/* A stolen key must not flood: each key has its own rate. */
	tb = &n->client_tb[cl - n->cfg->clients];
	rate = door_under_load(n) ? n->cfg->client_rate_load :
	    n->cfg->client_rate;
	if (!limit_tb_take(tb, rate, rate, uv_now(n->loop))) {
		n->stats.drop_rate_client++;
		if (door_log_ok(n, DLOG_LIMIT))
			log_warn("limit", "src=%s client=%s limit=client_rate",
			    addr_str(src, a), cl->name);
		goto out;
	}

	if (!in_skew) {
		/*
		 * The client is authenticated, so tell it: its clock is wrong.
		 * The timestamp is not recorded, so a fixed clock works at once.
		 */
		n->stats.drop_skew++;
		resp.status = WIRE_CLOCK;
		resp.node_time = now;
		if (door_log_ok(n, DLOG_CLIENT))
			log_warn("clock_skew", "src=%s client=%s offset_s=%lld",
			    addr_str(src, a), cl->name, (long long)skew);
	} else {
		memcpy(ts, init.timestamp, WIRE_TAI64N_LEN);
		remember_ts(n, cl, ts);
		/*
		 * One answer on the wire for a name that does not exist and
		 * one this key may not use: a key holder cannot list the
		 * services.  The log tells them apart.
		 */
		if ((svc = cfg_server_service(n->cfg, init.service)) == NULL) {
			n->stats.no_service++;
			resp.status = WIRE_DENIED;
			log_clean(init.service);   /* the client's text */
			if (door_log_ok(n, DLOG_CLIENT))
				log_warn("no_service", "src=%s client=%s "
				    "service=\"%s\"", addr_str(src, a),
				    cl->name, init.service);
		} else if (!cfg_client_allows(cl, svc->name)) {
			n->stats.denied_service++;
			resp.status = WIRE_DENIED;
			if (door_log_ok(n, DLOG_CLIENT))
				log_warn("denied", "src=%s client=%s service=%s",
				    addr_str(src, a), cl->name, svc->name);
		} else if ((g = carrier_grant(n, udp, src, cl, svc,
		    hs_pending_grant_key(p)->key, &resp)) == NULL) {
			n->stats.busy++;
			resp.status = WIRE_BUSY;
		}
	}
	resp.client_port = (uint16_t)addr_port(src);
	grant_addr16(src, resp.client_addr);
	if (g != NULL && crypto_random(resp.session_id, sizeof(resp.session_id)))
		goto out;
	if (hs_node_reply(p, cl->has_psk ? cl->psk : NULL, &resp, out, &s)) {
		log_error("reply_failed", "src=%s", addr_str(src, a));
		goto out;
	}
	if (g != NULL) {
		memcpy(s.service, init.service, sizeof(s.service));
		memcpy(s.client_pub, cpub, 32);
		carrier_grant_arm(g, &s);
		g = NULL;
		if (door_log_ok(n, DLOG_SESSION))
			log_info("session_granted", "src=%s client=%s "
			    "service=%s", addr_str(src, a), cl->name,
			    svc->name);
	}
	door_send(n, udp, out, sizeof(out), src);
out:
	if (g != NULL)
		carrier_grant_cancel(g);
	hs_pending_free(p);
	session_wipe(&s);
	crypto_wipe(&resp, sizeof(resp));
}

/*
 * Handle one queued RESUME (size, type, mac1 and mac2 already checked,
 * as for an INIT): the same cap on pending grants per source, then the
 * session's own checks in carrier_resume.  Anything wrong gets silence.
 */
static void
door_resume(struct node *n, uv_udp_t *udp, const uint8_t *pkt,
    const struct sockaddr *src)
{
	uint8_t out[WIRE_RESUMED_LEN];

	if (pending_ok(n, src) &&
	    carrier_resume(n, udp, pkt, src, out) == 0)
		door_send(n, udp, out, sizeof(out), src);
	crypto_wipe(out, sizeof(out));
}

/*
 * Answer an INIT without a valid mac2 with a cookie; return 1 if it had
 * none (so it gets no Diffie-Hellman).  Cookies come out of their own
 * per-source bucket, so a flood from a few sources costs a table lookup a
 * packet, not a reply.
 */
static int
cookie_instead(struct node *n, uv_udp_t *udp, const uint8_t *pkt,
    const struct sockaddr *src)
{
	uint8_t reply[WIRE_COOKIE_LEN], key[LIMIT_KEYLEN];

	if (cookie_mac2_ok(&n->cookie, pkt, WIRE_INIT_LEN, src, uv_now(n->loop)))
		return 0;
	limit_key(src, 0, 1, key);
	if (!limit_sources_take(n->cookie_sources, key, n->cfg->source_rate,
	    n->cfg->source_burst, uv_now(n->loop))) {
		n->stats.drop_rate_cookie++;
		return 1;
	}
	if (cookie_reply(&n->cookie, pkt, src, uv_now(n->loop), reply) == 0) {
		n->stats.cookies_sent++;
		door_send(n, udp, reply, sizeof(reply), src);
	}
	return 1;
}

/*
 * Run a batch of queued handshakes; stop when the queue is empty.  INITs
 * queued before the door came under load are held to the same rule as
 * new ones: without a valid mac2 they get a cookie, not a DH.
 */
static void
door_work(uv_idle_t *idle)
{
	struct node *n = idle->data;

	door_refresh(n);
	for (int i = 0; i < BATCH && n->qlen > 0; i++) {
		struct door_job *j = &n->queue[n->qhead];
		const struct sockaddr *src = (struct sockaddr *)&j->src;

		n->qhead = (n->qhead + 1) % (size_t)n->cfg->handshake_queue;
		n->qlen--;
		if (door_under_load(n) && cookie_instead(n, j->udp, j->pkt, src))
			continue;
		if (j->pkt[0] == WIRE_RESUME)
			door_resume(n, j->udp, j->pkt, src);
		else
			door_init(n, j->udp, j->pkt, src);
	}
	if (n->qlen == 0)
		uv_idle_stop(idle);
}

/* The cheap checks; queue what passes. */
static void
door_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *src, unsigned flags)
{
	struct node *n = udp->data;
	const uint8_t *pkt = (const uint8_t *)buf->base;
	uint8_t key[LIMIT_KEYLEN];
	char a[ADDR_STRLEN];
	struct door_job *j;
	int type;

	/*
	 * nread 0 with no src: nothing read, or the end of an mmsg batch.
	 * nread 0 with a src is an empty datagram: malformed, as below.
	 */
	if (nread < 0 || src == NULL || n->stopping)
		return;
	n->stats.rx_packets++;
	if ((flags & UV_UDP_PARTIAL) ||
	    ((type = wire_packet_type(pkt, (size_t)nread)) != WIRE_INIT &&
	    type != WIRE_RESUME)) {
		n->stats.drop_malformed++;
		if (door_log_ok(n, DLOG_DROP))
			log_info("drop", "reason=malformed src=%s len=%zd",
			    addr_str(src, a), nread);
		return;
	}
	if (!hs_mac1_ok(n->hs.mac1_key, pkt, (size_t)nread)) {
		n->stats.drop_mac1++;
		if (door_log_ok(n, DLOG_DROP))
			log_info("drop", "reason=mac1 src=%s", addr_str(src, a));
		return;
	}
	if (door_under_load(n)) {
		if (cookie_instead(n, udp, pkt, src))
			return;
		limit_key(src, 0, 1, key);
		if (!limit_sources_take(n->sources, key, n->cfg->source_rate,
		    n->cfg->source_burst, uv_now(n->loop))) {
			n->stats.drop_rate_source++;
			if (door_log_ok(n, DLOG_LIMIT))
				log_warn("limit", "src=%s limit=source_rate",
				    addr_str(src, a));
			return;
		}
	}
	if (n->qlen >= (size_t)n->cfg->handshake_queue) {
		n->stats.drop_queue_full++;
		if (door_log_ok(n, DLOG_LIMIT))
			log_warn("limit", "src=%s limit=handshake_queue",
			    addr_str(src, a));
		return;
	}
	j = &n->queue[(n->qhead + n->qlen) % (size_t)n->cfg->handshake_queue];
	n->qlen++;
	(void)door_under_load(n);    /* note the queue length */
	j->udp = udp;
	memcpy(&j->src, src, src->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	memcpy(j->pkt, pkt, WIRE_INIT_LEN);
	uv_idle_start(&n->worker, door_work);
}

/*
 * A short burst should wait in the socket rather than be dropped: a dropped
 * INIT costs its client a 100 ms retry, a queued one costs it the time to
 * drain the queue.  The kernel charges a small datagram about 1 KiB, so
 * DOOR_RCVBUF (doubled by the kernel: 16 MiB) holds some 16000 INITs, under
 * 20 ms of work for the cheap checks: enough to ride out the scheduler
 * taking the CPU away from warrend for a few time slices while a flood
 * goes on.  It is kernel memory, not warrend's, and is only used while
 * packets wait.  With CAP_NET_ADMIN it may exceed net.core.rmem_max;
 * without, privcheck_run said at start that it is capped there.
 */
static void
grow_rcvbuf(uv_udp_t *u)
{
	int size = DOOR_RCVBUF;
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)u, &fd) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* Once a second: say how many packet-path lines were held back. */
static void
door_tick(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t s = n->stats.log_suppressed - n->suppressed_reported;

	door_refresh(n);
	limit_report(n);
	if (s > 0)
		log_warn("log_suppressed", "count=%llu under_load=%d",
		    (unsigned long long)s, door_under_load(n));
	n->suppressed_reported = n->stats.log_suppressed;
}

int
door_start(struct node *n)
{
	char a[ADDR_STRLEN];
	unsigned v6flags = 0;
	int rc;

	if ((n->queue = calloc((size_t)n->cfg->handshake_queue,
	    sizeof(*n->queue))) == NULL ||
	    (n->sources = limit_sources_new()) == NULL ||
	    (n->cookie_sources = limit_sources_new()) == NULL ||
	    (n->pending_ip = limit_counts_new()) == NULL ||
	    (n->pending_ipport = limit_counts_new()) == NULL ||
	    (n->established = limit_counts_new()) == NULL ||
	    (n->client_tb = calloc(n->cfg->nclients ? n->cfg->nclients : 1,
	    sizeof(*n->client_tb))) == NULL ||
	    cookie_node_init(&n->cookie, n->hs.pub, uv_now(n->loop))) {
		log_error("startup", "msg=\"out of memory\"");
		return -1;
	}
	n->hs.check_client = client_unknown;
	n->hs.check_arg = n;
	uv_idle_init(n->loop, &n->worker);
	n->worker.data = n;
	uv_timer_init(n->loop, &n->tick);
	n->tick.data = n;
	uv_timer_start(&n->tick, door_tick, 1000, 1000);
	uv_unref((uv_handle_t *)&n->tick);

	/* With an IPv4 listener too, [::] must not also claim IPv4. */
	for (size_t i = 0; i < n->cfg->nlisten; i++)
		if (n->cfg->listen[i].ss_family == AF_INET)
			v6flags = UV_UDP_IPV6ONLY;
	for (size_t i = 0; i < n->cfg->nlisten; i++) {
		const struct sockaddr *sa = (struct sockaddr *)&n->cfg->listen[i];
		uv_udp_t *u = &n->udp[i];

		uv_udp_init_ex(n->loop, u, AF_UNSPEC | UV_UDP_RECVMMSG);
		u->data = n;
		n->nudp++;
		if ((rc = i < n->nudp_fd ? uv_udp_open(u, n->udp_fd[i]) :
		    uv_udp_bind(u, sa, sa->sa_family == AF_INET6 ?
		    v6flags : 0)) < 0 ||
		    (rc = uv_udp_recv_start(u, door_alloc, door_recv)) < 0) {
			log_error("listen_failed", "msg=\"%s: cannot listen on UDP %s: %s\"",
			    n->cfg->path, addr_str(sa, a), uv_strerror(rc));
			return -1;
		}
		grow_rcvbuf(u);
		log_info("listening", "udp=%s", addr_str(sa, a));
	}
	return 0;
}

void
door_stop(struct node *n)
{
	for (size_t i = 0; i < n->nudp; i++)
		if (!uv_is_closing((uv_handle_t *)&n->udp[i]))
			uv_close((uv_handle_t *)&n->udp[i], NULL);
	if (n->worker.loop != NULL && !uv_is_closing((uv_handle_t *)&n->worker))
		uv_close((uv_handle_t *)&n->worker, NULL);
	if (n->tick.loop != NULL && !uv_is_closing((uv_handle_t *)&n->tick))
		uv_close((uv_handle_t *)&n->tick, NULL);
}
