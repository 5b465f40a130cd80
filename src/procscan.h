/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Finding the sessions that were running before the tracer started. */
#ifndef CCAPM_PROCSCAN_H
#define CCAPM_PROCSCAN_H

#include "tracer.h"

/*
 * Scans /proc for agents and their descendants and enters them in the BPF
 * maps and the session table. Call it after the programs are attached, so
 * that processes forked during the scan are caught by the kernel side.
 * Returns the number of sessions found, or -errno.
 */
int procscan_run(struct tracer *tracer, uint64_t now_s);

#endif /* CCAPM_PROCSCAN_H */
