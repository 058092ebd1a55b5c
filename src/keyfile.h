/*
 * keyfile: 32-byte keys stored as one line of base64, WireGuard style.
 * Secret key files must belong to the user who reads them (or root) and
 * must not be readable or writable by group or others, as ssh insists.
 */
#ifndef WARREN_KEYFILE_H
#define WARREN_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

/**
 * keyfile_read(path, key, secret, err, errlen):
 * Read the base64 key in file ${path} into ${key}.  If ${secret}, refuse a
 * file owned by anyone but the effective user or root, and one whose mode
 * grants any access to group or others.  On failure write a one-line
 * reason to ${err} (it names ${path} only in the fix it suggests) and
 * return -1.
 */
int keyfile_read(const char *path, uint8_t key[32], int secret, char *err,
    size_t errlen) WR_MUST;

/**
 * keyfile_parse(text, key):
 * Decode one base64 key (surrounding whitespace allowed) into ${key}.
 */
int keyfile_parse(const char *text, uint8_t key[32]) WR_MUST;

#endif
