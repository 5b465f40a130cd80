/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Session keys: handed out at an agent exec, switched by transcripts. */
#ifndef CCAPM_SESSION_H
#define CCAPM_SESSION_H

#define TRANSCRIPT_NAME_LEN	(CCAPM_UUID_CHARS + 6)	/* "<uuid>.jsonl" */

static __always_inline __u32 next_session_key(void)
{
	return __sync_fetch_and_add(&session_seq, 1) + 1;
}

/* Gives tgid a fresh session key unless the procs map is full. */
static __always_inline void start_session_by_exec(struct task_struct *task, __u32 tgid)
{
	struct ccapm_proc proc = { .flags = CCAPM_PROC_AGENT };
	struct ccapm_session session = { .agent_pid = tgid };
	struct ccapm_start_event *ev;

	proc.session = next_session_key();
	if (bpf_map_update_elem(&procs, &tgid, &proc, BPF_ANY)) {
		__sync_fetch_and_add(&procs_lost, 1);
		return;
	}
	if (bpf_map_update_elem(&sessions, &proc.session, &session, BPF_NOEXIST))
		__sync_fetch_and_add(&sessions_lost, 1);
	emit_start(task, proc.session, tgid, 0, 0, NULL, true);

	ev = scratch();
	if (ev && ev->hdr.type == CCAPM_EV_SESSION_START && ev->hdr.session == proc.session)
		register_config_from_env(ev, proc.session);
}

/*
 * Tells whether dentry is <dir>/projects/<dir>/<uuid>.jsonl, and returns
 * the uuid and the outermost <dir>, which may be the config dir.
 */
static __always_inline bool transcript_uuid(struct dentry *dentry, __u8 *uuid,
					    struct dentry **config_dir)
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
	*config_dir = BPF_CORE_READ(projects, d_parent);
	return true;
}

/* Compares a dentry's name with a name of name_len bytes. */
static __always_inline bool dentry_name_equals(struct dentry *dentry, const char *name,
					       __u32 name_len)
{
	char actual[CCAPM_CONFIG_NAME_BYTES];

	if (name_len == 0 || name_len > CCAPM_CONFIG_NAME_BYTES ||
	    BPF_CORE_READ(dentry, d_name.len) != name_len)
		return false;
	if (bpf_probe_read_kernel(actual, name_len, BPF_CORE_READ(dentry, d_name.name)))
		return false;
	for (int i = 0; i < CCAPM_CONFIG_NAME_BYTES && i < name_len; i++)
		if (actual[i] != name[i])
			return false;
	return true;
}

/*
 * Tells whether dir is the session's config dir, as userspace registered
 * it. Before registration, which follows an agent exec by milliseconds,
 * only the default name .claude qualifies, so a look-alike such as
 * <work>/projects/<dir>/<uuid>.jsonl never sets the id.
 */
static __always_inline bool is_config_dir(struct dentry *dir, __u32 session)
{
	struct ccapm_config *config = bpf_map_lookup_elem(&session_configs, &session);

	if (!config)
		return dentry_name_is(dir, ".claude", 7);
	if (config->ino)
		return BPF_CORE_READ(dir, d_inode, i_ino) == config->ino;
	return dentry_name_equals(dir, config->name, config->name_len);
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
	struct ccapm_config config = {};
	struct dentry *config_dir;
	__u32 old_key, flags;
	__u8 uuid[CCAPM_UUID_BYTES];

	if (!transcript_uuid(dentry, uuid, &config_dir) || !is_config_dir(config_dir, proc->session))
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
		bpf_ringbuf_submit(ev, submit_flags());
		return;
	}

	old_key = proc->session;
	flags = CCAPM_START_SWITCH | CCAPM_START_HAS_UUID;
	if (proc->flags & CCAPM_PROC_AGENT)
		flags |= CCAPM_START_PARENT_END;
	proc->session = next_session_key();
	proc->flags |= CCAPM_PROC_AGENT;
	config.ino = BPF_CORE_READ(config_dir, d_inode, i_ino);
	if (bpf_map_update_elem(&sessions, &proc->session, &fresh, BPF_NOEXIST) ||
	    bpf_map_update_elem(&session_configs, &proc->session, &config, BPF_NOEXIST))
		__sync_fetch_and_add(&sessions_lost, 1);
	emit_start(task, proc->session, tgid, old_key, flags, uuid, false);
}

#endif /* CCAPM_SESSION_H */
