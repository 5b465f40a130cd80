// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads wakeup.bpf.c in one of two modes and consumes its ring buffer until
 * SIGINT or SIGTERM, then prints "records N".
 *   adaptive  submits with flags 0 and sleeps in ring_buffer__poll() until
 *	       the kernel wakes the consumer, as ccapm-trace does.
 *   batched   submits with BPF_RB_NO_WAKEUP and consumes every POLL_MS.
 * Prints "ready" once attached. Exits 1 when loading fails, 2 on usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "wakeup.skel.h"

#define POLL_MS	100

static volatile sig_atomic_t stopping;
static unsigned long records;

static void request_stop(int sig)
{
	stopping = 1;
}

static int count_record(void *ctx, void *data, size_t size)
{
	records++;
	return 0;
}

int main(int argc, char **argv)
{
	struct ring_buffer *ring = NULL;
	struct wakeup_bpf *skel;
	int err;

	if (argc != 2 || (strcmp(argv[1], "adaptive") && strcmp(argv[1], "batched"))) {
		fprintf(stderr, "Usage: %s adaptive|batched\n", argv[0]);
		return 2;
	}
	signal(SIGINT, request_stop);
	signal(SIGTERM, request_stop);

	skel = wakeup_bpf__open();
	if (!skel) {
		fprintf(stderr, "wakeup: failed to open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->submit_flags = strcmp(argv[1], "batched") ? 0 : BPF_RB_NO_WAKEUP;
	err = wakeup_bpf__load(skel);
	if (!err)
		err = wakeup_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "wakeup: failed to load and attach the BPF program: %s\n",
			strerror(-err));
		goto cleanup;
	}
	ring = ring_buffer__new(bpf_map__fd(skel->maps.records), count_record, NULL, NULL);
	if (!ring) {
		err = -errno;
		fprintf(stderr, "wakeup: failed to create the ring buffer reader: %s\n",
			strerror(-err));
		goto cleanup;
	}
	printf("ready\n");
	fflush(stdout);

	/* In batched mode no wakeup comes, so each poll returns after POLL_MS. */
	while (!stopping)
		ring_buffer__poll(ring, POLL_MS);
	ring_buffer__consume(ring);
	printf("records %lu\n", records);

cleanup:
	ring_buffer__free(ring);
	wakeup_bpf__destroy(skel);
	return err ? 1 : 0;
}
