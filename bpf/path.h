/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Turning file descriptors and dentries into path strings. */
#ifndef CCAPM_PATH_H
#define CCAPM_PATH_H

#define NAME_MAX_BYTES	256	/* NAME_MAX plus the NUL */
#define AT_FDCWD	-100

/*
 * Returns the open file behind fd in task, or NULL. task must be a BTF
 * pointer, as bpf_get_current_task_btf() returns, because the fd table is
 * read with direct loads.
 */
static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]);
	return file;
}

struct walk_ctx {
	char *buf;
	struct dentry *dentry;
	struct mount *mnt;
	struct dentry *mnt_root;
	__u32 off;
	__u16 depth;
	bool done;
};

/* One step up the tree: copy a name, or cross from a mount to its parent. */
static long walk_step(__u64 index, void *data)
{
	struct walk_ctx *w = data;
	struct dentry *dentry = w->dentry;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	struct mount *mnt = w->mnt, *up;
	long n;

	if (dentry == w->mnt_root || dentry == parent) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (dentry != w->mnt_root || up == mnt) {
			w->done = true;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->mnt_root = BPF_CORE_READ(up, mnt.mnt_root);
		return 0;
	}
	if (w->off >= CCAPM_DIR_BYTES)
		return 1;
	n = bpf_probe_read_kernel_str(w->buf + (w->off & (CCAPM_DIR_BYTES - 1)), NAME_MAX_BYTES,
				      BPF_CORE_READ(dentry, d_name.name));
	if (n <= 0)
		return 1;
	w->off += n;
	w->depth++;
	w->dentry = parent;
	return 0;
}

/*
 * Copies the path of a struct path into buf as leaf-first, NUL-terminated
 * names, up to the root of its mount namespace. buf must hold
 * CCAPM_DIR_BYTES + NAME_MAX_BYTES bytes. Returns the bytes written.
 */
static __always_inline __u32 copy_path(const struct path *path, char *buf, __u16 *depth,
				       bool *truncated)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct walk_ctx w = {
		.buf = buf,
		.dentry = BPF_CORE_READ(path, dentry),
		.mnt = (void *)vfsmnt - bpf_core_field_offset(struct mount, mnt),
		.mnt_root = BPF_CORE_READ(vfsmnt, mnt_root),
	};

	bpf_loop(CCAPM_DIR_DEPTH, walk_step, &w, 0);
	*depth = w.depth;
	*truncated = !w.done;
	return w.off;
}

/* Parses the decimal fd and the '/' after it; returns -1 if absent. */
static __always_inline long parse_fd(const char *s, int start, int *rest)
{
	long fd = 0;

#pragma unroll
	for (int i = 0; i < 10; i++) {
		char c = s[start + i];

		if (c == '/' && i > 0) {
			*rest = start + i + 1;
			return fd;
		}
		if (c < '0' || c > '9')
			return -1;
		fd = fd * 10 + (c - '0');
	}
	return -1;
}

/*
 * Recognises "/proc/self/fd/N/", "/proc/thread-self/fd/N/" and
 * "/dev/fd/N/" at the start of s. Returns N and sets *rest to the offset of
 * the name after it, or returns -1.
 */
static __always_inline long parse_proc_fd_prefix(const char *s, int *rest)
{
	if (bytes_equal(s, "/proc/self/fd/", 14))
		return parse_fd(s, 14, rest);
	if (bytes_equal(s, "/dev/fd/", 8))
		return parse_fd(s, 8, rest);
	if (bytes_equal(s, "/proc/thread-self/fd/", 21))
		return parse_fd(s, 21, rest);
	/* TODO: "/proc/<own pid>/fd/N/" is still taken as a plain absolute path. */
	return -1;
}

#endif /* CCAPM_PATH_H */
