// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The benchmark's floor: programs on the same four tp_btf hooks as
 * bpf/ccapm.bpf.c that only look up the current process in a procs map of
 * the same shape and return. What they cost is what any tracer that
 * decides session membership in the kernel on these hooks pays. Unlike
 * ccapm-trace, sys_exit looks up on every invocation, before any check of
 * the syscall number or the return value.
 *
 * The programs have ccapm-trace's names, so per-program statistics of the
 * two line up. Nothing fills the map, so every lookup misses.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "ccapm.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);			/* tgid */
	__type(value, struct ccapm_proc);
} procs SEC(".maps");

/*
 * Counts the lookups that hit. The map stays empty, but the count keeps
 * the compiler from treating a lookup result as unused.
 */
__u64 lookup_hits;

static __always_inline int lookup(__u32 tgid)
{
	if (bpf_map_lookup_elem(&procs, &tgid))
		__sync_fetch_and_add(&lookup_hits, 1);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	return lookup(bpf_get_current_pid_tgid() >> 32);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	return lookup(parent->tgid);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return lookup(task->tgid);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	return lookup(task->tgid);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
