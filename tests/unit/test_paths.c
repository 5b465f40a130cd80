// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "paths.h"

/* A block and its length without the NUL the compiler adds to string literals. */
#define BLOCK(s) (s), (sizeof(s) - 1)

static void assert_resolves(const char *base, const char *name, const char *expected)
{
	char out[PATHS_MAX];

	assert_true(paths_resolve(base, name, out, sizeof(out)));
	assert_string_equal(out, expected);
}

static void components_leaf_first(void **state)
{
	char out[64];

	assert_true(paths_from_components(BLOCK("c\0b\0a\0"), 3, out, sizeof(out)));
	assert_string_equal(out, "/a/b/c");
}

static void components_single(void **state)
{
	char out[64];

	assert_true(paths_from_components(BLOCK("tmp\0"), 1, out, sizeof(out)));
	assert_string_equal(out, "/tmp");
}

static void components_none_is_root(void **state)
{
	char out[64];

	assert_true(paths_from_components("", 0, 0, out, sizeof(out)));
	assert_string_equal(out, "/");
}

static void components_exact_fit(void **state)
{
	char out[7];

	assert_true(paths_from_components(BLOCK("c\0b\0a\0"), 3, out, sizeof(out)));
	assert_string_equal(out, "/a/b/c");
}

static void components_out_too_small(void **state)
{
	char out[6];

	assert_false(paths_from_components(BLOCK("c\0b\0a\0"), 3, out, sizeof(out)));
	assert_false(paths_from_components("", 0, 0, out, 1));
}

static void components_malformed(void **state)
{
	char out[64];

	/* Fewer names than depth. */
	assert_false(paths_from_components(BLOCK("c\0b\0"), 3, out, sizeof(out)));
	/* Bytes left over after depth names. */
	assert_false(paths_from_components(BLOCK("c\0b\0a\0"), 2, out, sizeof(out)));
	/* The last name has no NUL. */
	assert_false(paths_from_components(BLOCK("c\0b"), 2, out, sizeof(out)));
	/* An empty name. */
	assert_false(paths_from_components(BLOCK("c\0\0a\0"), 3, out, sizeof(out)));
	/* A name with a slash. */
	assert_false(paths_from_components(BLOCK("c/d\0a\0"), 2, out, sizeof(out)));
	/* Bytes but no names. */
	assert_false(paths_from_components(BLOCK("a\0"), 0, out, sizeof(out)));
}

static void resolve_absolute_name(void **state)
{
	assert_resolves("/base", "/etc/passwd", "/etc/passwd");
	assert_resolves(NULL, "/etc/passwd", "/etc/passwd");
}

static void resolve_relative_name(void **state)
{
	assert_resolves("/home/u", "src/main.c", "/home/u/src/main.c");
	assert_resolves("/", "tmp", "/tmp");
}

static void resolve_relative_without_base(void **state)
{
	char out[64];

	assert_false(paths_resolve(NULL, "file", out, sizeof(out)));
	assert_false(paths_resolve("relative/base", "file", out, sizeof(out)));
}

static void resolve_empty_name_is_base(void **state)
{
	assert_resolves("/home/u/", "", "/home/u");
}

static void resolve_dot_dot(void **state)
{
	assert_resolves("/home/u/project", "../other/./f", "/home/u/other/f");
	assert_resolves("/a/b", "..", "/a");
	assert_resolves("/a/b", "../..", "/");
	assert_resolves(NULL, "/a/b/../../c", "/c");
}

static void resolve_dot_dot_at_root(void **state)
{
	assert_resolves(NULL, "/..", "/");
	assert_resolves(NULL, "/../../etc", "/etc");
	assert_resolves("/a", "../../../b", "/b");
	assert_resolves("/", "..", "/");
}

static void resolve_repeated_slashes(void **state)
{
	assert_resolves(NULL, "//a///b//c", "/a/b/c");
	assert_resolves("//home//u//", "x//y", "/home/u/x/y");
}

static void resolve_trailing_slashes(void **state)
{
	assert_resolves(NULL, "/a/b/", "/a/b");
	assert_resolves(NULL, "/a/b///", "/a/b");
	assert_resolves(NULL, "///", "/");
}

static void resolve_dot_names(void **state)
{
	assert_resolves(NULL, "/a/./b/.", "/a/b");
	assert_resolves("/a", ".", "/a");
	assert_resolves(NULL, "/a/.hidden/..x/...", "/a/.hidden/..x/...");
	assert_resolves(NULL, "/a/.x/b", "/a/.x/b");
}

/* A base with ".." in it is folded as well. */
static void resolve_unnormalised_base(void **state)
{
	assert_resolves("/a/b/../c", "d", "/a/c/d");
}

static void resolve_out_too_small(void **state)
{
	char out[8];

	assert_true(paths_resolve(NULL, "/abcdef", out, sizeof(out)));
	assert_string_equal(out, "/abcdef");
	assert_false(paths_resolve(NULL, "/abcdefg", out, sizeof(out)));
	assert_false(paths_resolve("/abc", "defg", out, sizeof(out)));
	assert_false(paths_resolve(NULL, "/", out, 1));
}

static void under_itself(void **state)
{
	assert_true(paths_is_under("/home/u/.claude", "/home/u/.claude"));
}

static void under_child(void **state)
{
	assert_true(paths_is_under("/home/u/.claude/projects/x.jsonl", "/home/u/.claude"));
}

static void under_sibling_prefix(void **state)
{
	assert_false(paths_is_under("/home/u/.claude2", "/home/u/.claude"));
	assert_false(paths_is_under("/home/u/.claude2/x", "/home/u/.claude"));
	assert_false(paths_is_under("/home/u/.clau", "/home/u/.claude"));
}

static void under_root(void **state)
{
	assert_true(paths_is_under("/", "/"));
	assert_true(paths_is_under("/anything/at/all", "/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(components_leaf_first),
		cmocka_unit_test(components_single),
		cmocka_unit_test(components_none_is_root),
		cmocka_unit_test(components_exact_fit),
		cmocka_unit_test(components_out_too_small),
		cmocka_unit_test(components_malformed),
		cmocka_unit_test(resolve_absolute_name),
		cmocka_unit_test(resolve_relative_name),
		cmocka_unit_test(resolve_relative_without_base),
		cmocka_unit_test(resolve_empty_name_is_base),
		cmocka_unit_test(resolve_dot_dot),
		cmocka_unit_test(resolve_dot_dot_at_root),
		cmocka_unit_test(resolve_repeated_slashes),
		cmocka_unit_test(resolve_trailing_slashes),
		cmocka_unit_test(resolve_dot_names),
		cmocka_unit_test(resolve_unnormalised_base),
		cmocka_unit_test(resolve_out_too_small),
		cmocka_unit_test(under_itself),
		cmocka_unit_test(under_child),
		cmocka_unit_test(under_sibling_prefix),
		cmocka_unit_test(under_root),
	};

	return cmocka_run_group_tests_name("paths", tests, NULL, NULL);
}
