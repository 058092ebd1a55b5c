/*
 * status: "warren status" asks warrend's control socket for its counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "warren.h"

#define DEFAULT_CONTROL "/run/warren/warrend.sock"

/*
 * Send ${cmd} to the control socket ${path} and copy the answer to
 * stdout.  Returns 0, 1 if warrend refused the command, or -1 after
 * logging why the socket failed.
 */
static int
ask(const char *path, const char *cmd)
{
	struct sockaddr_un su;
	char buf[4096];
	ssize_t n;
	size_t len = strlen(cmd);
	int fd, rc = -1, first = 1, failed = 0;

	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(su.sun_path)) {
		log_error("status", "msg=\"control socket path too long: %s\"", path);
		return -1;
	}
	memcpy(su.sun_path, path, strlen(path));
	if ((fd = compat_socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		log_error("status", "msg=\"cannot reach warrend's control socket %s: %s (is warrend running with control = %s?)\"",
		    path, strerror(errno), path);
		goto out;
	}
	if (write(fd, cmd, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		goto fail;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (first && strncmp(buf, "error", 5) == 0)
			failed = 1;   /* warrend refused the command */
		first = 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			goto fail;
	}
	if (n == 0 && fflush(stdout) == 0) {
		rc = failed;
		goto out;
	}
fail:
	log_error("status", "msg=\"control socket %s: %s\"", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int
cmd_status(const char *path)
{
	int rc;

	if (path == NULL)
		path = DEFAULT_CONTROL;
	/* The counters, then one line per live session. */
	if ((rc = ask(path, "status")) != 0 || (rc = ask(path, "sessions")) != 0)
		return 1;
	return 0;
}
