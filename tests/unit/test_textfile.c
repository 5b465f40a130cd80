// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "textfile.h"

#define ID_A "0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1d"

#define HEADERS_COMMANDS \
	"# HELP ccapm_commands_total Successful execve and execveat calls by processes of " \
	"the Claude Code session, not counting the exec that started the agent.\n" \
	"# TYPE ccapm_commands_total counter\n"
#define HEADERS_FILE_OPS \
	"# HELP ccapm_file_ops_total Successful opens for writing, renames, deletes and " \
	"mkdirs of regular files and directories by processes of the session, excluding " \
	"agent bookkeeping.\n" \
	"# TYPE ccapm_file_ops_total counter\n"
#define HEADERS_CONNECTS \
	"# HELP ccapm_network_connects_total Connects on IPv4, IPv6 and unix sockets by " \
	"processes of the session that succeeded or were left in progress.\n" \
	"# TYPE ccapm_network_connects_total counter\n"
#define HEADERS_COMMANDS_RATE \
	"# HELP ccapm_commands_per_minute Commands run by processes of the session in the " \
	"trailing 60 seconds.\n" \
	"# TYPE ccapm_commands_per_minute gauge\n"
#define HEADERS_FILE_OPS_RATE \
	"# HELP ccapm_file_ops_per_minute File operations by processes of the session in " \
	"the trailing 60 seconds.\n" \
	"# TYPE ccapm_file_ops_per_minute gauge\n"
#define HEADERS_CONNECTS_RATE \
	"# HELP ccapm_network_connects_per_minute Network connects by processes of the " \
	"session in the trailing 60 seconds.\n" \
	"# TYPE ccapm_network_connects_per_minute gauge\n"
#define HEADERS_ACTIONS_RATE \
	"# HELP ccapm_actions_per_minute Commands, file operations and network connects by " \
	"processes of the session in the trailing 60 seconds.\n" \
	"# TYPE ccapm_actions_per_minute gauge\n"
#define HEADERS_INFO \
	"# HELP ccapm_session_info Claude Code session with the pid, user and working " \
	"directory of its agent, always 1.\n" \
	"# TYPE ccapm_session_info gauge\n"
#define HEADERS_ACTIVE \
	"# HELP ccapm_sessions_active Claude Code sessions with an agent process that has " \
	"not exited.\n" \
	"# TYPE ccapm_sessions_active gauge\n"
#define HEADERS_LOST \
	"# HELP ccapm_events_lost_total Events the kernel side could not deliver because " \
	"the ring buffer was full.\n" \
	"# TYPE ccapm_events_lost_total counter\n"
#define HEADERS_PROCESSES_UNTRACKED \
	"# HELP ccapm_processes_untracked_total Processes of sessions left untraced because " \
	"the process table was full.\n" \
	"# TYPE ccapm_processes_untracked_total counter\n"
#define HEADERS_SESSION_TABLE_FULL \
	"# HELP ccapm_session_table_full_total Sessions the kernel could not enter in its " \
	"session table, so a transcript switch of theirs can go unnoticed.\n" \
	"# TYPE ccapm_session_table_full_total counter\n"

static const struct tracer_counters no_losses = { 0 };

/* Renders into a string, which the caller frees. */
static char *render(const struct session_metrics *sessions, size_t n,
		    const struct tracer_counters *counters)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	assert_int_equal(textfile_render(out, sessions, n, counters), 0);
	assert_int_equal(fclose(out), 0);
	return text;
}

static char *escaped(const char *value)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);

	assert_non_null(out);
	textfile_escape_label(out, value);
	assert_int_equal(fclose(out), 0);
	return text;
}

static void assert_escapes(const char *value, const char *expected)
{
	char *text = escaped(value);

	assert_string_equal(text, expected);
	free(text);
}

static void escape_plain(void **state)
{
	assert_escapes("/home/u/project", "/home/u/project");
}

static void escape_backslash(void **state)
{
	assert_escapes("C:\\dir", "C:\\\\dir");
}

static void escape_quote(void **state)
{
	assert_escapes("say \"hi\"", "say \\\"hi\\\"");
}

static void escape_newline(void **state)
{
	assert_escapes("a\nb", "a\\nb");
}

static void escape_all_together(void **state)
{
	assert_escapes("\\\"\n\\n", "\\\\\\\"\\n\\\\n");
}

/* Only backslash, quote and newline are escaped in the text format. */
static void escape_leaves_other_bytes(void **state)
{
	assert_escapes("tab\there {x=1} caf\xc3\xa9 \r", "tab\there {x=1} caf\xc3\xa9 \r");
}

/* The text format must be UTF-8: each invalid byte becomes U+FFFD. */
static void escape_replaces_invalid_utf8(void **state)
{
	assert_escapes("bad\xff\xfe", "bad\xef\xbf\xbd\xef\xbf\xbd");
	assert_escapes("cut \xe2\x98", "cut \xef\xbf\xbd\xef\xbf\xbd");
	assert_escapes("\xc0\xaf\"", "\xef\xbf\xbd\xef\xbf\xbd\\\"");
	assert_escapes("snow \xe2\x98\x83", "snow \xe2\x98\x83");
}

static void escape_empty_and_null(void **state)
{
	assert_escapes("", "");
	assert_escapes(NULL, "");
}

static void render_no_sessions(void **state)
{
	char *text = render(NULL, 0, &no_losses);

	assert_string_equal(text, HEADERS_COMMANDS HEADERS_FILE_OPS HEADERS_CONNECTS
			    HEADERS_COMMANDS_RATE HEADERS_FILE_OPS_RATE HEADERS_CONNECTS_RATE
			    HEADERS_ACTIONS_RATE HEADERS_INFO
			    HEADERS_ACTIVE "ccapm_sessions_active 0\n"
			    HEADERS_LOST "ccapm_events_lost_total 0\n"
			    HEADERS_PROCESSES_UNTRACKED "ccapm_processes_untracked_total 0\n"
			    HEADERS_SESSION_TABLE_FULL "ccapm_session_table_full_total 0\n");
	free(text);
}

static void render_one_session(void **state)
{
	const struct session_metrics session = {
		.session_id = ID_A,
		.pid = 4242,
		.user = "alice",
		.cwd = "/home/alice/project",
		.commands = 7,
		.file_ops = { [FILE_OP_WRITE] = 5, [FILE_OP_RENAME] = 2, [FILE_OP_DELETE] = 1 },
		.connects = { [FAMILY_IPV4] = 3, [FAMILY_UNIX] = 9 },
		.commands_per_minute = 4,
		.file_ops_per_minute = 6,
		.connects_per_minute = 1,
		.active = true,
	};
	const struct tracer_counters counters = {
		.events_lost = 11,
		.processes_untracked = 12,
		.session_table_full = 13,
	};
	char *text = render(&session, 1, &counters);

	assert_string_equal(text,
		HEADERS_COMMANDS
		"ccapm_commands_total{session_id=\"" ID_A "\"} 7\n"
		HEADERS_FILE_OPS
		"ccapm_file_ops_total{session_id=\"" ID_A "\",op=\"write\"} 5\n"
		"ccapm_file_ops_total{session_id=\"" ID_A "\",op=\"rename\"} 2\n"
		"ccapm_file_ops_total{session_id=\"" ID_A "\",op=\"delete\"} 1\n"
		"ccapm_file_ops_total{session_id=\"" ID_A "\",op=\"mkdir\"} 0\n"
		HEADERS_CONNECTS
		"ccapm_network_connects_total{session_id=\"" ID_A "\",family=\"ipv4\"} 3\n"
		"ccapm_network_connects_total{session_id=\"" ID_A "\",family=\"ipv6\"} 0\n"
		"ccapm_network_connects_total{session_id=\"" ID_A "\",family=\"unix\"} 9\n"
		HEADERS_COMMANDS_RATE
		"ccapm_commands_per_minute{session_id=\"" ID_A "\"} 4\n"
		HEADERS_FILE_OPS_RATE
		"ccapm_file_ops_per_minute{session_id=\"" ID_A "\"} 6\n"
		HEADERS_CONNECTS_RATE
		"ccapm_network_connects_per_minute{session_id=\"" ID_A "\"} 1\n"
		HEADERS_ACTIONS_RATE
		"ccapm_actions_per_minute{session_id=\"" ID_A "\"} 11\n"
		HEADERS_INFO
		"ccapm_session_info{session_id=\"" ID_A "\",pid=\"4242\",user=\"alice\","
		"cwd=\"/home/alice/project\"} 1\n"
		HEADERS_ACTIVE "ccapm_sessions_active 1\n"
		HEADERS_LOST "ccapm_events_lost_total 11\n"
		HEADERS_PROCESSES_UNTRACKED "ccapm_processes_untracked_total 12\n"
		HEADERS_SESSION_TABLE_FULL "ccapm_session_table_full_total 13\n");
	free(text);
}

/* Rows keep the caller's order, and only active sessions are counted as active. */
static void render_two_sessions_in_order(void **state)
{
	const struct session_metrics sessions[] = {
		{ .session_id = "pid-9", .pid = 9, .user = "b", .cwd = "/b", .commands = 2,
		  .active = false },
		{ .session_id = "pid-10", .pid = 10, .user = "a", .cwd = "/a", .commands = 1,
		  .active = true },
	};
	char *text = render(sessions, 2, &no_losses);

	assert_non_null(strstr(text, "ccapm_commands_total{session_id=\"pid-9\"} 2\n"
				     "ccapm_commands_total{session_id=\"pid-10\"} 1\n"));
	assert_non_null(strstr(text, "ccapm_session_info{session_id=\"pid-9\",pid=\"9\","
				     "user=\"b\",cwd=\"/b\"} 1\n"
				     "ccapm_session_info{session_id=\"pid-10\",pid=\"10\","
				     "user=\"a\",cwd=\"/a\"} 1\n"));
	assert_non_null(strstr(text,
			       "ccapm_file_ops_total{session_id=\"pid-9\",op=\"mkdir\"} 0\n"
			       "ccapm_file_ops_total{session_id=\"pid-10\",op=\"write\"} 0\n"));
	assert_non_null(strstr(text, "ccapm_sessions_active 1\n"));
	free(text);
}

static void render_escapes_labels(void **state)
{
	const struct session_metrics session = {
		.session_id = "pid-1",
		.pid = 1,
		.user = "we\"ird",
		.cwd = "/tmp/a\\b\nc",
	};
	char *text = render(&session, 1, &no_losses);

	assert_non_null(strstr(text, "ccapm_session_info{session_id=\"pid-1\",pid=\"1\","
				     "user=\"we\\\"ird\",cwd=\"/tmp/a\\\\b\\nc\"} 1\n"));
	free(text);
}

static void render_missing_user_and_cwd(void **state)
{
	const struct session_metrics session = { .session_id = "pid-1", .pid = 1 };
	char *text = render(&session, 1, &no_losses);

	assert_non_null(strstr(text, "ccapm_session_info{session_id=\"pid-1\",pid=\"1\","
				     "user=\"\",cwd=\"\"} 1\n"));
	free(text);
}

static void render_large_values(void **state)
{
	const struct session_metrics session = {
		.session_id = "pid-1",
		.pid = UINT32_MAX,
		.commands = UINT64_MAX,
	};
	const struct tracer_counters counters = { .events_lost = UINT64_MAX };
	char *text = render(&session, 1, &counters);

	assert_non_null(strstr(text, "ccapm_commands_total{session_id=\"pid-1\"} "
				     "18446744073709551615\n"));
	assert_non_null(strstr(text, "pid=\"4294967295\""));
	assert_non_null(strstr(text, "ccapm_events_lost_total 18446744073709551615\n"));
	free(text);
}

static void render_reports_write_error(void **state)
{
	FILE *out = fopen("/dev/full", "w");

	assert_non_null(out);
	setvbuf(out, NULL, _IONBF, 0);
	assert_int_equal(textfile_render(out, NULL, 0, &no_losses), -EIO);
	fclose(out);
}

/* A fresh directory under TMPDIR for each write test. */
static int make_dir(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (asprintf(&dir, "%s/ccapm-test.XXXXXX", tmp ? tmp : "/tmp") < 0)
		return -1;
	if (!mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

static int remove_dir(void **state)
{
	char *dir = *state;
	int err = nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);

	free(dir);
	return err ? -1 : 0;
}

static char *read_file(const char *path)
{
	char *text = NULL;
	size_t size = 0;
	FILE *in = fopen(path, "r");
	FILE *out = open_memstream(&text, &size);
	int c;

	assert_non_null(in);
	assert_non_null(out);
	while ((c = fgetc(in)) != EOF)
		fputc(c, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	return text;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	}
	closedir(d);
	return n;
}

static char *prom_path(const char *dir)
{
	char *path;

	assert_true(asprintf(&path, "%s/%s", dir, TEXTFILE_NAME) > 0);
	return path;
}

static void write_creates_file(void **state)
{
	const char *dir = *state;
	char *path = prom_path(dir);
	char *expected = render(NULL, 0, &no_losses);
	char *text;
	struct stat st;

	assert_int_equal(textfile_write(dir, NULL, 0, &no_losses), 0);
	text = read_file(path);
	assert_string_equal(text, expected);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_entries(dir), 1);
	free(text);
	free(expected);
	free(path);
}

static void write_replaces_file(void **state)
{
	const char *dir = *state;
	const struct session_metrics session = { .session_id = "pid-1", .pid = 1 };
	char *path = prom_path(dir);
	char *expected = render(&session, 1, &no_losses);
	char *text;
	FILE *old = fopen(path, "w");

	assert_non_null(old);
	fputs("old content that is longer than nothing at all\n", old);
	fclose(old);
	assert_int_equal(textfile_write(dir, &session, 1, &no_losses), 0);
	text = read_file(path);
	assert_string_equal(text, expected);
	assert_int_equal(count_entries(dir), 1);
	free(text);
	free(expected);
	free(path);
}

static void write_missing_dir(void **state)
{
	char *missing;

	assert_true(asprintf(&missing, "%s/absent", (char *)*state) > 0);
	assert_int_equal(textfile_write(missing, NULL, 0, &no_losses), -ENOENT);
	free(missing);
}

/* The rename fails, so the temp file must be removed again. */
static void write_failure_removes_temp(void **state)
{
	const char *dir = *state;
	char *path = prom_path(dir);

	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(textfile_write(dir, NULL, 0, &no_losses), -EISDIR);
	assert_int_equal(count_entries(dir), 1);
	free(path);
}

static void write_name_too_long(void **state)
{
	char dir[PATH_MAX + 16];

	memset(dir, 'a', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(textfile_write(dir, NULL, 0, &no_losses), -ENAMETOOLONG);
}

#define WRITE_TEST(f) cmocka_unit_test_setup_teardown(f, make_dir, remove_dir)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_plain),
		cmocka_unit_test(escape_backslash),
		cmocka_unit_test(escape_quote),
		cmocka_unit_test(escape_newline),
		cmocka_unit_test(escape_all_together),
		cmocka_unit_test(escape_leaves_other_bytes),
		cmocka_unit_test(escape_replaces_invalid_utf8),
		cmocka_unit_test(escape_empty_and_null),
		cmocka_unit_test(render_no_sessions),
		cmocka_unit_test(render_one_session),
		cmocka_unit_test(render_two_sessions_in_order),
		cmocka_unit_test(render_escapes_labels),
		cmocka_unit_test(render_missing_user_and_cwd),
		cmocka_unit_test(render_large_values),
		cmocka_unit_test(render_reports_write_error),
		WRITE_TEST(write_creates_file),
		WRITE_TEST(write_replaces_file),
		WRITE_TEST(write_missing_dir),
		WRITE_TEST(write_failure_removes_temp),
		cmocka_unit_test(write_name_too_long),
	};

	return cmocka_run_group_tests_name("textfile", tests, NULL, NULL);
}
