/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus text format file that node_exporter's textfile collector reads. */
#ifndef CCAPM_TEXTFILE_H
#define CCAPM_TEXTFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TEXTFILE_NAME	"ccapm.prom"

enum { FILE_OP_WRITE, FILE_OP_RENAME, FILE_OP_DELETE, FILE_OP_MKDIR, FILE_OP_COUNT };
enum { FAMILY_IPV4, FAMILY_IPV6, FAMILY_UNIX, FAMILY_COUNT };

/* One session_id label value and everything exported for it. */
struct session_metrics {
	const char *session_id;		/* a UUID, or "pid-<agent pid>" */
	uint32_t pid;			/* the agent's pid */
	const char *user;
	const char *cwd;
	uint64_t commands;
	uint64_t file_ops[FILE_OP_COUNT];
	uint64_t connects[FAMILY_COUNT];
	uint64_t commands_per_minute;
	uint64_t file_ops_per_minute;
	uint64_t connects_per_minute;
	bool active;
};

struct tracer_counters {
	uint64_t events_lost;		/* ring buffer full */
	uint64_t processes_untracked;	/* process table full */
	uint64_t session_table_full;	/* session table full */
};

/* Writes every metric family, with HELP and TYPE, in the text format. */
int textfile_render(FILE *out, const struct session_metrics *sessions, size_t n_sessions,
		    const struct tracer_counters *counters);

/*
 * Replaces dir/ccapm.prom with what textfile_render writes, through a temp
 * file in dir and rename(2), so readers never see a partial file. Returns
 * 0 or a negative errno.
 */
int textfile_write(const char *dir, const struct session_metrics *sessions, size_t n_sessions,
		   const struct tracer_counters *counters);

/*
 * Writes value to out escaped for a label value: backslash, quote and
 * newline. The format requires UTF-8, so invalid bytes become U+FFFD.
 */
void textfile_escape_label(FILE *out, const char *value);

#endif /* CCAPM_TEXTFILE_H */
