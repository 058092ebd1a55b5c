/*
 * source: single-stream bulk throughput through a tunnel to bench/backend's
 * sink.  Connects to 127.0.0.1:PORT, sends 's', an 8-byte big-endian count
 * and MIB MiB of incompressible data, then waits for the sink to echo the
 * count back once it has received every byte.  The clock runs from just
 * before the first byte is written to the arrival of that confirmation.
 * Prints one line: "bytes=N seconds=S mibps=R".  Exits 1 on any error,
 * including no progress for TIMEOUT seconds (default 30).
 *
 * With -d (duplex) it sends 'd' instead of 's': the backend then sends MIB
 * MiB of its own downstream while it sinks the MIB MiB coming upstream, and
 * follows them with the count once it has both sent its own and received
 * every upstream byte.  A thread writes while the main thread reads, so both
 * directions run at once on one connection.  The clock runs from just
 * before the first byte is written to the arrival of the count, which
 * comes after both directions have completed; bytes= and mibps= are the
 * sum of both directions, up_s= is when the last upstream byte was written
 * (into the local socket) and down_s= when the last downstream byte arrived.
 * Usage: source [-d] PORT MIB [TIMEOUT]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

/* The duplex writer thread: what it writes and how it went. */
struct writer {
	int fd;
	const uint8_t *buf;
	uint64_t total, left;
	int err;                /* errno of a failed write, -1 for EOF */
	double t_done;          /* when the last byte was written */
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	while (w->left > 0) {
		size_t n = w->left < CHUNK ? (size_t)w->left : CHUNK;
		errno = 0;
		if (write_all(w->fd, w->buf, n)) {
			w->err = errno ? errno : -1;
			return NULL;
		}
		w->left -= n;
	}
	w->t_done = now();
	return NULL;
}

/*
 * Duplex: ${hdr} (already written) announced ${total}; write ${total} bytes
 * of ${buf} on a thread while reading ${total} bytes and the 8-byte count
 * here.  Prints the result line; returns 0, or 1 after saying what failed.
 */
static int
duplex(int fd, const uint8_t *buf, const uint8_t *hdr, uint64_t total,
    double t0)
{
	static uint8_t rbuf[CHUNK];
	struct writer w = { .fd = fd, .buf = buf, .total = total,
	    .left = total };
	uint8_t tail[8];
	uint64_t want = total + 8, got = 0;
	pthread_t th;
	double t_down = t0, t1;
	int err = 0;

	if ((err = pthread_create(&th, NULL, writer_main, &w)) != 0) {
		fprintf(stderr, "source: pthread_create: %s\n", strerror(err));
		return 1;
	}
	while (got < want) {
		ssize_t k = read(fd, rbuf, want - got < CHUNK ?
		    (size_t)(want - got) : CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			err = k < 0 ? errno : 0;
			break;
		}
		/* The count is the last 8 bytes; copy the part that is in k. */
		if (got + (uint64_t)k > total) {
			uint64_t from = got < total ? total - got : 0;
			memcpy(tail + (got + from - total), rbuf + from,
			    (size_t)((uint64_t)k - from));
		}
		got += (uint64_t)k;
		if (got >= total && t_down == t0)
			t_down = now();
	}
	t1 = now();
	if (got < want) {
		fprintf(stderr, "source: duplex read failed (%s) after %.1f s "
		    "(%llu of %llu bytes received, %llu of %llu sent)\n",
		    err ? strerror(err) : "EOF", t1 - t0,
		    (unsigned long long)(got < total ? got : total),
		    (unsigned long long)total,
		    (unsigned long long)(total - w.left),
		    (unsigned long long)total);
		return 1;
	}
	pthread_join(th, NULL);
	if (w.err != 0 || w.left != 0) {
		fprintf(stderr, "source: duplex write failed (%s)\n",
		    w.err > 0 ? strerror(w.err) : "EOF");
		return 1;
	}
	if (memcmp(tail, hdr + 1, 8) != 0) {
		fprintf(stderr, "source: the backend confirmed a different "
		    "count\n");
		return 1;
	}
	printf("bytes=%llu seconds=%.3f mibps=%.1f up_s=%.3f down_s=%.3f\n",
	    (unsigned long long)(2 * total), t1 - t0,
	    2 * total / 1048576.0 / (t1 - t0), w.t_done - t0, t_down - t0);
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
	int fd, err, dx = 0;

	if (argc > 1 && strcmp(argv[1], "-d") == 0) {
		dx = 1;
		argc--;
		argv++;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: source [-d] PORT MIB [TIMEOUT]\n");
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
	hdr[0] = dx ? 'd' : 's';
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (uint8_t)(total >> (56 - 8 * i));
	t0 = now();
	if (write_all(fd, hdr, sizeof(hdr)))
		goto fail;
	if (dx) {
		err = duplex(fd, buf, hdr, total, t0);
		close(fd);
		return err;
	}
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
