/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The traced syscalls, each handled at sys_exit once it has succeeded. */
#ifndef CCAPM_SYSCALLS_H
#define CCAPM_SYSCALLS_H

static __always_inline bool is_write_open(__u64 flags)
{
	if (flags & O_PATH)
		return false;
	return (flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC));
}

/*
 * A write open by a session process. The parent directory's cached
 * verdict spares the path walk: most writes land in directories already
 * seen, and only a directory userspace has not classified costs the walk.
 */
static __always_inline int on_open(long fd, __u64 flags, bool flags_known)
{
	struct ccapm_dir_key key = {};
	struct ccapm_dir_entry *cached;
	struct task_struct *task;
	struct ccapm_proc *proc;
	struct dentry *dentry, *parent;
	struct file *file;
	__u64 parent_ino;
	umode_t mode;
	__u32 tgid;

	if (fd < 0 || (flags_known && !is_write_open(flags)))
		return 0;
	proc = current_proc(&tgid);
	if (!proc)
		return 0;
	task = bpf_get_current_task_btf();
	if (in_compat_syscall(task))
		return 0;
	file = fd_file(task, fd);
	if (!file)
		return 0;
	mode = BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT;
	if (mode != S_IFREG && mode != S_IFDIR)
		return 0;
	dentry = BPF_CORE_READ(file, f_path.dentry);
	apply_transcript(task, dentry, proc, tgid);

	parent = BPF_CORE_READ(dentry, d_parent);
	parent_ino = BPF_CORE_READ(parent, d_inode, i_ino);
	key.dentry = (__u64)parent;
	key.session = proc->session;
	cached = bpf_map_lookup_elem(&dir_verdicts, &key);
	if (cached && cached->ino == parent_ino && cached->expires_ns > bpf_ktime_get_ns()) {
		if (cached->verdict == CCAPM_DIR_USER)
			emit_user_dir_write(proc->session, tgid);
		return 0;
	}
	emit_file_opened(file, parent, parent_ino, proc->session, tgid);
	return 0;
}

/* openat2 keeps its flags in user memory, so the session lookup comes first. */
static __always_inline int on_openat2(long fd, const struct open_how *how)
{
	__u64 flags = 0;
	__u32 tgid;

	if (fd < 0 || !current_proc(&tgid))
		return 0;
	if (bpf_probe_read_user(&flags, sizeof(flags), &how->flags) || !is_write_open(flags))
		return 0;
	return on_open(fd, flags, true);
}

static __always_inline int on_path_op(long ret, __u16 op, long dfd, const char *pathname)
{
	struct task_struct *task;
	struct ccapm_proc *proc;
	__u32 tgid;

	if (ret != 0)
		return 0;
	proc = current_proc(&tgid);
	if (!proc)
		return 0;
	task = bpf_get_current_task_btf();
	if (in_compat_syscall(task))
		return 0;
	emit_file_at(task, op, proc->session, tgid, (int)dfd, pathname);
	return 0;
}

/* IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4. */
static __always_inline __u16 connect_family(const struct sockaddr *addr)
{
	struct sockaddr_in6 sin6;
	__u16 family = 0;

	if (bpf_probe_read_user(&family, sizeof(family), &addr->sa_family))
		return 0;
	if (family == AF_INET)
		return CCAPM_FAMILY_IPV4;
	if (family == AF_UNIX)
		return CCAPM_FAMILY_UNIX;
	if (family != AF_INET6)
		return 0;
	if (bpf_probe_read_user(&sin6, sizeof(sin6), addr))
		return CCAPM_FAMILY_IPV6;
	if (sin6.sin6_addr.in6_u.u6_addr32[0] == 0 && sin6.sin6_addr.in6_u.u6_addr32[1] == 0 &&
	    sin6.sin6_addr.in6_u.u6_addr32[2] == bpf_htonl(0xffff))
		return CCAPM_FAMILY_IPV4;
	return CCAPM_FAMILY_IPV6;
}

/* Non-blocking connects, as Node.js and Bun make, return -EINPROGRESS. */
static __always_inline int on_connect(long ret, const struct sockaddr *addr)
{
	struct ccapm_proc *proc;
	__u16 family;
	__u32 tgid;

	if (ret != 0 && ret != -EINPROGRESS)
		return 0;
	proc = current_proc(&tgid);
	if (!proc || in_compat_syscall(bpf_get_current_task_btf()))
		return 0;
	family = connect_family(addr);
	if (family)
		emit_event(CCAPM_EV_CONNECT, family, proc->session, tgid);
	return 0;
}

/*
 * Reports the path of a unix socket bound to the file system, so that a
 * later delete of it is not taken for a delete of a regular file.
 */
static __always_inline int on_bind(long ret, const struct sockaddr_un *addr)
{
	struct ccapm_proc *proc;
	__u16 family = 0;
	char first = 0;
	__u32 tgid;

	if (ret != 0)
		return 0;
	proc = current_proc(&tgid);
	if (!proc)
		return 0;
	if (bpf_probe_read_user(&family, sizeof(family), &addr->sun_family) ||
	    family != AF_UNIX)
		return 0;
	/* An abstract socket address starts with a NUL and has no file. */
	if (bpf_probe_read_user(&first, 1, addr->sun_path) || first == '\0')
		return 0;
	return on_path_op(0, CCAPM_FILE_SPECIAL, AT_FDCWD, addr->sun_path);
}

/* mknod of a FIFO, socket or device node; a regular file counts elsewhere. */
static __always_inline int on_mknod(long ret, long dfd, const char *pathname, __u32 mode)
{
	__u32 type = mode & S_IFMT;

	if (ret != 0 || type == 0 || type == S_IFREG)
		return 0;
	return on_path_op(ret, CCAPM_FILE_SPECIAL, dfd, pathname);
}

#endif /* CCAPM_SYSCALLS_H */
