// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cmdline.h"

/* A block and its length without the NUL the compiler adds to string literals. */
#define BLOCK(s) (s), (sizeof(s) - 1)

#define ID_A "0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1d"
#define ID_B "11111111-2222-4333-8444-555555555555"

static void assert_session_id(const char *argv, size_t len, const char *expected)
{
	uint8_t got[UUID_BYTES], want[UUID_BYTES];

	assert_true(uuid_parse(expected, want));
	assert_true(cmdline_session_id(argv, len, got));
	assert_memory_equal(got, want, UUID_BYTES);
}

static void arg_indexes(void **state)
{
	size_t len = 0;
	const char *arg;

	arg = cmdline_arg(BLOCK("claude\0-p\0hello\0"), 0, &len);
	assert_non_null(arg);
	assert_int_equal(len, 6);
	assert_memory_equal(arg, "claude", 6);

	arg = cmdline_arg(BLOCK("claude\0-p\0hello\0"), 2, &len);
	assert_non_null(arg);
	assert_int_equal(len, 5);
	assert_memory_equal(arg, "hello", 5);
}

static void arg_past_end(void **state)
{
	size_t len = 0;

	assert_null(cmdline_arg(BLOCK("claude\0-p\0"), 2, &len));
	assert_null(cmdline_arg(BLOCK("claude\0-p\0"), -1, &len));
	assert_null(cmdline_arg("", 0, 0, &len));
	assert_null(cmdline_arg(NULL, 0, 0, &len));
}

static void arg_empty_string(void **state)
{
	size_t len = 99;
	const char *arg = cmdline_arg(BLOCK("a\0\0b\0"), 1, &len);

	assert_non_null(arg);
	assert_int_equal(len, 0);
	arg = cmdline_arg(BLOCK("a\0\0b\0"), 2, &len);
	assert_non_null(arg);
	assert_int_equal(len, 1);
	assert_memory_equal(arg, "b", 1);
}

/* The block ends inside "--resume", so the copy holds only "--resu". */
static void arg_truncated_block(void **state)
{
	const char block[] = "claude\0--resume\0";
	size_t len = 0;
	const char *arg = cmdline_arg(block, 13, 1, &len);

	assert_non_null(arg);
	assert_int_equal(len, 6);
	assert_memory_equal(arg, "--resu", 6);
	assert_null(cmdline_arg(block, 13, 2, &len));
}

static void env_finds_value(void **state)
{
	size_t len = 0;
	const char *value = environ_get(BLOCK("PATH=/bin\0HOME=/root\0TMPDIR=/t\0"), "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 5);
	assert_memory_equal(value, "/root", 5);
}

static void env_name_prefix_of_other(void **state)
{
	size_t len = 0;
	const char *value = environ_get(BLOCK("HOMEDIR=/wrong\0HOME=/right\0"), "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 6);
	assert_memory_equal(value, "/right", 6);
	assert_null(environ_get(BLOCK("HOMEDIR=/wrong\0"), "HOME", &len));
	assert_null(environ_get(BLOCK("HOME=/root\0"), "HOMEDIR", &len));
}

static void env_value_containing_name(void **state)
{
	size_t len = 0;
	const char *value = environ_get(BLOCK("X=HOME=/fake\0HOME=/real\0"), "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 5);
	assert_memory_equal(value, "/real", 5);
}

static void env_empty_value(void **state)
{
	size_t len = 99;
	const char *value = environ_get(BLOCK("HOME=\0"), "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 0);
}

static void env_entry_without_equals(void **state)
{
	size_t len = 0;

	assert_null(environ_get(BLOCK("HOME\0"), "HOME", &len));
	assert_null(environ_get(BLOCK("HOME"), "HOME", &len));
}

/* The block ends inside the value of HOME. */
static void env_truncated_value(void **state)
{
	const char block[] = "A=1\0HOME=/root\0";
	size_t len = 0;
	const char *value = environ_get(block, 12, "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 3);
	assert_memory_equal(value, "/ro", 3);
}

/* The block ends right after the name, before its "=". */
static void env_truncated_after_name(void **state)
{
	const char block[] = "A=1\0HOME=/root\0";
	size_t len = 0;

	assert_null(environ_get(block, 8, "HOME", &len));
}

static void env_first_of_duplicates(void **state)
{
	size_t len = 0;
	const char *value = environ_get(BLOCK("HOME=/first\0HOME=/second\0"), "HOME", &len);

	assert_non_null(value);
	assert_int_equal(len, 6);
	assert_memory_equal(value, "/first", 6);
}

static void env_missing(void **state)
{
	size_t len = 0;

	assert_null(environ_get(BLOCK("PATH=/bin\0"), "HOME", &len));
	assert_null(environ_get("", 0, "HOME", &len));
	assert_null(environ_get(NULL, 0, "HOME", &len));
}

static void session_id_separate_value(void **state)
{
	assert_session_id(BLOCK("claude\0--session-id\0" ID_A "\0-p\0hi\0"), ID_A);
}

static void session_id_equals_value(void **state)
{
	assert_session_id(BLOCK("claude\0--session-id=" ID_A "\0"), ID_A);
}

static void resume_separate_value(void **state)
{
	assert_session_id(BLOCK("claude\0--resume\0" ID_A "\0"), ID_A);
}

static void resume_equals_value(void **state)
{
	assert_session_id(BLOCK("claude\0--resume=" ID_A "\0"), ID_A);
}

static void resume_short_option(void **state)
{
	assert_session_id(BLOCK("claude\0-r\0" ID_A "\0"), ID_A);
}

static void uppercase_id_accepted(void **state)
{
	assert_session_id(BLOCK("claude\0--session-id\0" "0F8C2A4E-9B1D-4C3E-8A7F-5D6E4B3A2C1D\0"),
			  ID_A);
}

static void fork_session_ignores_resume(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--resume\0" ID_A "\0--fork-session\0"),
					uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--fork-session\0-r\0" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--fork-session\0--resume=" ID_A "\0"),
					uuid));
}

static void fork_session_keeps_session_id(void **state)
{
	assert_session_id(BLOCK("claude\0--resume\0" ID_A "\0--fork-session\0--session-id\0" ID_B
				"\0"),
			  ID_B);
}

static void session_id_wins_over_resume(void **state)
{
	assert_session_id(BLOCK("claude\0--session-id\0" ID_B "\0--resume\0" ID_A "\0"), ID_B);
	assert_session_id(BLOCK("claude\0--resume\0" ID_A "\0--session-id\0" ID_B "\0"), ID_B);
}

static void last_of_one_kind_wins(void **state)
{
	assert_session_id(BLOCK("claude\0-r\0" ID_A "\0--resume\0" ID_B "\0"), ID_B);
}

static void invalid_value_skipped(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--session-id\0not-a-uuid\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--resume\0" ID_A "x\0"), uuid));
	assert_session_id(BLOCK("claude\0--session-id\0bad\0-r\0" ID_A "\0"), ID_A);
}

static void option_look_alikes(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--session-idx\0" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0-r=" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--resumed\0" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--session-id" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--session-id:" ID_A "\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--resume:" ID_A "\0"), uuid));
}

static void argv0_not_an_option(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("--session-id\0" ID_A "\0"), uuid));
}

static void options_end_at_double_dash(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--\0--session-id\0" ID_A "\0"), uuid));
	assert_session_id(BLOCK("claude\0--resume\0" ID_A "\0--\0--fork-session\0"), ID_A);
}

static void missing_value_at_end(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--session-id\0"), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0-r\0"), uuid));
}

/* A value at the end of a block without its NUL may have been cut short. */
static void truncated_value_rejected(void **state)
{
	uint8_t uuid[UUID_BYTES];

	assert_false(cmdline_session_id(BLOCK("claude\0--session-id\0" ID_A), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--session-id=" ID_A), uuid));
	assert_false(cmdline_session_id(BLOCK("claude\0--session-id\0" "0f8c2a4e-9b1d"), uuid));
}

static void truncated_block_keeps_earlier_id(void **state)
{
	assert_session_id(BLOCK("claude\0-r\0" ID_A "\0--resume\0" "11111111-22"), ID_A);
}

/* The bytes after the block spell --fork-session, but the copy ends after "--for". */
static void reads_stop_at_block_end(void **state)
{
	const char block[] = "claude\0-r\0" ID_A "\0--fork-session\0";

	assert_session_id(block, sizeof(block) - 11, ID_A);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arg_indexes),
		cmocka_unit_test(arg_past_end),
		cmocka_unit_test(arg_empty_string),
		cmocka_unit_test(arg_truncated_block),
		cmocka_unit_test(env_finds_value),
		cmocka_unit_test(env_name_prefix_of_other),
		cmocka_unit_test(env_value_containing_name),
		cmocka_unit_test(env_empty_value),
		cmocka_unit_test(env_entry_without_equals),
		cmocka_unit_test(env_truncated_value),
		cmocka_unit_test(env_truncated_after_name),
		cmocka_unit_test(env_first_of_duplicates),
		cmocka_unit_test(env_missing),
		cmocka_unit_test(session_id_separate_value),
		cmocka_unit_test(session_id_equals_value),
		cmocka_unit_test(resume_separate_value),
		cmocka_unit_test(resume_equals_value),
		cmocka_unit_test(resume_short_option),
		cmocka_unit_test(uppercase_id_accepted),
		cmocka_unit_test(fork_session_ignores_resume),
		cmocka_unit_test(fork_session_keeps_session_id),
		cmocka_unit_test(session_id_wins_over_resume),
		cmocka_unit_test(last_of_one_kind_wins),
		cmocka_unit_test(invalid_value_skipped),
		cmocka_unit_test(option_look_alikes),
		cmocka_unit_test(argv0_not_an_option),
		cmocka_unit_test(options_end_at_double_dash),
		cmocka_unit_test(missing_value_at_end),
		cmocka_unit_test(truncated_value_rejected),
		cmocka_unit_test(truncated_block_keeps_earlier_id),
		cmocka_unit_test(reads_stop_at_block_end),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
