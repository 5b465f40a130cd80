/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Syscall numbers and argument registers of the traced syscalls. */
#ifndef CCAPM_SYSCALL_ABI_H
#define CCAPM_SYSCALL_ABI_H

#if defined(__TARGET_ARCH_x86)

#define NR_open		2
#define NR_connect	42
#define NR_bind		49
#define NR_rename	82
#define NR_mkdir	83
#define NR_rmdir	84
#define NR_creat	85
#define NR_unlink	87
#define NR_mknod	133
#define NR_openat	257
#define NR_mkdirat	258
#define NR_mknodat	259
#define NR_unlinkat	263
#define NR_renameat	264
#define NR_renameat2	316
#define NR_openat2	437

/* thread_info.status bit set while a 32-bit task is in a syscall. */
#define TS_COMPAT	0x0002

/*
 * pt_regs at sys_exit still hold the caller's argument registers: only ax
 * is overwritten by the return value.
 */
#define SYSCALL_NR(regs)	((regs)->orig_ax)
#define SYSCALL_ARG1(regs)	((regs)->di)
#define SYSCALL_ARG2(regs)	((regs)->si)
#define SYSCALL_ARG3(regs)	((regs)->dx)
#define SYSCALL_ARG4(regs)	((regs)->r10)

static __always_inline bool in_compat_syscall(struct task_struct *task)
{
	return BPF_CORE_READ(task, thread_info.status) & TS_COMPAT;
}

#else
#error "ccapm-trace knows the syscall numbers of x86_64 only"
#endif

#endif /* CCAPM_SYSCALL_ABI_H */
