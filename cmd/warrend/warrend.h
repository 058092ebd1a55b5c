/*
 * warrend internals shared by its files.
 */
#ifndef WARREND_H
#define WARREND_H

#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "cookie.h"
#include "handshake.h"
#include "limit.h"
#include "privcheck.h"
#include "session.h"

struct grant;
struct conn;
struct idmap;

/* The front door's receive buffer (door.c says why this size). */
#define DOOR_RCVBUF (8 << 20)

/*
 * Counters of the front door and carriers, printed by "warren status" in
 * this order (see NODE_STATS in control.c).
 */
struct node_stats {
	uint64_t rx_packets, drop_kernel, drop_malformed, drop_mac1;
	uint64_t cookies_sent;
	uint64_t drop_handshake, drop_unknown_client, drop_replay, drop_skew;
	uint64_t drop_queue_full, drop_rate_source, drop_rate_cookie;
	uint64_t drop_rate_client;
	uint64_t drop_pending_ip, drop_pending_ip_port, drop_grants_full;
	uint64_t denied_service, no_service, busy;
	uint64_t busy_max_sessions, busy_global;   /* BUSY for a session cap */
	uint64_t grants, grants_expired, grants_superseded, grant_probes;
	uint64_t carriers_rejected;
	uint64_t sessions, sessions_live, backend_errors, log_suppressed;
	uint64_t resumes, resume_drops, sessions_detached;
	uint64_t control_refused;    /* control connections over the cap */
};

/* Kinds of packet-path log lines, each rate-limited on its own. */
enum door_log { DLOG_DROP, DLOG_CLIENT, DLOG_LIMIT, DLOG_GRANT, DLOG_CONTROL,
    DLOG_SESSION, DLOG_N };

/*
 * INITs refused by a pending-grant cap from one IP within the current
 * second: logged as one summary line a second (door.c), not one each.
 */
#define DOOR_LIMIT_SOURCES 16
struct door_limit_sum {
	uint8_t ip[LIMIT_KEYLEN];
	struct sockaddr_storage first;   /* the first one's source */
	const char *what;                /* the cap: "pending_per_ip", ... */
	uint64_t count;
};

/* An INIT waiting for its Diffie-Hellman. */
struct door_job {
	uv_udp_t *udp;
	struct sockaddr_storage src;
	uint8_t pkt[WIRE_INIT_LEN];
};

struct node {
	uv_loop_t *loop;
	struct cfg_server *cfg;
	struct hs_node hs;
	uv_udp_t udp[CFG_MAXLISTEN];
	size_t nudp;
	uv_signal_t sigint, sigterm;
	struct grant *grants;            /* live grants (list) */
	size_t ngrants;
	struct conn *conns;              /* live carriers (list) */
	struct idmap *rids;              /* conns by resume id */
	struct node_stats stats;
	struct cookie_node cookie;
	struct limit_sources *sources;       /* per-source DH budget (under load) */
	struct limit_sources *cookie_sources;/* per-source cookie budget */
	struct limit_counts *pending_ip;     /* open grants per IP */
	struct limit_counts *pending_ipport; /* open grants per (IP, port) */
	struct limit_counts *established;    /* live sessions per IP */
	struct limit_tb *client_tb;          /* per [client] */
	struct door_job *queue;              /* ring of handshake_queue jobs */
	size_t qhead, qlen;
	uv_idle_t worker;                    /* runs queued handshakes */
	uv_timer_t tick;                     /* once a second: log summaries */
	uint64_t last_over_ms;               /* queue last over load_threshold */
	int was_over;
	int filtered;                        /* under-load socket filter on */
	const struct cfg_client *checked;    /* the INIT being read: its client */
	uint8_t offered[32];                 /* else the unknown key it offered */
	struct door_limit_sum limsum[DOOR_LIMIT_SOURCES];
	size_t nlimsum;
	uint64_t limsum_other;               /* from IPs beyond the table */
	struct limit_tb loglim[DLOG_N];
	uint64_t suppressed_reported;
	uv_pipe_t control;
	int control_open;
	size_t nctl;                         /* open control connections */
	uint64_t started_unix;               /* when this worker started */
	/*
	 * Session caps: a grant or a live session is "held" from the grant
	 * until the session ends; held_by counts them per [client] (against
	 * its max_sessions), held in all (against sessions_cap, sized from
	 * the descriptor limit fd_limit at start).
	 */
	unsigned *held_by;
	size_t held, sessions_cap;
	uint64_t fd_limit;
	uint8_t (*last_ts)[WIRE_TAI64N_LEN];  /* newest INIT time per [client] */
	struct store *store;                 /* warren.conf(5) store = */
	int store_failed;                    /* a store error was logged */
	int stopping;
	int keeper;                          /* socket to the keeper, or -1 */
	uv_poll_t keeper_poll;
	int udp_fd[CFG_MAXLISTEN];           /* front doors from the keeper */
	size_t nudp_fd;
	struct privcheck priv;               /* what this process may do */
	struct grant_bpf *gbpf;   /* the shared grant filter, or NULL */
	uv_signal_t sighup;                  /* reload (reload.c) */
	int sighup_open;
	struct cfg_server **retired;  /* old configs that ending sessions use */
	size_t nretired;
};

/**
 * door_start(n):
 * Bind and start every UDP front door of ${n}.  Logs and returns -1 if a
 * listen address cannot be bound.
 */
int door_start(struct node *n);

/**
 * door_under_load(n):
 * Return 1 if the front door is under load: the handshake queue passed
 * load_threshold less than a second ago (or load_threshold is 0).
 */
int door_under_load(struct node *n);

/**
 * door_refresh(n):
 * Read the front door sockets' kernel backlog (it counts toward "under
 * load") and drop counter (into drop_kernel), and attach or detach the
 * under-load socket filter to match.  Cheap: one getsockopt per socket.
 */
void door_refresh(struct node *n);

/**
 * door_log_ok(n, kind):
 * Return 1 if a packet-path log line of ${kind} may be printed now (10 a
 * second, bursts of 20); else count it as suppressed and return 0.
 */
int door_log_ok(struct node *n, enum door_log kind);

/**
 * door_init_name(cl, name):
 * The store key under which the newest INIT timestamp of [client] ${cl}
 * is kept: WIRE_STORE_INIT || its public key.
 */
void door_init_name(const struct cfg_client *cl,
    uint8_t name[sizeof(WIRE_STORE_INIT) - 1 + 32]);

/**
 * door_store_failed(n, what):
 * Log (once, until the store works again) that the store operation
 * ${what} failed, with errno's reason.
 */
void door_store_failed(struct node *n, const char *what);

/**
 * door_stop(n):
 * Close the front doors.
 */
void door_stop(struct node *n);

/**
 * carrier_grant(n, udp, client, cl, svc, grant_key, resp):
 * Open a one-shot grant for a new session of [client] ${cl} from address
 * ${client} to service ${svc}: pick a decoy whose port (keyed by
 * ${grant_key}) is free, listen there on the address of front door ${udp},
 * for ${client} only.  An unused grant of the same client from the same
 * address and port is closed first: the client has moved on to this
 * handshake.  Fills the grant fields of ${resp}.  Returns NULL (the answer
 * is BUSY) if [client] ${cl} holds its max_sessions, the node holds
 * sessions_cap, or no port could be opened; the first two are counted and
 * logged (rate-limited) as event=busy with cap=max_sessions or cap=global.
 * The grant accepts no carrier until carrier_grant_arm.
 */
struct grant *carrier_grant(struct node *n, uv_udp_t *udp,
    const struct sockaddr *client, const struct cfg_client *cl,
    const struct cfg_service *svc, const uint8_t grant_key[32],
    struct wire_resp *resp);

/**
 * carrier_resume(n, udp, pkt, src, out):
 * Handle the RESUME ${pkt} (WIRE_RESUME_LEN bytes, cheap checks passed)
 * from ${src} on front door ${udp}: find its session, check it and, if it
 * is good, open a grant for its next carrier and write the RESUMED answer
 * to ${out}; return 0.  Return -1 if nothing must be sent (an unknown
 * session, a forgery, a replay: counted and logged, rate-limited).
 */
int carrier_resume(struct node *n, uv_udp_t *udp, const uint8_t *pkt,
    const struct sockaddr *src, uint8_t out[WIRE_RESUMED_LEN]);

/**
 * carrier_grant_arm(g, s):
 * Give grant ${g} its session ${s} (copied) once the handshake is done.
 */
void carrier_grant_arm(struct grant *g, const struct session *s);

/**
 * carrier_grant_cancel(g):
 * Close grant ${g} at once.
 */
void carrier_grant_cancel(struct grant *g);

/* What a control command needs of its peer (control_peer_may). */
enum control_access {
	CONTROL_READ,      /* read-only: status, sessions */
	CONTROL_ADMIN      /* changes state: reload */
};

/**
 * control_peer_may(n, p, want, cmd):
 * Return 1 if the peer of the control connection ${p} may run the command
 * ${cmd}, which needs ${want}: uid 0 and warrend's own uid may run any;
 * a member of control_group (its primary or a supplementary group, as
 * the kernel reports them: SO_PEERCRED, SO_PEERGROUPS) only CONTROL_READ
 * ones.  Else log the refusal (rate-limited, event=control_denied, with
 * the peer's uid and pid) and return 0.
 */
int control_peer_may(struct node *n, uv_pipe_t *p, enum control_access want,
    const char *cmd);

/**
 * control_start(n) / control_stop(n):
 * Open (and close) the control socket named by "control", if any.
 * control_start logs and returns -1 if it cannot listen there.
 */
int control_start(struct node *n);
void control_stop(struct node *n);

/**
 * carrier_sessions(n, len):
 * Describe every live session of ${n}, one "session key=value ..." line
 * each (PROTOCOL.md 13), in a buffer the caller frees; its length goes in
 * ${len}.  Returns NULL if out of memory.
 */
char *carrier_sessions(struct node *n, size_t *len);

/**
 * carrier_stalled(n):
 * Return how many sessions of ${n} are stalled now (see relay_set_stall).
 */
size_t carrier_stalled(struct node *n);

/**
 * carrier_stop_all(n):
 * Close every live grant (sessions in progress end with their carriers).
 */
void carrier_stop_all(struct node *n);

/**
 * carrier_adopt(n, id, fd):
 * Adopt the session ${id}, whose worker died, with its backend socket
 * ${fd} (taken): read its state from the store and set it up detached,
 * waiting for the client's RESUME.  Returns -1 (${fd} closed, logged) if
 * it cannot.
 */
int carrier_adopt(struct node *n, const uint8_t *id, int fd);

/*
 * A reload's verdict on a grant or session whose [client] is *${cl} and
 * [service] *${svc}: point both at the new config's objects and return
 * NULL, or return why it must end (a text for its CLOSE and the log).
 */
typedef const char *carrier_remap_fn(void *arg, const struct cfg_client **cl,
    const struct cfg_service **svc);

/**
 * carrier_remap(n, cfg, held_by, remap, arg):
 * For a reload to ${cfg} (not yet n->cfg): call ${remap}(${arg}, ...) for
 * every session and grant of ${n}.  A session it condemns ends (a CLOSE
 * with its text, and the session_end line names it), a grant closes; the
 * others move to ${cfg}'s client and service, and live sessions take
 * ${cfg}'s stall_timeout and dead_busy.  Then fill ${held_by}
 * (${cfg}->nclients entries) with the grants and sessions each client of
 * ${cfg} holds.  Returns the number of sessions ended.
 */
size_t carrier_remap(struct node *n, const struct cfg_server *cfg,
    unsigned *held_by, carrier_remap_fn *remap, void *arg);

/**
 * carrier_uses(n, cfg):
 * Return 1 if a session or grant of ${n} still points into ${cfg}'s
 * clients or services (one a reload ended, that has not finished yet).
 */
int carrier_uses(struct node *n, const struct cfg_server *cfg);

/**
 * reload_supported(cfg):
 * Refuse what this version cannot run yet (exec =, mode = replay, a redis
 * store), logging FILE:LINE for each; returns 0 or -1.  Part of every
 * config check: --check, the start and a reload.
 */
int reload_supported(const struct cfg_server *cfg);

/**
 * reload_start(n) / reload_stop(n):
 * Make SIGHUP reload the config of worker ${n} (reload_run); stop that.
 */
void reload_start(struct node *n);
void reload_stop(struct node *n);

/**
 * reload_run(n, out, outlen):
 * Re-read ${n}'s config file and check it completely; if it is good,
 * apply it without touching live sessions, except those of a removed
 * client, of a removed service or of one no longer allowed to its client,
 * which end with that reason.  Settings that cannot change live are
 * reported and keep their running values.  Logs one event=reload line (or
 * event=reload_failed after the FILE:LINE errors) and writes the answer
 * for "warren reload" into ${out} (${outlen} bytes): "ok ..." or "error
 * ...".  Returns 0, or -1 if the config was refused and nothing changed.
 */
int reload_run(struct node *n, char *out, size_t outlen);

/**
 * reload_free(n):
 * Free the old configs kept for sessions that a reload ended.
 */
void reload_free(struct node *n);

/**
 * keeper_reloaded(n):
 * In a worker: tell the keeper that ${n} reloaded its config, so that the
 * spare worker is replaced by one that reads the new file.
 */
void keeper_reloaded(struct node *n);

/**
 * keeper_run(cfg, path):
 * Run as the keeper (keeper.c) for the config ${cfg} loaded from ${path}:
 * bind the front doors, run workers, keep the backends.  Returns the exit
 * code.
 */
int keeper_run(const struct cfg_server *cfg, const char *path);

/**
 * keeper_worker_pin(n):
 * Read the keeper's first message, the settings that warrend started with
 * and that cannot change while it runs, and give them to ${n}->cfg, which
 * was read from the file anew (cfgdiff_keep_pinned); log those that the
 * file had changed.  Returns 0, or -1 (logged).
 */
int keeper_worker_pin(struct node *n);

/**
 * keeper_worker_start(n):
 * In a worker: tell the keeper that ${n} is ready, wait (a spare worker
 * waits here until the worker before it dies), adopt every session it
 * hands over (carrier_adopt), and return 0 when it says serve; -1 if the
 * keeper is gone.  Does nothing without a keeper.
 */
int keeper_worker_start(struct node *n);

/**
 * keeper_worker_started(n):
 * In a worker: tell the keeper that ${n} serves (its "started" line).
 */
void keeper_worker_started(struct node *n);

/**
 * keeper_keep(n, id, fd) / keeper_drop(n, id):
 * Hand the keeper a duplicate of the backend socket ${fd} of session
 * ${id}; tell it that session ${id} ended.
 */
void keeper_keep(struct node *n, const uint8_t *id, int fd);
void keeper_drop(struct node *n, const uint8_t *id);

/**
 * keeper_watch(n) / keeper_unwatch(n):
 * Watch the keeper's socket: its 'Q' (replaced) makes the worker exit at
 * once, leaving its sessions; its loss stops the worker.
 */
void keeper_watch(struct node *n);
void keeper_unwatch(struct node *n);

#endif
