/*
 * flood: a flood of hostile UDP packets at warrend's front door, and the
 * two helpers bench/flood.sh needs around it.  Loopback (127.0.0.0/8)
 * only: every address it sends to or binds must be in 127/8.
 *
 * flood [-t SECONDS] [-r RATE] [-k KINDS] [-n SOURCES] [-a FIRST]
 *       [-p POOL] [-s SERVICE] [-R FILE] -K PUBFILE HOST:PORT
 *   For SECONDS (default 30) send, as fast as possible or at RATE packets
 *   per second in all, from SOURCES sockets (default 256), each bound to
 *   its own address FIRST, FIRST+1, ... (default 127.1.0.1; last octets 0
 *   and 255 are skipped), a mix of the KINDS (comma separated; default
 *   junk,badmac,attacker,unknown, plus replay with -R):
 *     junk      random bytes, random sizes 1..1400
 *     badmac    INIT-sized with a valid header and a wrong mac1
 *     attacker  well-formed INITs with a valid mac1, each from a fresh
 *               random (unauthorized) client key, for SERVICE: a pool of
 *               POOL packets (default 1000) made at start, sent round robin
 *     unknown   well-formed INITs from a few (16) "authorized-looking" but
 *               unknown keys that reconnect like a real agent, POOL packets
 *     replay    the captured legitimate INIT in FILE (WIRE_INIT_LEN bytes)
 *     cookie    like attacker (its own pool), but it answers the node's
 *               COOKIE replies: it decrypts the cookie (the attacker knows
 *               the node's public key and receives at its real address)
 *               and sends later INITs from that socket with a valid mac2
 *   The kinds take turns packet by packet, so each gets an equal share.
 *   PUBFILE holds the node's public key (base64).  Replies are read and
 *   counted by type and by the kind whose INIT they answer.  Prints the
 *   packets sent per kind, the rate achieved and the flooder's own CPU
 *   time, then one "flood: key=value ..." line for scripts.
 *
 * flood -C LPORT -o FILE [-t SECONDS] HOST:PORT
 *   Capture: a UDP relay on 127.0.0.1:LPORT to HOST:PORT that writes the
 *   first INIT-sized datagram it forwards to FILE, relays answers back,
 *   and exits 2 s after the capture (or after SECONDS, default 10; exit 1
 *   if nothing was captured).  Point a client at LPORT to capture a
 *   legitimate INIT the way an on-path attacker would.
 *
 * flood -L PORT -r RATE [-c CONC] [-t SECONDS]
 *   Legitimate sessions, paced: start RATE sessions per second (default
 *   10) on a fixed schedule for SECONDS, on up to CONC (default 16)
 *   concurrent threads.  A session is bench/connrate's: connect to
 *   127.0.0.1:PORT, write 'e', wait for it to come back (5 s timeouts),
 *   close; its latency runs from just before connect().  Prints
 *     attempted=N sessions=N errors=E seconds=S rate=R p50_ms=A p90_ms=B
 *     p99_ms=C max_ms=D late=L
 *   (late: sessions that started more than 10 ms after their slot because
 *   every thread was busy).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cookie.h"
#include "crypto.h"
#include "handshake.h"
#include "session.h"
#include "wire.h"

#define MAC1_OFF (8 + WIRE_INIT_NOISE)
#define MAC2_OFF (MAC1_OFF + WIRE_MACLEN)
#define JUNK_MAX 1400
#define RANDPOOL 4096           /* junk and badmac packets made at start */
#define BATCH 32                /* packets per sendmmsg */
#define UNKNOWN_KEYS 16

enum kind { K_JUNK, K_BADMAC, K_ATTACKER, K_UNKNOWN, K_REPLAY, K_COOKIE, NKINDS };
static const char *kind_name[NKINDS] = {
	"junk", "badmac", "attacker", "unknown", "replay", "cookie"
};

struct pool {
	uint8_t *buf;           /* n packets of stride bytes */
	uint16_t *len;
	size_t n, stride, next;
};

struct src {
	int fd;
	uint32_t addr;          /* host order */
	uint8_t cookie[16];
	int has_cookie;
};

static volatile sig_atomic_t stop;


static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
die(const char *msg)
{
	fprintf(stderr, "flood: %s\n", msg);
	exit(1);
}

static void
rnd(uint8_t *buf, size_t len)
{
	if (crypto_random(buf, len))
		die("crypto_random failed");
}

/* Parse "A.B.C.D:PORT" in 127/8 into ${sin}. */
static int
parse_dst(const char *s, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtol(colon + 1, NULL, 10);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 || port < 1 ||
	    port > 65535)
		return -1;
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "flood: %s is not in 127.0.0.0/8; flood "
		    "works on loopback only\n", host);
		exit(2);
	}
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

static void
pool_init(struct pool *p, size_t n, size_t stride)
{
	p->n = n;
	p->stride = stride;
	p->next = 0;
	if ((p->buf = calloc(n, stride)) == NULL ||
	    (p->len = calloc(n, sizeof(*p->len))) == NULL)
		die("out of memory");
}

static uint8_t *
pool_pkt(struct pool *p, size_t i)
{
	return p->buf + i * p->stride;
}

/* Fill ${p} with INITs from ${nkeys} client keys (0: a fresh key each). */
static void
pool_inits(struct pool *p, size_t n, size_t nkeys, const uint8_t spub[32],
    const char *service)
{
	uint8_t (*keys)[32] = NULL;
	uint8_t priv[32];

	pool_init(p, n, WIRE_INIT_LEN);
	if (nkeys > 0) {
		if ((keys = calloc(nkeys, 32)) == NULL)
			die("out of memory");
		for (size_t k = 0; k < nkeys; k++)
			rnd(keys[k], 32);
	}
	for (size_t i = 0; i < n; i++) {
		struct hs_client *c;

		if (keys != NULL)
			memcpy(priv, keys[i % nkeys], 32);
		else
			rnd(priv, 32);
		if ((c = hs_client_start(priv, spub, NULL, service,
		    pool_pkt(p, i))) == NULL)
			die("hs_client_start failed");
		hs_client_free(c);
		p->len[i] = WIRE_INIT_LEN;
	}
	crypto_wipe(priv, sizeof(priv));
	free(keys);
}

/* Map an INIT's sender index to the kind of the pool it came from. */
#define SMAP_SIZE 16384
static struct { uint32_t sender; int8_t kind; int32_t idx; } smap[SMAP_SIZE];

static void
smap_add(uint32_t sender, int kind, size_t idx)
{
	size_t h = (sender * 2654435761u) % SMAP_SIZE;

	for (size_t i = 0; i < SMAP_SIZE; i++, h = (h + 1) % SMAP_SIZE)
		if (smap[h].kind == 0) {
			smap[h].sender = sender;
			smap[h].kind = (int8_t)(kind + 1);
			smap[h].idx = (int32_t)idx;
			return;
		}
}

static int
smap_find(uint32_t sender, size_t *idx)
{
	size_t h = (sender * 2654435761u) % SMAP_SIZE;

	for (size_t i = 0; i < SMAP_SIZE && smap[h].kind; i++,
	    h = (h + 1) % SMAP_SIZE)
		if (smap[h].sender == sender) {
			*idx = (size_t)smap[h].idx;
			return smap[h].kind - 1;
		}
	return -1;
}

static void
smap_pool(const struct pool *p, int kind)
{
	for (size_t i = 0; i < p->n; i++)
		smap_add(wire_get32(p->buf + i * p->stride + 4), kind, i);
}

static int
read_pub(const char *path, uint8_t pub[32])
{
	char text[256];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	return crypto_b64_decode32(text, pub);
}

static int
read_file(const char *path, uint8_t *buf, size_t len)
{
	FILE *f;
	size_t n;
	uint8_t extra;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	n = fread(buf, 1, len, f);
	if (n == len && fread(&extra, 1, 1, f) == 1)
		n = 0;           /* longer than an INIT */
	fclose(f);
	return n == len ? 0 : -1;
}

/* ------------------------------------------------------------ flood */

struct flood {
	struct src *src;
	size_t nsrc;
	struct pool pool[NKINDS];
	int mix[NKINDS], nmix;
	uint8_t spub[32];                 /* the node's public key */
	uint64_t sent[NKINDS], bytes;
	uint64_t reply_type[4];           /* other, INIT?, RESP, COOKIE */
	uint64_t reply_kind[NKINDS + 1];  /* by answered kind; [NKINDS] unknown */
	uint64_t cookies_used, cookie_bad, refused, send_err;
};

/* A COOKIE from the node: open it as the real client does and keep it. */
static void
take_cookie(struct flood *fl, struct src *s, const uint8_t *pkt, size_t len,
    size_t idx)
{
	if (cookie_open(fl->spub, pool_pkt(&fl->pool[K_COOKIE], idx), pkt, len,
	    s->cookie) == 0)
		s->has_cookie = 1;
	else
		fl->cookie_bad++;
}

/* Read and count whatever the node sent back to ${s}. */
static void
drain(struct flood *fl, struct src *s)
{
	uint8_t buf[2048];
	ssize_t n;
	size_t idx;
	int k, t;

	for (;;) {
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				fl->refused++;
				continue;
			}
			return;
		}
		t = n >= 4 ? wire_packet_type(buf, (size_t)n) : 0;
		fl->reply_type[t <= 3 ? t : 0]++;
		k = -1;
		if (t == WIRE_COOKIE)
			k = smap_find(wire_get32(buf + 4), &idx);
		else if (t == WIRE_RESP)
			k = smap_find(wire_get32(buf + 8), &idx);
		fl->reply_kind[k < 0 ? NKINDS : k]++;
		if (t == WIRE_COOKIE && k == K_COOKIE)
			take_cookie(fl, s, buf, (size_t)n, idx);
	}
}

static int
parse_kinds(const char *s, int mix[NKINDS])
{
	char *copy = strdup(s), *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < NKINDS; k++)
			if (strcmp(tok, kind_name[k]) == 0)
				break;
		if (k == NKINDS) {
			fprintf(stderr, "flood: unknown kind %s (junk badmac "
			    "attacker unknown replay cookie)\n", tok);
			exit(2);
		}
		for (int i = 0; i < n; i++)
			if (mix[i] == k)
				goto next;
		mix[n++] = k;
next:		;
	}
	free(copy);
	return n;
}

static int
run_flood(double secs, double rate, const char *kinds, size_t nsrc,
    const char *first, size_t poolsz, const char *service,
    const char *replay, const char *pubfile, const char *dst)
{
	static struct flood fl;
	struct sockaddr_in to, from;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	static uint8_t scratch[BATCH][WIRE_INIT_LEN];
	int slot_kind[BATCH];
	uint8_t spub[32];
	uint32_t a0;
	double t0, t1, tgen;
	uint64_t total = 0, mixctr = 0;
	struct rusage ru;

	if (parse_dst(dst, &to))
		die("bad HOST:PORT");
	if (pubfile == NULL || read_pub(pubfile, spub))
		die("-K: cannot read the node's public key (base64) file");
	if (inet_pton(AF_INET, first, &from.sin_addr) != 1 ||
	    (ntohl(from.sin_addr.s_addr) >> 24) != 127)
		die("-a: the first source address must be in 127.0.0.0/8");
	a0 = ntohl(from.sin_addr.s_addr);
	fl.nmix = parse_kinds(kinds != NULL ? kinds : replay != NULL ?
	    "junk,badmac,attacker,unknown,replay" :
	    "junk,badmac,attacker,unknown", fl.mix);
	if (fl.nmix == 0)
		die("-k: no kinds");

	/* The packets. */
	tgen = now();
	memcpy(fl.spub, spub, 32);
	for (int i = 0; i < fl.nmix; i++) {
		struct pool *p = &fl.pool[fl.mix[i]];

		switch (fl.mix[i]) {
		case K_JUNK:
			pool_init(p, RANDPOOL, JUNK_MAX);
			rnd(p->buf, RANDPOOL * JUNK_MAX);
			for (size_t j = 0; j < RANDPOOL; j++) {
				uint16_t r;

				rnd((uint8_t *)&r, sizeof(r));
				p->len[j] = 1 + r % JUNK_MAX;
			}
			break;
		case K_BADMAC:
			pool_init(p, RANDPOOL, WIRE_INIT_LEN);
			rnd(p->buf, RANDPOOL * WIRE_INIT_LEN);
			for (size_t j = 0; j < RANDPOOL; j++) {
				uint8_t *q = pool_pkt(p, j);

				q[0] = WIRE_INIT;
				q[1] = WIRE_VERSION;
				q[2] = q[3] = 0;
				memset(q + MAC2_OFF, 0, WIRE_MACLEN);
				p->len[j] = WIRE_INIT_LEN;
			}
			break;
		case K_ATTACKER:
		case K_COOKIE:
			pool_inits(p, poolsz, 0, spub, service);
			smap_pool(p, fl.mix[i]);
			break;
		case K_UNKNOWN:
			pool_inits(p, poolsz, UNKNOWN_KEYS, spub, service);
			smap_pool(p, K_UNKNOWN);
			break;
		case K_REPLAY:
			pool_init(p, 1, WIRE_INIT_LEN);
			if (replay == NULL || read_file(replay, p->buf,
			    WIRE_INIT_LEN))
				die("replay: -R FILE must hold one captured "
				    "INIT (WIRE_INIT_LEN bytes)");
			p->len[0] = WIRE_INIT_LEN;
			smap_pool(p, K_REPLAY);
			break;
		}
	}
	tgen = now() - tgen;

	/* The sources. */
	if ((fl.src = calloc(nsrc, sizeof(*fl.src))) == NULL)
		die("out of memory");
	for (uint32_t a = a0; fl.nsrc < nsrc; a++) {
		struct src *s = &fl.src[fl.nsrc];
		int fd;

		if ((a & 0xff) == 0 || (a & 0xff) == 255)
			continue;
		if ((a >> 24) != 127)
			die("-n: the source addresses run out of 127.0.0.0/8");
		from.sin_family = AF_INET;
		from.sin_port = 0;
		from.sin_addr.s_addr = htonl(a);
		if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)) < 0 ||
		    bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
		    connect(fd, (struct sockaddr *)&to, sizeof(to))) {
			perror("flood: socket/bind/connect");
			exit(1);
		}
		s->fd = fd;
		s->addr = a;
		fl.nsrc++;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	memset(msgs, 0, sizeof(msgs));
	for (int j = 0; j < BATCH; j++) {
		msgs[j].msg_hdr.msg_iov = &iov[j];
		msgs[j].msg_hdr.msg_iovlen = 1;
	}
	fprintf(stderr, "flood: %zu sources from %s, kinds:", fl.nsrc, first);
	for (int i = 0; i < fl.nmix; i++)
		fprintf(stderr, " %s", kind_name[fl.mix[i]]);
	fprintf(stderr, "; packets made in %.2f s; flooding %s for %.0f s%s\n",
	    tgen, dst, secs, rate > 0 ? "" : " as fast as possible");

	t0 = now();
	t1 = t0;
	while (!stop && t1 - t0 < secs) {
		for (size_t si = 0; si < fl.nsrc && !stop; si++) {
			struct src *s = &fl.src[si];
			int n;

			if (rate > 0) {
				double allowed = rate * (now() - t0) - (double)total;

				if (allowed < BATCH) {
					double wait = (BATCH - allowed) / rate;
					struct timespec ts = { (time_t)wait,
					    (long)((wait - (time_t)wait) * 1e9) };

					nanosleep(&ts, NULL);
				}
			}
			for (int j = 0; j < BATCH; j++) {
				int k = fl.mix[mixctr++ % (uint64_t)fl.nmix];
				struct pool *p = &fl.pool[k];
				size_t i = p->next++ % p->n;
				uint8_t *pkt = pool_pkt(p, i);

				if (k == K_COOKIE && s->has_cookie) {
					memcpy(scratch[j], pkt, WIRE_INIT_LEN);
					if (cookie_mac2(s->cookie, scratch[j]) == 0)
						fl.cookies_used++;
					pkt = scratch[j];
				}
				iov[j].iov_base = pkt;
				iov[j].iov_len = p->len[i];
				slot_kind[j] = k;
			}
			n = sendmmsg(s->fd, msgs, BATCH, 0);
			if (n < 0) {
				if (errno == ECONNREFUSED)
					fl.refused++;
				else
					fl.send_err++;
				n = 0;
			}
			for (int j = 0; j < n; j++) {
				fl.sent[slot_kind[j]]++;
				fl.bytes += iov[j].iov_len;
			}
			total += (uint64_t)n;
		}
		for (size_t si = 0; si < fl.nsrc; si++)
			drain(&fl, &fl.src[si]);
		t1 = now();
	}
	t1 = now() - t0;
	for (size_t si = 0; si < fl.nsrc; si++)
		drain(&fl, &fl.src[si]);
	getrusage(RUSAGE_SELF, &ru);

	printf("%-10s %12s\n", "kind", "sent");
	for (int i = 0; i < fl.nmix; i++)
		printf("%-10s %12llu\n", kind_name[fl.mix[i]],
		    (unsigned long long)fl.sent[fl.mix[i]]);
	printf("%-10s %12llu in %.1f s: %.0f packets/s, %.0f Mb/s of UDP "
	    "payload, from %zu sources\n", "total", (unsigned long long)total,
	    t1, total / t1, fl.bytes * 8 / t1 / 1e6, fl.nsrc);
	printf("replies: %llu cookie, %llu resp, %llu other; answering "
	    "attacker %llu, unknown %llu, replay %llu, cookie %llu; "
	    "INITs sent with a mac2: %llu\n",
	    (unsigned long long)fl.reply_type[WIRE_COOKIE],
	    (unsigned long long)fl.reply_type[WIRE_RESP],
	    (unsigned long long)(fl.reply_type[0] + fl.reply_type[1]),
	    (unsigned long long)fl.reply_kind[K_ATTACKER],
	    (unsigned long long)fl.reply_kind[K_UNKNOWN],
	    (unsigned long long)fl.reply_kind[K_REPLAY],
	    (unsigned long long)fl.reply_kind[K_COOKIE],
	    (unsigned long long)fl.cookies_used);
	printf("flooder CPU: %.2f s user + %.2f s system (%.2f us per packet)"
	    "%s\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	    total ? (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 - tgen) * 1e6 /
	    (double)total : 0.0,
	    fl.refused ? " (the node's port refused packets: is warrend "
	    "still running?)" : "");
	printf("flood: sent=%llu seconds=%.2f rate=%.0f mbps=%.0f sources=%zu",
	    (unsigned long long)total, t1, total / t1,
	    fl.bytes * 8 / t1 / 1e6, fl.nsrc);
	for (int k = 0; k < NKINDS; k++)
		printf(" %s=%llu", kind_name[k], (unsigned long long)fl.sent[k]);
	printf(" replies_cookie=%llu replies_resp=%llu replies_other=%llu "
	    "resp_to_replay=%llu mac2_sent=%llu cookie_bad=%llu refused=%llu "
	    "send_errors=%llu cpu_s=%.2f\n",
	    (unsigned long long)fl.reply_type[WIRE_COOKIE],
	    (unsigned long long)fl.reply_type[WIRE_RESP],
	    (unsigned long long)(fl.reply_type[0] + fl.reply_type[1]),
	    (unsigned long long)(fl.reply_type[WIRE_RESP] ?
	    fl.reply_kind[K_REPLAY] : 0),
	    (unsigned long long)fl.cookies_used,
	    (unsigned long long)fl.cookie_bad,
	    (unsigned long long)fl.refused,
	    (unsigned long long)fl.send_err,
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	return total == 0;
}

/* ------------------------------------------------------------ capture */

static int
run_capture(int lport, const char *out, double secs, const char *dst)
{
	struct sockaddr_in to, lsin = { .sin_family = AF_INET }, up = {
		.sin_family = AF_INET }, client;
	socklen_t clen = 0;
	uint8_t buf[2048];
	int lfd, ufd, got = 0;
	double t0 = now(), tcap = 0;

	if (parse_dst(dst, &to))
		die("bad HOST:PORT");
	lsin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsin.sin_port = htons((uint16_t)lport);
	up.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&lsin, sizeof(lsin)) ||
	    (ufd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(ufd, (struct sockaddr *)&up, sizeof(up)) ||
	    connect(ufd, (struct sockaddr *)&to, sizeof(to))) {
		perror("flood: capture: socket");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		struct pollfd pfd[2] = { { lfd, POLLIN, 0 }, { ufd, POLLIN, 0 } };
		double t = now();
		ssize_t n;

		if (t - t0 > secs || (got && t - tcap > 2))
			break;
		if (poll(pfd, 2, 100) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct sockaddr_in from;
			socklen_t flen = sizeof(from);

			n = recvfrom(lfd, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &flen);
			if (n > 0) {
				client = from;
				clen = flen;
				if (!got && n == WIRE_INIT_LEN) {
					FILE *f = fopen(out, "wb");

					if (f == NULL || fwrite(buf, 1,
					    (size_t)n, f) != (size_t)n ||
					    fclose(f)) {
						perror("flood: capture: write");
						return 1;
					}
					got = 1;
					tcap = now();
					fprintf(stderr, "flood: captured a "
					    "%zd-byte INIT into %s\n", n, out);
				}
				(void)send(ufd, buf, (size_t)n, 0);
			}
		}
		if (pfd[1].revents & POLLIN) {
			n = recv(ufd, buf, sizeof(buf), 0);
			if (n > 0 && clen > 0)
				(void)sendto(lfd, buf, (size_t)n, 0,
				    (struct sockaddr *)&client, clen);
		}
	}
	if (!got)
		fprintf(stderr, "flood: capture: no INIT within %.0f s\n", secs);
	return got ? 0 : 1;
}

/* ------------------------------------------------------------ legit */

static struct sockaddr_in legit_dst = { .sin_family = AF_INET };
static double legit_t0, legit_deadline, legit_rate;
static atomic_ulong legit_next;

struct worker {
	pthread_t tid;
	double *lat;
	size_t n, cap;
	unsigned long errors, late;
	char lasterr[128];
};

static double
legit_session(struct worker *w)
{
	double l = echo_session(&legit_dst, w->lasterr, sizeof(w->lasterr));

	if (l < 0)
		w->errors++;
	return l;
}

static void *
legit_run(void *arg)
{
	struct worker *w = arg;

	for (;;) {
		unsigned long k = atomic_fetch_add(&legit_next, 1);
		double at = legit_t0 + (double)k / legit_rate, t, l;

		if (at >= legit_deadline)
			break;
		if ((t = now()) < at) {
			double wait = at - t;
			struct timespec ts = { (time_t)wait,
			    (long)((wait - (time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		} else if (t - at > 0.010)
			w->late++;
		if ((l = legit_session(w)) < 0)
			continue;
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 1024;
			if ((w->lat = realloc(w->lat, w->cap * sizeof(double)))
			    == NULL)
				die("out of memory");
		}
		w->lat[w->n++] = l;
	}
	return NULL;
}

static int
run_legit(int port, double rate, int conc, double secs)
{
	struct worker *w;
	double *all, t;
	size_t n = 0;
	unsigned long errors = 0, late = 0;

	if (rate <= 0 || conc < 1 ||
	    (w = calloc((size_t)conc, sizeof(*w))) == NULL)
		die("-L: need a positive -r RATE and -c CONC");
	signal(SIGPIPE, SIG_IGN);
	legit_dst.sin_port = htons((uint16_t)port);
	legit_dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	legit_rate = rate;
	legit_t0 = now();
	legit_deadline = legit_t0 + secs;
	for (int i = 0; i < conc; i++)
		if (pthread_create(&w[i].tid, NULL, legit_run, &w[i]))
			die("pthread_create failed");
	for (int i = 0; i < conc; i++) {
		pthread_join(w[i].tid, NULL);
		n += w[i].n;
		errors += w[i].errors;
		late += w[i].late;
	}
	t = now() - legit_t0;
	if ((all = malloc((n ? n : 1) * sizeof(double))) == NULL)
		die("out of memory");
	n = 0;
	for (int i = 0; i < conc; i++) {
		memcpy(all + n, w[i].lat, w[i].n * sizeof(double));
		n += w[i].n;
	}
	qsort(all, n, sizeof(double), cmp);
	printf("attempted=%lu sessions=%zu errors=%lu seconds=%.2f rate=%.1f "
	    "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f late=%lu\n",
	    n + errors, n, errors, t, n / t, pct(all, n, 50) * 1e3,
	    pct(all, n, 90) * 1e3, pct(all, n, 99) * 1e3,
	    n ? all[n - 1] * 1e3 : 0.0, late);
	for (int i = 0; i < conc; i++)
		if (w[i].errors) {
			fprintf(stderr, "flood: legit: last error: %s\n",
			    w[i].lasterr);
			break;
		}
	return n == 0;
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: flood [-t SECONDS] [-r RATE] [-k KINDS] [-n SOURCES] "
	    "[-a FIRST] [-p POOL]\n"
	    "             [-s SERVICE] [-R FILE] -K PUBFILE HOST:PORT\n"
	    "       flood -C LPORT -o FILE [-t SECONDS] HOST:PORT\n"
	    "       flood -L PORT [-r RATE] [-c CONC] [-t SECONDS]\n"
	    "  KINDS: junk,badmac,attacker,unknown,replay,cookie "
	    "(HOST in 127.0.0.0/8 only)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double secs = -1, rate = 0;
	const char *kinds = NULL, *first = "127.1.0.1", *service = "bench";
	const char *replay = NULL, *pubfile = NULL, *out = NULL;
	size_t nsrc = 256, poolsz = 1000;
	int capture = 0, legit = 0, conc = 16, c;

	while ((c = getopt(argc, argv, "t:r:k:n:a:p:s:R:K:C:o:L:c:h")) != -1) {
		switch (c) {
		case 't': secs = atof(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'k': kinds = optarg; break;
		case 'n': nsrc = (size_t)strtoul(optarg, NULL, 10); break;
		case 'a': first = optarg; break;
		case 'p': poolsz = (size_t)strtoul(optarg, NULL, 10); break;
		case 's': service = optarg; break;
		case 'R': replay = optarg; break;
		case 'K': pubfile = optarg; break;
		case 'C': capture = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'L': legit = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		default: usage();
		}
	}
	if (legit > 0) {
		if (optind != argc)
			usage();
		return run_legit(legit, rate > 0 ? rate : 10, conc,
		    secs >= 0 ? secs : 10);
	}
	if (optind + 1 != argc)
		usage();
	if (capture > 0) {
		if (out == NULL)
			usage();
		return run_capture(capture, out, secs >= 0 ? secs : 10,
		    argv[optind]);
	}
	if (nsrc < 1 || poolsz < 1 || poolsz > 4000 || secs == 0)
		die("need SOURCES >= 1, POOL 1..4000 and SECONDS > 0");
	return run_flood(secs >= 0 ? secs : 30, rate, kinds, nsrc, first,
	    poolsz, service, replay, pubfile, argv[optind]);
}
