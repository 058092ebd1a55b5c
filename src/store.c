/*
 * store: the front of the session store.  Parses the spec, derives the
 * sealing key, seals and opens values, and applies expiry; the backends
 * only keep bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "store.h"
#include "store_backend.h"
#include "wire.h"

struct store {
	struct store_backend *be;
	uint8_t key[CRYPTO_KEYLEN];     /* K of docs/STORE.md */
	uint64_t (*now)(void *);
	void *now_arg;
	uint8_t *buf;                   /* one sealed value, for store_put */
	size_t bufcap;
};

/* What a look at a stored value wants and gets (store_take, store_get). */
struct look {
	struct store *st;
	const uint8_t *name;
	size_t namelen;
	uint64_t now;
	int take;               /* delete the value once it opens */
	uint8_t *out;
	size_t outcap;
	size_t outlen;
	int err;                /* errno when returning -1 */
};

/* Write ${x} big-endian into ${p}. */
static void
put64(uint8_t *p, uint64_t x)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)x;
		x >>= 8;
	}
}

/* Read a big-endian u64 at ${p}. */
static uint64_t
get64(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++)
		x = (x << 8) | p[i];
	return (x);
}

/* The system's real-time clock in Unix seconds. */
static uint64_t
sysnow(void *arg)
{
	struct timespec ts;

	(void)arg;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
		return (0);
	return ((uint64_t)ts.tv_sec);
}

/* The store's idea of now. */
static uint64_t
now_of(struct store *st)
{

	return (st->now(st->now_arg));
}

/* Derive into ${vkey} the key for one value with salt ${salt}. */
static int
value_key(struct store *st, const uint8_t salt[WIRE_STORE_SALTLEN],
    uint8_t vkey[CRYPTO_KEYLEN])
{

	return (crypto_hkdf(CRYPTO_SHA256, st->key, salt, WIRE_STORE_SALTLEN,
	    vkey, NULL, NULL));
}

/* Check ${name} of ${namelen} bytes. */
static int
name_ok(const uint8_t *name, size_t namelen)
{

	return (name != NULL && namelen >= 1 && namelen <= STORE_NAME_MAX);
}

/* Write into ${ad} the associated data of a value: header || name. */
static size_t
make_ad(const uint8_t *hdr, const uint8_t *name, size_t namelen,
    uint8_t ad[WIRE_STORE_HDR + STORE_NAME_MAX])
{

	memcpy(ad, hdr, WIRE_STORE_HDR);
	memcpy(ad + WIRE_STORE_HDR, name, namelen);
	return (WIRE_STORE_HDR + namelen);
}

int
store_seal(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *val, size_t vallen, uint64_t expiry, uint8_t *out,
    size_t outcap)
{
	uint8_t vkey[CRYPTO_KEYLEN];
	uint8_t ad[WIRE_STORE_HDR + STORE_NAME_MAX];
	struct crypto_aead *a = NULL;
	size_t adlen;
	int rc = -1;

	if (!name_ok(name, namelen) || vallen > STORE_VAL_MAX ||
	    (val == NULL && vallen > 0)) {
		errno = EINVAL;
		goto out;
	}
	if (outcap < vallen + WIRE_STORE_OVERHEAD) {
		errno = ENOBUFS;
		goto out;
	}
	out[0] = WIRE_STORE_VERSION;
	put64(out + 1, expiry);
	if (crypto_random(out + 9, WIRE_STORE_SALTLEN) != 0 ||
	    value_key(st, out + 9, vkey) != 0 ||
	    (a = crypto_aead_new(CRYPTO_AESGCM, vkey)) == NULL) {
		errno = EIO;
		goto out;
	}
	adlen = make_ad(out, name, namelen, ad);
	if (crypto_aead_seal(a, 0, ad, adlen, vallen > 0 ? val : out, vallen,
	    out + WIRE_STORE_HDR) != 0) {
		errno = EIO;
		goto out;
	}
	rc = (int)(vallen + WIRE_STORE_OVERHEAD);
out:
	crypto_aead_free(a);
	crypto_wipe(vkey, sizeof(vkey));
	return (rc);
}

int
store_unseal(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *raw, size_t rawlen, uint64_t now, uint8_t *out,
    size_t outcap, size_t *outlen)
{
	uint8_t vkey[CRYPTO_KEYLEN];
	uint8_t ad[WIRE_STORE_HDR + STORE_NAME_MAX];
	struct crypto_aead *a = NULL;
	size_t adlen, ptlen;
	int rc = -1;

	/* Cheap checks first: version, length, expiry. */
	if (!name_ok(name, namelen) || rawlen < WIRE_STORE_OVERHEAD ||
	    rawlen - WIRE_STORE_OVERHEAD > STORE_VAL_MAX ||
	    raw[0] != WIRE_STORE_VERSION) {
		errno = EBADMSG;
		goto out;
	}
	ptlen = rawlen - WIRE_STORE_OVERHEAD;
	if (now >= get64(raw + 1)) {
		rc = 1;
		goto out;
	}
	if (ptlen > outcap) {
		errno = ENOBUFS;
		goto out;
	}
	if (value_key(st, raw + 9, vkey) != 0 ||
	    (a = crypto_aead_new(CRYPTO_AESGCM, vkey)) == NULL) {
		errno = EIO;
		goto out;
	}
	adlen = make_ad(raw, name, namelen, ad);
	if (crypto_aead_open(a, 0, ad, adlen, raw + WIRE_STORE_HDR,
	    rawlen - WIRE_STORE_HDR, out) != 0) {
		crypto_wipe(out, ptlen);
		errno = EBADMSG;
		goto out;
	}
	*outlen = ptlen;
	rc = 0;
out:
	crypto_aead_free(a);
	crypto_wipe(vkey, sizeof(vkey));
	return (rc);
}

struct store *
store_wrap(struct store_backend *be, const uint8_t *secret, size_t secretlen)
{
	struct store *st = NULL;
	uint8_t ck[32];
	const uint8_t *parts[1] = { (const uint8_t *)WIRE_STORE_LABEL };
	size_t lens[1] = { sizeof(WIRE_STORE_LABEL) - 1 };

	if (be == NULL)
		goto out;
	if (secret == NULL || secretlen < 16) {
		errno = EINVAL;
		goto err;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto err;
	if (crypto_hash(CRYPTO_SHA256, ck, parts, lens, 1) != 0 ||
	    crypto_hkdf(CRYPTO_SHA256, ck, secret, secretlen, st->key,
	    NULL, NULL) != 0) {
		errno = EIO;
		goto err;
	}
	st->now = sysnow;
	st->be = be;
	be = NULL;
	goto out;
err:
	if (be != NULL)
		be->free(be);
	if (st != NULL) {
		crypto_wipe(st, sizeof(*st));
		free(st);
		st = NULL;
	}
out:
	crypto_wipe(ck, sizeof(ck));
	return (st);
}

struct store *
store_open(const char *spec, const uint8_t *secret, size_t secretlen,
    char *errbuf, size_t errlen)
{
	struct store_backend *be;
	struct store *st;

	if (errlen > 0)
		errbuf[0] = '\0';
	if (secret == NULL || secretlen < 16) {
		snprintf(errbuf, errlen, "the store's secret is too short");
		return (NULL);
	}
	if (strcmp(spec, "memory") == 0) {
		be = store_mem_open(STORE_LMDB_MAPSIZE);
		if (be == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			return (NULL);
		}
	} else if (strncmp(spec, "lmdb:", 5) == 0) {
		if (spec[5] == '\0') {
			snprintf(errbuf, errlen, "lmdb: needs a directory");
			return (NULL);
		}
		be = store_lmdb_open(spec + 5, STORE_LMDB_MAPSIZE, errbuf,
		    errlen);
		if (be == NULL)
			return (NULL);
	} else {
		snprintf(errbuf, errlen,
		    "unknown store (memory or lmdb:PATH)");
		return (NULL);
	}
	if ((st = store_wrap(be, secret, secretlen)) == NULL)
		snprintf(errbuf, errlen, "cannot derive the store's key");
	return (st);
}

void
store_set_clock(struct store *st, uint64_t (*now)(void *), void *arg)
{

	st->now = now != NULL ? now : sysnow;
	st->now_arg = now != NULL ? arg : NULL;
}

int
store_put(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *val, size_t vallen, uint32_t ttl)
{
	uint8_t *nb;
	size_t need;
	int len, gc;

	if (!name_ok(name, namelen) || vallen > STORE_VAL_MAX || ttl == 0 ||
	    ttl > STORE_TTL_MAX || (val == NULL && vallen > 0)) {
		errno = EINVAL;
		return (-1);
	}
	need = vallen + WIRE_STORE_OVERHEAD;
	if (need > st->bufcap) {
		if ((nb = malloc(need)) == NULL)
			return (-1);
		if (st->buf != NULL) {
			crypto_wipe(st->buf, st->bufcap);
			free(st->buf);
		}
		st->buf = nb;
		st->bufcap = need;
	}
	len = store_seal(st, name, namelen, val, vallen, now_of(st) + ttl,
	    st->buf, st->bufcap);
	if (len < 0)
		return (-1);
	if (st->be->put(st->be, name, namelen, st->buf, (size_t)len) == 0)
		return (0);
	if (errno != ENOSPC)
		return (-1);
	/* Full: drop what has lapsed and try once more. */
	if ((gc = store_gc(st)) < 0)
		return (-1);
	if (gc == 0) {
		errno = ENOSPC;
		return (-1);
	}
	return (st->be->put(st->be, name, namelen, st->buf, (size_t)len));
}

/* store_look_fn for store_take and store_get: open the seal. */
static int
look_open(void *ctx, const uint8_t *raw, size_t rawlen, int *del)
{
	struct look *lk = ctx;
	int rc;

	rc = store_unseal(lk->st, lk->name, lk->namelen, raw, rawlen, lk->now,
	    lk->out, lk->outcap, &lk->outlen);
	if (rc == 1)
		*del = 1;       /* lapsed: drop it, report absent */
	else if (rc == 0)
		*del = lk->take;
	else
		lk->err = errno;
	return (rc);
}

/* Common part of store_take (${take} 1) and store_get (0). */
static int
lookup(struct store *st, const uint8_t *name, size_t namelen, uint8_t *out,
    size_t outcap, size_t *outlen, int take)
{
	struct look lk;
	int rc;

	if (!name_ok(name, namelen)) {
		errno = EINVAL;
		return (-1);
	}
	memset(&lk, 0, sizeof(lk));
	lk.st = st;
	lk.name = name;
	lk.namelen = namelen;
	lk.now = now_of(st);
	lk.take = take;
	lk.out = out;
	lk.outcap = outcap;
	lk.err = EIO;
	rc = st->be->get(st->be, name, namelen, look_open, &lk);
	if (rc == 0) {
		*outlen = lk.outlen;
		return (0);
	}
	if (lk.outlen > 0)      /* opened, but the backend then failed */
		crypto_wipe(out, lk.outlen);
	if (rc == -1 && lk.err != EIO)
		errno = lk.err;
	return (rc);
}

int
store_take(struct store *st, const uint8_t *name, size_t namelen,
    uint8_t *out, size_t outcap, size_t *outlen)
{

	return (lookup(st, name, namelen, out, outcap, outlen, 1));
}

int
store_get(struct store *st, const uint8_t *name, size_t namelen,
    uint8_t *out, size_t outcap, size_t *outlen)
{

	return (lookup(st, name, namelen, out, outcap, outlen, 0));
}

int
store_del(struct store *st, const uint8_t *name, size_t namelen)
{

	if (!name_ok(name, namelen)) {
		errno = EINVAL;
		return (-1);
	}
	return (st->be->del(st->be, name, namelen));
}

/* store_look_fn for store_gc: drop a lapsed value (${ctx} points to now). */
static int
look_expired(void *ctx, const uint8_t *raw, size_t rawlen, int *del)
{
	uint64_t now = *(const uint64_t *)ctx;

	/* A value of another version may be another program's: keep it. */
	if (rawlen >= WIRE_STORE_OVERHEAD && raw[0] == WIRE_STORE_VERSION &&
	    now >= get64(raw + 1))
		*del = 1;
	return (0);
}

int
store_gc(struct store *st)
{
	uint64_t now = now_of(st);

	return (st->be->gc(st->be, STORE_GC_BATCH, look_expired, &now));
}

const char *
store_errstr(int err)
{

	switch (err) {
	case EBADMSG:
		return ("value failed to authenticate");
	case ENOSPC:
		return ("store full");
	case ENOBUFS:
		return ("value too long for the buffer");
	case EINVAL:
		return ("name, value or TTL out of range");
	default:
		return ("store broken");
	}
}

void
store_free(struct store *st)
{

	if (st == NULL)
		return;
	st->be->free(st->be);
	if (st->buf != NULL) {
		crypto_wipe(st->buf, st->bufcap);
		free(st->buf);
	}
	crypto_wipe(st, sizeof(*st));
	free(st);
}
