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
	dirs->claude_tmpdir = env_dir(env, env_len, "CLAUDE_CODE_TMPDIR", &failed);
	dirs->runtime_dir = env_dir(env, env_len, "XDG_RUNTIME_DIR", &failed);

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
	    copy_string(&dst->tmpdir, src->tmpdir) &&
	    copy_string(&dst->claude_tmpdir, src->claude_tmpdir) &&
	    copy_string(&dst->runtime_dir, src->runtime_dir))
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
	free(dirs->claude_tmpdir);
	free(dirs->runtime_dir);
	dirs->home = dirs->config_dir = dirs->tmpdir = NULL;
	dirs->claude_tmpdir = dirs->runtime_dir = NULL;
}

/* Tells whether path is dir/name/... or dir/name itself. */
static bool is_under_child(const char *path, const char *dir, const char *name)
{
	char child[PATHS_MAX];

	return dir && paths_resolve(dir, name, child, sizeof(child)) && paths_is_under(path, child);
}

/*
 * Tells whether path is ~/.claude.json or a lock, temp or backup file named
 * after it: ~/.claude.json.<anything>, in the home directory itself.
 */
static bool is_claude_json(const char *path, const char *home)
{
	char name[PATHS_MAX];
	size_t len;

	if (!home || !paths_resolve(home, ".claude.json", name, sizeof(name)))
		return false;
	len = strlen(name);
	if (strncmp(path, name, len))
		return false;
	if (path[len] == '\0')
		return true;
	return path[len] == '.' && path[len + 1] != '\0' && !strchr(path + len, '/');
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

/*
 * Tells whether path is in one of the directories the CLI keeps under a
 * temp dir: claude-<uid>/ for task output, cc-socks/ for its messaging
 * socket and cc-daemon-<uid>/.
 */
static bool is_in_temp_dir(const char *path, const char *tmp, uid_t uid)
{
	char name[32];

	if (!tmp)
		return false;
	snprintf(name, sizeof(name), "claude-%u", (unsigned int)uid);
	if (is_under_child(path, tmp, name))
		return true;
	snprintf(name, sizeof(name), "cc-daemon-%u", (unsigned int)uid);
	if (is_under_child(path, tmp, name))
		return true;
	return is_under_child(path, tmp, "cc-socks");
}

/*
 * Tells whether path belongs to the socket dirs the native CLI picks:
 * $XDG_RUNTIME_DIR/cc-socks/, and /tmp/cc-socks-<uid>/ when that path
 * would be too long for a unix socket address.
 */
static bool is_socket_dir(const struct agent_dirs *dirs, const char *path)
{
	char name[32];

	if (is_under_child(path, dirs->runtime_dir, "cc-socks"))
		return true;
	snprintf(name, sizeof(name), "cc-socks-%u", (unsigned int)dirs->uid);
	return is_under_child(path, "/tmp", name);
}

/*
 * Tells whether path is ~/.npm itself. The Node.js CLI runs `npm config get
 * prefix` at every start, which creates it and writes a debug log in
 * ~/.npm/_logs/, a bookkeeping tree of its own.
 */
static bool is_npm_dir(const struct agent_dirs *dirs, const char *path)
{
	char npm[PATHS_MAX];

	return dirs->home && paths_resolve(dirs->home, ".npm", npm, sizeof(npm)) &&
	       !strcmp(path, npm);
}

/* Tells whether path is in a directory tree that belongs to the CLI as a whole. */
static bool is_in_bookkeeping_tree(const struct agent_dirs *dirs, const char *path)
{
	char logs[PATHS_MAX];

	if (dirs->config_dir && paths_is_under(path, dirs->config_dir))
		return true;
	if (is_in_temp_dir(path, dirs->tmpdir, dirs->uid) ||
	    is_in_temp_dir(path, dirs->claude_tmpdir, dirs->uid) || is_socket_dir(dirs, path))
		return true;
	return dirs->home && paths_resolve(dirs->home, ".npm/_logs", logs, sizeof(logs)) &&
	       paths_is_under(path, logs);
}

bool is_bookkeeping(const struct agent_dirs *dirs, const char *path)
{
	if (is_in_bookkeeping_tree(dirs, path) || is_claude_json(path, dirs->home))
		return true;
	if (is_npm_dir(dirs, path))
		return true;

	if (is_cwd_file(path, "/tmp"))
		return true;
	return dirs->tmpdir && is_cwd_file(path, dirs->tmpdir);
}

static bool is_same_dir(const char *dir, const char *other)
{
	return other && !strcmp(dir, other);
}

/* Tells whether dir is the parent of a config dir that is not $HOME/.claude. */
static bool is_config_parent(const struct agent_dirs *dirs, const char *dir)
{
	char parent[PATHS_MAX];

	return dirs->config_dir && paths_resolve(dirs->config_dir, "..", parent, sizeof(parent)) &&
	       !strcmp(dir, parent);
}

enum dir_verdict bookkeeping_dir_verdict(const struct agent_dirs *dirs, const char *dir)
{
	/* The rule matches every path that starts with dir, so every file in it. */
	if (is_in_bookkeeping_tree(dirs, dir))
		return DIR_BOOKKEEPING;

	/* Directories where a rule picks files or subdirectories by name. */
	if (is_same_dir(dir, "/tmp") || is_same_dir(dir, dirs->home) ||
	    is_same_dir(dir, dirs->tmpdir) || is_same_dir(dir, dirs->claude_tmpdir) ||
	    is_same_dir(dir, dirs->runtime_dir) || is_config_parent(dirs, dir) ||
	    is_npm_dir(dirs, dir))
		return DIR_MIXED;
	return DIR_USER;
}
