/*
 * test_limit: the front door's token buckets, the bounded per-source
 * table and the per-address counters (src/limit.c), over simulated time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "crypto.h"
#include "limit.h"

#define T0 5000000ULL        /* an arbitrary loop time, ms */

/* Make a key for IPv4 ${n} (a 32-bit number) and port ${port}. */
static void
key4(uint32_t n, int port, int with_port, uint8_t key[LIMIT_KEYLEN])
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(n);
	sin.sin_port = htons((uint16_t)port);
	limit_key((struct sockaddr *)&sin, with_port, 1, key);
}

static void
sa6(struct sockaddr_in6 *sin6, const char *ip, int port)
{
	memset(sin6, 0, sizeof(*sin6));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
}

static void
sa4(struct sockaddr_in *sin, const char *ip, int port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

/* Take from ${tb} at ${now} until it says no; return how many it gave. */
static int
drain(struct limit_tb *tb, double rate, double burst, uint64_t now)
{
	int n = 0;

	while (limit_tb_take(tb, rate, burst, now))
		n++;
	return n;
}

/* A new bucket starts full; then it refills at the rate, capped at burst. */
static void
test_tb_burst_rate(void **state)
{
	struct limit_tb tb;

	memset(&tb, 0, sizeof(tb));
	/* 20/s, burst 5 (the source defaults): 5 at once, then 1 per 50 ms. */
	assert_int_equal(drain(&tb, 20, 5, T0), 5);
	assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + 25), 0);  /* 0.5 */
	assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + 50), 1);  /* 1.0 */
	assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + 50), 0);
	assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + 75), 0);  /* 0.5 */
	assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + 100), 1); /* 1.0 */

	/* 200 ms idle gives 4 tokens. */
	assert_int_equal(drain(&tb, 20, 5, T0 + 300), 4);
	/* An hour idle gives no more than the burst. */
	assert_int_equal(drain(&tb, 20, 5, T0 + 3600 * 1000), 5);
}

/* Asked every millisecond for 10 s: burst + rate * 10 s are given. */
static void
test_tb_sustained(void **state)
{
	struct limit_tb tb;
	int n = 0;

	memset(&tb, 0, sizeof(tb));
	for (uint64_t t = 0; t < 10000; t++)
		n += limit_tb_take(&tb, 20, 5, T0 + t);
	/* 5 + 20 * 9.999 = 204.98, give or take rounding. */
	assert_in_range(n, 204, 205);

	/* Asked 1000 times a second at 50/s (burst 50): 50 + 50 * 9.999. */
	memset(&tb, 0, sizeof(tb));
	n = 0;
	for (uint64_t t = 0; t < 10000; t++)
		n += limit_tb_take(&tb, 50, 50, T0 + t);
	assert_in_range(n, 549, 550);

	/* Asked slower than the rate: never refused. */
	memset(&tb, 0, sizeof(tb));
	for (uint64_t t = 0; t < 10000; t += 100)
		assert_int_equal(limit_tb_take(&tb, 20, 5, T0 + t), 1);
}

/*
 * A bucket filled at one rate and then used at a lower one (warrend
 * divides client_rate by 4 under load) is capped at the new burst.
 */
static void
test_tb_tighten(void **state)
{
	struct limit_tb tb;

	memset(&tb, 0, sizeof(tb));
	assert_int_equal(limit_tb_take(&tb, 200, 200, T0), 1);   /* 199 left */
	assert_int_equal(drain(&tb, 50, 50, T0 + 1), 50);
	assert_int_equal(limit_tb_take(&tb, 50, 50, T0 + 21), 1);  /* 1.0 */
	assert_int_equal(limit_tb_take(&tb, 50, 50, T0 + 21), 0);
}

/* Per-source buckets: each source has its own burst and rate. */
static void
test_sources_basic(void **state)
{
	struct limit_sources *t = limit_sources_new();
	uint8_t a[LIMIT_KEYLEN], b[LIMIT_KEYLEN];
	int n;

	assert_non_null(t);
	key4(0xc0000201, 0, 0, a);
	key4(0xc0000202, 0, 0, b);

	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, a, 20, 5, T0), 1);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0), 0);
	/* Another source is not affected. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, b, 20, 5, T0), 1);
	assert_int_equal(limit_sources_take(t, b, 20, 5, T0), 0);

	/* Then 20 a second. */
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 25), 0);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 50), 1);
	n = 0;
	for (uint64_t ms = 51; ms <= 1050; ms++)
		n += limit_sources_take(t, a, 20, 5, T0 + ms);
	assert_in_range(n, 19, 20);

	/* A source idle past its refill time starts again with its burst. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 5000), 1);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 5000), 0);

	limit_sources_free(t);
	limit_sources_free(NULL);
}

/*
 * A penalized source: nothing until its debt is refilled, then its rate;
 * its slot is not free for another source meanwhile (the collision test's
 * reuse rule counts the debt).
 */
static void
test_sources_penalize(void **state)
{
	struct limit_sources *t = limit_sources_new();
	uint8_t a[LIMIT_KEYLEN], b[LIMIT_KEYLEN];

	assert_non_null(t);
	key4(0xc0000201, 0, 0, a);
	key4(0xc0000202, 0, 0, b);
	/* 10 s at 20/s: 200 tokens of debt; the first token 10.05 s on. */
	limit_sources_penalize(t, a, 20, 5, 200, T0);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0), 0);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 5000), 0);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 10000), 0);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 10060), 1);
	assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 10060), 0);
	/* Another source is not affected. */
	assert_int_equal(limit_sources_take(t, b, 20, 5, T0), 1);
	/* Penalties do not add up: the last one counts from its time. */
	for (int i = 0; i < 100; i++)
		limit_sources_penalize(t, b, 20, 5, 200, T0 + (uint64_t)i);
	assert_int_equal(limit_sources_take(t, b, 20, 5, T0 + 99 + 10000), 0);
	assert_int_equal(limit_sources_take(t, b, 20, 5, T0 + 99 + 10060), 1);
	/* Long idle: full again. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, a, 20, 5, T0 + 60000), 1);
	limit_sources_free(t);
}

/* The hash key the collision test gives its table. */
static const uint8_t test_hkey[16] = { 7, 7, 7, 7, 7, 7, 7, 7, 1, 2, 3, 4 };

/* A key's home slot, as limit.c computes it (SipHash, low 32 bits). */
static uint32_t
home_slot(const uint8_t key[LIMIT_KEYLEN])
{
	uint64_t h;

	assert_int_equal(crypto_siphash(test_hkey, key, LIMIT_KEYLEN, &h), 0);
	return (uint32_t)h % LIMIT_SOURCES;
}

/*
 * Keys whose home slot is the same share 8 probe slots: 8 hot ones fill
 * them, a 9th is refused until one of them is full again (idle for
 * burst / rate), and refusing it does not disturb the others.  This
 * mirrors limit.c's hash and probe count; if either changes, update it.
 */
static void
test_sources_collisions(void **state)
{
	struct limit_sources *t = limit_sources_new_key(test_hkey);
	uint8_t keys[10][LIMIT_KEYLEN], k[LIMIT_KEYLEN];
	uint32_t home = 0;
	int found = 0;

	assert_non_null(t);
	for (uint32_t ip = 0x0a000000; found < 10; ip++) {
		key4(ip, 0, 0, k);
		if (found == 0)
			home = home_slot(k);
		else if (home_slot(k) != home)
			continue;
		memcpy(keys[found++], k, LIMIT_KEYLEN);
	}

	/* Eight sources take a token each: they hold all 8 slots. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(limit_sources_take(t, keys[i], 20, 5, T0), 1);
	/* The 9th and 10th find no slot. */
	assert_int_equal(limit_sources_take(t, keys[8], 20, 5, T0), 0);
	assert_int_equal(limit_sources_take(t, keys[9], 20, 5, T0 + 100), 0);
	/* The first eight keep their buckets: key 1 has 4 tokens left, not
	 * a fresh 5. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(limit_sources_take(t, keys[1], 20, 5, T0), 1);
	assert_int_equal(limit_sources_take(t, keys[1], 20, 5, T0), 0);
	assert_int_equal(limit_sources_take(t, keys[0], 20, 5, T0 + 100), 1);

	/*
	 * Refill time is 5 / 20 s + 1 ms = 251 ms.  Key 0 was used at
	 * T0 + 100, the others at T0: at T0 + 251 the others are full again
	 * and their slots can be reused.
	 */
	assert_int_equal(limit_sources_take(t, keys[8], 20, 5, T0 + 250), 0);
	assert_int_equal(limit_sources_take(t, keys[8], 20, 5, T0 + 251), 1);
	assert_int_equal(limit_sources_take(t, keys[9], 20, 5, T0 + 251), 1);
	/* Newcomers get their full burst. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(limit_sources_take(t, keys[8], 20, 5, T0 + 251),
		    1);
	assert_int_equal(limit_sources_take(t, keys[8], 20, 5, T0 + 251), 0);
	/* Key 0 (used at T0 + 100) is still there, refilled to its burst. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, keys[0], 20, 5,
		    T0 + 251), 1);
	assert_int_equal(limit_sources_take(t, keys[0], 20, 5, T0 + 251), 0);

	limit_sources_free(t);
}

/* More hot sources than slots: the table refuses, and recovers. */
static void
test_sources_full(void **state)
{
	struct limit_sources *t = limit_sources_new();
	uint8_t k[LIMIT_KEYLEN];
	int yes = 0, no = 0, again = 0;
	const int n = LIMIT_SOURCES + 2000;

	assert_non_null(t);
	for (int i = 0; i < n; i++) {
		key4(0x0b000000u + (uint32_t)i, 0, 0, k);
		if (limit_sources_take(t, k, 20, 5, T0))
			yes++;
		else
			no++;
	}
	assert_true(yes <= LIMIT_SOURCES);
	assert_true(no >= n - LIMIT_SOURCES);
	/* Open addressing with 8 probes fills most of the table. */
	assert_true(yes >= LIMIT_SOURCES / 2);

	/* Every admitted source still has its own bucket (4 tokens left). */
	for (int i = 0; i < n; i++) {
		key4(0x0b000000u + (uint32_t)i, 0, 0, k);
		again += limit_sources_take(t, k, 20, 5, T0);
	}
	assert_int_equal(again, yes);

	/* Once they are all refilled, any source gets in. */
	for (int i = 0; i < 1000; i++) {
		key4(0x0c000000u + (uint32_t)i, 0, 0, k);
		assert_int_equal(limit_sources_take(t, k, 20, 5, T0 + 1000), 1);
	}
	limit_sources_free(t);
}

/* Keys: IPv4 mapped, IPv6 cut to /64 on request, port on request. */
static void
test_key(void **state)
{
	struct sockaddr_in v4, v4b;
	struct sockaddr_in6 v6, v6same64, v6other64, v6mapped;
	uint8_t k[LIMIT_KEYLEN], k2[LIMIT_KEYLEN];
	static const uint8_t want4[LIMIT_KEYLEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1, 0, 0
	};
	static const uint8_t want4p[LIMIT_KEYLEN] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
		0x1c, 0xe8
	};
	static const uint8_t want6_64[LIMIT_KEYLEN] = {
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	};
	static const uint8_t want6_full[LIMIT_KEYLEN] = {
		0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
		0x00, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0x06, 0x1c, 0xe8
	};

	sa4(&v4, "192.0.2.1", 7400);
	sa4(&v4b, "192.0.2.1", 7401);
	sa6(&v6, "2001:db8:1:2:3:4:5:6", 7400);
	sa6(&v6same64, "2001:db8:1:2:ffff:eeee:dddd:cccc", 9);
	sa6(&v6other64, "2001:db8:1:3:3:4:5:6", 7400);
	sa6(&v6mapped, "::ffff:192.0.2.1", 7400);

	/* IPv4, with and without port; the /64 flag does not apply. */
	limit_key((struct sockaddr *)&v4, 0, 1, k);
	assert_memory_equal(k, want4, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v4, 0, 0, k);
	assert_memory_equal(k, want4, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v4, 1, 0, k);
	assert_memory_equal(k, want4p, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v4b, 1, 0, k2);
	assert_memory_not_equal(k, k2, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v4b, 0, 0, k2);
	assert_memory_equal(k2, want4, LIMIT_KEYLEN);

	/* An IPv4 source seen on an IPv6 socket is the same key, and is not
	 * cut to a /64 (that would lump all of IPv4 together). */
	limit_key((struct sockaddr *)&v6mapped, 0, 1, k);
	assert_memory_equal(k, want4, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v6mapped, 1, 1, k);
	assert_memory_equal(k, want4p, LIMIT_KEYLEN);

	/* IPv6 cut to its /64: the whole /64 is one source. */
	limit_key((struct sockaddr *)&v6, 0, 1, k);
	assert_memory_equal(k, want6_64, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v6same64, 0, 1, k2);
	assert_memory_equal(k2, want6_64, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v6other64, 0, 1, k2);
	assert_memory_not_equal(k, k2, LIMIT_KEYLEN);

	/* IPv6 whole, with port. */
	limit_key((struct sockaddr *)&v6, 1, 0, k);
	assert_memory_equal(k, want6_full, LIMIT_KEYLEN);
	limit_key((struct sockaddr *)&v6same64, 1, 0, k2);
	assert_memory_not_equal(k, k2, LIMIT_KEYLEN);
	/* /64 with port keeps the port. */
	limit_key((struct sockaddr *)&v6, 1, 1, k);
	assert_memory_equal(k, want6_64, 16);
	assert_int_equal(k[16], 0x1c);
	assert_int_equal(k[17], 0xe8);
}

/* The /64 key makes a whole IPv6 /64 share one bucket. */
static void
test_sources_v6_prefix(void **state)
{
	struct limit_sources *t = limit_sources_new();
	struct sockaddr_in6 a, b, c;
	uint8_t k[LIMIT_KEYLEN];

	assert_non_null(t);
	sa6(&a, "2001:db8:0:1::1", 1000);
	sa6(&b, "2001:db8:0:1::2", 2000);
	sa6(&c, "2001:db8:0:2::1", 1000);
	limit_key((struct sockaddr *)&a, 0, 1, k);
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, k, 20, 5, T0), 1);
	assert_int_equal(limit_sources_take(t, k, 20, 5, T0), 0);
	/* Another address and port of the same /64: the same bucket. */
	limit_key((struct sockaddr *)&b, 0, 1, k);
	assert_int_equal(limit_sources_take(t, k, 20, 5, T0), 0);
	/* The next /64 has its own. */
	limit_key((struct sockaddr *)&c, 0, 1, k);
	for (int i = 0; i < 5; i++)
		assert_int_equal(limit_sources_take(t, k, 20, 5, T0), 1);
	assert_int_equal(limit_sources_take(t, k, 20, 5, T0), 0);
	limit_sources_free(t);
}

/* Counters: add, get, remove to zero, many keys. */
static void
test_counts(void **state)
{
	struct limit_counts *t = limit_counts_new();
	uint8_t a[LIMIT_KEYLEN], b[LIMIT_KEYLEN], k[LIMIT_KEYLEN];
	const int n = 20000;

	assert_non_null(t);
	key4(0xc0000201, 7400, 1, a);
	key4(0xc0000201, 7401, 1, b);

	assert_int_equal(limit_counts_get(t, a), 0);
	assert_int_equal(limit_counts_add(t, a, 1), 0);
	assert_int_equal(limit_counts_get(t, a), 1);
	assert_int_equal(limit_counts_get(t, b), 0);
	assert_int_equal(limit_counts_add(t, a, 1), 0);
	assert_int_equal(limit_counts_add(t, b, 1), 0);
	assert_int_equal(limit_counts_get(t, a), 2);
	assert_int_equal(limit_counts_get(t, b), 1);
	assert_int_equal(limit_counts_add(t, a, -1), 0);
	assert_int_equal(limit_counts_get(t, a), 1);
	assert_int_equal(limit_counts_add(t, a, -1), 0);
	assert_int_equal(limit_counts_get(t, a), 0);
	/* Below zero it stays at zero (no entry). */
	assert_int_equal(limit_counts_add(t, a, -1), 0);
	assert_int_equal(limit_counts_get(t, a), 0);
	assert_int_equal(limit_counts_add(t, a, 1), 0);
	assert_int_equal(limit_counts_get(t, a), 1);
	assert_int_equal(limit_counts_get(t, b), 1);
	assert_int_equal(limit_counts_add(t, a, -1), 0);
	assert_int_equal(limit_counts_add(t, b, -1), 0);

	/* Many keys (long chains): key i counted i % 5 + 1 times. */
	for (int i = 0; i < n; i++) {
		key4(0x0a000000u + (uint32_t)i, i & 0xffff, 1, k);
		for (int j = 0; j <= i % 5; j++)
			assert_int_equal(limit_counts_add(t, k, 1), 0);
	}
	for (int i = 0; i < n; i++) {
		key4(0x0a000000u + (uint32_t)i, i & 0xffff, 1, k);
		assert_int_equal(limit_counts_get(t, k), (unsigned)(i % 5 + 1));
	}
	/* Remove the odd ones entirely, from the middle of chains. */
	for (int i = 1; i < n; i += 2) {
		key4(0x0a000000u + (uint32_t)i, i & 0xffff, 1, k);
		for (int j = 0; j <= i % 5; j++)
			assert_int_equal(limit_counts_add(t, k, -1), 0);
	}
	for (int i = 0; i < n; i++) {
		key4(0x0a000000u + (uint32_t)i, i & 0xffff, 1, k);
		assert_int_equal(limit_counts_get(t, k),
		    i % 2 ? 0 : (unsigned)(i % 5 + 1));
	}
	assert_int_equal(limit_counts_get(t, a), 0);
	assert_int_equal(limit_counts_get(t, b), 0);
	/* Free with entries left (ASan checks for leaks). */
	limit_counts_free(t);
	limit_counts_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tb_burst_rate),
		cmocka_unit_test(test_tb_sustained),
		cmocka_unit_test(test_tb_tighten),
		cmocka_unit_test(test_sources_basic),
		cmocka_unit_test(test_sources_penalize),
		cmocka_unit_test(test_sources_collisions),
		cmocka_unit_test(test_sources_full),
		cmocka_unit_test(test_sources_v6_prefix),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
