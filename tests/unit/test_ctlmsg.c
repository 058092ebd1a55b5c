/*
 * test_ctlmsg: the parsers of warrend's control-socket answers
 * (src/ctlmsg.c, docs/PROTOCOL.md 13): what warrend writes is read back
 * field by field, and every kind of malformed answer is rejected whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ctlmsg.h"

#define S(x) (x), (sizeof(x) - 1)

static void
test_status(void **state)
{
	struct ctlmsg m;
	const struct ctlmsg_stat *st;

	memset(&m, 0, sizeof(m));
	assert_int_equal(ctlmsg_parse_status(&m, S("version 0.1.0\n"
	    "uptime_s 12\nrx_packets 18446744073709551615\n"
	    "client_sessions:lap-top.1 3\nfuture_thing abc\n")), 0);
	assert_int_equal(m.nstats, 5);
	st = ctlmsg_stat(&m, "version");
	assert_non_null(st);
	assert_string_equal(st->value, "0.1.0");
	assert_int_equal(st->numeric, 0);
	st = ctlmsg_stat(&m, "rx_packets");
	assert_int_equal(st->numeric, 1);
	assert_true(st->num == UINT64_MAX);
	assert_int_equal(ctlmsg_stat(&m, "client_sessions:lap-top.1")->num, 3);
	assert_int_equal(ctlmsg_kind("rx_packets", NULL), CTLMSG_COUNTER);
	assert_int_equal(ctlmsg_kind("sessions_live", NULL), CTLMSG_GAUGE);
	assert_int_equal(ctlmsg_kind("client_sessions:x", NULL), CTLMSG_GAUGE);
	assert_int_equal(ctlmsg_kind("version", NULL), CTLMSG_INFO);
	assert_int_equal(ctlmsg_kind("future_thing", NULL), CTLMSG_UNKNOWN);
	assert_null(ctlmsg_stat(&m, "nothing"));
	/* An empty answer is no stats. */
	assert_int_equal(ctlmsg_parse_status(&m, "", 0), 0);
	assert_int_equal(m.nstats, 0);
	ctlmsg_free(&m);
	ctlmsg_free(NULL);
}

static void
test_status_bad(void **state)
{
	static const char *bad[] = {
		"rx_packets 1",                  /* no line feed */
		"rx_packets  1\n",               /* two spaces */
		"rx_packets\n",                  /* no value */
		" 1\n",                          /* no name */
		"rx packets 1\n",
		"rx_packets 1 2\n",
		"rx_packets x\n",                /* a known counter: a number */
		"rx_packets 01\n",               /* leading zero */
		"rx_packets 18446744073709551616\n",   /* over 64 bits */
		"rx_packets -1\n",
		"na\xffme 1\n",
		"name \x01\n",
		"name 1\r\n",
		"rx_packets 1\n\n",              /* an empty line */
	};
	struct ctlmsg m;

	memset(&m, 0, sizeof(m));
	assert_int_equal(ctlmsg_parse_status(&m, S("rx_packets 7\n")), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ctlmsg_parse_status(&m, bad[i],
		    strlen(bad[i])), -1);
		/* The earlier answer stays. */
		assert_int_equal(m.nstats, 1);
		assert_int_equal(m.stats[0].num, 7);
	}
	/* A NUL inside. */
	assert_int_equal(ctlmsg_parse_status(&m, "a 1\n\0b 2\n", 8), -1);
	ctlmsg_free(&m);
}

static void
test_sessions(void **state)
{
	struct ctlmsg m;
	const struct ctlmsg_session *s;

	memset(&m, 0, sizeof(m));
	assert_int_equal(ctlmsg_parse_sessions(&m, S(
	    "session id=3d99c01e client=laptop service=ssh "
	    "peer=192.0.2.7:40123 age_s=95 idle_s=3 bytes_in=5120 "
	    "bytes_out=88310 carriers=2 state=attached\n"
	    "session id=00000001 client=a service=b peer=[::1]:5 age_s=0 "
	    "bytes_in=0 bytes_out=0 carriers=1 state=detached stalled=1 "
	    "later=thing\n")), 0);
	assert_int_equal(m.nsessions, 2);
	s = &m.sessions[0];
	assert_string_equal(s->id, "3d99c01e");
	assert_string_equal(s->client, "laptop");
	assert_string_equal(s->service, "ssh");
	assert_string_equal(s->peer, "192.0.2.7:40123");
	assert_string_equal(s->state, "attached");
	assert_int_equal(s->age_s, 95);
	assert_int_equal(s->idle_s, 3);
	assert_int_equal(s->has_idle, 1);
	assert_int_equal(s->bytes_in, 5120);
	assert_int_equal(s->bytes_out, 88310);
	assert_int_equal(s->carriers, 2);
	assert_int_equal(s->stalled, 0);
	s = &m.sessions[1];
	assert_string_equal(s->peer, "[::1]:5");
	assert_int_equal(s->has_idle, 0);
	assert_int_equal(s->stalled, 1);
	ctlmsg_free(&m);
}

static void
test_sessions_bad(void **state)
{
	static const char *bad[] = {
		/* no id */
		"session client=a service=b peer=p state=attached\n",
		/* not a session line */
		"sessio id=1 client=a service=b peer=p state=attached\n",
		"session  id=1 client=a service=b peer=p state=attached\n",
		"session id=1 client=a service=b peer=p state=attached \n",
		"session id=1 client=a service=b peer=p state=attached x\n",
		"session id=1 client=a service=b peer=p state=attached =x\n",
		"session id=1 client=a service=b peer=p state=attached x=\n",
		"session id= client=a service=b peer=p state=attached\n",
		"session id=1 client=a=b service=b peer=p state=attached\n",
		"session id=1 client=a service=b peer=p state=attached age_s=x\n",
		"session id=1 client=a service=b peer=p state=attached "
		    "bytes_in=99999999999999999999\n",
		"session id=1 client=a service=b peer=p state=attached "
		    "stalled=2\n",
		"session id=1 client=a service=b peer=p state=attached",
		"session id=1 client=a service=b peer=p state=\x7f\n",
		"session id=1 client=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaaa service=b peer=p state=s\n",
	};
	struct ctlmsg m;

	memset(&m, 0, sizeof(m));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ctlmsg_parse_sessions(&m, bad[i],
		    strlen(bad[i])), -1);
	assert_int_equal(m.nsessions, 0);
	ctlmsg_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_bad),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_sessions_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
