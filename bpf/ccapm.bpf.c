// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Follows the process trees of Claude Code agents and reports their
 * commands, file operations and connects. A process outside every session
 * costs one hash lookup per traced syscall that succeeded and emits nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "ccapm.h"
#include "bytes.h"
#include "syscall_abi.h"
#include "path.h"
#include "agent.h"

#define EINPROGRESS	115
#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define O_ACCMODE	00000003
#define O_WRONLY	00000001
#define O_CREAT		00000100
#define O_TRUNC		00001000
#define O_PATH		010000000
#define S_IFMT		00170000
#define S_IFDIR		0040000
#define S_IFREG		0100000

#define SCRATCH_BYTES	32768
#define TRANSCRIPT_NAME_LEN	(CCAPM_UUID_CHARS + 6)	/* "<uuid>.jsonl" */

/* Read by the loader through the mmapped .bss. */
__u64 events_lost;	/* ring buffer full */
__u64 procs_lost;	/* procs map full: a process went untracked */
__u64 sessions_lost;	/* sessions map full: transcript switches degrade */
/* Last session key handed out; userspace takes keys from the same counter. */
__u32 session_seq;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);			/* tgid */
	__type(value, struct ccapm_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);			/* session key */
	__type(value, struct ccapm_session);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);			/* session key */
	__type(value, __u64);			/* config dir inode number */
} session_configs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct scratch {
	char bytes[SCRATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

static __always_inline void *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}

static __always_inline struct ccapm_proc *current_proc(__u32 *tgid)
{
	*tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&procs, tgid);
}

static __always_inline __u32 next_session_key(void)
{
	return __sync_fetch_and_add(&session_seq, 1) + 1;
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
	bpf_ringbuf_submit(e, 0);
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
		if (len > CCAPM_ARGV_BYTES)
			len = CCAPM_ARGV_BYTES;
		if (!bpf_probe_read_user(ev->data + off, len, (void *)start)) {
			ev->argv_bytes = len;
			off += len;
		}

		start = BPF_CORE_READ(mm, env_start);
		end = BPF_CORE_READ(mm, env_end);
		len = end - start;
		if (len > CCAPM_ENV_BYTES)
			len = CCAPM_ENV_BYTES;
		if (!bpf_probe_read_user(ev->data + off, len, (void *)start)) {
			ev->env_bytes = len;
			off += len;
		}
	}

	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + off, 0))
		__sync_fetch_and_add(&events_lost, 1);
}

/* Gives tgid a fresh session key unless the procs map is full. */
static __always_inline void start_session_by_exec(struct task_struct *task, __u32 tgid)
{
	struct ccapm_proc proc = { .flags = CCAPM_PROC_AGENT };
	struct ccapm_session session = { .agent_pid = tgid };

	proc.session = next_session_key();
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_ANY)) {
		__sync_fetch_and_add(&procs_lost, 1);
		return;
	}
	if (bpf_map_update_elem(&sessions, &proc.session, &session, BPF_NOEXIST))
		__sync_fetch_and_add(&sessions_lost, 1);
	emit_start(task, proc.session, tgid, 0, 0, NULL, true);
}

/*
 * Tells whether dentry is <config dir>/projects/<dir>/<uuid>.jsonl, and
 * returns the uuid and the config dir's inode number.
 */
static __always_inline bool transcript_uuid(struct dentry *dentry, __u8 *uuid, __u64 *config_ino)
{
	char name[TRANSCRIPT_NAME_LEN];
	struct dentry *projects;

	if (BPF_CORE_READ(dentry, d_name.len) != TRANSCRIPT_NAME_LEN)
		return false;
	if (bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(dentry, d_name.name)))
		return false;
	if (!bytes_equal(name + CCAPM_UUID_CHARS, ".jsonl", 6) || !parse_uuid(name, uuid))
		return false;
	projects = BPF_CORE_READ(dentry, d_parent, d_parent);
	if (!dentry_name_is(projects, "projects", 8))
		return false;
	*config_ino = BPF_CORE_READ(projects, d_parent, d_inode, i_ino);
	return true;
}

/*
 * Applies a transcript opened for writing. The agent adopts the id of its
 * first transcript. Any other id moves the process, and the children it
 * forks later, to a new session key.
 */
static __always_inline void apply_transcript(struct task_struct *task, struct dentry *dentry,
					     struct ccapm_proc *proc, __u32 tgid)
{
	struct ccapm_session fresh = {}, *session;
	struct ccapm_uuid_event *ev;
	__u32 old_key, flags;
	__u64 config_ino, *known_ino;
	__u8 uuid[CCAPM_UUID_BYTES];

	if (!transcript_uuid(dentry, uuid, &config_ino))
		return;
	/* Until userspace registers the config dir, the path pattern alone decides. */
	known_ino = bpf_map_lookup_elem(&session_configs, &proc->session);
	if (known_ino && *known_ino != config_ino)
		return;
	session = bpf_map_lookup_elem(&sessions, &proc->session);
	if (session && (session->flags & CCAPM_SESSION_HAS_UUID) &&
	    bytes_equal((char *)session->uuid, (char *)uuid, CCAPM_UUID_BYTES))
		return;

	fresh.agent_pid = tgid;
	fresh.flags = CCAPM_SESSION_HAS_UUID;
	__builtin_memcpy(fresh.uuid, uuid, CCAPM_UUID_BYTES);

	if ((proc->flags & CCAPM_PROC_AGENT) &&
	    (!session || !(session->flags & CCAPM_SESSION_HAS_UUID))) {
		if (session) {
			__builtin_memcpy(session->uuid, uuid, CCAPM_UUID_BYTES);
			session->flags |= CCAPM_SESSION_HAS_UUID;
		} else if (bpf_map_update_elem(&sessions, &proc->session, &fresh, BPF_NOEXIST)) {
			__sync_fetch_and_add(&sessions_lost, 1);
		}
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (!ev) {
			__sync_fetch_and_add(&events_lost, 1);
			return;
		}
		fill_header(&ev->hdr, CCAPM_EV_SESSION_UUID, 0, proc->session, tgid);
		__builtin_memcpy(ev->uuid, uuid, CCAPM_UUID_BYTES);
		bpf_ringbuf_submit(ev, 0);
		return;
	}

	old_key = proc->session;
	flags = CCAPM_START_SWITCH | CCAPM_START_HAS_UUID;
	if (proc->flags & CCAPM_PROC_AGENT)
		flags |= CCAPM_START_PARENT_END;
	proc->session = next_session_key();
	proc->flags |= CCAPM_PROC_AGENT;
	if (bpf_map_update_elem(&sessions, &proc->session, &fresh, BPF_NOEXIST) ||
	    bpf_map_update_elem(&session_configs, &proc->session, &config_ino, BPF_NOEXIST))
		__sync_fetch_and_add(&sessions_lost, 1);
	emit_start(task, proc->session, tgid, old_key, flags, uuid, false);
}

/* Reports a file operation on an opened file: the path is the file's own. */
static __always_inline void emit_file_opened(struct file *file, __u32 session, __u32 tgid)
{
	struct ccapm_file_event *ev = scratch();
	bool truncated;
	__u32 off;

	if (!ev)
		return;
	fill_header(&ev->hdr, CCAPM_EV_FILE, CCAPM_FILE_WRITE, session, tgid);
	ev->data[0] = '\0';
	ev->name_bytes = 1;
	off = copy_path(__builtin_preserve_access_index(&file->f_path), ev->data + 1,
			&ev->dir_depth, &truncated);
	if (off > CCAPM_DIR_BYTES + NAME_MAX_BYTES)
		off = CCAPM_DIR_BYTES + NAME_MAX_BYTES;
	ev->dir_bytes = off;
	ev->flags = truncated ? CCAPM_DIR_TRUNCATED : 0;
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + 1 + off, 0))
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
	if (bpf_ringbuf_output(&events, ev, sizeof(*ev) + name_bytes + off, 0))
		__sync_fetch_and_add(&events_lost, 1);
}

static __always_inline bool is_write_open(__u64 flags)
{
	if (flags & O_PATH)
		return false;
	return (flags & O_ACCMODE) || (flags & (O_CREAT | O_TRUNC));
}

static __always_inline int on_open(long fd, __u64 flags, bool flags_known)
{
	struct task_struct *task;
	struct ccapm_proc *proc;
	struct file *file;
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
	apply_transcript(task, BPF_CORE_READ(file, f_path.dentry), proc, tgid);
	emit_file_opened(file, proc->session, tgid);
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

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	switch (SYSCALL_NR(regs)) {
	case NR_open:
		return on_open(ret, SYSCALL_ARG2(regs), true);
	case NR_creat:
		return on_open(ret, O_CREAT | O_WRONLY | O_TRUNC, true);
	case NR_openat:
		return on_open(ret, SYSCALL_ARG3(regs), true);
	case NR_openat2:
		return on_openat2(ret, (const struct open_how *)SYSCALL_ARG3(regs));
	case NR_rename:
		return on_path_op(ret, CCAPM_FILE_RENAME, AT_FDCWD, (const char *)SYSCALL_ARG2(regs));
	case NR_renameat:
	case NR_renameat2:
		return on_path_op(ret, CCAPM_FILE_RENAME, SYSCALL_ARG3(regs),
				  (const char *)SYSCALL_ARG4(regs));
	case NR_unlink:
	case NR_rmdir:
		return on_path_op(ret, CCAPM_FILE_DELETE, AT_FDCWD, (const char *)SYSCALL_ARG1(regs));
	case NR_unlinkat:
		return on_path_op(ret, CCAPM_FILE_DELETE, SYSCALL_ARG1(regs),
				  (const char *)SYSCALL_ARG2(regs));
	case NR_mkdir:
		return on_path_op(ret, CCAPM_FILE_MKDIR, AT_FDCWD, (const char *)SYSCALL_ARG1(regs));
	case NR_mkdirat:
		return on_path_op(ret, CCAPM_FILE_MKDIR, SYSCALL_ARG1(regs),
				  (const char *)SYSCALL_ARG2(regs));
	case NR_connect:
		return on_connect(ret, (const struct sockaddr *)SYSCALL_ARG2(regs));
	}
	return 0;
}

/* Children, threads aside, join their parent's session when they are forked. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ccapm_proc *proc, inherited;
	__u32 parent_tgid, tgid = child->tgid;

	if (child->pid != tgid)
		return 0;
	parent_tgid = parent->tgid;
	proc = bpf_map_lookup_elem(&procs, &parent_tgid);
	if (!proc)
		return 0;
	inherited.session = proc->session;
	inherited.flags = 0;
	if (bpf_map_update_elem(&procs, &tgid, &inherited, BPF_ANY))
		__sync_fetch_and_add(&procs_lost, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ccapm_proc *proc;
	__u32 tgid = task->tgid;
	char *buf;

	buf = scratch();
	if (!buf)
		return 0;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc) {
		/* An agent re-executing itself, as `env node cli.js` does, is not a command. */
		if ((proc->flags & CCAPM_PROC_AGENT) && is_agent_exec(task, bprm, buf))
			return 0;
		emit_event(CCAPM_EV_COMMAND, 0, proc->session, tgid);
		return 0;
	}
	if (is_agent_exec(task, bprm, buf))
		start_session_by_exec(task, tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct ccapm_proc *proc;
	__u32 tgid;

	/* Only the last thread out ends the process; live counts the others. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = task->tgid;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc)
		return 0;
	if (proc->flags & CCAPM_PROC_AGENT)
		emit_event(CCAPM_EV_SESSION_END, 0, proc->session, tgid);
	bpf_map_delete_elem(&procs, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
