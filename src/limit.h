/*
 * limit: token buckets and per-address counters for the front door.
 * Every table is bounded: the source table has a fixed size and its
 * entries expire by themselves (a bucket refilled to its burst is as good
 * as no entry); counters exist only while their count is above zero.
 */
#ifndef WARREN_LIMIT_H
#define WARREN_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LIMIT_KEYLEN 18               /* IP[16] and port u16 */
#define LIMIT_SOURCES 8192            /* source buckets (WireGuard's size) */

/* One token bucket. */
struct limit_tb {
	double tokens;
	uint64_t last_ms;
	int used;
};

/**
 * limit_tb_take(tb, rate, burst, now_ms):
 * Refill ${tb} at ${rate} tokens/s up to ${burst}, then take one token;
 * return 1 if there was one, else 0.
 */
int limit_tb_take(struct limit_tb *tb, double rate, double burst,
    uint64_t now_ms);

/**
 * limit_key(sa, with_port, v6_prefix64, key):
 * Make a table key from ${sa}: its IP (IPv4 as ::ffff:a.b.c.d; IPv6 cut to
 * its /64 if ${v6_prefix64}) and, if ${with_port}, its port.
 */
void limit_key(const struct sockaddr *sa, int with_port, int v6_prefix64,
    uint8_t key[LIMIT_KEYLEN]);

struct limit_sources;   /* per-source token buckets (opaque) */

/**
 * limit_sources_new():
 * Return an empty table of LIMIT_SOURCES buckets, or NULL.
 */
struct limit_sources *limit_sources_new(void);

/**
 * limit_sources_new_key(key):
 * As limit_sources_new, with the given 16-byte hash key (for tests that
 * need to know where keys land).
 */
struct limit_sources *limit_sources_new_key(const uint8_t key[16]);

/**
 * limit_sources_take(t, key, rate, burst, now_ms):
 * Take a token from the bucket of ${key}; 1 if allowed.  A full table
 * (every slot in use by a source that is not refilled yet) denies.
 */
int limit_sources_take(struct limit_sources *t, const uint8_t key[LIMIT_KEYLEN],
    double rate, double burst, uint64_t now_ms);

/**
 * limit_sources_penalize(t, key, rate, burst, debt, now_ms):
 * Empty the bucket of ${key} and make it owe ${debt} tokens: it grants
 * nothing until it has refilled them and one more (at ${rate}, about
 * ${debt} / ${rate} seconds from now).  A new debt replaces an old one:
 * repeated penalties in calm times do not add up.  Does nothing if the
 * table has no room for ${key}.
 */
void limit_sources_penalize(struct limit_sources *t,
    const uint8_t key[LIMIT_KEYLEN], double rate, double burst, double debt,
    uint64_t now_ms);

/**
 * limit_sources_free(t):
 * Free ${t}.  Does nothing if ${t} is NULL.
 */
void limit_sources_free(struct limit_sources *t);

struct limit_counts;    /* key -> count, for counts above zero (opaque) */

/**
 * limit_counts_new():
 * Return an empty counter table, or NULL.
 */
struct limit_counts *limit_counts_new(void);

/**
 * limit_counts_get(t, key):
 * Return the count of ${key} (0 if absent).
 */
unsigned limit_counts_get(const struct limit_counts *t,
    const uint8_t key[LIMIT_KEYLEN]);

/**
 * limit_counts_add(t, key, delta):
 * Add ${delta} (+1 or -1) to the count of ${key}; an entry that reaches 0
 * is removed.  Returns -1 on allocation failure.
 */
int limit_counts_add(struct limit_counts *t, const uint8_t key[LIMIT_KEYLEN],
    int delta);

/**
 * limit_counts_free(t):
 * Free ${t}.  Does nothing if ${t} is NULL.
 */
void limit_counts_free(struct limit_counts *t);

#endif
