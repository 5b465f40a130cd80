// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "textfile.h"
#include "utf8.h"

static const char *const file_op_names[FILE_OP_COUNT] = {
	[FILE_OP_WRITE] = "write",
	[FILE_OP_RENAME] = "rename",
	[FILE_OP_DELETE] = "delete",
	[FILE_OP_MKDIR] = "mkdir",
};

static const char *const family_names[FAMILY_COUNT] = {
	[FAMILY_IPV4] = "ipv4",
	[FAMILY_IPV6] = "ipv6",
	[FAMILY_UNIX] = "unix",
};

/* U+FFFD, written for each byte that is not part of valid UTF-8. */
#define REPLACEMENT_CHARACTER "\xef\xbf\xbd"

void textfile_escape_label(FILE *out, const char *value)
{
	if (!value)
		return;
	for (const char *c = value; *c;) {
		size_t len = utf8_char_len(c);

		switch (*c) {
		case '\\':
			fputs("\\\\", out);
			break;
		case '"':
			fputs("\\\"", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		default:
			if (len)
				fwrite(c, 1, len, out);
			else
				fputs(REPLACEMENT_CHARACTER, out);
		}
		c += len ? len : 1;
	}
}

static void print_header(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes `name{session_id="..."` and leaves the label set open for more labels. */
static void print_session_start(FILE *out, const char *name, const struct session_metrics *s)
{
	fprintf(out, "%s{session_id=\"", name);
	textfile_escape_label(out, s->session_id);
	fputc('"', out);
}

static void print_session_value(FILE *out, const char *name, const struct session_metrics *s,
				uint64_t value)
{
	print_session_start(out, name, s);
	fprintf(out, "} %" PRIu64 "\n", value);
}

static void render_commands(FILE *out, const struct session_metrics *sessions, size_t n)
{
	const char *name = "ccapm_commands_total";

	print_header(out, name, "counter",
		     "Successful execve and execveat calls by processes of the Claude Code "
		     "session, not counting the exec that started the agent.");
	for (size_t i = 0; i < n; i++)
		print_session_value(out, name, &sessions[i], sessions[i].commands);
}

static void render_file_ops(FILE *out, const struct session_metrics *sessions, size_t n)
{
	const char *name = "ccapm_file_ops_total";

	print_header(out, name, "counter",
		     "Successful opens for writing, renames, deletes and mkdirs of regular files "
		     "and directories by processes of the session, excluding agent bookkeeping.");
	for (size_t i = 0; i < n; i++) {
		for (int op = 0; op < FILE_OP_COUNT; op++) {
			print_session_start(out, name, &sessions[i]);
			fprintf(out, ",op=\"%s\"} %" PRIu64 "\n", file_op_names[op],
				sessions[i].file_ops[op]);
		}
	}
}

static void render_connects(FILE *out, const struct session_metrics *sessions, size_t n)
{
	const char *name = "ccapm_network_connects_total";

	print_header(out, name, "counter",
		     "Connects on IPv4, IPv6 and unix sockets by processes of the session "
		     "that succeeded or were left in progress.");
	for (size_t i = 0; i < n; i++) {
		for (int family = 0; family < FAMILY_COUNT; family++) {
			print_session_start(out, name, &sessions[i]);
			fprintf(out, ",family=\"%s\"} %" PRIu64 "\n", family_names[family],
				sessions[i].connects[family]);
		}
	}
}

enum rate_kind { RATE_COMMANDS, RATE_FILE_OPS, RATE_CONNECTS, RATE_ACTIONS };

static const struct {
	const char *name;
	const char *help;
} rate_families[] = {
	[RATE_COMMANDS] = {
		.name = "ccapm_commands_per_minute",
		.help = "Commands run by processes of the session "
			"in the trailing 60 seconds.",
	},
	[RATE_FILE_OPS] = {
		.name = "ccapm_file_ops_per_minute",
		.help = "File operations by processes of the session "
			"in the trailing 60 seconds.",
	},
	[RATE_CONNECTS] = {
		.name = "ccapm_network_connects_per_minute",
		.help = "Network connects by processes of the session "
			"in the trailing 60 seconds.",
	},
	[RATE_ACTIONS] = {
		.name = "ccapm_actions_per_minute",
		.help = "Commands, file operations and network connects by processes of the "
			"session in the trailing 60 seconds.",
	},
};

static uint64_t rate_value(const struct session_metrics *s, enum rate_kind kind)
{
	switch (kind) {
	case RATE_COMMANDS:
		return s->commands_per_minute;
	case RATE_FILE_OPS:
		return s->file_ops_per_minute;
	case RATE_CONNECTS:
		return s->connects_per_minute;
	case RATE_ACTIONS:
		break;
	}
	return s->commands_per_minute + s->file_ops_per_minute + s->connects_per_minute;
}

static void render_rates(FILE *out, const struct session_metrics *sessions, size_t n)
{
	for (int kind = RATE_COMMANDS; kind <= RATE_ACTIONS; kind++) {
		const char *name = rate_families[kind].name;

		print_header(out, name, "gauge", rate_families[kind].help);
		for (size_t i = 0; i < n; i++) {
			uint64_t value = rate_value(&sessions[i], kind);

			print_session_value(out, name, &sessions[i], value);
		}
	}
}

static void render_info(FILE *out, const struct session_metrics *sessions, size_t n)
{
	const char *name = "ccapm_session_info";

	print_header(out, name, "gauge",
		     "Claude Code session with the pid, user and working directory of its agent, "
		     "always 1.");
	for (size_t i = 0; i < n; i++) {
		const struct session_metrics *s = &sessions[i];

		print_session_start(out, name, s);
		fprintf(out, ",pid=\"%" PRIu32 "\",user=\"", s->pid);
		textfile_escape_label(out, s->user);
		fputs("\",cwd=\"", out);
		textfile_escape_label(out, s->cwd);
		fputs("\"} 1\n", out);
	}
}

static void render_totals(FILE *out, const struct session_metrics *sessions, size_t n,
			  const struct tracer_counters *counters)
{
	uint64_t active = 0;

	for (size_t i = 0; i < n; i++)
		active += sessions[i].active;

	print_header(out, "ccapm_sessions_active", "gauge",
		     "Claude Code sessions with an agent process that has not exited.");
	fprintf(out, "ccapm_sessions_active %" PRIu64 "\n", active);

	print_header(out, "ccapm_events_lost_total", "counter",
		     "Events the kernel side could not deliver because the ring buffer was full.");
	fprintf(out, "ccapm_events_lost_total %" PRIu64 "\n", counters->events_lost);

	print_header(out, "ccapm_processes_untracked_total", "counter",
		     "Processes of sessions left untraced because the process table was full.");
	fprintf(out, "ccapm_processes_untracked_total %" PRIu64 "\n",
		counters->processes_untracked);

	print_header(out, "ccapm_session_table_full_total", "counter",
		     "Sessions the kernel could not enter in its session table, so a transcript switch "
		     "of theirs can go unnoticed.");
	fprintf(out, "ccapm_session_table_full_total %" PRIu64 "\n",
		counters->session_table_full);
}

/* Returns 0, or -EIO when out has seen a write error. */
int textfile_render(FILE *out, const struct session_metrics *sessions, size_t n_sessions,
		    const struct tracer_counters *counters)
{
	render_commands(out, sessions, n_sessions);
	render_file_ops(out, sessions, n_sessions);
	render_connects(out, sessions, n_sessions);
	render_rates(out, sessions, n_sessions);
	render_info(out, sessions, n_sessions);
	render_totals(out, sessions, n_sessions, counters);
	return ferror(out) ? -EIO : 0;
}

/* Writes the metrics to the open temp file and makes them durable. Returns 0 or -errno. */
static int write_temp(FILE *f, const struct session_metrics *sessions, size_t n_sessions,
		      const struct tracer_counters *counters)
{
	int err = textfile_render(f, sessions, n_sessions, counters);

	if (fflush(f))
		return -errno;
	if (err)
		return err;
	if (fsync(fileno(f)))
		return -errno;
	/* mkstemp creates the file 0600, but node_exporter may run as another user. */
	if (fchmod(fileno(f), 0644))
		return -errno;
	return 0;
}

static bool join_path(char path[PATH_MAX], const char *dir, const char *name)
{
	return snprintf(path, PATH_MAX, "%s/%s", dir, name) < PATH_MAX;
}

int textfile_write(const char *dir, const struct session_metrics *sessions, size_t n_sessions,
		   const struct tracer_counters *counters)
{
	char tmp_path[PATH_MAX], final_path[PATH_MAX];
	FILE *f;
	int fd, err;

	/* node_exporter reads only names ending in .prom, so it skips the temp file. */
	if (!join_path(tmp_path, dir, "." TEXTFILE_NAME ".XXXXXX") ||
	    !join_path(final_path, dir, TEXTFILE_NAME))
		return -ENAMETOOLONG;

	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto err_unlink;
	}

	err = write_temp(f, sessions, n_sessions, counters);
	if (fclose(f) && !err)
		err = -errno;
	if (err)
		goto err_unlink;
	if (rename(tmp_path, final_path)) {
		err = -errno;
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(tmp_path);
	return err;
}
