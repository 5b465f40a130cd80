// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "uuid.h"

#define SAMPLE "0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1d"

static const uint8_t sample_bytes[UUID_BYTES] = {
	0x0f, 0x8c, 0x2a, 0x4e, 0x9b, 0x1d, 0x4c, 0x3e,
	0x8a, 0x7f, 0x5d, 0x6e, 0x4b, 0x3a, 0x2c, 0x1d,
};

static void parse_lowercase(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_true(uuid_parse(SAMPLE, uuid));
	assert_memory_equal(uuid, sample_bytes, UUID_BYTES);
}

static void parse_uppercase(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_true(uuid_parse("0F8C2A4E-9B1D-4C3E-8A7F-5D6E4B3A2C1D", uuid));
	assert_memory_equal(uuid, sample_bytes, UUID_BYTES);
}

/* Only 36 characters are read, so a UUID inside a longer name parses. */
static void parse_ignores_following_text(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_true(uuid_parse(SAMPLE ".jsonl", uuid));
	assert_memory_equal(uuid, sample_bytes, UUID_BYTES);
}

static void parse_rejects_short_string(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(uuid_parse("0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1", uuid));
	assert_false(uuid_parse("", uuid));
}

static void parse_rejects_misplaced_dash(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(uuid_parse("0f8c2a4e9-b1d-4c3e-8a7f-5d6e4b3a2c1d", uuid));
	assert_false(uuid_parse("0f8c2a4e-9b1d-4c3e-8a7f5-d6e4b3a2c1d", uuid));
	assert_false(uuid_parse("0f8c2a4e_9b1d-4c3e-8a7f-5d6e4b3a2c1d", uuid));
}

static void parse_rejects_non_hex(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(uuid_parse("0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1g", uuid));
	assert_false(uuid_parse("gf8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1d", uuid));
	assert_false(uuid_parse("0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c-d", uuid));
}

static void parse_leaves_output_on_failure(void **state)
{
	uint8_t uuid[UUID_BYTES];

	memset(uuid, 0xaa, sizeof(uuid));
	assert_false(uuid_parse("0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1x", uuid));
	assert_int_equal(uuid[0], 0xaa);
	assert_int_equal(uuid[15], 0xaa);
}

static void format_lowercase(void **state)
{
	char text[UUID_TEXT_BYTES];

	uuid_format(sample_bytes, text);
	assert_string_equal(text, SAMPLE);
}

static void format_round_trip(void **state)
{
	uint8_t uuid[UUID_BYTES];
	char text[UUID_TEXT_BYTES];

	assert_true(uuid_parse("FFFFFFFF-0000-1111-AbCd-000000000001", uuid));
	uuid_format(uuid, text);
	assert_string_equal(text, "ffffffff-0000-1111-abcd-000000000001");
}

static void is_zero(void **state)
{
	uint8_t uuid[UUID_BYTES] = { 0 };

	assert_true(uuid_is_zero(uuid));
	uuid[15] = 1;
	assert_false(uuid_is_zero(uuid));
	uuid[15] = 0;
	uuid[0] = 1;
	assert_false(uuid_is_zero(uuid));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_lowercase),
		cmocka_unit_test(parse_uppercase),
		cmocka_unit_test(parse_ignores_following_text),
		cmocka_unit_test(parse_rejects_short_string),
		cmocka_unit_test(parse_rejects_misplaced_dash),
		cmocka_unit_test(parse_rejects_non_hex),
		cmocka_unit_test(parse_leaves_output_on_failure),
		cmocka_unit_test(format_lowercase),
		cmocka_unit_test(format_round_trip),
		cmocka_unit_test(is_zero),
	};

	return cmocka_run_group_tests_name("uuid", tests, NULL, NULL);
}
