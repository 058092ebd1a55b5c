/*
 * session: serialization of session state.
 */
#include <string.h>

#include "session.h"

#define SESSION_MAGIC 0x77727332u   /* "wrs2" */

void
session_pack(const struct session *s, uint8_t out[SESSION_PACKED_LEN])
{
	uint8_t *p = out;
	size_t n = strnlen(s->service, WIRE_SERVICE_MAX);

	wire_put32(p, SESSION_MAGIC); p += 4;
	memcpy(p, s->id, WIRE_SESSION_ID_LEN); p += WIRE_SESSION_ID_LEN;
	*p++ = (uint8_t)n;
	memset(p, 0, WIRE_SERVICE_MAX);
	memcpy(p, s->service, n); p += WIRE_SERVICE_MAX;
	memcpy(p, s->client_pub, 32); p += 32;
	memcpy(p, s->key_c2s, CRYPTO_KEYLEN); p += CRYPTO_KEYLEN;
	memcpy(p, s->key_s2c, CRYPTO_KEYLEN); p += CRYPTO_KEYLEN;
	wire_put32(p, s->carrier); p += 4;
	wire_put64(p, s->sent); p += 8;
	wire_put64(p, s->received); p += 8;
	memcpy(p, s->resume_secret, WIRE_RESUME_SECRET_LEN);
	p += WIRE_RESUME_SECRET_LEN;
	memcpy(p, s->resume_next, WIRE_RESUME_SECRET_LEN);
	p += WIRE_RESUME_SECRET_LEN;
	memcpy(p, s->resume_ts, WIRE_TAI64N_LEN);
}

int
session_unpack(const uint8_t buf[SESSION_PACKED_LEN], struct session *s)
{
	const uint8_t *p = buf;
	size_t n;

	if (wire_get32(p) != SESSION_MAGIC)
		return -1;
	p += 4;
	memset(s, 0, sizeof(*s));
	memcpy(s->id, p, WIRE_SESSION_ID_LEN); p += WIRE_SESSION_ID_LEN;
	n = *p++;
	if (n == 0 || n > WIRE_SERVICE_MAX || memchr(p, 0, n) != NULL)
		return -1;
	for (size_t i = n; i < WIRE_SERVICE_MAX; i++)
		if (p[i] != 0)
			return -1;
	memcpy(s->service, p, n); p += WIRE_SERVICE_MAX;
	memcpy(s->client_pub, p, 32); p += 32;
	memcpy(s->key_c2s, p, CRYPTO_KEYLEN); p += CRYPTO_KEYLEN;
	memcpy(s->key_s2c, p, CRYPTO_KEYLEN); p += CRYPTO_KEYLEN;
	s->carrier = wire_get32(p); p += 4;
	s->sent = wire_get64(p); p += 8;
	s->received = wire_get64(p); p += 8;
	memcpy(s->resume_secret, p, WIRE_RESUME_SECRET_LEN);
	p += WIRE_RESUME_SECRET_LEN;
	memcpy(s->resume_next, p, WIRE_RESUME_SECRET_LEN);
	p += WIRE_RESUME_SECRET_LEN;
	memcpy(s->resume_ts, p, WIRE_TAI64N_LEN);
	return 0;
}

void
session_wipe(struct session *s)
{
	crypto_wipe(s, sizeof(*s));
}
