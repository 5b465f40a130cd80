/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A bounded set of paths: the sockets, FIFOs and device nodes that session
 * processes created, so that deleting or renaming one is not counted as a
 * file operation. When full, the oldest path makes room.
 */
#ifndef CCAPM_PATH_SET_H
#define CCAPM_PATH_SET_H

#include <stdbool.h>
#include <stddef.h>

struct path_set;

struct path_set *path_set_new(size_t max_paths);
void path_set_free(struct path_set *set);
/* Adds path; returns false only when memory runs out. */
bool path_set_add(struct path_set *set, const char *path);
/* Removes path; returns whether it was in the set. */
bool path_set_remove(struct path_set *set, const char *path);
size_t path_set_count(const struct path_set *set);

#endif /* CCAPM_PATH_SET_H */
