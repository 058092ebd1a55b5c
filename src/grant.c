/*
 * grant: the port PRF and the listener's source filter.
 */
#include <arpa/inet.h>
#include <linux/filter.h>
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

int
grant_filter(int fd, const struct sockaddr *client)
{
	uint8_t a[16];
	uint32_t w[4];
	int v4;

	grant_addr16(client, a);
	v4 = memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	for (int i = 0; i < 4; i++)
		w[i] = wire_get32(a + 4 * i);
	/*
	 * The filter sees the TCP segment; SKF_NET_OFF reaches the IP header.
	 * IPv4 source is at offset 12, IPv6 source at offsets 8..23.  A v4
	 * client (even on a dual-stack socket) arrives in an IPv4 header.
	 */
	struct sock_filter v4prog[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[3], 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_filter v6prog[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, SKF_NET_OFF + 0),
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 9),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[0], 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[1], 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 16),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[2], 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_NET_OFF + 20),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, w[3], 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog;

	if (v4) {
		prog.len = sizeof(v4prog) / sizeof(v4prog[0]);
		prog.filter = v4prog;
	} else {
		prog.len = sizeof(v6prog) / sizeof(v6prog[0]);
		prog.filter = v6prog;
	}
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}
