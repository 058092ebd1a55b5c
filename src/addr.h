/*
 * addr: socket addresses as people write them ("127.0.0.1:7400",
 * "[::1]:7400", "localhost:22", ":7400") and as logs print them.
 */
#ifndef WARREN_ADDR_H
#define WARREN_ADDR_H

#include <sys/socket.h>

#define ADDR_STRLEN 64   /* "[" INET6_ADDRSTRLEN "]:65535" fits */

/**
 * addr_parse(s, ss, len):
 * Parse "HOST:PORT", "[V6ADDR]:PORT" or ":PORT" (the IPv4 wildcard) into
 * ${ss} and ${len}.  HOST may be a name, resolved now (first result).
 * PORT is required and must be 1..65535 (0 is allowed only for ":0" style
 * wildcards when ${allow_port0} is set).  Returns 0, or -1 on any error,
 * reporting nothing; the caller says where the text came from.
 */
int addr_parse(const char *s, int allow_port0, struct sockaddr_storage *ss,
    socklen_t *len);

/**
 * addr_syntax(s, allow_port0):
 * Check that ${s} is written as addr_parse wants (numeric host, or a name
 * that is a valid DNS name; a port in range) without resolving anything.
 * Returns 0 or -1.  For addresses kept as text and resolved when used.
 */
int addr_syntax(const char *s, int allow_port0);

/**
 * addr_set_resolve(on):
 * With ${on} zero, addr_parse accepts only numeric hosts and never asks
 * the resolver (fuzzers, offline tests).  On by default.
 */
void addr_set_resolve(int on);

/**
 * addr_str(sa, buf):
 * Format ${sa} (AF_INET or AF_INET6) as "1.2.3.4:5" or "[::1]:5" into
 * ${buf} of ADDR_STRLEN bytes and return ${buf}.  An IPv4-mapped IPv6
 * address is printed in its IPv4 form, so that logs name one client one
 * way (fail2ban).  IPv6 scope ids are not printed.  Other families: "-".
 */
const char *addr_str(const struct sockaddr *sa, char buf[ADDR_STRLEN]);

/**
 * addr_port(sa):
 * Return the port of ${sa} in host byte order.
 */
int addr_port(const struct sockaddr *sa);

/**
 * addr_set_port(sa, port):
 * Set the port of ${sa}.
 */
void addr_set_port(struct sockaddr *sa, int port);

/**
 * addr_same_host(a, b):
 * Return 1 if ${a} and ${b} have the same family and IP address (ports
 * are ignored).  An IPv4-mapped IPv6 address equals its IPv4 form.  IPv6
 * scope ids are ignored.
 */
int addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
