/*
 * forward: "warren forward" (a local TCP port, a session per connection)
 * and "warren connect" (stdin/stdout, for ssh's ProxyCommand).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "compat.h"
#include "config.h"
#include "dial.h"
#include "handshake.h"
#include "log.h"
#include "relay.h"
#include "warren.h"

struct agent {
	uv_loop_t *loop;
	struct cfg_client_file *cfg;
	struct hs_node self;          /* our key, prepared once */
	const struct cfg_cluster *cluster;
	const char *service;
	uv_tcp_t listener;
	int listening;
	uv_signal_t sig[3];           /* SIGINT, SIGTERM, SIGHUP */
	char cfgbuf[1024];            /* the default config's path */
	struct local *dialing;        /* sessions being set up (list) */
	struct local *locals;         /* sessions riding on a relay (list) */
	int stopping;
	int status;                   /* exit status of "connect" */
};

/* A local connection waiting for, or riding on, its session. */
struct local {
	struct agent *ag;
	struct local *next, **pprev;  /* in ag->dialing, then ag->locals */
	struct dial *dial;            /* while dialing or resuming */
	struct relay *r;
	uv_stream_t *in, *out;
	char name[ADDR_STRLEN];
	struct session s;             /* for resuming: secrets, carrier number */
	uv_timer_t *retry;            /* the next resume attempt */
	uint64_t lost_ms;             /* when the carrier was lost */
	unsigned backoff_ms;
	int node;                     /* the cluster node that carries it */
	int ended, gave_up;
};

#define RESUME_FIRST_MS 200           /* first wait between resume dials */
#define RESUME_MAX_MS 10000           /* the longest */
#define STOP_GRACE_MS 1000            /* on a signal: for an orderly end */

/* Wipe and free ${l}. */
static void
local_free(struct local *l)
{
	session_wipe(&l->s);
	free(l);
}

static void on_dialed(void *arg, uv_tcp_t *carrier, const struct session *s,
    int keepalive, const char *peer, int node);
static void on_resumed(void *arg, uv_tcp_t *carrier, const struct session *s,
    int keepalive, const char *peer, int node);
static void resume_now(uv_timer_t *t);

/* Put ${l} on list ${head}; take it off with local_unlink. */
static void
local_link(struct local *l, struct local **head)
{
	if ((l->next = *head) != NULL)
		l->next->pprev = &l->next;
	*head = l;
	l->pprev = head;
}

static void
local_unlink(struct local *l)
{
	if ((*l->pprev = l->next) != NULL)
		l->next->pprev = l->pprev;
}

/* Start the session of local connection ${l}. */
static void
local_dial(struct local *l)
{
	struct agent *ag = l->ag;

	local_link(l, &ag->dialing);
	if (dial_start(ag->loop, ag->cfg, &ag->self, ag->cluster, ag->service,
	    on_dialed, l, &l->dial) < 0)
		on_dialed(l, NULL, NULL, 0, "", -1);
}

static void
on_end(struct relay *r, void *arg, enum relay_end end, const char *text)
{
	struct local *l = arg;

	local_unlink(l);
	if (l->ag->stopping)
		log_info("session_end", "local=%s reason=stopping", l->name);
	else if (end == RELAY_END_DONE) {
		log_info("session_end", "local=%s", l->name);
		l->ag->status = 0;
	} else {
		/* A resume that gave up has said so (resume_failed). */
		log_msg(l->gave_up ? LOG_INFO : LOG_ERROR, "session_end",
		    "local=%s msg=\"session ended: %s\"", l->name, text);
		l->ag->status = 1;
	}
	if (l->retry != NULL)
		uv_close((uv_handle_t *)l->retry, (uv_close_cb)free);
	l->retry = NULL;
	l->r = NULL;
	if (l->dial != NULL) {
		l->ended = 1;           /* on_resumed frees l */
		dial_cancel(l->dial);
		return;
	}
	local_free(l);
}

/* Try to resume ${l}'s session once more, after a wait (backing off). */
static void
resume_later(struct local *l)
{
	struct agent *ag = l->ag;
	uint64_t waited = uv_now(ag->loop) - l->lost_ms;

	if (waited >= (uint64_t)ag->cfg->resume_timeout * 1000) {
		log_error("resume_failed", "local=%s msg=\"the connection to "
		    "cluster %s was lost and could not be resumed within %d s "
		    "(resume_timeout); closing the local connection\"",
		    l->name, ag->cluster->name, ag->cfg->resume_timeout);
		l->gave_up = 1;
		relay_abort(l->r, WIRE_CLOSE_ERROR, "could not resume");
		return;
	}
	if (l->retry == NULL) {
		if ((l->retry = malloc(sizeof(*l->retry))) == NULL) {
			relay_abort(l->r, WIRE_CLOSE_ERROR, "out of memory");
			return;
		}
		uv_timer_init(ag->loop, l->retry);
		l->retry->data = l;
	}
	uv_timer_start(l->retry, resume_now, l->backoff_ms, 0);
	l->backoff_ms = l->backoff_ms * 2 < RESUME_MAX_MS ?
	    l->backoff_ms * 2 : RESUME_MAX_MS;
}

/* Send a RESUME for ${l}'s session now. */
static void
resume_dial(struct local *l)
{
	struct agent *ag = l->ag;

	if (ag->stopping || l->r == NULL)
		return;
	if (dial_resume(ag->loop, ag->cfg, &ag->self, ag->cluster, &l->s,
	    l->node, on_resumed, l, &l->dial) < 0) {
		l->dial = NULL;
		resume_later(l);
	}
}

static void
resume_now(uv_timer_t *t)
{
	resume_dial(t->data);
}

/*
 * The session's carrier was lost: the local connection stays open while
 * we resume (PROTOCOL.md 14), until resume_timeout.
 */
static void
on_lost(struct relay *r, void *arg, const char *text)
{
	struct local *l = arg;

	log_info("carrier_lost", "local=%s reason=\"%s\"", l->name, text);
	if (l->dial != NULL)
		return;                 /* a resume is already under way */
	if (l->retry == NULL || !uv_is_active((uv_handle_t *)l->retry)) {
		l->lost_ms = uv_now(l->ag->loop);
		l->backoff_ms = RESUME_FIRST_MS;
	}
	resume_dial(l);
}

static void
on_resumed(void *arg, uv_tcp_t *carrier, const struct session *s,
    int keepalive, const char *peer, int node)
{
	struct local *l = arg;

	l->dial = NULL;
	if (l->ended) {
		if (carrier != NULL)
			uv_close((uv_handle_t *)carrier, (uv_close_cb)free);
		local_free(l);
		return;
	}
	if (carrier == NULL) {
		resume_later(l);
		return;
	}
	l->node = node;
	if (relay_resume(l->r, carrier, s) == 0)
		log_info("resumed", "local=%s node=%s carrier=%u", l->name,
		    peer, (unsigned)s->carrier);
}

static void
on_dialed(void *arg, uv_tcp_t *carrier, const struct session *s,
    int keepalive, const char *peer, int node)
{
	struct local *l = arg;
	struct relay *r;

	local_unlink(l);      /* from ag->dialing */
	l->dial = NULL;
	if (carrier == NULL ||
	    (r = relay_new(l->ag->loop, carrier, s, 0, keepalive, peer, NULL,
	    on_end, l)) == NULL) {
		l->ag->status = 1;
		if (l->in->type == UV_TCP &&
		    uv_tcp_close_reset((uv_tcp_t *)l->in, (uv_close_cb)free) == 0)
			;
		else
			uv_close((uv_handle_t *)l->in, (uv_close_cb)free);
		if (l->out != l->in)
			uv_close((uv_handle_t *)l->out, (uv_close_cb)free);
		local_free(l);
		return;
	}
	log_info("session_up", "local=%s node=%s", l->name, peer);
	l->s = *s;
	l->node = node;
	relay_set_stall(r, l->ag->cfg->stall_timeout);
	relay_set_resumable(r, on_lost, l->ag->cfg->dead_busy);
	l->r = r;
	local_link(l, &l->ag->locals);
	relay_attach(r, l->in, l->out);
}

static void
on_local(uv_stream_t *server, int status)
{
	struct agent *ag = server->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct local *l;
	uv_tcp_t *t;

	if (status < 0)
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    (t = malloc(sizeof(*t))) == NULL) {
		free(l);
		return;
	}
	uv_tcp_init(ag->loop, t);
	if (uv_accept(server, (uv_stream_t *)t) < 0) {
		uv_close((uv_handle_t *)t, (uv_close_cb)free);
		free(l);
		return;
	}
	l->ag = ag;
	l->in = l->out = (uv_stream_t *)t;
	if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) == 0)
		addr_str((struct sockaddr *)&ss, l->name);
	local_dial(l);
}

/*
 * SIGINT, SIGTERM, SIGHUP (ssh sends it to its ProxyCommand when done):
 * stop accepting, end each session in order (FIN: an ssh logout is a
 * normal end on the node too) or, if its service does not finish within
 * STOP_GRACE_MS, with CLOSE; and let the loop run dry.
 */
static void
on_signal(uv_signal_t *sig, int signum)
{
	struct agent *ag = sig->data;
	struct local *l, *next;

	if (ag->stopping)
		return;
	ag->stopping = 1;
	log_info("stopping", "signal=%d", signum);
	for (int i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&ag->sig[i], NULL);
	if (ag->listening)
		uv_close((uv_handle_t *)&ag->listener, NULL);
	for (l = ag->dialing; l != NULL; l = next) {
		next = l->next;
		dial_cancel(l->dial);   /* on_dialed drops l, now or soon */
	}
	for (l = ag->locals; l != NULL; l = next) {
		next = l->next;
		relay_finish(l->r, STOP_GRACE_MS, "client agent stopped");
	}
}

/* Release what agent_init made. */
static void
agent_free(struct agent *ag)
{
	hs_node_free(&ag->self);
	cfg_client_free(ag->cfg);
}

/* Load the config and pick the cluster; 0 or -1 after logging. */
static int
agent_init(struct agent *ag, const char *cfgpath, const char *target)
{
	memset(ag, 0, sizeof(*ag));
	signal(SIGPIPE, SIG_IGN);
	if (cfgpath == NULL &&
	    (cfgpath = cmd_conffile(ag->cfgbuf, sizeof(ag->cfgbuf))) == NULL)
		return -1;
	if ((ag->cfg = cfg_client_load(cfgpath)) == NULL)
		return -1;
	log_init("warren", ag->cfg->log_level);
	if ((ag->cluster = cfg_client_cluster(ag->cfg, target, &ag->service)) ==
	    NULL)
		return -1;
	if (hs_node_init(&ag->self, ag->cfg->private_key)) {
		log_error("key", "msg=\"%s: private_key is not a usable X25519 key\"",
		    cfgpath);
		return -1;
	}
	if (hs_node_remember(&ag->self, ag->cluster->public_key)) {
		log_error("key", "msg=\"%s: [cluster %s]: public_key is a "
		    "low-order point\"", cfgpath, ag->cluster->name);
		return -1;
	}
	ag->loop = uv_default_loop();
	for (int i = 0; i < 3; i++) {
		static const int signums[3] = { SIGINT, SIGTERM, SIGHUP };

		uv_signal_init(ag->loop, &ag->sig[i]);
		ag->sig[i].data = ag;
		uv_signal_start(&ag->sig[i], on_signal, signums[i]);
		uv_unref((uv_handle_t *)&ag->sig[i]);   /* never keeps us alive */
	}
	return 0;
}

int
cmd_forward(const char *cfgpath, const char *listen, const char *target)
{
	struct agent ag;
	struct sockaddr_storage ss;
	char spec[ADDR_STRLEN + 16], a[ADDR_STRLEN];
	int rc;

	if (agent_init(&ag, cfgpath, target) < 0)
		goto fail;
	snprintf(spec, sizeof(spec), "%s%s", strchr(listen, ':') ? "" :
	    "127.0.0.1:", listen);
	if (addr_parse(spec, 0, &ss, &(socklen_t){ 0 }) < 0) {
		log_error("usage", "msg=\"cannot parse listen address '%s' (want [ADDR:]PORT)\"",
		    listen);
		goto fail;
	}
	uv_tcp_init(ag.loop, &ag.listener);
	ag.listener.data = &ag;
	if ((rc = uv_tcp_bind(&ag.listener, (struct sockaddr *)&ss, 0)) < 0 ||
	    (rc = uv_listen((uv_stream_t *)&ag.listener, SOMAXCONN, on_local)) < 0) {
		log_error("listen_failed", "msg=\"cannot listen on %s: %s\"",
		    addr_str((struct sockaddr *)&ss, a), uv_strerror(rc));
		goto fail;
	}
	ag.listening = 1;
	/*
	 * Where it listens is said at the default level too (warn), as the
	 * one line a user starting it wants; log_level = error silences it.
	 */
	addr_str((struct sockaddr *)&ss, a);
	if (log_enabled(LOG_WARN) && !log_enabled(LOG_INFO))
		log_init("warren", LOG_INFO);
	log_info("forwarding", "local=%s cluster=%s service=%s msg=\"listening "
	    "on %s for %s/%s\"", a, ag.cluster->name, ag.service, a,
	    ag.cluster->name, ag.service);
	log_init("warren", ag.cfg->log_level);
	uv_run(ag.loop, UV_RUN_DEFAULT);
	agent_free(&ag);
	return 0;
fail:
	agent_free(&ag);
	return 1;
}

/*
 * A regular file cannot be polled, so "warren connect < in > out" copies
 * between the file and one end of a socket pair in a thread with plain
 * blocking I/O; the relay gets the other end.
 */
struct filecopy {
	uv_thread_t tid;
	int from, to;            /* fds; the socket end is closed when done */
	int sock;                /* which of from/to is the socket */
};

static void
filecopy_run(void *arg)
{
	struct filecopy *fc = arg;
	char buf[65536];
	ssize_t n, w;

	while ((n = read(fc->from, buf, sizeof(buf))) > 0 ||
	    (n < 0 && errno == EINTR)) {
		for (ssize_t off = 0; n > 0 && off < n; off += w)
			if ((w = write(fc->to, buf + off, (size_t)(n - off))) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				goto out;
			}
	}
out:
	if (fc->sock == fc->to)
		shutdown(fc->sock, SHUT_WR);
	close(fc->sock);
}

static struct filecopy stdio_copy[2];
static int nstdio_copy;

/* Bridge regular file ${fd} through a socket pair; return our end or -1. */
static int
bridge_file(int fd, int readable)
{
	struct filecopy *fc = &stdio_copy[nstdio_copy];
	int sv[2];

	if (compat_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -1;
	fc->sock = sv[1];
	fc->from = readable ? fd : sv[1];
	fc->to = readable ? sv[1] : fd;
	if (uv_thread_create(&fc->tid, filecopy_run, fc) != 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	nstdio_copy++;
	return sv[0];
}

/* Wait for the file copies to finish (stdout must be complete on exit). */
static void
bridge_join(void)
{
	for (int i = 0; i < nstdio_copy; i++)
		uv_thread_join(&stdio_copy[i].tid);
}

/*
 * Move stdio descriptor ${fd} to a descriptor of our own and leave
 * /dev/null in its place; return the new one, or ${fd} if that fails.
 * libuv never closes 0-2, and the reader of our output sees EOF only when
 * the last descriptor of its pipe is closed.
 */
static int
take_stdio(int fd)
{
	int own = fcntl(fd, F_DUPFD_CLOEXEC, 3), null;

	if (own < 0)
		return fd;
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0 ||
	    dup2(null, fd) < 0) {
		if (null >= 0)
			close(null);
		close(own);
		return fd;
	}
	close(null);
	return own;
}

/* Open fd ${fd} as a libuv stream, or NULL after logging. */
static uv_stream_t *
open_stdio(uv_loop_t *loop, int fd, int readable)
{
	uv_handle_type t = uv_guess_handle(fd);
	uv_stream_t *s = NULL;

	if (t == UV_FILE && (fd = bridge_file(fd, readable)) >= 0)
		t = UV_NAMED_PIPE;
	else if (t == UV_TCP || t == UV_NAMED_PIPE)
		fd = take_stdio(fd);

	if (t == UV_TTY) {
		uv_tty_t *tty = malloc(sizeof(*tty));
		if (tty != NULL && uv_tty_init(loop, tty, fd, readable) == 0)
			s = (uv_stream_t *)tty;
		else
			free(tty);
	} else if (t == UV_TCP) {
		uv_tcp_t *tcp = malloc(sizeof(*tcp));
		if (tcp != NULL && uv_tcp_init(loop, tcp) == 0 &&
		    uv_tcp_open(tcp, fd) == 0)
			s = (uv_stream_t *)tcp;
		else
			free(tcp);
	} else if (t == UV_NAMED_PIPE) {
		uv_pipe_t *p = malloc(sizeof(*p));
		if (p != NULL && uv_pipe_init(loop, p, 0) == 0 &&
		    uv_pipe_open(p, fd) == 0)
			s = (uv_stream_t *)p;
		else
			free(p);
	}
	if (s == NULL)
		log_error("usage", "msg=\"%s must be a file, pipe, socket or terminal\"",
		    readable ? "standard input" : "standard output");
	return s;
}

int
cmd_connect(const char *cfgpath, const char *target)
{
	struct agent ag;
	struct local *l;

	if (agent_init(&ag, cfgpath, target) < 0 ||
	    (l = calloc(1, sizeof(*l))) == NULL) {
		agent_free(&ag);
		return 1;
	}
	l->ag = &ag;
	snprintf(l->name, sizeof(l->name), "stdio");
	if ((l->in = open_stdio(ag.loop, STDIN_FILENO, 1)) == NULL ||
	    (l->out = open_stdio(ag.loop, STDOUT_FILENO, 0)) == NULL) {
		free(l);
		agent_free(&ag);
		return 1;
	}
	ag.status = 1;
	local_dial(l);
	uv_run(ag.loop, UV_RUN_DEFAULT);
	uv_loop_close(ag.loop);
	bridge_join();
	agent_free(&ag);
	return ag.status;
}
