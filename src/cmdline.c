// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "cmdline.h"

#define UUID_CHARS	36

/* Returns the start of the string after the one at s, or end. */
static const char *next_string(const char *s, const char *end)
{
	const char *nul = memchr(s, '\0', end - s);

	return nul ? nul + 1 : end;
}

const char *cmdline_arg(const char *argv, size_t len, int i, size_t *arg_len)
{
	const char *end, *s = argv;

	if (!argv || i < 0)
		return NULL;
	end = argv + len;
	for (; i > 0 && s < end; i--)
		s = next_string(s, end);
	if (s >= end)
		return NULL;
	*arg_len = strnlen(s, end - s);
	return s;
}

const char *environ_get(const char *env, size_t len, const char *name, size_t *value_len)
{
	size_t name_len = strlen(name);
	const char *end;

	if (!env)
		return NULL;
	end = env + len;
	for (const char *s = env; s < end; s = next_string(s, end)) {
		size_t entry_len = strnlen(s, end - s);

		if (entry_len > name_len && s[name_len] == '=' && !memcmp(s, name, name_len)) {
			*value_len = entry_len - name_len - 1;
			return s + name_len + 1;
		}
	}
	return NULL;
}

/*
 * Parses a UUID argument of exactly 36 characters. The last argument of a
 * block without its NUL may have been cut short by the copy, so it is rejected.
 */
static bool parse_uuid_arg(const char *arg, size_t arg_len, const char *end,
			   uint8_t uuid[UUID_BYTES])
{
	if (arg_len != UUID_CHARS || arg + arg_len >= end)
		return false;
	return uuid_parse(arg, uuid);
}

enum id_source { ID_NONE, ID_RESUME, ID_SESSION_ID };

struct id_option {
	const char *name;
	enum id_source source;
	bool takes_equals;	/* also accepts --name=VALUE */
};

static const struct id_option id_options[] = {
	{ "--session-id", ID_SESSION_ID, true },
	{ "--resume", ID_RESUME, true },
	{ "-r", ID_RESUME, false },
};

/*
 * Matches arg against the options that carry a session id. Returns the
 * source, and sets *value to the text after "=" or to NULL when the value is
 * the next argument.
 */
static enum id_source match_id_option(const char *arg, size_t arg_len, const char **value,
				      size_t *value_len)
{
	for (size_t i = 0; i < sizeof(id_options) / sizeof(id_options[0]); i++) {
		const struct id_option *opt = &id_options[i];
		size_t name_len = strlen(opt->name);

		if (arg_len < name_len || memcmp(arg, opt->name, name_len))
			continue;
		if (arg_len == name_len) {
			*value = NULL;
			return opt->source;
		}
		if (opt->takes_equals && arg[name_len] == '=') {
			*value = arg + name_len + 1;
			*value_len = arg_len - name_len - 1;
			return opt->source;
		}
	}
	return ID_NONE;
}

struct arg_iter {
	const char *next;
	const char *end;
};

/* Starts after argv[0], which names the program. */
static void arg_iter_init(struct arg_iter *it, const char *argv, size_t len)
{
	if (!argv) {
		it->next = it->end = NULL;
		return;
	}
	it->end = argv + len;
	it->next = next_string(argv, it->end);
}

static const char *arg_iter_next(struct arg_iter *it, size_t *arg_len)
{
	const char *arg = it->next;

	if (arg >= it->end)
		return NULL;
	*arg_len = strnlen(arg, it->end - arg);
	it->next = next_string(arg, it->end);
	return arg;
}

static bool is_arg(const char *arg, size_t arg_len, const char *text)
{
	return arg_len == strlen(text) && !memcmp(arg, text, arg_len);
}

static bool has_fork_session(const char *argv, size_t len)
{
	struct arg_iter it;
	size_t arg_len;
	const char *arg;

	arg_iter_init(&it, argv, len);
	while ((arg = arg_iter_next(&it, &arg_len))) {
		if (is_arg(arg, arg_len, "--"))
			return false;
		if (is_arg(arg, arg_len, "--fork-session"))
			return true;
	}
	return false;
}

/*
 * --session-id names the id the agent writes, also when it forks a resumed
 * session, so it wins over --resume. Among options of one kind the last
 * valid one wins. "--" ends the options.
 */
bool cmdline_session_id(const char *argv, size_t len, uint8_t uuid[UUID_BYTES])
{
	bool fork_session = has_fork_session(argv, len);
	enum id_source best = ID_NONE;
	size_t arg_len, value_len = 0;
	const char *arg, *value;
	struct arg_iter it;

	arg_iter_init(&it, argv, len);
	while ((arg = arg_iter_next(&it, &arg_len))) {
		enum id_source source;
		uint8_t parsed[UUID_BYTES];

		if (is_arg(arg, arg_len, "--"))
			break;
		source = match_id_option(arg, arg_len, &value, &value_len);
		if (source == ID_NONE || (source == ID_RESUME && fork_session))
			continue;
		if (!value)
			value = arg_iter_next(&it, &value_len);
		if (!value)
			break;
		if (source < best || !parse_uuid_arg(value, value_len, it.end, parsed))
			continue;
		best = source;
		memcpy(uuid, parsed, UUID_BYTES);
	}
	return best != ID_NONE;
}
