/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the BPF programs and the userspace loader: map
 * values, ring buffer records and the constants both sides read.
 */
#ifndef CCAPM_H
#define CCAPM_H

#define CCAPM_UUID_BYTES	16
#define CCAPM_UUID_CHARS	36

/* Maximum bytes of a raw path copied from a syscall argument, NUL included. */
#define CCAPM_NAME_BYTES	4096
/* Maximum bytes of a directory path copied as leaf-first components. */
#define CCAPM_DIR_BYTES		4096
/* Most dentries walked when a directory path is copied. */
#define CCAPM_DIR_DEPTH		64
/* Most bytes of argv and of the environment copied at an agent exec. */
#define CCAPM_ARGV_BYTES	4096
#define CCAPM_ENV_BYTES		8192

/* Session keys at or above this value are handed out by userspace. */
#define CCAPM_USER_KEY_BASE	0x80000000u

/* proc.flags */
#define CCAPM_PROC_AGENT	0x1	/* the process that started its session */

/* One entry per process (tgid) that belongs to a session. */
struct ccapm_proc {
	__u32 session;
	__u32 flags;
};

/* session.flags */
#define CCAPM_SESSION_HAS_UUID	0x1

/*
 * One entry per session key, for the transcript switch decision. The
 * session's config dir lives in the session_configs map, written by
 * userspace, so the two sides never write one value.
 */
struct ccapm_session {
	__u32 agent_pid;
	__u32 flags;
	__u8 uuid[CCAPM_UUID_BYTES];
};

#define CCAPM_CONFIG_NAME_BYTES	64

/*
 * A session's config dir as userspace registers it. A transcript counts
 * only under this dir: matched by inode number when the dir existed at
 * registration (ino != 0), else by name. Without an entry, only a dir
 * named .claude qualifies.
 */
struct ccapm_config {
	__u64 ino;
	__u32 name_len;
	char name[CCAPM_CONFIG_NAME_BYTES];
};

enum ccapm_event_type {
	CCAPM_EV_SESSION_START = 1,
	CCAPM_EV_SESSION_UUID,
	CCAPM_EV_SESSION_END,
	CCAPM_EV_COMMAND,
	CCAPM_EV_FILE,
	CCAPM_EV_CONNECT,
};

enum ccapm_file_op {
	CCAPM_FILE_WRITE = 1,
	CCAPM_FILE_RENAME,
	CCAPM_FILE_DELETE,
	CCAPM_FILE_MKDIR,
	/* A socket, FIFO or device node was created. Not counted: it lets
	 * userspace tell a later delete or rename of that path from one of a
	 * regular file. */
	CCAPM_FILE_SPECIAL,
};

enum ccapm_family {
	CCAPM_FAMILY_IPV4 = 1,
	CCAPM_FAMILY_IPV6,
	CCAPM_FAMILY_UNIX,
};

/* The first bytes of every ring buffer record. */
struct ccapm_event {
	__u16 type;		/* enum ccapm_event_type */
	__u16 op;		/* enum ccapm_file_op or enum ccapm_family */
	__u32 session;		/* session key */
	__u32 pid;		/* tgid of the process that acted */
	__u32 parent_session;	/* SESSION_START by a switch: the old key */
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
};

/* start.flags */
#define CCAPM_START_SWITCH	0x1	/* a transcript switch, not an exec */
#define CCAPM_START_HAS_UUID	0x2
#define CCAPM_START_PARENT_END	0x4	/* the switching process was the old agent */
#define CCAPM_START_ARGV_CUT	0x8	/* argv was longer than CCAPM_ARGV_BYTES */
#define CCAPM_START_ENV_CUT	0x10	/* the environment was longer than CCAPM_ENV_BYTES */

/*
 * CCAPM_EV_SESSION_START. data contains the cwd as leaf-first, NUL-terminated
 * components (cwd_bytes), then argv (argv_bytes), then the environment
 * (env_bytes), both as the NUL-separated strings the process received.
 */
struct ccapm_start_event {
	struct ccapm_event hdr;
	__u32 uid;
	__u32 flags;
	__u8 uuid[CCAPM_UUID_BYTES];
	__u16 cwd_bytes;
	__u16 cwd_depth;
	__u16 argv_bytes;
	__u16 env_bytes;
	char data[];
};

/* CCAPM_EV_SESSION_UUID: the session learned its id from a transcript. */
struct ccapm_uuid_event {
	struct ccapm_event hdr;
	__u8 uuid[CCAPM_UUID_BYTES];
};

/* file.flags */
#define CCAPM_DIR_TRUNCATED	0x1	/* the walk stopped before the root */
#define CCAPM_FILE_USER_DIR	0x2	/* no path: the cached verdict of its dir is user work */

/*
 * A directory seen by a session, in the dir_verdicts map: opens for
 * writing in it are counted or dropped in the kernel, without copying the
 * path, while the verdict userspace gave the directory is fresh.
 */
struct ccapm_dir_key {
	__u64 dentry;		/* address of the directory's dentry */
	__u32 session;
	__u32 pad;
};

enum ccapm_dir_verdict {
	CCAPM_DIR_USER = 1,		/* no file in it is bookkeeping */
	CCAPM_DIR_BOOKKEEPING,		/* every file in it is */
};

struct ccapm_dir_entry {
	__u64 ino;		/* the directory's inode number, against dentry reuse */
	__u64 expires_ns;	/* CLOCK_MONOTONIC; bounds the life of a moved dir's verdict */
	__u32 verdict;		/* enum ccapm_dir_verdict */
	__u32 pad;
};

/*
 * CCAPM_EV_FILE. The path is name (a raw syscall argument, NUL-terminated)
 * resolved against dir (leaf-first components). For opens name is empty
 * and dir is the opened file itself; an absolute name comes with no dir.
 */
struct ccapm_file_event {
	struct ccapm_event hdr;
	__u16 name_bytes;
	__u16 dir_bytes;
	__u16 dir_depth;
	__u16 flags;
	/* For opens: the parent directory, as a dir_verdicts key and inode. */
	__u64 parent_dentry;
	__u64 parent_ino;
	char data[];
};

#endif /* CCAPM_H */
