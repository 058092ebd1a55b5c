/*
 * notify: tell the service manager (systemd, sd_notify(3)) what warrend's
 * keeper is doing: ready, reloading, stopping, and a one-line status.
 * Only the keeper, warrend's main process, calls these (the unit's
 * NotifyAccess=main).  Each is a no-op when NOTIFY_SOCKET is not set, as
 * when warrend runs from a shell.
 */
#ifndef WARREND_NOTIFY_H
#define WARREND_NOTIFY_H

/**
 * notify_ready(status):
 * Tell the service manager that warrend serves (READY=1), with the
 * one-line ${status} (STATUS=; may be NULL).  Also ends a reload that
 * notify_reloading began.
 */
void notify_ready(const char *status);

/**
 * notify_reloading():
 * Tell the service manager that a reload has begun (RELOADING=1, with
 * MONOTONIC_USEC= as systemd 253 and later want it); notify_ready ends it.
 */
void notify_reloading(void);

/**
 * notify_stopping():
 * Tell the service manager that warrend is stopping (STOPPING=1).
 */
void notify_stopping(void);

/**
 * notify_status(fmt, ...):
 * Set the one-line status that "systemctl status" shows (STATUS=), from
 * the printf-style ${fmt}.
 */
void notify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
