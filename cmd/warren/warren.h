/*
 * warren: the client agent's subcommands.
 */
#ifndef WARREN_CMD_H
#define WARREN_CMD_H

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

/**
 * cmd_status(path):
 * Print warrend's counters and live sessions, asked from control socket
 * ${path} (NULL: the default /run/warren/warrend.sock).
 */
int cmd_status(const char *path);

#endif
