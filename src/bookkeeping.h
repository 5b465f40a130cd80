/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The files Claude Code writes for itself, which are not file operations
 * of the session: its config dir, ~/.claude.json with its lock, temp and
 * backup files, claude-<uid>/, cc-socks/ and cc-daemon-<uid>/ under its
 * temp dirs, /tmp/cc-socks-<uid>/, claude-<hex>-cwd files, and the debug
 * logs of the npm update check the Node.js CLI runs at start.
 */
#ifndef CCAPM_BOOKKEEPING_H
#define CCAPM_BOOKKEEPING_H

#include <stdbool.h>
#include <sys/types.h>

/* Normalised absolute directories an agent writes its bookkeeping to. */
struct agent_dirs {
	char *home;		/* $HOME, or the passwd entry's home */
	char *config_dir;	/* $CLAUDE_CONFIG_DIR, else $HOME/.claude */
	char *tmpdir;		/* $TMPDIR, else /tmp */
	char *claude_tmpdir;	/* $CLAUDE_CODE_TMPDIR, or NULL */
	char *runtime_dir;	/* $XDG_RUNTIME_DIR, or NULL */
	uid_t uid;
};

/*
 * Fills dirs from an environment block (see cmdline.h) and uid; passwd_home
 * stands in for a missing $HOME and may be NULL. Relative or empty values
 * are ignored. Returns false on allocation failure.
 */
bool agent_dirs_init(struct agent_dirs *dirs, const char *env, size_t env_len, uid_t uid,
		     const char *passwd_home);
/* Deep copy; returns false on allocation failure. */
bool agent_dirs_copy(struct agent_dirs *dst, const struct agent_dirs *src);
void agent_dirs_free(struct agent_dirs *dirs);

/* Tells whether a normalised absolute path is agent bookkeeping. */
bool is_bookkeeping(const struct agent_dirs *dirs, const char *path);

enum dir_verdict {
	DIR_MIXED,		/* the names of the files in it decide */
	DIR_USER,		/* no file directly in it is bookkeeping */
	DIR_BOOKKEEPING,	/* every file directly in it is bookkeeping */
};

/*
 * Classifies the files directly in dir, a normalised absolute path, so the
 * kernel can count or drop writes there without sending their paths.
 */
enum dir_verdict bookkeeping_dir_verdict(const struct agent_dirs *dirs, const char *dir);

#endif /* CCAPM_BOOKKEEPING_H */
