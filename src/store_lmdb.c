/*
 * store_lmdb: the LMDB session-store backend (store = lmdb:PATH).
 *
 * The environment lives in PATH/boot-ID, ID the kernel's boot id, and is
 * opened with MDB_NOSYNC: a committed transaction is in the kernel's page
 * cache, so it survives the death of any process (what the store is for:
 * a worker restart), and no commit waits for the disk (a put per
 * handshake would otherwise cost an fsync).  And with MDB_WRITEMAP: a
 * commit writes into the shared mapping of the file, which is the page
 * cache, instead of one pwrite per dirty page (3 to 5 system calls a
 * commit; a put takes a third of the time); only once the whole map is
 * allocated on the disk (reserve_map), so that a full disk cannot make a
 * write into the map a SIGBUS.  A host crash could leave an
 * unsynced environment inconsistent; but nothing in the store is of use
 * after a reboot (the keeper and every backend connection are gone), so
 * each boot starts a fresh environment and removes those of earlier
 * boots.  Without a readable boot id, PATH/data is used with full syncs.
 *
 * Every read takes a write transaction, so that a read and the delete
 * that it decides on (a take, an expired value) are one atomic step across
 * processes.  LMDB's robust mutex recovers from a writer killed with
 * kill -9; stale reader slots are cleared at open.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "store_backend.h"

#define LMDB_POSMAX 511         /* LMDB's longest key (MDB_MAXKEYSIZE) */
#define LMDB_BOOTID "/proc/sys/kernel/random/boot_id"

struct lmdb {
	struct store_backend be;        /* first: the backend's functions */
	MDB_env *env;
	MDB_dbi dbi;
	uint8_t pos[LMDB_POSMAX];       /* where store_gc goes on */
	size_t poslen;                  /* 0: from the start */
};

/* Map an LMDB error ${rc} to errno. */
static void
set_errno(int rc)
{

	if (rc == MDB_MAP_FULL || rc == MDB_TXN_FULL)
		errno = ENOSPC;
	else if (rc > 0)
		errno = rc;     /* a system error from LMDB */
	else
		errno = EIO;
}

/* Begin a write transaction, adopting a map grown by another process. */
static int
begin(struct lmdb *l, MDB_txn **txn)
{
	int rc;

	rc = mdb_txn_begin(l->env, NULL, 0, txn);
	if (rc == MDB_MAP_RESIZED && mdb_env_set_mapsize(l->env, 0) == 0)
		rc = mdb_txn_begin(l->env, NULL, 0, txn);
	if (rc != 0) {
		set_errno(rc);
		return (-1);
	}
	return (0);
}

/* Commit ${txn}: 0 or -1. */
static int
commit(MDB_txn *txn)
{
	int rc;

	if ((rc = mdb_txn_commit(txn)) != 0) {
		set_errno(rc);
		return (-1);
	}
	return (0);
}

static int
lmdb_put(struct store_backend *be, const uint8_t *name, size_t namelen,
    const uint8_t *raw, size_t rawlen)
{
	struct lmdb *l = (struct lmdb *)be;
	MDB_txn *txn;
	MDB_val k = { namelen, (void *)(uintptr_t)name };
	MDB_val v = { rawlen, (void *)(uintptr_t)raw };
	int rc;

	if (begin(l, &txn) != 0)
		return (-1);
	if ((rc = mdb_put(txn, l->dbi, &k, &v, 0)) != 0) {
		mdb_txn_abort(txn);
		set_errno(rc);
		return (-1);
	}
	return (commit(txn));
}

static int
lmdb_get(struct store_backend *be, const uint8_t *name, size_t namelen,
    store_look_fn *look, void *ctx)
{
	struct lmdb *l = (struct lmdb *)be;
	MDB_txn *txn;
	MDB_val k = { namelen, (void *)(uintptr_t)name };
	MDB_val v;
	int rc, res, del = 0;

	if (begin(l, &txn) != 0)
		return (-1);
	if ((rc = mdb_get(txn, l->dbi, &k, &v)) != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return (1);
		set_errno(rc);
		return (-1);
	}
	res = look(ctx, v.mv_data, v.mv_size, &del);
	if (res == -1 || !del) {
		mdb_txn_abort(txn);
		return (res);
	}
	if ((rc = mdb_del(txn, l->dbi, &k, NULL)) != 0) {
		mdb_txn_abort(txn);
		set_errno(rc);
		return (-1);
	}
	if (commit(txn) != 0)
		return (-1);
	return (res);
}

static int
lmdb_del(struct store_backend *be, const uint8_t *name, size_t namelen)
{
	struct lmdb *l = (struct lmdb *)be;
	MDB_txn *txn;
	MDB_val k = { namelen, (void *)(uintptr_t)name };
	int rc;

	if (begin(l, &txn) != 0)
		return (-1);
	if ((rc = mdb_del(txn, l->dbi, &k, NULL)) != 0) {
		mdb_txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return (1);
		set_errno(rc);
		return (-1);
	}
	return (commit(txn));
}

static int
lmdb_gc(struct store_backend *be, size_t budget, store_look_fn *look,
    void *ctx)
{
	struct lmdb *l = (struct lmdb *)be;
	MDB_txn *txn;
	MDB_cursor *cur = NULL;
	MDB_val k = { l->poslen, l->pos }, v;
	size_t seen = 0;
	int rc, del, dropped = 0;

	if (begin(l, &txn) != 0)
		return (-1);
	if ((rc = mdb_cursor_open(txn, l->dbi, &cur)) != 0)
		goto fail;
	rc = mdb_cursor_get(cur, &k, &v, l->poslen > 0 ? MDB_SET_RANGE :
	    MDB_FIRST);
	while (rc == 0 && seen < budget) {
		seen++;
		del = 0;
		if (look(ctx, v.mv_data, v.mv_size, &del) != -1 && del) {
			if ((rc = mdb_cursor_del(cur, 0)) != 0)
				goto fail;
			dropped++;
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (rc == 0 && k.mv_size <= sizeof(l->pos)) {
		memcpy(l->pos, k.mv_data, k.mv_size);
		l->poslen = k.mv_size;
	} else if (rc == 0 || rc == MDB_NOTFOUND) {
		l->poslen = 0;  /* wrap around */
	} else
		goto fail;
	mdb_cursor_close(cur);
	if (commit(txn) != 0)
		return (-1);
	return (dropped);
fail:
	if (cur != NULL)
		mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	set_errno(rc);
	return (-1);
}

static void
lmdb_free(struct store_backend *be)
{
	struct lmdb *l = (struct lmdb *)be;

	if (l == NULL)
		return;
	if (l->env != NULL)
		mdb_env_close(l->env);
	free(l);
}

/* mkdir -p ${path}, creating what is missing with mode 0700. */
static int
mkdirs(const char *path)
{
	char buf[4096];
	size_t i, n;

	n = strlen(path);
	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return (-1);
		buf[i] = i < n ? '/' : '\0';
	}
	return (0);
}

/* Read the kernel's boot id into ${id} (${idlen} bytes): 0 or -1. */
static int
boot_id(char *id, size_t idlen)
{
	FILE *f;
	size_t i;
	int rc = -1;

	if ((f = fopen(LMDB_BOOTID, "re")) == NULL)
		return (-1);
	if (fgets(id, (int)idlen, f) == NULL)
		goto out;
	id[strcspn(id, "\n")] = '\0';
	if (id[0] == '\0')
		goto out;
	for (i = 0; id[i] != '\0'; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-'))
			goto out;
	rc = 0;
out:
	fclose(f);
	return (rc);
}

/* Remove the environments of earlier boots under ${path} (not ${keep}). */
static void
remove_old(const char *path, const char *keep)
{
	DIR *d;
	struct dirent *de;
	char p[4096 + 300];

	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "boot-", 5) != 0 ||
		    strcmp(de->d_name, keep) == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s/data.mdb", path, de->d_name);
		(void)unlink(p);
		snprintf(p, sizeof(p), "%s/%s/lock.mdb", path, de->d_name);
		(void)unlink(p);
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		(void)rmdir(p);
	}
	closedir(d);
}

/*
 * Give ${env}'s map file all ${mapsize} bytes on the disk now: with
 * MDB_WRITEMAP, LMDB makes the file that long but sparse, and a store into
 * a page of a hole that the filesystem cannot back (a full disk) is a
 * SIGBUS, not an error that a put could return.  Returns 0, or -1 (the
 * caller opens without MDB_WRITEMAP, whose writes fail cleanly).
 */
static int
reserve_map(MDB_env *env, size_t mapsize)
{
	int fd;

	return (mdb_env_get_fd(env, &fd) == 0 &&
	    posix_fallocate(fd, 0, (off_t)mapsize) == 0 ? 0 : -1);
}

struct store_backend *
store_lmdb_open(const char *path, size_t mapsize, char *errbuf,
    size_t errlen)
{
	struct lmdb *l = NULL;
	struct stat sb;
	MDB_txn *txn;
	char id[64], sub[80], env[4096 + 80];
	unsigned int flags;
	int rc, dead;

	if (mkdirs(path) != 0) {
		snprintf(errbuf, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		goto err;
	}
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(errbuf, errlen, "%s is not a directory", path);
		goto err;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(errbuf, errlen, "%s may be written by others "
		    "(chmod go-w)", path);
		goto err;
	}
	if (boot_id(id, sizeof(id)) == 0) {
		snprintf(sub, sizeof(sub), "boot-%s", id);
		flags = MDB_NOSYNC | MDB_WRITEMAP;
		remove_old(path, sub);
	} else {
		snprintf(sub, sizeof(sub), "data");
		flags = 0;
	}
	if ((size_t)snprintf(env, sizeof(env), "%s/%s", path, sub) >=
	    sizeof(env)) {
		snprintf(errbuf, errlen, "%s: path too long", path);
		goto err;
	}
	if (mkdir(env, 0700) != 0 && errno != EEXIST) {
		snprintf(errbuf, errlen, "cannot create %s: %s", env,
		    strerror(errno));
		goto err;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		goto err;
	}
	for (;;) {
		if ((rc = mdb_env_create(&l->env)) != 0 ||
		    (rc = mdb_env_set_mapsize(l->env, mapsize)) != 0 ||
		    (rc = mdb_env_open(l->env, env, flags, 0600)) != 0) {
			snprintf(errbuf, errlen, "%s: %s", env,
			    mdb_strerror(rc));
			goto err;
		}
		if (!(flags & MDB_WRITEMAP) || reserve_map(l->env, mapsize) == 0)
			break;
		mdb_env_close(l->env);          /* again, with pwrite */
		l->env = NULL;
		flags &= ~(unsigned int)MDB_WRITEMAP;
	}
	(void)mdb_reader_check(l->env, &dead);
	if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0) {
		snprintf(errbuf, errlen, "%s: %s", env, mdb_strerror(rc));
		goto err;
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &l->dbi)) != 0)
		mdb_txn_abort(txn);
	else
		rc = mdb_txn_commit(txn);       /* frees txn, as abort does */
	if (rc != 0) {
		snprintf(errbuf, errlen, "%s: %s", env, mdb_strerror(rc));
		goto err;
	}
	l->be.put = lmdb_put;
	l->be.get = lmdb_get;
	l->be.del = lmdb_del;
	l->be.gc = lmdb_gc;
	l->be.free = lmdb_free;
	return (&l->be);
err:
	lmdb_free(l ? &l->be : NULL);
	return (NULL);
}
