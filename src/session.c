// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "window.h"

#define BUCKETS		256
#define LABEL_BYTES	48

struct key_record {
	struct key_record *next;	/* hash chain */
	uint32_t key;
	uint32_t agent_pid;
	char *user;
	char *cwd;
	struct agent_dirs dirs;
	enum session_id_source id_source;
	uint8_t uuid[UUID_BYTES];
	char label[LABEL_BYTES];
	uint64_t started_s;
	uint64_t ended_s;
	uint64_t last_event_s;
	bool ended;
	bool dropped;		/* series expired, kept while processes hold the key */
	uint64_t commands;
	uint64_t file_ops[FILE_OP_COUNT];
	uint64_t connects[FAMILY_COUNT];
	struct rate_window commands_window;
	struct rate_window file_ops_window;
	struct rate_window connects_window;
};

struct session_table {
	struct key_record *buckets[BUCKETS];
	size_t count;
};

struct session_table *session_table_new(void)
{
	return calloc(1, sizeof(struct session_table));
}

static void record_free(struct key_record *rec)
{
	free(rec->user);
	free(rec->cwd);
	agent_dirs_free(&rec->dirs);
	free(rec);
}

void session_table_free(struct session_table *table)
{
	struct key_record *rec, *next;

	if (!table)
		return;
	for (int i = 0; i < BUCKETS; i++) {
		for (rec = table->buckets[i]; rec; rec = next) {
			next = rec->next;
			record_free(rec);
		}
	}
	free(table);
}

static struct key_record **find_slot(const struct session_table *table, uint32_t key)
{
	struct key_record **slot = (struct key_record **)&table->buckets[key % BUCKETS];

	while (*slot && (*slot)->key != key)
		slot = &(*slot)->next;
	return slot;
}

static struct key_record *find(const struct session_table *table, uint32_t key)
{
	return *find_slot(table, key);
}

static void set_label(struct key_record *rec)
{
	if (rec->id_source == SESSION_ID_NONE)
		snprintf(rec->label, sizeof(rec->label), "pid-%u", rec->agent_pid);
	else
		uuid_format(rec->uuid, rec->label);
}

int session_add(struct session_table *table, const struct session_start *start, uint64_t now_s)
{
	struct key_record **slot = find_slot(table, start->key);
	struct key_record *rec = calloc(1, sizeof(*rec));

	if (!rec)
		return -ENOMEM;
	rec->key = start->key;
	rec->agent_pid = start->agent_pid;
	rec->user = strdup(start->user ? start->user : "");
	rec->cwd = strdup(start->cwd ? start->cwd : "");
	if (!rec->user || !rec->cwd || (start->dirs && !agent_dirs_copy(&rec->dirs, start->dirs))) {
		record_free(rec);
		return -ENOMEM;
	}
	rec->id_source = start->id_source;
	memcpy(rec->uuid, start->uuid, UUID_BYTES);
	set_label(rec);
	rec->started_s = now_s;
	rec->last_event_s = now_s;

	if (*slot) {
		rec->next = (*slot)->next;
		record_free(*slot);
	} else {
		table->count++;
	}
	*slot = rec;
	return 0;
}

bool session_exists(const struct session_table *table, uint32_t key)
{
	return find(table, key) != NULL;
}

const struct agent_dirs *session_dirs(const struct session_table *table, uint32_t key)
{
	struct key_record *rec = find(table, key);

	return rec ? &rec->dirs : NULL;
}

enum session_id_source session_id_source(const struct session_table *table, uint32_t key)
{
	struct key_record *rec = find(table, key);

	return rec ? rec->id_source : SESSION_ID_NONE;
}

void session_set_uuid(struct session_table *table, uint32_t key, const uint8_t uuid[UUID_BYTES],
		      enum session_id_source source)
{
	struct key_record *rec = find(table, key);

	if (!rec || source < rec->id_source)
		return;
	memcpy(rec->uuid, uuid, UUID_BYTES);
	rec->id_source = source;
	set_label(rec);
}

void session_end(struct session_table *table, uint32_t key, uint64_t now_s)
{
	struct key_record *rec = find(table, key);

	if (!rec || rec->ended)
		return;
	rec->ended = true;
	rec->ended_s = now_s;
}

/* Finds the record an event counts against; a dropped record comes back to life. */
static struct key_record *touch(struct session_table *table, uint32_t key, uint64_t when_s)
{
	struct key_record *rec = find(table, key);

	if (!rec)
		return NULL;
	rec->dropped = false;
	if (when_s > rec->last_event_s)
		rec->last_event_s = when_s;
	return rec;
}

void session_count_command(struct session_table *table, uint32_t key, uint64_t when_s)
{
	struct key_record *rec = touch(table, key, when_s);

	if (!rec)
		return;
	rec->commands++;
	window_add(&rec->commands_window, when_s, 1);
}

void session_count_file_op(struct session_table *table, uint32_t key, int op, uint64_t when_s)
{
	struct key_record *rec;

	if (op < 0 || op >= FILE_OP_COUNT)
		return;
	rec = touch(table, key, when_s);
	if (!rec)
		return;
	rec->file_ops[op]++;
	window_add(&rec->file_ops_window, when_s, 1);
}

void session_count_connect(struct session_table *table, uint32_t key, int family,
			   uint64_t when_s)
{
	struct key_record *rec;

	if (family < 0 || family >= FAMILY_COUNT)
		return;
	rec = touch(table, key, when_s);
	if (!rec)
		return;
	rec->connects[family]++;
	window_add(&rec->connects_window, when_s, 1);
}

static int compare_labels(const void *a, const void *b)
{
	const struct key_record *x = *(const struct key_record *const *)a;
	const struct key_record *y = *(const struct key_record *const *)b;

	return strcmp(x->label, y->label);
}

/* Returns the live records sorted by label, or NULL with *n = 0 when empty. */
static struct key_record **sorted_records(const struct session_table *table, size_t *n,
					  bool with_dropped)
{
	struct key_record **list, *rec;
	size_t count = 0;

	*n = 0;
	list = calloc(table->count ? table->count : 1, sizeof(*list));
	if (!list)
		return NULL;
	for (int i = 0; i < BUCKETS; i++)
		for (rec = table->buckets[i]; rec; rec = rec->next)
			if (with_dropped || !rec->dropped)
				list[count++] = rec;
	qsort(list, count, sizeof(*list), compare_labels);
	*n = count;
	return list;
}

static bool group_expired(struct key_record **group, size_t n, uint64_t now_s,
			  uint64_t retention_s)
{
	for (size_t i = 0; i < n; i++) {
		struct key_record *rec = group[i];
		uint64_t idle_since = rec->ended_s > rec->last_event_s ? rec->ended_s :
									 rec->last_event_s;

		if (!rec->ended || now_s < idle_since + retention_s)
			return false;
	}
	return true;
}

static void drop_metrics(struct key_record *rec)
{
	rec->dropped = true;
	rec->commands = 0;
	memset(rec->file_ops, 0, sizeof(rec->file_ops));
	memset(rec->connects, 0, sizeof(rec->connects));
	memset(&rec->commands_window, 0, sizeof(rec->commands_window));
	memset(&rec->file_ops_window, 0, sizeof(rec->file_ops_window));
	memset(&rec->connects_window, 0, sizeof(rec->connects_window));
}

static void free_unused_dropped(struct session_table *table, const struct session_hooks *hooks)
{
	struct key_record **slot, *rec;

	for (int i = 0; i < BUCKETS; i++) {
		slot = &table->buckets[i];
		while ((rec = *slot)) {
			if (!rec->dropped || hooks->key_in_use(rec->key, hooks->ctx)) {
				slot = &rec->next;
				continue;
			}
			*slot = rec->next;
			table->count--;
			hooks->key_freed(rec->key, hooks->ctx);
			record_free(rec);
		}
	}
}

void session_expire(struct session_table *table, uint64_t now_s, uint64_t retention_s,
		    const struct session_hooks *hooks)
{
	struct key_record **list;
	size_t n, start, end;

	list = sorted_records(table, &n, false);
	if (!list)
		return;
	for (start = 0; start < n; start = end) {
		for (end = start + 1; end < n; end++)
			if (strcmp(list[start]->label, list[end]->label))
				break;
		if (!group_expired(list + start, end - start, now_s, retention_s))
			continue;
		for (size_t i = start; i < end; i++)
			drop_metrics(list[i]);
	}
	free(list);
	free_unused_dropped(table, hooks);
}

/* Picks whose pid, user and cwd a label shows: the newest live key, else the newest. */
static bool represents_better(const struct key_record *candidate, const struct key_record *best)
{
	if (candidate->ended != best->ended)
		return !candidate->ended;
	return candidate->started_s >= best->started_s;
}

static void add_record(struct session_metrics *row, const struct key_record *rec,
		       uint64_t now_s)
{
	row->commands += rec->commands;
	for (int i = 0; i < FILE_OP_COUNT; i++)
		row->file_ops[i] += rec->file_ops[i];
	for (int i = 0; i < FAMILY_COUNT; i++)
		row->connects[i] += rec->connects[i];
	row->commands_per_minute += window_sum(&rec->commands_window, now_s);
	row->file_ops_per_minute += window_sum(&rec->file_ops_window, now_s);
	row->connects_per_minute += window_sum(&rec->connects_window, now_s);
	if (!rec->ended)
		row->active = true;
}

ssize_t session_collect(const struct session_table *table, uint64_t now_s,
			struct session_metrics **rows)
{
	struct key_record **list, *best = NULL;
	struct session_metrics *out;
	size_t n, count = 0;

	*rows = NULL;
	list = sorted_records(table, &n, false);
	if (!list)
		return -ENOMEM;
	out = calloc(n ? n : 1, sizeof(*out));
	if (!out) {
		free(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct key_record *rec = list[i];

		if (i == 0 || strcmp(rec->label, list[i - 1]->label)) {
			count++;
			out[count - 1].session_id = rec->label;
			best = NULL;
		}
		if (!best || represents_better(rec, best)) {
			best = rec;
			out[count - 1].pid = rec->agent_pid;
			out[count - 1].user = rec->user;
			out[count - 1].cwd = rec->cwd;
		}
		add_record(&out[count - 1], rec, now_s);
	}
	free(list);
	*rows = out;
	return count;
}
