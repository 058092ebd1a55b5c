/*
 * test_log: log_clean, which makes a peer's text safe inside a quoted
 * key="value" of a log line, log_capture, which copies error lines for
 * an answer, and the journal's priority prefix (src/log.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * Log a warn and an info line with stderr sent to a fresh file; when
 * ${journal}, JOURNAL_STREAM names that file (as systemd sets it), else a
 * file that is not stderr.  Return what was written, in ${out}.
 */
static void
log_to_file(int journal, char *out, size_t outlen)
{
	char path[] = "/tmp/test_log.XXXXXX";
	char env[64];
	struct stat st;
	int fd, saved;
	ssize_t r;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (journal ? 0 : 1));
	assert_int_equal(setenv("JOURNAL_STREAM", env, 1), 0);
	assert_true((saved = dup(STDERR_FILENO)) >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	log_init("warrend", LOG_INFO);
	log_warn("limit", "src=%s n=%d", "127.0.0.1:9", 3);
	log_info("started", "pid=%d", 42);
	log_debug("hidden", "x=%d", 1);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	(void)close(saved);
	assert_int_equal(unsetenv("JOURNAL_STREAM"), 0);
	log_init("warrend", LOG_INFO);
	r = pread(fd, out, outlen - 1, 0);
	assert_true(r > 0);
	out[r] = '\0';
	(void)close(fd);
}

/* Drop from each line of ${s} what comes before its first space. */
static void
untimed(char *s)
{
	char *w = s, *r = s;

	while (*r != '\0') {
		while (*r != '\0' && *r != ' ' && *r != '\n')
			r++;
		while (*r != '\0' && *r != '\n')
			*w++ = *r++;
		if (*r == '\n')
			*w++ = *r++;
	}
	*w = '\0';
}

static void
test_journal(void **state)
{
	char a[1024], b[1024];
	char *nl;

	/* The journal's stream: each line has its level's priority. */
	log_to_file(1, a, sizeof(a));
	assert_int_equal(strncmp(a, "<4>", 3), 0);
	assert_non_null(strstr(a, " warrend level=warn event=limit "
	    "src=127.0.0.1:9 n=3\n<6>"));
	assert_non_null(nl = strchr(a, '\n'));
	assert_int_equal(strncmp(nl + 1, "<6>", 3), 0);
	assert_non_null(strstr(nl + 1, " warrend level=info event=started "
	    "pid=42\n"));
	assert_null(strstr(a, "hidden"));

	/* Another stream: no prefix, the same text. */
	log_to_file(0, b, sizeof(b));
	assert_int_equal(b[0], '2');          /* the year, not '<' */
	assert_null(strchr(b, '<'));
	assert_non_null(strstr(b, " warrend level=warn event=limit "
	    "src=127.0.0.1:9 n=3\n"));
	/* Without the prefix and the times, the text is the same. */
	untimed(a);
	untimed(b);
	assert_string_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_journal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
