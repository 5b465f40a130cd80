// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "path_set.h"

static void add_then_remove(void **state)
{
	struct path_set *set = path_set_new(4);

	assert_non_null(set);
	assert_true(path_set_add(set, "/tmp/a.sock"));
	assert_int_equal(path_set_count(set), 1);
	assert_true(path_set_remove(set, "/tmp/a.sock"));
	assert_int_equal(path_set_count(set), 0);
	assert_false(path_set_remove(set, "/tmp/a.sock"));
	path_set_free(set);
}

static void add_twice_keeps_one(void **state)
{
	struct path_set *set = path_set_new(4);

	assert_true(path_set_add(set, "/tmp/fifo"));
	assert_true(path_set_add(set, "/tmp/fifo"));
	assert_int_equal(path_set_count(set), 1);
	assert_true(path_set_remove(set, "/tmp/fifo"));
	assert_false(path_set_remove(set, "/tmp/fifo"));
	path_set_free(set);
}

static void unknown_path_not_removed(void **state)
{
	struct path_set *set = path_set_new(4);

	assert_true(path_set_add(set, "/tmp/a"));
	assert_false(path_set_remove(set, "/tmp/b"));
	assert_false(path_set_remove(set, "/tmp/a/"));
	assert_int_equal(path_set_count(set), 1);
	path_set_free(set);
}

static void full_set_evicts_oldest(void **state)
{
	struct path_set *set = path_set_new(3);

	assert_true(path_set_add(set, "/1"));
	assert_true(path_set_add(set, "/2"));
	assert_true(path_set_add(set, "/3"));
	assert_true(path_set_add(set, "/4"));
	assert_int_equal(path_set_count(set), 3);
	assert_false(path_set_remove(set, "/1"));
	assert_true(path_set_remove(set, "/2"));
	assert_true(path_set_remove(set, "/3"));
	assert_true(path_set_remove(set, "/4"));
	path_set_free(set);
}

/* A removed path frees its place, so only insertions older than max_paths are evicted. */
static void removed_entries_leave_room(void **state)
{
	struct path_set *set = path_set_new(2);

	assert_true(path_set_add(set, "/1"));
	assert_true(path_set_remove(set, "/1"));
	assert_true(path_set_add(set, "/2"));
	assert_true(path_set_add(set, "/3"));
	assert_int_equal(path_set_count(set), 2);
	assert_true(path_set_remove(set, "/2"));
	assert_true(path_set_remove(set, "/3"));
	path_set_free(set);
}

static void many_paths_share_buckets(void **state)
{
	struct path_set *set = path_set_new(5000);
	char path[32];

	for (int i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/run/s%d.sock", i);
		assert_true(path_set_add(set, path));
	}
	assert_int_equal(path_set_count(set), 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "/run/s%d.sock", i);
		assert_true(path_set_remove(set, path));
	}
	assert_int_equal(path_set_count(set), 0);
	path_set_free(set);
}

static void free_accepts_null(void **state)
{
	path_set_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_then_remove),
		cmocka_unit_test(add_twice_keeps_one),
		cmocka_unit_test(unknown_path_not_removed),
		cmocka_unit_test(full_set_evicts_oldest),
		cmocka_unit_test(removed_entries_leave_room),
		cmocka_unit_test(many_paths_share_buckets),
		cmocka_unit_test(free_accepts_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
