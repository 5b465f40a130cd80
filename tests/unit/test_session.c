// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "session.h"

/* An arbitrary monotonic second, far from 0 so that subtracting never wraps. */
#define T		1000000
#define RETENTION_S	300

#define ID_A	"0f8c2a4e-9b1d-4c3e-8a7f-5d6e4b3a2c1d"
#define ID_B	"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
#define ID_C	"ff000000-0000-4000-8000-000000000001"

/* Keys 1 and 1 + 256 share a hash bucket while session.c uses 256 buckets. */
#define KEY_SAME_BUCKET	257

static struct session_table *table;
static struct session_metrics *rows;
static ssize_t n_rows;

/* The test double behind session_hooks: the keys a process still uses, and the freed keys. */
static uint32_t keys_in_use[8];
static size_t n_keys_in_use;
static uint32_t freed_keys[16];
static size_t n_freed_keys;

static bool key_in_use(uint32_t key, void *ctx)
{
	for (size_t i = 0; i < n_keys_in_use; i++) {
		if (keys_in_use[i] == key)
			return true;
	}
	return false;
}

static void key_freed(uint32_t key, void *ctx)
{
	assert_true(n_freed_keys < sizeof(freed_keys) / sizeof(freed_keys[0]));
	freed_keys[n_freed_keys++] = key;
}

static const struct session_hooks hooks = {
	.key_in_use = key_in_use,
	.key_freed = key_freed,
};

static int setup_table(void **state)
{
	table = session_table_new();
	rows = NULL;
	n_rows = 0;
	n_keys_in_use = 0;
	n_freed_keys = 0;
	return table ? 0 : -1;
}

static int free_table(void **state)
{
	free(rows);
	session_table_free(table);
	return 0;
}

static void add_key_as(uint32_t key, uint32_t pid, const char *user, const char *cwd,
		       uint64_t now_s)
{
	struct session_start start = { .key = key, .agent_pid = pid, .user = user, .cwd = cwd };

	assert_int_equal(session_add(table, &start, now_s), 0);
}

static void add_key(uint32_t key, uint32_t pid, uint64_t now_s)
{
	add_key_as(key, pid, "alice", "/home/alice/project", now_s);
}

static void add_key_with_id(uint32_t key, uint32_t pid, const char *id,
			    enum session_id_source source, uint64_t now_s)
{
	struct session_start start = {
		.key = key,
		.agent_pid = pid,
		.user = "alice",
		.cwd = "/home/alice/project",
		.id_source = source,
	};

	assert_true(uuid_parse(id, start.uuid));
	assert_int_equal(session_add(table, &start, now_s), 0);
}

static void set_id(uint32_t key, const char *id, enum session_id_source source)
{
	uint8_t uuid[UUID_BYTES];

	assert_true(uuid_parse(id, uuid));
	session_set_uuid(table, key, uuid, source);
}

/* Replaces rows with the table's rows at now_s. */
static void collect(uint64_t now_s)
{
	free(rows);
	rows = NULL;
	n_rows = session_collect(table, now_s, &rows);
	assert_true(n_rows >= 0);
}

static const struct session_metrics *find_row(const char *session_id)
{
	for (ssize_t i = 0; i < n_rows; i++) {
		if (!strcmp(rows[i].session_id, session_id))
			return &rows[i];
	}
	return NULL;
}

static void expire(uint64_t now_s)
{
	session_expire(table, now_s, RETENTION_S, &hooks);
}

static size_t times_freed(uint32_t key)
{
	size_t n = 0;

	for (size_t i = 0; i < n_freed_keys; i++) {
		if (freed_keys[i] == key)
			n++;
	}
	return n;
}

/* Counts 5 commands, then 1 to 4 of each file op and 1 to 3 of each family, in enum order. */
static void count_one_of_each_size(uint32_t key, uint64_t when_s)
{
	for (int i = 0; i < 5; i++)
		session_count_command(table, key, when_s);
	for (int op = 0; op < FILE_OP_COUNT; op++) {
		for (int i = 0; i <= op; i++)
			session_count_file_op(table, key, op, when_s);
	}
	for (int family = 0; family < FAMILY_COUNT; family++) {
		for (int i = 0; i <= family; i++)
			session_count_connect(table, key, family, when_s);
	}
}

static void add_stores_key(void **state)
{
	add_key(1, 100, T);
	assert_true(session_exists(table, 1));
	assert_false(session_exists(table, 2));
	assert_int_equal(session_id_source(table, 1), SESSION_ID_NONE);
}

static void add_copies_dirs(void **state)
{
	char home[] = "/home/alice";
	char config_dir[] = "/home/alice/.claude";
	char tmpdir[] = "/tmp";
	struct agent_dirs dirs = {
		.home = home, .config_dir = config_dir, .tmpdir = tmpdir, .uid = 1000,
	};
	struct session_start start = { .key = 1, .agent_pid = 100, .dirs = &dirs };
	const struct agent_dirs *stored;

	assert_int_equal(session_add(table, &start, T), 0);
	stored = session_dirs(table, 1);
	assert_non_null(stored);
	assert_ptr_not_equal(stored->config_dir, config_dir);
	assert_string_equal(stored->home, "/home/alice");
	assert_string_equal(stored->config_dir, "/home/alice/.claude");
	assert_string_equal(stored->tmpdir, "/tmp");
	assert_int_equal(stored->uid, 1000);
	assert_null(session_dirs(table, 2));
}

static void add_without_user_or_cwd(void **state)
{
	add_key_as(1, 100, NULL, NULL, T);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].user, "");
	assert_string_equal(rows[0].cwd, "");
}

static void add_replaces_key(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	count_one_of_each_size(1, T);
	session_end(table, 1, T + 1);
	add_key_as(1, 200, "bob", "/srv", T + 2);
	collect(T + 2);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, "pid-200");
	assert_int_equal(rows[0].pid, 200);
	assert_string_equal(rows[0].user, "bob");
	assert_string_equal(rows[0].cwd, "/srv");
	assert_int_equal(rows[0].commands, 0);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 0);
	assert_int_equal(rows[0].connects[FAMILY_UNIX], 0);
	assert_int_equal(rows[0].commands_per_minute, 0);
	assert_true(rows[0].active);
	assert_int_equal(session_id_source(table, 1), SESSION_ID_NONE);
}

/* Replacing either key of a hash bucket keeps the other, whichever comes first in it. */
static void replace_keeps_other_keys(void **state)
{
	add_key(1, 100, T);
	add_key(KEY_SAME_BUCKET, 300, T);
	session_count_command(table, 1, T);
	session_count_command(table, KEY_SAME_BUCKET, T);

	add_key(1, 200, T + 1);
	assert_true(session_exists(table, KEY_SAME_BUCKET));
	collect(T + 1);
	assert_int_equal(n_rows, 2);
	assert_null(find_row("pid-100"));
	assert_non_null(find_row("pid-200"));
	assert_non_null(find_row("pid-300"));
	assert_int_equal(find_row("pid-300")->commands, 1);

	session_count_command(table, 1, T + 1);
	add_key(KEY_SAME_BUCKET, 400, T + 2);
	assert_true(session_exists(table, 1));
	collect(T + 2);
	assert_int_equal(n_rows, 2);
	assert_null(find_row("pid-300"));
	assert_non_null(find_row("pid-400"));
	assert_non_null(find_row("pid-200"));
	assert_int_equal(find_row("pid-200")->commands, 1);
}

static void count_each_kind(void **state)
{
	add_key(1, 100, T);
	count_one_of_each_size(1, T + 1);
	collect(T + 1);
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].commands, 5);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 1);
	assert_int_equal(rows[0].file_ops[FILE_OP_RENAME], 2);
	assert_int_equal(rows[0].file_ops[FILE_OP_DELETE], 3);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 4);
	assert_int_equal(rows[0].connects[FAMILY_IPV4], 1);
	assert_int_equal(rows[0].connects[FAMILY_IPV6], 2);
	assert_int_equal(rows[0].connects[FAMILY_UNIX], 3);
	assert_int_equal(rows[0].commands_per_minute, 5);
	assert_int_equal(rows[0].file_ops_per_minute, 10);
	assert_int_equal(rows[0].connects_per_minute, 6);
}

static void count_unknown_key_ignored(void **state)
{
	add_key(1, 100, T);
	session_count_command(table, 2, T);
	session_count_file_op(table, 2, FILE_OP_WRITE, T);
	session_count_connect(table, 2, FAMILY_IPV4, T);
	assert_false(session_exists(table, 2));
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].commands, 0);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 0);
	assert_int_equal(rows[0].connects[FAMILY_IPV4], 0);
}

static void count_bad_index_ignored(void **state)
{
	add_key(1, 100, T);
	session_count_file_op(table, 1, -1, T);
	session_count_file_op(table, 1, FILE_OP_COUNT, T);
	session_count_connect(table, 1, -1, T);
	session_count_connect(table, 1, FAMILY_COUNT, T);
	collect(T);
	assert_int_equal(n_rows, 1);
	for (int op = 0; op < FILE_OP_COUNT; op++)
		assert_int_equal(rows[0].file_ops[op], 0);
	for (int family = 0; family < FAMILY_COUNT; family++)
		assert_int_equal(rows[0].connects[family], 0);
	assert_int_equal(rows[0].file_ops_per_minute, 0);
	assert_int_equal(rows[0].connects_per_minute, 0);
}

static void collect_empty_table(void **state)
{
	collect(T);
	assert_int_equal(n_rows, 0);
}

static void pid_label_before_uuid(void **state)
{
	add_key(1, 4242, T);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, "pid-4242");
	assert_int_equal(rows[0].pid, 4242);
	assert_string_equal(rows[0].user, "alice");
	assert_string_equal(rows[0].cwd, "/home/alice/project");
	assert_true(rows[0].active);
}

static void uuid_carries_counts_over(void **state)
{
	add_key(1, 4242, T);
	count_one_of_each_size(1, T + 1);
	collect(T + 1);
	assert_non_null(find_row("pid-4242"));

	set_id(1, ID_A, SESSION_ID_HINT);
	collect(T + 2);
	assert_int_equal(n_rows, 1);
	assert_null(find_row("pid-4242"));
	assert_string_equal(rows[0].session_id, ID_A);
	assert_int_equal(rows[0].pid, 4242);
	assert_int_equal(rows[0].commands, 5);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 1);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 4);
	assert_int_equal(rows[0].connects[FAMILY_IPV4], 1);
	assert_int_equal(rows[0].connects[FAMILY_UNIX], 3);
	assert_int_equal(rows[0].commands_per_minute, 5);
	assert_int_equal(rows[0].file_ops_per_minute, 10);
	assert_int_equal(rows[0].connects_per_minute, 6);
}

/* A second agent's pid- row joins the row of the UUID it learns. */
static void carry_over_joins_uuid_row(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key(2, 200, T + 1);
	session_count_command(table, 1, T + 2);
	session_count_command(table, 2, T + 2);
	session_count_command(table, 2, T + 3);
	set_id(2, ID_A, SESSION_ID_TRANSCRIPT);
	collect(T + 3);
	assert_int_equal(n_rows, 1);
	assert_null(find_row("pid-200"));
	assert_string_equal(rows[0].session_id, ID_A);
	assert_int_equal(rows[0].commands, 3);
	assert_int_equal(rows[0].commands_per_minute, 3);
}

static void add_with_hint_label(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_HINT, T);
	assert_int_equal(session_id_source(table, 1), SESSION_ID_HINT);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_A);
}

static void transcript_overrides_hint(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_HINT, T);
	set_id(1, ID_B, SESSION_ID_TRANSCRIPT);
	assert_int_equal(session_id_source(table, 1), SESSION_ID_TRANSCRIPT);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_B);
}

static void hint_keeps_transcript(void **state)
{
	add_key(1, 100, T);
	set_id(1, ID_B, SESSION_ID_TRANSCRIPT);
	set_id(1, ID_A, SESSION_ID_HINT);
	assert_int_equal(session_id_source(table, 1), SESSION_ID_TRANSCRIPT);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_B);
}

static void hint_keeps_transcript_from_add(void **state)
{
	add_key_with_id(1, 100, ID_B, SESSION_ID_TRANSCRIPT, T);
	set_id(1, ID_A, SESSION_ID_HINT);
	collect(T);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_B);
}

/* session.h keeps a UUID only against a weaker source, so an equal source replaces it. */
static void same_source_replaces(void **state)
{
	add_key(1, 100, T);
	add_key(2, 200, T);
	set_id(1, ID_A, SESSION_ID_HINT);
	set_id(1, ID_B, SESSION_ID_HINT);
	set_id(2, ID_A, SESSION_ID_TRANSCRIPT);
	set_id(2, ID_C, SESSION_ID_TRANSCRIPT);
	collect(T);
	assert_int_equal(n_rows, 2);
	assert_null(find_row(ID_A));
	assert_non_null(find_row(ID_B));
	assert_int_equal(find_row(ID_B)->pid, 100);
	assert_non_null(find_row(ID_C));
	assert_int_equal(find_row(ID_C)->pid, 200);
}

static void set_uuid_unknown_key_ignored(void **state)
{
	set_id(1, ID_A, SESSION_ID_TRANSCRIPT);
	assert_false(session_exists(table, 1));
	assert_int_equal(session_id_source(table, 1), SESSION_ID_NONE);
	collect(T);
	assert_int_equal(n_rows, 0);
}

static void shared_label_sums_counts(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_A, SESSION_ID_HINT, T + 1);
	count_one_of_each_size(1, T + 2);
	count_one_of_each_size(2, T + 3);
	session_count_command(table, 2, T + 3);
	collect(T + 3);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_A);
	assert_int_equal(rows[0].commands, 11);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 2);
	assert_int_equal(rows[0].file_ops[FILE_OP_RENAME], 4);
	assert_int_equal(rows[0].file_ops[FILE_OP_DELETE], 6);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 8);
	assert_int_equal(rows[0].connects[FAMILY_IPV4], 2);
	assert_int_equal(rows[0].connects[FAMILY_IPV6], 4);
	assert_int_equal(rows[0].connects[FAMILY_UNIX], 6);
	assert_int_equal(rows[0].commands_per_minute, 11);
	assert_int_equal(rows[0].file_ops_per_minute, 20);
	assert_int_equal(rows[0].connects_per_minute, 12);
}

/* Each key's window drops its own old events from the label's sum. */
static void shared_label_sums_windows(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_A, SESSION_ID_TRANSCRIPT, T);
	session_count_command(table, 1, T);
	session_count_command(table, 2, T + 30);
	session_count_command(table, 2, T + 30);
	collect(T + 59);
	assert_int_equal(rows[0].commands_per_minute, 3);
	collect(T + 60);
	assert_int_equal(rows[0].commands_per_minute, 2);
	assert_int_equal(rows[0].commands, 3);
	collect(T + 90);
	assert_int_equal(rows[0].commands_per_minute, 0);
}

static void shared_label_active_if_any_live(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_A, SESSION_ID_TRANSCRIPT, T + 1);
	session_end(table, 2, T + 2);
	collect(T + 2);
	assert_int_equal(n_rows, 1);
	assert_true(rows[0].active);

	session_end(table, 1, T + 3);
	collect(T + 3);
	assert_int_equal(n_rows, 1);
	assert_false(rows[0].active);
}

/* Adds key 1 (pid 100) at T + 10 and key 2 (pid 200) at T + 20, or the other way round. */
static void add_pair(bool key_1_newer)
{
	uint32_t older = key_1_newer ? 2 : 1;
	uint32_t newer = key_1_newer ? 1 : 2;

	add_key_as(older, older * 100, older == 1 ? "alice" : "bob",
		   older == 1 ? "/a" : "/b", T + 10);
	add_key_as(newer, newer * 100, newer == 1 ? "alice" : "bob",
		   newer == 1 ? "/a" : "/b", T + 20);
	set_id(1, ID_A, SESSION_ID_TRANSCRIPT);
	set_id(2, ID_A, SESSION_ID_TRANSCRIPT);
}

static void assert_represented_by(uint32_t key)
{
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].pid, key * 100);
	assert_string_equal(rows[0].user, key == 1 ? "alice" : "bob");
	assert_string_equal(rows[0].cwd, key == 1 ? "/a" : "/b");
}

static void shared_label_newest_live_shown(void **state)
{
	for (int key_1_newer = 0; key_1_newer <= 1; key_1_newer++) {
		uint32_t older = key_1_newer ? 2 : 1;
		uint32_t newer = key_1_newer ? 1 : 2;

		add_pair(key_1_newer);
		collect(T + 30);
		assert_represented_by(newer);

		session_end(table, newer, T + 30);
		collect(T + 30);
		assert_represented_by(older);

		session_end(table, older, T + 31);
		collect(T + 31);
		assert_represented_by(newer);

		free_table(state);
		assert_int_equal(setup_table(state), 0);
	}
}

static void rows_sorted_by_session_id(void **state)
{
	const char *expected[] = { ID_A, ID_B, ID_C, "pid-10", "pid-9" };

	add_key(1, 9, T);
	add_key_with_id(2, 20, ID_C, SESSION_ID_HINT, T);
	add_key(3, 10, T);
	add_key_with_id(4, 40, ID_A, SESSION_ID_HINT, T);
	add_key_with_id(5, 50, ID_B, SESSION_ID_TRANSCRIPT, T);
	collect(T);
	assert_int_equal(n_rows, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(rows[i].session_id, expected[i]);
}

static void end_clears_active(void **state)
{
	add_key(1, 100, T);
	collect(T);
	assert_true(rows[0].active);
	session_end(table, 1, T + 1);
	session_end(table, 2, T + 1);
	collect(T + 1);
	assert_int_equal(n_rows, 1);
	assert_false(rows[0].active);
}

static void expire_at_retention(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T + 10);
	expire(T + 10 + RETENTION_S - 1);
	collect(T + 10 + RETENTION_S - 1);
	assert_int_equal(n_rows, 1);

	expire(T + 10 + RETENTION_S);
	collect(T + 10 + RETENTION_S);
	assert_int_equal(n_rows, 0);
}

static void expire_keeps_live_key(void **state)
{
	add_key(1, 100, T);
	expire(T + 10 * RETENTION_S);
	collect(T + 10 * RETENTION_S);
	assert_int_equal(n_rows, 1);
	assert_int_equal(n_freed_keys, 0);
}

static void expire_waits_for_late_event(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T);
	session_count_command(table, 1, T + 100);
	expire(T + RETENTION_S);
	collect(T + RETENTION_S);
	assert_int_equal(n_rows, 1);

	expire(T + 100 + RETENTION_S - 1);
	collect(T + 100 + RETENTION_S - 1);
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].commands, 1);

	expire(T + 100 + RETENTION_S);
	collect(T + 100 + RETENTION_S);
	assert_int_equal(n_rows, 0);
}

static void expire_counts_from_first_end(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T + 10);
	session_end(table, 1, T + 50);
	expire(T + 10 + RETENTION_S);
	collect(T + 10 + RETENTION_S);
	assert_int_equal(n_rows, 0);
}

static void expire_waits_for_every_key(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_A, SESSION_ID_TRANSCRIPT, T);
	session_count_command(table, 1, T);
	session_end(table, 1, T);
	session_end(table, 2, T + 100);
	expire(T + RETENTION_S);
	collect(T + RETENTION_S);
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].commands, 1);
	assert_int_equal(n_freed_keys, 0);

	expire(T + 100 + RETENTION_S);
	collect(T + 100 + RETENTION_S);
	assert_int_equal(n_rows, 0);
	assert_int_equal(times_freed(1), 1);
	assert_int_equal(times_freed(2), 1);
}

/* A live key of another label stays, however long it has been idle. */
static void expire_only_idle_labels(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_B, SESSION_ID_TRANSCRIPT, T);
	session_end(table, 1, T);
	expire(T + RETENTION_S);
	collect(T + RETENTION_S);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_B);
	assert_int_equal(times_freed(1), 1);
	assert_int_equal(times_freed(2), 0);
	assert_true(session_exists(table, 2));
}

static void expire_frees_unused_key(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T);
	expire(T + RETENTION_S);
	assert_false(session_exists(table, 1));
	assert_int_equal(n_freed_keys, 1);
	assert_int_equal(freed_keys[0], 1);

	expire(T + 2 * RETENTION_S);
	assert_int_equal(n_freed_keys, 1);
}

static void tombstone_kept_in_use(void **state)
{
	add_key(1, 100, T);
	count_one_of_each_size(1, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);
	collect(T + RETENTION_S);
	assert_int_equal(n_rows, 0);
	assert_true(session_exists(table, 1));
	assert_non_null(session_dirs(table, 1));
	assert_int_equal(n_freed_keys, 0);

	expire(T + 2 * RETENTION_S);
	assert_true(session_exists(table, 1));
	assert_int_equal(n_freed_keys, 0);
}

static void tombstone_freed_once_unused(void **state)
{
	add_key(1, 100, T);
	add_key(KEY_SAME_BUCKET, 300, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);
	assert_true(session_exists(table, 1));

	n_keys_in_use = 0;
	expire(T + RETENTION_S + 1);
	assert_false(session_exists(table, 1));
	assert_int_equal(times_freed(1), 1);

	expire(T + RETENTION_S + 2);
	assert_int_equal(times_freed(1), 1);
	assert_int_equal(n_freed_keys, 1);
	assert_true(session_exists(table, KEY_SAME_BUCKET));
}

static void tombstone_revives_from_zero(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	count_one_of_each_size(1, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);

	session_count_file_op(table, 1, FILE_OP_DELETE, T + RETENTION_S + 5);
	collect(T + RETENTION_S + 5);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_A);
	assert_int_equal(rows[0].commands, 0);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 0);
	assert_int_equal(rows[0].file_ops[FILE_OP_DELETE], 1);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 0);
	assert_int_equal(rows[0].connects[FAMILY_UNIX], 0);
	assert_int_equal(rows[0].commands_per_minute, 0);
	assert_int_equal(rows[0].file_ops_per_minute, 1);
	assert_int_equal(rows[0].connects_per_minute, 0);
	assert_false(rows[0].active);
	assert_int_equal(n_freed_keys, 0);
}

/* A revived key is idle from its new event, not from the end of its agent. */
static void revived_key_idle_from_event(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);
	session_count_command(table, 1, T + RETENTION_S + 5);
	n_keys_in_use = 0;

	expire(T + 2 * RETENTION_S + 4);
	collect(T + 2 * RETENTION_S + 4);
	assert_int_equal(n_rows, 1);
	assert_true(session_exists(table, 1));

	expire(T + 2 * RETENTION_S + 5);
	collect(T + 2 * RETENTION_S + 5);
	assert_int_equal(n_rows, 0);
	assert_false(session_exists(table, 1));
	assert_int_equal(times_freed(1), 1);
}

/* When a label expires, its key still in use keeps none of the counts of its freed key. */
static void shared_label_expires_whole(void **state)
{
	add_key_with_id(1, 100, ID_A, SESSION_ID_TRANSCRIPT, T);
	add_key_with_id(2, 200, ID_A, SESSION_ID_TRANSCRIPT, T);
	count_one_of_each_size(1, T);
	count_one_of_each_size(2, T);
	session_end(table, 1, T);
	session_end(table, 2, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);
	assert_true(session_exists(table, 1));
	assert_false(session_exists(table, 2));
	assert_int_equal(times_freed(1), 0);
	assert_int_equal(times_freed(2), 1);

	session_count_command(table, 1, T + RETENTION_S + 1);
	collect(T + RETENTION_S + 1);
	assert_int_equal(n_rows, 1);
	assert_string_equal(rows[0].session_id, ID_A);
	assert_int_equal(rows[0].pid, 100);
	assert_int_equal(rows[0].commands, 1);
	assert_int_equal(rows[0].file_ops[FILE_OP_MKDIR], 0);
	assert_int_equal(rows[0].commands_per_minute, 1);
}

/* With a retention under a minute, a revived key's old events are still in the window. */
static void revived_window_starts_empty(void **state)
{
	const uint64_t short_retention_s = 10;

	add_key(1, 100, T);
	count_one_of_each_size(1, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	session_expire(table, T + short_retention_s, short_retention_s, &hooks);
	collect(T + short_retention_s);
	assert_int_equal(n_rows, 0);

	session_count_command(table, 1, T + short_retention_s + 1);
	session_count_file_op(table, 1, FILE_OP_WRITE, T + short_retention_s + 1);
	session_count_connect(table, 1, FAMILY_IPV4, T + short_retention_s + 1);
	collect(T + short_retention_s + 1);
	assert_int_equal(n_rows, 1);
	assert_int_equal(rows[0].commands_per_minute, 1);
	assert_int_equal(rows[0].file_ops_per_minute, 1);
	assert_int_equal(rows[0].connects_per_minute, 1);
}

static void bad_index_keeps_tombstone(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T);
	keys_in_use[n_keys_in_use++] = 1;
	expire(T + RETENTION_S);
	session_count_file_op(table, 1, FILE_OP_COUNT, T + RETENTION_S + 1);
	session_count_connect(table, 1, -1, T + RETENTION_S + 1);
	collect(T + RETENTION_S + 1);
	assert_int_equal(n_rows, 0);
}

static void window_drops_old_events(void **state)
{
	add_key(1, 100, T);
	session_count_command(table, 1, T);
	session_count_command(table, 1, T + 30);
	session_count_file_op(table, 1, FILE_OP_WRITE, T);
	session_count_connect(table, 1, FAMILY_IPV6, T);
	collect(T + 59);
	assert_int_equal(rows[0].commands_per_minute, 2);
	assert_int_equal(rows[0].file_ops_per_minute, 1);
	assert_int_equal(rows[0].connects_per_minute, 1);

	collect(T + 60);
	assert_int_equal(rows[0].commands_per_minute, 1);
	assert_int_equal(rows[0].file_ops_per_minute, 0);
	assert_int_equal(rows[0].connects_per_minute, 0);

	collect(T + 90);
	assert_int_equal(rows[0].commands_per_minute, 0);
	assert_int_equal(rows[0].commands, 2);
	assert_int_equal(rows[0].file_ops[FILE_OP_WRITE], 1);
	assert_int_equal(rows[0].connects[FAMILY_IPV6], 1);
}

static void out_of_order_events_counted(void **state)
{
	add_key(1, 100, T);
	session_count_command(table, 1, T + 10);
	session_count_command(table, 1, T + 5);
	session_count_command(table, 1, T + 8);
	collect(T + 10);
	assert_int_equal(rows[0].commands, 3);
	assert_int_equal(rows[0].commands_per_minute, 3);
	collect(T + 65);
	assert_int_equal(rows[0].commands_per_minute, 2);
	collect(T + 69);
	assert_int_equal(rows[0].commands_per_minute, 1);
}

/* An event older than the last one does not move the start of the idle time back. */
static void out_of_order_keeps_last_event(void **state)
{
	add_key(1, 100, T);
	session_end(table, 1, T);
	session_count_command(table, 1, T + 10);
	session_count_command(table, 1, T + 5);
	expire(T + 9 + RETENTION_S);
	collect(T + 9 + RETENTION_S);
	assert_int_equal(n_rows, 1);

	expire(T + 10 + RETENTION_S);
	collect(T + 10 + RETENTION_S);
	assert_int_equal(n_rows, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup_table, free_table)
		TEST(add_stores_key),
		TEST(add_copies_dirs),
		TEST(add_without_user_or_cwd),
		TEST(add_replaces_key),
		TEST(replace_keeps_other_keys),
		TEST(count_each_kind),
		TEST(count_unknown_key_ignored),
		TEST(count_bad_index_ignored),
		TEST(collect_empty_table),
		TEST(pid_label_before_uuid),
		TEST(uuid_carries_counts_over),
		TEST(carry_over_joins_uuid_row),
		TEST(add_with_hint_label),
		TEST(transcript_overrides_hint),
		TEST(hint_keeps_transcript),
		TEST(hint_keeps_transcript_from_add),
		TEST(same_source_replaces),
		TEST(set_uuid_unknown_key_ignored),
		TEST(shared_label_sums_counts),
		TEST(shared_label_sums_windows),
		TEST(shared_label_active_if_any_live),
		TEST(shared_label_newest_live_shown),
		TEST(rows_sorted_by_session_id),
		TEST(end_clears_active),
		TEST(expire_at_retention),
		TEST(expire_keeps_live_key),
		TEST(expire_waits_for_late_event),
		TEST(expire_counts_from_first_end),
		TEST(expire_waits_for_every_key),
		TEST(expire_only_idle_labels),
		TEST(expire_frees_unused_key),
		TEST(tombstone_kept_in_use),
		TEST(tombstone_freed_once_unused),
		TEST(tombstone_revives_from_zero),
		TEST(revived_key_idle_from_event),
		TEST(shared_label_expires_whole),
		TEST(revived_window_starts_empty),
		TEST(bad_index_keeps_tombstone),
		TEST(window_drops_old_events),
		TEST(out_of_order_events_counted),
		TEST(out_of_order_keeps_last_event),
#undef TEST
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
