/*
 * noise: the Noise Protocol Framework, revision 34, as a table-driven
 * HandshakeState.  A protocol name is parsed into a list of token lists
 * (one per handshake message) plus pre-message flags; the engine then
 * walks the tokens.  Supported: DH 25519; ciphers AESGCM and ChaChaPoly;
 * hashes SHA256, SHA512, BLAKE2s and BLAKE2b; the one-way patterns N K X,
 * the twelve fundamental interactive patterns, the deferred patterns of
 * spec section 7.6, and any combination of pskN modifiers.
 *
 * If the caller supplies a remote static key for a pattern that transmits
 * it (XX, for example), the transmitted key must equal it: the handshake
 * then pins the peer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "noise.h"

#define MAXMSGS 8           /* handshake messages in a pattern */
#define MAXTOKS 12          /* tokens in one message, psk tokens included */
#define MAXNAME 255         /* longest protocol name (spec section 8) */

/* Tokens of a message pattern. */
enum tok { T_E, T_S, T_EE, T_ES, T_SE, T_SS, T_PSK };

/*
 * A handshake pattern: ${pre} lists pre-message static keys (">s" for the
 * initiator's, "<s" for the responder's); ${msgs} lists the messages,
 * separated by '|' and alternating from the initiator, each a
 * space-separated token list.
 */
struct pattern_def {
	const char *name;
	const char *pre;
	const char *msgs;
};

static const struct pattern_def patterns[] = {
	/* One-way patterns (7.4). */
	{ "N", "<s", "e es" },
	{ "K", ">s<s", "e es ss" },
	{ "X", "<s", "e es s ss" },

	/* Fundamental interactive patterns (7.5). */
	{ "NN", "", "e|e ee" },
	{ "NK", "<s", "e es|e ee" },
	{ "NX", "", "e|e ee s es" },
	{ "XN", "", "e|e ee|s se" },
	{ "XK", "<s", "e es|e ee|s se" },
	{ "XX", "", "e|e ee s es|s se" },
	{ "KN", ">s", "e|e ee se" },
	{ "KK", ">s<s", "e es ss|e ee se" },
	{ "KX", ">s", "e|e ee se s es" },
	{ "IN", "", "e s|e ee se" },
	{ "IK", "<s", "e es s ss|e ee se" },
	{ "IX", "", "e s|e ee se s es" },

	/* Deferred interactive patterns (7.6). */
	{ "NK1", "<s", "e|e ee es" },
	{ "NX1", "", "e|e ee s|es" },
	{ "X1N", "", "e|e ee|s|se" },
	{ "X1K", "<s", "e es|e ee|s|se" },
	{ "XK1", "<s", "e|e ee es|s se" },
	{ "X1K1", "<s", "e|e ee es|s|se" },
	{ "X1X", "", "e|e ee s es|s|se" },
	{ "XX1", "", "e|e ee s|es s se" },
	{ "X1X1", "", "e|e ee s|es s|se" },
	{ "K1N", ">s", "e|e ee|se" },
	{ "K1K", ">s<s", "e es|e ee|se" },
	{ "KK1", ">s<s", "e|e ee se es" },
	{ "K1K1", ">s<s", "e|e ee es|se" },
	{ "K1X", ">s", "e|e ee s es|se" },
	{ "KX1", ">s", "e|e ee se s|es" },
	{ "K1X1", ">s", "e|e ee s|se es" },
	{ "I1N", "", "e s|e ee|se" },
	{ "I1K", "<s", "e es s|e ee|se" },
	{ "IK1", "<s", "e s|e ee se es" },
	{ "I1K1", "<s", "e s|e ee es|se" },
	{ "I1X", "", "e s|e ee s es|se" },
	{ "IX1", "", "e s|e ee se s|es" },
	{ "I1X1", "", "e s|e ee s|se es" },
};

/* A parsed protocol name. */
struct proto {
	enum crypto_cipher cipher;
	enum crypto_hash hash;
	int pre_is;                     /* "-> s" pre-message */
	int pre_rs;                     /* "<- s" pre-message */
	int psk_mode;                   /* any psk modifier */
	size_t npsk;                    /* number of psk tokens */
	size_t nmsgs;
	size_t ntoks[MAXMSGS];
	uint8_t toks[MAXMSGS][MAXTOKS];
};

struct noise_cipher {
	struct crypto_aead *aead;
	enum crypto_cipher c;
	uint64_t n;
	uint8_t key[CRYPTO_KEYLEN];     /* kept for noise_hs_dup */
};

struct noise_hs {
	struct proto p;
	enum noise_role role;
	size_t hlen;
	size_t cur;                     /* index of the next message */
	int dead;                       /* a message failed: no more use */

	/* SymmetricState. */
	uint8_t h[CRYPTO_MAXHASH];
	uint8_t ck[CRYPTO_MAXHASH];
	struct noise_cipher *cs;        /* NULL while k is empty */

	/* Keys. */
	int has_s, has_e, has_rs, has_re;
	uint8_t s_priv[CRYPTO_DHLEN], s_pub[CRYPTO_DHLEN];
	uint8_t e_priv[CRYPTO_DHLEN], e_pub[CRYPTO_DHLEN];
	uint8_t rs[CRYPTO_DHLEN], re[CRYPTO_DHLEN];
	struct crypto_x25519_key *s_key, *e_key;   /* imported when first used */
	int s_key_owned;
	size_t npsks, psk_next;
	uint8_t psks[NOISE_MAXPSKS][32];
	int (*rs_check)(void *, const uint8_t *);
	void *rs_check_arg;
	int rs_rejected;
};

/* Parse one token word of ${len} bytes at ${w} into ${t}; 0 or -1. */
static int
parse_tok(const char *w, size_t len, uint8_t *t)
{
	static const struct {
		const char *w;
		enum tok t;
	} words[] = {
		{ "e", T_E }, { "s", T_S }, { "ee", T_EE }, { "es", T_ES },
		{ "se", T_SE }, { "ss", T_SS },
	};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].w) == len && memcmp(words[i].w, w, len) == 0) {
			*t = (uint8_t)words[i].t;
			return (0);
		}
	}
	return (-1);
}

/* Load the message tokens of table entry ${d} into ${p}; 0 or -1. */
static int
load_pattern(const struct pattern_def *d, struct proto *p)
{
	const char *s = d->msgs;
	size_t len;

	p->pre_is = strstr(d->pre, ">s") != NULL;
	p->pre_rs = strstr(d->pre, "<s") != NULL;
	p->nmsgs = 1;
	p->ntoks[0] = 0;
	while (*s != '\0') {
		if (*s == '|') {
			if (p->nmsgs == MAXMSGS)
				return (-1);
			p->ntoks[p->nmsgs++] = 0;
			s++;
			continue;
		}
		if (*s == ' ') {
			s++;
			continue;
		}
		len = strcspn(s, " |");
		if (p->ntoks[p->nmsgs - 1] == MAXTOKS)
			return (-1);
		if (parse_tok(s, len,
		    &p->toks[p->nmsgs - 1][p->ntoks[p->nmsgs - 1]++]))
			return (-1);
		s += len;
	}
	return (0);
}

/* Apply the modifiers ${mods} ("psk0+psk2") to ${p}; 0 or -1. */
static int
apply_mods(const char *mods, struct proto *p)
{
	unsigned int seen = 0;
	unsigned long n;
	const char *s = mods;
	size_t i, m;

	while (1) {
		if (strncmp(s, "psk", 3) != 0)
			return (-1);
		s += 3;

		/* A decimal number without leading zeros. */
		if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' &&
		    s[1] <= '9'))
			return (-1);
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (unsigned long)(*s - '0');
			if (n > MAXMSGS)
				return (-1);
		}
		if (n > p->nmsgs || (seen & (1U << n)))
			return (-1);
		seen |= 1U << n;

		/* psk0 opens the first message; pskN closes message N. */
		m = n == 0 ? 0 : n - 1;
		if (p->ntoks[m] == MAXTOKS)
			return (-1);
		if (n == 0) {
			for (i = p->ntoks[m]; i > 0; i--)
				p->toks[m][i] = p->toks[m][i - 1];
			p->toks[m][0] = T_PSK;
		} else {
			p->toks[m][p->ntoks[m]] = T_PSK;
		}
		p->ntoks[m]++;
		p->npsk++;
		p->psk_mode = 1;

		if (*s == '\0')
			return (0);
		if (*s++ != '+')
			return (-1);
	}
}

/* Parse the protocol name ${name} into ${p}; 0 or -1 if unsupported. */
static int
parse_protocol(const char *name, struct proto *p)
{
	char buf[MAXNAME + 1];
	char *field[5], *s, *mods;
	size_t i, nf, baselen;

	memset(p, 0, sizeof(*p));
	if (name == NULL || strlen(name) > MAXNAME)
		return (-1);
	strcpy(buf, name);

	/* Exactly five '_'-separated fields. */
	for (nf = 0, s = buf; nf < 5; nf++) {
		field[nf] = s;
		if ((s = strchr(s, '_')) == NULL) {
			nf++;
			break;
		}
		*s++ = '\0';
	}
	if (nf != 5 || s != NULL)
		return (-1);
	if (strcmp(field[0], "Noise") != 0 || strcmp(field[2], "25519") != 0)
		return (-1);

	if (strcmp(field[3], "AESGCM") == 0)
		p->cipher = CRYPTO_AESGCM;
	else if (strcmp(field[3], "ChaChaPoly") == 0)
		p->cipher = CRYPTO_CHACHAPOLY;
	else
		return (-1);

	if (strcmp(field[4], "SHA256") == 0)
		p->hash = CRYPTO_SHA256;
	else if (strcmp(field[4], "SHA512") == 0)
		p->hash = CRYPTO_SHA512;
	else if (strcmp(field[4], "BLAKE2s") == 0)
		p->hash = CRYPTO_BLAKE2S;
	else if (strcmp(field[4], "BLAKE2b") == 0)
		p->hash = CRYPTO_BLAKE2B;
	else
		return (-1);

	/* The pattern name, then optional modifiers (no name has "psk"). */
	if ((mods = strstr(field[1], "psk")) != NULL)
		baselen = (size_t)(mods - field[1]);
	else
		baselen = strlen(field[1]);
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (strlen(patterns[i].name) == baselen &&
		    memcmp(patterns[i].name, field[1], baselen) == 0)
			break;
	}
	if (i == sizeof(patterns) / sizeof(patterns[0]))
		return (-1);
	if (load_pattern(&patterns[i], p))
		return (-1);
	if (mods != NULL && apply_mods(mods, p))
		return (-1);
	return (0);
}

/**
 * noise_hs_supported(protocol):
 * Return 1 if ${protocol} names a protocol that this module can run.
 */
int
noise_hs_supported(const char *protocol)
{
	struct proto p;

	return (parse_protocol(protocol, &p) == 0);
}

/* MixHash(data): h = HASH(h || data). */
static int
mix_hash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	const uint8_t *parts[2] = { hs->h, data };
	size_t lens[2] = { hs->hlen, len };

	return (crypto_hash(hs->p.hash, hs->h, parts, lens, 2));
}

/* Replace the handshake CipherState with one keyed by ${tk} (HASHLEN). */
static int
set_key(struct noise_hs *hs, const uint8_t *tk)
{

	noise_cipher_free(hs->cs);
	if ((hs->cs = noise_cipher_new(hs->p.cipher, tk)) == NULL)
		return (-1);
	return (0);
}

/* MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k). */
static int
mix_key(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[CRYPTO_MAXHASH];
	int rc = -1;

	if (crypto_hkdf(hs->p.hash, hs->ck, ikm, len, hs->ck, tk, NULL))
		goto out;
	if (set_key(hs, tk))
		goto out;
	rc = 0;

out:
	crypto_wipe(tk, sizeof(tk));
	return (rc);
}

/* MixKeyAndHash(ikm): ck, temp_h, temp_k = HKDF(ck, ikm, 3). */
static int
mix_key_and_hash(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t th[CRYPTO_MAXHASH], tk[CRYPTO_MAXHASH];
	int rc = -1;

	if (crypto_hkdf(hs->p.hash, hs->ck, ikm, len, hs->ck, th, tk))
		goto out;
	if (mix_hash(hs, th, hs->hlen))
		goto out;
	if (set_key(hs, tk))
		goto out;
	rc = 0;

out:
	crypto_wipe(th, sizeof(th));
	crypto_wipe(tk, sizeof(tk));
	return (rc);
}

/* EncryptAndHash(pt) into ${out} (${len} + 16 bytes if keyed). */
static int
encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
    uint8_t *out)
{

	if (hs->cs == NULL) {
		if (len > 0)
			memmove(out, pt, len);
		return (mix_hash(hs, out, len));
	}
	if (noise_cipher_seal(hs->cs, hs->h, hs->hlen, pt, len, out))
		return (-1);
	return (mix_hash(hs, out, len + CRYPTO_TAGLEN));
}

/* DecryptAndHash(ct) of ${len} bytes into ${out}; h changes on success. */
static int
decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	const uint8_t *parts[2] = { hs->h, ct };
	size_t lens[2] = { hs->hlen, len };
	uint8_t newh[CRYPTO_MAXHASH];
	int rc = -1;

	/* Hash the ciphertext first, in case ${out} overlaps it. */
	if (crypto_hash(hs->p.hash, newh, parts, lens, 2))
		goto out;
	if (hs->cs == NULL) {
		if (len > 0)
			memmove(out, ct, len);
	}
	else if (noise_cipher_open(hs->cs, hs->h, hs->hlen, ct, len, out))
		goto out;
	memcpy(hs->h, newh, hs->hlen);
	rc = 0;
out:
	crypto_wipe(newh, sizeof(newh));
	return (rc);
}

/* Run the DH of token ${t} and MixKey its result. */
static int
mix_dh(struct noise_hs *hs, enum tok t)
{
	int init = hs->role == NOISE_INITIATOR;
	int local_e, remote_e;
	uint8_t dh[CRYPTO_DHLEN];
	int rc = -1;

	/* "es" is the initiator's e with the responder's s; "se" the reverse. */
	switch (t) {
	case T_EE:
		local_e = remote_e = 1;
		break;
	case T_ES:
		local_e = init;
		remote_e = !init;
		break;
	case T_SE:
		local_e = !init;
		remote_e = init;
		break;
	case T_SS:
		local_e = remote_e = 0;
		break;
	default:
		goto out;
	}
	if (!(local_e ? hs->has_e : hs->has_s) ||
	    !(remote_e ? hs->has_re : hs->has_rs))
		goto out;
	if (local_e && hs->e_key == NULL &&
	    (hs->e_key = crypto_x25519_key_new(hs->e_priv)) == NULL)
		goto out;
	if (!local_e && hs->s_key == NULL) {
		if ((hs->s_key = crypto_x25519_key_new(hs->s_priv)) == NULL)
			goto out;
		hs->s_key_owned = 1;
	}
	if (local_e || remote_e ? crypto_x25519_key_dh(local_e ? hs->e_key :
	    hs->s_key, remote_e ? hs->re : hs->rs, dh) :
	    crypto_x25519_key_dh_static(hs->s_key, hs->rs, dh))
		goto out;
	if (mix_key(hs, dh, sizeof(dh)))
		goto out;
	rc = 0;

out:
	crypto_wipe(dh, sizeof(dh));
	return (rc);
}

/* Return 1 if the party in ${role} sends message ${i}. */
static int
sends(enum noise_role role, size_t i)
{

	return ((i % 2 == 0) == (role == NOISE_INITIATOR));
}

/* Return 1 if ${role} sends an "s" token in pattern ${p}. */
static int
sends_static(const struct proto *p, enum noise_role role)
{
	size_t i, j;

	for (i = 0; i < p->nmsgs; i++) {
		if (!sends(role, i))
			continue;
		for (j = 0; j < p->ntoks[i]; j++) {
			if (p->toks[i][j] == T_S)
				return (1);
		}
	}
	return (0);
}

/**
 * noise_hs_new(protocol, role, prologue, prologuelen, keys):
 * Start a handshake for the protocol named ${protocol} (for example
 * NOISE_PROTOCOL) in role ${role}.  ${keys} is copied.  Returns NULL if the
 * protocol is unsupported, a key the pattern needs is missing, or on
 * allocation failure.
 */
struct noise_hs *
noise_hs_new(const char *protocol, enum noise_role role,
    const uint8_t *prologue, size_t prologuelen, const struct noise_keys *keys)
{
	struct noise_hs *hs = NULL;
	int init = role == NOISE_INITIATOR;
	int need_s, need_rs;
	size_t namelen;

	if (keys == NULL || (hs = calloc(1, sizeof(*hs))) == NULL)
		goto err;
	if (parse_protocol(protocol, &hs->p))
		goto err;
	if (role != NOISE_INITIATOR && role != NOISE_RESPONDER)
		goto err;
	hs->role = role;
	hs->hlen = crypto_hash_len(hs->p.hash);

	/* Which keys the pattern needs from this party. */
	need_s = sends_static(&hs->p, role) ||
	    (init ? hs->p.pre_is : hs->p.pre_rs);
	need_rs = init ? hs->p.pre_rs : hs->p.pre_is;
	if ((need_s && !keys->has_s) || (need_rs && !keys->has_rs) ||
	    keys->npsks > NOISE_MAXPSKS || keys->npsks < hs->p.npsk)
		goto err;

	/* Copy the keys. */
	if (keys->has_s) {
		memcpy(hs->s_priv, keys->s_priv, CRYPTO_DHLEN);
		hs->s_key = keys->s_key;
		if (keys->has_s_pub)
			memcpy(hs->s_pub, keys->s_pub, CRYPTO_DHLEN);
		else if (crypto_x25519_pub(hs->s_priv, hs->s_pub))
			goto err;
		hs->has_s = 1;
	}
	if (keys->has_e) {
		memcpy(hs->e_priv, keys->e_priv, CRYPTO_DHLEN);
		if (crypto_x25519_pub(hs->e_priv, hs->e_pub))
			goto err;
		hs->has_e = 1;
	}
	if (keys->has_rs) {
		memcpy(hs->rs, keys->rs, CRYPTO_DHLEN);
		hs->has_rs = 1;
	}
	hs->npsks = keys->npsks;
	memcpy(hs->psks, keys->psks, sizeof(hs->psks));
	hs->rs_check = keys->rs_check;
	hs->rs_check_arg = keys->rs_check_arg;

	/* InitializeSymmetric(protocol_name). */
	namelen = strlen(protocol);
	if (namelen <= hs->hlen) {
		memcpy(hs->h, protocol, namelen);
	} else {
		const uint8_t *parts[1] = { (const uint8_t *)protocol };
		size_t lens[1] = { namelen };

		if (crypto_hash(hs->p.hash, hs->h, parts, lens, 1))
			goto err;
	}
	memcpy(hs->ck, hs->h, hs->hlen);

	/* MixHash(prologue), then the pre-message keys, initiator's first. */
	if (mix_hash(hs, prologue, prologuelen))
		goto err;
	if (hs->p.pre_is && mix_hash(hs, init ? hs->s_pub : hs->rs,
	    CRYPTO_DHLEN))
		goto err;
	if (hs->p.pre_rs && mix_hash(hs, init ? hs->rs : hs->s_pub,
	    CRYPTO_DHLEN))
		goto err;
	return (hs);

err:
	noise_hs_free(hs);
	return (NULL);
}

/**
 * noise_hs_write(hs, payload, paylen, out, outcap, outlen):
 * Write the next handshake message carrying ${payload} into ${out} (at most
 * ${outcap} bytes); store its length in ${outlen}.  It must be our turn.
 */
int
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t paylen,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	const uint8_t *toks;
	size_t i, n, off = 0;

	if (hs->dead || hs->cur >= hs->p.nmsgs || !sends(hs->role, hs->cur))
		return (-1);
	if (outcap > NOISE_MAXMSG)
		outcap = NOISE_MAXMSG;
	toks = hs->p.toks[hs->cur];

	for (i = 0; i < hs->p.ntoks[hs->cur]; i++) {
		switch (toks[i]) {
		case T_E:
			if (outcap - off < CRYPTO_DHLEN)
				goto err;
			if (!hs->has_e) {
				hs->e_key = crypto_x25519_key_generate(hs->e_priv,
				    hs->e_pub);
				if (hs->e_key == NULL)
					goto err;
				hs->has_e = 1;
			}
			memcpy(out + off, hs->e_pub, CRYPTO_DHLEN);
			off += CRYPTO_DHLEN;
			if (mix_hash(hs, hs->e_pub, CRYPTO_DHLEN))
				goto err;
			if (hs->p.psk_mode &&
			    mix_key(hs, hs->e_pub, CRYPTO_DHLEN))
				goto err;
			break;
		case T_S:
			n = CRYPTO_DHLEN + (hs->cs ? CRYPTO_TAGLEN : 0);
			if (!hs->has_s || outcap - off < n)
				goto err;
			if (encrypt_and_hash(hs, hs->s_pub, CRYPTO_DHLEN,
			    out + off))
				goto err;
			off += n;
			break;
		case T_PSK:
			if (hs->psk_next >= hs->npsks)
				goto err;
			if (mix_key_and_hash(hs, hs->psks[hs->psk_next++], 32))
				goto err;
			break;
		default:
			if (mix_dh(hs, toks[i]))
				goto err;
			break;
		}
	}

	/* The payload. */
	n = hs->cs ? CRYPTO_TAGLEN : 0;
	if (outcap - off < n || outcap - off - n < paylen)
		goto err;
	if (encrypt_and_hash(hs, payload, paylen, out + off))
		goto err;
	off += paylen + n;

	*outlen = off;
	hs->cur++;
	return (0);

err:
	hs->dead = 1;
	return (-1);
}

/**
 * noise_hs_read(hs, msg, msglen, payload, paycap, paylen):
 * Read the peer's next handshake message ${msg}; write its decrypted
 * payload to ${payload} (at most ${paycap} bytes) and its length to
 * ${paylen}.  Returns -1 if the message is malformed or fails to
 * authenticate; the handshake is then dead and must be freed.
 */
int
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t msglen,
    uint8_t *payload, size_t paycap, size_t *paylen)
{
	uint8_t rs[CRYPTO_DHLEN];
	const uint8_t *toks;
	size_t i, n, off = 0;
	int rc = -1;

	if (hs->dead || hs->cur >= hs->p.nmsgs || sends(hs->role, hs->cur))
		goto out;
	if (msglen > NOISE_MAXMSG)
		goto out;
	toks = hs->p.toks[hs->cur];

	for (i = 0; i < hs->p.ntoks[hs->cur]; i++) {
		switch (toks[i]) {
		case T_E:
			if (msglen - off < CRYPTO_DHLEN)
				goto out;
			memcpy(hs->re, msg + off, CRYPTO_DHLEN);
			hs->has_re = 1;
			off += CRYPTO_DHLEN;
			if (mix_hash(hs, hs->re, CRYPTO_DHLEN))
				goto out;
			if (hs->p.psk_mode && mix_key(hs, hs->re, CRYPTO_DHLEN))
				goto out;
			break;
		case T_S:
			n = CRYPTO_DHLEN + (hs->cs ? CRYPTO_TAGLEN : 0);
			if (msglen - off < n)
				goto out;
			if (decrypt_and_hash(hs, msg + off, n, rs))
				goto out;
			off += n;

			/* A remote static key given in advance is pinned. */
			if (hs->has_rs && !crypto_equal(hs->rs, rs,
			    CRYPTO_DHLEN))
				goto out;
			memcpy(hs->rs, rs, CRYPTO_DHLEN);
			hs->has_rs = 1;
			if (hs->rs_check != NULL &&
			    hs->rs_check(hs->rs_check_arg, hs->rs)) {
				hs->rs_rejected = 1;
				goto out;
			}
			break;
		case T_PSK:
			if (hs->psk_next >= hs->npsks)
				goto out;
			if (mix_key_and_hash(hs, hs->psks[hs->psk_next++], 32))
				goto out;
			break;
		default:
			if (mix_dh(hs, toks[i]))
				goto out;
			break;
		}
	}

	/* The payload: whatever remains, with a tag once keyed. */
	n = hs->cs ? CRYPTO_TAGLEN : 0;
	if (msglen - off < n || msglen - off - n > paycap)
		goto out;
	if (decrypt_and_hash(hs, msg + off, msglen - off, payload))
		goto out;
	*paylen = msglen - off - n;
	hs->cur++;
	rc = 0;

out:
	crypto_wipe(rs, sizeof(rs));
	if (rc)
		hs->dead = 1;
	return (rc);
}

/**
 * noise_hs_done(hs):
 * Return 1 once every message of the pattern has been written or read.
 */
int
noise_hs_done(const struct noise_hs *hs)
{

	return (!hs->dead && hs->cur == hs->p.nmsgs);
}

/**
 * noise_hs_remote_static(hs):
 * Return the remote static public key learned or given, or NULL if none.
 */
int
noise_hs_rs_rejected(const struct noise_hs *hs)
{

	return (hs->rs_rejected);
}

const uint8_t *
noise_hs_remote_static(const struct noise_hs *hs)
{

	return (hs->has_rs ? hs->rs : NULL);
}

/**
 * noise_hs_hash(hs, out):
 * Copy the handshake hash h (hash length bytes) to ${out}; return its
 * length.  After the handshake this is the channel-binding value.
 */
size_t
noise_hs_hash(const struct noise_hs *hs, uint8_t out[CRYPTO_MAXHASH])
{

	memcpy(out, hs->h, hs->hlen);
	return (hs->hlen);
}

/**
 * noise_hs_set_psk(hs, psk):
 * Set the first PSK of ${hs} to the 32 bytes at ${psk}.
 */
void
noise_hs_set_psk(struct noise_hs *hs, const uint8_t psk[32])
{

	memcpy(hs->psks[0], psk, 32);
	if (hs->npsks == 0)
		hs->npsks = 1;
}

int
noise_hs_set_e(struct noise_hs *hs, const uint8_t e_priv[CRYPTO_DHLEN])
{

	if (hs->has_e || hs->dead)
		return (-1);
	memcpy(hs->e_priv, e_priv, CRYPTO_DHLEN);
	if (crypto_x25519_pub(hs->e_priv, hs->e_pub)) {
		crypto_wipe(hs->e_priv, sizeof(hs->e_priv));
		return (-1);
	}
	hs->has_e = 1;
	return (0);
}

/**
 * noise_hs_export(hs, label, out):
 * Derive 32 bytes from the current chaining key: HKDF(ck, label) out1.
 */
int
noise_hs_export(const struct noise_hs *hs, const char *label, uint8_t out[32])
{
	uint8_t t1[CRYPTO_MAXHASH];
	int rc = -1;

	if (hs->dead)
		goto out;
	if (crypto_hkdf(hs->p.hash, hs->ck, (const uint8_t *)label,
	    strlen(label), t1, NULL, NULL))
		goto out;
	memcpy(out, t1, 32);
	rc = 0;

out:
	crypto_wipe(t1, sizeof(t1));
	return (rc);
}

/**
 * noise_hs_split(hs, k1, k2):
 * After the handshake, run Split() and write the two raw 32-byte cipher
 * keys: ${k1} encrypts initiator-to-responder, ${k2} the other way.
 */
int
noise_hs_split(struct noise_hs *hs, uint8_t k1[CRYPTO_KEYLEN],
    uint8_t k2[CRYPTO_KEYLEN])
{
	uint8_t t1[CRYPTO_MAXHASH], t2[CRYPTO_MAXHASH];
	int rc = -1;

	if (!noise_hs_done(hs))
		goto out;
	if (crypto_hkdf(hs->p.hash, hs->ck, NULL, 0, t1, t2, NULL))
		goto out;

	/* With a 64-byte hash the keys are the first 32 bytes. */
	memcpy(k1, t1, CRYPTO_KEYLEN);
	memcpy(k2, t2, CRYPTO_KEYLEN);
	rc = 0;

out:
	crypto_wipe(t1, sizeof(t1));
	crypto_wipe(t2, sizeof(t2));
	return (rc);
}

/**
 * noise_hs_cipher(hs):
 * Return the cipher that the protocol of ${hs} names.
 */
enum crypto_cipher
noise_hs_cipher(const struct noise_hs *hs)
{

	return (hs->p.cipher);
}

/**
 * noise_hs_dup(hs):
 * Return a copy of ${hs} that goes on independently of it, or NULL.
 */
struct noise_hs *
noise_hs_dup(const struct noise_hs *hs)
{
	struct noise_hs *d;

	if ((d = malloc(sizeof(*d))) == NULL)
		return (NULL);
	memcpy(d, hs, sizeof(*d));
	d->cs = NULL;
	/*
	 * Imported keys are not shared: the copy imports its own from the
	 * raw private keys when it first needs them (mix_dh).  A borrowed
	 * static key stays borrowed.
	 */
	d->e_key = NULL;
	if (hs->s_key_owned) {
		d->s_key = NULL;
		d->s_key_owned = 0;
	}
	if (hs->cs != NULL) {
		if ((d->cs = noise_cipher_new(hs->cs->c, hs->cs->key)) == NULL) {
			noise_hs_free(d);
			return (NULL);
		}
		d->cs->n = hs->cs->n;
	}
	return (d);
}

/**
 * noise_hs_free(hs):
 * Wipe every secret in ${hs} and free it.  Does nothing if ${hs} is NULL.
 */
void
noise_hs_free(struct noise_hs *hs)
{

	if (hs == NULL)
		return;
	noise_cipher_free(hs->cs);
	crypto_x25519_key_free(hs->e_key);
	if (hs->s_key_owned)
		crypto_x25519_key_free(hs->s_key);
	crypto_wipe(hs, sizeof(*hs));
	free(hs);
}

/**
 * noise_cipher_new(c, key):
 * Return a CipherState for cipher ${c} with key ${key} and nonce 0.
 */
struct noise_cipher *
noise_cipher_new(enum crypto_cipher c, const uint8_t key[CRYPTO_KEYLEN])
{
	struct noise_cipher *cs;

	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return (NULL);
	cs->c = c;
	cs->n = 0;
	memcpy(cs->key, key, CRYPTO_KEYLEN);
	if ((cs->aead = crypto_aead_new(c, key)) == NULL) {
		crypto_wipe(cs, sizeof(*cs));
		free(cs);
		return (NULL);
	}
	return (cs);
}

/**
 * noise_cipher_seal(cs, ad, adlen, pt, ptlen, out):
 * EncryptWithAd with the next nonce; ${out} gets ${ptlen} + 16 bytes.
 */
int
noise_cipher_seal(struct noise_cipher *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *pt, size_t ptlen, uint8_t *out)
{

	/* Nonce 2^64 - 1 is reserved (spec section 5.1). */
	if (cs->n == UINT64_MAX)
		return (-1);
	if (crypto_aead_seal(cs->aead, cs->n, ad, adlen, pt, ptlen, out))
		return (-1);
	cs->n++;
	return (0);
}

/**
 * noise_cipher_open(cs, ad, adlen, ct, ctlen, out):
 * DecryptWithAd with the next nonce; ${out} gets ${ctlen} - 16 bytes.  The
 * nonce advances only on success.
 */
int
noise_cipher_open(struct noise_cipher *cs, const uint8_t *ad, size_t adlen,
    const uint8_t *ct, size_t ctlen, uint8_t *out)
{

	if (cs->n == UINT64_MAX)
		return (-1);
	if (crypto_aead_open(cs->aead, cs->n, ad, adlen, ct, ctlen, out))
		return (-1);
	cs->n++;
	return (0);
}

/**
 * noise_cipher_free(cs):
 * Wipe and free ${cs}.  Does nothing if ${cs} is NULL.
 */
void
noise_cipher_free(struct noise_cipher *cs)
{

	if (cs == NULL)
		return;
	crypto_aead_free(cs->aead);
	crypto_wipe(cs, sizeof(*cs));
	free(cs);
}
