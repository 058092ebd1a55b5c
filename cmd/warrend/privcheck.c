/*
 * privcheck: try once, at start, each privileged operation warrend needs.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "grant.h"
#include "grant_bpf.h"
#include "log.h"
#include "privcheck.h"
#include "relay.h"
#include "warrend.h"

#define PORT_START_FILE "/proc/sys/net/ipv4/ip_unprivileged_port_start"
#define RMEM_MAX_FILE "/proc/sys/net/core/rmem_max"

/* The number in the /proc/sys file ${path}, or ${dflt} if unreadable. */
static long
sysctl_long(const char *path, long dflt)
{
	FILE *f;
	long v;

	if ((f = fopen(path, "re")) == NULL)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

/* The length of the sockaddr ${sa} (AF_INET or AF_INET6). */
static socklen_t
sa_len(const struct sockaddr *sa)
{

	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in);
}

/*
 * Bind a throwaway socket of ${type} to ${sa} with port ${port}; return 0
 * or the errno of the failure.  Only EACCES (a port below
 * ip_unprivileged_port_start without CAP_NET_BIND_SERVICE) matters to the
 * caller: that check comes before the one for a port in use, so a running
 * warrend that holds the port does not hide it.
 */
static int
try_bind(const struct sockaddr *sa, int type, int port)
{
	struct sockaddr_storage ss;
	int fd, err = 0;

	memcpy(&ss, sa, sa_len(sa));
	addr_set_port((struct sockaddr *)&ss, port);
	if ((fd = socket(sa->sa_family, type | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&ss, sa_len(sa)) < 0)
		err = errno;
	(void)close(fd);
	return err;
}

/*
 * Attach the filter a grant gets (grant_filter, for a client at ${sa}) to
 * a throwaway TCP socket of ${sa}'s family; return 0 or the errno.
 */
static int
try_tcp_filter(const struct sockaddr *sa)
{
	int fd, err = 0;

	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (grant_filter(fd, sa) < 0)
		err = errno;
	(void)close(fd);
	return err;
}

/*
 * Load the shared grant filter (grant_bpf) and attach it to a throwaway
 * TCP socket of ${sa}'s family, admitting ${sa}; return 0 or the errno.
 */
static int
try_bpf_filter(const struct sockaddr *sa)
{
	struct grant_bpf *gb;
	int fd, err = 0;

	if ((gb = grant_bpf_new(1)) == NULL)
		return errno;
	if ((fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		err = errno;
	else if (grant_bpf_admit(gb, fd, 0, sa) < 0)
		err = errno;
	if (fd >= 0)
		(void)close(fd);
	grant_bpf_free(gb);
	return err;
}

/* Attach an accept-all filter to a throwaway UDP socket; 0 or the errno. */
static int
try_udp_filter(int family)
{
	static struct sock_filter code[] = {
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	};
	static const struct sock_fprog prog = { .len = 1, .filter = code };
	int fd, err = 0;

	if ((fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
	    sizeof(prog)) < 0)
		err = errno;
	(void)close(fd);
	return err;
}

/* Force the receive buffer of a throwaway UDP socket; 0 or the errno. */
static int
try_rcvbuf_force(void)
{
	int fd, err = 0, size = DOOR_RCVBUF;

	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) < 0)
		err = errno;
	(void)close(fd);
	return err;
}

/*
 * The listen ports and the grant range below ip_unprivileged_port_start
 * need CAP_NET_BIND_SERVICE: log each that this process cannot bind.
 * Returns -1 if one cannot be bound for that reason.
 */
static int
check_ports(const struct cfg_server *cfg, int report)
{
	long start = sysctl_long(PORT_START_FILE, 1024);
	char a[ADDR_STRLEN];
	int rc = 0;

	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr *sa = (struct sockaddr *)&cfg->listen[i];
		int port = addr_port(sa);

		if (port >= start || try_bind(sa, SOCK_DGRAM, port) != EACCES)
			continue;
		rc = -1;
		if (report)
			log_error("privileges", "need=CAP_NET_BIND_SERVICE "
			    "msg=\"%s: listen = %s: cannot bind UDP port %d "
			    "(%s): ports below %ld (%s) need "
			    "CAP_NET_BIND_SERVICE: grant it "
			    "(AmbientCapabilities=CAP_NET_BIND_SERVICE) or "
			    "listen on a port from %ld up\"", cfg->path,
			    addr_str(sa, a), port, strerror(EACCES), start,
			    PORT_START_FILE, start);
	}
	if (cfg->grant_lo >= start)
		return rc;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr *sa = (struct sockaddr *)&cfg->listen[i];

		if (try_bind(sa, SOCK_STREAM, cfg->grant_lo) != EACCES)
			continue;
		rc = -1;
		if (report)
			log_error("privileges", "need=CAP_NET_BIND_SERVICE "
			    "msg=\"%s:%d: grant_ports = %d-%d: cannot bind TCP "
			    "port %d (%s): ports below %ld (%s) need "
			    "CAP_NET_BIND_SERVICE: grant it "
			    "(AmbientCapabilities=CAP_NET_BIND_SERVICE) or "
			    "choose a range from %ld up\"", cfg->path,
			    cfg->grant_ports_line, cfg->grant_lo, cfg->grant_hi,
			    cfg->grant_lo, strerror(EACCES), start,
			    PORT_START_FILE, start);
		break;
	}
	return rc;
}

/*
 * The worker creates the control socket (if any) in its directory: that
 * directory must exist and this process must be able to write there, and
 * what is at the path must be a socket or nothing (control_start replaces
 * a socket, never another file).  Returns -1 (logged if ${report}) if not.
 */
static int
check_control(const struct cfg_server *cfg, int report)
{
	char dir[PATH_MAX];
	const char *slash;
	struct stat st;

	if (cfg->control == NULL)
		return 0;
	if ((slash = strrchr(cfg->control, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == cfg->control)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash - cfg->control), cfg->control);
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		if (report)
			log_error("privileges", "msg=\"%s:%d: control = %s: uid "
			    "%u cannot create the socket in %s: %s (chown the "
			    "directory to the user that runs warrend, or let "
			    "systemd make it with RuntimeDirectory=)\"",
			    cfg->path, cfg->control_line, cfg->control,
			    (unsigned)geteuid(), dir, strerror(errno));
		return -1;
	}
	if (lstat(cfg->control, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		if (report)
			log_error("privileges", "msg=\"%s:%d: control = %s: a "
			    "file that is not a socket is in the way (warrend "
			    "replaces only a socket): remove it or choose "
			    "another path\"", cfg->path, cfg->control_line,
			    cfg->control);
		return -1;
	}
	return 0;
}

int
privcheck_run(const struct cfg_server *cfg, struct privcheck *pc,
    int report)
{
	int rc = 0, err = 0, tcp_err = 0;

	memset(pc, 0, sizeof(*pc));
	if (check_ports(cfg, report) < 0)
		rc = -1;
	if (check_control(cfg, report) < 0)
		rc = -1;

	/*
	 * A grant's source filter: each family of a front door (the grants
	 * listen on its address).  Some kernels refuse socket filters on TCP
	 * sockets to a process without CAP_NET_ADMIN while they allow them
	 * on UDP sockets.  Without it a grant still accepts only its client:
	 * the carrier's address is checked after accept (carrier.c) and any
	 * other connection is reset, and the carrier must then prove the
	 * session keys.  What is lost is that others see a SYN-ACK.
	 */
	pc->tcp_filter = 1;
	for (size_t i = 0; i < cfg->nlisten && pc->tcp_filter; i++)
		if ((tcp_err = try_tcp_filter(
		    (struct sockaddr *)&cfg->listen[i])) != 0)
			pc->tcp_filter = 0;
	/* One program for every grant, where this process may load eBPF. */
	pc->bpf_filter = 1;
	for (size_t i = 0; i < cfg->nlisten && pc->bpf_filter; i++)
		if (try_bpf_filter((struct sockaddr *)&cfg->listen[i]) != 0)
			pc->bpf_filter = 0;
	if (pc->bpf_filter)
		pc->tcp_filter = 1;
	if (!pc->tcp_filter && report)
		log_warn("privileges", "need=CAP_NET_ADMIN what=grant_filter "
		    "msg=\"grant ports get no socket filter (SO_ATTACH_FILTER "
		    "on a TCP socket: %s): warrend checks each connection's "
		    "address after accept and resets any that is not from the "
		    "grant's client, but while a grant is open its port answers "
		    "a SYN from any address; grant CAP_NET_ADMIN to keep the "
		    "kernel filter (or CAP_BPF for one shared eBPF filter)\"",
		    strerror(tcp_err));

	/* The front doors' under-load filter (door.c). */
	pc->udp_filter = 1;
	for (size_t i = 0; i < cfg->nlisten && pc->udp_filter; i++)
		if ((err = try_udp_filter(cfg->listen[i].ss_family)) != 0)
			pc->udp_filter = 0;
	if (!pc->udp_filter && report)
		log_warn("privileges", "need=CAP_NET_ADMIN what=door_filter "
		    "msg=\"the front door gets no under-load socket filter "
		    "(SO_ATTACH_FILTER on a UDP socket: %s): under load, "
		    "malformed datagrams are dropped by warrend rather than by "
		    "the kernel\"", strerror(err));

	/*
	 * Receive buffers: the front door's (DOOR_RCVBUF) and each backend
	 * socket's (2 * RELAY_WINDOW, for peek mode).  Without
	 * SO_RCVBUFFORCE, SO_RCVBUF gives at most net.core.rmem_max.
	 */
	pc->rmem_max = sysctl_long(RMEM_MAX_FILE, -1);
	pc->rcvbuf_force = (err = try_rcvbuf_force()) == 0;
	if (!pc->rcvbuf_force && pc->rmem_max >= 0 &&
	    pc->rmem_max < 2 * (long)RELAY_WINDOW && report)
		log_warn("privileges", "need=CAP_NET_ADMIN what=rcvbuf "
		    "rmem_max=%ld msg=\"receive buffers are capped by "
		    "net.core.rmem_max (SO_RCVBUFFORCE: %s): the front door "
		    "gets %ld of %d bytes (fewer queued handshakes in a burst) "
		    "and backend sockets %ld of %u (less read ahead); grant "
		    "CAP_NET_ADMIN, or set net.core.rmem_max=%u\"",
		    pc->rmem_max, strerror(err),
		    pc->rmem_max < DOOR_RCVBUF ? pc->rmem_max : DOOR_RCVBUF,
		    DOOR_RCVBUF, pc->rmem_max, 2 * RELAY_WINDOW,
		    2 * RELAY_WINDOW);
	if (report)
		log_info("privileges", "uid=%u grant_filter=%s door_filter=%s "
		    "rcvbuf=%s rmem_max=%ld ok=%d", (unsigned)geteuid(),
		    pc->bpf_filter ? "shared" : pc->tcp_filter ? "kernel" :
		    "accept",
		    pc->udp_filter ? "kernel" : "off",
		    pc->rcvbuf_force ? "forced" : "capped", pc->rmem_max,
		    rc == 0);
	return rc;
}
