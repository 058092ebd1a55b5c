/*
 * store_backend: what a session-store backend (store_mem.c, store_lmdb.c,
 * later store_redis.c) gives store.c.  A backend keeps raw bytes under
 * names and knows nothing of sealing; store.c seals, opens and decides.
 * Only store*.c and tests include this header.
 */
#ifndef WARREN_STORE_BACKEND_H
#define WARREN_STORE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

struct store;

/*
 * A look at one stored value, called by a backend with the raw bytes
 * ${raw} (${rawlen}) while it holds them (inside its transaction).  It
 * sets *${del} to 1 to have the entry deleted in that same transaction
 * (left at 0, nothing changes).  Its return value is passed through.
 */
typedef int store_look_fn(void *ctx, const uint8_t *raw, size_t rawlen,
    int *del);

/* A backend: its functions and its state. */
struct store_backend {
	/* Store ${raw} under ${name}, replacing what is there: 0 or -1
	 * (errno ENOSPC when full). */
	int (*put)(struct store_backend *be, const uint8_t *name,
	    size_t namelen, const uint8_t *raw, size_t rawlen);
	/* Call ${look} on the value under ${name}, atomically with the
	 * delete it asks for: 1 if absent (${look} not called), -1 on a
	 * failure of the backend, else what ${look} returned (if ${look}
	 * returns -1, nothing is deleted). */
	int (*get)(struct store_backend *be, const uint8_t *name,
	    size_t namelen, store_look_fn *look, void *ctx);
	/* Delete the value under ${name}: 0, 1 if absent, or -1. */
	int (*del)(struct store_backend *be, const uint8_t *name,
	    size_t namelen);
	/* Call ${look} on up to ${budget} entries, from where the last
	 * call stopped, deleting those it asks for: the number deleted, or
	 * -1. */
	int (*gc)(struct store_backend *be, size_t budget, store_look_fn *look,
	    void *ctx);
	/* Close and free ${be}. */
	void (*free)(struct store_backend *be);
};

/**
 * store_mem_open(maxbytes):
 * Return a new empty in-process backend that holds at most ${maxbytes}
 * bytes of names and values (ENOSPC past that), or NULL.
 */
struct store_backend *store_mem_open(size_t maxbytes);

/**
 * store_lmdb_open(path, mapsize, errbuf, errlen):
 * Open the LMDB environment in the directory ${path} (created 0700 if
 * missing) with a map of ${mapsize} bytes.  Returns the backend, or NULL
 * with a short reason in ${errbuf} (${errlen} bytes).
 */
struct store_backend *store_lmdb_open(const char *path, size_t mapsize,
    char *errbuf, size_t errlen);

/**
 * store_wrap(be, secret, secretlen):
 * Return a store on the backend ${be}, which it then owns (also when it
 * fails: ${be} is freed), with its sealing key derived from ${secret}
 * (${secretlen} bytes, at least 16).  NULL on failure.
 */
struct store *store_wrap(struct store_backend *be, const uint8_t *secret,
    size_t secretlen);

/**
 * store_seal(st, name, namelen, val, vallen, expiry, out, outcap):
 * Write into ${out} (${outcap} bytes) the stored form of ${val} (${vallen}
 * bytes) for ${name}, lapsing at Unix time ${expiry}.  Returns its length
 * (${vallen} + WIRE_STORE_OVERHEAD) or -1.
 */
int store_seal(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *val, size_t vallen, uint64_t expiry, uint8_t *out,
    size_t outcap) WR_MUST;

/**
 * store_unseal(st, name, namelen, raw, rawlen, now, out, outcap, outlen):
 * Open the stored value ${raw} (${rawlen} bytes) read under ${name} at
 * Unix time ${now}.  Returns 0 with the plaintext in ${out} (${outcap}
 * bytes) and its length in ${outlen}; 1 if it lapsed (not opened); -1
 * with errno EBADMSG if it is malformed or fails to authenticate, ENOBUFS
 * if ${outcap} is too small.  On anything but 0, ${out} holds nothing.
 */
int store_unseal(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *raw, size_t rawlen, uint64_t now, uint8_t *out,
    size_t outcap, size_t *outlen) WR_MUST;

#endif
