/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Building ring buffer records: small ones in place, larger ones in scratch. */
#ifndef CCAPM_EMIT_H
#define CCAPM_EMIT_H

/*
 * Leaves the reader asleep until wakeup_bytes wait in the ring, since it
 * polls every 100 ms anyway: a wakeup per record cost more than all the
 * other work of a tracked event (docs/benchmarks.md).
 */
static __always_inline __u64 submit_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct ccapm_event *e, __u16 type, __u16 op,
					__u32 session, __u32 pid)
{
	e->type = type;
	e->op = op;
	e->session = session;
	e->pid = pid;
	e->parent_session = 0;
	e->ts_ns = bpf_ktime_get_ns();
}

static __always_inline void emit_event(__u16 type, __u16 op, __u32 session, __u32 pid)
{
	struct ccapm_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&events_lost, 1);
		return;
	}
	fill_header(e, type, op, session, pid);
	bpf_ringbuf_submit(e, submit_flags());
}

/*
 * Reports a new session key with the cwd of task and, for an agent exec,
 * its argv and environment, which userspace reads for the config dir and
 * the session id.
 */
static __always_inline void emit_start(struct task_struct *task, __u32 key, __u32 tgid,
				       __u32 parent_key, __u32 flags, const __u8 *uuid,
				       bool with_cmdline)
{
	struct ccapm_start_event *ev = scratch();
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start, end;
	bool truncated;
	__u32 off, len;

	if (!ev)
		return;
	fill_header(&ev->hdr, CCAPM_EV_SESSION_START, 0, key, tgid);
	ev->hdr.parent_session = parent_key;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->flags = flags;
	if (uuid)
		__builtin_memcpy(ev->uuid, uuid, CCAPM_UUID_BYTES);
	else
		__builtin_memset(ev->uuid, 0, CCAPM_UUID_BYTES);

	off = copy_path(__builtin_preserve_access_index(&task->fs->pwd), ev->data,
			&ev->cwd_depth, &truncated);
	if (off > CCAPM_DIR_BYTES + NAME_MAX_BYTES)
		off = CCAPM_DIR_BYTES + NAME_MAX_BYTES;
	ev->cwd_bytes = off;
	ev->argv_bytes = 0;
	ev->env_bytes = 0;

	if (with_cmdline) {
		start = BPF_CORE_READ(mm, arg_start);
		end = BPF_CORE_READ(mm, arg_end);
		len = end - start;
		if (len > CCAPM_ARGV_BYTES) {
			len = CCAPM_ARGV_BYTES;
			ev->flags |= CCAPM_START_ARGV_CUT;
		}
		if (!bpf_probe_read_user(ev->data + off, len, (void *)start)) {
			ev->argv_bytes = len;
			off += len;
		}

		start = BPF_CORE_READ(mm, env_start);
		end = BPF_CORE_READ(mm, env_end);
		len = end - start;
		if (len > CCAPM_ENV_BYTES) {
			len = CCAPM_ENV_BYTES;
			ev->flags |= CCAPM_START_ENV_CUT;
		}
		if (!bpf_probe_read_user(ev->data + off, len, (void *)start)) {
			ev->env_bytes = len;
			off += len;
		}
	}

	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + off, submit_flags()))
		__sync_fetch_and_add(&events_lost, 1);
}

/* Reports a write open in a directory cached as user work. The record has no path. */
static __always_inline void emit_user_dir_write(__u32 session, __u32 tgid)
{
	struct ccapm_file_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev) + 1, 0);

	if (!ev) {
		__sync_fetch_and_add(&events_lost, 1);
		return;
	}
	fill_header(&ev->hdr, CCAPM_EV_FILE, CCAPM_FILE_WRITE, session, tgid);
	ev->name_bytes = 1;
	ev->dir_bytes = 0;
	ev->dir_depth = 0;
	ev->flags = CCAPM_FILE_USER_DIR;
	ev->parent_dentry = 0;
	ev->parent_ino = 0;
	ev->data[0] = '\0';
	bpf_ringbuf_submit(ev, submit_flags());
}

/*
 * Reports a write open with the file's own path, and names the parent
 * directory so that userspace can cache a verdict for it.
 */
static __always_inline void emit_file_opened(struct file *file, struct dentry *parent,
					     __u64 parent_ino, __u32 session, __u32 tgid)
{
	struct ccapm_file_event *ev = scratch();
	bool truncated;
	__u32 off;

	if (!ev)
		return;
	fill_header(&ev->hdr, CCAPM_EV_FILE, CCAPM_FILE_WRITE, session, tgid);
	ev->parent_dentry = (__u64)parent;
	ev->parent_ino = parent_ino;
	ev->data[0] = '\0';
	ev->name_bytes = 1;
	off = copy_path(__builtin_preserve_access_index(&file->f_path), ev->data + 1,
			&ev->dir_depth, &truncated);
	if (off > CCAPM_DIR_BYTES + NAME_MAX_BYTES)
		off = CCAPM_DIR_BYTES + NAME_MAX_BYTES;
	ev->dir_bytes = off;
	ev->flags = truncated ? CCAPM_DIR_TRUNCATED : 0;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + 1 + off, submit_flags()))
		__sync_fetch_and_add(&events_lost, 1);
}

/*
 * Reports a file operation named by (dfd, pathname). A relative name, or one
 * under /proc/self/fd/N/, comes with the path of the directory it is
 * relative to, because the name alone does not say where the file is.
 */
static __always_inline void emit_file_at(struct task_struct *task, __u16 op, __u32 session,
					 __u32 tgid, long dfd, const char *pathname)
{
	struct ccapm_file_event *ev = scratch();
	const struct path *base = NULL;
	struct file *file;
	bool truncated = false;
	__u32 name_bytes, off = 0;
	long n, fd;
	int rest = 0;

	if (!ev)
		return;
	fill_header(&ev->hdr, CCAPM_EV_FILE, op, session, tgid);
	n = bpf_probe_read_user_str(ev->data, CCAPM_NAME_BYTES, pathname);
	if (n <= 0) {
		ev->data[0] = '\0';
		n = 1;
	}

	if (ev->data[0] == '/') {
		fd = parse_proc_fd_prefix(ev->data, &rest);
		file = fd >= 0 ? fd_file(task, fd) : NULL;
		if (file) {
			base = __builtin_preserve_access_index(&file->f_path);
			n = bpf_probe_read_user_str(ev->data, CCAPM_NAME_BYTES, pathname + rest);
			if (n <= 0) {
				ev->data[0] = '\0';
				n = 1;
			}
		}
	} else if (dfd == AT_FDCWD) {
		base = __builtin_preserve_access_index(&task->fs->pwd);
	} else {
		file = fd_file(task, dfd);
		if (file)
			base = __builtin_preserve_access_index(&file->f_path);
	}

	name_bytes = n & (CCAPM_NAME_BYTES - 1);
	if (n >= CCAPM_NAME_BYTES)
		name_bytes = CCAPM_NAME_BYTES - 1;
	ev->name_bytes = name_bytes;
	ev->dir_depth = 0;
	if (base) {
		off = copy_path(base, ev->data + name_bytes, &ev->dir_depth, &truncated);
		if (off > CCAPM_DIR_BYTES + NAME_MAX_BYTES)
			off = CCAPM_DIR_BYTES + NAME_MAX_BYTES;
	}
	ev->dir_bytes = off;
	ev->flags = truncated ? CCAPM_DIR_TRUNCATED : 0;
	ev->parent_dentry = 0;
	ev->parent_ino = 0;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + name_bytes + off, submit_flags()))
		__sync_fetch_and_add(&events_lost, 1);
}

#endif /* CCAPM_EMIT_H */
