/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Event counts over the trailing 60 seconds, in one-second buckets. */
#ifndef CCAPM_WINDOW_H
#define CCAPM_WINDOW_H

#include <stdint.h>

#define WINDOW_S	60

struct rate_window {
	uint32_t count[WINDOW_S];
	uint64_t second[WINDOW_S];	/* which second each bucket holds */
};

/* Adds n events at time now_s (seconds, monotonic). */
void window_add(struct rate_window *w, uint64_t now_s, uint32_t n);
/* Returns the events in (now_s - 60, now_s]. */
uint64_t window_sum(const struct rate_window *w, uint64_t now_s);
/* Adds every bucket of src into dst, as if src's events had happened in dst. */
void window_merge(struct rate_window *dst, const struct rate_window *src, uint64_t now_s);

#endif /* CCAPM_WINDOW_H */
