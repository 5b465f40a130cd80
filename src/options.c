// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "options.h"
#include "textfile.h"

/* Plain numbers, because STR turns them into the text of error messages. */
#define MAX_INTERVAL_S		3600
#define MAX_RETENTION_S		604800
#define MIN_RINGBUF_BYTES	4096
#define MAX_RINGBUF_BYTES	1073741824

#define STR_(x)	#x
#define STR(x)	STR_(x)

enum {
	OPT_TEXTFILE_DIR = 256,
	OPT_INTERVAL,
	OPT_RETENTION,
	OPT_RINGBUF_BYTES,
};

static const struct option long_options[] = {
	{ "textfile-dir", required_argument, NULL, OPT_TEXTFILE_DIR },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "retention", required_argument, NULL, OPT_RETENTION },
	{ "ringbuf-bytes", required_argument, NULL, OPT_RINGBUF_BYTES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Returns the rule for an option's value, for error messages. */
static const char *expected_value(int opt)
{
	switch (opt) {
	case OPT_TEXTFILE_DIR:
		return "expected a directory path";
	case OPT_INTERVAL:
		return "expected whole seconds from 1 to " STR(MAX_INTERVAL_S);
	case OPT_RETENTION:
		return "expected whole seconds from 0 to " STR(MAX_RETENTION_S);
	case OPT_RINGBUF_BYTES:
		return "expected a power of two from " STR(MIN_RINGBUF_BYTES) " to "
		       STR(MAX_RINGBUF_BYTES);
	}
	return "expected a value";
}

/* Returns the long option that getopt_long reports as opt, or NULL. */
static const struct option *find_option(int opt)
{
	for (const struct option *o = long_options; o->name; o++) {
		if (o->val == opt)
			return o;
	}
	return NULL;
}

static const char *option_name(int opt)
{
	const struct option *o = find_option(opt);

	return o ? o->name : "?";
}

static void print_help(void)
{
	printf("Usage: ccapm-trace [OPTION]...\n"
	       "Trace Claude Code agents and all their descendants with eBPF, count the\n"
	       "commands, file operations and network connects of each session, and keep\n"
	       "the totals and per-minute rates in a Prometheus textfile for node_exporter.\n"
	       "Needs root, or CAP_BPF and CAP_PERFMON (see ccapm-trace(8)).\n"
	       "\n"
	       "Options:\n"
	       "      --textfile-dir DIR      directory for %s, created if missing\n"
	       "                              (default: %s)\n"
	       "      --interval SECONDS      how often the file is rewritten, 1 to %d\n"
	       "                              (default: %d)\n"
	       "      --retention SECONDS     how long an ended session's series stay in\n"
	       "                              the file, 0 to %d (default: %d)\n"
	       "  -v, --verbose               also log informational messages to stderr\n"
	       "  -V, --version               print the version and exit\n"
	       "  -h, --help                  print this help and exit\n"
	       "\n"
	       "Testing:\n"
	       "      --ringbuf-bytes BYTES   size of the BPF ring buffer, a power of two\n"
	       "                              from %d to %d (default: the size\n"
	       "                              built into the BPF object)\n"
	       "\n"
	       "Output:\n"
	       "  DIR/%s, first written at start and then every interval. Each\n"
	       "  write goes to a temp file renamed over the old one, so node_exporter's\n"
	       "  textfile collector never reads a partial file.\n"
	       "\n"
	       "Exit status:\n"
	       "  0  stopped by SIGINT, SIGTERM or SIGHUP, or help or version printed\n"
	       "  1  failed to start or to keep tracing\n"
	       "  2  invalid command line\n",
	       TEXTFILE_NAME, DEFAULT_TEXTFILE_DIR, MAX_INTERVAL_S, DEFAULT_INTERVAL_S,
	       MAX_RETENTION_S, DEFAULT_RETENTION_S, MIN_RINGBUF_BYTES, MAX_RINGBUF_BYTES,
	       TEXTFILE_NAME);
}

static enum options_result usage_error(void)
{
	fputs("Try 'ccapm-trace --help'.\n", stderr);
	return OPTIONS_USAGE_ERROR;
}

static enum options_result invalid_value(int opt, const char *value)
{
	log_error("invalid --%s '%s': %s", option_name(opt), value, expected_value(opt));
	return usage_error();
}

/*
 * Parses a decimal number in [min, max]. strtoul alone would accept leading
 * spaces and a minus sign, which wraps around, so the first character must
 * be a digit.
 */
static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long value;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	value = strtoul(s, &end, 10);
	if (errno || *end || value < min || value > max)
		return false;
	*out = value;
	return true;
}

static bool is_power_of_two(unsigned int n)
{
	return n && !(n & (n - 1));
}

/* Stores a valid value in o and leaves o unchanged otherwise. */
static bool parse_value(int opt, const char *value, struct options *o)
{
	unsigned int n;

	switch (opt) {
	case OPT_TEXTFILE_DIR:
		if (*value == '\0')
			return false;
		o->textfile_dir = value;
		return true;
	case OPT_INTERVAL:
		return parse_uint(value, 1, MAX_INTERVAL_S, &o->interval_s);
	case OPT_RETENTION:
		return parse_uint(value, 0, MAX_RETENTION_S, &o->retention_s);
	case OPT_RINGBUF_BYTES:
		if (!parse_uint(value, MIN_RINGBUF_BYTES, MAX_RINGBUF_BYTES, &n) ||
		    !is_power_of_two(n))
			return false;
		o->ringbuf_bytes = n;
		return true;
	}
	return false;
}

/* Counts the long options whose names start with arg, a "--name" or "--name=value". */
static int count_prefix_matches(const char *arg)
{
	size_t len = strcspn(arg + 2, "=");
	int n = 0;

	for (const struct option *o = long_options; o->name; o++)
		n += !strncmp(o->name, arg + 2, len);
	return n;
}

/*
 * Reports what getopt_long rejected: an unknown option, a missing value or
 * an extra one. optopt is 0 for an unknown long option, which getopt_long
 * has already stepped past.
 */
static enum options_result getopt_error(int c, char **argv)
{
	if (c == ':')
		log_error("missing value for --%s: %s", option_name(optopt),
			  expected_value(optopt));
	else if (optopt && !find_option(optopt))
		log_error("unrecognized option '-%c'", optopt);
	else if (optopt)
		log_error("option '--%s' takes no value", option_name(optopt));
	else if (count_prefix_matches(argv[optind - 1]) > 1)
		log_error("ambiguous option '%s': spell out the option name", argv[optind - 1]);
	else
		log_error("unrecognized option '%s'", argv[optind - 1]);
	return usage_error();
}

enum options_result options_parse(int argc, char **argv, struct options *o)
{
	int c;

	*o = (struct options){
		.textfile_dir = DEFAULT_TEXTFILE_DIR,
		.interval_s = DEFAULT_INTERVAL_S,
		.retention_s = DEFAULT_RETENTION_S,
	};

	/*
	 * 0 makes glibc start over, so the parser can run more than once. The
	 * leading ':' in the option string stops getopt_long from printing
	 * errors, so that each one is reported once, in this program's words.
	 */
	optind = 0;
	while ((c = getopt_long(argc, argv, ":vVh", long_options, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = true;
			break;
		case 'V':
			printf("ccapm-trace %s\n", CCAPM_VERSION);
			return OPTIONS_EXIT_OK;
		case 'h':
			print_help();
			return OPTIONS_EXIT_OK;
		case ':':
		case '?':
			return getopt_error(c, argv);
		default:
			if (!parse_value(c, optarg, o))
				return invalid_value(c, optarg);
		}
	}
	if (optind < argc) {
		log_error("unexpected argument '%s': ccapm-trace takes options only",
			  argv[optind]);
		return usage_error();
	}
	return OPTIONS_RUN;
}
