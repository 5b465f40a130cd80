// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "agent.h"

#define CLI_JS_SUFFIX	"@anthropic-ai/claude-code/cli.js"
/* readlink of /proc/PID/exe appends this when the file was replaced, as by an update. */
#define DELETED_SUFFIX	" (deleted)"

/* A part of a string, such as one path component, not NUL-terminated. */
struct span {
	const char *s;
	size_t len;
};

static bool span_is(struct span sp, const char *text)
{
	return sp.len == strlen(text) && !memcmp(sp.s, text, sp.len);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t suffix_len = strlen(suffix);

	return len >= suffix_len && !memcmp(s + len - suffix_len, suffix, suffix_len);
}

/*
 * Returns component n of path counted from the end, 0 being the basename,
 * or an empty span when path has fewer components. Trailing slashes are
 * not skipped, so "dir/" has an empty basename.
 */
static struct span component_from_end(const char *path, size_t len, int n)
{
	size_t end = len, start;

	for (;;) {
		start = end;
		while (start > 0 && path[start - 1] != '/')
			start--;
		if (n-- == 0)
			return (struct span){ path + start, end - start };
		if (start == 0)
			return (struct span){ path, 0 };
		end = start - 1;
	}
}

/* Returns the length of exe without the suffix of a replaced file. */
static size_t exe_length(const char *exe)
{
	size_t len = strlen(exe);

	if (ends_with(exe, len, DELETED_SUFFIX))
		len -= strlen(DELETED_SUFFIX);
	return len;
}

static bool exe_is_agent(const char *exe)
{
	size_t len = exe_length(exe);
	struct span base = component_from_end(exe, len, 0);

	if (span_is(base, "claude") || span_is(base, "claude.exe"))
		return true;
	/* The native installer keeps each release as claude/versions/<version>. */
	return base.len > 0 && span_is(component_from_end(exe, len, 1), "versions") &&
	       span_is(component_from_end(exe, len, 2), "claude");
}

static bool exe_is_node(const char *exe)
{
	size_t len = exe_length(exe);
	struct span base = component_from_end(exe, len, 0);

	return span_is(base, "node") || span_is(base, "nodejs");
}

static bool argv1_names_claude(const char *argv1)
{
	size_t len = strlen(argv1);

	return span_is(component_from_end(argv1, len, 0), "claude") ||
	       ends_with(argv1, len, CLI_JS_SUFFIX);
}

bool agent_matches(const char *exe, const char *argv1, bool argv1_is_script)
{
	if (exe && exe_is_agent(exe))
		return true;
	if (!argv1)
		return false;
	if (!argv1_is_script && !(exe && exe_is_node(exe)))
		return false;
	return argv1_names_claude(argv1);
}
