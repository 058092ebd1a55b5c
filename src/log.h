/*
 * log: one line per event on stderr, key=value, with a level.
 *   2026-11-21T10:00:00.123Z warrend level=warn event=drop reason=mac1 src=127.0.0.1:4000
 * No key byte is ever passed to this module.
 */
#ifndef WARREN_LOG_H
#define WARREN_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* A log_init level above every real one: nothing is printed (fuzzers). */
#define LOG_SILENT ((enum log_level)(LOG_ERROR + 1))

/**
 * log_init(prog, level):
 * Set the program name printed on each line and the lowest level printed
 * (LOG_SILENT prints nothing).  Before any call: the program's name and
 * LOG_INFO.  If stderr is the journal stream that JOURNAL_STREAM names
 * (a systemd service's), each later line starts with the sd-daemon(3)
 * priority prefix of its level ("<3>" error, "<4>" warn, "<6>" info,
 * "<7>" debug), which the journal takes off.
 */
void log_init(const char *prog, enum log_level level);

/**
 * log_capture(buf, buflen):
 * Until log_capture(NULL, 0), also copy the key=value text of each error
 * line printed into ${buf} (${buflen} bytes, kept NUL terminated), one per
 * line, as long as it fits: so that a command can answer with the errors
 * it logged (a config reload).  ${buf} stays the caller's.
 */
void log_capture(char *buf, size_t buflen);

/**
 * log_level_parse(s, level):
 * Parse "debug", "info", "warn" or "error" into ${level}; return 0, or -1
 * if ${s} is none of these.
 */
int log_level_parse(const char *s, enum log_level *level);

/**
 * log_enabled(level):
 * Return 1 if a line at ${level} would be printed.
 */
int log_enabled(enum log_level level);

/**
 * log_clean(s):
 * Make the NUL-terminated text ${s}, which a peer chose, safe inside a
 * quoted log value: control characters, DEL, '"' and '\\' become '?'.
 */
void log_clean(char *s);

/**
 * log_msg(level, event, fmt, ...):
 * Print one line: time, program, level=..., event=${event}, then the
 * printf-formatted ${fmt}, which should itself be key=value pairs
 * (quote values that contain spaces: msg="...").
 */
void log_msg(enum log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, ev, __VA_ARGS__); } while (0)
#define log_info(ev, ...) log_msg(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_msg(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_msg(LOG_ERROR, ev, __VA_ARGS__)

#endif
