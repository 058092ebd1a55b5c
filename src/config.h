/*
 * config: the INI files of warrend and warren, parsed with inih.
 * Every error is reported once, as "FILE:LINE: what is wrong", through
 * log_error(event "config"), and the load fails.  Relative key paths are
 * taken relative to the directory of the config file.
 */
#ifndef WARREN_CONFIG_H
#define WARREN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "log.h"

#define CFG_NAMELEN 64      /* service, client and cluster names: 1..63 chars */
#define CFG_MAXLISTEN 8
#define CFG_MAXNODES 16
#define CFG_STORE_DEFAULT "/var/lib/warren"   /* store = lmdb:this */
/*
 * The default grant_ports: above Linux's default ephemeral range
 * (net.ipv4.ip_local_port_range = 32768 60999), so that the node's own
 * outgoing connections never take a grant port; see warren.conf(5).
 */
#define CFG_GRANT_LO 61000
#define CFG_GRANT_HI 63999
#define CFG_MAX_SESSIONS_MAX 1000000   /* largest max_sessions accepted */

enum cfg_mode { CFG_MODE_STREAM, CFG_MODE_REPLAY };
enum cfg_store { CFG_STORE_MEMORY, CFG_STORE_LMDB, CFG_STORE_REDIS };

struct cfg_service {
	char name[CFG_NAMELEN];
	char *connect;              /* "HOST:PORT" or NULL */
	struct sockaddr_storage connect_addr;
	socklen_t connect_len;
	char *exec;                 /* command line or NULL */
	enum cfg_mode mode;
	int line;                   /* of the [service] header */
	int exec_line, mode_line;   /* of exec = and mode =, or 0 */
};

struct cfg_client {
	char name[CFG_NAMELEN];
	uint8_t public_key[32];
	int has_psk;
	uint8_t psk[32];
	char **services;            /* names, each one a [service] */
	size_t nservices;
	int line;
	int max_sessions;           /* live sessions (and grants); default [server]'s */
	int max_sessions_line;      /* the line of its max_sessions =, or 0 */
};

struct cfg_server {
	char *path;
	uint8_t private_key[32];
	struct sockaddr_storage listen[CFG_MAXLISTEN];
	socklen_t listen_len[CFG_MAXLISTEN];
	size_t nlisten;             /* default: 0.0.0.0:7400 */
	int grant_lo, grant_hi;     /* default CFG_GRANT_LO-CFG_GRANT_HI */
	int grant_ports_line;       /* the line of grant_ports =, or 0 */
	int grant_timeout;          /* seconds, default 10 */
	enum cfg_store store;       /* default memory */
	char *store_arg;            /* LMDB path or "HOST:PORT", else NULL */
	int store_line;             /* the line of store =, or 0 */
	int has_cluster_secret;
	uint8_t cluster_secret[32];
	char *control;              /* unix socket path or NULL (none) */
	int control_line;           /* the line of control =, or 0 */
	int has_control_group;      /* control_group = NAME was given */
	gid_t control_gid;          /* its group: may read status */
	int control_group_line;
	int keepalive;              /* seconds between keepalives, default 10 */
	int stall_timeout;          /* seconds without progress: "stall", 60 */
	int linger;                 /* seconds a session waits for a carrier, 600 */
	int dead_busy;              /* seconds of silence with data in flight, 3 */
	enum log_level log_level;   /* default info */
	/* Front-door defences; defaults and reasons in warren.conf(5). */
	int load_threshold;         /* queued handshakes; 0: always under load */
	int handshake_queue;        /* 4096 */
	int source_rate, source_burst;   /* 20/s, 5: per IP or /64, under load */
	int source_penalty;   /* 10 s without handshakes after a wasted one */
	int client_rate;            /* 4000/s per client key in calm times */
	int client_rate_load;       /* 50/s per client key under load */
	int pending_per_ip;         /* 64 open grants per IP */
	int pending_per_ip_port;    /* 2 per (IP, port) once the IP has a session */
	int max_grants;             /* 1024 open grants in all */
	int clock_skew;             /* 120 s */
	int max_sessions;           /* 256 live sessions per [client] by default */
	struct cfg_service *services;
	size_t nservices;
	struct cfg_client *clients;
	size_t nclients;
};

struct cfg_cluster {
	char name[CFG_NAMELEN];
	uint8_t public_key[32];
	int has_psk;
	uint8_t psk[32];
	char *nodes[CFG_MAXNODES];  /* "HOST:PORT" as written, resolved when used */
	size_t nnodes;
	int line;
};

struct cfg_client_file {
	char *path;
	uint8_t private_key[32];
	int timeout;                /* seconds to wait for a node, default 5 */
	int stall_timeout;          /* seconds without progress: "stall", 60 */
	int dead_busy;              /* seconds of silence with data in flight, 3 */
	int resume_timeout;         /* seconds to keep resuming a session, 600 */
	enum log_level log_level;   /* default warn */
	struct cfg_cluster *clusters;
	size_t nclusters;
};

/**
 * cfg_server_load(path):
 * Parse and validate the warrend config ${path}, loading the keys it
 * names.  Returns NULL after logging each problem found.
 */
struct cfg_server *cfg_server_load(const char *path);

/**
 * cfg_server_control(path):
 * Parse and validate the warrend config ${path} as cfg_server_load does,
 * but without reading the key files it names (a reader of the control
 * socket need not read warrend's keys), and return the path of its
 * control socket (the caller frees it).  Returns NULL after logging each
 * problem found, or that the file sets no control.
 */
char *cfg_server_control(const char *path);

/**
 * cfg_server_service(cfg, name):
 * Return the [service ${name}] of ${cfg}, or NULL.
 */
const struct cfg_service *cfg_server_service(const struct cfg_server *cfg,
    const char *name);

/**
 * cfg_server_client(cfg, public_key):
 * Return the [client] whose key is ${public_key} (constant-time compare),
 * or NULL.
 */
const struct cfg_client *cfg_server_client(const struct cfg_server *cfg,
    const uint8_t public_key[32]);

/**
 * cfg_client_allows(client, service):
 * Return 1 if ${client} may use the service named ${service}.
 */
int cfg_client_allows(const struct cfg_client *client, const char *service);

/**
 * cfg_server_free(cfg):
 * Wipe keys and free ${cfg}.  Does nothing if ${cfg} is NULL.
 */
void cfg_server_free(struct cfg_server *cfg);

/**
 * cfg_client_load(path):
 * Parse and validate the warren (client) config ${path}, loading its
 * private key.  Returns NULL after logging each problem found.
 */
struct cfg_client_file *cfg_client_load(const char *path);

/**
 * cfg_client_cluster(cfg, target, service):
 * Resolve the command-line ${target} "SERVICE" or "CLUSTER/SERVICE" to a
 * cluster of ${cfg}; set *${service} to point at the service part.
 * "SERVICE" alone needs exactly one [cluster].  Returns NULL after logging
 * the reason.
 */
const struct cfg_cluster *cfg_client_cluster(const struct cfg_client_file *cfg,
    const char *target, const char **service);

/**
 * cfg_client_free(cfg):
 * Wipe keys and free ${cfg}.  Does nothing if ${cfg} is NULL.
 */
void cfg_client_free(struct cfg_client_file *cfg);

/**
 * cfg_server_parse_string(text, name) / cfg_client_parse_string(text, name):
 * As the _load functions but from the NUL-terminated ${text}, reported as
 * file ${name}; key paths are relative to the current directory.  For
 * tests and the fuzzer.
 */
struct cfg_server *cfg_server_parse_string(const char *text, const char *name);
struct cfg_client_file *cfg_client_parse_string(const char *text,
    const char *name);

#endif
