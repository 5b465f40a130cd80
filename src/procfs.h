/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What /proc shows of a process. Files of other processes are read through
 * /proc/PID/root, so a tracer in a container with the host's PID namespace
 * opens the same files the process would.
 */
#ifndef CCAPM_PROCFS_H
#define CCAPM_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bookkeeping.h"
#include "paths.h"
#include "uuid.h"

#define USER_NAME_BYTES	64

/* Reads /proc/PID/NAME whole into a malloc'd buffer; returns its length or -errno. */
ssize_t procfs_read(pid_t pid, const char *name, char **data);
/* Reads the parent pid from /proc/PID/stat; returns -1 if the process is gone. */
pid_t procfs_ppid(pid_t pid);
/*
 * Tells whether PID is gone or on its way out (PF_EXITING set, or a
 * zombie). An entry made for such a process would outlive it, because its
 * exit hook may already have run.
 */
bool procfs_exiting(pid_t pid);
/* Returns the real uid of PID, or -1. */
int64_t procfs_uid(pid_t pid);

/*
 * Finds uid in the passwd file under PID's root directory, falling back to the tracer's own.
 * name gets the user name or the decimal uid; home gets the home directory
 * or stays empty.
 */
void procfs_passwd(pid_t pid, uid_t uid, char name[USER_NAME_BYTES], char *home,
		   size_t home_size);

/* Returns the inode number of dir under PID's root directory, or 0. */
uint64_t procfs_dir_ino(pid_t pid, const char *dir);

/*
 * Fills dirs for an agent with uid from its environment block env (may be
 * NULL), taking the passwd home of uid when $HOME is missing.
 */
bool procfs_agent_dirs(pid_t pid, uid_t uid, const char *env, size_t env_len,
		       struct agent_dirs *dirs);

/* Reads the sessionId of PID from <config dir>/sessions/<pid>.json. */
bool procfs_registry_session_id(pid_t pid, const char *config_dir, uint8_t uuid[UUID_BYTES]);

#endif /* CCAPM_PROCFS_H */
