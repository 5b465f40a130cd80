// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ccapm.h"
#include "cmdline.h"
#include "events.h"
#include "log.h"
#include "path_set.h"
#include "procfs.h"
#include "tracer.h"

#define NS_PER_S	1000000000ull

static uint64_t seconds(uint64_t ts_ns)
{
	return ts_ns / NS_PER_S;
}

static void log_start(const struct session_start *start, const char *how)
{
	char id[UUID_TEXT_BYTES] = "unknown";

	if (start->id_source != SESSION_ID_NONE)
		uuid_format(start->uuid, id);
	log_info("session key %u %s: agent pid %u, user %s, cwd %s, id %s", start->key, how,
		 start->agent_pid, start->user, start->cwd, id);
}

/* Returns /proc/PID/NAME read whole, or NULL when it cannot be read. The caller frees it. */
static char *read_whole(pid_t pid, const char *name, size_t *len)
{
	char *text = NULL;
	ssize_t n = procfs_read(pid, name, &text);

	if (n <= 0) {
		free(text);
		return NULL;
	}
	*len = n;
	return text;
}

static void on_start(struct tracer *tracer, const struct ccapm_start_event *ev, size_t size)
{
	const char *argv = ev->data + ev->cwd_bytes;
	const char *env = argv + ev->argv_bytes;
	size_t argv_len = ev->argv_bytes, env_len = ev->env_bytes;
	char *whole_argv = NULL, *whole_env = NULL;
	const struct agent_dirs *parent_dirs;
	char cwd[PATHS_MAX], home[PATHS_MAX], user[USER_NAME_BYTES];
	struct session_start start = {
		.key = ev->hdr.session,
		.agent_pid = ev->hdr.pid,
		.user = user,
		.cwd = cwd,
	};
	struct agent_dirs dirs = {};
	uint64_t now_s = seconds(ev->hdr.ts_ns);

	if (size < sizeof(*ev) + ev->cwd_bytes + ev->argv_bytes + ev->env_bytes) {
		tracer->malformed_events++;
		return;
	}
	if (!paths_from_components(ev->data, ev->cwd_bytes, ev->cwd_depth, cwd, sizeof(cwd)))
		cwd[0] = '\0';
	procfs_passwd(ev->hdr.pid, ev->uid, user, home, sizeof(home));

	if (ev->flags & CCAPM_START_SWITCH) {
		parent_dirs = session_dirs(tracer->sessions, ev->hdr.parent_session);
		if (parent_dirs)
			agent_dirs_copy(&dirs, parent_dirs);
		else
			agent_dirs_init(&dirs, NULL, 0, ev->uid, home[0] ? home : NULL);
		if (ev->flags & CCAPM_START_PARENT_END)
			session_end(tracer->sessions, ev->hdr.parent_session, now_s);
	} else {
		/* A record cut short contains the first bytes only, so read the rest from /proc. */
		if (ev->flags & CCAPM_START_ARGV_CUT)
			whole_argv = read_whole(ev->hdr.pid, "cmdline", &argv_len);
		if (whole_argv)
			argv = whole_argv;
		if (ev->flags & CCAPM_START_ENV_CUT)
			whole_env = read_whole(ev->hdr.pid, "environ", &env_len);
		if (whole_env)
			env = whole_env;
		agent_dirs_init(&dirs, env, env_len, ev->uid, home[0] ? home : NULL);
		if (cmdline_session_id(argv, argv_len, start.uuid))
			start.id_source = SESSION_ID_HINT;
		tracer_register_config_dir(tracer, start.key, ev->hdr.pid, &dirs);
		free(whole_argv);
		free(whole_env);
	}
	if (ev->flags & CCAPM_START_HAS_UUID) {
		memcpy(start.uuid, ev->uuid, UUID_BYTES);
		start.id_source = SESSION_ID_TRANSCRIPT;
	}
	start.dirs = &dirs;
	if (session_add(tracer->sessions, &start, now_s))
		log_error("failed to record session key %u: out of memory", start.key);
	log_start(&start, ev->flags & CCAPM_START_SWITCH ? "switched transcripts" : "started");
	agent_dirs_free(&dirs);
}

/*
 * Records a key the tracer missed the start of, because its record was
 * lost or expired while a process still held it, from the sessions map and
 * /proc.
 */
static void adopt_unknown_key(struct tracer *tracer, uint32_t key, pid_t pid, uint64_t now_s)
{
	char cwd[PATHS_MAX] = "", user[USER_NAME_BYTES], home[PATHS_MAX], *env = NULL;
	struct session_start start = { .key = key, .agent_pid = pid, .user = user, .cwd = cwd };
	struct agent_dirs dirs = {};
	ssize_t env_len;
	bool has_uuid = false;
	int64_t uid;

	if (tracer_lookup_session(tracer, key, &start.agent_pid, start.uuid, &has_uuid) &&
	    has_uuid)
		start.id_source = SESSION_ID_TRANSCRIPT;
	uid = procfs_uid(start.agent_pid);
	if (uid < 0)
		uid = procfs_uid(pid);
	procfs_passwd(pid, uid < 0 ? 0 : uid, user, home, sizeof(home));
	env_len = procfs_read(start.agent_pid, "environ", &env);
	agent_dirs_init(&dirs, env_len > 0 ? env : NULL, env_len > 0 ? env_len : 0,
			uid < 0 ? 0 : uid, home[0] ? home : NULL);
	free(env);
	start.dirs = &dirs;
	if (session_add(tracer->sessions, &start, now_s))
		log_error("failed to record session key %u: out of memory", key);
	log_start(&start, "seen again");
	agent_dirs_free(&dirs);
}

static void ensure_key(struct tracer *tracer, const struct ccapm_event *hdr)
{
	if (!session_exists(tracer->sessions, hdr->session))
		adopt_unknown_key(tracer, hdr->session, hdr->pid, seconds(hdr->ts_ns));
}

/* Builds the absolute path of a file event; returns false if it cannot be known. */
static bool file_event_path(const struct ccapm_file_event *ev, char *path, size_t size)
{
	const char *name = ev->data;
	char base[PATHS_MAX];
	bool has_base = ev->dir_bytes > 0;

	if (ev->flags & CCAPM_DIR_TRUNCATED)
		return false;
	if (has_base && !paths_from_components(ev->data + ev->name_bytes, ev->dir_bytes,
					       ev->dir_depth, base, sizeof(base)))
		return false;
	if (name[0] == '\0')
		return has_base && paths_resolve(base, ".", path, size);
	return paths_resolve(has_base ? base : NULL, name, path, size);
}

/* Tells whether path, under pid's root, exists and is neither a regular file nor a directory. */
static bool is_special_file(pid_t pid, const char *path)
{
	char rooted[PATHS_MAX + 32];
	struct stat st;

	snprintf(rooted, sizeof(rooted), "/proc/%d/root%s", pid, path);
	if (lstat(rooted, &st) && lstat(path, &st))
		return false;
	return !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

/*
 * Keeps the set of special files current and returns whether the
 * operation touched one. The kernel reports creations of sockets, FIFOs and device
 * nodes, but cannot see the type of a file at unlink or rename.
 */
static bool touches_special_file(struct tracer *tracer, const struct ccapm_file_event *ev,
				 const char *path)
{
	switch (ev->hdr.op) {
	case CCAPM_FILE_SPECIAL:
		path_set_add(tracer->special_paths, path);
		return true;
	case CCAPM_FILE_DELETE:
		return path_set_remove(tracer->special_paths, path);
	case CCAPM_FILE_RENAME:
		if (is_special_file(ev->hdr.pid, path)) {
			path_set_add(tracer->special_paths, path);
			return true;
		}
		break;
	}
	/* A regular file or directory now has this path. */
	path_set_remove(tracer->special_paths, path);
	return false;
}

/* Classifies the directory of an opened file for the kernel's verdict cache. */
static void cache_parent_verdict(struct tracer *tracer, const struct ccapm_file_event *ev,
				 const struct agent_dirs *dirs, const char *path)
{
	char parent[PATHS_MAX];

	if (!paths_resolve(path, "..", parent, sizeof(parent)))
		return;
	tracer_cache_dir_verdict(tracer, ev->hdr.session, ev->parent_dentry, ev->parent_ino,
				 bookkeeping_dir_verdict(dirs, parent), ev->hdr.ts_ns);
}

static void on_file(struct tracer *tracer, const struct ccapm_file_event *ev, size_t size)
{
	const struct agent_dirs *dirs;
	char path[PATHS_MAX];
	uint32_t key = ev->hdr.session;

	if (size < sizeof(*ev) + ev->name_bytes + ev->dir_bytes || ev->name_bytes == 0 ||
	    ev->data[ev->name_bytes - 1] != '\0' || ev->hdr.op < CCAPM_FILE_WRITE ||
	    ev->hdr.op > CCAPM_FILE_SPECIAL) {
		tracer->malformed_events++;
		return;
	}
	ensure_key(tracer, &ev->hdr);
	dirs = session_dirs(tracer->sessions, key);
	/* NOTE: a path the kernel could not spell out in full counts as user work. */
	if (!(ev->flags & CCAPM_FILE_USER_DIR) && file_event_path(ev, path, sizeof(path))) {
		if (ev->parent_dentry && dirs)
			cache_parent_verdict(tracer, ev, dirs, path);
		if (touches_special_file(tracer, ev, path))
			return;
		if (dirs && is_bookkeeping(dirs, path))
			return;
	} else if (ev->hdr.op == CCAPM_FILE_SPECIAL) {
		return;
	}
	session_count_file_op(tracer->sessions, key, ev->hdr.op - CCAPM_FILE_WRITE,
			      seconds(ev->hdr.ts_ns));
}

int events_handle(void *ctx, void *data, size_t size)
{
	struct tracer *tracer = ctx;
	const struct ccapm_event *hdr = data;
	const struct ccapm_uuid_event *uuid_ev = data;
	uint64_t when_s;

	if (size < sizeof(*hdr)) {
		tracer->malformed_events++;
		return 0;
	}
	when_s = seconds(hdr->ts_ns);
	switch (hdr->type) {
	case CCAPM_EV_SESSION_START:
		if (size < sizeof(struct ccapm_start_event))
			break;
		on_start(tracer, data, size);
		return 0;
	case CCAPM_EV_SESSION_UUID:
		if (size < sizeof(*uuid_ev))
			break;
		ensure_key(tracer, hdr);
		session_set_uuid(tracer->sessions, hdr->session, uuid_ev->uuid,
				 SESSION_ID_TRANSCRIPT);
		log_info("session key %u learned its id from a transcript", hdr->session);
		return 0;
	case CCAPM_EV_SESSION_END:
		session_end(tracer->sessions, hdr->session, when_s);
		log_info("session key %u ended: agent pid %u exited", hdr->session, hdr->pid);
		return 0;
	case CCAPM_EV_COMMAND:
		ensure_key(tracer, hdr);
		session_count_command(tracer->sessions, hdr->session, when_s);
		return 0;
	case CCAPM_EV_FILE:
		if (size < sizeof(struct ccapm_file_event))
			break;
		on_file(tracer, data, size);
		return 0;
	case CCAPM_EV_CONNECT:
		ensure_key(tracer, hdr);
		session_count_connect(tracer->sessions, hdr->session, hdr->op - CCAPM_FAMILY_IPV4,
				      when_s);
		return 0;
	}
	tracer->malformed_events++;
	return 0;
}
