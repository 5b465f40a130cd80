// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ccapm-trace: counts what Claude Code agents and their descendants do and
 * keeps a Prometheus textfile up to date with it.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "path_set.h"
#include "procscan.h"
#include "textfile.h"
#include "tracer.h"

/*
 * How often the ring buffer is read. The BPF side wakes the reader only
 * when a quarter of the ring waits, so a record waits at most this long.
 */
#define POLL_MS			100

/* Sockets, FIFOs and device nodes remembered, so deleting them is not counted. */
#define SPECIAL_PATHS_MAX	4096

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static int make_dirs(const char *dir)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Creates the textfile directory if missing and proves it writable, before any BPF loads. */
static int prepare_textfile_dir(const char *dir)
{
	char probe[PATH_MAX];
	struct stat st;
	int fd, err;

	if (stat(dir, &st)) {
		err = errno == ENOENT ? make_dirs(dir) : -errno;
		if (err) {
			log_error("failed to create textfile directory '%s': %s; create it or pass "
				  "--textfile-dir", dir, strerror(-err));
			return err;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		log_error("textfile directory '%s' is not a directory: pass --textfile-dir with "
			  "a directory", dir);
		return -ENOTDIR;
	}
	/* The file is replaced by rename(2), which cannot replace a directory. */
	snprintf(probe, sizeof(probe), "%s/%s", dir, TEXTFILE_NAME);
	if (lstat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
		log_error("'%s' is a directory: remove it or pass another --textfile-dir", probe);
		return -EISDIR;
	}

	snprintf(probe, sizeof(probe), "%s/.ccapm-probe.XXXXXX", dir);
	fd = mkstemp(probe);
	if (fd < 0) {
		err = -errno;
		log_error("textfile directory '%s' is not writable: %s; fix its permissions or "
			  "pass --textfile-dir", dir, strerror(-err));
		return err;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/* Drops expired sessions and rewrites the textfile. */
static int write_metrics(struct tracer *tracer, const struct options *options)
{
	struct session_hooks hooks = tracer_session_hooks(tracer);
	struct tracer_counters counters;
	struct session_metrics *rows;
	uint64_t now_s = monotonic_ms() / 1000;
	ssize_t n;
	int err;

	session_expire(tracer->sessions, now_s, options->retention_s, &hooks);
	n = session_collect(tracer->sessions, now_s, &rows);
	if (n < 0)
		return n;
	tracer_read_counters(tracer, &counters);
	err = textfile_write(options->textfile_dir, rows, n, &counters);
	free(rows);
	if (err)
		log_error("failed to write %s/%s: %s", options->textfile_dir, TEXTFILE_NAME,
			  strerror(-err));
	return err;
}

/*
 * Blocks SIGINT, SIGTERM and SIGHUP and returns a signalfd that reports
 * them. SIGHUP comes when the terminal of a tracer run by hand closes.
 */
static int stop_signal_fd(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_CLOEXEC);
}

static int watch(int epoll_fd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* Handles events and rewrites the textfile every interval until a stop signal. */
static int run(struct tracer *tracer, const struct options *options, int signal_fd)
{
	uint64_t interval_ms = options->interval_s * 1000ull;
	uint64_t next_write_ms = monotonic_ms() + interval_ms;
	struct epoll_event ready[2];
	int epoll_fd, ring_fd = tracer_ring_fd(tracer);
	int err = 0, n;

	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0 || watch(epoll_fd, ring_fd) || watch(epoll_fd, signal_fd)) {
		err = -errno;
		log_error("failed to set up event polling: %s", strerror(-err));
		goto out;
	}

	for (;;) {
		uint64_t now_ms = monotonic_ms();
		int timeout_ms = next_write_ms > now_ms ? next_write_ms - now_ms : 0;

		if (timeout_ms > POLL_MS)
			timeout_ms = POLL_MS;

		n = epoll_wait(epoll_fd, ready, 2, timeout_ms);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			log_error("failed to wait for events: %s", strerror(-err));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (ready[i].data.fd == signal_fd)
				goto out;
		}
		err = tracer_consume(tracer);
		if (err) {
			log_error("failed to read the ring buffer: %s", strerror(-err));
			break;
		}
		if (monotonic_ms() >= next_write_ms) {
			write_metrics(tracer, options);
			next_write_ms += interval_ms;
			if (next_write_ms < monotonic_ms())
				next_write_ms = monotonic_ms() + interval_ms;
		}
	}
out:
	if (epoll_fd >= 0)
		close(epoll_fd);
	return err;
}

int main(int argc, char **argv)
{
	struct tracer tracer = {};
	struct options options;
	int signal_fd = -1, err, found;

	switch (options_parse(argc, argv, &options)) {
	case OPTIONS_EXIT_OK:
		return 0;
	case OPTIONS_USAGE_ERROR:
		return 2;
	case OPTIONS_RUN:
		break;
	}
	log_verbose = options.verbose;

	if (tracer_preflight() || prepare_textfile_dir(options.textfile_dir))
		return 1;

	signal_fd = stop_signal_fd();
	if (signal_fd < 0) {
		log_error("failed to set up signal handling: %s", strerror(errno));
		return 1;
	}
	tracer.sessions = session_table_new();
	tracer.special_paths = path_set_new(SPECIAL_PATHS_MAX);
	if (!tracer.sessions || !tracer.special_paths) {
		err = -ENOMEM;
		log_error("failed to allocate the session table: out of memory");
		goto cleanup;
	}

	err = tracer_start(&tracer, &options);
	if (err)
		goto cleanup;

	found = procscan_run(&tracer, monotonic_ms() / 1000);
	if (found < 0)
		log_error("failed to scan /proc for running sessions: %s", strerror(-found));
	else
		log_info("found %d running session(s) at start-up", found);
	tracer_consume(&tracer);

	err = write_metrics(&tracer, &options);
	if (err)
		goto cleanup;
	log_info("writing %s/%s every %u s", options.textfile_dir, TEXTFILE_NAME,
		 options.interval_s);

	err = run(&tracer, &options, signal_fd);
	tracer_consume(&tracer);
	if (write_metrics(&tracer, &options) && !err)
		err = -EIO;

cleanup:
	tracer_stop(&tracer);
	session_table_free(tracer.sessions);
	path_set_free(tracer.special_paths);
	close(signal_fd);
	return err ? 1 : 0;
}
