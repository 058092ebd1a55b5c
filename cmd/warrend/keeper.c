/*
 * keeper: warrend as two processes (warrend(8), PROCESSES).
 *
 * The keeper is the process started as "warrend -c FILE".  It parses the
 * config, binds the UDP front doors, and then only keeps things: it never
 * reads the network.  It runs the worker (this binary again, with
 * --worker), which does everything else, and holds a duplicate of each
 * live session's backend socket, which the worker hands it (SCM_RIGHTS)
 * once the backend connects.  A spare worker waits, started and ready
 * (config read, store open), so that when the worker dies the keeper
 * hands the spare the kept backends at once (with a backoff when workers
 * keep dying), and starts the next spare; the new worker finds each
 * session's state in the store and waits for the client to resume.
 * SIGUSR2 replaces the worker on purpose (to run a new binary): a fresh
 * spare starts, the old worker exits when the spare is ready, and the
 * spare adopts the sessions.  SIGTERM and SIGINT stop them all (the
 * worker ends its sessions).  SIGHUP goes on to the worker, which reloads
 * its config (reload.c) and says so; the spare, which read the old file,
 * is then replaced by a fresh one.
 *
 * Messages on the SOCK_SEQPACKET pair between them: one type byte, then
 * a session id (WIRE_SESSION_ID_LEN bytes) where the type has one.
 *   worker -> keeper   'R' ready to adopt (config read, store open);
 *                      'S' started (serving, control socket open);
 *                      'K' id + fd: keep this backend;
 *                      'E' id: the session ended, close it;
 *                      'L' reloaded its config (replace the spare).
 *   keeper -> worker   'A' id + fd: adopt this session; 'D' done (serve
 *                       now); 'Q' quit at once, leaving every session
 *                       to the next worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cfgdiff.h"
#include "crypto.h"
#include "log.h"
#include "notify.h"
#include "warrend.h"

#define MSG_LEN (1 + WIRE_SESSION_ID_LEN)
#define BACKOFF_MIN_MS 100      /* a worker that died young: first delay */
#define BACKOFF_MAX_MS 10000
#define BURST 20                /* restarts at once before the backoff */
#define BURST_REFILL_MS 3000    /* one more immediate restart per this */
#define STOP_WAIT_MS 15000      /* then SIGKILL */

struct kept {
	uint8_t id[WIRE_SESSION_ID_LEN];
	int fd;
};

/* A worker process and the keeper's end of its socket pair. */
struct worker {
	pid_t pid;          /* 0: none */
	int sock;           /* -1: none */
	int ready;          /* sent 'R' */
	int serving;        /* was sent 'D' */
	int started;        /* sent 'S' */
	int quitting;       /* was sent 'Q' */
};

struct keeper {
	const char *path;
	struct cfg_pinned *pinned;  /* what each worker starts with */
	char exe[PATH_MAX];
	int udp[CFG_MAXLISTEN];
	size_t nudp;
	struct kept *kept;
	size_t nkept, capkept;
	struct worker cur;          /* the worker; pid 0 between two */
	struct worker spare;        /* ready to take over */
	sigset_t oldmask;
	int sigfd;
	int stopping, exit_code;
	int ever_started;           /* a worker has sent 'S' */
	int replacing;              /* SIGUSR2: the spare replaces cur */
	uint64_t backoff_ms;        /* the crash-loop backoff now */
	uint64_t promote_at;        /* cur died: the spare serves from then */
	uint64_t spawn_at;          /* no new spare before then */
	uint64_t burst_ms;          /* immediate restarts left, x BURST_REFILL_MS */
	uint64_t burst_at;          /* when burst_ms was last refilled */
	uint64_t stop_deadline;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Send a message of ${type} (${id} may be NULL), with ${fd} if >= 0. */
static int
msg_send(int sock, char type, const uint8_t *id, int fd)
{
	uint8_t buf[MSG_LEN];
	struct iovec iov = { buf, MSG_LEN };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	memset(buf, 0, sizeof(buf));
	buf[0] = (uint8_t)type;
	if (id != NULL)
		memcpy(buf + 1, id, WIRE_SESSION_ID_LEN);
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		m.msg_control = cm.b;
		m.msg_controllen = sizeof(cm.b);
		CMSG_FIRSTHDR(&m)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&m)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&m)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&m)), &fd, sizeof(int));
	}
	while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == MSG_LEN ? 0 : -1;
}

/*
 * Receive one message into ${buf} (MSG_LEN bytes) and a descriptor, if
 * one came, into ${fd} (else -1).  Returns 1, 0 at EOF, -1 on error
 * (EAGAIN if ${flags} has MSG_DONTWAIT and nothing waits).
 */
static int
msg_recv(int sock, uint8_t buf[MSG_LEN], int *fd, int flags)
{
	struct iovec iov = { buf, MSG_LEN };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.b, .msg_controllen = sizeof(cm.b) };
	struct cmsghdr *h;
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(sock, &m, flags | MSG_CMSG_CLOEXEC)) < 0 &&
	    errno == EINTR)
		;
	if (n <= 0)
		return (int)n;
	for (h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
		    h->cmsg_len >= CMSG_LEN(sizeof(int))) {
			if (*fd >= 0)
				(void)close(*fd);
			memcpy(fd, CMSG_DATA(h), sizeof(int));
		}
	if (n != MSG_LEN || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			(void)close(*fd);
		*fd = -1;
		memset(buf, 0, MSG_LEN);   /* type 0: ignored */
	}
	return 1;
}

/* --- the keeper --- */

static struct kept *
kept_find(struct keeper *k, const uint8_t *id)
{
	for (size_t i = 0; i < k->nkept; i++)
		if (memcmp(k->kept[i].id, id, WIRE_SESSION_ID_LEN) == 0)
			return &k->kept[i];
	return NULL;
}

static void
kept_drop(struct keeper *k, const uint8_t *id)
{
	struct kept *e = kept_find(k, id);

	if (e == NULL)
		return;
	(void)close(e->fd);
	*e = k->kept[--k->nkept];
}

static void
kept_add(struct keeper *k, const uint8_t *id, int fd)
{
	struct kept *e;

	kept_drop(k, id);
	if (k->nkept == k->capkept) {
		size_t cap = k->capkept ? 2 * k->capkept : 64;

		if ((e = realloc(k->kept, cap * sizeof(*e))) == NULL) {
			log_error("keeper", "msg=\"out of memory: a backend is "
			    "not kept\"");
			(void)close(fd);
			return;
		}
		k->kept = e;
		k->capkept = cap;
	}
	memcpy(k->kept[k->nkept].id, id, WIRE_SESSION_ID_LEN);
	k->kept[k->nkept++].fd = fd;
}

/* Bind the front doors from the config (the worker inherits them). */
static int
bind_doors(struct keeper *k, const struct cfg_server *cfg)
{
	int v6only = 0, one = 1;
	char a[ADDR_STRLEN];

	/* With an IPv4 listener too, [::] must not also claim IPv4. */
	for (size_t i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].ss_family == AF_INET)
			v6only = 1;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const struct sockaddr *sa = (struct sockaddr *)&cfg->listen[i];
		int fd = socket(sa->sa_family, SOCK_DGRAM, 0);

		if (fd < 0 || (sa->sa_family == AF_INET6 && v6only &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one)) < 0) ||
		    bind(fd, sa, sa->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
			log_error("listen_failed", "msg=\"%s: cannot listen on UDP %s: %s\"",
			    cfg->path, addr_str(sa, a), strerror(errno));
			if (fd >= 0)
				(void)close(fd);
			return -1;
		}
		k->udp[k->nudp++] = fd;
	}
	return 0;
}

static void
worker_clear(struct worker *w)
{
	if (w->sock >= 0)
		(void)close(w->sock);
	memset(w, 0, sizeof(*w));
	w->sock = -1;
}

/* Start a worker into ${w}.  Returns -1 if it cannot be started. */
static int
spawn(struct keeper *k, struct worker *w)
{
	int sv[2];
	pid_t pid;
	char fdarg[16], udparg[CFG_MAXLISTEN * 12 + 1];
	size_t off = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_error("keeper", "msg=\"socketpair: %s\"", strerror(errno));
		return -1;
	}
	/* The worker's first message: the settings warrend started with. */
	if (send(sv[0], k->pinned, sizeof(*k->pinned), MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(*k->pinned)) {
		log_error("keeper", "msg=\"cannot hand a worker its settings: "
		    "%s\"", strerror(errno));
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	udparg[0] = '\0';
	for (size_t i = 0; i < k->nudp; i++)
		off += (size_t)snprintf(udparg + off, sizeof(udparg) - off,
		    "%s%d", i ? "," : "", k->udp[i]);
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	if ((pid = fork()) < 0) {
		log_error("keeper", "msg=\"fork: %s\"", strerror(errno));
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		char *argv[] = { k->exe, "-c", (char *)k->path, "--worker",
		    fdarg, udparg, NULL };

		(void)fcntl(sv[1], F_SETFD, 0);   /* inherited, as the doors */
		sigprocmask(SIG_SETMASK, &k->oldmask, NULL);
		execv(k->exe, argv);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	(void)close(sv[1]);
	worker_clear(w);
	w->pid = pid;
	w->sock = sv[0];
	log_info("worker_start", "pid=%d", (int)pid);
	return 0;
}

/* The spare takes over: hand it every kept session, then let it serve. */
static void
promote(struct keeper *k)
{
	struct worker *w = &k->spare;

	for (size_t i = 0; i < k->nkept; i++)
		(void)msg_send(w->sock, 'A', k->kept[i].id, k->kept[i].fd);
	(void)msg_send(w->sock, 'D', NULL, -1);
	w->serving = 1;
	if (k->nkept > 0)
		log_info("worker_adopt", "pid=%d sessions=%zu", (int)w->pid,
		    k->nkept);
	k->cur = *w;
	memset(w, 0, sizeof(*w));
	w->sock = -1;
	k->replacing = 0;
	k->promote_at = 0;
}

/* Tell the service manager that warrend serves, through worker ${w}. */
static void
ready_serving(struct keeper *k, const struct worker *w)
{
	char status[128];

	if (w->pid > 0)
		snprintf(status, sizeof(status), "serving: worker pid %d, "
		    "%zu sessions kept", (int)w->pid, k->nkept);
	else
		snprintf(status, sizeof(status), "a spare worker takes over "
		    "%zu sessions", k->nkept);
	notify_ready(status);
}

/* Read every message worker ${w} has sent. */
static void
drain(struct keeper *k, struct worker *w)
{
	uint8_t buf[MSG_LEN];
	int fd, rc;

	while (w->sock >= 0 &&
	    (rc = msg_recv(w->sock, buf, &fd, MSG_DONTWAIT)) > 0) {
		switch (buf[0]) {
		case 'R':
			w->ready = 1;
			break;
		case 'S':
			w->started = 1;
			if (!k->ever_started)
				ready_serving(k, w);
			else
				notify_status("serving: worker pid %d, "
				    "%zu sessions kept", (int)w->pid,
				    k->nkept);
			k->ever_started = 1;
			break;
		case 'K':
			if (fd >= 0 && w == &k->cur)
				kept_add(k, buf + 1, fd);
			else if (fd >= 0)
				(void)close(fd);
			fd = -1;
			break;
		case 'E':
			if (w == &k->cur)
				kept_drop(k, buf + 1);
			break;
		case 'L':
			/* The worker reloaded: a spare must not serve the old file. */
			if (w == &k->cur && k->spare.pid > 0 && !k->stopping) {
				log_info("spare_replaced", "pid=%d msg=\"the spare "
				    "worker restarts to read the reloaded config\"",
				    (int)k->spare.pid);
				(void)msg_send(k->spare.sock, 'Q', NULL, -1);
				worker_clear(&k->spare);
				k->spawn_at = 0;
			}
			break;
		}
		if (fd >= 0)
			(void)close(fd);
	}
}

/* The next crash-loop delay: 0 while the burst lasts, then doubling. */
static uint64_t
next_delay(struct keeper *k, int died_young)
{
	uint64_t t = now_ms();

	k->burst_ms += t - k->burst_at;
	k->burst_at = t;
	if (k->burst_ms > BURST * BURST_REFILL_MS)
		k->burst_ms = BURST * BURST_REFILL_MS;
	if (!died_young && k->burst_ms >= BURST_REFILL_MS) {
		k->burst_ms -= BURST_REFILL_MS;
		k->backoff_ms = 0;
		return 0;
	}
	k->backoff_ms = k->backoff_ms ? 2 * k->backoff_ms : BACKOFF_MIN_MS;
	if (k->backoff_ms > BACKOFF_MAX_MS)
		k->backoff_ms = BACKOFF_MAX_MS;
	log_warn("worker_backoff", "delay_ms=%llu",
	    (unsigned long long)k->backoff_ms);
	return k->backoff_ms;
}

/* Reap the children that exited and decide what comes next. */
static void
reap(struct keeper *k)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct worker *w = pid == k->cur.pid ? &k->cur :
		    pid == k->spare.pid ? &k->spare : NULL;
		int quit;

		if (w == NULL)
			continue;      /* a spare sent away by SIGUSR2 */
		drain(k, w);    /* what it said before it died still counts */
		if (WIFSIGNALED(status))
			log_warn("worker_exit", "pid=%d signal=%d sessions=%zu",
			    (int)pid, WTERMSIG(status), k->nkept);
		else
			log_info("worker_exit", "pid=%d status=%d sessions=%zu",
			    (int)pid, WEXITSTATUS(status), k->nkept);
		if (w == &k->cur && !k->stopping && !w->quitting)
			notify_status("worker pid %d exited; a spare takes "
			    "over %zu sessions", (int)pid, k->nkept);
		quit = w->quitting;
		if (!k->ever_started && !k->stopping) {
			/* The first worker failed to start: give up. */
			k->stopping = 1;
			k->exit_code = WIFEXITED(status) && WEXITSTATUS(status) ?
			    WEXITSTATUS(status) : 1;
		}
		if (w == &k->spare) {
			if (!w->ready && !k->stopping)
				k->spawn_at = now_ms() + next_delay(k, 1);
			worker_clear(w);
			continue;
		}
		if (!k->stopping)
			k->promote_at = now_ms() + (quit ? 0 :
			    next_delay(k, !w->started));
		worker_clear(w);
	}
}

static void
on_signal(struct keeper *k, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(k);
		break;
	case SIGTERM:
	case SIGINT:
		if (!k->stopping) {
			log_info("stopping", "signal=%d", sig);
			notify_stopping();
		}
		k->stopping = 1;
		k->stop_deadline = now_ms() + STOP_WAIT_MS;
		if (k->cur.pid > 0)
			(void)kill(k->cur.pid, SIGTERM);
		if (k->spare.pid > 0)
			(void)kill(k->spare.pid, SIGKILL);
		break;
	case SIGUSR2:
		if (k->stopping || k->replacing || k->cur.pid == 0 ||
		    !k->cur.started) {
			log_warn("worker_replace", "msg=\"not now: a worker is "
			    "starting or stopping\"");
			break;
		}
		log_info("worker_replace", "old=%d", (int)k->cur.pid);
		/* The spare may run the old binary: a fresh one replaces it. */
		if (k->spare.pid > 0)
			(void)msg_send(k->spare.sock, 'Q', NULL, -1);
		worker_clear(&k->spare);
		k->replacing = 1;
		k->spawn_at = 0;
		break;
	case SIGHUP:
		/*
		 * The worker reloads (reload.c) and says 'L' if it took the
		 * new config; then the spare is replaced.  Between two
		 * workers the spare about to serve reloads once it does.
		 */
		if (k->stopping)
			break;
		/*
		 * systemd shows the unit as reloading from RELOADING=1 until
		 * READY=1 (before the first READY=1 it is still starting);
		 * the worker's own answer is in the log (reload or
		 * reload_failed).
		 */
		if (k->ever_started)
			notify_reloading();
		if (k->cur.pid > 0 && k->cur.ready) {
			log_info("reload_signal", "worker=%d", (int)k->cur.pid);
			(void)kill(k->cur.pid, SIGHUP);
		} else if (k->spare.pid > 0 && k->spare.ready) {
			log_info("reload_signal", "worker=%d", (int)k->spare.pid);
			(void)kill(k->spare.pid, SIGHUP);
		} else
			log_warn("reload_signal", "msg=\"no worker is ready: "
			    "the next one reads the config when it starts\"");
		if (k->ever_started)
			ready_serving(k, &k->cur);
		break;
	}
}

int
keeper_run(const struct cfg_server *cfg, const char *path)
{
	struct keeper k;
	sigset_t mask;
	ssize_t len;

	memset(&k, 0, sizeof(k));
	k.path = path;
	if ((k.pinned = malloc(sizeof(*k.pinned))) == NULL ||
	    cfgdiff_pin(cfg, k.pinned) != 0) {
		log_error("keeper", "msg=\"%s: cannot keep the settings warrend "
		    "starts with (out of memory, or a path of %d bytes or "
		    "more)\"", path, CFGDIFF_PIN_STR);
		free(k.pinned);
		return 1;
	}
	k.cur.sock = k.spare.sock = -1;
	k.burst_ms = BURST * BURST_REFILL_MS;
	k.burst_at = now_ms();
	if ((len = readlink("/proc/self/exe", k.exe, sizeof(k.exe) - 1)) <= 0)
		len = snprintf(k.exe, sizeof(k.exe), "/proc/self/exe");
	k.exe[len] = '\0';
	if (bind_doors(&k, cfg)) {
		k.exit_code = 1;
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &k.oldmask);
	if ((k.sigfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("keeper", "msg=\"signalfd: %s\"", strerror(errno));
		k.exit_code = 1;
		goto out;
	}
	log_info("keeper", "pid=%d", (int)getpid());
	k.promote_at = 1;      /* the first spare serves at once */
	for (;;) {
		struct pollfd p[3];
		struct worker *pw[3];
		int nfd = 0, timeout = -1;
		uint64_t t = now_ms();

		if (k.stopping && k.cur.pid == 0 && k.spare.pid == 0)
			break;
		if (k.stopping && k.cur.pid > 0 && t >= k.stop_deadline) {
			(void)kill(k.cur.pid, SIGKILL);
			k.stop_deadline = t + 1000;
		}
		/*
		 * A spare whenever none runs: at once while no worker serves,
		 * else once the worker has started (not to slow its start).
		 */
		if (!k.stopping && k.spare.pid == 0 && t >= k.spawn_at &&
		    (k.cur.pid == 0 || k.cur.started) && spawn(&k, &k.spare))
			k.spawn_at = t + BACKOFF_MAX_MS;
		if (!k.stopping && k.cur.pid == 0 && k.promote_at != 0 &&
		    t >= k.promote_at && k.spare.ready)
			promote(&k);
		if (!k.stopping && k.replacing && k.spare.ready &&
		    k.cur.pid > 0 && !k.cur.quitting && k.cur.sock >= 0) {
			/*
			 * The replacement is ready: the old worker leaves (what
			 * it sends until its EOF still counts).
			 */
			(void)msg_send(k.cur.sock, 'Q', NULL, -1);
			k.cur.quitting = 1;
		}
		if (k.spawn_at > t && k.spare.pid == 0)
			timeout = (int)(k.spawn_at - t);
		if (k.promote_at > t && k.cur.pid == 0 &&
		    (timeout < 0 || (int)(k.promote_at - t) < timeout))
			timeout = (int)(k.promote_at - t);
		if (k.stopping)
			timeout = 1000;
		p[nfd] = (struct pollfd){ .fd = k.sigfd, .events = POLLIN };
		pw[nfd++] = NULL;
		if (k.cur.sock >= 0) {
			p[nfd] = (struct pollfd){ .fd = k.cur.sock,
			    .events = POLLIN };
			pw[nfd++] = &k.cur;
		}
		if (k.spare.sock >= 0) {
			p[nfd] = (struct pollfd){ .fd = k.spare.sock,
			    .events = POLLIN };
			pw[nfd++] = &k.spare;
		}
		if (poll(p, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
			break;
		/* Messages first: a worker's last words before SIGCHLD. */
		for (int i = 1; i < nfd; i++) {
			drain(&k, pw[i]);
			if ((p[i].revents & (POLLHUP | POLLERR)) &&
			    pw[i]->sock >= 0) {
				/* Its end: drained; SIGCHLD follows. */
				(void)close(pw[i]->sock);
				pw[i]->sock = -1;
			}
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(k.sigfd, &si, sizeof(si)) == sizeof(si)) {
				on_signal(&k, (int)si.ssi_signo);
				break;
			}
		}
	}
out:
	for (size_t i = 0; i < k.nkept; i++)
		(void)close(k.kept[i].fd);
	free(k.kept);
	for (size_t i = 0; i < k.nudp; i++)
		(void)close(k.udp[i]);
	crypto_wipe(k.pinned, sizeof(*k.pinned));
	free(k.pinned);
	return k.exit_code;
}

/* --- the worker's side --- */

int
keeper_worker_pin(struct node *n)
{
	struct cfg_pinned *p = malloc(sizeof(*p));
	struct cfgdiff *d = malloc(sizeof(*d));
	ssize_t got = -1;
	int rc = -1;

	if (p == NULL || d == NULL) {
		log_error("keeper", "msg=\"out of memory\"");
		goto out;
	}
	while ((got = recv(n->keeper, p, sizeof(*p), 0)) < 0 &&
	    errno == EINTR)
		;
	if (got != (ssize_t)sizeof(*p)) {
		log_error("keeper", "msg=\"no settings from the keeper (%s)\"",
		    got < 0 ? strerror(errno) : "a short message");
		goto out;
	}
	if (cfgdiff_keep_pinned(n->cfg, p, d) != 0) {
		log_error("keeper", "msg=\"out of memory\"");
		goto out;
	}
	if (d->nrestart > 0)
		log_warn("restart_needed", "settings=\"%s\" msg=\"%s: changed "
		    "since warrend started; this worker keeps the values it "
		    "started with until warrend restarts\"", d->restart,
		    n->cfg->path);
	rc = 0;
out:
	if (p != NULL)
		crypto_wipe(p, sizeof(*p));
	free(p);
	free(d);
	return rc;
}

int
keeper_worker_start(struct node *n)
{
	uint8_t buf[MSG_LEN];
	int fd, rc;

	if (n->keeper < 0)
		return 0;
	if (msg_send(n->keeper, 'R', NULL, -1))
		return -1;
	while ((rc = msg_recv(n->keeper, buf, &fd, 0)) > 0) {
		if (buf[0] == 'D')
			return 0;
		if (buf[0] == 'Q')
			_exit(0);
		if (buf[0] == 'A' && fd >= 0) {
			if (carrier_adopt(n, buf + 1, fd))
				keeper_drop(n, buf + 1);
			fd = -1;
		}
		if (fd >= 0)
			(void)close(fd);
	}
	log_error("keeper", "msg=\"the keeper went away\"");
	return -1;
}

void
keeper_worker_started(struct node *n)
{
	if (n->keeper >= 0)
		(void)msg_send(n->keeper, 'S', NULL, -1);
}

void
keeper_reloaded(struct node *n)
{
	if (n->keeper >= 0)
		(void)msg_send(n->keeper, 'L', NULL, -1);
}

void
keeper_keep(struct node *n, const uint8_t *id, int fd)
{
	if (n->keeper >= 0 && msg_send(n->keeper, 'K', id, fd) < 0 &&
	    door_log_ok(n, DLOG_SESSION))
		log_warn("keeper", "msg=\"cannot hand a backend to the keeper: "
		    "%s\"", strerror(errno));
}

void
keeper_drop(struct node *n, const uint8_t *id)
{
	if (n->keeper >= 0)
		(void)msg_send(n->keeper, 'E', id, -1);
}

static void
on_keeper(uv_poll_t *h, int status, int events)
{
	struct node *n = h->data;
	uint8_t buf[MSG_LEN];
	int fd, rc;

	while ((rc = msg_recv(n->keeper, buf, &fd, MSG_DONTWAIT)) > 0) {
		if (fd >= 0)
			(void)close(fd);
		if (buf[0] == 'Q') {
			/* Replaced: the sessions stay, for the next worker. */
			log_info("worker_replaced", "pid=%d", (int)getpid());
			_exit(0);
		}
	}
	if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		/* The keeper is gone: nothing would keep the sessions. */
		uv_poll_stop(h);
		log_error("keeper", "msg=\"the keeper went away; stopping\"");
		(void)kill(getpid(), SIGTERM);
	}
}

void
keeper_watch(struct node *n)
{
	if (n->keeper < 0)
		return;
	uv_poll_init_socket(n->loop, &n->keeper_poll, n->keeper);
	n->keeper_poll.data = n;
	uv_poll_start(&n->keeper_poll, UV_READABLE | UV_DISCONNECT, on_keeper);
	uv_unref((uv_handle_t *)&n->keeper_poll);
}

void
keeper_unwatch(struct node *n)
{
	if (n->keeper >= 0 && n->keeper_poll.loop != NULL &&
	    !uv_is_closing((uv_handle_t *)&n->keeper_poll))
		uv_close((uv_handle_t *)&n->keeper_poll, NULL);
}
