// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bookkeeping.h"
#include "paths.h"

/* A block and its length without the NUL the compiler adds to string literals. */
#define BLOCK(s) (s), (sizeof(s) - 1)

#define UID 1000

static struct agent_dirs dirs;

static int free_dirs(void **state)
{
	agent_dirs_free(&dirs);
	return 0;
}

static void init_dirs(const char *env, size_t len, const char *passwd_home)
{
	assert_true(agent_dirs_init(&dirs, env, len, UID, passwd_home));
}

/* The usual layout: HOME=/home/u, no CLAUDE_CONFIG_DIR, no TMPDIR. */
static void init_default_dirs(void)
{
	init_dirs(BLOCK("PATH=/bin\0HOME=/home/u\0"), NULL);
}

static void init_reads_environment(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0CLAUDE_CONFIG_DIR=/srv/cfg\0TMPDIR=/var/tmp\0"), "/pw");
	assert_string_equal(dirs.home, "/home/u");
	assert_string_equal(dirs.config_dir, "/srv/cfg");
	assert_string_equal(dirs.tmpdir, "/var/tmp");
	assert_int_equal(dirs.uid, UID);
}

static void init_defaults(void **state)
{
	init_default_dirs();
	assert_string_equal(dirs.home, "/home/u");
	assert_string_equal(dirs.config_dir, "/home/u/.claude");
	assert_string_equal(dirs.tmpdir, "/tmp");
}

static void init_normalises_values(void **state)
{
	init_dirs(BLOCK("HOME=//home/u/\0CLAUDE_CONFIG_DIR=/srv/./a/../cfg/\0TMPDIR=/var//tmp/\0"),
		  NULL);
	assert_string_equal(dirs.home, "/home/u");
	assert_string_equal(dirs.config_dir, "/srv/cfg");
	assert_string_equal(dirs.tmpdir, "/var/tmp");
}

static void init_passwd_home_when_missing(void **state)
{
	init_dirs(BLOCK("PATH=/bin\0"), "/home/pw/");
	assert_string_equal(dirs.home, "/home/pw");
	assert_string_equal(dirs.config_dir, "/home/pw/.claude");
}

static void init_ignores_relative_home(void **state)
{
	init_dirs(BLOCK("HOME=home/u\0"), "/home/pw");
	assert_string_equal(dirs.home, "/home/pw");
}

static void init_ignores_empty_home(void **state)
{
	init_dirs(BLOCK("HOME=\0"), "/home/pw");
	assert_string_equal(dirs.home, "/home/pw");
}

static void init_ignores_homedir(void **state)
{
	init_dirs(BLOCK("HOMEDIR=/wrong\0"), "/home/pw");
	assert_string_equal(dirs.home, "/home/pw");
}

/* The last variable of a block cut short may have lost the end of its value. */
static void init_ignores_truncated_value(void **state)
{
	init_dirs(BLOCK("PATH=/bin\0HOME=/home/u"), "/home/pw");
	assert_string_equal(dirs.home, "/home/pw");
}

static void init_without_any_home(void **state)
{
	init_dirs(BLOCK("PATH=/bin\0"), NULL);
	assert_null(dirs.home);
	assert_null(dirs.config_dir);
	assert_string_equal(dirs.tmpdir, "/tmp");
}

static void init_ignores_relative_passwd_home(void **state)
{
	init_dirs(BLOCK("PATH=/bin\0"), "home/pw");
	assert_null(dirs.home);
}

static void init_ignores_relative_config_dir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0CLAUDE_CONFIG_DIR=cfg\0"), NULL);
	assert_string_equal(dirs.config_dir, "/home/u/.claude");
}

static void init_config_dir_without_home(void **state)
{
	init_dirs(BLOCK("CLAUDE_CONFIG_DIR=/srv/cfg\0"), NULL);
	assert_null(dirs.home);
	assert_string_equal(dirs.config_dir, "/srv/cfg");
}

static void init_ignores_relative_tmpdir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0TMPDIR=tmp\0"), NULL);
	assert_string_equal(dirs.tmpdir, "/tmp");
}

static void init_empty_environment(void **state)
{
	init_dirs(NULL, 0, "/root");
	assert_string_equal(dirs.home, "/root");
	assert_string_equal(dirs.config_dir, "/root/.claude");
	assert_string_equal(dirs.tmpdir, "/tmp");
}

static void copy_is_deep(void **state)
{
	struct agent_dirs copy;

	init_default_dirs();
	assert_true(agent_dirs_copy(&copy, &dirs));
	assert_string_equal(copy.home, dirs.home);
	assert_ptr_not_equal(copy.home, dirs.home);
	assert_string_equal(copy.config_dir, dirs.config_dir);
	assert_ptr_not_equal(copy.config_dir, dirs.config_dir);
	assert_string_equal(copy.tmpdir, dirs.tmpdir);
	assert_ptr_not_equal(copy.tmpdir, dirs.tmpdir);
	assert_int_equal(copy.uid, UID);
	agent_dirs_free(&copy);
}

static void copy_keeps_missing_dirs(void **state)
{
	struct agent_dirs copy;

	init_dirs(NULL, 0, NULL);
	assert_true(agent_dirs_copy(&copy, &dirs));
	assert_null(copy.home);
	assert_null(copy.config_dir);
	assert_string_equal(copy.tmpdir, "/tmp");
	agent_dirs_free(&copy);
}

static void free_twice(void **state)
{
	init_default_dirs();
	agent_dirs_free(&dirs);
	assert_null(dirs.home);
	agent_dirs_free(&dirs);
	agent_dirs_free(NULL);
}

static void config_dir_matches(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude/projects/-home-u/x.jsonl"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude/shell-snapshots/snapshot-bash-1.sh"));
}

static void config_dir_near_misses(void **state)
{
	init_default_dirs();
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude2"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude2/projects/x.jsonl"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claudex"));
	assert_false(is_bookkeeping(&dirs, "/home/u/project/.claude/settings.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u"));
}

static void custom_config_dir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0CLAUDE_CONFIG_DIR=/srv/cfg\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/srv/cfg/sessions/42.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude/x"));
	assert_false(is_bookkeeping(&dirs, "/srv/cfgx/x"));
}

static void claude_json_and_companions(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json.lock"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json.tmp.4242.9f3a1c"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json.backup"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json.backup.1712345678"));
}

/* The .claude.json rule uses the configured home, even with a custom config dir. */
static void claude_json_with_config_dir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0CLAUDE_CONFIG_DIR=/srv/cfg\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/home/u/.claude.json"));
}

static void claude_json_near_misses(void **state)
{
	init_default_dirs();
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.jso"));
	assert_false(is_bookkeeping(&dirs, "/home/u/claude.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u/sub/.claude.json"));
	assert_false(is_bookkeeping(&dirs, "/home/other/.claude.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u2/.claude.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.jsonfoo"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.json."));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.jsonx/dir/file"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.json.d/file"));
}

static void claude_json_without_home(void **state)
{
	init_dirs(NULL, 0, NULL);
	assert_false(is_bookkeeping(&dirs, "/.claude.json"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.claude.json"));
}

static void claude_json_home_is_root(void **state)
{
	init_dirs(BLOCK("HOME=/\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/.claude.json"));
	assert_true(is_bookkeeping(&dirs, "/.claude/x"));
	assert_false(is_bookkeeping(&dirs, "/etc/passwd"));
}

static void uid_tmp_dir(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-1000"));
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-1000/-home-u/0f8c/tasks/b1.output"));
}

static void uid_tmp_dir_near_misses(void **state)
{
	init_default_dirs();
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-1001/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-10000/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-100/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-1000x/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude/x"));
	assert_false(is_bookkeeping(&dirs, "/var/tmp/claude-1000/x"));
}

static void uid_zero_tmp_dir(void **state)
{
	assert_true(agent_dirs_init(&dirs, BLOCK("HOME=/root\0"), 0, NULL));
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-0/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-1000/x"));
}

static void socket_dir(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/tmp/cc-socks"));
	assert_true(is_bookkeeping(&dirs, "/tmp/cc-socks/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/tmp/cc-socksx/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/tmp/cc-sock/4242.sock"));
}

static void socket_dir_in_runtime_dir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0XDG_RUNTIME_DIR=/run/user/1000\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/run/user/1000/cc-socks"));
	assert_true(is_bookkeeping(&dirs, "/run/user/1000/cc-socks/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/run/user/1000/other.sock"));
	assert_false(is_bookkeeping(&dirs, "/run/user/1001/cc-socks/4242.sock"));
}

/* With a long socket dir path the native CLI falls back to /tmp/cc-socks-<uid>. */
static void socket_dir_fallback(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/tmp/cc-socks-1000"));
	assert_true(is_bookkeeping(&dirs, "/tmp/cc-socks-1000/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/tmp/cc-socks-1001/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/var/tmp/cc-socks-1000/4242.sock"));
}

static void daemon_dir(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/tmp/cc-daemon-1000/state"));
	assert_false(is_bookkeeping(&dirs, "/tmp/cc-daemon-0/state"));
}

static void claude_code_tmpdir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0CLAUDE_CODE_TMPDIR=/scratch/cc\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/scratch/cc/claude-1000/tasks/1.output"));
	assert_true(is_bookkeeping(&dirs, "/scratch/cc/cc-socks/4242.sock"));
	assert_false(is_bookkeeping(&dirs, "/scratch/cc/notes.txt"));
}

static void npm_debug_logs(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/home/u/.npm"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.npm/_logs"));
	assert_true(is_bookkeeping(&dirs, "/home/u/.npm/_logs/2026-01-01T00_00_00_000Z-debug-0.log"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.npm/_cacache/index"));
	assert_false(is_bookkeeping(&dirs, "/home/u/.npmrc"));
	assert_false(is_bookkeeping(&dirs, "/home/u/project/.npm/_logs/x.log"));
}

static void cwd_file(void **state)
{
	init_default_dirs();
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-0a1b2c3d-cwd"));
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-ABCDEF-cwd"));
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-7-cwd"));
}

static void cwd_file_near_misses(void **state)
{
	init_default_dirs();
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-xyz-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-12g4-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude--cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-ab-cwd.bak"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-ab-cwdx"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-ab-cw"));
	assert_false(is_bookkeeping(&dirs, "/tmp/xclaude-ab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claudeab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/sub/claude-ab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmpx/claude-ab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/var/claude-ab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/claude-ab-cwd"));
}

static void custom_tmpdir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0TMPDIR=/var/tmp/t\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/var/tmp/t/claude-1000/x"));
	assert_true(is_bookkeeping(&dirs, "/var/tmp/t/cc-socks/1.sock"));
	assert_true(is_bookkeeping(&dirs, "/var/tmp/t/claude-ab-cwd"));
	assert_false(is_bookkeeping(&dirs, "/tmp/claude-1000/x"));
	assert_false(is_bookkeeping(&dirs, "/tmp/cc-socks/1.sock"));
}

/* The Bash tool writes its cwd file to /tmp whatever TMPDIR is. */
static void cwd_file_in_tmp_with_custom_tmpdir(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0TMPDIR=/var/tmp/t\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/tmp/claude-ab-cwd"));
}

static void tmpdir_is_root(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0TMPDIR=/\0"), NULL);
	assert_true(is_bookkeeping(&dirs, "/claude-ab-cwd"));
	assert_true(is_bookkeeping(&dirs, "/claude-1000/x"));
	assert_false(is_bookkeeping(&dirs, "/etc/claude-ab-cwd"));
}

/* Names that trigger a rule in some directory, and one that never does. */
static const char *const child_names[] = {
	".claude", ".claude.json", ".claude.json.lock", ".claude.json.tmp.1.ab", ".npm", "_logs",
	"claude-1000", "claude-ab-cwd", "cc-socks", "cc-socks-1000", "cc-daemon-1000", "projects",
	"x.sock", "main.c",
};

/*
 * A verdict must agree with is_bookkeeping for every file in the directory:
 * the kernel applies it to files whose paths userspace never sees.
 */
static void assert_verdict_consistent(const char *dir)
{
	enum dir_verdict verdict = bookkeeping_dir_verdict(&dirs, dir);
	char path[PATHS_MAX];

	for (size_t i = 0; i < sizeof(child_names) / sizeof(child_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", child_names[i]);
		if (verdict == DIR_USER && is_bookkeeping(&dirs, path))
			fail_msg("%s is bookkeeping, but %s has the user verdict", path, dir);
		if (verdict == DIR_BOOKKEEPING && !is_bookkeeping(&dirs, path))
			fail_msg("%s is user work, but %s has the bookkeeping verdict", path, dir);
	}
}

static const char *const verdict_dirs[] = {
	"/", "/tmp", "/home", "/home/u", "/home/u/.claude", "/home/u/.claude/projects/-w",
	"/home/u/.claude.json.lock", "/home/u/.npm", "/home/u/.npm/_logs", "/home/u/.npm/_cacache",
	"/home/u/project", "/home/u/project/.claude", "/tmp/claude-1000", "/tmp/claude-1000/t",
	"/tmp/cc-socks", "/tmp/cc-socks-1000", "/tmp/cc-daemon-1000", "/tmp/other", "/var/tmp/t",
	"/run/user/1000", "/run/user/1000/cc-socks", "/scratch/cc", "/scratch/cc/claude-1000",
	"/opt/cfg", "/opt",
};

static void verdicts_agree_with_rules(void **state)
{
	init_dirs(BLOCK("HOME=/home/u\0XDG_RUNTIME_DIR=/run/user/1000\0"
			"CLAUDE_CODE_TMPDIR=/scratch/cc\0"), NULL);
	for (size_t i = 0; i < sizeof(verdict_dirs) / sizeof(verdict_dirs[0]); i++)
		assert_verdict_consistent(verdict_dirs[i]);
	agent_dirs_free(&dirs);

	init_dirs(BLOCK("HOME=/home/u\0TMPDIR=/var/tmp/t\0CLAUDE_CONFIG_DIR=/opt/cfg\0"), NULL);
	for (size_t i = 0; i < sizeof(verdict_dirs) / sizeof(verdict_dirs[0]); i++)
		assert_verdict_consistent(verdict_dirs[i]);
}

static void verdict_of_common_dirs(void **state)
{
	init_default_dirs();
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/home/u/project"), DIR_USER);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/home/u/project/src"), DIR_USER);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/home/u/.claude"), DIR_BOOKKEEPING);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/home/u/.claude/todos"), DIR_BOOKKEEPING);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/tmp/claude-1000/-w/tasks"),
			 DIR_BOOKKEEPING);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/home/u"), DIR_MIXED);
	assert_int_equal(bookkeeping_dir_verdict(&dirs, "/tmp"), DIR_MIXED);
}

static void ordinary_files(void **state)
{
	init_default_dirs();
	assert_false(is_bookkeeping(&dirs, "/home/u/project/main.c"));
	assert_false(is_bookkeeping(&dirs, "/tmp/out.txt"));
	assert_false(is_bookkeeping(&dirs, "/"));
}

#define TEST(f) cmocka_unit_test_teardown(f, free_dirs)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(init_reads_environment),
		TEST(init_defaults),
		TEST(init_normalises_values),
		TEST(init_passwd_home_when_missing),
		TEST(init_ignores_relative_home),
		TEST(init_ignores_empty_home),
		TEST(init_ignores_homedir),
		TEST(init_ignores_truncated_value),
		TEST(init_without_any_home),
		TEST(init_ignores_relative_passwd_home),
		TEST(init_ignores_relative_config_dir),
		TEST(init_config_dir_without_home),
		TEST(init_ignores_relative_tmpdir),
		TEST(init_empty_environment),
		TEST(copy_is_deep),
		TEST(copy_keeps_missing_dirs),
		TEST(free_twice),
		TEST(config_dir_matches),
		TEST(config_dir_near_misses),
		TEST(custom_config_dir),
		TEST(claude_json_and_companions),
		TEST(claude_json_with_config_dir),
		TEST(claude_json_near_misses),
		TEST(claude_json_without_home),
		TEST(claude_json_home_is_root),
		TEST(uid_tmp_dir),
		TEST(uid_tmp_dir_near_misses),
		TEST(uid_zero_tmp_dir),
		TEST(socket_dir),
		TEST(cwd_file),
		TEST(cwd_file_near_misses),
		TEST(socket_dir_in_runtime_dir),
		TEST(socket_dir_fallback),
		TEST(daemon_dir),
		TEST(claude_code_tmpdir),
		TEST(npm_debug_logs),
		TEST(verdicts_agree_with_rules),
		TEST(verdict_of_common_dirs),
		TEST(custom_tmpdir),
		TEST(cwd_file_in_tmp_with_custom_tmpdir),
		TEST(tmpdir_is_root),
		TEST(ordinary_files),
	};

	return cmocka_run_group_tests_name("bookkeeping", tests, NULL, NULL);
}
