/*
 * idmap: random 16-byte ids to pointers, chained buckets (idmap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "idmap.h"

#define IDMAP_MIN 64            /* buckets at first; a power of two */

struct entry {
	struct entry *next;
	void *val;
	uint8_t id[IDMAP_IDLEN];
};

struct idmap {
	struct entry **b;
	size_t nb;              /* a power of two */
	size_t n;
};

/* The bucket of ${id} among ${nb}: its first 8 bytes (a PRF's output). */
static size_t
bucket(const uint8_t id[IDMAP_IDLEN], size_t nb)
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return ((size_t)h & (nb - 1));
}

struct idmap *
idmap_new(void)
{
	struct idmap *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	if ((m->b = calloc(IDMAP_MIN, sizeof(*m->b))) == NULL) {
		free(m);
		return (NULL);
	}
	m->nb = IDMAP_MIN;
	return (m);
}

/* Rehash ${m} into twice the buckets; nothing changes if out of memory. */
static void
grow(struct idmap *m)
{
	struct entry **b, *e, *next;
	size_t nb = m->nb * 2;

	if ((b = calloc(nb, sizeof(*b))) == NULL)
		return;         /* longer chains, still correct */
	for (size_t i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[bucket(e->id, nb)];
			b[bucket(e->id, nb)] = e;
		}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

int
idmap_put(struct idmap *m, const uint8_t id[IDMAP_IDLEN], void *val)
{
	struct entry *e;
	size_t i;

	if ((e = malloc(sizeof(*e))) == NULL)
		return (-1);
	memcpy(e->id, id, IDMAP_IDLEN);
	e->val = val;
	i = bucket(id, m->nb);
	e->next = m->b[i];
	m->b[i] = e;
	if (++m->n > 2 * m->nb)
		grow(m);
	return (0);
}

void *
idmap_get(const struct idmap *m, const uint8_t id[IDMAP_IDLEN])
{
	const struct entry *e;

	for (e = m->b[bucket(id, m->nb)]; e != NULL; e = e->next)
		if (crypto_equal(e->id, id, IDMAP_IDLEN))
			return (e->val);
	return (NULL);
}

void
idmap_del(struct idmap *m, const uint8_t id[IDMAP_IDLEN], const void *val)
{
	struct entry **pp, *e;

	for (pp = &m->b[bucket(id, m->nb)]; (e = *pp) != NULL; pp = &e->next)
		if (e->val == val && crypto_equal(e->id, id, IDMAP_IDLEN)) {
			*pp = e->next;
			free(e);
			m->n--;
			return;
		}
}

size_t
idmap_count(const struct idmap *m)
{

	return (m->n);
}

void
idmap_free(struct idmap *m)
{
	struct entry *e, *next;

	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nb; i++)
		for (e = m->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(m->b);
	free(m);
}
