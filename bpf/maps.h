/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel constants, counters shared with userspace, and the maps. */
#ifndef CCAPM_MAPS_H
#define CCAPM_MAPS_H

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

/* Set by the loader: the reader is woken once this many bytes wait. */
const volatile __u64 wakeup_bytes = 1 << 18;

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
	__type(value, struct ccapm_config);
} session_configs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct ccapm_dir_key);
	__type(value, struct ccapm_dir_entry);
} dir_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Room to build one ring buffer record, or to read argv[1] at exec. */
struct scratch {
	char bytes[SCRATCH_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/*
 * Returns this CPU's scratch buffer. One program at a time uses it: the
 * hooks run in process context and never nest, and programs on the
 * faultable syscall tracepoints still run with preemption disabled
 * (__BPF_DECLARE_TRACE_SYSCALL in include/trace/bpf_probe.h).
 */
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

#endif /* CCAPM_MAPS_H */
