/*
 * test_keyfile: who may own a secret key file (src/keyfile.c).  A secret
 * key file owned by another user is refused, with a reason that names the
 * owner and the fix, whoever runs the program (root too); one owned by the
 * user who reads it is accepted.  The tests that give a file to another
 * user (uid 65534, "nobody") need root, as the system tests run; they are
 * skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "keyfile.h"

#define KEY "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="
#define OTHER_UID 65534

static char tmpdir[] = "/tmp/warren-test-keyfile-XXXXXX";
static char path[512];

static int
setup(void **state)
{
	int fd;

	/* Searchable by all, so that another user can reach the file. */
	if (mkdtemp(tmpdir) == NULL || chmod(tmpdir, 0711) != 0)
		return (-1);
	snprintf(path, sizeof(path), "%s/k.key", tmpdir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return (-1);
	if (write(fd, KEY "\n", strlen(KEY) + 1) != (ssize_t)strlen(KEY) + 1)
		return (-1);
	close(fd);
	return (0);
}

static int
teardown(void **state)
{
	unlink(path);
	rmdir(tmpdir);
	return (0);
}

/* Give the key file to ${uid} (as root); skip the test if we cannot. */
static void
give(uid_t uid)
{
	if (geteuid() != 0)
		skip();
	assert_int_equal(chown(path, uid, (gid_t)-1), 0);
}

/* The file owned by whoever runs the test: accepted. */
static void
test_own(void **state)
{
	uint8_t key[32], want[32];
	char err[1024];

	if (geteuid() == 0)
		give(0);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), 0);
	assert_int_equal(keyfile_parse(KEY, want), 0);
	assert_memory_equal(key, want, 32);
}

/* Owned by another user: refused, even to root, with owner and fix. */
static void
test_other_owner(void **state)
{
	uint8_t key[32], zero[32];
	char err[1024], fix[600];

	give(OTHER_UID);
	memset(key, 0xaa, sizeof(key));
	memset(zero, 0, sizeof(zero));
	err[0] = '\0';
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_memory_equal(key, zero, 32);    /* nothing of it is kept */
	assert_non_null(strstr(err, "is owned by "));
	/* The owner by name if the system has one for 65534, else by uid. */
	assert_true(strstr(err, "nobody") != NULL ||
	    strstr(err, "uid 65534") != NULL);
	snprintf(fix, sizeof(fix), "(chown root %s)", path);
	assert_non_null(strstr(err, fix));
	assert_null(strchr(err, '\n'));

	/* Mode 0600 does not help: the owner is the problem. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(keyfile_read(path, key, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is owned by "));
	assert_int_equal(chmod(path, 0600), 0);

	/* A public key file (not secret) may belong to anyone. */
	assert_int_equal(keyfile_read(path, key, 0, err, sizeof(err)), 0);
	give(0);
}

/*
 * The user 65534 itself reads its own file: accepted; root's file with a
 * mode that lets it read: refused for the mode, not for the owner.
 */
static void
test_as_other_user(void **state)
{
	uint8_t key[32];
	char err[1024];
	pid_t pid;
	int status;

	give(OTHER_UID);
	if ((pid = fork()) == 0) {
		int rc = 0;

		if (setuid(OTHER_UID) != 0)
			_exit(10);
		if (keyfile_read(path, key, 1, err, sizeof(err)) != 0)
			rc |= 1;
		_exit(rc);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	give(0);
	assert_int_equal(chmod(path, 0644), 0);
	if ((pid = fork()) == 0) {
		if (setuid(OTHER_UID) != 0)
			_exit(10);
		if (keyfile_read(path, key, 1, err, sizeof(err)) != -1)
			_exit(1);
		_exit(strstr(err, "permissions 0644") != NULL ? 0 : 2);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own),
		cmocka_unit_test(test_other_owner),
		cmocka_unit_test(test_as_other_user),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
