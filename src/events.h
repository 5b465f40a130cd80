/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Turning ring buffer records into session table updates. */
#ifndef CCAPM_EVENTS_H
#define CCAPM_EVENTS_H

#include <stddef.h>

/* ring_buffer_sample_fn for the events map; ctx is the struct tracer. */
int events_handle(void *ctx, void *data, size_t size);

#endif /* CCAPM_EVENTS_H */
