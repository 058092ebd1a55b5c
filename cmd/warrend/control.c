/*
 * control: warrend's local control socket (a Unix stream socket, mode
 * 0600).  A client writes one command line; warrend answers and closes.
 *   status   one "name value" line per counter, then the live state
 *   sessions one "session key=value ..." line per live session
 *   reload   re-read the config (reload.c): "ok ..." with what changed, or
 *            "error ..." with the config's errors; root or warrend's user
 * A connection that has not been answered within CTL_IDLE_MS is closed,
 * and at most CTL_MAX are open at once (more are closed at once), so that
 * idle clients cannot hold the node's descriptors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "warrend.h"

#define CMD_MAX 64
#define REPLY_MAX 4096
#define CTL_IDLE_MS 5000
#define CTL_MAX 16            /* counted in main.c's FD_RESERVE */
#define RELOAD_REPLY_MAX 16384

/* Counters in the order "warren status" prints them. */
#define NODE_STATS(X) \
	X(rx_packets) X(drop_kernel) X(drop_malformed) X(drop_mac1) \
	X(cookies_sent) \
	X(drop_handshake) X(drop_unknown_client) X(drop_replay) \
	X(drop_skew) X(drop_queue_full) X(drop_rate_source) X(drop_rate_cookie) \
	X(drop_rate_client) X(drop_pending_ip) X(drop_pending_ip_port) \
	X(drop_grants_full) X(denied_service) X(no_service) X(busy) \
	X(busy_max_sessions) X(busy_global) X(grants) \
	X(grants_expired) X(grants_superseded) X(grant_probes) X(carriers_rejected) X(sessions) \
	X(sessions_live) X(backend_errors) X(log_suppressed) X(control_refused) \
	X(resumes) X(resume_drops)

struct ctl_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;            /* CTL_IDLE_MS from accept */
	int handles;                 /* open of pipe and timer */
	int closing;
	struct node *n;
	char cmd[CMD_MAX];
	size_t len;
	uv_write_t req;
	char reply[REPLY_MAX];
	char *big;                   /* a longer answer (sessions), malloc'd */
};

static void
ctl_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	if (--c->handles == 0) {
		free(c->big);
		free(c);
	}
}

/* Close connection ${c} (its pipe and timer); ${c} is freed after. */
static void
ctl_close(struct ctl_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	c->n->nctl--;
	uv_close((uv_handle_t *)&c->pipe, ctl_closed);
	uv_close((uv_handle_t *)&c->timer, ctl_closed);
}

static void
ctl_written(uv_write_t *req, int status)
{
	ctl_close(req->data);
}

static void
ctl_idle(uv_timer_t *t)
{
	struct ctl_conn *c = t->data;

	if (door_log_ok(c->n, DLOG_CONTROL))
		log_info("control_idle", "msg=\"closed a control connection "
		    "that sent no command within %d s\"", CTL_IDLE_MS / 1000);
	ctl_close(c);
}

/* Write the answer to command ${cmd} into ${c}->reply. */
static size_t
ctl_answer(struct ctl_conn *c, const char *cmd)
{
	struct node *n = c->n;
	size_t off = 0;

#define PRINT(...) off += (size_t)snprintf(c->reply + off, \
    off < REPLY_MAX ? REPLY_MAX - off : 0, __VA_ARGS__)
#define STAT(name) PRINT("%s %llu\n", #name, \
    (unsigned long long)n->stats.name);
	if (strcmp(cmd, "status") == 0) {
		door_refresh(n);
		NODE_STATS(STAT)
		PRINT("under_load %d\n", door_under_load(n));
		PRINT("handshake_queue %zu\n", n->qlen);
		PRINT("grants_live %zu\n", n->ngrants);
		PRINT("sessions_stalled %zu\n", carrier_stalled(n));
		PRINT("sessions_detached %llu\n",
		    (unsigned long long)n->stats.sessions_detached);
		PRINT("sessions_held %zu\n", n->held);
		PRINT("sessions_cap %zu\n", n->sessions_cap);
		PRINT("fd_limit %llu\n", (unsigned long long)n->fd_limit);
		/* Each [client] that holds sessions, while they fit. */
		for (size_t i = 0; i < n->cfg->nclients; i++)
			if (n->held_by[i] > 0 && off + 32 + CFG_NAMELEN <
			    REPLY_MAX)
				PRINT("client_sessions:%s %u\n",
				    n->cfg->clients[i].name, n->held_by[i]);
	} else
		PRINT("error unknown command \"%.32s\" (try: status, "
		    "sessions, reload)\n", cmd);
#undef STAT
#undef PRINT
	return off < REPLY_MAX ? off : REPLY_MAX - 1;
}

/*
 * 1 if the peer of ${c} may change the node's state (reload): root or
 * warrend's own user (SO_PEERCRED), whatever the socket's mode allows.
 */
static int
ctl_admin(struct ctl_conn *c)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return 0;
	if (cr.uid == 0 || cr.uid == geteuid())
		return 1;
	log_warn("control_denied", "command=reload uid=%d pid=%d",
	    (int)cr.uid, (int)cr.pid);
	return 0;
}

static void
ctl_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct ctl_conn *c = h->data;

	*buf = uv_buf_init(c->cmd + c->len, (unsigned)(CMD_MAX - 1 - c->len));
}

static void
ctl_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_conn *c = s->data;
	char *nl;
	uv_buf_t b;

	if (nread < 0 || (nread == 0 && c->len == CMD_MAX - 1)) {
		ctl_close(c);
		return;
	}
	c->len += (size_t)nread;
	c->cmd[c->len] = '\0';
	if ((nl = strchr(c->cmd, '\n')) == NULL && c->len < CMD_MAX - 1)
		return;
	if (nl != NULL)
		*nl = '\0';
	uv_read_stop(s);
	if (strcmp(c->cmd, "reload") == 0) {
		if ((c->big = malloc(RELOAD_REPLY_MAX)) == NULL) {
			ctl_close(c);
			return;
		}
		if (!ctl_admin(c))
			snprintf(c->big, RELOAD_REPLY_MAX, "error reload: only "
			    "root or warrend's own user may reload\n");
		else
			(void)reload_run(c->n, c->big, RELOAD_REPLY_MAX);
		b = uv_buf_init(c->big, (unsigned)strlen(c->big));
	} else if (strcmp(c->cmd, "sessions") == 0) {
		size_t len;

		if ((c->big = carrier_sessions(c->n, &len)) == NULL) {
			ctl_close(c);
			return;
		}
		b = uv_buf_init(c->big, (unsigned)len);
	} else
		b = uv_buf_init(c->reply, (unsigned)ctl_answer(c, c->cmd));
	c->req.data = c;
	if (uv_write(&c->req, s, &b, 1, ctl_written) < 0)
		ctl_close(c);
}

static void
ctl_connection(uv_stream_t *server, int status)
{
	struct node *n = server->data;
	struct ctl_conn *c;

	if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return;
	c->n = n;
	n->nctl++;
	uv_pipe_init(n->loop, &c->pipe, 0);
	uv_timer_init(n->loop, &c->timer);
	c->pipe.data = c->timer.data = c;
	c->handles = 2;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
		ctl_close(c);
		return;
	}
	if (n->nctl > CTL_MAX) {
		n->stats.control_refused++;
		if (door_log_ok(n, DLOG_CONTROL))
			log_warn("control_refused", "max=%d msg=\"too many "
			    "control connections open: closed a new one\"",
			    CTL_MAX);
		ctl_close(c);
		return;
	}
	uv_timer_start(&c->timer, ctl_idle, CTL_IDLE_MS, 0);
	if (uv_read_start((uv_stream_t *)&c->pipe, ctl_alloc, ctl_read) < 0)
		ctl_close(c);
}

int
control_start(struct node *n)
{
	const char *path = n->cfg->control;
	struct stat st;
	mode_t old;
	int rc;

	if (path == NULL)
		return 0;
	/* Replace a socket left by an earlier run, but never any other file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	uv_pipe_init(n->loop, &n->control, 0);
	n->control.data = n;
	n->control_open = 1;
	old = umask(0177);
	rc = uv_pipe_bind(&n->control, path);
	umask(old);
	if (rc < 0 || (rc = uv_listen((uv_stream_t *)&n->control, 8,
	    ctl_connection)) < 0) {
		log_error("control", "msg=\"%s:%d: cannot listen on control socket %s: %s\"",
		    n->cfg->path, n->cfg->control_line, path, uv_strerror(rc));
		return -1;
	}
	log_info("control", "socket=%s", path);
	return 0;
}

void
control_stop(struct node *n)
{
	if (!n->control_open || uv_is_closing((uv_handle_t *)&n->control))
		return;
	uv_close((uv_handle_t *)&n->control, NULL);
	(void)unlink(n->cfg->control);
}
