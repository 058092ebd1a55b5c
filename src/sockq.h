/*
 * sockq: what the kernel knows about a connected TCP socket's two byte
 * streams, so that a process that inherits the socket can tell how far
 * each stream went (warrend(8): a new worker adopting a backend).  Linux
 * only.
 */
#ifndef WARREN_SOCKQ_H
#define WARREN_SOCKQ_H

#include <stdint.h>

struct sockq {
	uint64_t written;    /* bytes ever written to the socket, by anyone */
	uint64_t consumed;   /* bytes ever read (not peeked) from it */
	uint64_t unread;     /* bytes received and not yet consumed */
	int fin_sent;        /* our side was shut down for writing */
	int fin_received;    /* the peer's FIN has arrived */
	int reset;           /* closed by an error (a reset) not yet read */
};

/**
 * sockq_get(fd, q):
 * Fill ${q} for the connected TCP socket ${fd}: from TCP_INFO
 * (tcpi_bytes_acked counts the SYN and a FIN, tcpi_bytes_received a FIN),
 * SIOCOUTQ (bytes written and not acknowledged, a FIN included) and
 * SIOCINQ, read until they agree (acknowledgements and data may arrive
 * meanwhile).  Nobody may write to or read from ${fd} meanwhile.
 * ${fd} must be the end that connected (connect(2)), as warrend's backend
 * sockets are: an accepted socket's tcpi_bytes_acked counts no SYN, so
 * its written would come out one short (and before it has written a byte,
 * the call fails with EPROTO).  A socket closed by a reset whose error
 * nobody has read yet (SO_ERROR) sets ${reset} and reads (so clears)
 * that error; it counts no FIN then, so written and consumed are one
 * too many if a FIN did go out or come in before the reset.  A reset
 * whose error was read before cannot be told from an orderly close.
 * Returns 0, or -1 with errno set.
 */
int sockq_get(int fd, struct sockq *q);

#endif
