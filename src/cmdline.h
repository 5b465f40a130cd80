/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Reading the argv and environment blocks of a process: NUL-separated
 * strings as in /proc/PID/cmdline and /proc/PID/environ, possibly cut short
 * without a final NUL. Values are read, never logged: both can hold tokens.
 */
#ifndef CCAPM_CMDLINE_H
#define CCAPM_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

/*
 * Finds the session id an agent was given: --session-id UUID,
 * --session-id=UUID, --resume UUID, --resume=UUID or -r UUID. --resume and -r
 * are ignored when --fork-session is present, because the fork gets a new
 * id. Returns false when no valid UUID is given.
 */
bool cmdline_session_id(const char *argv, size_t len, uint8_t uuid[UUID_BYTES]);

/*
 * Returns a pointer to the value of NAME in an environment block, or NULL.
 * The value ends at the next NUL or at env + len; *value_len gets its length.
 */
const char *environ_get(const char *env, size_t len, const char *name, size_t *value_len);

/* Returns argument i (0-based) of an argv block, or NULL; *arg_len gets its length. */
const char *cmdline_arg(const char *argv, size_t len, int i, size_t *arg_len);

#endif /* CCAPM_CMDLINE_H */
