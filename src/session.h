/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The session table: what each session key has done, and how keys map to
 * session_id labels. Counts live in keys; a key's label is its UUID once
 * known, else "pid-<agent pid>". Labels are resolved only when metrics are
 * collected, so activity seen before a UUID is known moves to it whole.
 */
#ifndef CCAPM_SESSION_H
#define CCAPM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bookkeeping.h"
#include "textfile.h"
#include "uuid.h"

struct session_table;

/* Sources of a key's UUID, weakest first. */
enum session_id_source {
	SESSION_ID_NONE,
	SESSION_ID_HINT,	/* argv, a child's environment, sessions/<pid>.json */
	SESSION_ID_TRANSCRIPT,	/* the kernel saw the transcript opened */
};

struct session_start {
	uint32_t key;
	uint32_t agent_pid;
	const char *user;
	const char *cwd;
	const struct agent_dirs *dirs;
	enum session_id_source id_source;
	uint8_t uuid[UUID_BYTES];
};

/* Decisions the table leaves to its owner, which owns the BPF maps. */
struct session_hooks {
	/* Tells whether a live process still belongs to key. */
	bool (*key_in_use)(uint32_t key, void *ctx);
	/* Called when the record of key is freed. */
	void (*key_freed)(uint32_t key, void *ctx);
	void *ctx;
};

struct session_table *session_table_new(void);
void session_table_free(struct session_table *table);

/* Adds a key; an existing record for it is replaced. Returns 0 or -ENOMEM. */
int session_add(struct session_table *table, const struct session_start *start, uint64_t now_s);
bool session_exists(const struct session_table *table, uint32_t key);
/* The bookkeeping dirs of key, or NULL for an unknown key. */
const struct agent_dirs *session_dirs(const struct session_table *table, uint32_t key);

enum session_id_source session_id_source(const struct session_table *table, uint32_t key);
/* Sets the UUID of key unless one from a stronger source is set. */
void session_set_uuid(struct session_table *table, uint32_t key, const uint8_t uuid[UUID_BYTES],
		      enum session_id_source source);
/* Marks the agent of key as exited at now_s. */
void session_end(struct session_table *table, uint32_t key, uint64_t now_s);

void session_count_command(struct session_table *table, uint32_t key, uint64_t when_s);
void session_count_file_op(struct session_table *table, uint32_t key, int op, uint64_t when_s);
void session_count_connect(struct session_table *table, uint32_t key, int family,
			   uint64_t when_s);

/*
 * Drops the series of labels whose keys have all ended and been idle for
 * retention_s. A dropped key's record stays, with zeroed counts, while
 * hooks->key_in_use says a process still holds it; otherwise it is freed.
 */
void session_expire(struct session_table *table, uint64_t now_s, uint64_t retention_s,
		    const struct session_hooks *hooks);

/*
 * Fills *rows with one entry per label, sorted by session_id, and returns
 * how many, or -ENOMEM. The strings in rows stay valid until the next call
 * that changes the table; free the array with free().
 */
ssize_t session_collect(const struct session_table *table, uint64_t now_s,
			struct session_metrics **rows);

#endif /* CCAPM_SESSION_H */
