/*
 * test_grant: the grant-port PRF against vectors computed independently
 * with the openssl command line (see docs/PROTOCOL.md, "Port PRF test
 * vectors"), the address mapping, and range validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "grant.h"

/* Decode ${hex} into ${out}, which must have exactly strlen(hex)/2 bytes. */
static void
unhex(const char *hex, uint8_t *out, size_t len)
{
	unsigned int b;

	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (uint8_t)b;
	}
}

/* One vector of docs/PROTOCOL.md; the port was computed with openssl. */
struct vec {
	const char *key;
	uint32_t decoy, window;
	const char *addr;
	int lo, hi, port;
};

static const struct vec vecs[] = {
	/* V1: IPv4 client, default range. */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  0x00000001, 0x01c43580, "00000000000000000000ffffc000020a",
	  40000, 49999, 49508 },
	/* V2: IPv6 client, widest range the config allows. */
	{ "4242424242424242424242424242424242424242424242424242424242424242",
	  0xdeadbeef, 0x01c3a4b5, "20010db8000000000000000000000001",
	  1024, 65535, 63510 },
	/* V3: one-port range. */
	{ "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100",
	  0xffffffff, 0x00000000, "00000000000000000000ffff7f000001",
	  7777, 7777, 7777 },
	/* V4: all-zero key, another IPv6 address. */
	{ "0000000000000000000000000000000000000000000000000000000000000000",
	  0x12345678, 0x01c43581, "20010db885a3000000008a2e03707334",
	  40000, 49999, 45682 },
	/* V5: V1 in the next window. */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	  0x00000001, 0x01c43581, "00000000000000000000ffffc000020a",
	  40000, 49999, 45244 },
};

static void
test_vectors(void **state)
{
	uint8_t key[32], addr[16];

	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		unhex(vecs[i].key, key, sizeof(key));
		unhex(vecs[i].addr, addr, sizeof(addr));
		assert_int_equal(grant_port(key, vecs[i].decoy, vecs[i].window,
		    addr, vecs[i].lo, vecs[i].hi), vecs[i].port);
	}
}

/* Every output lies in the range, and the inputs all matter. */
static void
test_range_and_inputs(void **state)
{
	uint8_t key[32], addr[16];
	int p, base, differ = 0;

	unhex(vecs[0].key, key, sizeof(key));
	unhex(vecs[0].addr, addr, sizeof(addr));
	for (uint32_t d = 0; d < 1000; d++) {
		p = grant_port(key, d, 7, addr, 60000, 60009);
		assert_true(p >= 60000 && p <= 60009);
	}
	base = grant_port(key, 1, 1, addr, 1024, 65535);
	addr[15] ^= 1;
	differ += grant_port(key, 1, 1, addr, 1024, 65535) != base;
	addr[15] ^= 1;
	key[31] ^= 1;
	differ += grant_port(key, 1, 1, addr, 1024, 65535) != base;
	key[31] ^= 1;
	differ += grant_port(key, 2, 1, addr, 1024, 65535) != base;
	differ += grant_port(key, 1, 2, addr, 1024, 65535) != base;
	/* Each change moves the port unless it collides (p ~ 1/64512). */
	assert_true(differ >= 3);
}

static void
test_bad_ranges(void **state)
{
	uint8_t key[32] = { 0 }, addr[16] = { 0 };

	assert_int_equal(grant_port(key, 1, 1, addr, 0, 100), -1);
	assert_int_equal(grant_port(key, 1, 1, addr, -5, 100), -1);
	assert_int_equal(grant_port(key, 1, 1, addr, 1024, 65536), -1);
	assert_int_equal(grant_port(key, 1, 1, addr, 50000, 49999), -1);
	assert_int_equal(grant_port(key, 1, 1, addr, 65535, 1), -1);
	assert_int_equal(grant_port(key, 1, 1, addr, 1, 1), 1);
	assert_int_equal(grant_port(key, 1, 1, addr, 65535, 65535), 65535);
}

static void
test_addr16_v4(void **state)
{
	struct sockaddr_in sin;
	uint8_t out[16], want[16];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(4000);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.10", &sin.sin_addr), 1);
	memset(out, 0xaa, sizeof(out));
	grant_addr16((struct sockaddr *)&sin, out);
	unhex("00000000000000000000ffffc000020a", want, sizeof(want));
	assert_memory_equal(out, want, 16);
}

static void
test_addr16_v6(void **state)
{
	struct sockaddr_in6 sin6;
	uint8_t out[16], want[16];

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(4000);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr), 1);
	grant_addr16((struct sockaddr *)&sin6, out);
	unhex("20010db8000000000000000000000001", want, sizeof(want));
	assert_memory_equal(out, want, 16);

	/* A v4-mapped v6 address is kept as it is: the same 16 bytes. */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.10",
	    &sin6.sin6_addr), 1);
	grant_addr16((struct sockaddr *)&sin6, out);
	unhex("00000000000000000000ffffc000020a", want, sizeof(want));
	assert_memory_equal(out, want, 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_range_and_inputs),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_addr16_v4),
		cmocka_unit_test(test_addr16_v6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
