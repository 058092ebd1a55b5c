/*
 * sockq: stream offsets of a TCP socket, from the kernel.  This file
 * includes <linux/tcp.h> (for tcpi_bytes_acked), which clashes with
 * <netinet/tcp.h> that libuv's header pulls in: so it is apart.
 */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "sockq.h"

/* TCP states, as the kernel numbers them (include/net/tcp_states.h). */
enum { ST_FIN_WAIT1 = 4, ST_FIN_WAIT2 = 5, ST_TIME_WAIT = 6, ST_CLOSE = 7,
    ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11 };

/* TCP_INFO of ${fd} into ${ti}; -1 if it fails or lacks the byte counts. */
static int
info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0)
		return -1;
	if (len < offsetof(struct tcp_info, tcpi_bytes_received) +
	    sizeof(ti->tcpi_bytes_received)) {
		errno = ENOSYS;
		return -1;
	}
	return 0;
}

int
sockq_get(int fd, struct sockq *q)
{
	struct tcp_info ti, again;
	int inq = 0, outq = 0, st, fin_acked, tries = 0;

	/*
	 * The counters and the queues are read by separate calls while
	 * acknowledgements and data keep arriving: read TCP_INFO again after
	 * the queues, until nothing moved in between (then acked + outq and
	 * received - inq are exact, as nobody writes or reads the socket).
	 */
	if (info(fd, &ti))
		return -1;
	for (;;) {
		if (ioctl(fd, SIOCINQ, &inq) < 0 ||
		    ioctl(fd, SIOCOUTQ, &outq) < 0 || info(fd, &again))
			return -1;
		if (again.tcpi_bytes_acked == ti.tcpi_bytes_acked &&
		    again.tcpi_bytes_received == ti.tcpi_bytes_received &&
		    again.tcpi_state == ti.tcpi_state)
			break;
		ti = again;
		if (++tries == 1000) {
			errno = EAGAIN;
			return -1;
		}
	}
	st = ti.tcpi_state;
	/*
	 * A socket that still has its descriptor goes from LAST_ACK (or
	 * FIN_WAIT2 with the peer's FIN) to CLOSE, not TIME_WAIT: both FINs
	 * were exchanged (seen: a 100 MiB echo whose ends had both closed
	 * counted one byte too many after a worker kill).  A CLOSE after a
	 * reset has its error pending, unless somebody read it.
	 */
	q->fin_sent = st == ST_FIN_WAIT1 || st == ST_FIN_WAIT2 ||
	    st == ST_TIME_WAIT || st == ST_LAST_ACK || st == ST_CLOSING ||
	    st == ST_CLOSE;
	q->fin_received = st == ST_CLOSE_WAIT || st == ST_LAST_ACK ||
	    st == ST_CLOSING || st == ST_TIME_WAIT || st == ST_CLOSE;
	q->reset = 0;
	if (st == ST_CLOSE) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			return -1;
		/* Most resets come after no FIN either way: count none. */
		if (err != 0) {
			q->reset = 1;
			q->fin_sent = q->fin_received = 0;
		}
	}
	/* acked + outq counts the SYN, and the FIN once it is sent. */
	fin_acked = q->fin_sent;
	if (ti.tcpi_bytes_acked + (uint64_t)outq < 1u + (unsigned)fin_acked ||
	    ti.tcpi_bytes_received < (uint64_t)inq + (unsigned)q->fin_received) {
		errno = EPROTO;
		return -1;
	}
	q->written = ti.tcpi_bytes_acked + (uint64_t)outq - 1 - (unsigned)fin_acked;
	q->consumed = ti.tcpi_bytes_received - (uint64_t)inq -
	    (unsigned)q->fin_received;
	q->unread = (uint64_t)inq;
	return 0;
}
