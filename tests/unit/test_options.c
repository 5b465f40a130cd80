// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "options.h"

#define TRY_HELP "Try 'ccapm-trace --help'.\n"

struct parse_result {
	enum options_result result;
	struct options options;
	char *out;	/* what was printed to stdout */
	char *err;	/* what was printed to stderr */
};

static struct parse_result parsed;

static int free_parsed(void **state)
{
	free(parsed.out);
	free(parsed.err);
	memset(&parsed, 0, sizeof(parsed));
	return 0;
}

static char *read_all(FILE *f)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	int c;

	assert_non_null(out);
	rewind(f);
	while ((c = fgetc(f)) != EOF)
		fputc(c, out);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* Fills argv from "ccapm-trace" and a NULL-terminated list. Returns argc. */
static int build_argv(char **argv, int size, const char *first, va_list ap)
{
	int argc = 0;

	argv[argc++] = "ccapm-trace";
	for (const char *arg = first; arg; arg = va_arg(ap, const char *)) {
		assert_true(argc < size - 1);
		argv[argc++] = (char *)arg;
	}
	argv[argc] = NULL;
	return argc;
}

struct child_report {
	enum options_result result;
	struct options options;
};

/*
 * Runs in the child. The earlier parse, if any, writes to /dev/null, and
 * the parse under test writes to the given files.
 */
static void child_parse(int argc, char **argv, int earlier_argc, char **earlier_argv,
			FILE *out, FILE *err, int report_fd)
{
	struct child_report report;
	int null_fd = open("/dev/null", O_WRONLY);

	if (earlier_argv) {
		dup2(null_fd, STDOUT_FILENO);
		dup2(null_fd, STDERR_FILENO);
		options_parse(earlier_argc, earlier_argv, &report.options);
		fflush(stdout);
		fflush(stderr);
	}
	dup2(fileno(out), STDOUT_FILENO);
	dup2(fileno(err), STDERR_FILENO);
	report.result = options_parse(argc, argv, &report.options);
	fflush(stdout);
	fflush(stderr);
	if (write(report_fd, &report, sizeof(report)) != sizeof(report))
		_exit(1);
	_exit(0);
}

/*
 * Runs options_parse in a child process, so that a crash is reported as a
 * failure here and the captured output never swallows cmocka's messages.
 * textfile_dir points into argv, which the child shares with this process.
 */
static void parse_in_child(int argc, char **argv, int earlier_argc, char **earlier_argv)
{
	FILE *out = tmpfile(), *err = tmpfile();
	struct child_report report;
	int pipe_fds[2], status;
	pid_t pid;

	assert_non_null(out);
	assert_non_null(err);
	assert_int_equal(pipe(pipe_fds), 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_parse(argc, argv, earlier_argc, earlier_argv, out, err, pipe_fds[1]);

	close(pipe_fds[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("options_parse crashed with signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status))
		fail_msg("options_parse child exited with status %d", WEXITSTATUS(status));
	assert_int_equal(read(pipe_fds[0], &report, sizeof(report)), sizeof(report));
	close(pipe_fds[0]);

	parsed.result = report.result;
	parsed.options = report.options;
	parsed.out = read_all(out);
	parsed.err = read_all(err);
	fclose(out);
	fclose(err);
}

/* Runs options_parse on "ccapm-trace" and the given arguments, up to NULL. */
static void parse(const char *first, ...)
{
	char *argv[32];
	int argc;
	va_list ap;

	va_start(ap, first);
	argc = build_argv(argv, 32, first, ap);
	va_end(ap);
	parse_in_child(argc, argv, 0, NULL);
}

/* Like parse, but after a parse of earlier in the same process. */
static void parse_after(const char *const *earlier, const char *first, ...)
{
	char *argv[32], *earlier_argv[32] = { "ccapm-trace" };
	int argc, earlier_argc = 1;
	va_list ap;

	for (; *earlier; earlier++)
		earlier_argv[earlier_argc++] = (char *)*earlier;
	earlier_argv[earlier_argc] = NULL;
	va_start(ap, first);
	argc = build_argv(argv, 32, first, ap);
	va_end(ap);
	parse_in_child(argc, argv, earlier_argc, earlier_argv);
}

static void assert_usage_error(const char *message)
{
	char expected[512];

	snprintf(expected, sizeof(expected), "ccapm-trace: %s\n" TRY_HELP, message);
	assert_int_equal(parsed.result, OPTIONS_USAGE_ERROR);
	assert_string_equal(parsed.err, expected);
	assert_string_equal(parsed.out, "");
}

static void assert_invalid_interval(const char *value)
{
	char message[256];

	parse("--interval", value, NULL);
	snprintf(message, sizeof(message),
		 "invalid --interval '%s': expected whole seconds from 1 to 3600", value);
	assert_usage_error(message);
	free_parsed(NULL);
}

static void defaults(void **state)
{
	parse(NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_string_equal(parsed.options.textfile_dir, "/var/lib/prometheus/node-exporter");
	assert_int_equal(parsed.options.interval_s, 15);
	assert_int_equal(parsed.options.retention_s, 300);
	assert_false(parsed.options.verbose);
	assert_int_equal(parsed.options.ringbuf_bytes, 0);
	assert_string_equal(parsed.out, "");
	assert_string_equal(parsed.err, "");
}

static void every_option_set(void **state)
{
	parse("--textfile-dir", "/srv/metrics", "--interval", "1", "--retention", "0", "-v",
	      "--ringbuf-bytes", "4096", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_string_equal(parsed.options.textfile_dir, "/srv/metrics");
	assert_int_equal(parsed.options.interval_s, 1);
	assert_int_equal(parsed.options.retention_s, 0);
	assert_true(parsed.options.verbose);
	assert_int_equal(parsed.options.ringbuf_bytes, 4096);
	assert_string_equal(parsed.err, "");
}

static void equals_form(void **state)
{
	parse("--interval=3600", "--retention=604800", "--textfile-dir=/srv/m", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.interval_s, 3600);
	assert_int_equal(parsed.options.retention_s, 604800);
	assert_string_equal(parsed.options.textfile_dir, "/srv/m");
}

static void long_verbose(void **state)
{
	parse("--verbose", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_true(parsed.options.verbose);
}

static void last_value_wins(void **state)
{
	parse("--interval", "5", "--interval", "7", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.interval_s, 7);
}

static void leading_zeros_are_decimal(void **state)
{
	parse("--interval", "010", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.interval_s, 10);
}

/* getopt_long keeps state between calls, which options_parse must reset. */
static void parses_twice(void **state)
{
	static const char *const earlier[] = { "--interval", "9", NULL };

	parse_after(earlier, "--retention", "8", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.retention_s, 8);
	assert_int_equal(parsed.options.interval_s, 15);
}

/* The earlier parse stops at -x with "v" of the same argument still unread. */
static void parses_after_error_in_cluster(void **state)
{
	static const char *const earlier[] = { "-xv", NULL };

	parse_after(earlier, NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_false(parsed.options.verbose);
}

static void interval_bounds(void **state)
{
	parse("--interval", "3600", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	free_parsed(NULL);
	assert_invalid_interval("0");
	assert_invalid_interval("3601");
}

static void interval_malformed(void **state)
{
	assert_invalid_interval("15s");
	assert_invalid_interval("");
	assert_invalid_interval("-1");
	assert_invalid_interval("+5");
	assert_invalid_interval(" 5");
	assert_invalid_interval("5 ");
	assert_invalid_interval("0x10");
	assert_invalid_interval("1.5");
	assert_invalid_interval("1e3");
	assert_invalid_interval("fifteen");
}

/* 4294967311 is 2^32 + 15, which a cast to unsigned int would turn into 15. */
static void interval_overflow(void **state)
{
	assert_invalid_interval("4294967311");
	assert_invalid_interval("18446744073709551615");
	assert_invalid_interval("99999999999999999999999");
}

static void retention_bounds(void **state)
{
	parse("--retention", "604800", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.retention_s, 604800);
	free_parsed(NULL);
	parse("--retention", "604801", NULL);
	assert_usage_error("invalid --retention '604801': expected whole seconds from 0 to 604800");
}

static void retention_malformed(void **state)
{
	parse("--retention", "5m", NULL);
	assert_usage_error("invalid --retention '5m': expected whole seconds from 0 to 604800");
}

static void ringbuf_bounds(void **state)
{
	parse("--ringbuf-bytes", "1073741824", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.ringbuf_bytes, 1073741824);
	free_parsed(NULL);
	parse("--ringbuf-bytes", "2048", NULL);
	assert_usage_error("invalid --ringbuf-bytes '2048': expected a power of two from 4096 to "
			   "1073741824");
	free_parsed(NULL);
	parse("--ringbuf-bytes", "2147483648", NULL);
	assert_usage_error("invalid --ringbuf-bytes '2147483648': expected a power of two from "
			   "4096 to 1073741824");
}

static void ringbuf_not_power_of_two(void **state)
{
	parse("--ringbuf-bytes", "12288", NULL);
	assert_usage_error("invalid --ringbuf-bytes '12288': expected a power of two from 4096 to "
			   "1073741824");
}

static void ringbuf_zero(void **state)
{
	parse("--ringbuf-bytes", "0", NULL);
	assert_usage_error("invalid --ringbuf-bytes '0': expected a power of two from 4096 to "
			   "1073741824");
}

static void empty_textfile_dir(void **state)
{
	parse("--textfile-dir", "", NULL);
	assert_usage_error("invalid --textfile-dir '': expected a directory path");
}

static void missing_value(void **state)
{
	parse("--interval", NULL);
	assert_usage_error("missing value for --interval: expected whole seconds from 1 to 3600");
}

/* A required value is taken even when it looks like an option. */
static void option_as_value(void **state)
{
	parse("--interval", "--verbose", NULL);
	assert_usage_error("invalid --interval '--verbose': expected whole seconds from 1 to 3600");
}

static void unknown_long_option(void **state)
{
	parse("--intervals", "5", NULL);
	assert_usage_error("unrecognized option '--intervals'");
}

static void unknown_short_option(void **state)
{
	parse("-x", NULL);
	assert_usage_error("unrecognized option '-x'");
}

/* The argument before -x is a long option, which must not confuse the message. */
static void unknown_short_after_long(void **state)
{
	parse("--verbose", "-vx", NULL);
	assert_usage_error("unrecognized option '-x'");
}

static void value_for_flag(void **state)
{
	parse("--verbose=1", NULL);
	assert_usage_error("option '--verbose' takes no value");
}

static void ambiguous_abbreviation(void **state)
{
	parse("--ver", NULL);
	assert_usage_error("ambiguous option '--ver': spell out the option name");
}

static void unique_abbreviation(void **state)
{
	parse("--int", "5", NULL);
	assert_int_equal(parsed.result, OPTIONS_RUN);
	assert_int_equal(parsed.options.interval_s, 5);
}

static void stray_argument(void **state)
{
	parse("-v", "now", NULL);
	assert_usage_error("unexpected argument 'now': ccapm-trace takes options only");
}

static void stray_argument_after_double_dash(void **state)
{
	parse("--", "--interval", NULL);
	assert_usage_error("unexpected argument '--interval': ccapm-trace takes options only");
}

static void help_output(void **state)
{
	parse("--help", NULL);
	assert_int_equal(parsed.result, OPTIONS_EXIT_OK);
	assert_string_equal(parsed.err, "");
	assert_non_null(strstr(parsed.out, "Usage: ccapm-trace [OPTION]...\n"));
	assert_non_null(strstr(parsed.out, "--textfile-dir DIR"));
	assert_non_null(strstr(parsed.out, "(default: /var/lib/prometheus/node-exporter)"));
	assert_non_null(strstr(parsed.out, "--interval SECONDS"));
	assert_non_null(strstr(parsed.out, "(default: 15)"));
	assert_non_null(strstr(parsed.out, "--retention SECONDS"));
	assert_non_null(strstr(parsed.out, "(default: 300)"));
	assert_non_null(strstr(parsed.out, "-v, --verbose"));
	assert_non_null(strstr(parsed.out, "-V, --version"));
	assert_non_null(strstr(parsed.out, "-h, --help"));
	assert_non_null(strstr(parsed.out, "DIR/ccapm.prom"));
	assert_non_null(strstr(parsed.out, "Exit status:"));
	assert_non_null(strstr(parsed.out, "  2  invalid command line\n"));
}

static void help_lists_testing_option(void **state)
{
	const char *testing, *ringbuf;

	parse("-h", NULL);
	testing = strstr(parsed.out, "\nTesting:\n");
	ringbuf = strstr(parsed.out, "--ringbuf-bytes BYTES");
	assert_non_null(testing);
	assert_non_null(ringbuf);
	assert_true(ringbuf > testing);
}

static void help_fits_80_columns(void **state)
{
	parse("-h", NULL);
	for (const char *line = parsed.out; *line;) {
		size_t len = strcspn(line, "\n");

		if (len >= 80)
			fail_msg("help line longer than 79 columns: %.*s", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

static void version_output(void **state)
{
	parse("-V", NULL);
	assert_int_equal(parsed.result, OPTIONS_EXIT_OK);
	assert_string_equal(parsed.out, "ccapm-trace " CCAPM_VERSION "\n");
	assert_string_equal(parsed.err, "");
}

static void long_version(void **state)
{
	parse("--version", NULL);
	assert_int_equal(parsed.result, OPTIONS_EXIT_OK);
	assert_string_equal(parsed.out, "ccapm-trace " CCAPM_VERSION "\n");
}

#define TEST(f) cmocka_unit_test_teardown(f, free_parsed)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(defaults),
		TEST(every_option_set),
		TEST(equals_form),
		TEST(long_verbose),
		TEST(last_value_wins),
		TEST(leading_zeros_are_decimal),
		TEST(parses_twice),
		TEST(parses_after_error_in_cluster),
		TEST(interval_bounds),
		TEST(interval_malformed),
		TEST(interval_overflow),
		TEST(retention_bounds),
		TEST(retention_malformed),
		TEST(ringbuf_bounds),
		TEST(ringbuf_not_power_of_two),
		TEST(ringbuf_zero),
		TEST(empty_textfile_dir),
		TEST(missing_value),
		TEST(option_as_value),
		TEST(unknown_long_option),
		TEST(unknown_short_option),
		TEST(unknown_short_after_long),
		TEST(value_for_flag),
		TEST(ambiguous_abbreviation),
		TEST(unique_abbreviation),
		TEST(stray_argument),
		TEST(stray_argument_after_double_dash),
		TEST(help_output),
		TEST(help_lists_testing_option),
		TEST(help_fits_80_columns),
		TEST(version_output),
		TEST(long_version),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
