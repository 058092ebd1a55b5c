/*
 * wire: encoding and strict decoding of warren's wire formats.
 */
#include <string.h>

#include "wire.h"

/* Return 1 if the ${len} bytes at ${p} are all zero. */
static int
all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

int
wire_init_pack(const struct wire_init *in, uint8_t out[WIRE_INIT_PAYLOAD])
{
	size_t n = strnlen(in->service, WIRE_SERVICE_MAX + 1);

	if (n == 0 || n > WIRE_SERVICE_MAX)
		return -1;
	memset(out, 0, WIRE_INIT_PAYLOAD);
	memcpy(out, in->timestamp, WIRE_TAI64N_LEN);
	out[12] = (uint8_t)n;
	memcpy(out + 16, in->service, n);
	return 0;
}

int
wire_init_parse(const uint8_t buf[WIRE_INIT_PAYLOAD], struct wire_init *out)
{
	size_t n = buf[12];

	if (n == 0 || n > WIRE_SERVICE_MAX || !all_zero(buf + 13, 3) ||
	    !all_zero(buf + 16 + n, WIRE_SERVICE_MAX - n) ||
	    memchr(buf + 16, 0, n) != NULL)
		return -1;
	memcpy(out->timestamp, buf, WIRE_TAI64N_LEN);
	memcpy(out->service, buf + 16, n);
	out->service[n] = '\0';
	return 0;
}

void
wire_resume_pack(const struct wire_resume *in,
    uint8_t out[WIRE_RESUME_PAYLOAD])
{
	memset(out, 0, WIRE_RESUME_PAYLOAD);
	memcpy(out, in->timestamp, WIRE_TAI64N_LEN);
	wire_put32(out + 12, in->carrier);
}

int
wire_resume_parse(const uint8_t buf[WIRE_RESUME_PAYLOAD],
    struct wire_resume *out)
{
	if (wire_get32(buf + 12) == 0 ||
	    !all_zero(buf + 16, WIRE_RESUME_PAYLOAD - 16))
		return -1;
	memcpy(out->timestamp, buf, WIRE_TAI64N_LEN);
	out->carrier = wire_get32(buf + 12);
	return 0;
}

void
wire_resp_pack(const struct wire_resp *in, uint8_t out[WIRE_RESP_PAYLOAD])
{
	memset(out, 0, WIRE_RESP_PAYLOAD);
	out[0] = in->status;
	wire_put16(out + 2, in->client_port);
	memcpy(out + 4, in->client_addr, 16);
	memcpy(out + 20, in->session_id, WIRE_SESSION_ID_LEN);
	wire_put32(out + 36, in->decoy);
	wire_put32(out + 40, in->window);
	wire_put16(out + 44, in->grant_timeout);
	wire_put16(out + 46, in->keepalive);
	wire_put16(out + 48, in->port_lo);
	wire_put16(out + 50, in->port_hi);
	wire_put64(out + 52, in->node_time);
}

int
wire_resp_parse(const uint8_t buf[WIRE_RESP_PAYLOAD], struct wire_resp *out)
{
	if ((buf[0] != WIRE_OK && buf[0] != WIRE_DENIED && buf[0] != WIRE_BUSY &&
	    buf[0] != WIRE_CLOCK) || buf[1] != 0 || !all_zero(buf + 60, 4))
		return -1;
	out->status = buf[0];
	out->client_port = wire_get16(buf + 2);
	memcpy(out->client_addr, buf + 4, 16);
	memcpy(out->session_id, buf + 20, WIRE_SESSION_ID_LEN);
	out->decoy = wire_get32(buf + 36);
	out->window = wire_get32(buf + 40);
	out->grant_timeout = wire_get16(buf + 44);
	out->keepalive = wire_get16(buf + 46);
	out->port_lo = wire_get16(buf + 48);
	out->port_hi = wire_get16(buf + 50);
	out->node_time = wire_get64(buf + 52);
	if (out->status == WIRE_OK && (out->grant_timeout == 0 ||
	    out->keepalive == 0 || out->port_lo == 0 || out->port_lo > out->port_hi))
		return -1;
	return 0;
}

int
wire_packet_type(const uint8_t *buf, size_t len)
{
	if (len < 4 || buf[1] != WIRE_VERSION || buf[2] != 0 || buf[3] != 0)
		return 0;
	if (buf[0] == WIRE_INIT && len == WIRE_INIT_LEN)
		return WIRE_INIT;
	if (buf[0] == WIRE_RESP && len == WIRE_RESP_LEN)
		return WIRE_RESP;
	if (buf[0] == WIRE_COOKIE && len == WIRE_COOKIE_LEN)
		return WIRE_COOKIE;
	if (buf[0] == WIRE_RESUME && len == WIRE_RESUME_LEN)
		return WIRE_RESUME;
	if (buf[0] == WIRE_RESUMED && len == WIRE_RESUMED_LEN)
		return WIRE_RESUMED;
	return 0;
}

int
wire_rec_parse(const uint8_t *pt, size_t ptlen, struct wire_rec *out)
{
	if (ptlen < WIRE_REC_HDR || ptlen > WIRE_REC_HDR + WIRE_REC_MAXDATA)
		return -1;
	if (pt[1] != 0 || !all_zero(pt + 2, 6))
		return -1;
	out->type = pt[0];
	out->seq = wire_get64(pt + 8);
	out->ack = wire_get64(pt + 16);
	out->body = pt + WIRE_REC_HDR;
	out->bodylen = ptlen - WIRE_REC_HDR;
	switch (out->type) {
	case WIRE_REC_HELLO:
		return out->bodylen == WIRE_HELLO_BODY ? 0 : -1;
	case WIRE_REC_DATA:
		return out->bodylen >= 1 ? 0 : -1;
	case WIRE_REC_ACK:
	case WIRE_REC_FIN:
		return out->bodylen == 0 ? 0 : -1;
	case WIRE_REC_CLOSE:
		return out->bodylen >= 1 &&
		    out->bodylen <= 1 + WIRE_CLOSE_TEXT_MAX ? 0 : -1;
	default:
		return -1;
	}
}

void
wire_rec_hdr(uint8_t out[WIRE_REC_HDR], uint8_t type, uint64_t seq, uint64_t ack)
{
	memset(out, 0, 8);
	out[0] = type;
	wire_put64(out + 8, seq);
	wire_put64(out + 16, ack);
}

void
wire_tai64n(uint8_t out[WIRE_TAI64N_LEN], uint64_t sec, uint32_t nsec)
{
	wire_put64(out, WIRE_TAI64_UNIX + sec);
	wire_put32(out + 8, nsec);
}

uint64_t
wire_tai64n_unix(const uint8_t ts[WIRE_TAI64N_LEN])
{
	return wire_get64(ts) - WIRE_TAI64_UNIX;
}
