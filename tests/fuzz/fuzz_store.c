/*
 * libFuzzer target: the session store's value parser (store_unseal), which
 * opens whatever bytes a store holds, and the front's reads over a backend
 * that holds arbitrary bytes.
 *
 * The first input byte picks a mode (modulo 3); the rest is the material.
 *
 *   0  the rest is a stored value, read under a fixed name at a fixed
 *      time into buffers of every size up to its length.  Invariant: it
 *      never opens (nobody without the key can make a value), and a
 *      failure leaves errno EBADMSG or ENOBUFS.
 *   1  round trip: a name (length byte, then bytes), a TTL byte (0..255
 *      seconds from now, 0: already lapsed), a value length byte and the
 *      value come from the input; the harness seals it, then XORs the
 *      rest into the sealed form and cuts it by the last byte's low bits.
 *      Invariants: untouched, it opens to the same bytes (or reports a
 *      lapse, exactly when the TTL was 0); under another name it never
 *      opens; changed or cut, it never opens.
 *   2  the rest is put raw under a name into an in-memory backend and
 *      read through the store (get, take, gc).  Invariants: neither read
 *      opens it, a failed take leaves it in place, gc never fails.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

#define NOW 1700000000ULL

static struct store *st;
static struct store_backend *be;
static uint64_t now = NOW;

/* The harness's clock. */
static uint64_t
clock_fn(void *arg)
{

	return (*(uint64_t *)arg);
}

/* Abort with ${msg}. */
static void
broken(const char *msg)
{

	fprintf(stderr, "fuzz_store: invariant broken: %s\n", msg);
	abort();
}

/* Make the store once: a fixed secret over an in-memory backend. */
static void
setup(void)
{
	uint8_t secret[32];

	if (st != NULL)
		return;
	memset(secret, 0x5a, sizeof(secret));
	if ((be = store_mem_open(1 << 24)) == NULL ||
	    (st = store_wrap(be, secret, sizeof(secret))) == NULL)
		broken("setup");
	store_set_clock(st, clock_fn, &now);
}

static const uint8_t fixed_name[] = "sess:0123456789abcdef";

/* Mode 0: arbitrary bytes as a stored value. */
static void
parse(const uint8_t *d, size_t n)
{
	uint8_t *out;
	size_t cap, outlen;
	int rc;

	if ((out = malloc(n + 1)) == NULL)
		return;
	for (cap = 0; cap <= n; cap += 1 + cap / 2) {
		errno = 0;
		rc = store_unseal(st, fixed_name, sizeof(fixed_name) - 1, d, n,
		    NOW, out, cap, &outlen);
		if (rc == 0)
			broken("arbitrary bytes opened");
		if (rc == -1 && errno != EBADMSG && errno != ENOBUFS)
			broken("unexpected errno");
	}
	free(out);
}

/* Mode 1: seal, tamper, open. */
static void
roundtrip(const uint8_t *d, size_t n)
{
	uint8_t name[STORE_NAME_MAX], val[256], out[256];
	uint8_t sealed[256 + WIRE_STORE_OVERHEAD], other[STORE_NAME_MAX];
	size_t namelen, vallen, len, cut, i, outlen;
	unsigned int ttl;
	int changed = 0, rc;

	if (n < 3)
		return;
	namelen = 1 + d[0] % STORE_NAME_MAX;
	d++, n--;
	if (namelen > n)
		namelen = n;
	if (namelen == 0)
		return;
	memcpy(name, d, namelen);
	d += namelen, n -= namelen;
	if (n < 2)
		return;
	ttl = d[0];
	vallen = d[1];
	d += 2, n -= 2;
	if (vallen > n)
		vallen = n;
	memcpy(val, d, vallen);
	d += vallen, n -= vallen;
	rc = store_seal(st, name, namelen, val, vallen, NOW + ttl, sealed,
	    sizeof(sealed));
	if (rc != (int)(vallen + WIRE_STORE_OVERHEAD))
		broken("seal");
	len = (size_t)rc;

	/* Untouched: opens to the same bytes, or has lapsed. */
	rc = store_unseal(st, name, namelen, sealed, len, NOW, out,
	    sizeof(out), &outlen);
	if (ttl == 0 ? rc != 1 : (rc != 0 || outlen != vallen ||
	    memcmp(out, val, vallen) != 0))
		broken("untouched value");
	/* Under another name: never. */
	memcpy(other, name, namelen);
	other[namelen - 1] ^= 0x80;
	if (store_unseal(st, other, namelen, sealed, len, NOW, out,
	    sizeof(out), &outlen) == 0)
		broken("opened under another name");
	if (namelen < STORE_NAME_MAX) {
		other[namelen - 1] ^= 0x80;
		other[namelen] = 0;
		if (store_unseal(st, other, namelen + 1, sealed, len, NOW, out,
		    sizeof(out), &outlen) == 0)
			broken("opened under a longer name");
	}
	/* Tampered or cut: never. */
	for (i = 0; i < n && i < len; i++) {
		sealed[i] ^= d[i];
		changed |= d[i] != 0;
	}
	cut = n > 0 ? d[n - 1] % 4 : 0;
	if (cut > len)
		cut = len;
	len -= cut;
	rc = store_unseal(st, name, namelen, sealed, len, NOW, out,
	    sizeof(out), &outlen);
	if ((changed || cut > 0) && rc == 0)
		broken("tampered value opened");
}

/* Mode 2: arbitrary bytes held by a backend, read through the store. */
static void
through(const uint8_t *d, size_t n)
{
	uint8_t out[512];
	size_t outlen;
	int rc;

	if (be->put(be, fixed_name, sizeof(fixed_name) - 1, d, n) != 0)
		return;
	if (store_get(st, fixed_name, sizeof(fixed_name) - 1, out,
	    sizeof(out), &outlen) == 0)
		broken("get opened arbitrary bytes");
	rc = store_take(st, fixed_name, sizeof(fixed_name) - 1, out,
	    sizeof(out), &outlen);
	if (rc == 0)
		broken("take opened arbitrary bytes");
	if (rc == -1 && store_del(st, fixed_name, sizeof(fixed_name) - 1) != 0)
		broken("a failed take did not leave the value");
	if (be->put(be, fixed_name, sizeof(fixed_name) - 1, d, n) != 0)
		return;
	if (store_gc(st) < 0)
		broken("gc failed");
	if (store_del(st, fixed_name, sizeof(fixed_name) - 1) < 0)
		broken("del failed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{

	setup();
	if (size < 1)
		return (0);
	switch (data[0] % 3) {
	case 0:
		parse(data + 1, size - 1);
		break;
	case 1:
		roundtrip(data + 1, size - 1);
		break;
	default:
		through(data + 1, size - 1);
		break;
	}
	return (0);
}
