/*
 * log: one line per event on stderr.  Each line is built in a buffer and
 * written with one write(2), so lines from concurrent processes sharing
 * stderr do not interleave.  When stderr is systemd's journal stream
 * (JOURNAL_STREAM names it, see systemd.exec(5)), each line starts with
 * the sd-daemon(3) priority prefix "<N>", which the journal takes off and
 * keeps as the entry's priority; the text itself is the same.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINEMAX 2048
#define LOG_PROGMAX 32

static char log_prog[LOG_PROGMAX];
static enum log_level log_min = LOG_INFO;
static char *log_cap;            /* log_capture's buffer, or NULL */
static size_t log_caplen, log_capused;

static const char *const log_names[] = { "debug", "info", "warn", "error" };
/* The syslog priority of each level: LOG_DEBUG 7, INFO 6, WARNING 4, ERR 3. */
static const int log_prio[] = { 7, 6, 4, 3 };
static int log_journal;         /* stderr is the journal's stream */

/* Return 1 if stderr is the stream that JOURNAL_STREAM ("DEV:INO") names. */
static int
journal_stderr(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return (0);
	return ((unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino);
}

void
log_init(const char *prog, enum log_level level)
{

	snprintf(log_prog, sizeof(log_prog), "%s", prog ? prog : "");
	log_min = level;
	log_journal = journal_stderr();
}

void
log_capture(char *buf, size_t buflen)
{

	log_cap = buflen > 0 ? buf : NULL;
	log_caplen = buflen;
	log_capused = 0;
	if (log_cap != NULL)
		log_cap[0] = '\0';
}

int
log_level_parse(const char *s, enum log_level *level)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*level = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

int
log_enabled(enum log_level level)
{

	return ((int)level >= (int)log_min && (int)level <= (int)LOG_ERROR);
}

void
log_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '"' ||
		    *s == '\\')
			*s = '?';
}

void
log_msg(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[LOG_LINEMAX];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n, start, i;
	ssize_t w;
	int r, saved_errno = errno;

	if (!log_enabled(level))
		goto out;

	/* Time, program, level, event. */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
		ts.tv_nsec = 0;
	}
	n = 0;
	if (log_journal)
		n = (size_t)snprintf(line, sizeof(line), "<%d>",
		    log_prio[level]);
	n += strftime(line + n, sizeof(line) - n, "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s level=%s event=%s",
	    (long)(ts.tv_nsec / 1000000),
	    log_prog[0] ? log_prog : "warren",
	    log_names[level], event);
	if (r < 0)
		goto out;
	n += (size_t)r;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;

	/* The caller's key=value text. */
	start = n;
	if (fmt[0] != '\0' && n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof(line) - 1 - n, fmt, ap);
		va_end(ap);
		if (r < 0)
			r = 0;
		if ((size_t)r >= sizeof(line) - 1 - n) {
			/* Truncated: say so. */
			n = sizeof(line) - 2;
			memcpy(line + n - 3, "...", 3);
		} else {
			n += (size_t)r;
		}
	}

	/* One event, one line: no control characters from the text. */
	for (i = start; i < n; i++) {
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	}
	line[n++] = '\n';

	/* A copy of an error's text for log_capture (the line minus time). */
	if (log_cap != NULL && level >= LOG_ERROR && start + 1 < n &&
	    log_capused + (n - start - 1) < log_caplen) {
		memcpy(log_cap + log_capused, line + start + 1, n - start - 1);
		log_capused += n - start - 1;
		log_cap[log_capused] = '\0';
	}

	/* One write for the whole line; retry only the rest if cut short. */
	for (i = 0; i < n; i += (size_t)w) {
		w = write(STDERR_FILENO, line + i, n - i);
		if (w < 0 && errno == EINTR) {
			w = 0;
			continue;
		}
		if (w <= 0)
			break;
	}

out:
	errno = saved_errno;
}
