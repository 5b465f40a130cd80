/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Recognising a running Claude Code agent from /proc, for sessions that
 * started before the tracer. The BPF side applies the same rules at exec.
 */
#ifndef CCAPM_AGENT_H
#define CCAPM_AGENT_H

#include <stdbool.h>

/*
 * Tells whether a process is an agent. exe is the target of /proc/PID/exe,
 * argv1 may be NULL, and argv1_is_script tells whether argv1 names a file
 * that starts with "#!". Rules: exe's basename is claude or claude.exe; exe
 * sits in a claude/versions/ directory; or exe is node or nodejs, or argv1
 * is a script, and argv1's basename is claude or argv1 ends with
 * "@anthropic-ai/claude-code/cli.js".
 */
bool agent_matches(const char *exe, const char *argv1, bool argv1_is_script);

#endif /* CCAPM_AGENT_H */
