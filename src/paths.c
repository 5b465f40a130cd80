// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "paths.h"

/*
 * A name of L bytes takes L + 1 bytes in dir with its NUL, and L + 1 bytes
 * in the path with its leading slash. So the path is exactly dir_bytes
 * long, and each name can be copied straight to its final place.
 */
bool paths_from_components(const char *dir, size_t dir_bytes, unsigned int depth, char *out,
			   size_t out_size)
{
	size_t off = 0, pos = dir_bytes;

	if (depth == 0 && dir_bytes == 0) {
		if (out_size < 2)
			return false;
		strcpy(out, "/");
		return true;
	}
	if (depth == 0 || out_size <= dir_bytes)
		return false;

	for (unsigned int i = 0; i < depth; i++) {
		const char *name = dir + off;
		const char *nul = memchr(name, '\0', dir_bytes - off);
		size_t len;

		if (!nul || nul == name || memchr(name, '/', nul - name))
			return false;
		len = nul - name;
		pos -= len + 1;
		out[pos] = '/';
		memcpy(out + pos + 1, name, len);
		off += len + 1;
	}
	if (off != dir_bytes)
		return false;
	out[dir_bytes] = '\0';
	return true;
}

struct path_buf {
	char *s;
	size_t len;	/* 0 is the root, which is written as "/" at the end */
	size_t size;
};

/* Applies one component ("." and ".." included) to the path in buf. */
static bool path_push(struct path_buf *buf, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return true;
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		while (buf->len > 0 && buf->s[--buf->len] != '/')
			;
		return true;
	}
	if (buf->len + 1 + len >= buf->size)
		return false;
	buf->s[buf->len++] = '/';
	memcpy(buf->s + buf->len, name, len);
	buf->len += len;
	return true;
}

static bool path_push_all(struct path_buf *buf, const char *path)
{
	while (*path) {
		size_t len;

		while (*path == '/')
			path++;
		len = strcspn(path, "/");
		if (len && !path_push(buf, path, len))
			return false;
		path += len;
	}
	return true;
}

bool paths_resolve(const char *base, const char *name, char *out, size_t out_size)
{
	struct path_buf buf = { .s = out, .len = 0, .size = out_size };

	if (out_size < 2)
		return false;
	if (name[0] != '/') {
		if (!base || base[0] != '/')
			return false;
		if (!path_push_all(&buf, base))
			return false;
	}
	if (!path_push_all(&buf, name))
		return false;
	if (buf.len == 0)
		buf.s[buf.len++] = '/';
	buf.s[buf.len] = '\0';
	return true;
}

bool paths_is_under(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	if (len == 1 && dir[0] == '/')
		return path[0] == '/';
	return !strncmp(path, dir, len) && (path[len] == '\0' || path[len] == '/');
}
