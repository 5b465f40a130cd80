// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "caps.h"
#include "ccapm.h"
#include "cmdline.h"
#include "log.h"
#include "procfs.h"
#include "procscan.h"

#define MAX_ANCESTRY	4096	/* guards the parent walk against pid reuse loops */
#define PASSES		8	/* scans of /proc that catch processes forked meanwhile */

struct proc_entry {
	pid_t pid;
	pid_t ppid;
	bool agent;
};

struct proc_list {
	struct proc_entry *entries;
	size_t count;
};

static int compare_pids(const void *a, const void *b)
{
	const struct proc_entry *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static const struct proc_entry *find_entry(const struct proc_list *list, pid_t pid)
{
	struct proc_entry key = { .pid = pid };

	return bsearch(&key, list->entries, list->count, sizeof(key), compare_pids);
}

/* Tells whether the file argv1 names, resolved in pid's root and cwd, starts with "#!". */
static bool names_script(pid_t pid, const char *argv1)
{
	char path[PATH_MAX + 64], magic[2];
	ssize_t n;
	int fd;

	if (argv1[0] == '/')
		snprintf(path, sizeof(path), "/proc/%d/root%s", pid, argv1);
	else
		snprintf(path, sizeof(path), "/proc/%d/cwd/%s", pid, argv1);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == 2 && magic[0] == '#' && magic[1] == '!';
}

/* Sets *agent for pid; returns -errno when /proc/PID/exe cannot be read. */
static int inspect_process(pid_t pid, bool *agent)
{
	char link[64], exe[PATH_MAX], *cmdline = NULL, *argv1_copy = NULL;
	const char *argv1;
	size_t argv1_len;
	ssize_t n, len;

	*agent = false;
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	exe[n] = '\0';
	len = procfs_read(pid, "cmdline", &cmdline);
	argv1 = len > 0 ? cmdline_arg(cmdline, len, 1, &argv1_len) : NULL;
	if (argv1)
		argv1_copy = strndup(argv1, argv1_len);
	*agent = agent_matches(exe, argv1_copy, argv1_copy && names_script(pid, argv1_copy));
	free(argv1_copy);
	free(cmdline);
	return 0;
}

static int list_processes(struct proc_list *list)
{
	struct proc_entry *grown;
	size_t capacity = 0;
	struct dirent *de;
	DIR *dir;

	list->entries = NULL;
	list->count = 0;
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		pid_t pid, ppid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		ppid = procfs_ppid(pid);
		if (ppid < 0)
			continue;
		if (list->count == capacity) {
			capacity = capacity ? capacity * 2 : 256;
			grown = realloc(list->entries, capacity * sizeof(*grown));
			if (!grown) {
				closedir(dir);
				return -ENOMEM;
			}
			list->entries = grown;
		}
		list->entries[list->count++] = (struct proc_entry){ .pid = pid, .ppid = ppid };
	}
	closedir(dir);
	qsort(list->entries, list->count, sizeof(*list->entries), compare_pids);
	return 0;
}

static bool has_agent_ancestor(const struct proc_list *list, const struct proc_entry *entry)
{
	const struct proc_entry *up = entry;

	for (int depth = 0; depth < MAX_ANCESTRY && up->ppid > 0; depth++) {
		up = find_entry(list, up->ppid);
		if (!up)
			return false;
		if (up->agent)
			return true;
	}
	return false;
}

static void read_cwd(pid_t pid, char *cwd, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
	n = readlink(link, cwd, size - 1);
	cwd[n > 0 ? n : 0] = '\0';
}

/*
 * Enters a process found in /proc, unless the kernel placed it already.
 * An entry for a process that is exiting is taken back: its exit hook may
 * have run before the entry existed, and nothing else would remove it.
 */
static int add_scanned_proc(struct tracer *tracer, pid_t pid, uint32_t key, uint32_t flags)
{
	int err = tracer_add_proc(tracer, pid, key, flags);

	if (err)
		return err;
	if (procfs_exiting(pid)) {
		tracer_remove_proc(tracer, pid);
		return -ESRCH;
	}
	return 0;
}

static int start_scanned_session(struct tracer *tracer, pid_t pid, uint64_t now_s)
{
	char cwd[PATHS_MAX], user[USER_NAME_BYTES], home[PATHS_MAX];
	char *env = NULL, *argv = NULL;
	struct session_start start = { .agent_pid = pid, .user = user, .cwd = cwd };
	struct agent_dirs dirs = {};
	ssize_t env_len, argv_len;
	int64_t uid = procfs_uid(pid);
	int err;

	if (uid < 0)
		return -ESRCH;
	env_len = procfs_read(pid, "environ", &env);
	argv_len = procfs_read(pid, "cmdline", &argv);
	procfs_passwd(pid, uid, user, home, sizeof(home));
	read_cwd(pid, cwd, sizeof(cwd));
	agent_dirs_init(&dirs, env_len > 0 ? env : NULL, env_len > 0 ? env_len : 0, uid,
			home[0] ? home : NULL);
	if ((dirs.config_dir && procfs_registry_session_id(pid, dirs.config_dir, start.uuid)) ||
	    (argv_len > 0 && cmdline_session_id(argv, argv_len, start.uuid)))
		start.id_source = SESSION_ID_HINT;
	free(env);
	free(argv);

	start.key = tracer_new_session_key(tracer);
	start.dirs = &dirs;
	err = tracer_add_session(tracer, start.key, pid,
				 start.id_source != SESSION_ID_NONE ? start.uuid : NULL);
	if (!err)
		err = add_scanned_proc(tracer, pid, start.key, CCAPM_PROC_AGENT);
	if (!err) {
		tracer_register_config_dir(tracer, start.key, pid, &dirs);
		err = session_add(tracer->sessions, &start, now_s);
	}
	if (!err)
		log_info("session key %u found at start-up: agent pid %d, cwd %s", start.key, pid,
			 cwd);
	agent_dirs_free(&dirs);
	return err;
}

/* Reads CLAUDE_CODE_SESSION_ID, which the native CLI gives its children, for key's id. */
static void take_id_from_environ(struct tracer *tracer, uint32_t key, pid_t pid)
{
	const char *value;
	size_t value_len;
	uint8_t uuid[UUID_BYTES];
	char *env = NULL;
	ssize_t env_len;

	if (session_id_source(tracer->sessions, key) != SESSION_ID_NONE)
		return;
	env_len = procfs_read(pid, "environ", &env);
	value = env_len > 0 ? environ_get(env, env_len, "CLAUDE_CODE_SESSION_ID", &value_len) :
			      NULL;
	if (value && value_len == UUID_TEXT_BYTES - 1 && uuid_parse(value, uuid))
		session_set_uuid(tracer->sessions, key, uuid, SESSION_ID_HINT);
	free(env);
}

/* Places untracked processes whose parent is tracked, until none is left. */
static int place_children(struct tracer *tracer, const struct proc_list *list)
{
	bool changed = true;
	uint32_t key;
	int placed = 0;

	/* Parents may have higher pids than their children after pid wrap-around. */
	while (changed) {
		changed = false;
		for (size_t i = 0; i < list->count; i++) {
			const struct proc_entry *entry = &list->entries[i];

			if (tracer_proc_session(tracer, entry->pid, &key) ||
			    !tracer_proc_session(tracer, entry->ppid, &key) ||
			    add_scanned_proc(tracer, entry->pid, key, 0))
				continue;
			take_id_from_environ(tracer, key, entry->pid);
			changed = true;
			placed++;
		}
	}
	return placed;
}

/*
 * Places processes re-parented away from their session, such as detached
 * grandchildren, by the agent pid the native CLI leaves in CLAUDE_PID.
 */
static void place_orphans(struct tracer *tracer, const struct proc_list *list)
{
	const char *value;
	size_t value_len;
	char *env, pid_text[16];
	ssize_t env_len;
	uint32_t key;

	for (size_t i = 0; i < list->count; i++) {
		const struct proc_entry *entry = &list->entries[i];

		if (tracer_proc_session(tracer, entry->pid, &key))
			continue;
		env = NULL;
		env_len = procfs_read(entry->pid, "environ", &env);
		value = env_len > 0 ? environ_get(env, env_len, "CLAUDE_PID", &value_len) : NULL;
		if (value && value_len < sizeof(pid_text)) {
			memcpy(pid_text, value, value_len);
			pid_text[value_len] = '\0';
			if (tracer_proc_session(tracer, atoi(pid_text), &key) &&
			    !add_scanned_proc(tracer, entry->pid, key, 0))
				take_id_from_environ(tracer, key, entry->pid);
		}
		free(env);
	}
}

/*
 * Logs that some processes could not be inspected. With CAP_SYS_PTRACE
 * held, no fix is left to suggest, because a security module or a process
 * with capabilities the tracer lacks hides them, so it is logged with -v.
 */
static void report_denied(int denied)
{
	if (!denied)
		return;
	if (!caps_effective(CAP_SYS_PTRACE)) {
		log_error("permission denied reading /proc/PID/exe of %d processes, so sessions "
			  "that started before the tracer may be missed: run as root or grant "
			  "CAP_SYS_PTRACE", denied);
		return;
	}
	log_info("permission denied reading /proc/PID/exe of %d processes despite "
		 "CAP_SYS_PTRACE; sessions among them that started before the tracer are missed",
		 denied);
}

int procscan_run(struct tracer *tracer, uint64_t now_s)
{
	struct proc_list list;
	int sessions = 0, denied = 0, err;

	err = list_processes(&list);
	if (err)
		return err;
	for (size_t i = 0; i < list.count; i++) {
		err = inspect_process(list.entries[i].pid, &list.entries[i].agent);
		if (err == -EACCES || err == -EPERM)
			denied++;
	}
	report_denied(denied);
	for (size_t i = 0; i < list.count; i++) {
		struct proc_entry *entry = &list.entries[i];

		if (!entry->agent || has_agent_ancestor(&list, entry))
			continue;
		if (!start_scanned_session(tracer, entry->pid, now_s))
			sessions++;
	}

	place_children(tracer, &list);
	place_orphans(tracer, &list);

	/* Later listings catch children forked between a listing and their parent's entry. */
	for (int pass = 0; pass < PASSES; pass++) {
		int placed = place_children(tracer, &list);

		free(list.entries);
		if (placed == 0 && pass > 0)
			return sessions;
		err = list_processes(&list);
		if (err)
			return err;
	}
	free(list.entries);
	return sessions;
}
