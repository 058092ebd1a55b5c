/*
 * keyfile: read one base64 32-byte key from a file.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "keyfile.h"

/* A key is 44 characters; allow generous whitespace, refuse the rest. */
#define KEYFILE_MAX 256

int
keyfile_parse(const char *text, uint8_t key[32])
{

	return (crypto_b64_decode32(text, key));
}

/* Write the name of user ${uid} (or "uid N") to ${buf}. */
static void
user_name(uid_t uid, char *buf, size_t buflen)
{
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		snprintf(buf, buflen, "%s", pw->pw_name);
	else
		snprintf(buf, buflen, "uid %u", (unsigned)uid);
}

int
keyfile_read(const char *path, uint8_t key[32], int secret, char *err,
    size_t errlen)
{
	char buf[KEYFILE_MAX + 1], owner[64], me[64];
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd, rc = -1;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below. */
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			snprintf(err, errlen, "not found");
		else
			snprintf(err, errlen, "cannot be opened: %s",
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot be read: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "is not a regular file");
		goto out;
	}
	/*
	 * Owned by whoever runs us or by root, as sshd's StrictModes asks of
	 * the files it trusts: another owner can chmod or rewrite the file
	 * whenever they like.  Root gets no exception: its keys are root's.
	 */
	if (secret && st.st_uid != geteuid() && st.st_uid != 0) {
		user_name(st.st_uid, owner, sizeof(owner));
		user_name(geteuid(), me, sizeof(me));
		snprintf(err, errlen, "is owned by %s; it must be owned by %s, "
		    "who runs this%s (chown %s %s)", owner, me,
		    geteuid() == 0 ? "" : ", or by root",
		    strncmp(me, "uid ", 4) == 0 ? "$(id -un)" : me, path);
		goto out;
	}
	if (secret && (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "permissions %04o are too open: it must "
		    "not be accessible by group or others (chmod 600)",
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}

	/* Read up to one byte more than we accept. */
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, errlen, "cannot be read: %s",
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEYFILE_MAX || memchr(buf, '\0', n) != NULL)
		goto bad;
	buf[n] = '\0';
	if (keyfile_parse(buf, key))
		goto bad;
	rc = 0;
	goto out;

bad:
	snprintf(err, errlen, "does not hold one base64 32-byte key");
out:
	crypto_wipe(buf, sizeof(buf));
	if (rc != 0)
		crypto_wipe(key, 32);
	if (fd != -1)
		close(fd);
	return (rc);
}
