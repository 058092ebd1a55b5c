/*
 * cookie: mac2 and cookie replies.
 */
#include <arpa/inet.h>
#include <string.h>

#include "cookie.h"
#include "grant.h"

#define MAC1_OFF (8 + WIRE_INIT_NOISE)
#define MAC2_OFF (MAC1_OFF + WIRE_MACLEN)

/* HMAC-SHA256 of ${len} bytes with ${keylen}-byte ${key}, truncated to 16. */
static int
mac16(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t len,
    uint8_t out[WIRE_MACLEN])
{
	uint8_t full[32];
	const uint8_t *parts[1] = { msg };
	size_t lens[1] = { len };
	int rc;

	rc = crypto_hmac(CRYPTO_SHA256, full, key, keylen, parts, lens, 1);
	memcpy(out, full, WIRE_MACLEN);
	crypto_wipe(full, sizeof(full));
	return rc;
}

/* The cookie of ${src} under ${secret}. */
static int
make_cookie(const uint8_t secret[32], const struct sockaddr *src,
    uint8_t cookie[WIRE_MACLEN])
{
	uint8_t id[18];

	grant_addr16(src, id);
	wire_put16(id + 16, (uint16_t)(src->sa_family == AF_INET6 ?
	    ntohs(((const struct sockaddr_in6 *)src)->sin6_port) :
	    ntohs(((const struct sockaddr_in *)src)->sin_port)));
	return mac16(secret, 32, id, sizeof(id), cookie);
}

/* The key that seals the cookie replies of ${epoch}. */
static int
seal_key(const uint8_t base[32], const uint8_t epoch[8], uint8_t key[32])
{
	const uint8_t *parts[1] = { epoch };
	size_t lens[1] = { 8 };

	return crypto_hmac(CRYPTO_SHA256, key, base, 32, parts, lens, 1);
}

/* Start reply epoch ${epoch} (NULL: a random one) and its sealing context. */
static int
set_epoch(struct cookie_node *c, const uint8_t *epoch)
{
	uint8_t key[32];
	int rc = -1;

	crypto_aead_free(c->aead);
	c->aead = NULL;
	c->counter = 0;
	if (epoch != NULL)
		memcpy(c->epoch, epoch, sizeof(c->epoch));
	if ((epoch != NULL || crypto_random(c->epoch, sizeof(c->epoch)) == 0) &&
	    seal_key(c->seal_key, c->epoch, key) == 0 &&
	    (c->aead = crypto_aead_new(CRYPTO_AESGCM, key)) != NULL)
		rc = 0;
	crypto_wipe(key, sizeof(key));
	return rc;
}

/* Start a reply epoch: a fresh epoch id and its sealing context. */
static int
new_epoch(struct cookie_node *c)
{

	return set_epoch(c, NULL);
}

int
cookie_node_init(struct cookie_node *c, const uint8_t node_pub[32],
    uint64_t now_ms)
{
	const uint8_t *parts[2] = { (const uint8_t *)"cookie--", node_pub };
	size_t lens[2] = { 8, 32 };

	memset(c, 0, sizeof(*c));
	c->rotated_ms = now_ms;
	if (crypto_random(c->secret, sizeof(c->secret)) ||
	    crypto_hash(CRYPTO_SHA256, c->seal_key, parts, lens, 2) ||
	    new_epoch(c))
		return -1;
	return 0;
}

/*
 * Rotate the secret when it is due.  Rotation is lazy (it happens when a
 * cookie is made or checked), so after a long calm spell the old secret is
 * not kept as "previous": a cookie lives at most two periods.
 */
static void
rotate(struct cookie_node *c, uint64_t now_ms)
{
	uint64_t age = now_ms - c->rotated_ms;
	uint8_t fresh[32];

	if (age < WIRE_COOKIE_ROTATE * 1000ULL)
		return;
	if (crypto_random(fresh, sizeof(fresh)) || new_epoch(c))
		return;             /* keep the old secret a little longer */
	memcpy(c->prev, c->secret, 32);
	memcpy(c->secret, fresh, 32);
	crypto_wipe(fresh, sizeof(fresh));
	c->has_prev = age < 2 * WIRE_COOKIE_ROTATE * 1000ULL;
	if (!c->has_prev)
		crypto_wipe(c->prev, sizeof(c->prev));
	c->rotated_ms = now_ms;
}

int
cookie_mac2_ok(struct cookie_node *c, const uint8_t *pkt, size_t len,
    const struct sockaddr *src, uint64_t now_ms)
{
	uint8_t cookie[WIRE_MACLEN], mac[WIRE_MACLEN];
	int ok = 0;

	static const uint8_t none[WIRE_MACLEN];

	/* A client without a cookie sends mac2 zero: nothing to compute. */
	if (len != WIRE_INIT_LEN || memcmp(pkt + MAC2_OFF, none, WIRE_MACLEN) == 0)
		return 0;
	rotate(c, now_ms);
	if (make_cookie(c->secret, src, cookie) == 0 &&
	    mac16(cookie, sizeof(cookie), pkt, MAC2_OFF, mac) == 0)
		ok = crypto_equal(mac, pkt + MAC2_OFF, WIRE_MACLEN);
	if (!ok && c->has_prev && make_cookie(c->prev, src, cookie) == 0 &&
	    mac16(cookie, sizeof(cookie), pkt, MAC2_OFF, mac) == 0)
		ok = crypto_equal(mac, pkt + MAC2_OFF, WIRE_MACLEN);
	crypto_wipe(cookie, sizeof(cookie));
	return ok;
}

int
cookie_reply(struct cookie_node *c, const uint8_t init[WIRE_INIT_LEN],
    const struct sockaddr *src, uint64_t now_ms, uint8_t out[WIRE_COOKIE_LEN])
{
	uint8_t cookie[WIRE_MACLEN];
	int rc = -1;

	rotate(c, now_ms);
	if (c->aead == NULL && new_epoch(c))
		return -1;
	out[0] = WIRE_COOKIE;
	out[1] = WIRE_VERSION;
	out[2] = out[3] = 0;
	memcpy(out + 4, init + 4, 4);
	memcpy(out + 8, c->epoch, 8);
	wire_put64(out + 16, c->counter);
	if (make_cookie(c->secret, src, cookie) ||
	    crypto_aead_seal(c->aead, c->counter, init + MAC1_OFF, WIRE_MACLEN,
	    cookie, sizeof(cookie), out + 24))
		goto out;
	c->counter++;
	rc = 0;
out:
	crypto_wipe(cookie, sizeof(cookie));
	return rc;
}

int
cookie_open(const uint8_t node_pub[32], const uint8_t init[WIRE_INIT_LEN],
    const uint8_t *pkt, size_t len, uint8_t cookie[WIRE_MACLEN])
{
	const uint8_t *parts[2] = { (const uint8_t *)"cookie--", node_pub };
	size_t lens[2] = { 8, 32 };
	uint8_t base[32], key[32];
	struct crypto_aead *a = NULL;
	int rc = -1;

	if (wire_packet_type(pkt, len) != WIRE_COOKIE ||
	    memcmp(pkt + 4, init + 4, 4) != 0)
		return -1;
	if (crypto_hash(CRYPTO_SHA256, base, parts, lens, 2) ||
	    seal_key(base, pkt + 8, key) ||
	    (a = crypto_aead_new(CRYPTO_AESGCM, key)) == NULL ||
	    crypto_aead_open(a, wire_get64(pkt + 16), init + MAC1_OFF,
	    WIRE_MACLEN, pkt + 24, WIRE_MACLEN + CRYPTO_TAGLEN, cookie))
		goto out;
	rc = 0;
out:
	crypto_aead_free(a);
	crypto_wipe(key, sizeof(key));
	return rc;
}

int
cookie_mac2(const uint8_t cookie[WIRE_MACLEN], uint8_t pkt[WIRE_INIT_LEN])
{
	return mac16(cookie, WIRE_MACLEN, pkt, MAC2_OFF, pkt + MAC2_OFF);
}

int
cookie_node_fix(struct cookie_node *c, const uint8_t secret[32],
    const uint8_t epoch[8], uint64_t counter)
{

	memcpy(c->secret, secret, sizeof(c->secret));
	crypto_wipe(c->prev, sizeof(c->prev));
	c->has_prev = 0;
	if (set_epoch(c, epoch))
		return -1;
	c->counter = counter;
	return 0;
}

void
cookie_node_wipe(struct cookie_node *c)
{
	crypto_aead_free(c->aead);
	crypto_wipe(c, sizeof(*c));
}
