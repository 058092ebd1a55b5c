/*
 * test_store: the session store (src/store.c) on both backends: round
 * trips, single-use takes, expiry under an injected clock, values that
 * must not open (moved, flipped, another secret), a full LMDB map, a full
 * disk under it, two
 * processes on one LMDB path, and a value built by an independent
 * implementation of docs/STORE.md.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_backend.h"

static const uint8_t secret_a[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t secret_b[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 11 };

/* The test's clock: Unix seconds in *${arg}. */
static uint64_t
fake_clock(void *arg)
{

	return (*(uint64_t *)arg);
}

/* nftw callback: remove one entry. */
static int
rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{

	return (remove(p));
}

/* Remove the directory tree ${dir}. */
static void
rm_rf(const char *dir)
{

	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* A test's store: its backend (still reachable for raw access), clock. */
struct fx {
	int lmdb;
	char dir[64];
	struct store_backend *be;
	struct store *st;
	uint64_t now;
};

/* Open ${f}'s store on its backend with ${secret} and a map of ${map}. */
static void
fx_open(struct fx *f, const uint8_t *secret, size_t map)
{
	char err[256];

	if (f->lmdb) {
		f->be = store_lmdb_open(f->dir, map, err, sizeof(err));
		if (f->be == NULL)
			fail_msg("store_lmdb_open: %s", err);
	} else
		assert_non_null(f->be = store_mem_open(map));
	assert_non_null(f->st = store_wrap(f->be, secret, 32));
	store_set_clock(f->st, fake_clock, &f->now);
}

/* Set up ${f}: LMDB in a fresh temporary directory if ${lmdb}. */
static void
fx_init(struct fx *f, int lmdb)
{

	memset(f, 0, sizeof(*f));
	f->lmdb = lmdb;
	f->now = 1700000000;
	if (lmdb) {
		snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
	}
	fx_open(f, secret_a, STORE_LMDB_MAPSIZE);
}

/* Tear ${f} down. */
static void
fx_done(struct fx *f)
{

	store_free(f->st);
	f->st = NULL;
	if (f->lmdb)
		rm_rf(f->dir);
}

#define N(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* Round trips on one backend. */
static void
roundtrip(int lmdb)
{
	struct fx f;
	uint8_t out[512], big[STORE_NAME_MAX + 1];
	size_t outlen;

	fx_init(&f, lmdb);
	assert_int_equal(store_put(f.st, N("a"), N("value a"), 60), 0);
	assert_int_equal(store_put(f.st, N("b"), N("value b"), 60), 0);

	/* get leaves it, take takes it once. */
	assert_int_equal(store_get(f.st, N("a"), out, sizeof(out), &outlen),
	    0);
	assert_int_equal(outlen, 7);
	assert_memory_equal(out, "value a", 7);
	assert_int_equal(store_take(f.st, N("a"), out, sizeof(out), &outlen),
	    0);
	assert_memory_equal(out, "value a", 7);
	assert_int_equal(store_take(f.st, N("a"), out, sizeof(out), &outlen),
	    1);
	assert_int_equal(store_get(f.st, N("a"), out, sizeof(out), &outlen),
	    1);

	/* Replacing, a too small buffer (nothing taken), del. */
	assert_int_equal(store_put(f.st, N("b"), N("value b2"), 60), 0);
	errno = 0;
	assert_int_equal(store_take(f.st, N("b"), out, 7, &outlen), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(store_get(f.st, N("b"), out, sizeof(out), &outlen),
	    0);
	assert_int_equal(outlen, 8);
	assert_memory_equal(out, "value b2", 8);
	assert_int_equal(store_del(f.st, N("b")), 0);
	assert_int_equal(store_del(f.st, N("b")), 1);
	assert_int_equal(store_take(f.st, N("b"), out, sizeof(out), &outlen),
	    1);

	/* An empty value, binary and longest names. */
	assert_int_equal(store_put(f.st, N("\0e"), NULL, 0, 60), 0);
	assert_int_equal(store_take(f.st, N("\0e"), out, 0, &outlen), 0);
	assert_int_equal(outlen, 0);
	memset(big, 'n', sizeof(big));
	assert_int_equal(store_put(f.st, big, STORE_NAME_MAX, N("x"), 60), 0);
	assert_int_equal(store_take(f.st, big, STORE_NAME_MAX, out,
	    sizeof(out), &outlen), 0);

	/* Out of range: EINVAL, nothing stored. */
	errno = 0;
	assert_int_equal(store_put(f.st, big, sizeof(big), N("x"), 60), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(store_put(f.st, NULL, 0, N("x"), 60), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(store_put(f.st, N("z"), N("x"), 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(store_put(f.st, N("z"), N("x"), STORE_TTL_MAX + 1),
	    -1);
	assert_int_equal(store_get(f.st, N("z"), out, sizeof(out), &outlen),
	    1);
	errno = 0;
	assert_int_equal(store_get(f.st, big, sizeof(big), out, sizeof(out),
	    &outlen), -1);
	assert_int_equal(errno, EINVAL);
	fx_done(&f);
}

static void
test_roundtrip_mem(void **state)
{

	roundtrip(0);
}

static void
test_roundtrip_lmdb(void **state)
{

	roundtrip(1);
}

/* Expiry under the injected clock, and store_gc's sweep. */
static void
ttl(int lmdb)
{
	struct fx f;
	uint8_t out[64], name[8];
	size_t outlen;
	int i, n, dropped, calls;

	fx_init(&f, lmdb);
	assert_int_equal(store_put(f.st, N("t"), N("v"), 10), 0);
	f.now += 9;
	assert_int_equal(store_get(f.st, N("t"), out, sizeof(out), &outlen),
	    0);
	f.now += 1;
	assert_int_equal(store_get(f.st, N("t"), out, sizeof(out), &outlen),
	    1);
	/* The lapsed value was deleted when it was read. */
	assert_int_equal(store_del(f.st, N("t")), 1);
	assert_int_equal(store_put(f.st, N("t"), N("v"), 10), 0);
	f.now += 10;
	assert_int_equal(store_take(f.st, N("t"), out, sizeof(out), &outlen),
	    1);
	assert_int_equal(store_del(f.st, N("t")), 1);

	/* gc drops exactly the lapsed entries, in bounded batches. */
	n = 3 * STORE_GC_BATCH;
	for (i = 0; i < n; i++) {
		memcpy(name, "gc", 2);
		memcpy(name + 2, &i, sizeof(i));
		assert_int_equal(store_put(f.st, name, 2 + sizeof(i), N("v"),
		    i % 2 ? 5 : 100), 0);
	}
	f.now += 5;
	dropped = 0;
	for (calls = 0; calls < 10; calls++) {
		assert_true((i = store_gc(f.st)) >= 0);
		assert_true(i <= STORE_GC_BATCH);
		dropped += i;
	}
	assert_int_equal(dropped, n / 2);
	for (i = 0; i < n; i++) {
		memcpy(name + 2, &i, sizeof(i));
		assert_int_equal(store_del(f.st, name, 2 + sizeof(i)),
		    i % 2 ? 1 : 0);
	}
	fx_done(&f);
}

static void
test_ttl_mem(void **state)
{

	ttl(0);
}

static void
test_ttl_lmdb(void **state)
{

	ttl(1);
}

/* A raw value read out of a backend. */
struct raw {
	uint8_t b[1024];
	size_t len;
};

/* store_look_fn: copy the raw value into the struct raw at ${ctx}. */
static int
copy_raw(void *ctx, const uint8_t *raw, size_t rawlen, int *del)
{
	struct raw *r = ctx;

	assert_true(rawlen <= sizeof(r->b));
	memcpy(r->b, raw, rawlen);
	r->len = rawlen;
	return (0);
}

/* Values that must not open: moved to another name, any byte changed. */
static void
tamper(int lmdb)
{
	struct fx f;
	struct raw r, t;
	uint8_t out[64];
	size_t outlen, i;
	int bit, rc;

	fx_init(&f, lmdb);
	assert_int_equal(store_put(f.st, N("sess:one"), N("secret state"),
	    60), 0);
	assert_int_equal(f.be->get(f.be, N("sess:one"), copy_raw, &r), 0);
	assert_int_equal(r.len, 12 + WIRE_STORE_OVERHEAD);

	/* Moved to another name: fails to authenticate, and stays. */
	assert_int_equal(f.be->put(f.be, N("sess:two"), r.b, r.len), 0);
	errno = 0;
	assert_int_equal(store_take(f.st, N("sess:two"), out, sizeof(out),
	    &outlen), -1);
	assert_int_equal(errno, EBADMSG);
	errno = 0;
	assert_int_equal(store_get(f.st, N("sess:two"), out, sizeof(out),
	    &outlen), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(store_del(f.st, N("sess:two")), 0);

	/* Every bit of every byte flipped in place. */
	for (i = 0; i < r.len; i++) {
		for (bit = 0; bit < 8; bit++) {
			t = r;
			t.b[i] ^= (uint8_t)(1 << bit);
			assert_int_equal(f.be->put(f.be, N("sess:one"), t.b,
			    t.len), 0);
			errno = 0;
			rc = store_get(f.st, N("sess:one"), out, sizeof(out),
			    &outlen);
			if (i >= 1 && i < 9 && rc == 1)
				continue;       /* expiry moved to the past */
			assert_int_equal(rc, -1);
			assert_int_equal(errno, EBADMSG);
		}
	}
	/* Cut short or lengthened. */
	for (i = 0; i <= r.len + 1; i++) {
		if (i == r.len)
			continue;
		t = r;
		assert_int_equal(f.be->put(f.be, N("sess:one"), t.b, i), 0);
		errno = 0;
		assert_int_equal(store_get(f.st, N("sess:one"), out,
		    sizeof(out), &outlen), -1);
		assert_int_equal(errno, EBADMSG);
	}
	/* The original still opens. */
	assert_int_equal(f.be->put(f.be, N("sess:one"), r.b, r.len), 0);
	assert_int_equal(store_take(f.st, N("sess:one"), out, sizeof(out),
	    &outlen), 0);
	assert_memory_equal(out, "secret state", 12);
	fx_done(&f);
}

static void
test_tamper_mem(void **state)
{

	tamper(0);
}

static void
test_tamper_lmdb(void **state)
{

	tamper(1);
}

/* A store opened with another secret cannot open the old values. */
static void
test_other_secret(void **state)
{
	struct fx f;
	uint8_t out[64];
	size_t outlen;

	fx_init(&f, 1);
	assert_int_equal(store_put(f.st, N("k"), N("under a"), 60), 0);
	store_free(f.st);
	fx_open(&f, secret_b, STORE_LMDB_MAPSIZE);
	errno = 0;
	assert_int_equal(store_take(f.st, N("k"), out, sizeof(out), &outlen),
	    -1);
	assert_int_equal(errno, EBADMSG);
	assert_string_equal(store_errstr(errno),
	    "value failed to authenticate");
	store_free(f.st);
	/* It was left in place: the right secret still takes it. */
	fx_open(&f, secret_a, STORE_LMDB_MAPSIZE);
	assert_int_equal(store_take(f.st, N("k"), out, sizeof(out), &outlen),
	    0);
	assert_memory_equal(out, "under a", 7);
	fx_done(&f);
}

/* A full LMDB map: -1 with ENOSPC, no crash; reads still work; once
 * entries lapse, a put makes room by itself. */
static void
test_lmdb_full(void **state)
{
	struct fx f;
	uint8_t val[1000], out[1000], name[8];
	size_t outlen;
	int i, n = 0;

	memset(val, 'v', sizeof(val));
	fx_init(&f, 1);
	store_free(f.st);
	rm_rf(f.dir);
	assert_int_equal(mkdir(f.dir, 0700), 0);
	fx_open(&f, secret_a, 128 * 1024);
	for (i = 0; i < 10000; i++) {
		memcpy(name, "full", 4);
		memcpy(name + 4, &i, sizeof(i));
		errno = 0;
		if (store_put(f.st, name, 4 + sizeof(i), val, sizeof(val),
		    10) != 0)
			break;
		n++;
	}
	assert_true(i < 10000);
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(store_errstr(errno), "store full");
	assert_true(n > 10);
	/* What is in it still reads, and still fills it. */
	memcpy(name + 4, &(int){ 0 }, sizeof(int));
	assert_int_equal(store_get(f.st, name, 4 + sizeof(int), out,
	    sizeof(out), &outlen), 0);
	assert_int_equal(store_put(f.st, N("more"), val, sizeof(val), 10),
	    -1);
	assert_int_equal(errno, ENOSPC);
	/* Once they lapse, put drops them itself and succeeds. */
	f.now += 10;
	assert_int_equal(store_put(f.st, N("more"), val, sizeof(val), 10), 0);
	assert_int_equal(store_take(f.st, N("more"), out, sizeof(out),
	    &outlen), 0);
	assert_int_equal(outlen, sizeof(val));
	fx_done(&f);
}

/*
 * A full disk under the LMDB map: a put fails with ENOSPC ("store full"),
 * and what it wrote before still reads.  The disk is a 256 KiB tmpfs in a
 * mount namespace of a child process (root only; skipped otherwise), far
 * smaller than the 64 MiB map; a write into a map that the disk cannot
 * back would kill the child with SIGBUS.
 */
static void
test_lmdb_disk_full(void **state)
{
	char dir[] = "/tmp/test_store_disk.XXXXXX", err[256];
	uint8_t val[3000], out[3100], name[8];
	pid_t pid;
	int status;

	assert_non_null(mkdtemp(dir));
	if ((pid = fork()) == 0) {
		struct store_backend *be;
		struct store *st;
		int i, n = 0;

		(void)signal(SIGBUS, SIG_DFL);      /* not cmocka's, here */
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700") != 0)
			_exit(77);
		if ((be = store_lmdb_open(dir, STORE_LMDB_MAPSIZE, err,
		    sizeof(err))) == NULL || (st = store_wrap(be, secret_a,
		    32)) == NULL)
			_exit(2);
		memset(val, 7, sizeof(val));
		for (i = 0; i < 1000; i++) {
			memcpy(name, "disk", 4);
			memcpy(name + 4, &i, sizeof(i));
			errno = 0;
			if (store_put(st, name, sizeof(name), val, sizeof(val),
			    60) != 0)
				break;
			n++;
		}
		if (i == 1000 || errno != ENOSPC || n < 2)
			_exit(3);
		memcpy(name + 4, &(int){ 0 }, sizeof(int));
		if (store_get(st, name, sizeof(name), out, sizeof(out),
		    &(size_t){ 0 }) != 0)
			_exit(4);
		store_free(st);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(rmdir(dir), 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		skip();     /* no mount namespace here */
	if (WIFSIGNALED(status))
		fail_msg("the store killed its process with signal %d",
		    WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Write ${len} bytes to ${fd} or fail. */
static void
xwrite(int fd, const void *buf, size_t len)
{

	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

/* Read ${len} bytes from ${fd} or fail. */
static void
xread(int fd, void *buf, size_t len)
{

	assert_int_equal(read(fd, buf, len), (ssize_t)len);
}

#define RACES 200

/* The child of test_two_processes: its own handle on ${dir}; answers
 * each byte on ${in} by one step, on ${out}. */
static int
child(const char *dir, int in, int outfd)
{
	struct store_backend *be;
	struct store *st;
	char err[256], c;
	uint8_t out[64], name[8];
	size_t outlen;
	int i, rc;

	if ((be = store_lmdb_open(dir, STORE_LMDB_MAPSIZE, err,
	    sizeof(err))) == NULL || (st = store_wrap(be, secret_a, 32)) ==
	    NULL)
		return (1);
	/* Step 1: read the parent's value, write one back. */
	if (read(in, &c, 1) != 1 || store_get(st, N("from parent"), out,
	    sizeof(out), &outlen) != 0 || outlen != 2 ||
	    memcmp(out, "hi", 2) != 0 || store_put(st, N("from child"),
	    N("ho"), 60) != 0)
		return (2);
	if (write(outfd, "1", 1) != 1)
		return (3);
	/* Races: take each value as the parent takes it; report. */
	for (i = 0; i < RACES; i++) {
		if (read(in, &c, 1) != 1)
			return (4);
		memcpy(name, "race", 4);
		memcpy(name + 4, &i, sizeof(i));
		rc = store_take(st, name, 4 + sizeof(i), out, sizeof(out),
		    &outlen);
		c = rc == 0 ? 'T' : rc == 1 ? 'A' : 'E';
		if (write(outfd, &c, 1) != 1)
			return (5);
	}
	store_free(st);
	return (0);
}

/* Two processes, each with its own handle on one LMDB path, see each
 * other's writes, and of two takes racing for a value one gets it. */
static void
test_two_processes(void **state)
{
	struct fx f;
	int p2c[2], c2p[2], i, rc, status;
	uint8_t out[64], name[8];
	size_t outlen;
	pid_t pid;
	char c;

	memset(&f, 0, sizeof(f));
	f.lmdb = 1;
	snprintf(f.dir, sizeof(f.dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f.dir));
	/* A child that died early must fail the test, not kill it. */
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p2c), 0);
	assert_int_equal(pipe(c2p), 0);
	/* Fork before opening: a handle must not cross a fork. */
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		_exit(child(f.dir, p2c[0], c2p[1]));
	}
	close(p2c[0]);
	close(c2p[1]);
	f.now = 0;
	{
		char err[256];

		f.be = store_lmdb_open(f.dir, STORE_LMDB_MAPSIZE, err,
		    sizeof(err));
		assert_non_null(f.be);
		assert_non_null(f.st = store_wrap(f.be, secret_a, 32));
	}
	assert_int_equal(store_put(f.st, N("from parent"), N("hi"), 60), 0);
	xwrite(p2c[1], "1", 1);
	xread(c2p[0], &c, 1);
	assert_int_equal(store_take(f.st, N("from child"), out, sizeof(out),
	    &outlen), 0);
	assert_memory_equal(out, "ho", 2);
	for (i = 0; i < RACES; i++) {
		memcpy(name, "race", 4);
		memcpy(name + 4, &i, sizeof(i));
		assert_int_equal(store_put(f.st, name, 4 + sizeof(i), N("v"),
		    60), 0);
		xwrite(p2c[1], "g", 1);
		rc = store_take(f.st, name, 4 + sizeof(i), out, sizeof(out),
		    &outlen);
		assert_true(rc == 0 || rc == 1);
		xread(c2p[0], &c, 1);
		assert_true(c == 'T' || c == 'A');
		/* Exactly one of the two takes got it. */
		assert_int_equal((rc == 0) + (c == 'T'), 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(p2c[1]);
	close(c2p[0]);
	fx_done(&f);

}

/* A value built by an independent implementation of docs/STORE.md
 * (python3-cryptography: HKDF-SHA256 and AES-GCM; the script is in
 * docs/STORE.md) opens, for its name only. */
static void
test_known_value(void **state)
{
	static const char hex[] =
	    "010000000077359400a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
	    "2cadda5a54847d4e150b8095816de59a982c63cc61189d981bdc2ebb";
	uint8_t secret[32], raw[sizeof(hex) / 2], name[21], out[64];
	struct store *st;
	size_t i, outlen;
	unsigned int b;

	for (i = 0; i < 32; i++)
		secret[i] = (uint8_t)i;
	for (i = 0; i < sizeof(raw); i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		raw[i] = (uint8_t)b;
	}
	memcpy(name, "sess:", 5);
	for (i = 0; i < 16; i++)
		name[5 + i] = (uint8_t)i;
	assert_non_null(st = store_wrap(store_mem_open(1024), secret, 32));
	assert_int_equal(store_unseal(st, name, sizeof(name), raw,
	    sizeof(raw), 1999999999, out, sizeof(out), &outlen), 0);
	assert_int_equal(outlen, 12);
	assert_memory_equal(out, "hello, store", 12);
	/* At its expiry it has lapsed; under another name it fails. */
	assert_int_equal(store_unseal(st, name, sizeof(name), raw,
	    sizeof(raw), 2000000000, out, sizeof(out), &outlen), 1);
	name[20] ^= 1;
	errno = 0;
	assert_int_equal(store_unseal(st, name, sizeof(name), raw,
	    sizeof(raw), 1999999999, out, sizeof(out), &outlen), -1);
	assert_int_equal(errno, EBADMSG);
	store_free(st);
}

/* store_open: specs, reasons, directory checks. */
static void
test_open(void **state)
{
	char dir[64], sub[128], err[256];
	struct store *st;
	struct stat sb;
	uint8_t out[8];
	size_t outlen;
	FILE *fp;

	store_free(NULL);
	assert_null(store_open("bogus", secret_a, 32, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(store_open("lmdb:", secret_a, 32, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_null(store_open("memory", secret_a, 8, err, sizeof(err)));
	assert_true(err[0] != '\0');
	assert_non_null(st = store_open("memory", secret_a, 32, err,
	    sizeof(err)));
	assert_int_equal(store_put(st, N("m"), N("v"), 1), 0);
	assert_int_equal(store_take(st, N("m"), out, sizeof(out), &outlen), 0);
	store_free(st);

	snprintf(dir, sizeof(dir), "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(dir));
	/* Missing directories are made, 0700. */
	snprintf(sub, sizeof(sub), "lmdb:%s/a/b", dir);
	assert_non_null(st = store_open(sub, secret_a, 32, err, sizeof(err)));
	store_free(st);
	assert_int_equal(stat(sub + 5, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	/* A directory others may write to is refused. */
	assert_int_equal(chmod(sub + 5, 0777), 0);
	assert_null(store_open(sub, secret_a, 32, err, sizeof(err)));
	assert_non_null(strstr(err, "written by others"));
	/* A file is not a directory. */
	snprintf(sub, sizeof(sub), "%s/file", dir);
	assert_non_null(fp = fopen(sub, "w"));
	fclose(fp);
	snprintf(sub, sizeof(sub), "lmdb:%s/file", dir);
	assert_null(store_open(sub, secret_a, 32, err, sizeof(err)));
	assert_true(err[0] != '\0');
	rm_rf(dir);
	assert_string_equal(store_errstr(EIO), "store broken");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_mem),
		cmocka_unit_test(test_roundtrip_lmdb),
		cmocka_unit_test(test_ttl_mem),
		cmocka_unit_test(test_ttl_lmdb),
		cmocka_unit_test(test_tamper_mem),
		cmocka_unit_test(test_tamper_lmdb),
		cmocka_unit_test(test_other_secret),
		cmocka_unit_test(test_lmdb_full),
		cmocka_unit_test(test_lmdb_disk_full),
		cmocka_unit_test(test_two_processes),
		cmocka_unit_test(test_known_value),
		cmocka_unit_test(test_open),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
