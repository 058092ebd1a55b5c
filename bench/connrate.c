/*
 * connrate: new sessions per second and connect latency through a tunnel.
 * CONC threads each loop for SECONDS: open a TCP connection to
 * 127.0.0.1:PORT, write one byte ('e', bench/backend's echo mode), wait for
 * it to come back, close.  A session's latency runs from just before
 * connect() to the arrival of the echoed byte, so for a tunnel it covers
 * the local accept, the tunnel's own handshake, its connection to the
 * backend and one round trip of data.  A session that fails (refused,
 * reset, EOF, no echo within 5 s) counts as an error and is not timed.
 * Prints one line:
 *   sessions=N errors=E seconds=S rate=R p50_ms=A p90_ms=B p99_ms=C max_ms=D
 * Usage: connrate PORT SECONDS CONC
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

#include "session.h"

static struct sockaddr_in sin_dst = { .sin_family = AF_INET };
static double deadline;

struct worker {
	pthread_t tid;
	double *lat;            /* seconds, one per completed session */
	size_t n, cap;
	unsigned long errors;
	char lasterr[128];
};


/* One session; returns its latency, or -1 after noting the error. */
static double
session(struct worker *w)
{
	double l = echo_session(&sin_dst, w->lasterr, sizeof(w->lasterr));

	if (l < 0) {
		w->errors++;
		usleep(1000);           /* don't spin on a dead port */
	}
	return l;
}

static void *
run(void *arg)
{
	struct worker *w = arg;

	while (now() < deadline) {
		double l = session(w);
		if (l < 0)
			continue;
		if (w->n == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 4096;
			if ((w->lat = realloc(w->lat, w->cap * sizeof(double)))
			    == NULL) {
				perror("connrate: realloc");
				exit(1);
			}
		}
		w->lat[w->n++] = l;
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	struct worker *w;
	double *all, t0, secs;
	size_t n = 0;
	unsigned long errors = 0;
	int conc;

	if (argc != 4) {
		fprintf(stderr, "usage: connrate PORT SECONDS CONC\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sin_dst.sin_port = htons((uint16_t)atoi(argv[1]));
	sin_dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conc = atoi(argv[3]);
	if (conc < 1 || (w = calloc((size_t)conc, sizeof(*w))) == NULL)
		return 2;
	t0 = now();
	deadline = t0 + atof(argv[2]);
	for (int i = 0; i < conc; i++)
		if (pthread_create(&w[i].tid, NULL, run, &w[i])) {
			perror("connrate: pthread_create");
			return 1;
		}
	for (int i = 0; i < conc; i++) {
		pthread_join(w[i].tid, NULL);
		n += w[i].n;
		errors += w[i].errors;
	}
	secs = now() - t0;
	if ((all = malloc((n ? n : 1) * sizeof(double))) == NULL)
		return 1;
	n = 0;
	for (int i = 0; i < conc; i++) {
		memcpy(all + n, w[i].lat, w[i].n * sizeof(double));
		n += w[i].n;
	}
	qsort(all, n, sizeof(double), cmp);
	printf("sessions=%zu errors=%lu seconds=%.2f rate=%.1f p50_ms=%.3f "
	    "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", n, errors, secs,
	    n / secs, pct(all, n, 50) * 1e3, pct(all, n, 90) * 1e3,
	    pct(all, n, 99) * 1e3, n ? all[n - 1] * 1e3 : 0.0);
	for (int i = 0; i < conc; i++)
		if (w[i].errors) {
			fprintf(stderr, "connrate: last error: %s\n",
			    w[i].lasterr);
			break;
		}
	return n == 0;
}
