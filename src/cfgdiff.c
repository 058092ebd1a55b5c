/*
 * cfgdiff: the difference between two warrend configs (see cfgdiff.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cfgdiff.h"
#include "crypto.h"

/*
 * The [server] settings that a running node reads each time it needs
 * them, so that a reload applies them at once (to what happens next:
 * grants, handshakes, sessions that lose their carrier).  Adding a
 * setting of this kind to config.h means one line here.
 */
#define LIVE_INTS(X) \
	X(keepalive) X(grant_timeout) X(stall_timeout) X(linger) \
	X(dead_busy) X(source_rate) X(source_burst) \
	X(source_penalty) X(client_rate) X(client_rate_load) \
	X(pending_per_ip) X(pending_per_ip_port) X(max_grants) \
	X(clock_skew) X(max_sessions)

static const char *const level_names[] = { "debug", "info", "warn", "error" };

/* Append ${item} to the comma-separated list ${buf} (CFGDIFF_TEXT bytes). */
static void
list_add(char buf[CFGDIFF_TEXT], const char *item)
{
	size_t len = strlen(buf), need = strlen(item) + (len > 0);

	if (len >= 3 && strcmp(buf + len - 3, "...") == 0)
		return;                     /* already cut */
	if (len + need + 4 >= CFGDIFF_TEXT) {
		snprintf(buf + len, CFGDIFF_TEXT - len, "%s...",
		    len > 0 ? "," : "");
		return;
	}
	snprintf(buf + len, CFGDIFF_TEXT - len, "%s%s", len > 0 ? "," : "",
	    item);
}

/* The [client] of ${cfg} named ${name}, or NULL. */
static const struct cfg_client *
client_named(const struct cfg_server *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nclients; i++)
		if (strcmp(cfg->clients[i].name, name) == 0)
			return &cfg->clients[i];
	return NULL;
}

/* 1 if two strings, either of which may be NULL, differ. */
static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* 1 if clients ${a} and ${b} (of the same name) differ. */
static int
client_differs(const struct cfg_client *a, const struct cfg_client *b)
{
	if (!crypto_equal(a->public_key, b->public_key, 32) ||
	    a->has_psk != b->has_psk ||
	    (a->has_psk && !crypto_equal(a->psk, b->psk, 32)) ||
	    a->max_sessions != b->max_sessions ||
	    a->nservices != b->nservices)
		return 1;
	for (size_t i = 0; i < a->nservices; i++)
		if (!cfg_client_allows(b, a->services[i]))
			return 1;
	return 0;
}

/* 1 if services ${a} and ${b} (of the same name) differ. */
static int
service_differs(const struct cfg_service *a, const struct cfg_service *b)
{
	return str_differ(a->connect, b->connect) ||
	    str_differ(a->exec, b->exec) || a->mode != b->mode;
}

/* 1 if the listen addresses of ${a} and ${b} differ. */
static int
listen_differs(const struct cfg_server *a, const struct cfg_server *b)
{
	if (a->nlisten != b->nlisten)
		return 1;
	for (size_t i = 0; i < a->nlisten; i++)
		if (a->listen_len[i] != b->listen_len[i] ||
		    memcmp(&a->listen[i], &b->listen[i], a->listen_len[i]) != 0)
			return 1;
	return 0;
}

/* Record the [server] settings that cannot change live. */
static void
diff_restart(const struct cfg_server *old, const struct cfg_server *new,
    struct cfgdiff *d)
{
#define RESTART(cond, name) do {					\
	if (cond) {							\
		list_add(d->restart, name);				\
		d->nrestart++;						\
	}								\
} while (0)
	RESTART(!crypto_equal(old->private_key, new->private_key, 32),
	    "private_key");
	RESTART(listen_differs(old, new), "listen");
	RESTART(old->grant_lo != new->grant_lo || old->grant_hi !=
	    new->grant_hi, "grant_ports");
	RESTART(old->store != new->store ||
	    str_differ(old->store_arg, new->store_arg), "store");
	RESTART(old->has_cluster_secret != new->has_cluster_secret ||
	    (old->has_cluster_secret && !crypto_equal(old->cluster_secret,
	    new->cluster_secret, 32)), "cluster_secret");
	RESTART(str_differ(old->control, new->control), "control");
	RESTART(old->has_control_group != new->has_control_group ||
	    old->control_gid != new->control_gid, "control_group");
	RESTART(old->handshake_queue != new->handshake_queue,
	    "handshake_queue");
	RESTART(new->load_threshold > old->handshake_queue &&
	    old->load_threshold != new->load_threshold, "load_threshold");
#undef RESTART
}

/* Record the [server] settings that changed and apply live. */
static void
diff_limits(const struct cfg_server *old, const struct cfg_server *new,
    struct cfgdiff *d)
{
	char item[96];

#define LIMIT(f)							\
	if (old->f != new->f) {						\
		snprintf(item, sizeof(item), "%s=%d->%d", #f, old->f,	\
		    new->f);						\
		list_add(d->limits, item);				\
		d->nlimits++;						\
	}
	LIVE_INTS(LIMIT)
	/* Live only within the running handshake_queue (config.c's rule). */
	if (new->load_threshold <= old->handshake_queue)
		LIMIT(load_threshold)
#undef LIMIT
	if (old->log_level != new->log_level &&
	    (unsigned)old->log_level < 4 && (unsigned)new->log_level < 4) {
		snprintf(item, sizeof(item), "log_level=%s->%s",
		    level_names[old->log_level], level_names[new->log_level]);
		list_add(d->limits, item);
		d->nlimits++;
	}
}

void
cfgdiff_compute(const struct cfg_server *old, const struct cfg_server *new,
    struct cfgdiff *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < new->nclients; i++) {
		const struct cfg_client *o = client_named(old,
		    new->clients[i].name);

		if (o == NULL) {
			list_add(d->clients_added_names, new->clients[i].name);
			d->clients_added++;
		} else if (client_differs(o, &new->clients[i])) {
			list_add(d->clients_changed_names, o->name);
			d->clients_changed++;
		}
	}
	for (size_t i = 0; i < old->nclients; i++)
		if (client_named(new, old->clients[i].name) == NULL) {
			list_add(d->clients_removed_names,
			    old->clients[i].name);
			d->clients_removed++;
		}
	for (size_t i = 0; i < new->nservices; i++) {
		const struct cfg_service *o = cfg_server_service(old,
		    new->services[i].name);

		if (o == NULL) {
			list_add(d->services_added_names,
			    new->services[i].name);
			d->services_added++;
		} else if (service_differs(o, &new->services[i])) {
			list_add(d->services_changed_names, o->name);
			d->services_changed++;
		}
	}
	for (size_t i = 0; i < old->nservices; i++)
		if (cfg_server_service(new, old->services[i].name) == NULL) {
			list_add(d->services_removed_names,
			    old->services[i].name);
			d->services_removed++;
		}
	diff_limits(old, new, d);
	diff_restart(old, new, d);
}

void
cfgdiff_keep_restart(struct cfg_server *old, struct cfg_server *new)
{
	char *t;

	memcpy(new->private_key, old->private_key, 32);
	memcpy(new->listen, old->listen, sizeof(new->listen));
	memcpy(new->listen_len, old->listen_len, sizeof(new->listen_len));
	new->nlisten = old->nlisten;
	new->grant_lo = old->grant_lo;
	new->grant_hi = old->grant_hi;
	new->grant_ports_line = old->grant_ports_line;
	new->store = old->store;
	t = new->store_arg;
	new->store_arg = old->store_arg;
	old->store_arg = t;
	new->store_line = old->store_line;
	new->has_cluster_secret = old->has_cluster_secret;
	memcpy(new->cluster_secret, old->cluster_secret, 32);
	t = new->control;
	new->control = old->control;
	old->control = t;
	new->control_line = old->control_line;
	/* The socket's group and mode are set when it is made. */
	new->has_control_group = old->has_control_group;
	new->control_gid = old->control_gid;
	new->control_group_line = old->control_group_line;
	new->handshake_queue = old->handshake_queue;
	if (new->load_threshold > new->handshake_queue)
		new->load_threshold = old->load_threshold;
}

/* Copy ${s} (or NULL) into ${out}, setting ${has}; -1 if too long. */
static int
pin_str(char out[CFGDIFF_PIN_STR], int *has, const char *s)
{

	*has = s != NULL;
	return s != NULL && snprintf(out, CFGDIFF_PIN_STR, "%s", s) >=
	    CFGDIFF_PIN_STR ? -1 : 0;
}

/* A copy of pinned string ${s} (if ${has}) into ${*out}; -1 if no memory. */
static int
unpin_str(char **out, int has, const char *s)
{

	*out = NULL;
	return has && (*out = strdup(s)) == NULL ? -1 : 0;
}

int
cfgdiff_pin(const struct cfg_server *cfg, struct cfg_pinned *p)
{

	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->cfg.path = p->cfg.store_arg = p->cfg.control = NULL;
	p->cfg.services = NULL;
	p->cfg.clients = NULL;
	p->cfg.nservices = p->cfg.nclients = 0;
	if (pin_str(p->store_arg, &p->has_store_arg, cfg->store_arg) ||
	    pin_str(p->control, &p->has_control, cfg->control)) {
		crypto_wipe(p, sizeof(*p));
		return -1;
	}
	return 0;
}

int
cfgdiff_keep_pinned(struct cfg_server *cfg, const struct cfg_pinned *p,
    struct cfgdiff *d)
{
	struct cfg_server old = p->cfg;

	memset(d, 0, sizeof(*d));
	if (unpin_str(&old.store_arg, p->has_store_arg, p->store_arg) ||
	    unpin_str(&old.control, p->has_control, p->control)) {
		free(old.store_arg);
		crypto_wipe(&old, sizeof(old));
		return -1;
	}
	diff_restart(&old, cfg, d);
	cfgdiff_keep_restart(&old, cfg);
	free(old.store_arg);     /* cfg's own, swapped out */
	free(old.control);
	crypto_wipe(&old, sizeof(old));
	return 0;
}

int
cfgdiff_empty(const struct cfgdiff *d)
{
	return d->clients_added + d->clients_removed + d->clients_changed +
	    d->services_added + d->services_removed + d->services_changed +
	    d->nlimits + d->nrestart == 0;
}

void
cfgdiff_format(const struct cfgdiff *d, char *buf, size_t buflen)
{
	size_t off = 0;

	if (buflen == 0)
		return;
	buf[0] = '\0';
#define ITEM(key, val, quote) do {					\
	if ((val)[0] != '\0' && off < buflen)				\
		off += (size_t)snprintf(buf + off, buflen - off,	\
		    "%s%s=%s%s%s", off > 0 ? " " : "", key, quote,	\
		    val, quote);					\
} while (0)
	ITEM("clients_added", d->clients_added_names, "");
	ITEM("clients_removed", d->clients_removed_names, "");
	ITEM("clients_changed", d->clients_changed_names, "");
	ITEM("services_added", d->services_added_names, "");
	ITEM("services_removed", d->services_removed_names, "");
	ITEM("services_changed", d->services_changed_names, "");
	ITEM("limits", d->limits, "\"");
	ITEM("restart_needed", d->restart, "\"");
#undef ITEM
	if (off == 0)
		snprintf(buf, buflen, "changes=none");
}
