// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookkeeping.h"
#include "cmdline.h"
#include "paths.h"

/*
 * Returns a normalised copy of an absolute directory, NULL for a relative
 * or empty one. *failed is set when memory runs out.
 */
static char *normalised_dir(const char *value, size_t len, bool *failed)
{
	char raw[PATHS_MAX], path[PATHS_MAX], *copy;

	if (!value || len == 0 || value[0] != '/' || len >= PATHS_MAX)
		return NULL;
	memcpy(raw, value, len);
	raw[len] = '\0';
	if (!paths_resolve(NULL, raw, path, sizeof(path)))
		return NULL;
	copy = strdup(path);
	if (!copy)
		*failed = true;
	return copy;
}

/*
 * Returns a variable's value, or NULL when it is missing or is the last
 * entry of a block that was cut short and may have lost its end.
 */
static const char *complete_value(const char *env, size_t env_len, const char *name,
				  size_t *value_len)
{
	const char *value = environ_get(env, env_len, name, value_len);

	if (!value || value + *value_len >= env + env_len)
		return NULL;
	return value;
}

static char *env_dir(const char *env, size_t env_len, const char *name, bool *failed)
{
	size_t len = 0;
	const char *value = complete_value(env, env_len, name, &len);

	return normalised_dir(value, len, failed);
}

static char *join_dir(const char *dir, const char *name, bool *failed)
{
	char path[PATHS_MAX], *copy;

	if (!paths_resolve(dir, name, path, sizeof(path)))
		return NULL;
	copy = strdup(path);
	if (!copy)
		*failed = true;
	return copy;
}

bool agent_dirs_init(struct agent_dirs *dirs, const char *env, size_t env_len, uid_t uid,
		     const char *passwd_home)
{
	bool failed = false;

	memset(dirs, 0, sizeof(*dirs));
	dirs->uid = uid;
	dirs->home = env_dir(env, env_len, "HOME", &failed);
	if (!dirs->home && passwd_home)
		dirs->home = normalised_dir(passwd_home, strlen(passwd_home), &failed);

	dirs->config_dir = env_dir(env, env_len, "CLAUDE_CONFIG_DIR", &failed);
	if (!dirs->config_dir && dirs->home)
		dirs->config_dir = join_dir(dirs->home, ".claude", &failed);

	dirs->tmpdir = env_dir(env, env_len, "TMPDIR", &failed);
	if (!dirs->tmpdir)
		dirs->tmpdir = normalised_dir("/tmp", 4, &failed);

	if (failed) {
		agent_dirs_free(dirs);
		return false;
	}
	return true;
}

static bool copy_string(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

bool agent_dirs_copy(struct agent_dirs *dst, const struct agent_dirs *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->uid = src->uid;
	if (copy_string(&dst->home, src->home) && copy_string(&dst->config_dir, src->config_dir) &&
	    copy_string(&dst->tmpdir, src->tmpdir))
		return true;
	agent_dirs_free(dst);
	return false;
}

void agent_dirs_free(struct agent_dirs *dirs)
{
	if (!dirs)
		return;
	free(dirs->home);
	free(dirs->config_dir);
	free(dirs->tmpdir);
	dirs->home = dirs->config_dir = dirs->tmpdir = NULL;
}

/* Tells whether path is dir/name/... or dir/name itself. */
static bool is_under_child(const char *path, const char *dir, const char *name)
{
	char child[PATHS_MAX];

	return dir && paths_resolve(dir, name, child, sizeof(child)) && paths_is_under(path, child);
}

/* Tells whether path is ~/.claude.json or a lock, temp or backup file named after it. */
static bool is_claude_json(const char *path, const char *home)
{
	char prefix[PATHS_MAX];

	if (!home || !paths_resolve(home, ".claude.json", prefix, sizeof(prefix)))
		return false;
	return !strncmp(path, prefix, strlen(prefix));
}

/* Tells whether path is dir/claude-<hex digits>-cwd, directly in dir. */
static bool is_cwd_file(const char *path, const char *dir)
{
	size_t dir_len = strlen(dir);
	const char *name;
	size_t hex_len;

	if (strncmp(path, dir, dir_len))
		return false;
	name = path + dir_len;
	/* Only the root ends with a slash. */
	if (dir_len > 1 && *name++ != '/')
		return false;
	if (strncmp(name, "claude-", 7))
		return false;
	name += 7;
	hex_len = strspn(name, "0123456789abcdefABCDEF");
	return hex_len > 0 && !strcmp(name + hex_len, "-cwd");
}

bool is_bookkeeping(const struct agent_dirs *dirs, const char *path)
{
	char uid_dir[32];

	if (dirs->config_dir && paths_is_under(path, dirs->config_dir))
		return true;
	if (is_claude_json(path, dirs->home))
		return true;

	snprintf(uid_dir, sizeof(uid_dir), "claude-%u", (unsigned int)dirs->uid);
	if (is_under_child(path, dirs->tmpdir, uid_dir))
		return true;
	if (is_under_child(path, dirs->tmpdir, "cc-socks"))
		return true;

	if (is_cwd_file(path, "/tmp"))
		return true;
	return dirs->tmpdir && is_cwd_file(path, dirs->tmpdir);
}
