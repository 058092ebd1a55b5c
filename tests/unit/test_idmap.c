/*
 * test_idmap: the table of random 16-byte ids (src/idmap.c): put, get and
 * delete through growth, several values under one id, ids that share a
 * bucket, and deleting what is not there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "idmap.h"

#define N 5000

static uint8_t ids[N][IDMAP_IDLEN];
static int vals[N];

/* Many ids: all found through the table's growth, then deleted. */
static void
test_many(void **state)
{
	struct idmap *m = idmap_new();
	uint8_t other[IDMAP_IDLEN];

	assert_non_null(m);
	assert_int_equal(crypto_random(&ids[0][0], sizeof(ids)), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(idmap_put(m, ids[i], &vals[i]), 0);
		if (i % 997 == 0)   /* what is in stays in as it grows */
			for (int j = 0; j <= i; j++)
				assert_ptr_equal(idmap_get(m, ids[j]),
				    &vals[j]);
	}
	assert_int_equal(idmap_count(m), N);
	memcpy(other, ids[0], sizeof(other));
	other[IDMAP_IDLEN - 1] ^= 1;        /* same bucket, other id */
	assert_null(idmap_get(m, other));
	idmap_del(m, other, &vals[0]);      /* not there: nothing */
	idmap_del(m, ids[1], &vals[0]);     /* another's value: nothing */
	assert_int_equal(idmap_count(m), N);
	for (int i = 0; i < N; i += 2)
		idmap_del(m, ids[i], &vals[i]);
	assert_int_equal(idmap_count(m), N / 2);
	for (int i = 0; i < N; i++)
		if (i % 2)
			assert_ptr_equal(idmap_get(m, ids[i]), &vals[i]);
		else
			assert_null(idmap_get(m, ids[i]));
	idmap_free(m);
}

/* One id mapped twice: the newest wins until it goes. */
static void
test_same_id(void **state)
{
	struct idmap *m = idmap_new();
	uint8_t id[IDMAP_IDLEN] = { 7 };
	int a, b;

	assert_non_null(m);
	assert_int_equal(idmap_put(m, id, &a), 0);
	assert_int_equal(idmap_put(m, id, &b), 0);
	assert_ptr_equal(idmap_get(m, id), &b);
	idmap_del(m, id, &b);
	assert_ptr_equal(idmap_get(m, id), &a);
	idmap_del(m, id, &a);
	assert_null(idmap_get(m, id));
	assert_int_equal(idmap_count(m), 0);
	idmap_free(m);
	idmap_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_same_id),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
