// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "caps.h"
#include "ccapm.h"
#include "ccapm.skel.h"
#include "events.h"
#include "log.h"
#include "procfs.h"
#include "tracer.h"

#define BTF_PATH	"/sys/kernel/btf/vmlinux"

/* Loading tracing programs takes CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN before 5.8. */
static bool may_load_bpf(void)
{
	if (caps_effective(CAP_SYS_ADMIN))
		return true;
	return caps_effective(CAP_BPF) && caps_effective(CAP_PERFMON);
}

int tracer_preflight(void)
{
	if (!may_load_bpf()) {
		log_error("missing privileges to load BPF programs: run as root (sudo ccapm-trace) "
			  "or grant CAP_BPF and CAP_PERFMON");
		return -1;
	}
	if (access(BTF_PATH, R_OK)) {
		log_error("kernel BTF not readable at %s: %s; ccapm-trace needs a kernel built "
			  "with CONFIG_DEBUG_INFO_BTF=y", BTF_PATH, strerror(errno));
		return -1;
	}
	return 0;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !log_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int tracer_start(struct tracer *tracer, const struct options *options)
{
	struct ccapm_bpf *skel;
	int err;

	libbpf_set_print(print_libbpf);
	skel = ccapm_bpf__open();
	if (!skel) {
		err = -errno;
		log_error("failed to open BPF object: %s", strerror(-err));
		return err;
	}
	tracer->skel = skel;
	if (options->ringbuf_bytes) {
		err = bpf_map__set_max_entries(skel->maps.events, options->ringbuf_bytes);
		if (err) {
			log_error("failed to size the ring buffer to %u bytes: %s",
				  options->ringbuf_bytes, strerror(-err));
			return err;
		}
	}
	/* Between polls a quarter of the ring may fill before the reader is woken. */
	skel->rodata->wakeup_bytes = bpf_map__max_entries(skel->maps.events) / 4;

	err = ccapm_bpf__load(skel);
	if (err) {
		log_error("failed to load BPF programs: %s%s", strerror(-err),
			  log_verbose ? "" : " (run with -v for the verifier log)");
		return err;
	}
	err = ccapm_bpf__attach(skel);
	if (err) {
		log_error("failed to attach BPF programs: %s", strerror(-err));
		return err;
	}
	log_info("attached tp_btf/sys_exit, tp_btf/sched_process_fork, "
		 "tp_btf/sched_process_exec and tp_btf/sched_process_exit; tracefs not needed");

	tracer->ring = ring_buffer__new(bpf_map__fd(skel->maps.events), events_handle, tracer,
					NULL);
	if (!tracer->ring) {
		err = -errno;
		log_error("failed to create ring buffer reader: %s", strerror(-err));
		return err;
	}
	return 0;
}

int tracer_ring_fd(const struct tracer *tracer)
{
	return ring_buffer__epoll_fd(tracer->ring);
}

int tracer_consume(struct tracer *tracer)
{
	int n = ring_buffer__consume(tracer->ring);

	return n < 0 ? n : 0;
}

void tracer_stop(struct tracer *tracer)
{
	ring_buffer__free(tracer->ring);
	tracer->ring = NULL;
	ccapm_bpf__destroy(tracer->skel);
	tracer->skel = NULL;
	free(tracer->keys_in_use);
	tracer->keys_in_use = NULL;
}

void tracer_read_counters(const struct tracer *tracer, struct tracer_counters *counters)
{
	const struct ccapm_bpf__bss *bss = tracer->skel->bss;

	counters->events_lost = __atomic_load_n(&bss->events_lost, __ATOMIC_RELAXED) +
				tracer->malformed_events;
	counters->processes_untracked = __atomic_load_n(&bss->procs_lost, __ATOMIC_RELAXED);
	counters->session_table_full = __atomic_load_n(&bss->sessions_lost, __ATOMIC_RELAXED);
}

uint32_t tracer_new_session_key(struct tracer *tracer)
{
	/* The counter lives in the mmapped .bss, shared with the BPF programs. */
	return __atomic_add_fetch(&tracer->skel->bss->session_seq, 1, __ATOMIC_SEQ_CST);
}

int tracer_add_proc(struct tracer *tracer, uint32_t tgid, uint32_t key, uint32_t flags)
{
	struct ccapm_proc proc = { .session = key, .flags = flags };

	/* BPF_NOEXIST: a process the kernel already placed keeps its session. */
	if (bpf_map_update_elem(bpf_map__fd(tracer->skel->maps.procs), &tgid, &proc, BPF_NOEXIST))
		return -errno;
	return 0;
}

void tracer_remove_proc(struct tracer *tracer, uint32_t tgid)
{
	bpf_map_delete_elem(bpf_map__fd(tracer->skel->maps.procs), &tgid);
}

bool tracer_proc_session(struct tracer *tracer, uint32_t tgid, uint32_t *key)
{
	struct ccapm_proc proc;

	if (bpf_map_lookup_elem(bpf_map__fd(tracer->skel->maps.procs), &tgid, &proc))
		return false;
	*key = proc.session;
	return true;
}

int tracer_add_session(struct tracer *tracer, uint32_t key, uint32_t agent_pid,
		       const uint8_t *uuid)
{
	struct ccapm_session session = { .agent_pid = agent_pid };

	if (uuid) {
		memcpy(session.uuid, uuid, CCAPM_UUID_BYTES);
		session.flags = CCAPM_SESSION_HAS_UUID;
	}
	if (bpf_map_update_elem(bpf_map__fd(tracer->skel->maps.sessions), &key, &session,
				BPF_NOEXIST))
		return -errno;
	return 0;
}

bool tracer_lookup_session(struct tracer *tracer, uint32_t key, uint32_t *agent_pid,
			   uint8_t uuid[UUID_BYTES], bool *has_uuid)
{
	struct ccapm_session session;

	if (bpf_map_lookup_elem(bpf_map__fd(tracer->skel->maps.sessions), &key, &session))
		return false;
	*agent_pid = session.agent_pid;
	*has_uuid = session.flags & CCAPM_SESSION_HAS_UUID;
	memcpy(uuid, session.uuid, UUID_BYTES);
	return true;
}

/*
 * Registers the config dir for the transcript check: by inode number when
 * it exists, else by its name, since the CLI creates it on first use.
 */
void tracer_register_config_dir(struct tracer *tracer, uint32_t key, pid_t pid,
				const struct agent_dirs *dirs)
{
	struct ccapm_config config = {};
	const char *name;

	if (!dirs->config_dir)
		return;
	config.ino = procfs_dir_ino(pid, dirs->config_dir);
	if (!config.ino) {
		name = strrchr(dirs->config_dir, '/') + 1;
		config.name_len = strlen(name);
		if (config.name_len == 0 || config.name_len > CCAPM_CONFIG_NAME_BYTES)
			return;
		memcpy(config.name, name, config.name_len);
	}
	if (bpf_map_update_elem(bpf_map__fd(tracer->skel->maps.session_configs), &key, &config,
				BPF_ANY))
		log_info("failed to record the config dir of session key %u: %s", key,
			 strerror(errno));
}

/*
 * Lifetime of a cached directory verdict. A directory moved into or out of
 * a bookkeeping tree keeps its old verdict at most this long.
 */
#define DIR_VERDICT_TTL_NS	(5 * 1000000000ull)

void tracer_cache_dir_verdict(struct tracer *tracer, uint32_t key, uint64_t dentry,
			      uint64_t ino, enum dir_verdict verdict, uint64_t now_ns)
{
	struct ccapm_dir_key dir = { .dentry = dentry, .session = key };
	struct ccapm_dir_entry entry = { .ino = ino, .expires_ns = now_ns + DIR_VERDICT_TTL_NS };

	if (verdict == DIR_MIXED)
		return;
	entry.verdict = verdict == DIR_USER ? CCAPM_DIR_USER : CCAPM_DIR_BOOKKEEPING;
	bpf_map_update_elem(bpf_map__fd(tracer->skel->maps.dir_verdicts), &dir, &entry, BPF_ANY);
}

static int compare_keys(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* Collects the session keys of the procs map, sorted, in a few batch lookups. */
static int snapshot_keys_in_use(struct tracer *tracer)
{
	int fd = bpf_map__fd(tracer->skel->maps.procs);
	uint32_t max = bpf_map__max_entries(tracer->skel->maps.procs);
	uint32_t batch, count, total = 0, *tgids;
	struct ccapm_proc *procs;
	void *in_batch = NULL;
	int err;

	tgids = malloc(max * sizeof(*tgids));
	procs = malloc(max * sizeof(*procs));
	err = tgids && procs ? 0 : -ENOMEM;
	while (!err && total < max) {
		count = max - total;
		err = bpf_map_lookup_batch(fd, in_batch, &batch, tgids + total, procs + total,
					   &count, NULL);
		total += count;
		in_batch = &batch;
	}
	if (err == -ENOENT)
		err = 0;
	if (!err) {
		free(tracer->keys_in_use);
		tracer->keys_in_use = tgids;
		for (uint32_t i = 0; i < total; i++)
			tgids[i] = procs[i].session;
		qsort(tgids, total, sizeof(*tgids), compare_keys);
		tracer->keys_in_use_count = total;
		tracer->keys_in_use_valid = true;
		tgids = NULL;
	}
	free(tgids);
	free(procs);
	return err;
}

static bool key_in_use(uint32_t key, void *ctx)
{
	struct tracer *tracer = ctx;
	int err;

	if (!tracer->keys_in_use_valid) {
		err = snapshot_keys_in_use(tracer);
		if (err) {
			log_error("failed to read the process table: %s", strerror(-err));
			/* Keeping a record is the safe choice when unsure. */
			return true;
		}
	}
	return bsearch(&key, tracer->keys_in_use, tracer->keys_in_use_count, sizeof(key),
		       compare_keys) != NULL;
}

static void key_freed(uint32_t key, void *ctx)
{
	struct tracer *tracer = ctx;

	bpf_map_delete_elem(bpf_map__fd(tracer->skel->maps.sessions), &key);
	bpf_map_delete_elem(bpf_map__fd(tracer->skel->maps.session_configs), &key);
}

struct session_hooks tracer_session_hooks(struct tracer *tracer)
{
	tracer->keys_in_use_valid = false;
	return (struct session_hooks){
		.key_in_use = key_in_use,
		.key_freed = key_freed,
		.ctx = tracer,
	};
}
