// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "window.h"

/* An arbitrary monotonic second, far from 0 so that now - 60 does not wrap. */
#define T 1000000

static void empty_sums_zero(void **state)
{
	struct rate_window w = { 0 };

	assert_int_equal(window_sum(&w, 0), 0);
	assert_int_equal(window_sum(&w, T), 0);
}

static void same_second_adds_up(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, 2);
	window_add(&w, T, 3);
	assert_int_equal(window_sum(&w, T), 5);
}

static void event_59_seconds_old_counts(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, 1);
	assert_int_equal(window_sum(&w, T + 59), 1);
}

static void event_60_seconds_old_expires(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, 1);
	assert_int_equal(window_sum(&w, T + 60), 0);
}

static void every_second_of_a_minute(void **state)
{
	struct rate_window w = { 0 };

	for (uint64_t s = T; s < T + WINDOW_S; s++)
		window_add(&w, s, 1);
	assert_int_equal(window_sum(&w, T + 59), 60);
	assert_int_equal(window_sum(&w, T + 60), 59);
	assert_int_equal(window_sum(&w, T + 118), 1);
	assert_int_equal(window_sum(&w, T + 119), 0);
}

/* Second T + 60 reuses the bucket of second T. */
static void bucket_reused_after_a_minute(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, 5);
	window_add(&w, T + 60, 1);
	assert_int_equal(window_sum(&w, T + 60), 1);
}

static void gap_longer_than_window(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, 4);
	window_add(&w, T + 30, 2);
	window_add(&w, T + 3600, 1);
	assert_int_equal(window_sum(&w, T + 3600), 1);
	assert_int_equal(window_sum(&w, T + 3659), 1);
	assert_int_equal(window_sum(&w, T + 3660), 0);
}

/* Events from other CPUs can arrive after a later second was counted. */
static void slightly_late_event_counts(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T + 10, 1);
	window_add(&w, T + 9, 1);
	assert_int_equal(window_sum(&w, T + 10), 2);
}

/* An event older than the second its bucket counts is already out of the window. */
static void stale_event_dropped(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T + 60, 1);
	window_add(&w, T, 7);
	assert_int_equal(window_sum(&w, T + 60), 1);
}

static void future_event_not_counted_yet(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T + 5, 1);
	assert_int_equal(window_sum(&w, T), 0);
	assert_int_equal(window_sum(&w, T + 5), 1);
}

static void start_of_clock(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, 0, 1);
	window_add(&w, 3, 1);
	assert_int_equal(window_sum(&w, 3), 2);
	assert_int_equal(window_sum(&w, 59), 2);
	assert_int_equal(window_sum(&w, 60), 1);
}

static void count_saturates(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, UINT32_MAX - 1);
	window_add(&w, T, 5);
	assert_int_equal(window_sum(&w, T), UINT32_MAX);
}

static void sum_exceeds_32_bits(void **state)
{
	struct rate_window w = { 0 };

	window_add(&w, T, UINT32_MAX);
	window_add(&w, T + 1, UINT32_MAX);
	assert_true(window_sum(&w, T + 1) == 2ull * UINT32_MAX);
}

static void merge_into_empty(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&src, T, 2);
	window_add(&src, T + 10, 3);
	window_merge(&dst, &src, T + 10);
	assert_int_equal(window_sum(&dst, T + 10), 5);
	assert_int_equal(window_sum(&dst, T + 60), 3);
	assert_int_equal(window_sum(&dst, T + 70), 0);
}

static void merge_same_second(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&dst, T, 1);
	window_add(&src, T, 2);
	window_merge(&dst, &src, T);
	assert_int_equal(window_sum(&dst, T), 3);
}

static void merge_different_seconds(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&dst, T + 20, 1);
	window_add(&src, T + 5, 2);
	window_merge(&dst, &src, T + 20);
	assert_int_equal(window_sum(&dst, T + 20), 3);
	assert_int_equal(window_sum(&dst, T + 65), 1);
}

static void merge_skips_expired_source(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&src, T, 9);
	window_merge(&dst, &src, T + 60);
	assert_int_equal(window_sum(&dst, T + 60), 0);
	assert_int_equal(window_sum(&dst, T + 59), 0);
}

/* dst's bucket counts second T + 60, the same bucket as src's expired second T. */
static void merge_keeps_newer_bucket(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&dst, T + 60, 1);
	window_add(&src, T, 9);
	window_merge(&dst, &src, T + 60);
	assert_int_equal(window_sum(&dst, T + 60), 1);
}

/* src's second T + 60 replaces dst's second T, which has left the window. */
static void merge_replaces_stale_bucket(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&dst, T, 9);
	window_add(&src, T + 60, 1);
	window_merge(&dst, &src, T + 60);
	assert_int_equal(window_sum(&dst, T + 60), 1);
}

static void merge_leaves_source(void **state)
{
	struct rate_window dst = { 0 }, src = { 0 };

	window_add(&src, T, 4);
	window_merge(&dst, &src, T);
	assert_int_equal(window_sum(&src, T), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_sums_zero),
		cmocka_unit_test(same_second_adds_up),
		cmocka_unit_test(event_59_seconds_old_counts),
		cmocka_unit_test(event_60_seconds_old_expires),
		cmocka_unit_test(every_second_of_a_minute),
		cmocka_unit_test(bucket_reused_after_a_minute),
		cmocka_unit_test(gap_longer_than_window),
		cmocka_unit_test(slightly_late_event_counts),
		cmocka_unit_test(stale_event_dropped),
		cmocka_unit_test(future_event_not_counted_yet),
		cmocka_unit_test(start_of_clock),
		cmocka_unit_test(count_saturates),
		cmocka_unit_test(sum_exceeds_32_bits),
		cmocka_unit_test(merge_into_empty),
		cmocka_unit_test(merge_same_second),
		cmocka_unit_test(merge_different_seconds),
		cmocka_unit_test(merge_skips_expired_source),
		cmocka_unit_test(merge_keeps_newer_bucket),
		cmocka_unit_test(merge_replaces_stale_bucket),
		cmocka_unit_test(merge_leaves_source),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
