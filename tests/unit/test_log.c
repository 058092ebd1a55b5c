/*
 * test_log: log_clean, which makes a peer's text safe inside a quoted
 * key="value" of a log line, and log_capture, which copies error lines
 * for an answer (src/log.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static void
test_clean(void **state)
{
	char a[] = "ssh", b[] = "x\" admin=\"1", c[] = "a\\b\tc\nd\x7f" "e\x01";
	char d[] = "";

	log_clean(a);
	assert_string_equal(a, "ssh");
	log_clean(b);          /* no forged key="value" after the quote */
	assert_string_equal(b, "x? admin=?1");
	log_clean(c);
	assert_string_equal(c, "a?b?c?d?e?");
	log_clean(d);
	assert_string_equal(d, "");
}

static void
test_capture(void **state)
{
	char buf[64], small[20];

	log_init("test", LOG_ERROR);     /* only errors reach stderr */
	log_capture(buf, sizeof(buf));
	log_warn("config", "msg=\"not an error\"");
	log_error("config", "msg=\"a.conf:3: bad\"");
	log_error("config", "msg=\"a.conf:7: worse\nline\"");
	log_capture(NULL, 0);
	log_error("config", "msg=\"after\"");
	/* Errors only, the caller's text, no control characters. */
	assert_string_equal(buf, "msg=\"a.conf:3: bad\"\n"
	    "msg=\"a.conf:7: worse?line\"\n");

	/* A line that does not fit is left out whole, never cut. */
	log_capture(small, sizeof(small));
	log_error("config", "msg=\"short\"");
	log_error("config", "msg=\"this one is too long\"");
	log_capture(NULL, 0);
	assert_string_equal(small, "msg=\"short\"\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
