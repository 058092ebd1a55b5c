/*
 * grant_filter: the grant listener's source filter (grant.h), a classic
 * BPF program attached with SO_ATTACH_FILTER.  Linux only, and only
 * warrend links it: it is kept out of grant.c so that the client agent,
 * which needs grant_port, links nothing Linux only (compat.h).
 */
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "grant.h"
#include "wire.h"

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
