/*
 * warrend: the warren gateway daemon.  Runs in the foreground, logs to
 * stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "warrend.h"

#define VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f, "usage: warrend -c FILE [--check]\n"
	    "  -c FILE    config file (see warren.conf(5))\n"
	    "  --check    validate the config and exit\n"
	    "  --version  print the version\n");
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct node *n = s->data;

	if (n->stopping)
		return;
	n->stopping = 1;
	log_info("stopping", "signal=%d", signum);
	door_stop(n);
	control_stop(n);
	carrier_stop_all(n);
	uv_close((uv_handle_t *)&n->sigint, NULL);
	uv_close((uv_handle_t *)&n->sigterm, NULL);
}

/* Refuse what this version cannot run yet, naming the file and line. */
static int
check_supported(const struct cfg_server *cfg)
{
	int rc = 0;

	if (cfg->store != CFG_STORE_MEMORY) {
		log_error("config", "msg=\"%s:%d: store = %s%s: only store = memory is available in this version\"",
		    cfg->path, cfg->store_line,
		    cfg->store == CFG_STORE_LMDB ? "lmdb:" : "redis://",
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

int
main(int argc, char **argv)
{
	const char *path = NULL;
	int check = 0, rc = 1;
	struct node n;

	log_init("warrend", LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			printf("warrend %s\n", VERSION);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	memset(&n, 0, sizeof(n));
	if ((n.cfg = cfg_server_load(path)) == NULL || check_supported(n.cfg))
		goto out;
	if (check) {
		printf("%s: ok (%zu services, %zu clients)\n", path,
		    n.cfg->nservices, n.cfg->nclients);
		rc = 0;
		goto out;
	}
	log_init("warrend", n.cfg->log_level);
	if ((n.last_ts = calloc(n.cfg->nclients ? n.cfg->nclients : 1,
	    sizeof(*n.last_ts))) == NULL)
		goto out;
	if (hs_node_init(&n.hs, n.cfg->private_key)) {
		log_error("key", "msg=\"%s: private_key is not a usable X25519 key\"",
		    path);
		goto out;
	}
	for (size_t i = 0; i < n.cfg->nclients; i++)
		if (hs_node_remember(&n.hs, n.cfg->clients[i].public_key))
			log_warn("key", "msg=\"%s: [client %s]: public_key is "
			    "unusable (a low-order point?): no handshake with it "
			    "can succeed\"", path, n.cfg->clients[i].name);
	n.loop = uv_default_loop();
	uv_signal_init(n.loop, &n.sigint);
	uv_signal_init(n.loop, &n.sigterm);
	n.sigint.data = n.sigterm.data = &n;
	uv_signal_start(&n.sigint, on_signal, SIGINT);
	uv_signal_start(&n.sigterm, on_signal, SIGTERM);
	if (door_start(&n) == 0 && control_start(&n) == 0) {
		log_info("started", "version=%s services=%zu clients=%zu",
		    VERSION, n.cfg->nservices, n.cfg->nclients);
		rc = 0;
	} else {
		door_stop(&n);
		control_stop(&n);
		uv_close((uv_handle_t *)&n.sigint, NULL);
		uv_close((uv_handle_t *)&n.sigterm, NULL);
	}
	uv_run(n.loop, UV_RUN_DEFAULT);
	uv_loop_close(n.loop);
	free(n.queue);
	free(n.client_tb);
	limit_sources_free(n.sources);
	limit_sources_free(n.cookie_sources);
	limit_counts_free(n.pending_ip);
	limit_counts_free(n.pending_ipport);
	limit_counts_free(n.established);
	cookie_node_wipe(&n.cookie);
	if (rc == 0)
		log_info("stopped", "sessions=%llu",
		    (unsigned long long)n.stats.sessions);
out:
	free(n.last_ts);
	hs_node_free(&n.hs);
	cfg_server_free(n.cfg);
	return rc;
}
