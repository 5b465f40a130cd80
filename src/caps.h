/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tracer's own effective capabilities. */
#ifndef CCAPM_CAPS_H
#define CCAPM_CAPS_H

#include <stdbool.h>
#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON	38
#endif
#ifndef CAP_BPF
#define CAP_BPF		39
#endif

/* Returns whether cap is effective. Without capget(2), whether euid is 0. */
bool caps_effective(int cap);

#endif /* CCAPM_CAPS_H */
