/*
 * conffile: where the client agent finds its configuration when the
 * command line names none (warren(1), FILES).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "warren.h"

#define SYSTEM_CONF "/etc/warren/client.conf"

/* ${path} into ${buf} (${len} bytes): ${buf}, or NULL if it is too long. */
static const char *
copy(char *buf, size_t len, const char *path)
{
	int n = snprintf(buf, len, "%s", path);

	if (n < 0 || (size_t)n >= len) {
		log_error("config", "msg=\"configuration path too long: %s\"",
		    path);
		return NULL;
	}
	return buf;
}

/* Return 1 if something is at ${path}, or it cannot tell (EACCES). */
static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR);
}

const char *
cmd_conffile(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char user[1024] = "";
	int n = -1;

	/* XDG: an unset, empty or relative XDG_CONFIG_HOME means ~/.config. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(user, sizeof(user), "%s/warren/client.conf", xdg);
	else if (home != NULL && home[0] == '/')
		n = snprintf(user, sizeof(user), "%s/.config/warren/client.conf",
		    home);
	if (n < 0 || (size_t)n >= sizeof(user))
		user[0] = '\0';
	/* A file that exists but cannot be read: the loader says why. */
	if (user[0] != '\0' && exists(user))
		return copy(buf, len, user);
	if (exists(SYSTEM_CONF))
		return copy(buf, len, SYSTEM_CONF);
	if (user[0] != '\0')
		log_error("config", "msg=\"no configuration file: neither %s "
		    "nor %s exists; name one with -c FILE\"", user, SYSTEM_CONF);
	else
		log_error("config", "msg=\"no configuration file: %s does not "
		    "exist (and HOME is not set); name one with -c FILE\"",
		    SYSTEM_CONF);
	return NULL;
}
