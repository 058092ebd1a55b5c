/*
 * source: single-stream bulk throughput through a tunnel to bench/backend's
 * sink.  Connects to 127.0.0.1:PORT, sends 's', an 8-byte big-endian count
 * and MIB MiB of incompressible data, then waits for the sink to echo the
 * count back once it has received every byte.  The clock runs from just
 * before the first byte is written to the arrival of that confirmation.
 * Prints one line: "bytes=N seconds=S mibps=R".  Exits 1 on any error,
 * including no progress for TIMEOUT seconds (default 30).
 * Usage: source PORT MIB [TIMEOUT]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { 30, 0 };
	static uint8_t buf[CHUNK];
	uint8_t hdr[9], ack[8];
	uint64_t total, left = 0, x = 0x9e3779b97f4a7c15ULL;
	size_t got = 0;
	double t0, t1;
	int fd, err;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: source PORT MIB [TIMEOUT]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4)
		tv.tv_sec = atoi(argv[3]);
	total = (uint64_t)strtoull(argv[2], NULL, 10) << 20;
	/* xorshift64: incompressible, so no tunnel gains from compression. */
	for (size_t i = 0; i < sizeof(buf); i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin))) {
		perror("source: connect");
		return 1;
	}
	hdr[0] = 's';
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(total >> (56 - 8 * i));
	t0 = now();
	if (write_all(fd, hdr, sizeof(hdr)))
		goto fail;
	for (left = total; left > 0;) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		if (write_all(fd, buf, n))
			goto fail;
		left -= n;
	}
	errno = 0;
	while (got < sizeof(ack)) {
		ssize_t k = read(fd, ack + got, sizeof(ack) - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		got += (size_t)k;
	}
	t1 = now();
	if (memcmp(ack, hdr + 1, 8) != 0) {
		fprintf(stderr, "source: the sink confirmed a different count\n");
		return 1;
	}
	printf("bytes=%llu seconds=%.3f mibps=%.1f\n", (unsigned long long)total,
	    t1 - t0, total / 1048576.0 / (t1 - t0));
	close(fd);
	return 0;
fail:
	err = errno;
	fprintf(stderr, "source: %s (%s) after %.1f s (%llu of %llu bytes "
	    "sent)\n", left == 0 ? "no confirmation from the sink" :
	    "write failed", err ? strerror(err) : "EOF", now() - t0, (unsigned long long)(total - left),
	    (unsigned long long)total);
	return 1;
}
