/*
 * test_log: log_clean, which makes a peer's text safe inside a quoted
 * key="value" of a log line (src/log.c).
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
