/*
 * cfgdiff: what changed between two warrend configs, for a reload
 * (warrend(8), SIGNALS): which [client] and [service] sections were added,
 * removed or changed, which [server] settings changed and apply live, and
 * which cannot change without a restart.  Pure logic on two parsed
 * configs: it reads no file and logs nothing.
 */
#ifndef WARREN_CFGDIFF_H
#define WARREN_CFGDIFF_H

#include <stddef.h>

#include "config.h"

#define CFGDIFF_TEXT 1024        /* each list of names or settings */

/*
 * The difference, field by field (callers read it): counts, and the names
 * as comma-separated lists ("a,b"; cut with "..." if they do not fit).
 * limits holds "name=OLD->NEW" items; restart holds setting names.
 */
struct cfgdiff {
	size_t clients_added, clients_removed, clients_changed;
	size_t services_added, services_removed, services_changed;
	size_t nlimits, nrestart;
	char clients_added_names[CFGDIFF_TEXT];
	char clients_removed_names[CFGDIFF_TEXT];
	char clients_changed_names[CFGDIFF_TEXT];
	char services_added_names[CFGDIFF_TEXT];
	char services_removed_names[CFGDIFF_TEXT];
	char services_changed_names[CFGDIFF_TEXT];
	char limits[CFGDIFF_TEXT];
	char restart[CFGDIFF_TEXT];
};

/**
 * cfgdiff_compute(old, new, d):
 * Fill ${d} with the difference from ${old} to ${new}.  A [client] or
 * [service] is the same section when its name is; a client is changed
 * when its public_key, psk, services or (effective) max_sessions differ,
 * a service when its connect, exec or mode does.  Keys are compared in
 * constant time and never copied into ${d}.
 */
void cfgdiff_compute(const struct cfg_server *old, const struct cfg_server *new,
    struct cfgdiff *d);

/**
 * cfgdiff_keep_restart(old, new):
 * Copy into ${new} from ${old} every setting that cannot change while
 * warrend runs (private_key, listen, grant_ports, store, cluster_secret,
 * control, handshake_queue, and a load_threshold above the running
 * handshake_queue), so that ${new} can replace ${old} in a running node.
 * Strings are swapped, not shared: each config still owns (and frees)
 * its own.
 */
void cfgdiff_keep_restart(struct cfg_server *old, struct cfg_server *new);

/*
 * A config's settings that cannot change while warrend runs, as plain
 * bytes: the keeper pins those it started with and hands them to each
 * worker it starts, which reads the file anew (the file may have changed
 * since, without a restart).
 */
#define CFGDIFF_PIN_STR 4096
struct cfg_pinned {
	struct cfg_server cfg;       /* a copy whose pointers are NULL */
	int has_store_arg, has_control;
	char store_arg[CFGDIFF_PIN_STR], control[CFGDIFF_PIN_STR];
};

/**
 * cfgdiff_pin(cfg, p):
 * Fill ${p} from ${cfg}.  Returns 0, or -1 if a path is too long to pin.
 * ${p} holds the private key: wipe it when done.
 */
int cfgdiff_pin(const struct cfg_server *cfg, struct cfg_pinned *p);

/**
 * cfgdiff_keep_pinned(cfg, p, d):
 * Give ${cfg} the settings of ${p} that cannot change while warrend runs,
 * as cfgdiff_keep_restart does, and fill ${d} with which of them ${cfg}
 * had changed (${d}->restart).  Returns 0, or -1 if out of memory
 * (${cfg} unchanged).
 */
int cfgdiff_keep_pinned(struct cfg_server *cfg, const struct cfg_pinned *p,
    struct cfgdiff *d);

/**
 * cfgdiff_empty(d):
 * Return 1 if ${d} records no change at all.
 */
int cfgdiff_empty(const struct cfgdiff *d);

/**
 * cfgdiff_format(d, buf, buflen):
 * Write ${d} as log key=value pairs into ${buf} (${buflen} bytes, NUL
 * terminated, cut if too short): clients_added=... clients_removed=...
 * clients_changed=... services_added=... services_removed=...
 * services_changed=... limits="..." restart_needed="...", each only when
 * it is not empty, or "changes=none".
 */
void cfgdiff_format(const struct cfgdiff *d, char *buf, size_t buflen);

#endif
