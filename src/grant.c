/*
 * grant: the port PRF, which both ends compute.  The listener's source
 * filter is in grant_filter.c: only the node links it (Linux only).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "grant.h"
#include "wire.h"

#define PORT_LABEL "warren port"

int
grant_port(const uint8_t key[32], uint32_t decoy, uint32_t window,
    const uint8_t addr[16], int lo, int hi)
{
	uint8_t msg[sizeof(PORT_LABEL) - 1 + 4 + 4 + 16], mac[32];
	const uint8_t *parts[1] = { msg };
	size_t lens[1] = { sizeof(msg) }, off = sizeof(PORT_LABEL) - 1;

	if (lo < 1 || hi > 65535 || lo > hi)
		return -1;
	memcpy(msg, PORT_LABEL, off);
	wire_put32(msg + off, decoy);
	wire_put32(msg + off + 4, window);
	memcpy(msg + off + 8, addr, 16);
	if (crypto_hmac(CRYPTO_SHA256, mac, key, 32, parts, lens, 1))
		return -1;
	return lo + (int)(wire_get64(mac) % (uint64_t)(hi - lo + 1));
}

void
grant_addr16(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
}
