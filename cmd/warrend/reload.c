/*
 * reload: a worker re-reads its config on SIGHUP (which the keeper
 * forwards) or on the control command "reload" (warren reload).
 *
 * The new file is checked as --check checks it; a bad one changes
 * nothing.  A good one replaces the running config: the node reads most
 * settings each time it needs them, so swapping n->cfg applies them.  What
 * points into the config is moved to the new one: sessions and grants
 * (carrier_remap, by the client's public key and the service's name), and
 * the per-[client] arrays held_by, last_ts and client_tb (rebuilt in the
 * new order, by public key).  Sessions of a client or service that is
 * gone end with that reason; until they have ended, the old config stays
 * allocated (n->retired), since they still name its client and service.
 * Settings bound at start (private_key, listen, grant_ports, store,
 * cluster_secret, control, handshake_queue) keep their running values
 * and are reported as needing a restart.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgdiff.h"
#include "crypto.h"
#include "handshake.h"
#include "log.h"
#include "store.h"
#include "warrend.h"

#define ERRS_MAX 2048          /* the config errors quoted in an answer */
#define REASON_MAX 256

/* What remap() needs: the two configs and room for its reason. */
struct remap_arg {
	const struct cfg_server *old, *new;
	char why[REASON_MAX];
};

int
reload_supported(const struct cfg_server *cfg)
{
	int rc = 0;

	if (cfg->store == CFG_STORE_REDIS) {
		log_error("config", "msg=\"%s:%d: store = redis://%s: only "
		    "store = memory and lmdb:PATH are available in this "
		    "version\"", cfg->path, cfg->store_line,
		    cfg->store_arg ? cfg->store_arg : "");
		rc = -1;
	}
	for (size_t i = 0; i < cfg->nservices; i++) {
		const struct cfg_service *s = &cfg->services[i];

		if (s->exec != NULL || s->mode != CFG_MODE_STREAM) {
			log_error("config", "msg=\"%s:%d: service %s: %s is not available in this version (only connect = and mode = stream)\"",
			    cfg->path, s->exec != NULL ? s->exec_line :
			    s->mode_line, s->name, s->exec != NULL ?
			    "exec =" : "mode = replay");
			rc = -1;
		}
	}
	return rc;
}

/* The index of the [client] of ${cfg} with key ${pub} (scans all), or -1. */
static ptrdiff_t
client_by_key(const struct cfg_server *cfg, const uint8_t pub[32])
{
	ptrdiff_t found = -1;

	for (size_t i = 0; i < cfg->nclients; i++)
		if (crypto_equal(cfg->clients[i].public_key, pub, 32))
			found = (ptrdiff_t)i;
	return found;
}

/* carrier_remap's verdict: move to the new config, or end, and why. */
static const char *
remap(void *arg, const struct cfg_client **cl, const struct cfg_service **svc)
{
	struct remap_arg *a = arg;
	const struct cfg_client *ncl = NULL;
	const struct cfg_service *nsvc;
	ptrdiff_t i;
	size_t j;

	if ((i = client_by_key(a->new, (*cl)->public_key)) >= 0)
		ncl = &a->new->clients[i];
	else {
		for (j = 0; j < a->new->nclients; j++)
			if (strcmp(a->new->clients[j].name, (*cl)->name) == 0)
				break;
		snprintf(a->why, sizeof(a->why), j < a->new->nclients ?
		    "client %s: public_key changed by reload" :
		    "client %s removed by reload", (*cl)->name);
		return a->why;
	}
	if ((nsvc = cfg_server_service(a->new, (*svc)->name)) == NULL) {
		snprintf(a->why, sizeof(a->why), "service %s removed by reload",
		    (*svc)->name);
		return a->why;
	}
	if (!cfg_client_allows(ncl, nsvc->name)) {
		snprintf(a->why, sizeof(a->why), "service %s no longer allowed "
		    "to client %s by reload", nsvc->name, ncl->name);
		return a->why;
	}
	*cl = ncl;
	*svc = nsvc;
	return NULL;
}

/* Free the retired configs that no session or grant uses any more. */
static void
retired_gc(struct node *n)
{
	size_t k = 0;

	for (size_t i = 0; i < n->nretired; i++) {
		if (carrier_uses(n, n->retired[i]))
			n->retired[k++] = n->retired[i];
		else
			cfg_server_free(n->retired[i]);
	}
	n->nretired = k;
}

/* Keep ${old} until the sessions that still name it end. */
static void
retire(struct node *n, struct cfg_server *old)
{
	struct cfg_server **r;

	if (!carrier_uses(n, old)) {
		cfg_server_free(old);
		return;
	}
	if ((r = realloc(n->retired, (n->nretired + 1) * sizeof(*r))) == NULL) {
		/*
		 * Cannot happen in practice (a few pointers); leaking ${old}
		 * is safe, freeing it under its sessions is not.
		 */
		log_error("reload", "msg=\"out of memory: an old config is "
		    "not freed\"");
		return;
	}
	n->retired = r;
	n->retired[n->nretired++] = old;
}

/*
 * Load ${path} and check it as --check does.  The errors logged go also
 * into ${errs} (${errslen} bytes).  Returns the config or NULL.
 */
static struct cfg_server *
load_checked(const char *path, char *errs, size_t errslen)
{
	struct cfg_server *cfg;

	log_capture(errs, errslen);
	if ((cfg = cfg_server_load(path)) != NULL && reload_supported(cfg)) {
		cfg_server_free(cfg);
		cfg = NULL;
	}
	log_capture(NULL, 0);
	return cfg;
}

int
reload_run(struct node *n, char *out, size_t outlen)
{
	struct cfg_server *old = n->cfg, *new = NULL;
	struct remap_arg *ra = NULL;
	struct cfgdiff *d = NULL;
	char errs[ERRS_MAX], *text = NULL;
	unsigned *held_by = NULL;
	uint8_t (*last_ts)[WIRE_TAI64N_LEN] = NULL;
	struct limit_tb *client_tb = NULL;
	uint8_t name[sizeof(WIRE_STORE_INIT) - 1 + 32];
	size_t nc, ended, len, tlen = 8 * CFGDIFF_TEXT + 256;
	ptrdiff_t k;
	int rc = -1;

	retired_gc(n);
	if ((new = load_checked(old->path, errs, sizeof(errs))) == NULL) {
		log_error("reload_failed", "msg=\"%s: not reloaded: the "
		    "running config stays (fix the errors above)\"", old->path);
		/* The errors, one per line, each one already "msg=..." */
		snprintf(out, outlen, "error %s: not reloaded, the running "
		    "config stays:\n%s", old->path, errs[0] ? errs :
		    "(see warrend's log)\n");
		return -1;
	}
	nc = new->nclients ? new->nclients : 1;
	if ((d = malloc(sizeof(*d))) == NULL ||
	    (ra = malloc(sizeof(*ra))) == NULL ||
	    (text = malloc(tlen)) == NULL ||
	    (held_by = calloc(nc, sizeof(*held_by))) == NULL ||
	    (last_ts = calloc(nc, sizeof(*last_ts))) == NULL ||
	    (client_tb = calloc(nc, sizeof(*client_tb))) == NULL) {
		log_error("reload_failed", "msg=\"%s: out of memory: the "
		    "running config stays\"", old->path);
		snprintf(out, outlen, "error out of memory: not reloaded\n");
		cfg_server_free(new);
		goto out;
	}
	cfgdiff_compute(old, new, d);
	if (d->nrestart > 0)
		log_warn("reload_restart_needed", "settings=\"%s\" msg=\"%s: "
		    "these settings change only when warrend restarts; the "
		    "running values stay\"", d->restart, old->path);
	cfgdiff_keep_restart(old, new);

	/* Per-[client] state follows the client's key. */
	for (size_t i = 0; i < new->nclients; i++) {
		if ((k = client_by_key(old, new->clients[i].public_key)) >= 0) {
			memcpy(last_ts[i], n->last_ts[k], WIRE_TAI64N_LEN);
			if (n->client_tb != NULL)
				client_tb[i] = n->client_tb[k];
			continue;
		}
		/*
		 * A new key: its newest INIT time from the store, as at
		 * start, so that an INIT seen before it was removed (and
		 * added back) is still a replay.
		 */
		door_init_name(&new->clients[i], name);
		if (n->store != NULL && store_get(n->store, name, sizeof(name),
		    last_ts[i], WIRE_TAI64N_LEN, &len) < 0 && errno != ENOENT)
			door_store_failed(n, "get");
		if (hs_node_remember(&n->hs, new->clients[i].public_key))
			log_warn("key", "msg=\"%s:%d: [client %s]: public_key is "
			    "unusable (a low-order point?): no handshake with it "
			    "can succeed\"", new->path, new->clients[i].line,
			    new->clients[i].name);
	}

	ra->old = old;
	ra->new = new;
	ended = carrier_remap(n, new, held_by, remap, ra);

	/* The swap: from here on the node runs ${new}. */
	n->checked = NULL;
	n->cfg = new;
	free(n->held_by);
	n->held_by = held_by;
	held_by = NULL;
	free(n->last_ts);
	n->last_ts = last_ts;
	last_ts = NULL;
	if (n->client_tb != NULL) {
		free(n->client_tb);
		n->client_tb = client_tb;
		client_tb = NULL;
	}
	log_init("warrend", new->log_level);
	retire(n, old);
	old = NULL;

	cfgdiff_format(d, text, tlen);
	log_info("reload", "%s sessions_ended=%zu services=%zu clients=%zu",
	    text, ended, new->nservices, new->nclients);
	snprintf(out, outlen, "ok reloaded %s: %s sessions_ended=%zu "
	    "services=%zu clients=%zu\n", new->path, text, ended,
	    new->nservices, new->nclients);
	keeper_reloaded(n);
	rc = 0;
out:
	free(d);
	free(ra);
	free(text);
	free(held_by);
	free(last_ts);
	free(client_tb);
	return rc;
}

static void
on_sighup(uv_signal_t *s, int signum)
{
	struct node *n = s->data;
	char answer[512];

	if (!n->stopping)
		(void)reload_run(n, answer, sizeof(answer));
}

void
reload_start(struct node *n)
{
	uv_signal_init(n->loop, &n->sighup);
	n->sighup.data = n;
	uv_signal_start(&n->sighup, on_sighup, SIGHUP);
	uv_unref((uv_handle_t *)&n->sighup);
	n->sighup_open = 1;
}

void
reload_stop(struct node *n)
{
	if (n->sighup_open && !uv_is_closing((uv_handle_t *)&n->sighup))
		uv_close((uv_handle_t *)&n->sighup, NULL);
}

void
reload_free(struct node *n)
{
	for (size_t i = 0; i < n->nretired; i++)
		cfg_server_free(n->retired[i]);
	free(n->retired);
	n->retired = NULL;
	n->nretired = 0;
}
