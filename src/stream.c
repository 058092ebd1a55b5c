/*
 * stream: kept plaintext of one direction, until the peer delivers it.
 */
#include <errno.h>
#include <stdlib.h>

#include "stream.h"

#define POOL_MAX 32   /* spare blocks kept for the whole process */

struct stream_block {
	struct stream_block *next;
	uint64_t off;     /* stream offset of data[0] */
	size_t len;       /* bytes used */
	uint8_t data[STREAM_BLOCK];
};

/*
 * Spare blocks, so a busy stream does not call malloc per read and an idle
 * one holds none.  The event loop is single-threaded.
 */
static struct stream_block *pool[POOL_MAX];
static size_t npool;

/* A block from the pool or malloc, or NULL. */
static struct stream_block *
block_get(void)
{
	return (npool > 0 ? pool[--npool] : malloc(sizeof(struct stream_block)));
}

/* Give ${b} back to the pool (or free it). */
static void
block_put(struct stream_block *b)
{
	if (npool < POOL_MAX)
		pool[npool++] = b;
	else
		free(b);
}

void
stream_out_init(struct stream_out *s, uint64_t start)
{
	s->head = s->tail = NULL;
	s->acked = s->sent = s->end = start;
	s->window = 0;
}

uint64_t
stream_out_room(const struct stream_out *s)
{
	uint64_t kept = s->end - s->acked;

	return (kept < s->window ? s->window - kept : 0);
}

uint8_t *
stream_out_buf(struct stream_out *s, size_t *len)
{
	struct stream_block *b = s->tail;
	uint64_t room = stream_out_room(s);
	size_t n;

	*len = 0;
	if (room == 0) {
		errno = ENOMEM;
		return (NULL);
	}
	if (b == NULL || STREAM_BLOCK - b->len < STREAM_MIN_READ) {
		if ((b = block_get()) == NULL)
			return (NULL);
		b->next = NULL;
		b->off = s->end;
		b->len = 0;
		if (s->tail != NULL)
			s->tail->next = b;
		else
			s->head = b;
		s->tail = b;
	}
	n = STREAM_BLOCK - b->len;
	*len = room < n ? (size_t)room : n;
	return (b->data + b->len);
}

void
stream_out_wrote(struct stream_out *s, size_t n)
{
	s->tail->len += n;
	s->end += n;
}

const uint8_t *
stream_out_next(const struct stream_out *s, size_t *len)
{
	struct stream_block *b;
	size_t at;

	*len = 0;
	if (s->sent == s->end)
		return (NULL);
	for (b = s->head; b->off + b->len <= s->sent; b = b->next)
		;
	at = (size_t)(s->sent - b->off);
	*len = b->len - at;
	if (*len > WIRE_REC_MAXDATA)
		*len = WIRE_REC_MAXDATA;
	return (b->data + at);
}

void
stream_out_sent(struct stream_out *s, size_t n)
{
	s->sent += n;
}

int
stream_out_ack(struct stream_out *s, uint64_t ack)
{
	struct stream_block *b;

	if (ack < s->acked || ack > s->sent)
		return (-1);
	s->acked = ack;
	/* Free whole blocks below the ack: an idle stream holds none. */
	while ((b = s->head) != NULL && b->off + b->len <= ack) {
		if ((s->head = b->next) == NULL)
			s->tail = NULL;
		block_put(b);
	}
	return (0);
}

int
stream_out_rewind(struct stream_out *s, uint64_t received)
{
	if (received < s->acked || received > s->end)
		return (-1);
	s->sent = received;
	return (0);
}

void
stream_out_free(struct stream_out *s)
{
	struct stream_block *b;

	while ((b = s->head) != NULL) {
		s->head = b->next;
		block_put(b);
	}
	s->tail = NULL;
	s->acked = s->sent = s->end;
}
