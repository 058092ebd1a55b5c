/*
 * resume: the load of bench/resume.sh, run inside a network namespace of
 * its own (it destroys TCP sockets by port range, which outside one would
 * hit other people's connections).  Every connection goes to a tunnel's
 * local port on 127.0.0.1 and through it to bench/backend's echo mode.
 * A carrier is the agent's end of a TCP connection to a grant port:
 * established, destination port in [LO, HI].  Killing one is what
 * `ss -K dport = :P` does, done here through the same kernel call
 * (SOCK_DESTROY over NETLINK_SOCK_DIAG), so that the moment of the kill is
 * known to the microsecond: the kernel resets the socket, sends an RST to
 * the peer, and the agent's next read fails.
 *
 *   resume ping PORT LO HI KILLS [INTERVAL_MS]
 *     One connection; a message (an 8-byte sequence number) every
 *     INTERVAL_MS (default 2), each echoed back.  KILLS times, 200-500 ms
 *     apart, at the moment a message is due and none is in flight, the
 *     carrier is killed and the message sent at once: its echo is the
 *     first byte after the resume.  Per kill it prints
 *       kill i outage_ms=T gap_ms=G
 *     (T: from the kill to that echo; G: from the last echo before the
 *     kill to it, the pause the program saw), then one line
 *       kills=N messages=M misordered=0 outage_p50_ms=... outage_p99_ms=...
 *       outage_max_ms=... gap_p50_ms=... gap_p99_ms=...
 *     Echoes must come back in order, each once (misordered counts the
 *     others).  With RESUME_CUT set, a "kill" is instead running that
 *     shell command with CARRIER_PORT (the grant port) and CARRIER_CPORT
 *     (the agent's port) in its environment: it is meant to drop the
 *     carrier's packets (a cut link); RESUME_UNCUT runs once the echo is
 *     back.  The carrier then dies only when an end notices the silence.
 *     With RESUME_KILL_WORKER=LOG set (warrend's log, at info level), a
 *     "kill" is instead kill -9 of warrend's worker, the pid of the newest
 *     event=started line of LOG when the kill is due: the worker's end of
 *     the carrier dies with it, the keeper hands the sessions to the
 *     spare, and the agent resumes on it.  A worker killed before is never
 *     killed again; the kill waits up to 2 s for its successor's line.
 *
 *   resume burst PORT LO HI M
 *     Opens M connections at once, each writes one byte and waits for its
 *     echo, and prints
 *       handshake sessions=M seconds=S rate=R p50_ms p99_ms max_ms
 *     (latency from the start to each echo).  Then waits for SIGUSR1,
 *     kills every carrier, writes one byte on each connection and waits
 *     for every echo:
 *       resume sessions=M killed=K kill_ms=D seconds=S rate=R p50_ms ...
 *     (S from just before the first kill to the last echo; D the time the
 *     kills themselves took).  Then holds the connections until SIGUSR1 or
 *     SIGTERM.
 *
 *   resume hold PORT M
 *     Opens M connections as burst does, prints the handshake line, and
 *     holds them, idle, until SIGUSR1 or SIGTERM.
 *
 * Any error, or no progress within 60 s, ends it with status 1.  It gives
 * up after 600 s in all (alarm).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The ${p}th percentile of the ${n} sorted values ${v}. */
static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100 * (double)n);
	return v[i < n ? i : n - 1];
}

#define STALL_S 60.0            /* no progress this long: give up */
#define MAXCARRIERS 65536

static struct sockaddr_in dst = { .sin_family = AF_INET };

static void
die(const char *what)
{
	fprintf(stderr, "resume: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(1);
}

/*
 * The ids of every established IPv4 TCP socket whose destination port is
 * in [lo, hi] (the agent's ends of the carriers), at most max of them.
 */
static int
carriers(int lo, int hi, struct inet_diag_sockid *out, int max)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	static char buf[65536];
	int fd, n = 0, done = 0;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		die("netlink socket");
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = AF_INET;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = 1u << TCP_ESTABLISHED;
	if (send(fd, &req, sizeof(req), 0) < 0)
		die("netlink dump");
	while (!done) {
		int len = (int)recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;
		if (len <= 0)
			die("netlink dump: recv");
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			struct inet_diag_msg *m;
			int dp;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				errno = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
				die("netlink dump");
			}
			m = NLMSG_DATA(h);
			dp = ntohs(m->id.idiag_dport);
			if (dp >= lo && dp <= hi && n < max)
				out[n++] = m->id;
		}
	}
	close(fd);
	return n;
}

/* Destroy the sockets ${ids} (SOCK_DESTROY, as ss -K); returns how many. */
static int
destroy(const struct inet_diag_sockid *ids, int n)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	char buf[1024];
	int fd, ok = 0;

	if ((fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		die("netlink socket");
	for (int i = 0; i < n; i++) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		memset(&req, 0, sizeof(req));
		req.nlh.nlmsg_len = sizeof(req);
		req.nlh.nlmsg_type = SOCK_DESTROY;
		req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		req.r.sdiag_family = AF_INET;
		req.r.sdiag_protocol = IPPROTO_TCP;
		req.r.idiag_states = 1u << TCP_ESTABLISHED;
		req.r.id = ids[i];
		if (send(fd, &req, sizeof(req), 0) < 0 ||
		    recv(fd, buf, sizeof(buf), 0) < (ssize_t)sizeof(*h))
			die("SOCK_DESTROY");
		if (h->nlmsg_type == NLMSG_ERROR &&
		    ((struct nlmsgerr *)NLMSG_DATA(h))->error == 0)
			ok++;
	}
	close(fd);
	return ok;
}

/* A blocking connection to the tunnel, TCP_NODELAY. */
static int
dial(void)
{
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)))
		die("connect");
	return fd;
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Percentile line of ${n} values in seconds, as milliseconds. */
static void
print_pcts(const char *name, double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp);
	printf(" %s_p50_ms=%.2f %s_p99_ms=%.2f %s_max_ms=%.2f", name,
	    pct(v, n, 50) * 1e3, name, pct(v, n, 99) * 1e3, name,
	    n ? v[n - 1] * 1e3 : 0.0);
}

/*
 * The pid of the worker serving now: the pid= of the newest event=started
 * line in warrend's log ${log} (the spare worker beside it has logged
 * nothing yet), or 0 if there is none or it is ${not}.
 */
static pid_t
worker_pid(const char *log, pid_t not)
{
	char line[1024], *p;
	FILE *f;
	pid_t found = 0;

	if ((f = fopen(log, "r")) == NULL)
		die(log);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "event=started") != NULL &&
		    (p = strstr(line, " pid=")) != NULL)
			found = (pid_t)atoi(p + 5);
	fclose(f);
	return found == not ? 0 : found;
}

/* Run the shell command ${cmd} with the carrier's ports in its env. */
static void
run_cut(const char *cmd, const struct inet_diag_sockid *id)
{
	char p[16];

	snprintf(p, sizeof(p), "%u", ntohs(id->idiag_dport));
	setenv("CARRIER_PORT", p, 1);
	snprintf(p, sizeof(p), "%u", ntohs(id->idiag_sport));
	setenv("CARRIER_CPORT", p, 1);
	if (system(cmd) != 0) {
		errno = 0;
		die("the cut command failed");
	}
}

static int
ping(int lo, int hi, int kills, double interval)
{
	const char *cut = getenv("RESUME_CUT"), *uncut = getenv("RESUME_UNCUT");
	const char *wlog = getenv("RESUME_KILL_WORKER");
	pid_t victim = 0;
	double *outage, *gap, next_send, next_kill, t_kill = 0, last_echo;
	uint64_t seq = 0, rseq = 0, probe = UINT64_MAX;
	unsigned long misordered = 0;
	struct inet_diag_sockid id, cut_id;
	uint8_t in[4096], msg[8];
	size_t nin = 0;
	int fd, done = 0;
	char c = 'e';

	if ((outage = calloc((size_t)kills, sizeof(double))) == NULL ||
	    (gap = calloc((size_t)kills, sizeof(double))) == NULL)
		die("calloc");
	fd = dial();
	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1 || c != 'e')
		die("first echo");
	srand48((long)getpid() ^ (long)(now() * 1e6));
	last_echo = next_send = now();
	next_kill = next_send + 0.3;
	for (;;) {
		double t = now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait_ms;
		ssize_t k;

		if (t >= next_send) {
			if (probe == UINT64_MAX && done < kills &&
			    t >= next_kill && rseq == seq) {
				int nc = 0;
				for (int tries = 0; tries < 50 &&
				    (nc = carriers(lo, hi, &id, 1)) != 1; tries++)
					usleep(10000);
				if (nc != 1) {
					errno = 0;
					die("no carrier to kill");
				}
				if (wlog != NULL) {
					pid_t w = 0;
					for (int tries = 0; tries < 200 &&
					    (w = worker_pid(wlog, victim)) == 0;
					    tries++)
						usleep(10000);
					if (w == 0) {
						errno = 0;
						die("no new worker started");
					}
					if (kill(w, SIGKILL) != 0)
						die("kill -9 of the worker");
					victim = w;
				} else if (cut != NULL) {
					run_cut(cut, &id);
					cut_id = id;
				} else if (destroy(&id, 1) != 1) {
					errno = 0;
					die("SOCK_DESTROY refused");
				}
				t_kill = now();
				probe = seq;
			}
			put64(msg, seq);
			if (write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
				die("write");
			seq++;
			next_send += interval;
			if (next_send < now())
				next_send = now() + interval;
		}
		wait_ms = (int)((next_send - now()) * 1e3) + 1;
		if (wait_ms < 0)
			wait_ms = 0;
		if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR)
			die("poll");
		if (probe != UINT64_MAX && now() - t_kill > STALL_S) {
			errno = 0;
			die("no echo within 60 s of a kill");
		}
		if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		k = recv(fd, in + nin, sizeof(in) - nin, MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = 0;
			die(k == 0 ? "EOF from the tunnel" : "read");
		}
		nin += (size_t)k;
		t = now();
		size_t off = 0;
		for (; nin - off >= 8; off += 8) {
			uint64_t v = get64(in + off);
			if (v != rseq)
				misordered++;
			rseq = v + 1;
			if (probe != UINT64_MAX && v >= probe) {
				outage[done] = t - t_kill;
				gap[done] = t - last_echo;
				printf("kill %d outage_ms=%.3f gap_ms=%.3f\n",
				    done + 1, outage[done] * 1e3,
				    gap[done] * 1e3);
				fflush(stdout);
				done++;
				probe = UINT64_MAX;
				if (uncut != NULL)
					run_cut(uncut, &cut_id);
				next_kill = t + 0.2 + 0.3 * drand48();
			}
			last_echo = t;
		}
		memmove(in, in + off, nin - off);
		nin -= off;
		if (done == kills && rseq == seq)
			break;
	}
	printf("kills=%d messages=%llu misordered=%lu", kills,
	    (unsigned long long)seq, misordered);
	print_pcts("outage", outage, (size_t)kills);
	print_pcts("gap", gap, (size_t)kills);
	printf("\n");
	close(fd);
	return misordered != 0;
}

/*
 * Write ${c} on each of the ${m} connections (opening them first if
 * ${open}), and wait until each has read it back; ${lat} gets each one's
 * time from ${t0}.  Returns the time of the last echo.
 */
static double
round_trip(int *fds, int m, int open, char c, double t0, double *lat)
{
	struct pollfd *p = calloc((size_t)m, sizeof(*p));
	int left = m;
	double last = now();

	if (p == NULL)
		die("calloc");
	for (int i = 0; i < m; i++) {
		if (open)
			fds[i] = dial();
		if (write(fds[i], &c, 1) != 1)
			die("write");
		p[i].fd = fds[i];
		p[i].events = POLLIN;
	}
	while (left > 0) {
		int n = poll(p, (nfds_t)m, 1000);
		if (n < 0 && errno != EINTR)
			die("poll");
		if (n <= 0 && now() - last > STALL_S) {
			errno = 0;
			fprintf(stderr, "resume: %d of %d still waiting\n",
			    left, m);
			die("no echo for 60 s");
		}
		for (int i = 0; i < m && n > 0; i++) {
			char got;
			if (p[i].revents == 0)
				continue;
			n--;
			if (recv(p[i].fd, &got, 1, MSG_DONTWAIT) != 1 ||
			    got != c) {
				errno = 0;
				die("lost a connection (EOF or wrong echo)");
			}
			last = now();
			lat[i] = last - t0;
			p[i].fd = -1;      /* poll ignores it from now on */
			left--;
		}
	}
	free(p);
	return last;
}

static void
wait_usr1(void)
{
	sigset_t s;
	int sig;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigwait(&s, &sig);
}

static int
burst(int lo, int hi, int m, int kill_too)
{
	struct inet_diag_sockid *ids;
	int *fds = calloc((size_t)m, sizeof(int)), nc, killed;
	double *lat = calloc((size_t)m, sizeof(double)), t0, t1, tk;

	ids = calloc(MAXCARRIERS, sizeof(*ids));
	if (fds == NULL || lat == NULL || ids == NULL)
		die("calloc");
	t0 = now();
	t1 = round_trip(fds, m, 1, 'e', t0, lat);
	printf("handshake sessions=%d seconds=%.3f rate=%.1f", m, t1 - t0,
	    m / (t1 - t0));
	print_pcts("lat", lat, (size_t)m);
	printf("\n");
	fflush(stdout);
	if (kill_too) {
		wait_usr1();
		nc = carriers(lo, hi, ids, MAXCARRIERS);
		t0 = now();
		killed = destroy(ids, nc);
		tk = now();
		t1 = round_trip(fds, m, 0, 'x', t0, lat);
		printf("resume sessions=%d killed=%d kill_ms=%.2f seconds=%.3f "
		    "rate=%.1f", m, killed, (tk - t0) * 1e3, t1 - t0,
		    m / (t1 - t0));
		print_pcts("lat", lat, (size_t)m);
		printf("\n");
		fflush(stdout);
		if (killed != m)
			fprintf(stderr, "resume: killed %d carriers, not %d\n",
			    killed, m);
	}
	wait_usr1();
	return 0;
}

/*
 * Steady state, no cold start: ${m} sessions opened and echoed once
 * (warm-up), then ${r} rounds that each close all ${m} and open ${m}
 * new ones (m handshakes a round), then ${r} rounds that each kill all
 * ${m} carriers at once and echo a byte on each (m resumes a round), then
 * all ${m} closed (the ends that each handshake round also holds).  A
 * line after each phase, then SIGUSR1 starts the next, so that the
 * caller can read the CPU counters in between.
 */
static int
cycle(int lo, int hi, int m, int r)
{
	struct inet_diag_sockid *ids = calloc(MAXCARRIERS, sizeof(*ids));
	int *fds = calloc((size_t)m, sizeof(int)), killed = 0;
	double *lat = calloc((size_t)m, sizeof(double)), t0, t1 = 0;

	if (fds == NULL || lat == NULL || ids == NULL)
		die("calloc");
	t0 = now();
	round_trip(fds, m, 1, 'e', t0, lat);
	printf("warm sessions=%d\n", m);
	fflush(stdout);
	wait_usr1();
	t0 = now();
	for (int i = 0; i < r; i++) {
		for (int j = 0; j < m; j++)
			close(fds[j]);
		t1 = round_trip(fds, m, 1, 'e', now(), lat);
	}
	printf("handshakes rounds=%d sessions=%d seconds=%.3f rate=%.1f\n",
	    r, m * r, t1 - t0, m * r / (t1 - t0));
	fflush(stdout);
	wait_usr1();
	t0 = now();
	for (int i = 0; i < r; i++) {
		killed += destroy(ids, carriers(lo, hi, ids, MAXCARRIERS));
		t1 = round_trip(fds, m, 0, 'r', now(), lat);
	}
	printf("resumes rounds=%d sessions=%d killed=%d seconds=%.3f "
	    "rate=%.1f\n", r, m * r, killed, t1 - t0, m * r / (t1 - t0));
	fflush(stdout);
	if (killed != m * r)
		fprintf(stderr, "resume: killed %d carriers, not %d\n",
		    killed, m * r);
	wait_usr1();
	for (int j = 0; j < m; j++)
		close(fds[j]);
	sleep(1);     /* the tunnel ends them meanwhile */
	printf("ends sessions=%d\n", m);
	fflush(stdout);
	wait_usr1();
	return 0;
}

int
main(int argc, char **argv)
{
	sigset_t s;

	if (argc < 4) {
usage:
		fprintf(stderr, "usage: resume ping PORT LO HI KILLS "
		    "[INTERVAL_MS]\n       resume burst PORT LO HI M\n"
		    "       resume cycle PORT LO HI M ROUNDS\n"
		    "       resume hold PORT M\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, NULL);   /* sigwait takes it */
	alarm(600);
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (strcmp(argv[1], "ping") == 0 && (argc == 6 || argc == 7))
		return ping(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
		    (argc == 7 ? atof(argv[6]) : 2) / 1e3);
	if (strcmp(argv[1], "burst") == 0 && argc == 6)
		return burst(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), 1);
	if (strcmp(argv[1], "cycle") == 0 && argc == 7)
		return cycle(atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
		    atoi(argv[6]));
	if (strcmp(argv[1], "hold") == 0 && argc == 4)
		return burst(0, 0, atoi(argv[3]), 0);
	goto usage;
}
