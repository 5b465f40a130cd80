// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path_set.h"

#define BUCKETS	1024

struct entry {
	struct entry *next;	/* hash chain */
	uint64_t seq;		/* insertion order, for eviction */
	char path[];
};

struct path_set {
	struct entry *buckets[BUCKETS];
	/* Insertion order: order[seq % max_paths] is the entry added as seq, or NULL. */
	struct entry **order;
	size_t max_paths;
	size_t count;
	uint64_t next_seq;
};

/* FNV-1a, enough to spread paths over the buckets. */
static size_t bucket_of(const char *path)
{
	uint64_t hash = 14695981039346656037ull;

	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		hash = (hash ^ *p) * 1099511628211ull;
	return hash % BUCKETS;
}

struct path_set *path_set_new(size_t max_paths)
{
	struct path_set *set = calloc(1, sizeof(*set));

	if (!set)
		return NULL;
	set->max_paths = max_paths ? max_paths : 1;
	set->order = calloc(set->max_paths, sizeof(*set->order));
	if (!set->order) {
		free(set);
		return NULL;
	}
	return set;
}

void path_set_free(struct path_set *set)
{
	struct entry *e, *next;

	if (!set)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		for (e = set->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(set->order);
	free(set);
}

static struct entry **find_slot(struct path_set *set, const char *path)
{
	struct entry **slot = &set->buckets[bucket_of(path)];

	while (*slot && strcmp((*slot)->path, path))
		slot = &(*slot)->next;
	return slot;
}

static void unlink_entry(struct path_set *set, struct entry **slot)
{
	struct entry *e = *slot;

	*slot = e->next;
	set->order[e->seq % set->max_paths] = NULL;
	set->count--;
	free(e);
}

bool path_set_add(struct path_set *set, const char *path)
{
	struct entry **slot = find_slot(set, path), **oldest, *e;
	size_t len = strlen(path);

	if (*slot)
		return true;
	/* Once the set is full, the slot for the new seq contains the oldest entry. */
	oldest = &set->order[set->next_seq % set->max_paths];
	if (*oldest)
		unlink_entry(set, find_slot(set, (*oldest)->path));

	e = malloc(sizeof(*e) + len + 1);
	if (!e)
		return false;
	memcpy(e->path, path, len + 1);
	e->seq = set->next_seq++;
	slot = find_slot(set, path);
	e->next = *slot;
	*slot = e;
	set->order[e->seq % set->max_paths] = e;
	set->count++;
	return true;
}

bool path_set_remove(struct path_set *set, const char *path)
{
	struct entry **slot = find_slot(set, path);

	if (!*slot)
		return false;
	unlink_entry(set, slot);
	return true;
}

size_t path_set_count(const struct path_set *set)
{
	return set->count;
}
