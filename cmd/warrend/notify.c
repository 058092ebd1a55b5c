/*
 * notify: sd_notify(3) messages from warrend's keeper to systemd.
 * libsystemd is linked into warrend only; the agent, warren, never uses
 * this file.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "notify.h"

#define NOTIFY_MAX 512

/* Send ${msg}, when there is a service manager to send it to. */
static void
send_msg(const char *msg)
{

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	/*
	 * A lost notification is not worth a log line per event: systemd
	 * reports a missing READY=1 itself (a start that times out).
	 */
	(void)sd_notify(0, msg);
}

void
notify_ready(const char *status)
{
	char msg[NOTIFY_MAX];

	if (status != NULL)
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	else
		snprintf(msg, sizeof(msg), "READY=1");
	send_msg(msg);
}

void
notify_reloading(void)
{
	char msg[NOTIFY_MAX];
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		ts.tv_sec = ts.tv_nsec = 0;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\n"
	    "STATUS=reloading the config",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
	send_msg(msg);
}

void
notify_stopping(void)
{

	send_msg("STOPPING=1\nSTATUS=stopping");
}

void
notify_status(const char *fmt, ...)
{
	char msg[NOTIFY_MAX];
	va_list ap;
	int r;

	if (getenv("NOTIFY_SOCKET") == NULL)
		return;
	r = snprintf(msg, sizeof(msg), "STATUS=");
	va_start(ap, fmt);
	(void)vsnprintf(msg + r, sizeof(msg) - (size_t)r, fmt, ap);
	va_end(ap);
	send_msg(msg);
}
