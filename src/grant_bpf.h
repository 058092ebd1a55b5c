/*
 * grant_bpf: one source filter shared by every grant listener of a
 * process, for a warrend that may load eBPF (CAP_BPF).  Linux only,
 * warrend only.
 *
 * The classic filter (grant_filter) is a program per grant with the
 * client's address in it, and the kernel JIT-compiles each one when it is
 * attached: on some virtual machines that is a tenth of a millisecond, a
 * fifth of a resume's work.  Here one eBPF program, loaded once, looks the
 * listener's port up in a hash map of port -> client address; a grant
 * costs one map update and an attach by reference.  The filter drops
 * every packet to a grant's port whose source IP is not the grant's
 * client, exactly as grant_filter does.  Without CAP_BPF (warrend's
 * default: kernel.unprivileged_bpf_disabled) grant_bpf_new fails and
 * warrend uses grant_filter.
 */
#ifndef WARREN_GRANT_BPF_H
#define WARREN_GRANT_BPF_H

#include <sys/socket.h>

#include "crypto.h"   /* WR_MUST */

struct grant_bpf;

/**
 * grant_bpf_new(ports):
 * Load the shared filter program and its map, which admits up to ${ports}
 * grant ports at once.  Returns NULL with errno set if the kernel refuses
 * (EPERM without CAP_BPF).  The caller owns the result.
 */
struct grant_bpf *grant_bpf_new(unsigned ports);

/**
 * grant_bpf_admit(gb, fd, port, client):
 * Let only ${client}'s IP reach TCP port ${port} of socket ${fd} (bound
 * to it, not yet listening): record ${port} -> ${client} in ${gb}'s map
 * and attach ${gb}'s program to ${fd}.  Returns 0, or -1 with errno set:
 * EADDRINUSE if ${port} is already admitted for another socket.  On
 * success the caller must grant_bpf_release(${port}) when the listener
 * closes, and detach the filter (SO_DETACH_FILTER) from each socket that
 * it accepts: an accepted socket inherits the filter, which would drop
 * its packets once the port is released.
 */
int grant_bpf_admit(struct grant_bpf *gb, int fd, int port,
    const struct sockaddr *client) WR_MUST;

/**
 * grant_bpf_release(gb, port):
 * Forget ${port}: no packet to it passes the filter any more.
 */
void grant_bpf_release(struct grant_bpf *gb, int port);

/**
 * grant_bpf_free(gb):
 * Unload ${gb}'s program and map (sockets that still hold the program
 * keep it).  grant_bpf_free(NULL) does nothing.
 */
void grant_bpf_free(struct grant_bpf *gb);

#endif
