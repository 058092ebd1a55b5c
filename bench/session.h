/*
 * session.h: what the session benchmarks (connrate, flood's legitimate
 * load) share: a monotonic clock, one echo session against bench/backend
 * through a tunnel's local port, and latency percentiles.
 */
#ifndef BENCH_SESSION_H
#define BENCH_SESSION_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One session: connect to ${dst}, write 'e' (echo), read it back, close.
 * Returns the latency in seconds, or -1 with the reason in ${err}.
 */
static double
echo_session(const struct sockaddr_in *dst, char *err, size_t errlen)
{
	struct timeval tv = { 5, 0 };
	double t0 = now(), t1;
	char c = 'e';
	const char *what;
	ssize_t k;
	int fd, one = 1;

	errno = 0;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) {
		what = "socket";
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst))) {
		what = "connect";
		goto fail;
	}
	if (write(fd, &c, 1) != 1) {
		what = "write";
		goto fail;
	}
	errno = 0;
	do
		k = read(fd, &c, 1);
	while (k < 0 && errno == EINTR);
	if (k != 1) {
		what = k == 0 ? "read: EOF" : "read";
		goto fail;
	}
	t1 = now();
	close(fd);
	return t1 - t0;
fail:
	snprintf(err, errlen, "%s%s%s", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	if (fd >= 0)
		close(fd);
	return -1;
}

/* qsort order for latencies. */
static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The ${p}th percentile of the ${n} sorted latencies ${v}. */
static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100 * (double)n);
	return v[i < n ? i : n - 1];
}

#endif
