/*
 * warren: the client agent's subcommands.
 */
#ifndef WARREN_CMD_H
#define WARREN_CMD_H

#include <stdio.h>
#include <stddef.h>

/**
 * cmd_conffile(buf, len):
 * The client configuration to use when the command line names none: the
 * first of $XDG_CONFIG_HOME/warren/client.conf (~/.config when
 * XDG_CONFIG_HOME is unset) and /etc/warren/client.conf that exists,
 * copied into ${buf} (${len} bytes).  Returns ${buf}, or NULL after
 * logging the paths tried when neither exists.
 */
const char *cmd_conffile(char *buf, size_t len);

/** cmd_genkey(): print a new private key; returns the exit status. */
int cmd_genkey(void);

/** cmd_pubkey(): print the public key of the private key on stdin. */
int cmd_pubkey(void);

/**
 * cmd_forward(cfgpath, listen, target):
 * Serve local TCP connections on ${listen} ("[ADDR:]PORT"), each through
 * its own session to ${target} ("SERVICE" or "CLUSTER/SERVICE").
 */
int cmd_forward(const char *cfgpath, const char *listen, const char *target);

/**
 * cmd_connect(cfgpath, target):
 * Carry stdin and stdout through one session to ${target}.
 */
int cmd_connect(const char *cfgpath, const char *target);

/* The output of "warren status". */
enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS };

/**
 * cmd_status(path, cfgpath, fmt):
 * Print warrend's state (version, uptime, counters, live sessions) in
 * format ${fmt}, asked from the control socket ${path}, or if ${cfgpath}
 * is not NULL from the one its warrend config names (control =), or else
 * from the default /run/warren/warrend.sock.  Returns the exit status.
 */
int cmd_status(const char *path, const char *cfgpath,
    enum status_format fmt);

struct ctlmsg;

/**
 * status_json_print(f, path, m):
 * Print warrend's state ${m}, read from control socket ${path}, to ${f}
 * as one JSON object (warren(1), STATUS FORMATS).
 */
void status_json_print(FILE *f, const char *path, const struct ctlmsg *m);

/**
 * status_prom_print(f, m):
 * Print warrend's state ${m} to ${f} in the Prometheus text exposition
 * format 0.0.4 (warren(1), STATUS FORMATS).
 */
void status_prom_print(FILE *f, const struct ctlmsg *m);

/**
 * cmd_reload(path):
 * Ask warrend, through control socket ${path} (NULL: the default), to
 * reload its config, and print its answer: what changed, or the errors
 * that kept the running config.  Returns 0 if it reloaded, else 1.
 */
int cmd_reload(const char *path);

#endif
