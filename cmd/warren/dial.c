/*
 * dial: the client's side of the front door and the grant.
 *
 * Tries go to the cluster's nodes round robin, with a growing delay,
 * starting at a node picked at random for a new session (so that the
 * clients of a cluster spread over its nodes) and at the node that carried
 * the session for a resume.  A node whose port is unreachable (ICMP, seen
 * as ECONNREFUSED on its connected socket) leaves the turns at once (the
 * next node is tried then if it has not been yet), and when every node
 * refused the dial ends then, not at its timeout.  Each
 * try sends a fresh INIT (new ephemeral key, index and timestamp, so a node
 * that saw an earlier one never takes a retry for a replay), which
 * supersedes the one in flight to that node.  Each node has its own socket
 * for the whole dial, so the answer to the INIT in flight to any node wins,
 * even after the client has moved on to another node.  An answer to an
 * earlier INIT comes too late to use, but tells the round trip: the client
 * then waits at least twice that long before its next retry, in this dial
 * and in later ones (each session of warren forward).  The whole dial is
 * bounded by the client's "timeout".
 *
 * An answer that fails to authenticate is counted and ignored: its mac1
 * and index prove nothing (anyone on the path can make them), so the dial
 * goes on waiting for the node's real answer.  Only if the timeout comes
 * and such answers were all that came does it report a key mismatch.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "compat.h"
#include "crypto.h"
#include "dial.h"
#include "grant.h"
#include "cookie.h"
#include "handshake.h"
#include "log.h"
#include "resume.h"
#include "wire.h"

#define FIRST_WAIT_MS 100
#define MAX_WAIT_MS 2000
#define SENT_KEEP 8       /* INITs remembered, to recognise late answers */
#define RTT_CLUSTERS 8    /* clusters whose nodes' round trips are learned */

/*
 * Round trips learned per node, so that later dials in this process wait
 * long enough before they retry.  The loop is single-threaded.
 */
static struct {
	const struct cfg_cluster *cl;
	uint32_t ms[CFG_MAXNODES];      /* smoothed round trip, 0: unknown */
} rtts[RTT_CLUSTERS];

/* The learned round trips of ${cl}'s nodes, or NULL if the table is full. */
static uint32_t *
rtt_of(const struct cfg_cluster *cl)
{
	for (size_t i = 0; i < RTT_CLUSTERS; i++) {
		if (rtts[i].cl == NULL)
			rtts[i].cl = cl;
		if (rtts[i].cl == cl)
			return rtts[i].ms;
	}
	return NULL;
}

/* Fold a round trip of ${ms} to node ${i} of ${cl} into its estimate. */
static void
rtt_learn(const struct cfg_cluster *cl, size_t i, uint64_t ms)
{
	uint32_t *rtt = rtt_of(cl);

	if (rtt == NULL)
		return;
	if (ms == 0)
		ms = 1;
	if (ms > 60000)
		ms = 60000;
	rtt[i] = rtt[i] == 0 ? (uint32_t)ms : (uint32_t)((7ULL * rtt[i] + ms) / 8);
}

_Static_assert(CFG_MAXNODES < 32, "dial.unresolved has a bit per node");
_Static_assert(WIRE_RESUME_LEN == WIRE_INIT_LEN, "attempt.init holds both");

/* A resume that fails is tried again by its caller: say so at debug. */
#define FAIL_LEVEL(d) ((d)->rs != NULL ? LOG_DEBUG : LOG_ERROR)

struct dial;

/* One node's side of a dial. */
struct attempt {
	struct dial *d;
	uv_udp_t *udp;               /* opened by the first try to the node */
	struct hs_client *hs;        /* the INIT in flight to it */
	struct resume_client *rc;    /* or the RESUME */
	uint8_t init[WIRE_INIT_LEN]; /* the INIT or RESUME packet */
	uint64_t sent_ms;            /* when it was sent */
	uint8_t cookie[WIRE_MACLEN]; /* from the node, when it is under load */
	int has_cookie;
	uint64_t cookie_ms;
	struct sockaddr_storage addr;
	char peer[ADDR_STRLEN];
	int refused;                 /* its port is unreachable (ICMP) */
};

struct dial {
	uv_loop_t *loop;
	const struct cfg_client_file *cfg;
	const struct hs_node *self;
	const struct cfg_cluster *cl;
	char service[WIRE_SERVICE_MAX + 1];
	dial_cb *cb;
	void *arg;

	struct attempt at[CFG_MAXNODES];
	uv_timer_t timer;
	uint64_t deadline;
	unsigned tries, wait_ms;
	size_t next;                  /* the node the next try goes to */
	size_t granted;               /* the node that granted the carrier */
	int refused;                  /* a node answered with ICMP unreachable */
	unsigned bad;                 /* answers that did not authenticate */
	char bad_peer[ADDR_STRLEN];   /* the node the last of them came from */
	uint32_t unresolved;          /* bit i: node i's name did not resolve */
	struct {                      /* the last INITs sent, oldest first out */
		uint32_t index;
		size_t node;
		uint64_t ms;
	} sent[SENT_KEEP];
	unsigned nsent;
	struct sockaddr_storage node; /* the granted node, then its grant port */
	char peer[ADDR_STRLEN];

	uv_tcp_t *tcp;
	uv_connect_t creq;
	struct session s;
	struct session *rs;           /* the session being resumed (caller's) */
	int keepalive;
	int done, cancelled;
};

static void try_next(struct dial *d);
static void node_refused(struct attempt *a);
static size_t peek_node(const struct dial *d);
static int dial_begin(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    const char *service, struct session *rs, size_t first, dial_cb *cb,
    void *arg, struct dial **dp);
static void send_init(struct attempt *a);
static void on_timer(uv_timer_t *t);
static void late_answer(struct attempt *a, uint32_t index);

static void
dial_freed(uv_handle_t *h)
{
	struct dial *d = h->data;

	session_wipe(&d->s);
	free(d);
}

/* Close the UDP side of the dial: every node's socket and handshake. */
static void
close_udp(struct dial *d)
{
	for (size_t i = 0; i < CFG_MAXNODES; i++) {
		struct attempt *a = &d->at[i];

		if (a->udp != NULL) {
			uv_close((uv_handle_t *)a->udp, (uv_close_cb)free);
			a->udp = NULL;
		}
		hs_client_free(a->hs);
		resume_client_free(a->rc);
		a->rc = NULL;
		a->hs = NULL;
		a->has_cookie = 0;
		crypto_wipe(a->cookie, sizeof(a->cookie));
	}
}

/* Report the result once and release everything. */
static void
finish(struct dial *d, uv_tcp_t *carrier)
{
	if (d->done)
		return;
	d->done = 1;
	close_udp(d);
	uv_timer_stop(&d->timer);
	d->cb(d->arg, carrier, carrier ? &d->s : NULL, d->keepalive, d->peer,
	    carrier ? (int)d->granted : -1);
	uv_close((uv_handle_t *)&d->timer, dial_freed);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct dial *d = req->data;
	uv_tcp_t *tcp = d->tcp;

	d->tcp = NULL;
	uv_timer_stop(&d->timer);
	if (status < 0) {
		if (status == UV_ECANCELED)
			status = UV_ETIMEDOUT;
		if (!d->cancelled)
			log_msg(FAIL_LEVEL(d), "carrier_failed", "peer=%s msg=\"cannot open the carrier to %s: %s\"",
			    d->peer, d->peer, uv_strerror(status));
		if (!uv_is_closing((uv_handle_t *)tcp))
			uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
		finish(d, NULL);
		return;
	}
	finish(d, tcp);
}

/* The carrier did not connect before the deadline: give up on it. */
static void
on_carrier_timeout(uv_timer_t *t)
{
	struct dial *d = t->data;

	if (d->tcp != NULL && !uv_is_closing((uv_handle_t *)d->tcp))
		uv_close((uv_handle_t *)d->tcp, (uv_close_cb)free);
}

/*
 * Node ${a} granted a port: connect to it from the address the INIT used.
 * The other nodes' answers no longer matter (a grant they made expires).
 */
static void
open_carrier(struct attempt *a, const struct wire_resp *resp)
{
	struct dial *d = a->d;
	struct sockaddr_storage local;
	int len = sizeof(local), port, rc;
	uv_os_fd_t fd;

	memcpy(&d->node, &a->addr, sizeof(d->node));
	d->granted = (size_t)(a - d->at);
	snprintf(d->peer, sizeof(d->peer), "%s", a->peer);
	port = grant_port(d->rs != NULL ? resume_client_grant_key(a->rc)->key :
	    hs_client_grant_key(a->hs)->key, resp->decoy,
	    resp->window, resp->client_addr, resp->port_lo, resp->port_hi);
	if (port < 0 || uv_udp_getsockname(a->udp, (struct sockaddr *)&local,
	    &len) < 0) {
		log_msg(FAIL_LEVEL(d), "carrier_failed", "peer=%s msg=\"cannot derive the grant\"",
		    d->peer);
		finish(d, NULL);
		return;
	}
	close_udp(d);
	d->keepalive = resp->keepalive;
	uv_timer_stop(&d->timer);   /* no more INITs */
	addr_set_port((struct sockaddr *)&local, 0);
	addr_set_port((struct sockaddr *)&d->node, port);
	addr_str((struct sockaddr *)&d->node, d->peer);
	if ((d->tcp = malloc(sizeof(*d->tcp))) == NULL) {
		finish(d, NULL);
		return;
	}
	/*
	 * Bind to the address the INIT left from (the node grants that address
	 * only), but let connect() pick the port: a bind to port 0 would search
	 * the whole ephemeral range first.
	 */
	d->creq.data = d;
	if ((rc = uv_tcp_init_ex(d->loop, d->tcp, local.ss_family)) < 0) {
		free(d->tcp);
		d->tcp = NULL;
		finish(d, NULL);
		return;
	}
	if (uv_fileno((uv_handle_t *)d->tcp, &fd) == 0)
		compat_bind_no_port(fd);
	if ((rc = uv_tcp_bind(d->tcp, (struct sockaddr *)&local, 0)) < 0 ||
	    (rc = uv_tcp_connect(&d->creq, d->tcp, (struct sockaddr *)&d->node,
	    on_connect)) < 0) {
		d->creq.data = d;
		on_connect(&d->creq, rc);
		return;
	}
	/* The grant, not the dial timeout, bounds the carrier's connect. */
	uv_timer_start(&d->timer, on_carrier_timeout,
	    (uint64_t)resp->grant_timeout * 1000, 0);
}

/*
 * Turn a RESP status from node ${a} into the user's one-line error.  The
 * node answers DENIED both for a service it does not have and for one this
 * key may not use, so as not to tell a key holder which names exist.
 */
static void
report_status(struct attempt *a, int status)
{
	struct dial *d = a->d;

	if (status == WIRE_DENIED)
		log_error("service_denied", "peer=%s cluster=%s service=%s "
		    "msg=\"service %s does not exist or this client key may not "
		    "use it (see services = in the node's [client] section)\"",
		    a->peer, d->cl->name, d->service, d->service);
	else
		log_error("busy", "peer=%s cluster=%s service=%s msg=\"%s: the "
		    "node is busy: this key's max_sessions or the node's session "
		    "cap is reached, or no grant port is free; try again later\"",
		    a->peer, d->cl->name, d->service, d->service);
}

/* An answer from ${a}'s node to a RESUME (PROTOCOL.md 14). */
static void
resume_recv(struct attempt *a, const uint8_t *pkt, size_t len)
{
	struct dial *d = a->d;
	struct wire_resp resp;
	struct resume_keys keys;
	uint32_t index;
	int rc;

	if (a->rc == NULL)
		return;
	rc = resume_client_finish(a->rc, pkt, len, &resp, &keys);
	if (rc == -1) {
		if (resume_client_answers(a->rc, pkt, len, &index) == 0)
			late_answer(a, index);
		return;
	}
	if (rc == -2) {
		d->bad++;
		snprintf(d->bad_peer, sizeof(d->bad_peer), "%s", a->peer);
		log_debug("bad_answer", "peer=%s count=%u", a->peer, d->bad);
		return;
	}
	rtt_learn(d->cl, (size_t)(a - d->at), uv_now(d->loop) - a->sent_ms);
	if (resp.status != WIRE_OK) {
		log_debug("resume_busy", "peer=%s", a->peer);
		finish(d, NULL);
		return;
	}
	resume_keys_apply(&keys, d->rs);
	d->s = *d->rs;
	open_carrier(a, &resp);
}

static void
udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static uint8_t slab[2048];

	*buf = uv_buf_init((char *)slab, sizeof(slab));
}

static void
udp_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *src, unsigned flags)
{
	struct attempt *a = udp->data;
	struct dial *d = a->d;
	struct wire_resp resp;
	uint8_t cookie[WIRE_MACLEN];
	int rc;

	if (d->done || a->udp != udp || nread == 0)
		return;
	if (nread < 0) {
		d->refused = 1;
		if (nread == UV_ECONNREFUSED && !a->refused)
			node_refused(a);
		return;
	}
	if ((a->hs != NULL || a->rc != NULL) && cookie_open(d->cl->public_key,
	    a->init,
	    (uint8_t *)buf->base, (size_t)nread, cookie) == 0) {
		/*
		 * The node is under load: a fresh INIT with mac2, at once (but
		 * only once a second, should the cookie not be accepted; else
		 * at the next try).
		 */
		int again = !a->has_cookie ||
		    uv_now(d->loop) - a->cookie_ms >= 1000;

		memcpy(a->cookie, cookie, sizeof(cookie));
		crypto_wipe(cookie, sizeof(cookie));
		a->has_cookie = 1;
		a->cookie_ms = uv_now(d->loop);
		log_debug("cookie", "peer=%s", a->peer);
		if (again)
			send_init(a);
		return;
	}
	if (d->rs != NULL) {
		resume_recv(a, (uint8_t *)buf->base, (size_t)nread);
		return;
	}
	if (a->hs == NULL)
		return;
	rc = hs_client_finish(a->hs, (uint8_t *)buf->base, (size_t)nread,
	    &resp, &d->s);
	if (rc == -1) {
		uint32_t index;

		if (hs_client_answers(a->hs, (uint8_t *)buf->base,
		    (size_t)nread, &index) == 0)
			late_answer(a, index);
		return;
	}
	if (rc == -2) {
		/* Forged, or the keys do not match: wait for another answer. */
		d->bad++;
		snprintf(d->bad_peer, sizeof(d->bad_peer), "%s", a->peer);
		log_debug("bad_answer", "peer=%s count=%u", a->peer, d->bad);
		return;
	}
	if (d->bad > 0)
		log_warn("bad_answer", "peer=%s count=%u msg=\"ignored %u answer%s that did not authenticate (forged, or from a node with other keys)\"",
		    d->bad_peer, d->bad, d->bad, d->bad > 1 ? "s" : "");
	rtt_learn(d->cl, (size_t)(a - d->at), uv_now(d->loop) - a->sent_ms);
	if (resp.status == WIRE_CLOCK) {
		int64_t off = (int64_t)((uint64_t)time(NULL) - resp.node_time);

		log_error("clock_skew", "peer=%s offset_s=%lld msg=\"this computer's clock is %lld s %s node %s: fix the time (NTP); warren accepts a small skew only, to stop replays\"",
		    a->peer, (long long)off, (long long)(off < 0 ? -off : off),
		    off < 0 ? "behind" : "ahead of", a->peer);
		finish(d, NULL);
		return;
	}
	if (resp.status != WIRE_OK) {
		report_status(a, resp.status);
		finish(d, NULL);
		return;
	}
	snprintf(d->s.service, sizeof(d->s.service), "%s", d->service);
	open_carrier(a, &resp);
}

static void
on_timer(uv_timer_t *t)
{
	try_next(t->data);
}

/*
 * Send a fresh INIT to ${a}'s node: new ephemeral key, index and
 * timestamp, and mac2 if the node gave us a cookie (it binds our address
 * and port: each node has its own socket for the whole dial).
 */
static void
send_init(struct attempt *a)
{
	struct dial *d = a->d;
	const struct cfg_cluster *cl = d->cl;
	unsigned k = d->nsent % SENT_KEEP;
	uv_buf_t b;
	int rc;

	if (d->rs != NULL) {
		resume_client_free(a->rc);
		if ((a->rc = resume_client_start(d->rs, cl->public_key,
		    a->init)) == NULL)
			return;
	} else {
		hs_client_free(a->hs);
		a->hs = hs_client_start_as(d->self, cl->public_key,
		    cl->has_psk ? cl->psk : NULL, d->service, a->init);
		if (a->hs == NULL)
			return;
	}
	if (a->has_cookie &&
	    uv_now(d->loop) - a->cookie_ms < (WIRE_COOKIE_ROTATE - 10) * 1000ULL &&
	    cookie_mac2(a->cookie, a->init) != 0)
		return;
	b = uv_buf_init((char *)a->init, sizeof(a->init));
	if ((rc = uv_udp_try_send(a->udp, &b, 1, NULL)) < 0) {
		/* The refusal of an earlier INIT, reported on this send. */
		if (rc == UV_ECONNREFUSED) {
			a->refused = 1;
			log_debug("node_refused", "peer=%s", a->peer);
		}
		log_debug("send_failed", "peer=%s", a->peer);
		return;
	}
	log_debug("init_sent", "peer=%s try=%u", a->peer, d->tries);
	a->sent_ms = uv_now(d->loop);
	d->sent[k].index = wire_get32(a->init + 4);
	d->sent[k].node = (size_t)(a - d->at);
	d->sent[k].ms = a->sent_ms;
	d->nsent++;
}

/*
 * A RESP for this client from ${a}'s node that answers an earlier INIT to
 * it than the one in flight: the round trip is longer than the wait was.
 * Learn it, and give the INIT in flight that long (twice) before the next
 * retry.
 */
static void
late_answer(struct attempt *a, uint32_t index)
{
	struct dial *d = a->d;
	size_t node = (size_t)(a - d->at);
	uint64_t now = uv_now(d->loop), rtt, due;
	unsigned k;

	for (k = 0; k < SENT_KEEP && k < d->nsent; k++)
		if (d->sent[k].index == index && d->sent[k].node == node)
			break;
	if (k == SENT_KEEP || k == d->nsent ||
	    index == wire_get32(a->init + 4))
		return;
	rtt = now - d->sent[k].ms;
	rtt_learn(d->cl, node, rtt);
	log_debug("late_answer", "peer=%s rtt_ms=%llu", a->peer,
	    (unsigned long long)rtt);
	due = a->sent_ms + 2 * rtt;
	if (due > d->deadline)
		due = d->deadline;
	if (due > now && due - now > uv_timer_get_due_in(&d->timer))
		uv_timer_start(&d->timer, on_timer, due - now, 0);
}

/* Open node ${i}'s socket for attempt ${a}; 0 or -1 after logging. */
static int
open_udp(struct attempt *a, size_t i)
{
	struct dial *d = a->d;
	const char *spec = d->cl->nodes[i];
	int rc;

	if (addr_parse(spec, 0, &a->addr, &(socklen_t){ 0 }) < 0) {
		/* Said once per node; try_next gives up when none resolves. */
		if ((d->unresolved & (1u << i)) == 0 &&
		    (d->unresolved | (1u << i)) != (1u << d->cl->nnodes) - 1)
			log_warn("bad_node", "node=%s msg=\"%s: cannot resolve node %s\"",
			    spec, d->cfg->path, spec);
		d->unresolved |= 1u << i;
		return -1;
	}
	addr_str((struct sockaddr *)&a->addr, a->peer);
	if ((a->udp = malloc(sizeof(*a->udp))) == NULL)
		return -1;
	uv_udp_init(d->loop, a->udp);
	a->udp->data = a;
	if ((rc = uv_udp_connect(a->udp, (struct sockaddr *)&a->addr)) < 0 ||
	    (rc = uv_udp_recv_start(a->udp, udp_alloc, udp_recv)) < 0) {
		log_msg(d->rs != NULL ? LOG_DEBUG : LOG_WARN, "bad_node",
		    "node=%s msg=\"cannot reach node %s: %s\"",
		    spec, spec, uv_strerror(rc));
		uv_close((uv_handle_t *)a->udp, (uv_close_cb)free);
		a->udp = NULL;
		return -1;
	}
	return 0;
}

/* Every node refused, ${a}'s last: say so and end the dial. */
static void
all_refused(struct attempt *a)
{
	struct dial *d = a->d;
	const struct cfg_cluster *cl = d->cl;

	log_msg(FAIL_LEVEL(d), "refused", "cluster=%s peer=%s msg=\"%s of "
	    "cluster %s refused the handshake (ICMP port unreachable: nothing "
	    "listens on %s): is warrend running there?\"", cl->name, a->peer,
	    cl->nnodes > 1 ? "every node" : "the node", cl->name,
	    cl->nnodes > 1 ? "their ports" : "its port");
	finish(d, NULL);
}

/*
 * The port of ${a}'s node is unreachable (an ICMP port unreachable came
 * back: nothing listens there).  End the dial if every node refused or did
 * not resolve; else go on to the next node now if it has not been tried.
 */
static void
node_refused(struct attempt *a)
{
	struct dial *d = a->d;
	const struct cfg_cluster *cl = d->cl;
	size_t i;

	a->refused = 1;
	log_debug("node_refused", "peer=%s", a->peer);
	for (i = 0; i < cl->nnodes; i++)
		if (!d->at[i].refused && (d->unresolved & (1u << i)) == 0)
			break;
	if (i == cl->nnodes) {
		all_refused(a);
		return;
	}
	/*
	 * Go on now if the next node in turn has no handshake in flight yet.
	 * One that has keeps the retry schedule it had (the refused node's
	 * turns go to it): a try sooner would only replace its INIT in
	 * flight, whose answer may be on its way over a slow path.
	 */
	i = peek_node(d);
	if (d->at[i].hs == NULL && d->at[i].rc == NULL) {
		uv_timer_stop(&d->timer);
		try_next(d);
	}
}

/*
 * The node for the next try: round robin past the nodes that refused (a
 * refused one only if all did).  next_node takes it, peek_node does not.
 */
static size_t
peek_node(const struct dial *d)
{
	size_t n = d->cl->nnodes, i = d->next % n;

	for (size_t k = 0; k < n && d->at[i].refused; k++)
		i = (i + 1) % n;
	return i;
}

static size_t
next_node(struct dial *d)
{
	size_t i = peek_node(d);

	d->next = (i + 1) % d->cl->nnodes;
	return i;
}

/* A fresh INIT to the next node, round robin; give up at the deadline. */
static void
try_next(struct dial *d)
{
	const struct cfg_cluster *cl = d->cl;
	size_t i = next_node(d);
	struct attempt *a = &d->at[i];
	uint64_t now = uv_now(d->loop), wait;
	uint32_t *rtt;

	if (a->refused) {           /* next_node found none that has not */
		all_refused(a);
		return;
	}

	if (now >= d->deadline && d->bad > 0) {
		log_msg(FAIL_LEVEL(d), "key_mismatch", "peer=%s cluster=%s answers=%u msg=\"key mismatch: the node's answer did not authenticate (%u answer%s in %d s, none valid); check the public_key and preshared_key of cluster %s in %s\"",
		    d->bad_peer, cl->name, d->bad, d->bad, d->bad > 1 ? "s" : "",
		    d->cfg->timeout, cl->name, d->cfg->path);
		finish(d, NULL);
		return;
	}
	if (now >= d->deadline) {
		log_msg(FAIL_LEVEL(d), "no_answer", "cluster=%s msg=\"no answer from cluster %s (%s%s) after %d s: %s\"",
		    cl->name, cl->name, cl->nodes[0], cl->nnodes > 1 ? ", ..." : "",
		    d->cfg->timeout, d->refused ?
		    "a node refused the packet: is warrend running there?" :
		    "is warrend running, is the cluster's public_key right, and is this client's key authorized?");
		finish(d, NULL);
		return;
	}
	d->tries++;
	if (a->udp != NULL || open_udp(a, i) == 0)
		send_init(a);
	else if (d->unresolved == (1u << cl->nnodes) - 1) {
		log_msg(FAIL_LEVEL(d), "bad_node", "cluster=%s msg=\"%s: cannot resolve %s %s%s of cluster %s\"",
		    cl->name, d->cfg->path, cl->nnodes > 1 ? "any node" :
		    "node", cl->nodes[0], cl->nnodes > 1 ? ", ..." : "",
		    cl->name);
		finish(d, NULL);
		return;
	}
	/* At least twice the round trip learned for this node, if any. */
	rtt = rtt_of(cl);
	wait = d->wait_ms;
	if (rtt != NULL && 2ULL * rtt[i] > wait)
		wait = 2ULL * rtt[i];
	uv_timer_start(&d->timer, on_timer,
	    wait < d->deadline - now ? wait : d->deadline - now, 0);
	d->wait_ms = d->wait_ms * 2 < MAX_WAIT_MS ? d->wait_ms * 2 : MAX_WAIT_MS;
}

int
dial_start(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    const char *service, dial_cb *cb, void *arg, struct dial **dp)
{
	uint32_t r;

	/* A random first node spreads a cluster's clients over its nodes. */
	if (crypto_random((uint8_t *)&r, sizeof(r)) != 0)
		r = 0;
	return dial_begin(loop, cfg, self, cluster, service, NULL,
	    cluster->nnodes > 0 ? r % cluster->nnodes : 0, cb, arg, dp);
}

int
dial_resume(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    struct session *s, int first, dial_cb *cb, void *arg, struct dial **dp)
{
	return dial_begin(loop, cfg, self, cluster, s->service, s,
	    first >= 0 && (size_t)first < cluster->nnodes ? (size_t)first : 0,
	    cb, arg, dp);
}

/*
 * Start a dial for a new session, or (${rs} not NULL) to resume ${rs},
 * trying node ${first} first.
 */
static int
dial_begin(uv_loop_t *loop, const struct cfg_client_file *cfg,
    const struct hs_node *self, const struct cfg_cluster *cluster,
    const char *service, struct session *rs, size_t first, dial_cb *cb,
    void *arg, struct dial **dp)
{
	struct dial *d;

	if (strlen(service) == 0 || strlen(service) > WIRE_SERVICE_MAX) {
		log_error("usage", "msg=\"service name '%s' must be 1 to %d characters\"",
		    service, WIRE_SERVICE_MAX);
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	*dp = d;
	d->loop = loop;
	d->cfg = cfg;
	d->self = self;
	d->cl = cluster;
	snprintf(d->service, sizeof(d->service), "%s", service);
	d->cb = cb;
	d->arg = arg;
	d->rs = rs;
	d->next = first;
	for (size_t i = 0; i < CFG_MAXNODES; i++)
		d->at[i].d = d;
	d->wait_ms = FIRST_WAIT_MS;
	uv_update_time(loop);
	d->deadline = uv_now(loop) + (uint64_t)cfg->timeout * 1000;
	uv_timer_init(loop, &d->timer);
	d->timer.data = d;
	try_next(d);
	return 0;
}

void
dial_cancel(struct dial *d)
{
	if (d->done || d->cancelled)
		return;
	d->cancelled = 1;
	if (d->tcp != NULL) {
		/* on_connect runs with UV_ECANCELED and finishes the dial. */
		uv_timer_stop(&d->timer);
		if (!uv_is_closing((uv_handle_t *)d->tcp))
			uv_close((uv_handle_t *)d->tcp, (uv_close_cb)free);
		return;
	}
	finish(d, NULL);
}
