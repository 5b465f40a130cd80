// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "utf8.h"

static void ascii_is_one_byte(void **state)
{
	assert_int_equal(utf8_char_len("a"), 1);
	assert_int_equal(utf8_char_len("\x7f"), 1);
}

static void valid_multibyte_lengths(void **state)
{
	assert_int_equal(utf8_char_len("\xc3\xa9"), 2);		/* U+00E9 */
	assert_int_equal(utf8_char_len("\xe2\x98\x83"), 3);	/* U+2603 */
	assert_int_equal(utf8_char_len("\xef\xbf\xbd"), 3);	/* U+FFFD */
	assert_int_equal(utf8_char_len("\xf0\x9f\x98\x80"), 4);	/* U+1F600 */
	assert_int_equal(utf8_char_len("\xf4\x8f\xbf\xbf"), 4);	/* U+10FFFF */
}

static void stray_bytes_invalid(void **state)
{
	assert_int_equal(utf8_char_len("\x80"), 0);
	assert_int_equal(utf8_char_len("\xbf"), 0);
	assert_int_equal(utf8_char_len("\xfe"), 0);
	assert_int_equal(utf8_char_len("\xff"), 0);
}

static void overlong_forms_invalid(void **state)
{
	assert_int_equal(utf8_char_len("\xc0\xaf"), 0);
	assert_int_equal(utf8_char_len("\xc1\xbf"), 0);
	assert_int_equal(utf8_char_len("\xe0\x9f\xbf"), 0);
	assert_int_equal(utf8_char_len("\xf0\x8f\xbf\xbf"), 0);
}

static void surrogates_and_too_large_invalid(void **state)
{
	assert_int_equal(utf8_char_len("\xed\xa0\x80"), 0);	/* U+D800 */
	assert_int_equal(utf8_char_len("\xed\x9f\xbf"), 3);	/* U+D7FF */
	assert_int_equal(utf8_char_len("\xf4\x90\x80\x80"), 0);	/* U+110000 */
	assert_int_equal(utf8_char_len("\xf5\x80\x80\x80"), 0);
}

static void cut_sequences_invalid(void **state)
{
	assert_int_equal(utf8_char_len("\xc3"), 0);
	assert_int_equal(utf8_char_len("\xe2\x98"), 0);
	assert_int_equal(utf8_char_len("\xf0\x9f\x98"), 0);
	assert_int_equal(utf8_char_len("\xe2\x98x"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ascii_is_one_byte),
		cmocka_unit_test(valid_multibyte_lengths),
		cmocka_unit_test(stray_bytes_invalid),
		cmocka_unit_test(overlong_forms_invalid),
		cmocka_unit_test(surrogates_and_too_large_invalid),
		cmocka_unit_test(cut_sequences_invalid),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
