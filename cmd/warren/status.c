/*
 * status: "warren status" asks warrend's control socket for its counters.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "warren.h"

#define DEFAULT_CONTROL "/run/warren/warrend.sock"

int
cmd_status(const char *path)
{
	struct sockaddr_un su;
	char buf[4096];
	ssize_t n;
	int fd, rc = 1, first = 1, failed = 0;

	if (path == NULL)
		path = DEFAULT_CONTROL;
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(su.sun_path)) {
		log_error("status", "msg=\"control socket path too long: %s\"", path);
		return 1;
	}
	memcpy(su.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		log_error("status", "msg=\"cannot reach warrend's control socket %s: %s (is warrend running with control = %s?)\"",
		    path, strerror(errno), path);
		goto out;
	}
	if (write(fd, "status\n", 7) != 7)
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
