#ifndef IDMAP_H
#define IDMAP_H
/*
 * idmap: a table from random 16-byte ids to pointers, for warrend's live
 * sessions by resume id (PROTOCOL.md 14), so that a RESUME finds its
 * session in constant time whatever the number of sessions, before any
 * cryptography (a scan of every session per datagram would let anyone
 * who knows the node's public key make each RESUME cost O(sessions)).
 *
 * The ids are PRF outputs (resume_id), so their first bytes are the hash:
 * a sender can pick which bucket it looks in but cannot add entries, so
 * the chains stay as long as chance makes them.  Lookups compare in
 * constant time.  The table doubles as it fills.
 */
#include <stdint.h>

#define IDMAP_IDLEN 16

struct idmap;

/**
 * idmap_new():
 * Return an empty table, or NULL if out of memory.
 */
struct idmap *idmap_new(void);

/**
 * idmap_put(m, id, val):
 * Map ${id} (IDMAP_IDLEN bytes) to ${val} (not NULL) in ${m}, alongside any
 * other mapping of ${id}.  Returns 0, or -1 if out of memory (${m}
 * unchanged).
 */
int idmap_put(struct idmap *m, const uint8_t id[IDMAP_IDLEN], void *val);

/**
 * idmap_get(m, id):
 * Return the value of the newest mapping of ${id} in ${m}, or NULL.
 */
void *idmap_get(const struct idmap *m, const uint8_t id[IDMAP_IDLEN]);

/**
 * idmap_del(m, id, val):
 * Remove the mapping of ${id} to ${val} from ${m}, if there is one.
 */
void idmap_del(struct idmap *m, const uint8_t id[IDMAP_IDLEN],
    const void *val);

/**
 * idmap_count(m):
 * Return the number of mappings in ${m}.
 */
size_t idmap_count(const struct idmap *m);

/**
 * idmap_free(m):
 * Free ${m} (not the values).  idmap_free(NULL) does nothing.
 */
void idmap_free(struct idmap *m);

#endif /* !IDMAP_H */
