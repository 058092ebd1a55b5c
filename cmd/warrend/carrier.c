/*
 * carrier: grants (one-shot TCP listeners) and the sessions they start.
 *
 * A grant listens on a port derived from (decoy, window, client address)
 * for the granted client's address only (a socket filter drops everyone
 * else's SYN), for grant_timeout seconds.  The first carrier to prove the
 * session keys consumes it: the listener closes, warrend connects to the
 * backend and the relay takes over.
 *
 * A session outlives its carrier (PROTOCOL.md 14): when the carrier is
 * lost the session is detached and waits up to linger seconds; a RESUME
 * for it (carrier_resume) opens a grant whose carrier, once it proves the
 * resumed keys, replaces the lost one.  The backend connection stays.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "grant.h"
#include "grant_bpf.h"
#include "idmap.h"
#include "log.h"
#include "relay.h"
#include "resume.h"
#include "sockq.h"
#include "store.h"
#include "warrend.h"

#define GRANT_TRIES 16
#define BACKEND_CONNECT_MS 10000   /* a backend that does not answer a SYN */

struct conn;

struct grant {
	struct node *n;
	struct grant *next, **pprev;
	uv_tcp_t *listener;
	int admitted;                /* its port is in n->gbpf's map */
	uv_timer_t timer;
	struct sockaddr_storage client;
	const struct cfg_client *cl;
	const struct cfg_service *svc;
	struct session s;
	int armed, port;
	int held;                    /* counted in n->held and held_by */
	struct conn *pending;        /* a carrier that has not proven yet */
	struct conn *resume;         /* the session this grant resumes */
	struct resume_keys keys;     /* its new carrier's, once answered */
	uint8_t ip[LIMIT_KEYLEN], ipport[LIMIT_KEYLEN];   /* pending counts */
};

/* One accepted carrier and the session it carries. */
struct conn {
	struct node *n;
	struct conn *next, **pprev;  /* in n->conns */
	struct grant *g;             /* while unproven */
	struct relay *r;             /* NULL once ended */
	const struct cfg_service *svc;
	const struct cfg_client *cl;
	int held;                    /* took over its grant's place in n->held */
	uint8_t ip[LIMIT_KEYLEN];    /* in n->established once proven */
	int established;
	uv_tcp_t *backend;           /* ours only while connecting */
	uv_connect_t creq;
	uv_timer_t *ctimer;          /* bounds the connect */
	int connecting, timed_out;
	int started;                 /* the backend connect was started */
	uint64_t start_ms;           /* when the first carrier proved itself */
	char peer[ADDR_STRLEN];
	struct session s;            /* resumption secrets and carrier number */
	uint8_t rid[2][WIRE_RESUME_ID_LEN];   /* its resume ids (PROTOCOL 14) */
	int nrid;
	struct grant *rg;            /* a resume's grant, until it proves */
	uv_timer_t *linger;          /* while detached: the end of linger */
	int kept;                    /* the keeper holds its backend */
};

#define SESSION_NAME_LEN (sizeof(WIRE_STORE_SESSION) - 1 + WIRE_SESSION_ID_LEN)

/* The store key of session ${id}: WIRE_STORE_SESSION || id. */
static void
session_name(const uint8_t *id, uint8_t name[SESSION_NAME_LEN])
{
	memcpy(name, WIRE_STORE_SESSION, sizeof(WIRE_STORE_SESSION) - 1);
	memcpy(name + sizeof(WIRE_STORE_SESSION) - 1, id, WIRE_SESSION_ID_LEN);
}

/*
 * Write ${c}'s session state to the store, for a worker that adopts it
 * after this one dies (warrend(8)): its id, service, client, resumption
 * secrets, carrier number and newest RESUME time.  Not the traffic keys:
 * a resumed carrier gets new ones.  Called whenever they change.
 */
static void
session_save(struct conn *c)
{
	uint8_t name[SESSION_NAME_LEN], blob[SESSION_PACKED_LEN];
	struct session s = c->s;

	if (!c->kept)
		return;
	crypto_wipe(s.key_c2s, sizeof(s.key_c2s));
	crypto_wipe(s.key_s2c, sizeof(s.key_s2c));
	session_pack(&s, blob);
	session_name(c->s.id, name);
	if (store_put(c->n->store, name, sizeof(name), blob, sizeof(blob),
	    STORE_TTL_MAX) < 0)
		door_store_failed(c->n, "put");
	crypto_wipe(blob, sizeof(blob));
	session_wipe(&s);
}

/* ${c}'s session ended: the keeper and the store forget it. */
static void
session_forget(struct conn *c)
{
	uint8_t name[SESSION_NAME_LEN];

	if (!c->kept)
		return;
	c->kept = 0;
	keeper_drop(c->n, c->s.id);
	session_name(c->s.id, name);
	if (store_del(c->n->store, name, sizeof(name)) < 0)
		door_store_failed(c->n, "del");
}

/* The index of ${cl} among ${cfg}'s clients, or -1 if it is not one. */
static ptrdiff_t
client_index(const struct cfg_server *cfg, const struct cfg_client *cl)
{
	uintptr_t p = (uintptr_t)cl, lo = (uintptr_t)cfg->clients;

	if (p < lo || p >= lo + cfg->nclients * sizeof(*cl))
		return -1;
	return (ptrdiff_t)((p - lo) / sizeof(*cl));
}

/*
 * Count one more (${d} = 1) or one fewer (-1) session held by ${cl}.  A
 * session whose client a reload removed still counts in n->held until it
 * ends, but no longer in held_by: ${cl} is then an old config's.
 */
static void
held_add(struct node *n, const struct cfg_client *cl, int d)
{
	ptrdiff_t i = client_index(n->cfg, cl);

	n->held += (size_t)d;
	if (i >= 0)
		n->held_by[i] += (unsigned)d;
}

static void
grant_freed(uv_handle_t *h)
{
	struct grant *g = h->data;

	session_wipe(&g->s);
	crypto_wipe(&g->keys, sizeof(g->keys));
	free(g);
}

/* Close ${g}'s listener, and forget its port in the shared filter. */
static void
grant_unlisten(struct grant *g)
{

	if (g->admitted)
		grant_bpf_release(g->n->gbpf, g->port);
	g->admitted = 0;
	if (g->listener != NULL)
		uv_close((uv_handle_t *)g->listener, (uv_close_cb)free);
	g->listener = NULL;
}

/* Close grant ${g}: listener, timer, list entry. */
static void
grant_close(struct grant *g)
{
	if (g->pprev == NULL)
		return;
	if ((*g->pprev = g->next) != NULL)
		g->next->pprev = g->pprev;
	g->pprev = NULL;
	g->n->ngrants--;
	if (g->held)
		held_add(g->n, g->cl, -1);
	g->held = 0;
	(void)limit_counts_add(g->n->pending_ip, g->ip, -1);
	(void)limit_counts_add(g->n->pending_ipport, g->ipport, -1);
	if (g->pending != NULL)
		g->pending->g = NULL;
	if (g->resume != NULL)
		g->resume->rg = NULL;
	grant_unlisten(g);
	uv_close((uv_handle_t *)&g->timer, grant_freed);
}

static void
grant_expired(uv_timer_t *t)
{
	struct grant *g = t->data;
	char a[ADDR_STRLEN];

	g->n->stats.grants_expired++;
	if (door_log_ok(g->n, DLOG_SESSION))
		log_info("grant_expired", "port=%d src=%s", g->port,
		    addr_str((struct sockaddr *)&g->client, a));
	if (g->resume != NULL && g->listener == NULL)
		return;      /* its carrier came: it proves itself or is lost */
	if (g->pending != NULL && g->pending->r != NULL)
		relay_abort(g->pending->r, WIRE_CLOSE_ERROR, "grant expired");
	grant_close(g);
}

static void
conn_maybe_free(struct conn *c)
{
	if (c->r == NULL && !c->connecting) {
		session_wipe(&c->s);
		free(c);
	}
}

/* Forget the ids under which a RESUME could name ${c}'s session. */
static void
conn_unindex(struct conn *c)
{
	for (int i = 0; i < c->nrid; i++)
		idmap_del(c->n->rids, c->rid[i], c);
	c->nrid = 0;
}

/* Index ${c} under the ids by which a RESUME may name its session now. */
static void
conn_index(struct conn *c)
{
	static const uint8_t zero[WIRE_RESUME_SECRET_LEN];
	int n = 0;

	conn_unindex(c);
	if (resume_id(c->s.resume_secret, c->rid[0]) == 0)
		n = 1;
	if (!crypto_equal(c->s.resume_next, zero, sizeof(zero)) &&
	    resume_id(c->s.resume_next, c->rid[n]) == 0)
		n++;
	for (; c->nrid < n; c->nrid++)
		if (idmap_put(c->n->rids, c->rid[c->nrid], c) != 0) {
			log_error("resume_index", "peer=%s msg=\"out of memory: "
			    "this session cannot resume\"", c->peer);
			break;
		}
}

/* Take ${c} out of its node's list of sessions and of the resume index. */
static void
conn_unlink(struct conn *c)
{
	if ((*c->pprev = c->next) != NULL)
		c->next->pprev = c->pprev;
	conn_unindex(c);
}

/* The live session that resume id ${id} names, or NULL. */
static struct conn *
conn_by_rid(struct node *n, const uint8_t id[WIRE_RESUME_ID_LEN])
{
	struct conn *c = idmap_get(n->rids, id);

	return c != NULL && c->r != NULL && c->started ? c : NULL;
}

/* Stop waiting for a carrier: the session has one again, or ended. */
static void
linger_stop(struct conn *c)
{
	if (c->linger != NULL) {
		uv_close((uv_handle_t *)c->linger, (uv_close_cb)free);
		c->linger = NULL;
		c->n->stats.sessions_detached--;
	}
}

/* A detached session had no carrier for linger seconds: end it. */
static void
on_linger(uv_timer_t *t)
{
	struct conn *c = t->data;
	char text[WIRE_CLOSE_TEXT_MAX];

	snprintf(text, sizeof(text), "no carrier for %d s (linger)",
	    c->n->cfg->linger);
	relay_abort(c->r, WIRE_CLOSE_ERROR, text);
}

/* ${c} is detached: wait linger seconds for a carrier. */
static void
linger_start(struct conn *c)
{
	if (c->linger != NULL || (c->linger = malloc(sizeof(*c->linger))) == NULL)
		return;
	c->n->stats.sessions_detached++;
	uv_timer_init(c->n->loop, c->linger);
	c->linger->data = c;
	uv_timer_start(c->linger, on_linger, (uint64_t)c->n->cfg->linger * 1000,
	    0);
}

/*
 * The carrier of ${c}'s session was lost: keep the session and its backend
 * for linger seconds, for the client to resume.
 */
static void
on_lost(struct relay *r, void *arg, const char *text)
{
	struct conn *c = arg;

	if (door_log_ok(c->n, DLOG_SESSION))
		log_info("carrier_lost", "peer=%s service=%s reason=\"%s\"", c->peer,
		    c->svc->name, text);
	if (c->rg != NULL)
		grant_close(c->rg);   /* a resumed carrier that failed */
	linger_start(c);
}

/*
 * ${c}'s backend failed (${text}) while it had no carrier: its CLOSE waits
 * for the client's resume, and no new worker may adopt it (relay.h).
 */
static void
on_doomed(struct relay *r, void *arg, const char *text)
{
	struct conn *c = arg;

	log_warn("backend_error", "service=%s backend=%s src=%s err=\"%s\" "
	    "msg=\"the session ends when its client resumes\"", c->svc->name,
	    c->svc->connect != NULL ? c->svc->connect : "-", c->peer, text);
	session_forget(c);
}

/* Give up on a backend connect (its callback runs with UV_ECANCELED). */
static void
backend_cancel(struct conn *c)
{
	if (c->backend != NULL && !uv_is_closing((uv_handle_t *)c->backend))
		uv_close((uv_handle_t *)c->backend, (uv_close_cb)free);
}

static void
on_backend_timeout(uv_timer_t *t)
{
	struct conn *c = t->data;

	c->timed_out = 1;
	backend_cancel(c);
}

static void
on_backend(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	uv_tcp_t *backend = (uv_tcp_t *)req->handle;
	char msg[WIRE_CLOSE_TEXT_MAX];

	c->backend = NULL;
	if (c->ctimer != NULL) {
		uv_close((uv_handle_t *)c->ctimer, (uv_close_cb)free);
		c->ctimer = NULL;
	}
	if (c->timed_out)
		status = UV_ETIMEDOUT;
	if (c->r != NULL && status == 0) {
		uv_os_fd_t fd;

		/* Still "connecting" here too: the input that relay_attach
		 * replays can end the session, and on_end must not free c. */
		relay_attach(c->r, (uv_stream_t *)backend, (uv_stream_t *)backend);
		c->connecting = 0;
		if (c->r == NULL) {
			conn_maybe_free(c);
			return;
		}
		if (c->n->keeper >= 0 &&
		    uv_fileno((uv_handle_t *)backend, &fd) == 0) {
			/* The state first: a kept backend without it is lost. */
			c->kept = 1;
			session_save(c);
			keeper_keep(c->n, c->s.id, fd);
		}
		return;
	}
	if (!uv_is_closing((uv_handle_t *)backend))
		uv_close((uv_handle_t *)backend, (uv_close_cb)free);
	if (c->r != NULL) {
		c->n->stats.backend_errors++;
		log_warn("backend_error", "service=%s backend=%s src=%s err=\"%s\"",
		    c->svc->name, c->svc->connect, c->peer, uv_strerror(status));
		snprintf(msg, sizeof(msg), "service %s: backend %s: %s",
		    c->svc->name, c->svc->connect, uv_strerror(status));
		/* Still "connecting", so on_end cannot free c under us. */
		relay_abort(c->r, WIRE_CLOSE_BACKEND, msg);
	}
	c->connecting = 0;
	conn_maybe_free(c);
}

static void
on_proven(struct relay *r, void *arg)
{
	struct conn *c = arg;
	struct grant *g = c->rg;
	int rc;

	if (c->started) {
		/* A resumed carrier proved the keys of its RESUMED. */
		if (g == NULL || relay_carrier(r) != g->keys.carrier) {
			relay_abort(r, WIRE_CLOSE_PROTOCOL, "unexpected carrier");
			return;
		}
		resume_keys_apply(&g->keys, &c->s);
		conn_index(c);
		session_save(c);
		addr_str((struct sockaddr *)&g->client, c->peer);
		c->n->stats.resumes++;
		if (door_log_ok(c->n, DLOG_SESSION))
			log_info("session_resumed", "peer=%s service=%s carrier=%u",
			    c->peer, c->svc->name, (unsigned)c->s.carrier);
		grant_close(g);
		linger_stop(c);
		return;
	}
	c->started = 1;
	c->start_ms = uv_now(c->n->loop);
	conn_index(c);
	relay_set_resumable(r, on_lost, c->n->cfg->dead_busy);
	relay_set_doomed(r, on_doomed);
	if (c->g != NULL) {
		if (door_log_ok(c->n, DLOG_SESSION))
			log_info("carrier_up", "peer=%s port=%d service=%s", c->peer,
			    c->g->port, c->svc->name);
		c->g->pending = NULL;
		c->held = c->g->held;    /* the session keeps the grant's place */
		c->g->held = 0;
		grant_close(c->g);
		c->g = NULL;
	}
	c->n->stats.sessions++;
	c->n->stats.sessions_live++;
	if (limit_counts_add(c->n->established, c->ip, 1) == 0)
		c->established = 1;
	if ((c->backend = malloc(sizeof(*c->backend))) == NULL) {
		relay_abort(r, WIRE_CLOSE_ERROR, "out of memory");
		return;
	}
	uv_tcp_init(c->n->loop, c->backend);
	c->creq.data = c;
	c->connecting = 1;
	if ((c->ctimer = malloc(sizeof(*c->ctimer))) != NULL) {
		uv_timer_init(c->n->loop, c->ctimer);
		c->ctimer->data = c;
		uv_timer_start(c->ctimer, on_backend_timeout, BACKEND_CONNECT_MS,
		    0);
	}
	if ((rc = uv_tcp_connect(&c->creq, c->backend,
	    (struct sockaddr *)&c->svc->connect_addr, on_backend)) < 0) {
		c->creq.handle = (uv_stream_t *)c->backend;
		on_backend(&c->creq, rc);
	}
}

static void
on_end(struct relay *r, void *arg, enum relay_end end, const char *text)
{
	struct conn *c = arg;
	uint64_t sent, received;

	relay_stats(r, &sent, &received);
	if (c->g != NULL) {
		/*
		 * The grant dies with its only carrier: the node's HELLO and
		 * keepalives on it used the session's nonces, which a second
		 * carrier under the same keys would use again.
		 */
		c->n->stats.carriers_rejected++;
		if (door_log_ok(c->n, DLOG_SESSION))
			log_warn("carrier_rejected", "src=%s port=%d reason=\"%s\"",
			    c->peer, c->g->port, text);
		c->g->pending = NULL;
		grant_close(c->g);
		c->g = NULL;
	} else {
		c->n->stats.sessions_live--;
		/*
		 * A clean end (FIN both ways, warrend(8)): say "finished", not
		 * the relay's "closed", which reads like end=closed (a CLOSE).
		 */
		if (end == RELAY_END_DONE)
			text = "finished";
		if (door_log_ok(c->n, DLOG_SESSION))
			log_info("session_end", "peer=%s service=%s end=%s bytes_in=%llu bytes_out=%llu reason=\"%s\"",
			    c->peer, c->svc->name, relay_end_str(end),
			    (unsigned long long)received, (unsigned long long)sent,
			    text);
	}
	conn_unlink(c);
	if (c->established)
		(void)limit_counts_add(c->n->established, c->ip, -1);
	c->established = 0;
	if (c->held)
		held_add(c->n, c->cl, -1);
	c->held = 0;
	if (c->rg != NULL)
		grant_close(c->rg);
	linger_stop(c);
	session_forget(c);
	c->r = NULL;
	backend_cancel(c);    /* the session is over: stop connecting for it */
	conn_maybe_free(c);
}

/*
 * The carrier of resume grant ${g} connected: it replaces the session's
 * carrier at once (the client only resumes when its carrier is gone), and
 * the grant, which accepts no other, waits for its proof (on_proven) or
 * its loss (on_lost).
 */
static void
resume_carrier(struct grant *g, uv_tcp_t *tcp)
{
	struct conn *c = g->resume;
	struct session s = c->s;

	grant_unlisten(g);
	s.carrier = g->keys.carrier;
	memcpy(s.key_c2s, g->keys.key_c2s, sizeof(s.key_c2s));
	memcpy(s.key_s2c, g->keys.key_s2c, sizeof(s.key_s2c));
	(void)relay_resume(c->r, tcp, &s);
	session_wipe(&s);
}

/*
 * Take the shared grant filter off the accepted carrier ${tcp}: it looks
 * the port up in the map, and the port is released when the listener
 * closes (grant_bpf.h).  Returns 0 or -1 (logged).
 */
static int
detach_filter(uv_tcp_t *tcp)
{
	uv_os_fd_t fd;
	int zero = 0;

	if (uv_fileno((uv_handle_t *)tcp, &fd) == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &zero,
	    sizeof(zero)) == 0)
		return 0;
	log_error("grant_filter", "msg=\"cannot detach the grant filter from "
	    "a carrier: %s\"", strerror(errno));
	return -1;
}

/*
 * A connection to a grant's port.  Only the grant's client address may
 * have a carrier here: where the kernel took the grant's socket filter
 * (grant_filter) nobody else gets this far, and where it did not
 * (privcheck_run: grant_filter=accept) this check is the one that holds,
 * so every other connection is reset and counted as a grant_probe.
 */
static void
on_connection(uv_stream_t *server, int status)
{
	struct grant *g = server->data;
	struct sockaddr_storage peer;
	int len = sizeof(peer);
	char a[ADDR_STRLEN];
	uv_tcp_t *tcp;
	struct conn *c;

	if (status < 0 || (tcp = malloc(sizeof(*tcp))) == NULL)
		return;
	uv_tcp_init(g->n->loop, tcp);
	if (uv_accept(server, (uv_stream_t *)tcp) < 0 ||
	    uv_tcp_getpeername(tcp, (struct sockaddr *)&peer, &len) < 0 ||
	    (g->admitted && detach_filter(tcp) < 0)) {
		uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
		return;
	}
	addr_str((struct sockaddr *)&peer, a);
	if (!addr_same_host((struct sockaddr *)&peer,
	    (struct sockaddr *)&g->client) || !g->armed || g->pending != NULL ||
	    (g->resume != NULL && g->resume->r == NULL)) {
		g->n->stats.grant_probes++;
		if (door_log_ok(g->n, DLOG_GRANT))
			log_warn("grant_probe", "src=%s port=%d", a, g->port);
		if (uv_tcp_close_reset(tcp, (uv_close_cb)free) < 0)
			uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
		return;
	}
	if (g->resume != NULL) {
		resume_carrier(g, tcp);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
		return;
	}
	c->n = g->n;
	c->g = g;
	c->svc = g->svc;
	c->cl = g->cl;
	memcpy(c->ip, g->ip, LIMIT_KEYLEN);
	snprintf(c->peer, sizeof(c->peer), "%s", a);
	g->pending = c;
	if ((c->next = g->n->conns) != NULL)
		c->next->pprev = &c->next;
	g->n->conns = c;
	c->pprev = &g->n->conns;
	c->s = g->s;
	c->r = relay_new(g->n->loop, tcp, &g->s, 1, g->n->cfg->keepalive, a,
	    on_proven, on_end, c);
	if (c->r == NULL) {
		g->pending = NULL;
		conn_unlink(c);
		free(c);
		return;
	}
	relay_set_stall(c->r, g->n->cfg->stall_timeout);
}

/*
 * Try to open ${g}'s listener on ${g}->port of ${local} for ${client}, with
 * the source filter: the shared one (n->gbpf) where this worker loaded it,
 * else the classic one where the kernel takes it (privcheck).  Returns 0,
 * or a libuv error (UV_EADDRINUSE if the port is busy).
 */
static int
grant_listen(struct grant *g, struct sockaddr_storage *local,
    const struct sockaddr *client)
{
	struct node *n = g->n;
	uv_tcp_t *t = malloc(sizeof(*t));
	uv_os_fd_t fd;
	int err;

	if (t == NULL)
		return UV_ENOMEM;
	addr_set_port((struct sockaddr *)local, g->port);
	if ((err = uv_tcp_init_ex(n->loop, t, local->ss_family)) < 0) {
		free(t);
		return err;
	}
	g->listener = t;
	if ((err = uv_fileno((uv_handle_t *)t, &fd)) < 0)
		goto fail;
	if (n->gbpf == NULL && n->priv.tcp_filter &&
	    grant_filter(fd, client) < 0) {
		err = -errno;
		goto fail;
	}
	if ((err = uv_tcp_bind(t, (struct sockaddr *)local, 0)) < 0)
		goto fail;
	/* Admitted once bound; a port in use shows at listen (libuv). */
	if (n->gbpf != NULL) {
		if (grant_bpf_admit(n->gbpf, fd, g->port, client) < 0) {
			err = -errno;
			goto fail;
		}
		g->admitted = 1;
	}
	if ((err = uv_listen((uv_stream_t *)t, 4, on_connection)) < 0)
		goto fail;
	return 0;

fail:
	grant_unlisten(g);
	return err;
}

/* Close the unused grants of [client] ${cl} from exactly ${client}. */
static void
grant_supersede(struct node *n, const struct cfg_client *cl,
    const struct sockaddr *client)
{
	struct grant *g, *next;
	char a[ADDR_STRLEN];

	for (g = n->grants; g != NULL; g = next) {
		next = g->next;
		if (g->cl != cl || g->pending != NULL ||
		    !addr_same_host((struct sockaddr *)&g->client, client) ||
		    addr_port((struct sockaddr *)&g->client) != addr_port(client))
			continue;
		n->stats.grants_superseded++;
		if (door_log_ok(n, DLOG_GRANT))
			log_info("grant_superseded", "port=%d src=%s", g->port,
			    addr_str(client, a));
		grant_close(g);
	}
}

/*
 * The session caps, checked before a grant is opened (a pending grant
 * counts, so parallel INITs cannot overshoot): [client] ${cl}'s
 * max_sessions, then the node's sessions_cap.  Returns 1 if ${cl} may
 * have one more; else logs (rate-limited) and returns 0.
 */
static int
held_ok(struct node *n, const struct cfg_client *cl,
    const struct sockaddr *client)
{
	unsigned mine = n->held_by[cl - n->cfg->clients];
	char a[ADDR_STRLEN];

	if (mine >= (unsigned)cl->max_sessions) {
		n->stats.busy_max_sessions++;
		if (door_log_ok(n, DLOG_LIMIT))
			log_warn("busy", "src=%s client=%s cap=max_sessions "
			    "limit=%d held=%u", addr_str(client, a), cl->name,
			    cl->max_sessions, mine);
		return 0;
	}
	if (n->held >= n->sessions_cap) {
		n->stats.busy_global++;
		if (door_log_ok(n, DLOG_LIMIT))
			log_warn("busy", "src=%s client=%s cap=global limit=%zu "
			    "held=%zu fd_limit=%llu", addr_str(client, a),
			    cl->name, n->sessions_cap, n->held,
			    (unsigned long long)n->fd_limit);
		return 0;
	}
	return 1;
}

static struct grant *grant_open(struct node *n, uv_udp_t *udp,
    const struct sockaddr *client, const struct cfg_client *cl,
    const struct cfg_service *svc, const uint8_t grant_key[32],
    struct wire_resp *resp);

struct grant *
carrier_grant(struct node *n, uv_udp_t *udp, const struct sockaddr *client,
    const struct cfg_client *cl, const struct cfg_service *svc,
    const uint8_t grant_key[32], struct wire_resp *resp)
{
	struct grant *g;

	grant_supersede(n, cl, client);
	if (!held_ok(n, cl, client) ||
	    (g = grant_open(n, udp, client, cl, svc, grant_key, resp)) == NULL)
		return NULL;
	held_add(n, cl, 1);
	g->held = 1;
	return g;
}

/*
 * Open a grant for [client] ${cl} at address ${client} on the address of
 * front door ${udp}: the port from ${grant_key} and a fresh decoy, whose
 * fields go into ${resp}.  Returns NULL (after logging) if no port opens.
 */
static struct grant *
grant_open(struct node *n, uv_udp_t *udp, const struct sockaddr *client,
    const struct cfg_client *cl, const struct cfg_service *svc,
    const uint8_t grant_key[32], struct wire_resp *resp)
{
	struct cfg_server *cfg = n->cfg;
	struct sockaddr_storage local;
	int len = sizeof(local), err = 0;
	uint8_t a16[16];
	char a[ADDR_STRLEN];
	struct grant *g;

	if (uv_udp_getsockname(udp, (struct sockaddr *)&local, &len) < 0 ||
	    (g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	g->n = n;
	g->cl = cl;
	g->svc = svc;
	limit_key(client, 0, 0, g->ip);
	limit_key(client, 1, 0, g->ipport);
	memcpy(&g->client, client, client->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
	grant_addr16(client, a16);
	resp->window = (uint32_t)(time(NULL) / GRANT_WINDOW_SECONDS);
	resp->port_lo = (uint16_t)cfg->grant_lo;
	resp->port_hi = (uint16_t)cfg->grant_hi;
	resp->grant_timeout = (uint16_t)cfg->grant_timeout;
	resp->keepalive = (uint16_t)cfg->keepalive;
	for (int i = 0; i < GRANT_TRIES && g->listener == NULL; i++) {
		if (crypto_random((uint8_t *)&resp->decoy, sizeof(resp->decoy)) ||
		    (g->port = grant_port(grant_key, resp->decoy, resp->window,
		    a16, cfg->grant_lo, cfg->grant_hi)) < 0)
			break;
		if ((err = grant_listen(g, &local, client)) != 0 &&
		    err != UV_EADDRINUSE)
			break;
	}
	if (g->listener == NULL) {
		if (door_log_ok(n, DLOG_GRANT))
			log_warn("grant_failed", "src=%s err=\"%s\"",
			    addr_str(client, a), err ? uv_strerror(err) :
			    "no port");
		free(g);
		return NULL;
	}
	g->listener->data = g;
	uv_timer_init(n->loop, &g->timer);
	g->timer.data = g;
	uv_timer_start(&g->timer, grant_expired,
	    (uint64_t)cfg->grant_timeout * 1000, 0);
	if ((g->next = n->grants) != NULL)
		g->next->pprev = &g->next;
	n->grants = g;
	g->pprev = &n->grants;
	n->ngrants++;
	n->stats.grants++;
	if (limit_counts_add(n->pending_ip, g->ip, 1) ||
	    limit_counts_add(n->pending_ipport, g->ipport, 1)) {
		grant_close(g);     /* counts are undone there */
		return NULL;
	}
	if (door_log_ok(n, DLOG_SESSION))
		log_info("grant_open", "port=%d src=%s timeout=%d", g->port,
		    addr_str(client, a), cfg->grant_timeout);
	return g;
}

void
carrier_grant_arm(struct grant *g, const struct session *s)
{
	g->s = *s;
	g->armed = 1;
}

void
carrier_grant_cancel(struct grant *g)
{
	grant_close(g);
}

int
carrier_resume(struct node *n, uv_udp_t *udp, const uint8_t *pkt,
    const struct sockaddr *src, uint8_t out[WIRE_RESUMED_LEN])
{
	uint8_t id[WIRE_RESUME_ID_LEN];
	struct resume_pending *p = NULL;
	struct wire_resume req;
	struct wire_resp resp;
	struct resume_keys keys;
	struct grant *g = NULL;
	struct conn *c = NULL;
	const char *why = NULL;
	char a[ADDR_STRLEN];
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if (resume_peek_id(pkt, WIRE_RESUME_LEN, id))
		why = "malformed";
	else if ((c = conn_by_rid(n, id)) == NULL)
		why = "unknown_session";
	else if ((p = resume_node_read(&c->s, pkt, WIRE_RESUME_LEN,
	    &req)) == NULL)
		why = "handshake";
	else if (resume_node_accept(&c->s, p))
		why = "replay";
	if (why != NULL) {
		n->stats.resume_drops++;
		if (door_log_ok(n, DLOG_DROP))
			log_warn("resume_drop", "reason=%s src=%s", why,
			    addr_str(src, a));
		goto out;
	}
	conn_index(c);           /* accepting may have rotated the secret */
	if (c->rg != NULL)
		grant_close(c->rg);  /* the client moved on from that answer */
	if ((g = grant_open(n, udp, src, c->cl, c->svc,
	    resume_pending_grant_key(p)->key, &resp)) == NULL)
		n->stats.busy++;
	resp.status = g != NULL ? WIRE_OK : WIRE_BUSY;
	resp.client_port = (uint16_t)addr_port(src);
	grant_addr16(src, resp.client_addr);
	memcpy(resp.session_id, c->s.id, sizeof(resp.session_id));
	rc = resume_node_reply(p, &c->s, &resp, out, &keys);
	session_save(c);         /* resume_ts, and the secret it handed out */
	if (rc != 0) {
		log_error("reply_failed", "src=%s", addr_str(src, a));
		goto out;
	}
	conn_index(c);
	if (g != NULL) {
		g->resume = c;
		g->keys = keys;
		g->armed = 1;
		c->rg = g;
		g = NULL;
		if (door_log_ok(n, DLOG_SESSION))
			log_info("resume_granted", "src=%s service=%s carrier=%u",
			    addr_str(src, a), c->svc->name, (unsigned)keys.carrier);
	}
out:
	if (g != NULL)
		grant_close(g);
	resume_pending_free(p);
	crypto_wipe(&keys, sizeof(keys));
	crypto_wipe(&resp, sizeof(resp));
	return rc;
}

int
carrier_adopt(struct node *n, const uint8_t *id, int fd)
{
	uint8_t name[SESSION_NAME_LEN], blob[SESSION_PACKED_LEN];
	const struct cfg_client *cl = NULL;
	const struct cfg_service *svc = NULL;
	struct session s;
	struct sockq q, *qp = NULL;
	uv_os_fd_t bfd;
	struct conn *c = NULL;
	uv_tcp_t *tcp = NULL;
	const char *why = NULL;
	size_t len = 0;
	int rc;

	memset(&s, 0, sizeof(s));
	session_name(id, name);
	if ((rc = store_get(n->store, name, sizeof(name), blob, sizeof(blob),
	    &len)) != 0)
		why = rc == 1 ? "no state in the store" : store_errstr(errno);
	else if (len != sizeof(blob) || session_unpack(blob, &s) ||
	    !crypto_equal(s.id, id, WIRE_SESSION_ID_LEN))
		why = "malformed state in the store";
	for (size_t i = 0; why == NULL && i < n->cfg->nclients; i++)
		if (crypto_equal(n->cfg->clients[i].public_key, s.client_pub, 32))
			cl = &n->cfg->clients[i];
	for (size_t i = 0; why == NULL && i < n->cfg->nservices; i++)
		if (strcmp(n->cfg->services[i].name, s.service) == 0)
			svc = &n->cfg->services[i];
	if (why == NULL && (cl == NULL || svc == NULL))
		why = "its client or service is no longer configured";
	if (why == NULL && ((c = calloc(1, sizeof(*c))) == NULL ||
	    (tcp = malloc(sizeof(*tcp))) == NULL))
		why = "out of memory";
	if (why == NULL) {
		uv_tcp_init(n->loop, tcp);
		if (uv_tcp_open(tcp, fd) < 0) {
			why = "bad backend socket";
			uv_close((uv_handle_t *)tcp, (uv_close_cb)free);
			tcp = NULL;
		} else
			fd = -1;          /* the handle's now */
	}
	if (why != NULL) {
		log_warn("adopt_failed", "session=%02x%02x%02x%02x reason=\"%s\"",
		    id[0], id[1], id[2], id[3], why);
		free(c);
		free(tcp);
		if (fd >= 0)
			(void)close(fd);
		if (rc == 0 && store_del(n->store, name, sizeof(name)) < 0)
			door_store_failed(n, "del");
		session_wipe(&s);
		crypto_wipe(blob, sizeof(blob));
		return -1;
	}
	c->n = n;
	c->svc = svc;
	c->cl = cl;
	c->s = s;
	c->started = 1;
	c->kept = 1;
	c->start_ms = uv_now(n->loop);
	snprintf(c->peer, sizeof(c->peer), "-");
	if ((c->next = n->conns) != NULL)
		c->next->pprev = &c->next;
	n->conns = c;
	c->pprev = &n->conns;
	held_add(n, cl, 1);
	c->held = 1;
	n->stats.sessions_live++;
	conn_index(c);
	if (uv_fileno((uv_handle_t *)tcp, &bfd) == 0 && sockq_get(bfd, &q) == 0)
		qp = &q;
	if ((c->r = relay_adopt(n->loop, tcp, qp, &s, n->cfg->keepalive,
	    c->peer, on_proven, on_end, c)) == NULL) {
		log_warn("adopt_failed", "session=%02x%02x%02x%02x reason=\"the "
		    "backend socket cannot be read back\"", id[0], id[1], id[2],
		    id[3]);
		conn_unlink(c);
		held_add(n, cl, -1);
		n->stats.sessions_live--;
		c->kept = 0;
		if (store_del(n->store, name, sizeof(name)) < 0)
			door_store_failed(n, "del");
		session_wipe(&c->s);
		free(c);
		session_wipe(&s);
		return -1;
	}
	relay_set_stall(c->r, n->cfg->stall_timeout);
	relay_set_resumable(c->r, on_lost, n->cfg->dead_busy);
	relay_set_doomed(c->r, on_doomed);
	if (q.reset)
		on_doomed(c->r, c, "reset while no worker held it");
	linger_start(c);
	if (door_log_ok(n, DLOG_SESSION))
		log_info("session_adopted", "session=%02x%02x%02x%02x client=%s "
		    "service=%s carrier=%u", id[0], id[1], id[2], id[3],
		    cl->name, svc->name, (unsigned)s.carrier);
	session_wipe(&s);
	crypto_wipe(blob, sizeof(blob));
	return 0;
}

char *
carrier_sessions(struct node *n, size_t *len)
{
	FILE *f;
	char *buf = NULL;
	struct conn *c;
	uint64_t now = uv_now(n->loop), in, out;

	if ((f = open_memstream(&buf, len)) == NULL)
		return NULL;
	for (c = n->conns; c != NULL; c = c->next) {
		if (c->r == NULL || !c->started)
			continue;
		relay_stats(c->r, &out, &in);
		fprintf(f, "session id=%02x%02x%02x%02x client=%s service=%s "
		    "peer=%s age_s=%llu idle_s=%llu bytes_in=%llu "
		    "bytes_out=%llu carriers=%u state=%s%s\n", c->s.id[0],
		    c->s.id[1], c->s.id[2], c->s.id[3], c->cl->name,
		    c->svc->name, c->peer,
		    (unsigned long long)(now - c->start_ms) / 1000,
		    (unsigned long long)relay_idle(c->r) / 1000,
		    (unsigned long long)in, (unsigned long long)out,
		    (unsigned)c->s.carrier + 1,
		    c->linger != NULL ? "detached" : c->connecting ?
		    "connecting" : "attached",
		    relay_stalled(c->r) ? " stalled=1" : "");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

size_t
carrier_stalled(struct node *n)
{
	struct conn *c;
	size_t k = 0;

	for (c = n->conns; c != NULL; c = c->next)
		if (c->r != NULL && relay_stalled(c->r))
			k++;
	return k;
}

void
carrier_stop_all(struct node *n)
{
	struct conn *c, *next;

	while (n->grants != NULL)
		grant_close(n->grants);
	for (c = n->conns; c != NULL; c = next) {
		next = c->next;
		relay_abort(c->r, WIRE_CLOSE_ERROR, "node shutting down");
	}
}

size_t
carrier_remap(struct node *n, const struct cfg_server *cfg, unsigned *held_by,
    carrier_remap_fn *remap, void *arg)
{
	const struct cfg_client *cl;
	const struct cfg_service *svc;
	struct conn *c, *cnext;
	struct grant *g, *gnext;
	const char *why;
	size_t ended = 0;

	/* Sessions first: ending one also closes its grants. */
	for (c = n->conns; c != NULL; c = cnext) {
		cnext = c->next;
		if (c->r == NULL)
			continue;
		cl = c->cl;
		svc = c->svc;
		if ((why = remap(arg, &cl, &svc)) != NULL) {
			/* Its old client and service live until it ends. */
			if (c->started)
				ended++;
			relay_abort(c->r, WIRE_CLOSE_ERROR, why);
			continue;
		}
		c->cl = cl;
		c->svc = svc;
		if (c->started) {
			relay_set_stall(c->r, cfg->stall_timeout);
			relay_set_resumable(c->r, on_lost, cfg->dead_busy);
		}
	}
	for (g = n->grants; g != NULL; g = gnext) {
		gnext = g->next;
		cl = g->cl;
		svc = g->svc;
		if ((why = remap(arg, &cl, &svc)) != NULL) {
			if (door_log_ok(n, DLOG_SESSION))
				log_info("grant_closed", "port=%d client=%s "
				    "reason=\"%s\"", g->port, g->cl->name, why);
			grant_close(g);
			continue;
		}
		g->cl = cl;
		g->svc = svc;
	}
	/* What each client of ${cfg} holds now. */
	for (size_t i = 0; i < cfg->nclients; i++)
		held_by[i] = 0;
	for (c = n->conns; c != NULL; c = c->next)
		if (c->r != NULL && c->held && client_index(cfg, c->cl) >= 0)
			held_by[client_index(cfg, c->cl)]++;
	for (g = n->grants; g != NULL; g = g->next)
		if (g->held && client_index(cfg, g->cl) >= 0)
			held_by[client_index(cfg, g->cl)]++;
	return ended;
}

int
carrier_uses(struct node *n, const struct cfg_server *cfg)
{
	uintptr_t clo = (uintptr_t)cfg->clients, slo = (uintptr_t)cfg->services;
	uintptr_t chi = clo + cfg->nclients * sizeof(struct cfg_client);
	uintptr_t shi = slo + cfg->nservices * sizeof(struct cfg_service);
	struct conn *c;
	struct grant *g;

#define IN(p, lo, hi) ((uintptr_t)(p) >= (lo) && (uintptr_t)(p) < (hi))
	for (c = n->conns; c != NULL; c = c->next)
		if (IN(c->cl, clo, chi) || IN(c->svc, slo, shi))
			return 1;
	for (g = n->grants; g != NULL; g = g->next)
		if (IN(g->cl, clo, chi) || IN(g->svc, slo, shi))
			return 1;
#undef IN
	return 0;
}
