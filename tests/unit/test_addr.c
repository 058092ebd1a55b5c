/*
 * Unit tests for addr: parsing, printing, ports, host comparison.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "addr.h"

/* Parse ${s} and return its printed form (or NULL if it does not parse). */
static const char *
roundtrip(const char *s, int allow_port0, char buf[ADDR_STRLEN])
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (addr_parse(s, allow_port0, &ss, &len))
		return (NULL);
	return (addr_str((struct sockaddr *)&ss, buf));
}

static void
test_parse_v4(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	char buf[ADDR_STRLEN];
	socklen_t len;

	assert_int_equal(addr_parse("127.0.0.1:7400", 0, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 7400);
	assert_string_equal(addr_str((struct sockaddr *)&ss, buf),
	    "127.0.0.1:7400");

	assert_string_equal(roundtrip("10.1.2.3:1", 0, buf), "10.1.2.3:1");
	assert_string_equal(roundtrip("255.255.255.255:65535", 0, buf),
	    "255.255.255.255:65535");
}

static void
test_parse_wildcard(void **state)
{
	char buf[ADDR_STRLEN];

	assert_string_equal(roundtrip(":7400", 0, buf), "0.0.0.0:7400");
	assert_null(roundtrip(":0", 0, buf));
	assert_string_equal(roundtrip(":0", 1, buf), "0.0.0.0:0");
	assert_string_equal(roundtrip("127.0.0.1:0", 1, buf), "127.0.0.1:0");
}

static void
test_parse_v6(void **state)
{
	struct sockaddr_storage ss;
	char buf[ADDR_STRLEN];
	socklen_t len;

	assert_int_equal(addr_parse("[::1]:7400", 0, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(addr_port((struct sockaddr *)&ss), 7400);
	assert_string_equal(addr_str((struct sockaddr *)&ss, buf),
	    "[::1]:7400");

	assert_string_equal(roundtrip("[::]:1", 0, buf), "[::]:1");
	assert_string_equal(roundtrip("[2001:db8::42]:443", 0, buf),
	    "[2001:db8::42]:443");
	assert_string_equal(roundtrip("[2001:DB8:0:0:0:0:0:1]:9", 0, buf),
	    "[2001:db8::1]:9");
	/* IPv4-mapped addresses print in their IPv4 form. */
	assert_string_equal(roundtrip("[::ffff:192.0.2.7]:22", 0, buf),
	    "192.0.2.7:22");
}

static void
test_parse_errors(void **state)
{
	static const char *bad[] = {
		"", ":", "7400", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:123456",
		"127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1: 80",
		"127.0.0.1:80 ", "127.0.0.1:8a", "127.0.0.1:0x50",
		" 127.0.0.1:80", "1.2.3.999:80", "127.1:80", "1.2.3:80",
		"::1:7400", "[::1]7400", "[::1]", "[::1", "::1]:80", "[]:80",
		"[::1]:", "[::1]:0", "[::1]:70000", "[1.2.3.4]:80",
		"[::1]]:80", "[[::1]:80", "[zz::1]:80", "[::1]:80:80",
		"a..b:80", ".a:80", "-:80", "host name:80", "a/b:80",
		"12345:80", "1.2.3.4.5:80",
	};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (addr_parse(bad[i], 0, &ss, &len) == 0)
			fail_msg("addr_parse accepted \"%s\"", bad[i]);
		if (addr_syntax(bad[i], 0) == 0)
			fail_msg("addr_syntax accepted \"%s\"", bad[i]);
	}
}

static void
test_parse_name(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_storage lo4;
	socklen_t len;

	/* localhost is in /etc/hosts everywhere we run. */
	assert_int_equal(addr_parse("localhost:22", 0, &ss, &len), 0);
	assert_true(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 22);
	if (ss.ss_family == AF_INET) {
		assert_int_equal(addr_parse("127.0.0.1:1", 0, &lo4, &len), 0);
		assert_true(addr_same_host((struct sockaddr *)&ss,
		    (struct sockaddr *)&lo4));
	}

	/* With resolving off, names fail but numbers still parse. */
	addr_set_resolve(0);
	assert_int_equal(addr_parse("localhost:22", 0, &ss, &len), -1);
	assert_int_equal(addr_parse("127.0.0.1:22", 0, &ss, &len), 0);
	addr_set_resolve(1);
}

static void
test_syntax(void **state)
{

	assert_int_equal(addr_syntax("node-1.example.com:7400", 0), 0);
	assert_int_equal(addr_syntax("node-1.example.com.:7400", 0), 0);
	assert_int_equal(addr_syntax("redis_1:6379", 0), 0);
	assert_int_equal(addr_syntax("10.0.0.1:7400", 0), 0);
	assert_int_equal(addr_syntax("[fe80::1]:7400", 0), 0);
	assert_int_equal(addr_syntax(":7400", 0), 0);
	assert_int_equal(addr_syntax("a.b:0", 0), -1);
	assert_int_equal(addr_syntax("a.b:0", 1), 0);
	assert_int_equal(addr_syntax("1.example.123:5", 0), -1);
}

static void
test_ports(void **state)
{
	struct sockaddr_storage ss;
	char buf[ADDR_STRLEN];
	socklen_t len;

	assert_int_equal(addr_parse("192.0.2.1:1", 0, &ss, &len), 0);
	addr_set_port((struct sockaddr *)&ss, 65535);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 65535);
	assert_string_equal(addr_str((struct sockaddr *)&ss, buf),
	    "192.0.2.1:65535");

	assert_int_equal(addr_parse("[::1]:1", 0, &ss, &len), 0);
	addr_set_port((struct sockaddr *)&ss, 40000);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 40000);
	assert_string_equal(addr_str((struct sockaddr *)&ss, buf),
	    "[::1]:40000");

	/* Unknown families: port 0, printed as "-". */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	addr_set_port((struct sockaddr *)&ss, 5);
	assert_int_equal(addr_port((struct sockaddr *)&ss), 0);
	assert_string_equal(addr_str((struct sockaddr *)&ss, buf), "-");
}

static int
same(const char *a, const char *b)
{
	struct sockaddr_storage sa, sb;
	socklen_t la, lb;

	assert_int_equal(addr_parse(a, 0, &sa, &la), 0);
	assert_int_equal(addr_parse(b, 0, &sb, &lb), 0);
	return (addr_same_host((struct sockaddr *)&sa,
	    (struct sockaddr *)&sb));
}

static void
test_same_host(void **state)
{

	assert_true(same("127.0.0.1:1", "127.0.0.1:2"));
	assert_false(same("127.0.0.1:1", "127.0.0.2:1"));
	assert_true(same("[::1]:1", "[::1]:2"));
	assert_false(same("[::1]:1", "[::2]:1"));
	assert_true(same("[2001:db8::1]:1", "[2001:DB8:0::1]:9"));

	/* IPv4-mapped IPv6 equals IPv4, both ways round. */
	assert_true(same("[::ffff:192.0.2.7]:1", "192.0.2.7:2"));
	assert_true(same("192.0.2.7:2", "[::ffff:192.0.2.7]:1"));
	assert_true(same("[::ffff:192.0.2.7]:1", "[::ffff:192.0.2.7]:3"));
	assert_false(same("[::ffff:192.0.2.7]:1", "192.0.2.8:2"));

	/* Not mapped: ::1 is not 127.0.0.1; ::192.0.2.7 is not mapped. */
	assert_false(same("[::1]:1", "127.0.0.1:1"));
	assert_false(same("[::192.0.2.7]:1", "192.0.2.7:1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_wildcard),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_name),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_same_host),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
