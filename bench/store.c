/*
 * bench/store: latency of the session store's put and take (src/store.c),
 * per backend, one operation at a time as warrend would do them.
 *
 * usage: store SPEC [OPS [VALSIZE]]
 *   SPEC     "memory" or "lmdb:DIR"
 *   OPS      operations of each kind (default 10000)
 *   VALSIZE  bytes per value (default 256: a packed session is 169)
 * Puts OPS values under distinct "sess:" names (16 random bytes each),
 * then takes each of them, and prints one line per operation kind:
 *   store SPEC put n=OPS size=VALSIZE p50=.. p99=.. max=.. us ops/s=..
 * Each value is sealed (AES-256-GCM under a per-value HKDF key) and opened;
 * the figures include that.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "store.h"

/* Monotonic time in nanoseconds. */
static uint64_t
ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* qsort comparator for uint64_t. */
static int
cmp64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* Print the line for ${what}: ${n} latencies in ${t} (sorted here). */
static void
report(const char *spec, const char *what, uint64_t *t, size_t n,
    size_t size, uint64_t total)
{

	qsort(t, n, sizeof(*t), cmp64);
	printf("store %s %s n=%zu size=%zu p50=%.1f p99=%.1f max=%.1f us "
	    "ops/s=%.0f\n", spec, what, n, size, t[n / 2] / 1e3,
	    t[n * 99 / 100] / 1e3, t[n - 1] / 1e3,
	    total > 0 ? n * 1e9 / total : 0.0);
}

int
main(int argc, char **argv)
{
	struct store *st;
	uint8_t secret[32], *names, *val, *out;
	uint64_t *tput, *ttake, t0, all;
	size_t ops = 10000, size = 256, i, outlen;
	char err[256];

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: store SPEC [OPS [VALSIZE]]\n");
		return (2);
	}
	if (argc > 2)
		ops = strtoul(argv[2], NULL, 10);
	if (argc > 3)
		size = strtoul(argv[3], NULL, 10);
	if (ops < 1 || size > STORE_VAL_MAX) {
		fprintf(stderr, "store: bad OPS or VALSIZE\n");
		return (2);
	}
	names = malloc(ops * 21);
	val = malloc(size + 1);
	out = malloc(size + 1);
	tput = malloc(ops * sizeof(*tput));
	ttake = malloc(ops * sizeof(*ttake));
	if (names == NULL || val == NULL || out == NULL || tput == NULL ||
	    ttake == NULL) {
		fprintf(stderr, "store: out of memory\n");
		return (1);
	}
	if (crypto_random(secret, sizeof(secret)) != 0 ||
	    crypto_random(val, size + 1) != 0 ||
	    crypto_random(names, ops * 21) != 0) {
		fprintf(stderr, "store: no randomness\n");
		return (1);
	}
	for (i = 0; i < ops; i++)
		memcpy(names + 21 * i, "sess:", 5);
	if ((st = store_open(argv[1], secret, sizeof(secret), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "store: %s: %s\n", argv[1], err);
		return (1);
	}
	all = ns();
	for (i = 0; i < ops; i++) {
		t0 = ns();
		if (store_put(st, names + 21 * i, 21, val, size, 600) != 0) {
			fprintf(stderr, "store: put %zu: %s\n", i,
			    store_errstr(errno));
			return (1);
		}
		tput[i] = ns() - t0;
	}
	all = ns() - all;
	report(argv[1], "put ", tput, ops, size, all);
	all = ns();
	for (i = 0; i < ops; i++) {
		t0 = ns();
		if (store_take(st, names + 21 * i, 21, out, size + 1,
		    &outlen) != 0 || outlen != size) {
			fprintf(stderr, "store: take %zu: %s\n", i,
			    store_errstr(errno));
			return (1);
		}
		ttake[i] = ns() - t0;
	}
	all = ns() - all;
	report(argv[1], "take", ttake, ops, size, all);
	store_free(st);
	free(names);
	free(val);
	free(out);
	free(tput);
	free(ttake);
	return (0);
}
