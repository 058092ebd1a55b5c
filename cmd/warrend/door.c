/*
 * door: warrend's UDP front door.  It answers only a valid INIT from an
 * authorized client key; everything else is dropped without a reply and
 * logged with its source address.  The cheap checks (size, type, mac1) run
 * before any Diffie-Hellman.
 */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "crypto.h"
#include "grant.h"
#include "log.h"
#include "warrend.h"
#include "wire.h"

#define RECV_BUF 2048

static void
door_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static uint8_t slab[RECV_BUF];   /* one datagram at a time */

	*buf = uv_buf_init((char *)slab, sizeof(slab));
}

/* Send ${pkt} to ${to}; the front door never queues more than one try. */
static void
door_send(uv_udp_t *udp, const uint8_t *pkt, size_t len,
    const struct sockaddr *to)
{
	uv_buf_t b = uv_buf_init((char *)pkt, (unsigned)len);
	char a[ADDR_STRLEN];
	int rc;

	if ((rc = uv_udp_try_send(udp, &b, 1, to)) < 0)
		log_warn("send_failed", "dst=%s err=\"%s\"", addr_str(to, a),
		    uv_strerror(rc));
}

/* Handle one INIT whose size and type are right. */
static void
door_init(struct node *n, uv_udp_t *udp, const uint8_t *pkt, size_t len,
    const struct sockaddr *src)
{
	struct hs_pending *p = NULL;
	struct wire_init init;
	struct wire_resp resp;
	struct session s;
	struct grant *g = NULL;
	const struct cfg_client *cl;
	const struct cfg_service *svc = NULL;
	uint8_t cpub[32], out[WIRE_RESP_LEN], *ts;
	char a[ADDR_STRLEN];

	memset(&resp, 0, sizeof(resp));
	memset(&s, 0, sizeof(s));
	if (!hs_mac1_ok(n->hs.mac1_key, pkt, len)) {
		n->stats.drop_mac1++;
		log_info("drop", "reason=mac1 src=%s", addr_str(src, a));
		goto out;
	}
	if ((p = hs_node_read(&n->hs, pkt, len, &init, cpub)) == NULL) {
		n->stats.drop_handshake++;
		log_info("drop", "reason=handshake src=%s", addr_str(src, a));
		goto out;
	}
	if ((cl = cfg_server_client(n->cfg, cpub)) == NULL) {
		n->stats.drop_unknown_client++;
		log_warn("unknown_client", "src=%s", addr_str(src, a));
		goto out;
	}
	/*
	 * Replay: a client's INIT timestamps must increase (TAI64N compares as
	 * bytes).  A captured INIT replayed later gets no answer.
	 */
	ts = n->last_ts[cl - n->cfg->clients];
	if (memcmp(init.timestamp, ts, WIRE_TAI64N_LEN) <= 0) {
		n->stats.drop_replay++;
		log_warn("replay", "src=%s client=%s", addr_str(src, a),
		    cl->name);
		goto out;
	}
	memcpy(ts, init.timestamp, WIRE_TAI64N_LEN);
	if ((svc = cfg_server_service(n->cfg, init.service)) == NULL) {
		n->stats.no_service++;
		resp.status = WIRE_NO_SERVICE;
		log_warn("no_service", "src=%s client=%s service=\"%s\"",
		    addr_str(src, a), cl->name, init.service);
	} else if (!cfg_client_allows(cl, svc->name)) {
		n->stats.denied_service++;
		resp.status = WIRE_DENIED;
		log_warn("denied", "src=%s client=%s service=%s",
		    addr_str(src, a), cl->name, svc->name);
	} else if ((g = carrier_grant(n, udp, src, svc,
	    hs_pending_grant_key(p)->key, &resp)) == NULL) {
		n->stats.busy++;
		resp.status = WIRE_BUSY;
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
		log_info("session_granted", "src=%s client=%s service=%s",
		    addr_str(src, a), cl->name, svc->name);
	}
	door_send(udp, out, sizeof(out), src);
out:
	if (g != NULL)
		carrier_grant_cancel(g);
	hs_pending_free(p);
	session_wipe(&s);
	crypto_wipe(&resp, sizeof(resp));
}

static void
door_recv(uv_udp_t *udp, ssize_t nread, const uv_buf_t *buf,
    const struct sockaddr *src, unsigned flags)
{
	struct node *n = udp->data;
	char a[ADDR_STRLEN];

	if (nread <= 0 || src == NULL)
		return;
	n->stats.rx_packets++;
	if ((flags & UV_UDP_PARTIAL) ||
	    wire_packet_type((uint8_t *)buf->base, (size_t)nread) != WIRE_INIT) {
		n->stats.drop_malformed++;
		log_info("drop", "reason=malformed src=%s len=%zd",
		    addr_str(src, a), nread);
		return;
	}
	door_init(n, udp, (uint8_t *)buf->base, (size_t)nread, src);
}

int
door_start(struct node *n)
{
	char a[ADDR_STRLEN];
	unsigned v6flags = 0;
	int rc;

	/* With an IPv4 listener too, [::] must not also claim IPv4. */
	for (size_t i = 0; i < n->cfg->nlisten; i++)
		if (n->cfg->listen[i].ss_family == AF_INET)
			v6flags = UV_UDP_IPV6ONLY;
	for (size_t i = 0; i < n->cfg->nlisten; i++) {
		const struct sockaddr *sa = (struct sockaddr *)&n->cfg->listen[i];
		uv_udp_t *u = &n->udp[i];

		uv_udp_init(n->loop, u);
		u->data = n;
		n->nudp++;
		if ((rc = uv_udp_bind(u, sa, sa->sa_family == AF_INET6 ?
		    v6flags : 0)) < 0 ||
		    (rc = uv_udp_recv_start(u, door_alloc, door_recv)) < 0) {
			log_error("listen_failed", "msg=\"%s: cannot listen on UDP %s: %s\"",
			    n->cfg->path, addr_str(sa, a), uv_strerror(rc));
			return -1;
		}
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
}
