/*
 * control: warrend's local control socket (a Unix stream socket, mode
 * 0600, or 0660 with group control_group).  A client writes one command
 * line; warrend answers and closes.
 *   status   one "name value" line per counter, then the live state
 *   sessions one "session key=value ..." line per live session
 *   reload   re-read the config (reload.c): "ok ..." with what changed, or
 *            "error ..." with the config's errors; root or warrend's user
 * Who may run what is decided by control_peer_may (the peer's uid and
 * groups, from the kernel).  A connection that has not been answered
 * within CTL_IDLE_MS is closed, and at most CTL_MAX are open at once (more
 * are closed at once), so that idle clients cannot hold the node's
 * descriptors.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "version.h"
#include "warrend.h"

#define CMD_MAX 64
#define REPLY_MAX 4096
#define CTL_IDLE_MS 5000
#define CTL_MAX 16            /* counted in main.c's FD_RESERVE */
#define PEER_GROUPS_MAX 65536 /* NGROUPS_MAX on Linux */
#define RELOAD_REPLY_MAX 16384

/* The commands and what each needs (control_peer_may). */
static const struct {
	const char *name;
	enum control_access need;
} ctl_cmds[] = {
	{ "status", CONTROL_READ },
	{ "sessions", CONTROL_READ },
	{ "reload", CONTROL_ADMIN },
};

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

/*
 * The start time of process ${pid} in clock ticks after boot (field 22 of
 * /proc/PID/stat), or 0 if it cannot be read.
 */
static unsigned long long
proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long t = 0;
	size_t len;
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	/* The name (field 2) may hold spaces: count from its last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (field = 2; field < 22 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		t = strtoull(p + 1, NULL, 10);
	return t;
}

/*
 * When the node started (UNIX seconds): the keeper's start (the boot time
 * of /proc/stat plus its start in ticks), which a new worker does not
 * change; else, or if /proc cannot say, when this worker began to serve.
 */
static uint64_t
node_started(struct node *n)
{
	unsigned long long btime = 0, ticks;
	long hz = sysconf(_SC_CLK_TCK);
	char line[256];
	uint64_t t;
	FILE *f;

	if (n->keeper < 0 || hz <= 0 || (ticks = proc_start(getppid())) == 0 ||
	    (f = fopen("/proc/stat", "re")) == NULL)
		return n->started_unix;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %llu", &btime) == 1)
			break;
	fclose(f);
	t = btime + ticks / (unsigned long long)hz;
	return btime == 0 || t > n->started_unix ? n->started_unix : t;
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
		uint64_t now = (uint64_t)time(NULL), started = node_started(n);

		door_refresh(n);
		PRINT("version %s\n", WARREN_VERSION);
		PRINT("started_unix %llu\n", (unsigned long long)started);
		PRINT("uptime_s %llu\n", (unsigned long long)(now > started ?
		    now - started : 0));
		PRINT("worker_uptime_s %llu\n", (unsigned long long)
		    (now > n->started_unix ? now - n->started_unix : 0));
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
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(c->cmd, ctl_cmds[i].name) == 0 &&
		    !control_peer_may(c->n, (uv_pipe_t *)s, ctl_cmds[i].need,
		    ctl_cmds[i].name)) {
			b = uv_buf_init(c->reply, (unsigned)snprintf(c->reply,
			    REPLY_MAX, "error permission denied: %s is for "
			    "%s\n", ctl_cmds[i].name, ctl_cmds[i].need ==
			    CONTROL_READ ? "root, warrend's user and "
			    "control_group" : "root and warrend's user"));
			goto reply;
		}
	if (strcmp(c->cmd, "reload") == 0) {
		if ((c->big = malloc(RELOAD_REPLY_MAX)) == NULL) {
			ctl_close(c);
			return;
		}
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
reply:
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

/* Is group ${gid} in the ${n} groups of ${gids}? */
static int
gid_in(gid_t gid, const gid_t *gids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (gids[i] == gid)
			return 1;
	return 0;
}

int
control_peer_may(struct node *n, uv_pipe_t *p, enum control_access want,
    const char *cmd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t *gids = NULL;
	uv_os_fd_t fd;
	int ok = 0;

	if (uv_fileno((uv_handle_t *)p, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		if (door_log_ok(n, DLOG_CONTROL))
			log_warn("control_denied", "cmd=%s msg=\"cannot read "
			    "the peer's credentials: %s\"", cmd,
			    strerror(errno));
		return 0;
	}
	if (cr.uid == 0 || cr.uid == geteuid())
		return 1;
	if (want == CONTROL_READ && n->cfg->has_control_group) {
		if (cr.gid == n->cfg->control_gid)
			ok = 1;
		/* Supplementary groups too (Linux 4.13: SO_PEERGROUPS). */
		len = 64 * sizeof(gid_t);
		while (!ok && (gids = malloc(len)) != NULL) {
			if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, gids,
			    &len) == 0) {
				ok = gid_in(n->cfg->control_gid, gids,
				    len / sizeof(gid_t));
				break;
			}
			free(gids);
			gids = NULL;
			if (errno != ERANGE ||
			    len > PEER_GROUPS_MAX * sizeof(gid_t))
				break;
		}
		free(gids);
	}
	if (!ok && door_log_ok(n, DLOG_CONTROL))
		log_warn("control_denied", "uid=%d pid=%d cmd=%s msg=\"%s is "
		    "for %s\"", (int)cr.uid, (int)cr.pid, cmd, cmd,
		    want == CONTROL_READ ? "root, warrend's user and "
		    "control_group" : "root and warrend's user");
	return ok;
}

/*
 * Give the control socket ${path} to control_group (mode 0660) and warn
 * if the group cannot reach it through its directory.  Returns -1 after
 * logging.
 */
static int
control_share(struct node *n, const char *path)
{
	const struct cfg_server *cfg = n->cfg;
	char dir[PATH_MAX];
	struct stat st;

	if (chown(path, (uid_t)-1, cfg->control_gid) < 0 ||
	    chmod(path, 0660) < 0) {
		log_error("control", "msg=\"%s:%d: control_group: cannot give "
		    "the control socket %s to group %d: %s (warrend's user "
		    "must be root or a member of the group)\"", cfg->path,
		    cfg->control_group_line, path, (int)cfg->control_gid,
		    strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) == 0 && (st.st_mode & S_IXOTH) == 0 &&
	    !(st.st_gid == cfg->control_gid && (st.st_mode & S_IXGRP)))
		log_warn("control", "msg=\"%s:%d: control_group: the group "
		    "cannot reach the control socket: its directory %s is "
		    "mode %04o, group %d (give it o+x, or g+x and the "
		    "group)\"", cfg->path, cfg->control_group_line, dir,
		    (unsigned)(st.st_mode & 07777), (int)st.st_gid);
	return 0;
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
	n->started_unix = (uint64_t)time(NULL);
	/* Replace a socket left by an earlier run, but never any other file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	uv_pipe_init(n->loop, &n->control, 0);
	n->control.data = n;
	n->control_open = 1;
	old = umask(0177);
	rc = uv_pipe_bind(&n->control, path);
	umask(old);
	if (rc == 0 && n->cfg->has_control_group && control_share(n, path) < 0)
		return -1;
	if (rc < 0 || (rc = uv_listen((uv_stream_t *)&n->control, 8,
	    ctl_connection)) < 0) {
		log_error("control", "msg=\"%s:%d: cannot listen on control socket %s: %s\"",
		    n->cfg->path, n->cfg->control_line, path, uv_strerror(rc));
		return -1;
	}
	log_info("control", "socket=%s%s", path, n->cfg->has_control_group ?
	    " mode=0660" : " mode=0600");
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
