/*
 * status: "warren status" asks warrend's control socket for its state
 * (the "status" and "sessions" commands, docs/PROTOCOL.md 13) and prints
 * it for a person (like "wg show"), as JSON (--json) or in the Prometheus
 * text format (--prometheus; status_prom.c).  "warren reload" asks it to
 * reload its config and prints its answer.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "config.h"
#include "ctlmsg.h"
#include "log.h"
#include "warren.h"

#define DEFAULT_CONTROL "/run/warren/warrend.sock"
#define ANSWER_MAX (256u << 20)   /* a longer answer is refused */

/*
 * Send ${cmd} to the control socket ${path} and read the whole answer
 * into *${out} (NUL-terminated, the caller frees it), its length into
 * *${len}.  Returns 0, 1 if warrend refused the command (its "error"
 * line logged, unless ${keep_error}: then the whole answer is in *${out}),
 * or -1 after logging why the socket failed.
 */
static int
ask(const char *path, const char *cmd, char **out, size_t *len,
    int keep_error)
{
	struct sockaddr_un su;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, clen = strlen(cmd);
	ssize_t r;
	int fd = -1, rc = -1;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(su.sun_path)) {
		log_error("status", "msg=\"control socket path too long: %s\"", path);
		return -1;
	}
	memcpy(su.sun_path, path, strlen(path));
	if ((fd = compat_socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		log_error("status", "msg=\"cannot reach warrend's control socket %s: %s (is warrend running with control = %s%s?)\"",
		    path, strerror(errno), path, errno == EACCES ?
		    ", and are you root, its user or in its control_group" :
		    "");
		goto out;
	}
	if (write(fd, cmd, clen) != (ssize_t)clen || write(fd, "\n", 1) != 1)
		goto fail;
	for (;;) {
		if (cap - n < 4096) {
			if (cap >= ANSWER_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 16384 : 2 * cap;
			if ((nb = realloc(buf, cap + 1)) == NULL)
				goto fail;
			buf = nb;
		}
		if ((r = read(fd, buf + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		goto fail;
	buf[n] = '\0';
	if (strncmp(buf, "error", 5) == 0 && !keep_error) {
		/* warrend refused the command: say what it said. */
		buf[strcspn(buf, "\n")] = '\0';
		log_clean(buf);
		log_error("status", "msg=\"control socket %s: %s: %s\"", path,
		    cmd, buf);
		rc = 1;
		goto out;
	}
	rc = strncmp(buf, "error", 5) == 0;
	*out = buf;
	*len = n;
	buf = NULL;
	goto out;
fail:
	log_error("status", "msg=\"control socket %s: %s\"", path, strerror(errno));
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Print ${s} seconds as "1d 2h 3m 4s" (leading zero units left out). */
static void
print_age(uint64_t s)
{
	int any = 0;

	if (s >= 86400) {
		printf("%llud ", (unsigned long long)(s / 86400));
		any = 1;
	}
	if (any || s % 86400 >= 3600) {
		printf("%lluh ", (unsigned long long)(s % 86400 / 3600));
		any = 1;
	}
	if (any || s % 3600 >= 60)
		printf("%llum ", (unsigned long long)(s % 3600 / 60));
	printf("%llus", (unsigned long long)(s % 60));
}

/* Print ${b} bytes in binary units: "1.50 MiB". */
static void
print_bytes(uint64_t b)
{
	static const char *units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		printf("%llu B", (unsigned long long)b);
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	printf("%.2f %s", v, units[u]);
}

/* The number ${name} of ${m}, or 0 if it is missing. */
static uint64_t
num(const struct ctlmsg *m, const char *name)
{
	const struct ctlmsg_stat *st = ctlmsg_stat(m, name);

	return st != NULL && st->numeric ? st->num : 0;
}

/*
 * Print ${m} for a person; the raw "name value" lines at the end, which
 * scripts read by their first word: so no line above them may start with
 * a word that is also a status name (hence "in-flight grants", "key:").
 */
static void
print_text(const char *path, const struct ctlmsg *m)
{
	const struct ctlmsg_stat *v = ctlmsg_stat(m, "version");

	printf("node: %s\n", path);
	printf("  version: warrend %s\n", v != NULL ? v->value : "(unknown)");
	if (ctlmsg_stat(m, "uptime_s") != NULL) {
		printf("  uptime: ");
		print_age(num(m, "uptime_s"));
		printf(" (worker: ");
		print_age(num(m, "worker_uptime_s"));
		printf(")\n");
	}
	printf("  sessions: %llu live (%llu detached, %llu stalled), cap "
	    "%llu\n", (unsigned long long)num(m, "sessions_live"),
	    (unsigned long long)num(m, "sessions_detached"),
	    (unsigned long long)num(m, "sessions_stalled"),
	    (unsigned long long)num(m, "sessions_cap"));
	printf("  in-flight grants: %llu\n",
	    (unsigned long long)num(m, "grants_live"));
	printf("  front door: %s, %llu handshakes queued\n",
	    num(m, "under_load") ? "under load" : "calm",
	    (unsigned long long)num(m, "handshake_queue"));
	for (size_t i = 0; i < m->nsessions; i++) {
		const struct ctlmsg_session *s = &m->sessions[i];

		printf("\nsession: %s\n", s->id);
		printf("  client: %s\n  service: %s\n", s->client, s->service);
		printf("  peer: %s (%s%s, %llu carrier%s)\n", s->peer, s->state,
		    s->stalled ? ", stalled" : "",
		    (unsigned long long)s->carriers, s->carriers == 1 ? "" :
		    "s");
		printf("  age: ");
		print_age(s->age_s);
		if (s->has_idle) {
			printf(", idle: ");
			print_age(s->idle_s);
		}
		printf("\n  transfer: ");
		print_bytes(s->bytes_in);
		printf(" received, ");
		print_bytes(s->bytes_out);
		printf(" sent\n");
	}
	printf("\ncounters and state:\n");
	for (size_t i = 0; i < m->nstats; i++)
		printf("%s %s\n", m->stats[i].name, m->stats[i].value);
}

int
cmd_status(const char *path, const char *cfgpath, enum status_format fmt)
{
	struct ctlmsg m;
	char *st = NULL, *ss = NULL, *control = NULL;
	size_t stlen, sslen;
	int rc = 1;

	memset(&m, 0, sizeof(m));
	if (cfgpath != NULL) {
		/* The socket of the warrend config: its control = line. */
		if ((control = cfg_server_control(cfgpath)) == NULL)
			return 1;
		path = control;
	} else if (path == NULL)
		path = DEFAULT_CONTROL;
	if (ask(path, "status", &st, &stlen, 0) != 0 ||
	    ask(path, "sessions", &ss, &sslen, 0) != 0)
		goto out;
	if (ctlmsg_parse_status(&m, st, stlen) ||
	    ctlmsg_parse_sessions(&m, ss, sslen)) {
		log_error("status", "msg=\"control socket %s: %s\"", path,
		    errno == EINVAL ? "warrend's answer is malformed" :
		    strerror(errno));
		goto out;
	}
	if (fmt == STATUS_JSON)
		status_json_print(stdout, path, &m);
	else if (fmt == STATUS_PROMETHEUS)
		status_prom_print(stdout, &m);
	else
		print_text(path, &m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("status", "msg=\"cannot write the status: %s\"",
		    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	ctlmsg_free(&m);
	free(st);
	free(ss);
	free(control);
	return rc;
}

int
cmd_reload(const char *path)
{
	char *ans = NULL;
	size_t len;
	int rc;

	if (path == NULL)
		path = DEFAULT_CONTROL;
	/* "ok ..." with what changed, or "error ..." with why not. */
	if ((rc = ask(path, "reload", &ans, &len, 1)) < 0)
		return 1;
	if (fwrite(ans, 1, len, stdout) != len || fflush(stdout) != 0) {
		log_error("reload", "msg=\"cannot write the answer: %s\"",
		    strerror(errno));
		rc = 1;
	}
	free(ans);
	return rc != 0;
}
