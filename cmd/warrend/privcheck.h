/*
 * privcheck: what this process may do, measured once at start.
 *
 * warrend runs as an unprivileged user.  A few of its operations may need
 * a capability, depending on the config and on the kernel: binding a port
 * below net.ipv4.ip_unprivileged_port_start (CAP_NET_BIND_SERVICE),
 * attaching a socket filter to a TCP listener (some kernels: CAP_NET_ADMIN)
 * and forcing a receive buffer past net.core.rmem_max (CAP_NET_ADMIN).
 * Each is tried once on a throwaway socket before anything starts, so that
 * warrend either refuses to start with one line naming what is missing or
 * says once what it will do without, instead of failing every session
 * later.  warrend(8), CAPABILITIES, says which is which and why.
 */
#ifndef WARREND_PRIVCHECK_H
#define WARREND_PRIVCHECK_H

#include "config.h"

/* What privcheck_run measured; 1 = the kernel lets this process do it. */
struct privcheck {
	int tcp_filter;     /* grant listeners take their source filter */
	int bpf_filter;     /* ... and may share one eBPF program (CAP_BPF) */
	int udp_filter;     /* front doors take the under-load filter */
	int rcvbuf_force;   /* SO_RCVBUFFORCE: buffers past rmem_max */
	long rmem_max;      /* net.core.rmem_max, or -1 if unknown */
};

/**
 * privcheck_run(cfg, pc, report):
 * Try, each once on a throwaway socket, every privileged operation that
 * warrend performs for the config ${cfg}: binding each UDP listen port and
 * the grant range when they are below net.ipv4.ip_unprivileged_port_start,
 * creating the control socket in its directory, attaching a grant's socket
 * filter to a TCP socket and a filter to a UDP socket, and forcing a
 * receive buffer size.  Fill ${pc}.  If ${report}, log one error line for
 * each operation that ${cfg} cannot do without (naming the capability or
 * the fix), one warning for each that warrend will do without (naming what
 * is lost and the capability that restores it), and one info line with the
 * results.  Returns -1 if warrend cannot run ${cfg} as this process, else 0.
 */
int privcheck_run(const struct cfg_server *cfg, struct privcheck *pc,
    int report);

#endif
