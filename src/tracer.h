/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF side for the rest of the loader: load, attach, poll, maps. */
#ifndef CCAPM_TRACER_H
#define CCAPM_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"
#include "session.h"
#include "textfile.h"

struct tracer {
	struct ccapm_bpf *skel;
	struct ring_buffer *ring;
	struct session_table *sessions;
	struct path_set *special_paths;
	uint64_t malformed_events;	/* records too short for their type */
	/* Session keys that live processes hold, sorted; rebuilt once per expiry. */
	uint32_t *keys_in_use;
	size_t keys_in_use_count;
	bool keys_in_use_valid;
};

/* Checks privileges and kernel BTF; prints one error line and returns -1 on failure. */
int tracer_preflight(void);
/* Opens, loads and attaches the BPF programs and the ring buffer. */
int tracer_start(struct tracer *tracer, const struct options *options);
/* A file descriptor that polls readable when ring buffer records wait. */
int tracer_ring_fd(const struct tracer *tracer);
/* Handles every waiting ring buffer record; returns 0 or -errno. */
int tracer_consume(struct tracer *tracer);
void tracer_stop(struct tracer *tracer);

void tracer_read_counters(const struct tracer *tracer, struct tracer_counters *counters);
/* Takes a session key from the counter the BPF side uses. */
uint32_t tracer_new_session_key(struct tracer *tracer);

/* Map access for sessions found in /proc and for keys userspace learns about. */
int tracer_add_proc(struct tracer *tracer, uint32_t tgid, uint32_t key, uint32_t flags);
void tracer_remove_proc(struct tracer *tracer, uint32_t tgid);
bool tracer_proc_session(struct tracer *tracer, uint32_t tgid, uint32_t *key);
int tracer_add_session(struct tracer *tracer, uint32_t key, uint32_t agent_pid,
		       const uint8_t *uuid);
bool tracer_lookup_session(struct tracer *tracer, uint32_t key, uint32_t *agent_pid,
			   uint8_t uuid[UUID_BYTES], bool *has_uuid);
/* Tells the kernel the config dir, so look-alike transcripts elsewhere are ignored. */
void tracer_register_config_dir(struct tracer *tracer, uint32_t key, pid_t pid,
				const struct agent_dirs *dirs);

/*
 * Caches the verdict for the directory a write open named, so the kernel
 * counts or drops later writes there without sending their paths.
 */
void tracer_cache_dir_verdict(struct tracer *tracer, uint32_t key, uint64_t dentry,
			      uint64_t ino, enum dir_verdict verdict, uint64_t now_ns);

/* Hooks for session_expire backed by the maps. */
struct session_hooks tracer_session_hooks(struct tracer *tracer);

#endif /* CCAPM_TRACER_H */
