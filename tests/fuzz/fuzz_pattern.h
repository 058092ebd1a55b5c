/*
 * What the stateful fuzz targets share: a table of pseudo-random bytes
 * that a stream's byte at offset X is compared with (PAT_LEN is a prime,
 * so no block or record aligns with it), and a reader of the fuzzer's
 * input in which missing bytes read as 0.  Included by one target each.
 */
#ifndef FUZZ_PATTERN_H
#define FUZZ_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAT_LEN 1000003u

static uint8_t pat[PAT_LEN];

/* Fill the table from the xorshift32 seed ${x} (once per process). */
static void
pat_init(uint32_t x)
{
	size_t i;

	for (i = 0; i < PAT_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pat[i] = (uint8_t)(x >> 11);
	}
}

/* Fill ${p} with the ${n} bytes of the table at ${off}. */
static void
pat_fill(uint8_t *p, uint64_t off, size_t n)
{
	while (n > 0) {
		size_t at = (size_t)(off % PAT_LEN);
		size_t k = PAT_LEN - at < n ? PAT_LEN - at : n;

		memcpy(p, pat + at, k);
		p += k;
		off += k;
		n -= k;
	}
}

/* Whether the ${n} bytes at ${p} are the table at ${off}. */
static int
pat_equal(const uint8_t *p, uint64_t off, size_t n)
{
	while (n > 0) {
		size_t at = (size_t)(off % PAT_LEN);
		size_t k = PAT_LEN - at < n ? PAT_LEN - at : n;

		if (memcmp(p, pat + at, k) != 0)
			return 0;
		p += k;
		off += k;
		n -= k;
	}
	return 1;
}

/* Input reader: missing bytes read as 0. */
struct in {
	const uint8_t *p;
	size_t n;
};

/* The next ${bytes} bytes of ${in}, big-endian. */
static uint64_t
get(struct in *in, int bytes)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < bytes; i++) {
		v = v << 8;
		if (in->n > 0) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

#endif /* !FUZZ_PATTERN_H */
