/*
 * limit: token buckets and bounded per-address tables.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "grant.h"
#include "limit.h"

#define PROBES 8
#define COUNT_BUCKETS 1024

struct source {
	uint8_t key[LIMIT_KEYLEN];
	struct limit_tb tb;
};

struct limit_sources {
	uint8_t key[16];            /* SipHash key: slots cannot be aimed at */
	struct source slot[LIMIT_SOURCES];
};

struct count {
	struct count *next;
	uint8_t key[LIMIT_KEYLEN];
	unsigned n;
};

struct limit_counts {
	struct count *bucket[COUNT_BUCKETS];
};

int
limit_tb_take(struct limit_tb *tb, double rate, double burst, uint64_t now_ms)
{
	if (!tb->used) {
		tb->used = 1;
		tb->tokens = burst;
	} else {
		tb->tokens += (double)(now_ms - tb->last_ms) * rate / 1000.0;
		if (tb->tokens > burst)
			tb->tokens = burst;
	}
	tb->last_ms = now_ms;
	if (tb->tokens < 1.0)
		return 0;
	tb->tokens -= 1.0;
	return 1;
}

void
limit_key(const struct sockaddr *sa, int with_port, int v6_prefix64,
    uint8_t key[LIMIT_KEYLEN])
{
	int v4;
	unsigned port;

	grant_addr16(sa, key);
	v4 = memcmp(key, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0;
	if (!v4 && v6_prefix64)
		memset(key + 8, 0, 8);
	port = sa->sa_family == AF_INET6 ?
	    ntohs(((const struct sockaddr_in6 *)sa)->sin6_port) :
	    ntohs(((const struct sockaddr_in *)sa)->sin_port);
	key[16] = with_port ? (uint8_t)(port >> 8) : 0;
	key[17] = with_port ? (uint8_t)port : 0;
}

/* FNV-1a over a key. */
static uint32_t
hash(const uint8_t key[LIMIT_KEYLEN])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < LIMIT_KEYLEN; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

struct limit_sources *
limit_sources_new_key(const uint8_t key[16])
{
	struct limit_sources *t = calloc(1, sizeof(*t));

	if (t != NULL)
		memcpy(t->key, key, sizeof(t->key));
	return t;
}

struct limit_sources *
limit_sources_new(void)
{
	uint8_t key[16];
	struct limit_sources *t = NULL;

	if (crypto_random(key, sizeof(key)) == 0)
		t = limit_sources_new_key(key);
	crypto_wipe(key, sizeof(key));
	return t;
}

/*
 * How long bucket ${tb} must stay idle to be full again, counted from
 * empty (or from its debt, if it owes tokens): then its slot is free.
 */
static uint64_t
refill_ms(const struct limit_tb *tb, double rate, double burst)
{
	double from = tb->tokens < 0 ? tb->tokens : 0;

	return (uint64_t)((burst - from) * 1000.0 / rate) + 1;
}

/*
 * The bucket of ${key} in ${t}, or a free slot claimed for it (a bucket
 * that has refilled is free); NULL if none of its slots is.
 */
static struct limit_tb *
source_bucket(struct limit_sources *t, const uint8_t key[LIMIT_KEYLEN],
    double rate, double burst, uint64_t now_ms)
{
	struct source *free_slot = NULL;
	uint64_t h64;
	uint32_t h;

	if (crypto_siphash(t->key, key, LIMIT_KEYLEN, &h64))
		return NULL;
	h = (uint32_t)h64;

	for (int i = 0; i < PROBES; i++) {
		struct source *s = &t->slot[(h + (uint32_t)i) % LIMIT_SOURCES];

		if (s->tb.used && memcmp(s->key, key, LIMIT_KEYLEN) == 0)
			return &s->tb;
		if (free_slot == NULL && (!s->tb.used ||
		    now_ms - s->tb.last_ms >= refill_ms(&s->tb, rate, burst)))
			free_slot = s;
	}
	if (free_slot == NULL)
		return NULL;
	memcpy(free_slot->key, key, LIMIT_KEYLEN);
	free_slot->tb.used = 0;
	return &free_slot->tb;
}

int
limit_sources_take(struct limit_sources *t, const uint8_t key[LIMIT_KEYLEN],
    double rate, double burst, uint64_t now_ms)
{
	struct limit_tb *tb = source_bucket(t, key, rate, burst, now_ms);

	return tb != NULL && limit_tb_take(tb, rate, burst, now_ms);
}

void
limit_sources_penalize(struct limit_sources *t,
    const uint8_t key[LIMIT_KEYLEN], double rate, double burst, double debt,
    uint64_t now_ms)
{
	struct limit_tb *tb = source_bucket(t, key, rate, burst, now_ms);

	if (tb == NULL)
		return;
	(void)limit_tb_take(tb, rate, burst, now_ms);   /* start it, or refill */
	tb->tokens = -debt;       /* replaces an older debt, never adds up */
}

void
limit_sources_free(struct limit_sources *t)
{
	free(t);
}

struct limit_counts *
limit_counts_new(void)
{
	return calloc(1, sizeof(struct limit_counts));
}

unsigned
limit_counts_get(const struct limit_counts *t, const uint8_t key[LIMIT_KEYLEN])
{
	for (const struct count *c = t->bucket[hash(key) % COUNT_BUCKETS];
	    c != NULL; c = c->next)
		if (memcmp(c->key, key, LIMIT_KEYLEN) == 0)
			return c->n;
	return 0;
}

int
limit_counts_add(struct limit_counts *t, const uint8_t key[LIMIT_KEYLEN],
    int delta)
{
	struct count **pp = &t->bucket[hash(key) % COUNT_BUCKETS], *c;

	for (; (c = *pp) != NULL; pp = &c->next) {
		if (memcmp(c->key, key, LIMIT_KEYLEN) != 0)
			continue;
		if (delta < 0 && c->n <= (unsigned)-delta) {
			*pp = c->next;
			free(c);
		} else
			c->n += (unsigned)delta;
		return 0;
	}
	if (delta <= 0)
		return 0;
	if ((c = malloc(sizeof(*c))) == NULL)
		return -1;
	memcpy(c->key, key, LIMIT_KEYLEN);
	c->n = (unsigned)delta;
	c->next = t->bucket[hash(key) % COUNT_BUCKETS];
	t->bucket[hash(key) % COUNT_BUCKETS] = c;
	return 0;
}

void
limit_counts_free(struct limit_counts *t)
{
	if (t == NULL)
		return;
	for (int i = 0; i < COUNT_BUCKETS; i++)
		for (struct count *c = t->bucket[i], *next; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	free(t);
}
