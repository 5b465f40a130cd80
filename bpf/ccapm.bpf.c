// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Follows the process trees of Claude Code agents and reports their
 * commands, file operations and connects. A process outside every session
 * costs one hash lookup per traced syscall that succeeded and emits nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "ccapm.h"
#include "bytes.h"
#include "syscall_abi.h"
#include "maps.h"
#include "path.h"
#include "agent.h"
#include "emit.h"
#include "environ.h"
#include "session.h"
#include "syscalls.h"

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	switch (SYSCALL_NR(regs)) {
	case NR_open:
		return on_open(ret, SYSCALL_ARG2(regs), true);
	case NR_creat:
		return on_open(ret, O_CREAT | O_WRONLY | O_TRUNC, true);
	case NR_openat:
		return on_open(ret, SYSCALL_ARG3(regs), true);
	case NR_openat2:
		return on_openat2(ret, (const struct open_how *)SYSCALL_ARG3(regs));
	case NR_rename:
		return on_path_op(ret, CCAPM_FILE_RENAME, AT_FDCWD, (const char *)SYSCALL_ARG2(regs));
	case NR_renameat:
	case NR_renameat2:
		return on_path_op(ret, CCAPM_FILE_RENAME, SYSCALL_ARG3(regs),
				  (const char *)SYSCALL_ARG4(regs));
	case NR_unlink:
	case NR_rmdir:
		return on_path_op(ret, CCAPM_FILE_DELETE, AT_FDCWD, (const char *)SYSCALL_ARG1(regs));
	case NR_unlinkat:
		return on_path_op(ret, CCAPM_FILE_DELETE, SYSCALL_ARG1(regs),
				  (const char *)SYSCALL_ARG2(regs));
	case NR_mkdir:
		return on_path_op(ret, CCAPM_FILE_MKDIR, AT_FDCWD, (const char *)SYSCALL_ARG1(regs));
	case NR_mkdirat:
		return on_path_op(ret, CCAPM_FILE_MKDIR, SYSCALL_ARG1(regs),
				  (const char *)SYSCALL_ARG2(regs));
	case NR_connect:
		return on_connect(ret, (const struct sockaddr *)SYSCALL_ARG2(regs));
	case NR_bind:
		return on_bind(ret, (const struct sockaddr_un *)SYSCALL_ARG2(regs));
	case NR_mknod:
		return on_mknod(ret, AT_FDCWD, (const char *)SYSCALL_ARG1(regs), SYSCALL_ARG2(regs));
	case NR_mknodat:
		return on_mknod(ret, SYSCALL_ARG1(regs), (const char *)SYSCALL_ARG2(regs),
				SYSCALL_ARG3(regs));
	}
	return 0;
}

/* Children, threads aside, join their parent's session when they are forked. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ccapm_proc *proc, inherited;
	__u32 parent_tgid, tgid = child->tgid;

	if (child->pid != tgid)
		return 0;
	parent_tgid = parent->tgid;
	proc = bpf_map_lookup_elem(&procs, &parent_tgid);
	if (!proc)
		return 0;
	inherited.session = proc->session;
	inherited.flags = 0;
	if (bpf_map_update_elem(&procs, &tgid, &inherited, BPF_ANY))
		__sync_fetch_and_add(&procs_lost, 1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct ccapm_proc *proc;
	__u32 tgid = task->tgid;

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (proc) {
		/* An agent re-executing itself, as `env node cli.js` does, is not a command. */
		if ((proc->flags & CCAPM_PROC_AGENT) && is_agent_exec(task, bprm))
			return 0;
		emit_event(CCAPM_EV_COMMAND, 0, proc->session, tgid);
		return 0;
	}
	if (is_agent_exec(task, bprm))
		start_session_by_exec(task, tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task)
{
	struct ccapm_proc *proc;
	__u32 tgid;

	/* Only the last thread out ends the process; live counts the others. */
	if (task->signal->live.counter != 0)
		return 0;
	tgid = task->tgid;
	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc)
		return 0;
	if (proc->flags & CCAPM_PROC_AGENT)
		emit_event(CCAPM_EV_SESSION_END, 0, proc->session, tgid);
	bpf_map_delete_elem(&procs, &tgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
