/*
 * Unit tests for stream.c: the sender's kept bytes, offsets and window,
 * and what a new carrier sends again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stream.h"

/* Read ${n} bytes of the pattern (offset & 0xff) into ${s}. */
static void
feed(struct stream_out *s, size_t n)
{
	while (n > 0) {
		size_t len, k;
		uint8_t *p = stream_out_buf(s, &len);

		assert_non_null(p);
		k = len < n ? len : n;
		for (size_t i = 0; i < k; i++)
			p[i] = (uint8_t)(s->end + i);
		stream_out_wrote(s, k);
		n -= k;
	}
}

/* Send everything pending; check the bytes are the pattern, in order. */
static uint64_t
drain(struct stream_out *s)
{
	const uint8_t *p;
	size_t len;
	uint64_t total = 0;

	while ((p = stream_out_next(s, &len)) != NULL) {
		assert_true(len > 0 && len <= WIRE_REC_MAXDATA);
		for (size_t i = 0; i < len; i++)
			assert_int_equal(p[i], (uint8_t)(s->sent + i));
		stream_out_sent(s, len);
		total += len;
	}
	assert_int_equal(len, 0);
	return total;
}

static void
test_window(void **state)
{
	struct stream_out s;
	size_t len;

	stream_out_init(&s, 0);
	/* No window yet (before the peer's HELLO): no room. */
	assert_int_equal(stream_out_room(&s), 0);
	assert_null(stream_out_buf(&s, &len));
	assert_int_equal(len, 0);
	s.window = 3 * STREAM_BLOCK / 2;
	assert_int_equal(stream_out_room(&s), 3 * STREAM_BLOCK / 2);
	/* A read never gets more than the room. */
	feed(&s, STREAM_BLOCK);
	assert_non_null(stream_out_buf(&s, &len));
	assert_int_equal(len, STREAM_BLOCK / 2);
	feed(&s, STREAM_BLOCK / 2);
	assert_int_equal(stream_out_room(&s), 0);
	assert_null(stream_out_buf(&s, &len));
	/* Sending does not free room; only the peer's ack does. */
	assert_int_equal(drain(&s), 3 * STREAM_BLOCK / 2);
	assert_int_equal(stream_out_room(&s), 0);
	assert_int_equal(stream_out_ack(&s, 1000), 0);
	assert_int_equal(stream_out_room(&s), 1000);
	stream_out_free(&s);
}

static void
test_ack_range(void **state)
{
	struct stream_out s;

	stream_out_init(&s, 5000);
	s.window = 1 << 20;
	feed(&s, 3000);
	/* Nothing sent yet: any ack past 5000 is out of range. */
	assert_int_equal(stream_out_ack(&s, 5001), -1);
	assert_int_equal(drain(&s), 3000);
	assert_int_equal(stream_out_ack(&s, 8001), -1);
	assert_int_equal(stream_out_ack(&s, 7000), 0);
	/* Acks never go back. */
	assert_int_equal(stream_out_ack(&s, 6999), -1);
	assert_int_equal(stream_out_ack(&s, 7000), 0);
	assert_int_equal(stream_out_ack(&s, 8000), 0);
	assert_true(s.acked == 8000 && s.sent == 8000 && s.end == 8000);
	stream_out_free(&s);
}

/* Records stay within one block and never exceed WIRE_REC_MAXDATA. */
static void
test_blocks(void **state)
{
	struct stream_out s;
	size_t len;
	const uint8_t *p;

	stream_out_init(&s, 0);
	s.window = 8 * STREAM_BLOCK;
	/* Small reads share a block. */
	feed(&s, 100);
	feed(&s, 200);
	p = stream_out_next(&s, &len);
	assert_non_null(p);
	assert_int_equal(len, 300);
	/* Fill the block to less than STREAM_MIN_READ free: a new block. */
	feed(&s, STREAM_BLOCK - 300 - STREAM_MIN_READ + 1);
	assert_non_null(stream_out_buf(&s, &len));
	assert_int_equal(len, STREAM_BLOCK);
	feed(&s, 10);
	p = stream_out_next(&s, &len);
	assert_int_equal(len, STREAM_BLOCK - STREAM_MIN_READ + 1);
	stream_out_sent(&s, len);
	p = stream_out_next(&s, &len);
	assert_int_equal(len, 10);
	assert_int_equal(p[0], (uint8_t)s.sent);
	stream_out_sent(&s, len);
	assert_null(stream_out_next(&s, &len));
	stream_out_free(&s);
}

/*
 * A new carrier: the peer says what it has received; sending starts again
 * there, within what is kept, at every boundary.
 */
static void
test_rewind(void **state)
{
	static const struct {
		uint64_t acked, received;
		int ok;
	} cases[] = {
		{ 0, 0, 1 },                               /* nothing arrived */
		{ 0, 1, 1 },
		{ 0, STREAM_BLOCK, 1 },                    /* a block's end */
		{ STREAM_BLOCK, STREAM_BLOCK + 1, 1 },     /* after a block freed */
		{ STREAM_BLOCK, 2 * STREAM_BLOCK, 1 },     /* window full, all sent */
		{ 2 * STREAM_BLOCK, 2 * STREAM_BLOCK, 1 }, /* all delivered */
		{ 1000, 999, 0 },                          /* below the ack */
		{ 0, 2 * STREAM_BLOCK + 1, 0 },            /* beyond what exists */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stream_out s;
		uint64_t before;

		stream_out_init(&s, 0);
		s.window = 2 * STREAM_BLOCK;
		feed(&s, 2 * STREAM_BLOCK);
		assert_int_equal(drain(&s), 2 * STREAM_BLOCK);
		assert_int_equal(stream_out_ack(&s, cases[i].acked), 0);
		before = s.sent;
		if (!cases[i].ok) {
			assert_int_equal(stream_out_rewind(&s,
			    cases[i].received), -1);
			assert_true(s.sent == before);
			stream_out_free(&s);
			continue;
		}
		assert_int_equal(stream_out_rewind(&s, cases[i].received), 0);
		/* Exactly the bytes the peer lacks, in order, once. */
		assert_int_equal(drain(&s), 2 * STREAM_BLOCK - cases[i].received);
		assert_true(s.sent == s.end);
		stream_out_free(&s);
	}
}

/* A rewind while the plain side keeps adding: the new bytes follow. */
static void
test_rewind_then_more(void **state)
{
	struct stream_out s;

	stream_out_init(&s, 0);
	s.window = 4 * STREAM_BLOCK;
	feed(&s, 700000);
	assert_int_equal(drain(&s), 700000);
	assert_int_equal(stream_out_ack(&s, 100000), 0);
	feed(&s, 5);      /* read while the carrier is down */
	assert_int_equal(stream_out_rewind(&s, 600000), 0);
	feed(&s, 5);
	assert_int_equal(drain(&s), 100010);
	assert_int_equal(stream_out_ack(&s, 700010), 0);
	assert_true(s.head == NULL && s.tail == NULL);
	stream_out_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_ack_range),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_rewind_then_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
