/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Finding $CLAUDE_CONFIG_DIR in an agent's environment at exec. */
#ifndef CCAPM_ENVIRON_H
#define CCAPM_ENVIRON_H

#define CONFIG_VAR_LEN	18		/* "CLAUDE_CONFIG_DIR=" */
#define NOT_CONFIG_VAR	0xffff		/* scan_env_byte: skip to the next string */

struct env_scan {
	char var[32];		/* "CLAUDE_CONFIG_DIR=", on the stack: no .rodata array */
	const char *env;	/* the environment block, in the scratch buffer */
	__u32 len;
	__u32 matched;		/* bytes of var matched in the current string */
	__u32 name_start;	/* the last path component of the value so far */
	__u32 name_end;
	bool after_slash;
	bool found;
};

/*
 * One byte of the block: matches the variable name at the start of each
 * string, then follows the last component of its value. A value cut off
 * at the end of the block is never found, as userspace ignores it too.
 */
static long scan_env_byte(__u64 i, void *data)
{
	struct env_scan *scan = data;
	char c;

	if (i >= scan->len)
		return 1;
	c = scan->env[i & (CCAPM_ENV_BYTES - 1)];
	if (c == '\0') {
		if (scan->matched == CONFIG_VAR_LEN + 1) {
			scan->found = true;
			return 1;
		}
		scan->matched = 0;
		return 0;
	}
	if (scan->matched < CONFIG_VAR_LEN) {
		if (c == scan->var[scan->matched & 31])
			scan->matched++;
		else
			scan->matched = NOT_CONFIG_VAR;
		return 0;
	}
	if (scan->matched == CONFIG_VAR_LEN) {
		/* Userspace ignores a relative value, so the kernel does too. */
		scan->matched = c == '/' ? CONFIG_VAR_LEN + 1 : NOT_CONFIG_VAR;
		scan->after_slash = true;
		return 0;
	}
	if (scan->matched != CONFIG_VAR_LEN + 1)
		return 0;
	if (c == '/') {
		scan->after_slash = true;
		return 0;
	}
	if (scan->after_slash)
		scan->name_start = i;
	scan->after_slash = false;
	scan->name_end = i + 1;
	return 0;
}

/*
 * Registers the config dir by name from the agent's $CLAUDE_CONFIG_DIR, so
 * its transcripts count before userspace registers the directory itself.
 * ev is the start record just built in the scratch buffer.
 */
static __always_inline void register_config_from_env(struct ccapm_start_event *ev, __u32 key)
{
	struct ccapm_config config = {};
	struct env_scan scan = { .var = "CLAUDE_CONFIG_DIR=" };
	__u32 off = ev->cwd_bytes + ev->argv_bytes, len;

	if (off > CCAPM_DIR_BYTES + NAME_MAX_BYTES + CCAPM_ARGV_BYTES)
		return;
	scan.env = ev->data + off;
	scan.len = ev->env_bytes;
	bpf_loop(CCAPM_ENV_BYTES, scan_env_byte, &scan, 0);
	len = scan.name_end - scan.name_start;
	if (!scan.found || len == 0 || len >= CCAPM_CONFIG_NAME_BYTES)
		return;
	if (bpf_probe_read_kernel(config.name, len,
				  scan.env + (scan.name_start & (CCAPM_ENV_BYTES - 1))))
		return;
	config.name_len = len;
	bpf_map_update_elem(&session_configs, &key, &config, BPF_NOEXIST);
}

#endif /* CCAPM_ENVIRON_H */
