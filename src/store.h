/*
 * store: the session store, one interface over its backends (store_mem.c
 * in process, store_lmdb.c on one host; store_redis.c for a cluster
 * later).  Keys are names of 1..STORE_NAME_MAX bytes (binary allowed);
 * every value is sealed with AEAD under a key derived from the cluster
 * secret, bound to its name and its expiry, and lapses after a TTL.
 * docs/STORE.md specifies the stored format.
 *
 * Results: every call returns 0 on success, -1 on failure with errno set,
 * and the reads and deletes return 1 when the name is absent (never
 * stored, taken, deleted or expired).  The errno values that a caller
 * tells apart:
 *   EBADMSG    a stored value failed to authenticate (forged, moved to
 *              another name, sealed under another cluster secret, or of a
 *              format version this code does not know).  It is left in
 *              the store.
 *   ENOSPC     the store is full (LMDB's map); nothing was written.
 *   ENOBUFS    the value is longer than the caller's buffer; nothing was
 *              taken.
 *   EINVAL     a name, value or TTL out of range.
 *   anything else (EIO above all): the store is broken or unreachable.
 * store_errstr names each of these for a log line.  The library logs
 * nothing (STYLE 11).
 *
 * A store handle belongs to one thread.  Several processes may each open
 * their own handle on one LMDB path; one process must not open the same
 * path twice (LMDB's rule), nor use a handle it inherited through fork.
 */
#ifndef WARREN_STORE_H
#define WARREN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "wire.h"

#define STORE_NAME_MAX WIRE_STORE_NAME_MAX
#define STORE_VAL_MAX WIRE_STORE_VAL_MAX
#define STORE_TTL_MAX (400U * 24 * 3600)  /* longest TTL in seconds */
#define STORE_LMDB_MAPSIZE (64UL * 1024 * 1024)
#define STORE_GC_BATCH 512  /* most entries one store_gc call looks at */

/* A store handle.  Opaque. */
struct store;

/**
 * store_open(spec, secret, secretlen, errbuf, errlen):
 * Open the store named by ${spec}: "memory" (this process only, empty at
 * start, at most STORE_LMDB_MAPSIZE bytes of names and sealed values) or
 * "lmdb:PATH" (PATH a directory, created 0700 if missing, that
 * holds the LMDB environment; refused if others may write to it).  The
 * sealing key is derived from ${secret} (${secretlen} bytes, at least 16:
 * the cluster secret, 32 bytes) and ${secret} stays the caller's.  Returns
 * the handle, or NULL with a short reason (no file or line: the caller
 * adds its own) in ${errbuf} of ${errlen} bytes.
 */
struct store *store_open(const char *spec, const uint8_t *secret,
    size_t secretlen, char *errbuf, size_t errlen);

/**
 * store_set_clock(st, now, arg):
 * Make ${st} read the time (Unix seconds) from ${now}(${arg}) instead of
 * the system's real-time clock; ${now} NULL restores the system clock.
 * For tests: expiry then needs no sleep.
 */
void store_set_clock(struct store *st, uint64_t (*now)(void *), void *arg);

/**
 * store_put(st, name, namelen, val, vallen, ttl):
 * Seal ${vallen} (0..STORE_VAL_MAX) bytes of ${val} for the name ${name}
 * (${namelen} bytes) and store it under that name, replacing any value
 * there, to lapse ${ttl} (1..STORE_TTL_MAX) seconds from now.  When the
 * store is full it runs store_gc once and, if that dropped anything, tries
 * once more.  Returns 0 or -1 (errno ENOSPC when still full).
 */
int store_put(struct store *st, const uint8_t *name, size_t namelen,
    const uint8_t *val, size_t vallen, uint32_t ttl) WR_MUST;

/**
 * store_take(st, name, namelen, out, outcap, outlen):
 * Atomically read and delete the value under ${name} (${namelen} bytes):
 * of two takes, in any processes, at most one gets it.  Opens its seal
 * into ${out} (${outcap} bytes) and stores its length in ${outlen}.
 * Returns 0, 1 if absent (an expired value is deleted and counts as
 * absent), or -1: errno EBADMSG if the value fails to authenticate,
 * ENOBUFS if it is longer than ${outcap} (both leave it stored).  On
 * anything but 0, nothing is left in ${out}.
 */
int store_take(struct store *st, const uint8_t *name, size_t namelen,
    uint8_t *out, size_t outcap, size_t *outlen) WR_MUST;

/**
 * store_get(st, name, namelen, out, outcap, outlen):
 * As store_take, but the value stays in the store (an expired one is
 * still deleted).
 */
int store_get(struct store *st, const uint8_t *name, size_t namelen,
    uint8_t *out, size_t outcap, size_t *outlen) WR_MUST;

/**
 * store_del(st, name, namelen):
 * Delete the value under ${name} (${namelen} bytes), without opening it.
 * Returns 0, 1 if there was none, or -1.
 */
int store_del(struct store *st, const uint8_t *name, size_t namelen) WR_MUST;

/**
 * store_gc(st):
 * Drop expired entries, looking at about STORE_GC_BATCH of them (the
 * memory backend finishes the hash bucket it is in);
 * the next call goes on where this one stopped and wraps around, so
 * calling it every few seconds sweeps the whole store.  Values are not
 * opened (expiry is in the clear, and authenticated when a value is
 * read).  Returns the number of entries dropped, or -1.
 */
int store_gc(struct store *st) WR_MUST;

/**
 * store_errstr(err):
 * A short text for the errno value ${err} after a store call fails, for a
 * log line: "value failed to authenticate", "store full", ...
 */
const char *store_errstr(int err);

/**
 * store_free(st):
 * Close ${st} and wipe its key.  Stored values stay (in LMDB).  Does
 * nothing if ${st} is NULL.
 */
void store_free(struct store *st);

#endif
