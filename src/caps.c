// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <linux/types.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

bool caps_effective(int cap)
{
	struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (cap < 0 || cap >= 64)
		return false;
	if (syscall(SYS_capget, &header, data))
		return geteuid() == 0;
	return data[cap / 32].effective & (1u << (cap % 32));
}
