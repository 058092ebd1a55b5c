/*
 * grant_bpf: the shared grant filter (grant_bpf.h), an eBPF socket filter
 * and a hash map from a grant's port to its client's address, through the
 * bpf(2) system call.  The program is 43 instructions, assembled below;
 * it is kept that small on purpose, so that it needs no compiler for BPF
 * and no loader library.
 */
#include <linux/bpf.h>
#include <linux/filter.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "grant.h"
#include "grant_bpf.h"
#include "wire.h"

struct grant_bpf {
	int map;    /* u32 port (host order) -> 4 x u32 address (host order) */
	int prog;
};

/* One instruction; eBPF jump offsets count from the next instruction. */
#define I(c, d, s, o, i) \
	{ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) }
#define LD_ABS(size, k)   I(BPF_LD | (size) | BPF_ABS, 0, 0, 0, (k))
#define ST_FP(off, k)     I(BPF_ST | BPF_MEM | BPF_W, 10, 0, (off), (k))
#define STX_FP(off, src)  I(BPF_STX | BPF_MEM | BPF_W, 10, (src), (off), 0)
#define LDX_W(d, s, off)  I(BPF_LDX | BPF_MEM | BPF_W, (d), (s), (off), 0)
#define JNE_X(a, b, off)  I(BPF_JMP | BPF_JNE | BPF_X, (a), (b), (off), 0)

static long
sys_bpf(int cmd, union bpf_attr *a)
{

	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

/*
 * Load the program for map ${map}.  The filter sees the TCP segment (its
 * data starts at the TCP header, so the destination port is at 2) and
 * reaches the IP header through SKF_NET_OFF; the source IP goes to the
 * stack as four host-order words, IPv4 as ::ffff:a.b.c.d (grant_addr16),
 * and must equal the map's value for the port.  Accept: the whole
 * packet; drop: 0.  LD_ABS needs the context in r6 and drops a packet
 * too short for it.
 */
static int
load(int map)
{
	struct bpf_insn prog[] = {
		/* 0 */ I(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		/* 1 */ LD_ABS(BPF_B, SKF_NET_OFF + 0),
		/* 2 */ I(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 4),
		/* 3 */ I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7, 6),    /* 11 */
		/* 4 */ I(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 36, 4),   /* 41 */
		/* 5 */ LD_ABS(BPF_W, SKF_NET_OFF + 12),
		/* 6 */ STX_FP(-4, 0),
		/* 7 */ ST_FP(-16, 0),
		/* 8 */ ST_FP(-12, 0),
		/* 9 */ ST_FP(-8, 0xffff),
		/* 10 */ I(BPF_JMP | BPF_JA, 0, 0, 8, 0),           /* 19 */
		/* 11 */ LD_ABS(BPF_W, SKF_NET_OFF + 8),
		/* 12 */ STX_FP(-16, 0),
		/* 13 */ LD_ABS(BPF_W, SKF_NET_OFF + 12),
		/* 14 */ STX_FP(-12, 0),
		/* 15 */ LD_ABS(BPF_W, SKF_NET_OFF + 16),
		/* 16 */ STX_FP(-8, 0),
		/* 17 */ LD_ABS(BPF_W, SKF_NET_OFF + 20),
		/* 18 */ STX_FP(-4, 0),
		/* 19 */ LD_ABS(BPF_H, 2),
		/* 20 */ STX_FP(-20, 0),
		/* 21 */ I(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0,
		    map),
		/* 22 */ I(0, 0, 0, 0, 0),
		/* 23 */ I(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		/* 24 */ I(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -20),
		/* 25 */ I(BPF_JMP | BPF_CALL, 0, 0, 0,
		    BPF_FUNC_map_lookup_elem),
		/* 26 */ I(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 14, 0),  /* 41 */
		/* 27 */ LDX_W(1, 0, 0),
		/* 28 */ LDX_W(2, 10, -16),
		/* 29 */ JNE_X(1, 2, 11),                            /* 41 */
		/* 30 */ LDX_W(1, 0, 4),
		/* 31 */ LDX_W(2, 10, -12),
		/* 32 */ JNE_X(1, 2, 8),                             /* 41 */
		/* 33 */ LDX_W(1, 0, 8),
		/* 34 */ LDX_W(2, 10, -8),
		/* 35 */ JNE_X(1, 2, 5),                             /* 41 */
		/* 36 */ LDX_W(1, 0, 12),
		/* 37 */ LDX_W(2, 10, -4),
		/* 38 */ JNE_X(1, 2, 2),                             /* 41 */
		/* 39 */ I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, -1),
		/* 40 */ I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		/* 41 */ I(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		/* 42 */ I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
	a.license = (uintptr_t)"BSD";
	return (int)sys_bpf(BPF_PROG_LOAD, &a);
}

struct grant_bpf *
grant_bpf_new(unsigned ports)
{
	struct grant_bpf *gb;
	union bpf_attr a;
	int e;

	if ((gb = malloc(sizeof(*gb))) == NULL)
		return NULL;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = sizeof(uint32_t);
	a.value_size = 4 * sizeof(uint32_t);
	a.max_entries = ports > 0 ? ports : 1;
	a.map_flags = BPF_F_NO_PREALLOC;   /* memory only for open grants */
	if ((gb->map = (int)sys_bpf(BPF_MAP_CREATE, &a)) < 0) {
		free(gb);
		return NULL;
	}
	if ((gb->prog = load(gb->map)) < 0) {
		e = errno;
		(void)close(gb->map);
		free(gb);
		errno = e;
		return NULL;
	}
	return gb;
}

/* Update (${flags}) or delete (${v} NULL) ${port}'s entry in ${gb}'s map. */
static int
map_set(struct grant_bpf *gb, int port, const uint32_t *v, uint64_t flags)
{
	uint32_t key = (uint32_t)port;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)gb->map;
	a.key = (uintptr_t)&key;
	if (v == NULL)
		return (int)sys_bpf(BPF_MAP_DELETE_ELEM, &a);
	a.value = (uintptr_t)v;
	a.flags = flags;
	return (int)sys_bpf(BPF_MAP_UPDATE_ELEM, &a);
}

int
grant_bpf_admit(struct grant_bpf *gb, int fd, int port,
    const struct sockaddr *client)
{
	uint8_t a16[16];
	uint32_t w[4];
	int e;

	grant_addr16(client, a16);
	for (int i = 0; i < 4; i++)
		w[i] = wire_get32(a16 + 4 * i);
	if (map_set(gb, port, w, BPF_NOEXIST) < 0) {
		if (errno == EEXIST)
			errno = EADDRINUSE;
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &gb->prog,
	    sizeof(gb->prog)) < 0) {
		e = errno;
		grant_bpf_release(gb, port);
		errno = e;
		return -1;
	}
	return 0;
}

void
grant_bpf_release(struct grant_bpf *gb, int port)
{

	(void)map_set(gb, port, NULL, 0);
}

void
grant_bpf_free(struct grant_bpf *gb)
{

	if (gb == NULL)
		return;
	(void)close(gb->prog);
	(void)close(gb->map);
	free(gb);
}
