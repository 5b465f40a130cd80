// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ring buffer wakeup experiment: on every exec of a program whose comm
 * is "true", the exec loop's /bin/true and any other process's, submit one
 * 24-byte record, as ccapm-trace does for a command. submit_flags is 0 (the kernel wakes the
 * consumer whenever it has caught up) or BPF_RB_NO_WAKEUP (the consumer
 * polls on a timer), so the two costs can be compared.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define RECORD_BYTES	24

const volatile __u64 submit_flags;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} records SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	char comm[16];
	__u64 *record;

	bpf_get_current_comm(comm, sizeof(comm));
	if (comm[0] != 't' || comm[1] != 'r' || comm[2] != 'u' || comm[3] != 'e' || comm[4])
		return 0;
	record = bpf_ringbuf_reserve(&records, RECORD_BYTES, 0);
	if (!record)
		return 0;
	record[0] = bpf_ktime_get_ns();
	bpf_ringbuf_submit(record, submit_flags);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
