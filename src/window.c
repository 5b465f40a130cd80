// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>

#include "window.h"

/* Tells whether second lies in (now_s - WINDOW_S, now_s]. */
static bool in_window(uint64_t second, uint64_t now_s)
{
	return second <= now_s && now_s - second < WINDOW_S;
}

/*
 * Bucket now_s % WINDOW_S counts one second at a time and is reset when a
 * later second reuses it. Events from several CPUs can arrive slightly out
 * of order, so an event is dropped only when its bucket already counts a
 * later second, because the event is then at least WINDOW_S seconds old.
 */
void window_add(struct rate_window *w, uint64_t now_s, uint32_t n)
{
	unsigned int i = now_s % WINDOW_S;

	if (w->second[i] > now_s)
		return;
	if (w->second[i] < now_s) {
		w->second[i] = now_s;
		w->count[i] = 0;
	}
	w->count[i] = n > UINT32_MAX - w->count[i] ? UINT32_MAX : w->count[i] + n;
}

uint64_t window_sum(const struct rate_window *w, uint64_t now_s)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < WINDOW_S; i++) {
		if (in_window(w->second[i], now_s))
			sum += w->count[i];
	}
	return sum;
}

void window_merge(struct rate_window *dst, const struct rate_window *src, uint64_t now_s)
{
	for (unsigned int i = 0; i < WINDOW_S; i++) {
		if (src->count[i] && in_window(src->second[i], now_s))
			window_add(dst, src->second[i], src->count[i]);
	}
}
