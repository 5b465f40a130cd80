/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Recognising the exec of a Claude Code agent. */
#ifndef CCAPM_AGENT_H
#define CCAPM_AGENT_H

#define ARGV1_BYTES	512	/* longest argv[1] that is checked */
#define ARGV1_MASK	1023
#define CLI_JS_SUFFIX	"@anthropic-ai/claude-code/cli.js"
#define CLI_JS_LEN	32

/*
 * Tells whether argv[1] has the basename "claude" or ends with the path of
 * the Node.js CLI. buf is scratch space of at least ARGV1_MASK + 1 bytes.
 */
static __always_inline bool argv1_names_claude(struct task_struct *task, char *buf)
{
	unsigned long arg = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	long n;
	__u32 len;

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
 * Tells whether this exec starts a Claude Code agent: the exec'd name is
 * claude or claude.exe, the file sits in a claude/versions/ directory, or a
 * script or node process gets a claude CLI path as argv[1].
 */
static __always_inline bool is_agent_exec(struct task_struct *task, struct linux_binprm *bprm,
					  char *buf)
{
	struct dentry *file, *dir;
	char comm[16];
	bool script;

	/* At this tracepoint comm is the basename of the exec'd path. */
	bpf_get_current_comm(comm, sizeof(comm));
	if (bytes_equal(comm, "claude", 7) || bytes_equal(comm, "claude.exe", 11))
		return true;

	/* The file after symlinks, such as bin/claude.exe or versions/2.1.332. */
	file = BPF_CORE_READ(bprm, file, f_path.dentry);
	if (dentry_name_is(file, "claude", 6) || dentry_name_is(file, "claude.exe", 10))
		return true;
	dir = BPF_CORE_READ(file, d_parent);
	if (dentry_name_is(dir, "versions", 8) &&
	    dentry_name_is(BPF_CORE_READ(dir, d_parent), "claude", 6))
		return true;

	script = BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename);
	if (!script && !dentry_name_is(file, "node", 4) && !dentry_name_is(file, "nodejs", 6))
		return false;
	return argv1_names_claude(task, buf);
}

#endif /* CCAPM_AGENT_H */
