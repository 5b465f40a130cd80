// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"

#define READ_MAX_BYTES	(1 << 20)

static ssize_t read_file(const char *path, char **data)
{
	size_t size = 4096, len = 0;
	char *buf = NULL, *grown;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || len + 1 >= size) {
			if (buf)
				size *= 2;
			grown = size <= READ_MAX_BYTES ? realloc(buf, size) : NULL;
			if (!grown) {
				err = buf ? -EFBIG : -ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0) {
			err = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	*data = buf;
	return len;
fail:
	free(buf);
	close(fd);
	return err;
}

ssize_t procfs_read(pid_t pid, const char *name, char **data)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return read_file(path, data);
}

pid_t procfs_ppid(pid_t pid)
{
	char *stat, *end;
	pid_t ppid = -1;

	if (procfs_read(pid, "stat", &stat) < 0)
		return -1;
	/* comm may hold spaces and parentheses: fields resume after the last ')'. */
	end = strrchr(stat, ')');
	if (end && sscanf(end + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	free(stat);
	return ppid;
}

#define PF_EXITING	0x00000004	/* include/linux/sched.h */

bool procfs_exiting(pid_t pid)
{
	char *stat, *end, state = 'X';
	unsigned long flags = PF_EXITING;

	if (procfs_read(pid, "stat", &stat) < 0)
		return true;
	/* After comm: state ppid pgrp session tty_nr tpgid flags. */
	end = strrchr(stat, ')');
	if (end)
		sscanf(end + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags);
	free(stat);
	return state == 'Z' || state == 'X' || (flags & PF_EXITING);
}

int64_t procfs_uid(pid_t pid)
{
	char *status, *line;
	int64_t uid = -1;
	unsigned int value;

	if (procfs_read(pid, "status", &status) < 0)
		return -1;
	line = strstr(status, "\nUid:");
	if (line && sscanf(line + 5, "%u", &value) == 1)
		uid = value;
	free(status);
	return uid;
}

/* Looks uid up in one passwd file; returns false if the file or the entry is missing. */
static bool passwd_lookup(const char *file, uid_t uid, char name[USER_NAME_BYTES], char *home,
			  size_t home_size)
{
	char line[1024], *fields[7], *save, *p;
	bool found = false;
	FILE *f;

	f = fopen(file, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		int n = 0;

		line[strcspn(line, "\n")] = '\0';
		for (p = strtok_r(line, ":", &save); p && n < 7; p = strtok_r(NULL, ":", &save))
			fields[n++] = p;
		if (n < 6 || strtoul(fields[2], NULL, 10) != uid)
			continue;
		snprintf(name, USER_NAME_BYTES, "%s", fields[0]);
		snprintf(home, home_size, "%s", fields[5]);
		found = true;
	}
	fclose(f);
	return found;
}

void procfs_passwd(pid_t pid, uid_t uid, char name[USER_NAME_BYTES], char *home,
		   size_t home_size)
{
	char path[64];

	home[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", pid);
	if (passwd_lookup(path, uid, name, home, home_size))
		return;
	if (passwd_lookup("/etc/passwd", uid, name, home, home_size))
		return;
	snprintf(name, USER_NAME_BYTES, "%u", uid);
}

uint64_t procfs_dir_ino(pid_t pid, const char *dir)
{
	char path[PATHS_MAX + 64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, dir);
	if (stat(path, &st) && stat(dir, &st))
		return 0;
	return S_ISDIR(st.st_mode) ? st.st_ino : 0;
}

bool procfs_agent_dirs(pid_t pid, uid_t uid, const char *env, size_t env_len,
		       struct agent_dirs *dirs)
{
	char name[USER_NAME_BYTES], home[PATH_MAX];

	procfs_passwd(pid, uid, name, home, sizeof(home));
	return agent_dirs_init(dirs, env, env_len, uid, home[0] ? home : NULL);
}

/* Finds "sessionId" followed by ':' and a quoted UUID in a small JSON object. */
static bool json_session_id(const char *json, uint8_t uuid[UUID_BYTES])
{
	const char *p = strstr(json, "\"sessionId\"");

	if (!p)
		return false;
	p += strlen("\"sessionId\"");
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return false;
	p += strspn(p, " \t\r\n");
	if (*p++ != '"' || strnlen(p, 37) < 37 || p[36] != '"')
		return false;
	return uuid_parse(p, uuid);
}

/*
 * Returns the pid of the process in its own PID namespace: the last NSpid
 * field of its status, or pid itself when that cannot be read.
 */
static pid_t own_view_pid(pid_t pid)
{
	char *status, *line;
	pid_t inner = pid;

	if (procfs_read(pid, "status", &status) < 0)
		return pid;
	line = strstr(status, "\nNSpid:");
	if (line) {
		line += strlen("\nNSpid:");
		for (char *end; *line && *line != '\n'; line = end) {
			long value = strtol(line, &end, 10);

			if (end == line)
				break;
			inner = value;
		}
	}
	free(status);
	return inner;
}

bool procfs_registry_session_id(pid_t pid, const char *config_dir, uint8_t uuid[UUID_BYTES])
{
	char path[PATHS_MAX + 96], *json;
	bool found;

	/* The agent names the file with its pid in its own PID namespace. */
	snprintf(path, sizeof(path), "/proc/%d/root%s/sessions/%d.json", pid, config_dir,
		 own_view_pid(pid));
	if (read_file(path, &json) < 0)
		return false;
	found = json_session_id(json, uuid);
	free(json);
	return found;
}
