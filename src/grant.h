/*
 * grant: the one-shot carrier port.  Both ends map (decoy, window, client
 * address) to a port in the node's grant range with a PRF keyed by the
 * handshake (see handshake.h), and the node opens a listener on it that
 * only the client's address can reach.
 */
#ifndef WARREN_GRANT_H
#define WARREN_GRANT_H

#include <stdint.h>
#include <sys/socket.h>

#include "crypto.h"

#define GRANT_WINDOW_SECONDS 60   /* window = Unix time / this */

/**
 * grant_port(key, decoy, window, addr, lo, hi):
 * Return lo + (first 8 bytes, big-endian, of HMAC-SHA256(${key},
 * "warren port" || decoy u32 || window u32 || addr[16])) mod (hi - lo + 1),
 * or -1 on failure.  ${addr} is the client IP as the node sees it, IPv4 as
 * ::ffff:a.b.c.d.
 */
int grant_port(const uint8_t key[32], uint32_t decoy, uint32_t window,
    const uint8_t addr[16], int lo, int hi);

/**
 * grant_addr16(sa, out):
 * Write the IP of ${sa} (AF_INET or AF_INET6) as 16 bytes, IPv4 mapped.
 */
void grant_addr16(const struct sockaddr *sa, uint8_t out[16]);

/**
 * grant_filter(fd, client):  (grant_filter.c, warrend only)
 * Attach a socket filter to listening TCP socket ${fd} that drops every
 * packet whose source IP is not that of ${client}, so that nobody else even
 * sees a SYN-ACK.  Returns 0 or -1 (errno set).
 */
int grant_filter(int fd, const struct sockaddr *client) WR_MUST;

#endif
