/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Recognising the exec of a Claude Code agent. */
#ifndef CCAPM_AGENT_H
#define CCAPM_AGENT_H

#define ARGV1_BYTES	512	/* longest argv[1] that is checked */
#define ARGV1_MASK	1023
#define CLI_JS_SUFFIX	"@anthropic-ai/claude-code/cli.js"
#define CLI_JS_LEN	32

/* Tells whether argv[1] has the basename "claude" or ends with the path of the Node.js CLI. */
static __always_inline bool argv1_names_claude(struct task_struct *task)
{
	unsigned long arg = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	char *buf = scratch();
	long n;
	__u32 len;

	if (!buf)
		return false;

	n = bpf_probe_read_user_str(buf, NAME_MAX_BYTES, (void *)arg);
	if (n <= 0 || n >= NAME_MAX_BYTES)
		return false;
	arg += n;
	if (arg >= end)
		return false;
	n = bpf_probe_read_user_str(buf, ARGV1_BYTES, (void *)arg);
	if (n <= 1 || n >= ARGV1_BYTES)
		return false;
	len = n - 1;

	if (len == 6 && bytes_equal(buf, "claude", 6))
		return true;
	if (len > 6 && buf[(len - 7) & ARGV1_MASK] == '/' &&
	    bytes_equal_at(buf, len - 6, ARGV1_MASK, "claude", 6))
		return true;
	return len >= CLI_JS_LEN &&
	       bytes_equal_at(buf, len - CLI_JS_LEN, ARGV1_MASK, CLI_JS_SUFFIX, CLI_JS_LEN);
}

/*
 * Reads the name of dentry into name (16 bytes) when it is at most 15
 * bytes long, and returns its length, or 0 for a longer name. dentry comes
 * from a tracepoint argument, so its fields load without helper calls.
 */
static __always_inline __u32 short_dentry_name(struct dentry *dentry, char name[16])
{
	__u32 len = dentry->d_name.len;

	if (len == 0 || len > 15 || bpf_probe_read_kernel(name, 16, dentry->d_name.name))
		return 0;
	return len;
}

/* Tells whether dir is .../claude/versions, where the native installer puts binaries. */
static __always_inline bool is_versions_dir(struct dentry *dir)
{
	char name[16];

	/* Lengths first: most execs stop here without reading a name. */
	if (dir->d_name.len != 8 || dir->d_parent->d_name.len != 6)
		return false;
	if (short_dentry_name(dir, name) != 8 || !bytes_equal(name, "versions", 8))
		return false;
	return short_dentry_name(dir->d_parent, name) == 6 && bytes_equal(name, "claude", 6);
}

/*
 * Tells whether this exec starts a Claude Code agent: the exec'd name is
 * claude or claude.exe, the file sits in a claude/versions/ directory, or a
 * script or node process gets a claude CLI path as argv[1]. It runs for
 * every exec on the machine, so names are read only when their length fits.
 */
static __always_inline bool is_agent_exec(struct task_struct *task, struct linux_binprm *bprm)
{
	struct dentry *file;
	char comm[16], name[16];
	__u32 len;

	/* At this tracepoint comm is the basename of the exec'd path. */
	bpf_get_current_comm(comm, sizeof(comm));
	if (bytes_equal(comm, "claude", 7) || bytes_equal(comm, "claude.exe", 11))
		return true;

	/* The file after symlinks, such as bin/claude.exe or versions/2.1.332. */
	file = bprm->file->f_path.dentry;
	len = file->d_name.len;
	/* Only names as long as claude, claude.exe, node or nodejs are read. */
	if (len != 4 && len != 6 && len != 10)
		len = 0;
	else
		len = short_dentry_name(file, name);
	if ((len == 6 && bytes_equal(name, "claude", 6)) ||
	    (len == 10 && bytes_equal(name, "claude.exe", 10)))
		return true;
	if (is_versions_dir(file->d_parent))
		return true;

	if (!(len == 4 && bytes_equal(name, "node", 4)) &&
	    !(len == 6 && bytes_equal(name, "nodejs", 6)) && bprm->interp == bprm->filename)
		return false;
	return argv1_names_claude(task);
}

#endif /* CCAPM_AGENT_H */
