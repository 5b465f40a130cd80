/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Building absolute paths from what the BPF side reports. */
#ifndef CCAPM_PATHS_H
#define CCAPM_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define PATHS_MAX	8192

/*
 * Writes the absolute path of dir, given as leaf-first NUL-terminated
 * names (dir_bytes bytes, depth names), into out. No names means "/".
 * Returns false if out is too small or the names are malformed.
 */
bool paths_from_components(const char *dir, size_t dir_bytes, unsigned int depth, char *out,
			   size_t out_size);

/*
 * Resolves name against base (absolute, may be NULL when name is
 * absolute) and normalises the result lexically: repeated slashes, "." and
 * ".." are folded; ".." at the root stays at the root. Symlinks are not
 * followed. Returns false if out is too small or name is relative with no
 * base.
 */
bool paths_resolve(const char *base, const char *name, char *out, size_t out_size);

/* Tells whether path is dir itself or inside it; both must be normalised. */
bool paths_is_under(const char *path, const char *dir);

#endif /* CCAPM_PATHS_H */
