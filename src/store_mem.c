/*
 * store_mem: the in-process session-store backend (store = memory, and
 * tests).  A chained hash table keyed with SipHash under a random key,
 * grown as it fills, bounded in bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "store_backend.h"

/* One entry: its name and raw value follow the struct. */
struct ment {
	struct ment *next;
	size_t namelen;
	size_t rawlen;
	uint8_t data[];         /* name, then raw value */
};

struct mem {
	struct store_backend be;        /* first: the backend's functions */
	struct ment **tab;
	size_t nb;                      /* buckets, a power of 2 */
	size_t n;                       /* entries */
	size_t bytes, maxbytes;         /* names and values held, and cap */
	size_t gcpos;                   /* bucket where store_gc goes on */
	uint8_t hkey[16];
};

#define MEM_NB0 64

/* The bucket of ${name} in a table of ${nb} buckets. */
static size_t
bucket(struct mem *m, const uint8_t *name, size_t namelen, size_t nb)
{
	uint64_t h = 0;

	if (crypto_siphash(m->hkey, name, namelen, &h) != 0)
		h = 0;          /* cannot fail with a valid key; stay correct */
	return ((size_t)h & (nb - 1));
}

/* The link that points to the entry ${name}, or to the NULL at the end. */
static struct ment **
find(struct mem *m, const uint8_t *name, size_t namelen)
{
	struct ment **pp;

	pp = &m->tab[bucket(m, name, namelen, m->nb)];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->namelen == namelen &&
		    memcmp((*pp)->data, name, namelen) == 0)
			break;
	return (pp);
}

/* Unlink *${pp} and free it. */
static void
drop(struct mem *m, struct ment **pp)
{
	struct ment *e = *pp;

	*pp = e->next;
	m->n--;
	m->bytes -= e->namelen + e->rawlen;
	crypto_wipe(e, sizeof(*e) + e->namelen + e->rawlen);
	free(e);
}

/* Double the table when it holds twice as many entries as buckets. */
static void
grow(struct mem *m)
{
	struct ment **nt, *e, *next;
	size_t nnb, i, b;

	if (m->n < 2 * m->nb || m->nb > SIZE_MAX / 4 / sizeof(*nt))
		return;
	nnb = m->nb * 2;
	if ((nt = calloc(nnb, sizeof(*nt))) == NULL)
		return;         /* longer chains, still correct */
	for (i = 0; i < m->nb; i++) {
		for (e = m->tab[i]; e != NULL; e = next) {
			next = e->next;
			b = bucket(m, e->data, e->namelen, nnb);
			e->next = nt[b];
			nt[b] = e;
		}
	}
	free(m->tab);
	m->tab = nt;
	m->nb = nnb;
	m->gcpos = 0;
}

static int
mem_put(struct store_backend *be, const uint8_t *name, size_t namelen,
    const uint8_t *raw, size_t rawlen)
{
	struct mem *m = (struct mem *)be;
	struct ment **pp, *e;
	size_t old = 0;

	pp = find(m, name, namelen);
	if (*pp != NULL)
		old = (*pp)->namelen + (*pp)->rawlen;
	if (m->bytes - old + namelen + rawlen > m->maxbytes) {
		errno = ENOSPC;
		return (-1);
	}
	if ((e = malloc(sizeof(*e) + namelen + rawlen)) == NULL)
		return (-1);
	e->namelen = namelen;
	e->rawlen = rawlen;
	memcpy(e->data, name, namelen);
	memcpy(e->data + namelen, raw, rawlen);
	if (*pp != NULL)
		drop(m, pp);
	e->next = *pp;
	*pp = e;
	m->n++;
	m->bytes += namelen + rawlen;
	grow(m);
	return (0);
}

static int
mem_get(struct store_backend *be, const uint8_t *name, size_t namelen,
    store_look_fn *look, void *ctx)
{
	struct mem *m = (struct mem *)be;
	struct ment **pp;
	int del = 0, rc;

	pp = find(m, name, namelen);
	if (*pp == NULL)
		return (1);
	rc = look(ctx, (*pp)->data + namelen, (*pp)->rawlen, &del);
	if (rc != -1 && del)
		drop(m, pp);
	return (rc);
}

static int
mem_del(struct store_backend *be, const uint8_t *name, size_t namelen)
{
	struct mem *m = (struct mem *)be;
	struct ment **pp;

	pp = find(m, name, namelen);
	if (*pp == NULL)
		return (1);
	drop(m, pp);
	return (0);
}

static int
mem_gc(struct store_backend *be, size_t budget, store_look_fn *look,
    void *ctx)
{
	struct mem *m = (struct mem *)be;
	struct ment **pp;
	size_t seen = 0, b;
	int dropped = 0, del;

	/* Whole buckets at a time, so a grown table loses no place. */
	for (b = 0; b < m->nb && seen < budget; b++) {
		pp = &m->tab[m->gcpos];
		while (*pp != NULL) {
			del = 0;
			seen++;
			if (look(ctx, (*pp)->data + (*pp)->namelen,
			    (*pp)->rawlen, &del) != -1 && del) {
				drop(m, pp);
				dropped++;
			} else
				pp = &(*pp)->next;
		}
		m->gcpos = (m->gcpos + 1) & (m->nb - 1);
	}
	return (dropped);
}

static void
mem_free(struct store_backend *be)
{
	struct mem *m = (struct mem *)be;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nb; i++)
		while (m->tab[i] != NULL)
			drop(m, &m->tab[i]);
	free(m->tab);
	crypto_wipe(m, sizeof(*m));
	free(m);
}

struct store_backend *
store_mem_open(size_t maxbytes)
{
	struct mem *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	if ((m->tab = calloc(MEM_NB0, sizeof(*m->tab))) == NULL ||
	    crypto_random(m->hkey, sizeof(m->hkey)) != 0) {
		free(m->tab);
		free(m);
		return (NULL);
	}
	m->nb = MEM_NB0;
	m->maxbytes = maxbytes;
	m->be.put = mem_put;
	m->be.get = mem_get;
	m->be.del = mem_del;
	m->be.gc = mem_gc;
	m->be.free = mem_free;
	return (&m->be);
}
