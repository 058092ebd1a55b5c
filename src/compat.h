/*
 * compat: the few socket calls that Linux does its own way, each with a
 * POSIX fallback, so that the client agent (bin/warren) and the library
 * code it links build on macOS and the BSDs too (README, "Portability").
 * Everything else that the agent uses is POSIX.1-2008, libuv or OpenSSL.
 *
 * Server-only Linux calls (socket filters, byte counts from TCP_INFO and
 * SIOCINQ in sockq,
 * the keeper's fd passing) are not here: they stay in files that only
 * warrend links (grant_filter.c, sockq.c, cmd/warrend/).
 */
#ifndef WARREN_COMPAT_H
#define WARREN_COMPAT_H

/**
 * compat_socket(domain, type, protocol):
 * As socket(2), but the descriptor is close-on-exec (SOCK_CLOEXEC where the
 * system has it, else fcntl).  Returns the descriptor, or -1 with errno
 * set.
 */
int compat_socket(int domain, int type, int protocol);

/**
 * compat_socketpair(domain, type, protocol, sv):
 * As socketpair(2), but both descriptors are close-on-exec (SOCK_CLOEXEC
 * where the system has it, else fcntl; macOS lacks it).  Returns 0, or -1
 * with errno set and ${sv} untouched.
 */
int compat_socketpair(int domain, int type, int protocol, int sv[2]);

/**
 * compat_bind_no_port(fd):
 * Ask that a bind(2) of socket ${fd} to port 0 leave the choice of the
 * port to connect(2) (Linux's IP_BIND_ADDRESS_NO_PORT, which saves a
 * search of the ephemeral range).  Elsewhere it does nothing.  Best
 * effort: returns nothing.
 */
void compat_bind_no_port(int fd);

/**
 * compat_peek_off(fd, off):
 * Make recv(2) with MSG_PEEK on socket ${fd} start at ${off} bytes past
 * the first unread byte and move on by what it peeked (Linux's
 * SO_PEEK_OFF).  Returns 0, or -1 with errno set (ENOPROTOOPT where the
 * system has no such option).
 */
int compat_peek_off(int fd, int off);

/**
 * compat_rcvbuf(fd, size):
 * Set the receive buffer of socket ${fd} to ${size} bytes, past the
 * system's limit where this process may (Linux's SO_RCVBUFFORCE, with
 * CAP_NET_ADMIN), else within it (SO_RCVBUF).  Returns 1 if the size was
 * forced, 0 if only SO_RCVBUF took, -1 (errno set) if neither did.
 */
int compat_rcvbuf(int fd, int size);

/**
 * compat_eof_reset(fd, shut):
 * A read from the connected TCP socket ${fd} has just returned end of
 * file.  Return 0 if the peer ended its stream in order (its FIN), or -1
 * with errno set (ECONNRESET for a reset) if the connection was reset or
 * failed instead: a read that would have returned that error may never
 * have been made (libuv reports end of file without one when the kernel
 * says POLLHUP after a short read), so the socket's pending error is
 * taken here (SO_ERROR).  Where the system reports TCP states (Linux's
 * TCP_INFO), a socket that the peer half-closed in order is left alone,
 * and one that is closed although it never sent its own FIN (${shut} is
 * 0: the caller did not shut down its writing) counts as reset even if
 * another call took the error.
 */
int compat_eof_reset(int fd, int shut);

#endif
