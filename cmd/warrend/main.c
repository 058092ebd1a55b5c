/*
 * warrend: the warren gateway daemon.  Runs in the foreground, logs to
 * stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "grant_bpf.h"
#include "idmap.h"
#include "log.h"
#include "store.h"
#include "version.h"
#include "warrend.h"

#define VERSION WARREN_VERSION

/*
 * Descriptors: a session holds two (its carrier and its backend), a pending
 * grant one or two (its listener, and the carrier it accepted).  The node
 * keeps FD_RESERVE descriptors beyond what it holds at start (the front
 * door, the control socket, the loop's own) for CONTROL_MAX control
 * connections and the moment a session's backend opens before its grant's
 * listener has closed; the rest, at FD_PER_SESSION each, is sessions_cap.
 */
#define FD_PER_SESSION 2
#define FD_RESERVE 32
#define FD_CAP_MAX (1 << 20)     /* no more descriptors than this are used */
#define PORT_RANGE_FILE "/proc/sys/net/ipv4/ip_local_port_range"

static void
usage(FILE *f)
{
	fprintf(f, "usage: warrend -c FILE [--check]\n"
	    "  (runs as a keeper and a worker process: see warrend(8))\n"
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
	keeper_unwatch(n);
	reload_stop(n);
	door_stop(n);
	control_stop(n);
	carrier_stop_all(n);
	uv_close((uv_handle_t *)&n->sigint, NULL);
	uv_close((uv_handle_t *)&n->sigterm, NULL);
}

/*
 * Open the session store (warren.conf(5) store =); store_load_ts then
 * loads from it the newest INIT timestamp of each [client], so that an
 * INIT captured before a restart is still a replay after it.  Values are
 * sealed under a key derived from cluster_secret, or else from the node's
 * private key.
 */
static int
store_start(struct node *n)
{
	const struct cfg_server *cfg = n->cfg;
	char spec[PATH_MAX + 8], err[256];

	if (cfg->store == CFG_STORE_MEMORY)
		snprintf(spec, sizeof(spec), "memory");
	else
		snprintf(spec, sizeof(spec), "lmdb:%s", cfg->store_arg);
	if ((n->store = store_open(spec, cfg->has_cluster_secret ?
	    cfg->cluster_secret : cfg->private_key, 32, err,
	    sizeof(err))) == NULL) {
		if (cfg->store_line > 0)
			log_error("store", "msg=\"%s:%d: store = %s: %s\"",
			    cfg->path, cfg->store_line, spec, err);
		else
			log_error("store", "msg=\"%s: the default store %s: %s "
			    "(create it, or set store = in [server])\"",
			    cfg->path, spec, err);
		return -1;
	}
	return 0;
}

/*
 * Load from the store the newest INIT timestamp of each [client]: done
 * when the worker starts to serve (a spare worker may have waited long).
 */
static void
store_load_ts(struct node *n)
{
	const struct cfg_server *cfg = n->cfg;
	uint8_t name[sizeof(WIRE_STORE_INIT) - 1 + 32];
	size_t len;

	for (size_t i = 0; i < cfg->nclients; i++) {
		door_init_name(&cfg->clients[i], name);
		if (store_get(n->store, name, sizeof(name), n->last_ts[i],
		    WIRE_TAI64N_LEN, &len) < 0 && errno != ENOENT)
			door_store_failed(n, "get");
	}
}

/*
 * Warn if grant_ports overlaps the kernel's ephemeral range: the node's own
 * outgoing connections (to backends, say) would take grant ports.
 */
static void
check_ports(const struct cfg_server *cfg)
{
	FILE *f;
	int lo, hi;

	if ((f = fopen(PORT_RANGE_FILE, "re")) == NULL)
		return;
	if (fscanf(f, "%d %d", &lo, &hi) == 2 && cfg->grant_lo <= hi &&
	    lo <= cfg->grant_hi) {
		if (cfg->grant_ports_line > 0)
			log_warn("config", "msg=\"%s:%d: grant_ports = %d-%d "
			    "overlaps the kernel's ephemeral ports %d-%d (%s): "
			    "outgoing connections can take grant ports; choose "
			    "a range outside it\"", cfg->path,
			    cfg->grant_ports_line, cfg->grant_lo, cfg->grant_hi,
			    lo, hi, PORT_RANGE_FILE);
		else
			log_warn("config", "msg=\"%s: the default grant_ports "
			    "%d-%d overlaps the kernel's ephemeral ports %d-%d "
			    "(%s): set grant_ports to a range outside it\"",
			    cfg->path, cfg->grant_lo, cfg->grant_hi, lo, hi,
			    PORT_RANGE_FILE);
	}
	fclose(f);
}

/* The number of descriptors open now (0 if /proc cannot say). */
static size_t
fds_open(void)
{
	DIR *d;
	struct dirent *e;
	size_t k = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		k += e->d_name[0] != '.';
	closedir(d);
	return k > 0 ? k - 1 : 0;     /* not the directory's own */
}

/*
 * Raise the soft descriptor limit to the hard one and size sessions_cap
 * from it (after the front door and control socket are open).
 */
static void
size_caps(struct node *n)
{
	struct rlimit rl;
	uint64_t lim = 1024, used = fds_open();

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		if (rl.rlim_cur < rl.rlim_max) {
			rlim_t want = rl.rlim_max;

			if (want == RLIM_INFINITY || want > FD_CAP_MAX)
				want = rl.rlim_cur > FD_CAP_MAX ? rl.rlim_cur :
				    FD_CAP_MAX;
			rl.rlim_cur = want;
			if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
				(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
		lim = rl.rlim_cur == RLIM_INFINITY ? FD_CAP_MAX : rl.rlim_cur;
	}
	if (lim > FD_CAP_MAX)
		lim = FD_CAP_MAX;
	n->fd_limit = lim;
	used += FD_RESERVE;
	n->sessions_cap = lim > used ? (size_t)((lim - used) / FD_PER_SESSION) :
	    0;
	if (n->sessions_cap == 0)
		log_warn("fd_limit", "limit=%llu msg=\"the descriptor limit "
		    "leaves no room for sessions: every INIT gets BUSY; raise "
		    "it (ulimit -n, LimitNOFILE=)\"", (unsigned long long)lim);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *wfd = NULL, *wudp = NULL;
	int check = 0, rc = 1;
	struct node n;

	log_init("warrend", LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--check") == 0)
			check = 1;
		else if (strcmp(argv[i], "--worker") == 0 && i + 2 < argc) {
			/* From the keeper: its socket, the front doors. */
			wfd = argv[++i];
			wudp = argv[++i];
		}
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
	n.keeper = -1;
	if ((n.cfg = cfg_server_load(path)) == NULL || reload_supported(n.cfg))
		goto out;
	if (check) {
		check_ports(n.cfg);
		if (privcheck_run(n.cfg, &n.priv, 1))
			goto out;
		printf("%s: ok (%zu services, %zu clients)\n", path,
		    n.cfg->nservices, n.cfg->nclients);
		rc = 0;
		goto out;
	}
	log_init("warrend", n.cfg->log_level);
	if (wfd == NULL) {
		/*
		 * A privilege that the config needs and this process lacks,
		 * or a store that cannot open, stops warrend before anything.
		 */
		if (privcheck_run(n.cfg, &n.priv, 1) == 0 &&
		    store_start(&n) == 0) {
			store_free(n.store);   /* the keeper holds no store */
			n.store = NULL;
			rc = keeper_run(n.cfg, path);
		}
		goto out;
	}
	n.keeper = atoi(wfd);
	if (keeper_worker_pin(&n))
		goto out;
	for (char *p = (char *)wudp; *p != '\0' && n.nudp_fd < CFG_MAXLISTEN;
	    p += *p == ',') {
		char *end;

		n.udp_fd[n.nudp_fd++] = (int)strtol(p, &end, 10);
		if (end == p)
			break;
		p = end;
	}
	if ((n.last_ts = calloc(n.cfg->nclients ? n.cfg->nclients : 1,
	    sizeof(*n.last_ts))) == NULL ||
	    (n.held_by = calloc(n.cfg->nclients ? n.cfg->nclients : 1,
	    sizeof(*n.held_by))) == NULL)
		goto out;
	check_ports(n.cfg);
	(void)privcheck_run(n.cfg, &n.priv, 0);   /* the keeper reported it */
	if (n.priv.bpf_filter && (n.gbpf = grant_bpf_new(65536)) == NULL)
		log_warn("grant_filter", "msg=\"the shared grant filter did not "
		    "load (%s): each grant gets its own\"", strerror(errno));
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
	if ((n.rids = idmap_new()) == NULL) {
		log_error("startup", "msg=\"out of memory\"");
		goto out;
	}
	n.loop = uv_default_loop();
	uv_signal_init(n.loop, &n.sigint);
	uv_signal_init(n.loop, &n.sigterm);
	n.sigint.data = n.sigterm.data = &n;
	uv_signal_start(&n.sigint, on_signal, SIGINT);
	uv_signal_start(&n.sigterm, on_signal, SIGTERM);
	reload_start(&n);
	if (store_start(&n) == 0 && keeper_worker_start(&n) == 0 &&
	    (store_load_ts(&n), door_start(&n)) == 0 &&
	    control_start(&n) == 0) {
		keeper_watch(&n);
		size_caps(&n);
		log_info("started", "version=%s services=%zu clients=%zu "
		    "fd_limit=%llu sessions_cap=%zu pid=%d", VERSION,
		    n.cfg->nservices, n.cfg->nclients,
		    (unsigned long long)n.fd_limit, n.sessions_cap,
		    (int)getpid());
		keeper_worker_started(&n);
		rc = 0;
	} else {
		keeper_unwatch(&n);
		reload_stop(&n);
		door_stop(&n);
		control_stop(&n);
		uv_close((uv_handle_t *)&n.sigint, NULL);
		uv_close((uv_handle_t *)&n.sigterm, NULL);
	}
	uv_run(n.loop, UV_RUN_DEFAULT);
	uv_loop_close(n.loop);
	free(n.queue);
	free(n.client_tb);
	idmap_free(n.rids);
	limit_sources_free(n.sources);
	limit_sources_free(n.cookie_sources);
	limit_counts_free(n.pending_ip);
	limit_counts_free(n.pending_ipport);
	limit_counts_free(n.established);
	cookie_node_wipe(&n.cookie);
	store_free(n.store);
	grant_bpf_free(n.gbpf);
	if (rc == 0)
		log_info("stopped", "sessions=%llu",
		    (unsigned long long)n.stats.sessions);
out:
	reload_free(&n);
	free(n.last_ts);
	free(n.held_by);
	hs_node_free(&n.hs);
	cfg_server_free(n.cfg);
	return rc;
}
