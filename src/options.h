/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line options. */
#ifndef CCAPM_OPTIONS_H
#define CCAPM_OPTIONS_H

#include <stdbool.h>

#define DEFAULT_TEXTFILE_DIR	"/var/lib/prometheus/node-exporter"
#define DEFAULT_INTERVAL_S	15
#define DEFAULT_RETENTION_S	300

struct options {
	const char *textfile_dir;
	unsigned int interval_s;	/* 1 to 3600 */
	unsigned int retention_s;	/* 0 to 604800 */
	bool verbose;
	/* Test-only: ring buffer size in bytes, a power of two; 0 keeps the default. */
	unsigned int ringbuf_bytes;
};

enum options_result {
	OPTIONS_RUN,		/* o is filled in */
	OPTIONS_EXIT_OK,	/* help or version was printed */
	OPTIONS_USAGE_ERROR,	/* a one-line error was printed; exit 2 */
};

/* Parses argv into o, starting from the defaults. */
enum options_result options_parse(int argc, char **argv, struct options *o);

#endif /* CCAPM_OPTIONS_H */
