/*
 * resume: front-door RESUME/RESUMED over Noise NNpsk0.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noise.h"
#include "resume.h"

#define RESUME_MAC1_OFF (WIRE_RESUME_NOISE_OFF + WIRE_RESUME_NOISE)
#define RESUMED_MAC1_OFF (12 + WIRE_RESUMED_NOISE)
#define PROLOGUE_LEN (sizeof(WIRE_RESUME_PROLOGUE) - 1 + WIRE_RESUME_NOISE_OFF)

/* RESUME shares INIT's length and mac offsets: cookie.c serves both. */
_Static_assert(WIRE_RESUME_LEN == WIRE_INIT_LEN, "RESUME length");
_Static_assert(RESUME_MAC1_OFF == 8 + WIRE_INIT_NOISE, "RESUME mac1");
_Static_assert(WIRE_RESUMED_LEN == WIRE_RESP_LEN, "RESUMED length");

struct resume_client {
	struct noise_hs *hs;
	int dead;                     /* hs failed a read: rebuild it */
	int done;                     /* finished: answers no more */
	uint32_t sender;
	uint32_t carrier;
	uint8_t secret[WIRE_RESUME_SECRET_LEN];
	uint8_t e_priv[32];
	uint8_t payload[WIRE_RESUME_PAYLOAD];
	uint8_t pkt[WIRE_RESUME_LEN];  /* the RESUME as sent, mac2 aside */
	uint8_t mac1_key[32];         /* ours: RESUMED is keyed by C_pub */
	uint8_t session_id[WIRE_SESSION_ID_LEN];
	struct hs_grant_key grant;
};

struct resume_pending {
	struct noise_hs *hs;
	int used_next;                /* made under the session's resume_next */
	int accepted;                 /* resume_node_accept said yes */
	uint32_t client_index;
	uint8_t session_id[WIRE_SESSION_ID_LEN];
	struct wire_resume req;
	struct hs_grant_key grant;
};

static const uint8_t zero_secret[WIRE_RESUME_SECRET_LEN];

int
resume_id(const uint8_t secret[WIRE_RESUME_SECRET_LEN],
    uint8_t id[WIRE_RESUME_ID_LEN])
{
	uint8_t full[32];
	const uint8_t *parts[1] = { (const uint8_t *)WIRE_LABEL_RESUME_ID };
	size_t lens[1] = { sizeof(WIRE_LABEL_RESUME_ID) - 1 };
	int rc;

	rc = crypto_hmac(CRYPTO_SHA256, full, secret, WIRE_RESUME_SECRET_LEN,
	    parts, lens, 1);
	memcpy(id, full, WIRE_RESUME_ID_LEN);
	crypto_wipe(full, sizeof(full));
	return rc;
}

/* trunc16(HMAC(key, the first ${off} bytes of ${pkt})) into ${mac}. */
static int
mac1_compute(const uint8_t key[32], const uint8_t *pkt, size_t off,
    uint8_t mac[WIRE_MACLEN])
{
	uint8_t full[32];
	const uint8_t *parts[1] = { pkt };
	size_t lens[1] = { off };

	if (crypto_hmac(CRYPTO_SHA256, full, key, 32, parts, lens, 1))
		return -1;
	memcpy(mac, full, WIRE_MACLEN);
	return 0;
}

/* The prologue of the resume whose RESUME begins with ${hdr}. */
static void
prologue(const uint8_t hdr[WIRE_RESUME_NOISE_OFF], uint8_t out[PROLOGUE_LEN])
{
	size_t n = sizeof(WIRE_RESUME_PROLOGUE) - 1;

	memcpy(out, WIRE_RESUME_PROLOGUE, n);
	memcpy(out + n, hdr, WIRE_RESUME_NOISE_OFF);
}

/*
 * A Noise NNpsk0 handshake in ${role} with PSK ${secret} for the RESUME
 * beginning with ${hdr}, with the ephemeral ${e_priv} if not NULL.
 */
static struct noise_hs *
new_hs(enum noise_role role, const uint8_t secret[WIRE_RESUME_SECRET_LEN],
    const uint8_t hdr[WIRE_RESUME_NOISE_OFF], const uint8_t *e_priv)
{
	struct noise_keys keys;
	struct noise_hs *hs;
	uint8_t pro[PROLOGUE_LEN];

	memset(&keys, 0, sizeof(keys));
	keys.npsks = 1;
	memcpy(keys.psks[0], secret, WIRE_RESUME_SECRET_LEN);
	if (e_priv != NULL) {
		keys.has_e = 1;
		memcpy(keys.e_priv, e_priv, 32);
	}
	prologue(hdr, pro);
	hs = noise_hs_new(WIRE_RESUME_PROTOCOL, role, pro, sizeof(pro), &keys);
	crypto_wipe(&keys, sizeof(keys));
	return hs;
}

/*
 * (Re)build ${rc}'s handshake as it stood after message 1: the same
 * ephemeral and payload give the same message, which must equal the one
 * sent.  A read that fails kills a Noise handshake; this is how the
 * client keeps waiting after a forged RESUMED.
 */
static int
client_hs(struct resume_client *rc, uint8_t msg[WIRE_RESUME_NOISE])
{
	size_t n;

	noise_hs_free(rc->hs);
	rc->dead = 1;
	if ((rc->hs = new_hs(NOISE_INITIATOR, rc->secret, rc->pkt,
	    rc->e_priv)) == NULL)
		return -1;
	if (noise_hs_write(rc->hs, rc->payload, sizeof(rc->payload), msg,
	    WIRE_RESUME_NOISE, &n) || n != WIRE_RESUME_NOISE)
		return -1;
	rc->dead = 0;
	return 0;
}

/* Set ${ts} to the clock's TAI64N, or to ${last} + 1 ns if that is later. */
static void
next_timestamp(const uint8_t last[WIRE_TAI64N_LEN],
    uint8_t ts[WIRE_TAI64N_LEN])
{
	struct timespec now;
	uint64_t sec;
	uint32_t nsec;

	clock_gettime(CLOCK_REALTIME, &now);
	wire_tai64n(ts, (uint64_t)now.tv_sec, (uint32_t)now.tv_nsec);
	if (memcmp(ts, last, WIRE_TAI64N_LEN) > 0)
		return;
	sec = wire_get64(last);
	nsec = wire_get32(last + 8) + 1;
	if (nsec >= 1000000000) {
		sec++;
		nsec = 0;
	}
	wire_put64(ts, sec);
	wire_put32(ts + 8, nsec);
}

/* resume_client_start with the ephemeral ${e_priv}, random if NULL. */
static struct resume_client *
client_start(struct session *s, const uint8_t node_pub[32],
    const uint8_t *e_priv, uint8_t pkt[WIRE_RESUME_LEN])
{
	struct resume_client *rc = NULL;
	struct wire_resume req;
	uint8_t smac1[32], id[WIRE_RESUME_ID_LEN];

	memset(&req, 0, sizeof(req));
	if (s->carrier == UINT32_MAX || (rc = calloc(1, sizeof(*rc))) == NULL)
		goto err;
	memcpy(rc->secret, s->resume_secret, sizeof(rc->secret));
	memcpy(rc->session_id, s->id, sizeof(rc->session_id));
	rc->carrier = s->carrier + 1;
	if (e_priv != NULL)
		memcpy(rc->e_priv, e_priv, 32);
	else if (crypto_random(rc->e_priv, sizeof(rc->e_priv)))
		goto err;
	if (crypto_random((uint8_t *)&rc->sender, sizeof(rc->sender)) ||
	    resume_id(rc->secret, id) ||
	    hs_mac1_key(s->client_pub, rc->mac1_key) ||
	    hs_mac1_key(node_pub, smac1))
		goto err;

	next_timestamp(s->resume_ts, req.timestamp);
	req.carrier = rc->carrier;
	wire_resume_pack(&req, rc->payload);

	rc->pkt[0] = WIRE_RESUME;
	rc->pkt[1] = WIRE_VERSION;
	rc->pkt[2] = rc->pkt[3] = 0;
	wire_put32(rc->pkt + 4, rc->sender);
	memcpy(rc->pkt + WIRE_RESUME_ID_OFF, id, WIRE_RESUME_ID_LEN);
	if (client_hs(rc, rc->pkt + WIRE_RESUME_NOISE_OFF))
		goto err;
	if (noise_hs_export(rc->hs, WIRE_LABEL_GRANT, rc->grant.key))
		goto err;
	if (mac1_compute(smac1, rc->pkt, RESUME_MAC1_OFF,
	    rc->pkt + RESUME_MAC1_OFF))
		goto err;
	memset(rc->pkt + RESUME_MAC1_OFF + WIRE_MACLEN, 0, WIRE_MACLEN);
	memcpy(pkt, rc->pkt, WIRE_RESUME_LEN);
	memcpy(s->resume_ts, req.timestamp, WIRE_TAI64N_LEN);
	goto out;
err:
	resume_client_free(rc);
	rc = NULL;
out:
	crypto_wipe(&req, sizeof(req));
	return rc;
}

struct resume_client *
resume_client_start(struct session *s, const uint8_t node_pub[32],
    uint8_t pkt[WIRE_RESUME_LEN])
{
	return client_start(s, node_pub, NULL, pkt);
}

struct resume_client *
resume_client_start_fixed(struct session *s, const uint8_t node_pub[32],
    const uint8_t e_priv[32], uint8_t pkt[WIRE_RESUME_LEN])
{
	return client_start(s, node_pub, e_priv, pkt);
}

const struct hs_grant_key *
resume_client_grant_key(const struct resume_client *rc)
{
	return &rc->grant;
}

/* 1 if ${pkt} is a RESUMED addressed to ${rc}'s client: mac1, mac2 zero. */
static int
resumed_for_us(const struct resume_client *rc, const uint8_t *pkt, size_t len)
{
	static const uint8_t none[WIRE_MACLEN];

	return wire_packet_type(pkt, len) == WIRE_RESUMED &&
	    memcmp(pkt + RESUMED_MAC1_OFF + WIRE_MACLEN, none,
	    WIRE_MACLEN) == 0 && hs_mac1_ok(rc->mac1_key, pkt, len);
}

int
resume_client_finish(struct resume_client *rc, const uint8_t *pkt,
    size_t len, struct wire_resp *resp, struct resume_keys *keys)
{
	uint8_t payload[WIRE_RESP_PAYLOAD], msg[WIRE_RESUME_NOISE];
	size_t n;
	int rc2;

	if (rc->done || !resumed_for_us(rc, pkt, len) ||
	    wire_get32(pkt + 8) != rc->sender)
		return -1;
	rc2 = -2;
	if (rc->dead && (client_hs(rc, msg) || !crypto_equal(msg,
	    rc->pkt + WIRE_RESUME_NOISE_OFF, sizeof(msg)))) {
		rc->dead = 1;
		goto out;
	}
	rc->dead = 1;   /* a read, good or bad, uses the state up */
	if (noise_hs_read(rc->hs, pkt + 12, WIRE_RESUMED_NOISE, payload,
	    sizeof(payload), &n) || n != WIRE_RESP_PAYLOAD)
		goto out;
	if (wire_resp_parse(payload, resp) ||
	    (resp->status != WIRE_OK && resp->status != WIRE_BUSY))
		goto out;
	if (resp->status == WIRE_OK) {
		if (!crypto_equal(resp->session_id, rc->session_id,
		    WIRE_SESSION_ID_LEN))
			goto out;
		if (noise_hs_export(rc->hs, WIRE_LABEL_RESUME,
		    keys->next_secret) ||
		    noise_hs_split(rc->hs, keys->key_c2s, keys->key_s2c)) {
			crypto_wipe(keys, sizeof(*keys));
			goto out;
		}
		keys->carrier = rc->carrier;
	}
	rc->done = 1;
	rc2 = 0;
out:
	crypto_wipe(payload, sizeof(payload));
	crypto_wipe(msg, sizeof(msg));
	return rc2;
}

int
resume_client_answers(const struct resume_client *rc, const uint8_t *pkt,
    size_t len, uint32_t *index)
{
	if (!resumed_for_us(rc, pkt, len))
		return -1;
	*index = wire_get32(pkt + 8);
	return 0;
}

void
resume_client_free(struct resume_client *rc)
{
	if (rc == NULL)
		return;
	noise_hs_free(rc->hs);
	crypto_wipe(rc, sizeof(*rc));
	free(rc);
}

int
resume_peek_id(const uint8_t *pkt, size_t len, uint8_t id[WIRE_RESUME_ID_LEN])
{
	if (wire_packet_type(pkt, len) != WIRE_RESUME)
		return -1;
	memcpy(id, pkt + WIRE_RESUME_ID_OFF, WIRE_RESUME_ID_LEN);
	return 0;
}

/* resume_node_read with the node's ephemeral ${e_priv}, random if NULL. */
static struct resume_pending *
node_read(const struct session *s, const uint8_t *pkt, size_t len,
    const uint8_t *e_priv, struct wire_resume *req)
{
	struct resume_pending *p = NULL;
	uint8_t id[WIRE_RESUME_ID_LEN], payload[WIRE_RESUME_PAYLOAD];
	const uint8_t *secret = NULL;
	int cur, next = 0;
	size_t n;

	if (wire_packet_type(pkt, len) != WIRE_RESUME ||
	    (p = calloc(1, sizeof(*p))) == NULL)
		goto err;
	/* A session without a secret (all zero) cannot be resumed. */
	if (crypto_equal(s->resume_secret, zero_secret, sizeof(zero_secret)) ||
	    resume_id(s->resume_secret, id))
		goto err;
	cur = crypto_equal(id, pkt + WIRE_RESUME_ID_OFF, WIRE_RESUME_ID_LEN);
	if (!crypto_equal(s->resume_next, zero_secret, sizeof(zero_secret))) {
		if (resume_id(s->resume_next, id))
			goto err;
		next = crypto_equal(id, pkt + WIRE_RESUME_ID_OFF,
		    WIRE_RESUME_ID_LEN);
	}
	if (cur)
		secret = s->resume_secret;
	else if (next)
		secret = s->resume_next;
	else
		goto err;
	p->used_next = !cur;
	if ((p->hs = new_hs(NOISE_RESPONDER, secret, pkt, e_priv)) == NULL)
		goto err;
	if (noise_hs_read(p->hs, pkt + WIRE_RESUME_NOISE_OFF,
	    WIRE_RESUME_NOISE, payload, sizeof(payload), &n) ||
	    n != WIRE_RESUME_PAYLOAD)
		goto err;
	if (wire_resume_parse(payload, &p->req) || p->req.carrier <= s->carrier)
		goto err;
	if (noise_hs_export(p->hs, WIRE_LABEL_GRANT, p->grant.key))
		goto err;
	p->client_index = wire_get32(pkt + 4);
	memcpy(p->session_id, s->id, WIRE_SESSION_ID_LEN);
	*req = p->req;
	goto out;
err:
	resume_pending_free(p);
	p = NULL;
out:
	crypto_wipe(payload, sizeof(payload));
	return p;
}

struct resume_pending *
resume_node_read(const struct session *s, const uint8_t *pkt, size_t len,
    struct wire_resume *req)
{
	return node_read(s, pkt, len, NULL, req);
}

struct resume_pending *
resume_node_read_fixed(const struct session *s, const uint8_t *pkt,
    size_t len, const uint8_t e_priv[32], struct wire_resume *req)
{
	return node_read(s, pkt, len, e_priv, req);
}

int
resume_node_accept(struct session *s, struct resume_pending *p)
{
	if (p->accepted ||
	    !crypto_equal(p->session_id, s->id, WIRE_SESSION_ID_LEN) ||
	    memcmp(p->req.timestamp, s->resume_ts, WIRE_TAI64N_LEN) <= 0)
		return -1;
	memcpy(s->resume_ts, p->req.timestamp, WIRE_TAI64N_LEN);
	if (p->used_next) {
		memcpy(s->resume_secret, s->resume_next,
		    WIRE_RESUME_SECRET_LEN);
		crypto_wipe(s->resume_next, sizeof(s->resume_next));
	}
	p->accepted = 1;
	return 0;
}

const struct hs_grant_key *
resume_pending_grant_key(const struct resume_pending *p)
{
	return &p->grant;
}

int
resume_node_reply(struct resume_pending *p, struct session *s,
    const struct wire_resp *resp, uint8_t pkt[WIRE_RESUMED_LEN],
    struct resume_keys *keys)
{
	uint8_t payload[WIRE_RESP_PAYLOAD], cmac1[32];
	struct resume_keys k;
	uint32_t index;
	size_t n;
	int rc = -1;

	memset(&k, 0, sizeof(k));
	if (!p->accepted || p->hs == NULL ||
	    !crypto_equal(p->session_id, s->id, WIRE_SESSION_ID_LEN))
		goto out;
	if (resp->status != WIRE_OK && resp->status != WIRE_BUSY)
		goto out;
	if (resp->status == WIRE_OK && !crypto_equal(resp->session_id, s->id,
	    WIRE_SESSION_ID_LEN))
		goto out;
	wire_resp_pack(resp, payload);
	if (crypto_random((uint8_t *)&index, sizeof(index)) ||
	    hs_mac1_key(s->client_pub, cmac1))
		goto out;
	pkt[0] = WIRE_RESUMED;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	wire_put32(pkt + 4, index);
	wire_put32(pkt + 8, p->client_index);
	if (noise_hs_write(p->hs, payload, sizeof(payload), pkt + 12,
	    WIRE_RESUMED_NOISE, &n) || n != WIRE_RESUMED_NOISE)
		goto out;
	if (mac1_compute(cmac1, pkt, RESUMED_MAC1_OFF, pkt + RESUMED_MAC1_OFF))
		goto out;
	memset(pkt + RESUMED_MAC1_OFF + WIRE_MACLEN, 0, WIRE_MACLEN);
	if (resp->status == WIRE_OK) {
		if (noise_hs_export(p->hs, WIRE_LABEL_RESUME, k.next_secret) ||
		    noise_hs_split(p->hs, k.key_c2s, k.key_s2c))
			goto out;
		k.carrier = p->req.carrier;
		memcpy(s->resume_next, k.next_secret, WIRE_RESUME_SECRET_LEN);
		*keys = k;
	}
	rc = 0;
out:
	/* Spent either way: a second reply would reuse the ephemeral. */
	noise_hs_free(p->hs);
	p->hs = NULL;
	crypto_wipe(&k, sizeof(k));
	crypto_wipe(payload, sizeof(payload));
	return rc;
}

void
resume_pending_free(struct resume_pending *p)
{
	if (p == NULL)
		return;
	noise_hs_free(p->hs);
	crypto_wipe(p, sizeof(*p));
	free(p);
}

void
resume_keys_apply(struct resume_keys *keys, struct session *s)
{
	memcpy(s->key_c2s, keys->key_c2s, CRYPTO_KEYLEN);
	memcpy(s->key_s2c, keys->key_s2c, CRYPTO_KEYLEN);
	memcpy(s->resume_secret, keys->next_secret, WIRE_RESUME_SECRET_LEN);
	crypto_wipe(s->resume_next, sizeof(s->resume_next));
	s->carrier = keys->carrier;
	crypto_wipe(keys, sizeof(*keys));
}
