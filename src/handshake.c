/*
 * handshake: front-door INIT/RESP over Noise IKpsk2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handshake.h"
#include "noise.h"

#define INIT_MAC1_OFF (8 + WIRE_INIT_NOISE)
#define RESP_MAC1_OFF (12 + WIRE_RESP_NOISE)

struct hs_client {
	struct noise_hs *hs;
	uint32_t sender;
	uint8_t pub[32];             /* our own static public key */
	uint8_t mac1_key[32];        /* keyed by our own public key */
	struct hs_grant_key grant;
};

struct hs_pending {
	struct noise_hs *hs;
	uint32_t client_index;
	uint8_t client_pub[32];
	uint8_t client_mac1_key[32];
	struct hs_grant_key grant;
};

static const uint8_t zero_psk[32];

/*
 * A granted handshake: give ${s} its id, the Split() keys and the
 * resumption secret, exported from the final chaining key with a label of
 * its own (so neither it nor the traffic keys tell anything of the other).
 */
static int
session_start(struct noise_hs *hs, const struct wire_resp *resp,
    const uint8_t client_pub[32], struct session *s)
{
	if (resp->status != WIRE_OK)
		return 0;
	memcpy(s->id, resp->session_id, WIRE_SESSION_ID_LEN);
	memcpy(s->client_pub, client_pub, 32);
	s->carrier = 0;
	crypto_wipe(s->resume_next, sizeof(s->resume_next));
	memset(s->resume_ts, 0, sizeof(s->resume_ts));
	if (noise_hs_export(hs, WIRE_LABEL_RESUME, s->resume_secret))
		return -1;
	return noise_hs_split(hs, s->key_c2s, s->key_s2c);
}

int
hs_mac1_key(const uint8_t pub[32], uint8_t key[32])
{
	const uint8_t *parts[2] = { (const uint8_t *)"mac1----", pub };
	size_t lens[2] = { 8, 32 };

	return crypto_hash(CRYPTO_SHA256, key, parts, lens, 2);
}

/* Compute the mac1 of the first ${off} bytes of ${pkt} into ${mac}. */
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

int
hs_mac1_ok(const uint8_t key[32], const uint8_t *pkt, size_t len)
{
	size_t off = len - 2 * WIRE_MACLEN;
	uint8_t mac[WIRE_MACLEN];

	if (len < 2 * WIRE_MACLEN || mac1_compute(key, pkt, off, mac))
		return 0;
	return crypto_equal(mac, pkt + off, WIRE_MACLEN);
}

int
hs_node_init(struct hs_node *node, const uint8_t priv[32])
{
	memcpy(node->priv, priv, 32);
	node->check_client = NULL;
	node->check_arg = NULL;
	if (crypto_x25519_pub(priv, node->pub) ||
	    hs_mac1_key(node->pub, node->mac1_key) ||
	    (node->key = crypto_x25519_key_new(priv)) == NULL) {
		crypto_wipe(node, sizeof(*node));
		return -1;
	}
	return 0;
}

int
hs_node_remember(struct hs_node *node, const uint8_t peer[32])
{
	return crypto_x25519_key_remember(node->key, peer);
}

void
hs_node_free(struct hs_node *node)
{
	crypto_x25519_key_free(node->key);
	crypto_wipe(node, sizeof(*node));
}

struct hs_client *
hs_client_start(const uint8_t cpriv[32], const uint8_t spub[32],
    const uint8_t *psk, const char *service, uint8_t pkt[WIRE_INIT_LEN])
{
	struct hs_node self;
	struct hs_client *c = NULL;

	/*
	 * A one-off identity without an imported key: the handshake imports
	 * (and owns) its own, since this one is gone when we return.
	 */
	memset(&self, 0, sizeof(self));
	memcpy(self.priv, cpriv, 32);
	if (crypto_x25519_pub(cpriv, self.pub) == 0 &&
	    hs_mac1_key(self.pub, self.mac1_key) == 0)
		c = hs_client_start_as(&self, spub, psk, service, pkt);
	crypto_wipe(&self, sizeof(self));
	return c;
}

struct hs_client *
hs_client_start_as(const struct hs_node *self, const uint8_t spub[32],
    const uint8_t *psk, const char *service, uint8_t pkt[WIRE_INIT_LEN])
{

	return hs_client_start_fixed(self, spub, psk, service, NULL, pkt);
}

struct hs_client *
hs_client_start_fixed(const struct hs_node *self, const uint8_t spub[32],
    const uint8_t *psk, const char *service, const struct hs_fixed *fx,
    uint8_t pkt[WIRE_INIT_LEN])
{
	struct hs_client *c = NULL;
	struct noise_keys keys;
	struct wire_init init;
	uint8_t payload[WIRE_INIT_PAYLOAD], smac1[32];
	struct timespec ts;
	size_t n;

	memset(&keys, 0, sizeof(keys));
	memset(&init, 0, sizeof(init));
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto err;
	keys.has_s = keys.has_s_pub = 1;
	memcpy(keys.s_priv, self->priv, 32);
	memcpy(keys.s_pub, self->pub, 32);
	keys.s_key = self->key;
	keys.has_rs = 1;
	memcpy(keys.rs, spub, 32);
	keys.npsks = 1;
	memcpy(keys.psks[0], psk ? psk : zero_psk, 32);
	if (fx != NULL) {
		keys.has_e = 1;
		memcpy(keys.e_priv, fx->e_priv, 32);
	}
	c->hs = noise_hs_new(NOISE_PROTOCOL, NOISE_INITIATOR,
	    (const uint8_t *)WIRE_PROLOGUE, strlen(WIRE_PROLOGUE), &keys);
	if (c->hs == NULL)
		goto err;
	memcpy(c->mac1_key, self->mac1_key, 32);
	memcpy(c->pub, self->pub, 32);
	if (hs_mac1_key(spub, smac1))
		goto err;
	if (fx != NULL) {
		c->sender = fx->index;
		memcpy(init.timestamp, fx->timestamp, WIRE_TAI64N_LEN);
	} else {
		if (crypto_random((uint8_t *)&c->sender, sizeof(c->sender)))
			goto err;
		clock_gettime(CLOCK_REALTIME, &ts);
		wire_tai64n(init.timestamp, (uint64_t)ts.tv_sec,
		    (uint32_t)ts.tv_nsec);
	}
	snprintf(init.service, sizeof(init.service), "%s", service);
	if (strlen(service) > WIRE_SERVICE_MAX || wire_init_pack(&init, payload))
		goto err;

	pkt[0] = WIRE_INIT;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	wire_put32(pkt + 4, c->sender);
	if (noise_hs_write(c->hs, payload, sizeof(payload), pkt + 8,
	    WIRE_INIT_NOISE, &n) || n != WIRE_INIT_NOISE)
		goto err;
	if (noise_hs_export(c->hs, WIRE_LABEL_GRANT, c->grant.key))
		goto err;
	if (mac1_compute(smac1, pkt, INIT_MAC1_OFF, pkt + INIT_MAC1_OFF))
		goto err;
	memset(pkt + INIT_MAC1_OFF + WIRE_MACLEN, 0, WIRE_MACLEN);
	goto out;
err:
	hs_client_free(c);
	c = NULL;
out:
	crypto_wipe(&keys, sizeof(keys));
	crypto_wipe(payload, sizeof(payload));
	return c;
}

const struct hs_grant_key *
hs_client_grant_key(const struct hs_client *c)
{
	return &c->grant;
}

int
hs_client_finish(struct hs_client *c, const uint8_t *pkt, size_t len,
    struct wire_resp *resp, struct session *s)
{
	uint8_t payload[WIRE_RESP_PAYLOAD];
	struct noise_hs *copy;
	size_t n;
	int rc;

	if (wire_packet_type(pkt, len) != WIRE_RESP ||
	    wire_get32(pkt + 8) != c->sender || !hs_mac1_ok(c->mac1_key, pkt, len))
		return -1;
	/*
	 * mac1 and the receiver index prove nothing (anyone who knows our
	 * public key and sees the INIT can make them), so read the message
	 * with a copy of the handshake: a forgery must not spend the state
	 * that the node's real answer needs (as WireGuard's initiator).
	 */
	if ((copy = noise_hs_dup(c->hs)) == NULL)
		return -1;
	rc = -2;
	if (noise_hs_read(copy, pkt + 12, WIRE_RESP_NOISE, payload,
	    sizeof(payload), &n) || n != WIRE_RESP_PAYLOAD)
		goto out;
	if (wire_resp_parse(payload, resp))
		goto out;
	if (session_start(copy, resp, c->pub, s))
		goto out;
	noise_hs_free(c->hs);
	c->hs = copy;
	copy = NULL;
	rc = 0;
out:
	noise_hs_free(copy);
	crypto_wipe(payload, sizeof(payload));
	return rc;
}

int
hs_client_answers(const struct hs_client *c, const uint8_t *pkt, size_t len,
    uint32_t *index)
{
	if (wire_packet_type(pkt, len) != WIRE_RESP ||
	    !hs_mac1_ok(c->mac1_key, pkt, len))
		return -1;
	*index = wire_get32(pkt + 8);
	return 0;
}

void
hs_client_free(struct hs_client *c)
{
	if (c == NULL)
		return;
	noise_hs_free(c->hs);
	crypto_wipe(c, sizeof(*c));
	free(c);
}

struct hs_pending *
hs_node_read(const struct hs_node *node, const uint8_t *pkt, size_t len,
    struct wire_init *init, uint8_t client_pub[32], int *unknown)
{
	struct hs_pending *p = NULL;
	struct noise_keys keys;
	uint8_t payload[WIRE_INIT_PAYLOAD];
	const uint8_t *rs;
	size_t n;

	memset(&keys, 0, sizeof(keys));
	if (len != WIRE_INIT_LEN || (p = calloc(1, sizeof(*p))) == NULL)
		goto err;
	keys.has_s = keys.has_s_pub = 1;
	memcpy(keys.s_priv, node->priv, 32);
	memcpy(keys.s_pub, node->pub, 32);
	keys.s_key = node->key;
	keys.npsks = 1;   /* zeros until hs_node_reply knows the client */
	keys.rs_check = node->check_client;
	keys.rs_check_arg = node->check_arg;
	if (unknown != NULL)
		*unknown = 0;
	p->hs = noise_hs_new(NOISE_PROTOCOL, NOISE_RESPONDER,
	    (const uint8_t *)WIRE_PROLOGUE, strlen(WIRE_PROLOGUE), &keys);
	if (p->hs == NULL)
		goto err;
	if (noise_hs_read(p->hs, pkt + 8, WIRE_INIT_NOISE, payload,
	    sizeof(payload), &n) || n != WIRE_INIT_PAYLOAD)
		goto err;
	if (wire_init_parse(payload, init))
		goto err;
	if ((rs = noise_hs_remote_static(p->hs)) == NULL)
		goto err;
	memcpy(client_pub, rs, 32);
	memcpy(p->client_pub, rs, 32);
	if (hs_mac1_key(rs, p->client_mac1_key) ||
	    noise_hs_export(p->hs, WIRE_LABEL_GRANT, p->grant.key))
		goto err;
	p->client_index = wire_get32(pkt + 4);
	goto out;
err:
	if (unknown != NULL && p != NULL && p->hs != NULL)
		*unknown = noise_hs_rs_rejected(p->hs);
	hs_pending_free(p);
	p = NULL;
out:
	crypto_wipe(&keys, sizeof(keys));
	crypto_wipe(payload, sizeof(payload));
	return p;
}

const struct hs_grant_key *
hs_pending_grant_key(const struct hs_pending *p)
{
	return &p->grant;
}

int
hs_node_reply(struct hs_pending *p, const uint8_t *psk,
    const struct wire_resp *resp, uint8_t pkt[WIRE_RESP_LEN], struct session *s)
{

	return hs_node_reply_fixed(p, psk, resp, NULL, pkt, s);
}

int
hs_node_reply_fixed(struct hs_pending *p, const uint8_t *psk,
    const struct wire_resp *resp, const struct hs_fixed *fx,
    uint8_t pkt[WIRE_RESP_LEN], struct session *s)
{
	uint8_t payload[WIRE_RESP_PAYLOAD];
	uint32_t index;
	size_t n;
	int rc = -1;

	if (psk != NULL)
		noise_hs_set_psk(p->hs, psk);
	wire_resp_pack(resp, payload);
	if (fx != NULL) {
		index = fx->index;
		if (noise_hs_set_e(p->hs, fx->e_priv))
			goto out;
	} else if (crypto_random((uint8_t *)&index, sizeof(index)))
		goto out;
	pkt[0] = WIRE_RESP;
	pkt[1] = WIRE_VERSION;
	pkt[2] = pkt[3] = 0;
	wire_put32(pkt + 4, index);
	wire_put32(pkt + 8, p->client_index);
	if (noise_hs_write(p->hs, payload, sizeof(payload), pkt + 12,
	    WIRE_RESP_NOISE, &n) || n != WIRE_RESP_NOISE)
		goto out;
	if (mac1_compute(p->client_mac1_key, pkt, RESP_MAC1_OFF,
	    pkt + RESP_MAC1_OFF))
		goto out;
	memset(pkt + RESP_MAC1_OFF + WIRE_MACLEN, 0, WIRE_MACLEN);
	if (session_start(p->hs, resp, p->client_pub, s))
		goto out;
	rc = 0;
out:
	crypto_wipe(payload, sizeof(payload));
	return rc;
}

void
hs_pending_free(struct hs_pending *p)
{
	if (p == NULL)
		return;
	noise_hs_free(p->hs);
	crypto_wipe(p, sizeof(*p));
	free(p);
}
