// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Loads and attaches the floor programs (floor.bpf.c), prints "ready" once
 * they are attached and keeps them attached until SIGINT or SIGTERM.
 * Exits 0 after a signal, 1 when loading or attaching fails, 2 on usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"

static void print_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void print_error(const char *fmt, ...)
{
	va_list ap;

	fputs("floor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* libbpf warnings go to stderr; its debug messages are dropped. */
static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel;
	sigset_t stop;
	int err, sig;

	if (argc > 1) {
		fprintf(stderr, "Usage: %s\nAttaches the benchmark floor programs until "
			"SIGINT or SIGTERM.\n", argv[0]);
		return 2;
	}

	/* Blocked first, so a stop signal that comes during loading is not lost. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	libbpf_set_print(print_libbpf);

	skel = floor_bpf__open_and_load();
	if (!skel) {
		print_error("failed to open and load the BPF object: %s", strerror(errno));
		return 1;
	}
	err = floor_bpf__attach(skel);
	if (err) {
		print_error("failed to attach the BPF programs: %s", strerror(-err));
		goto cleanup;
	}
	printf("ready\n");
	fflush(stdout);

	sigwait(&stop, &sig);

cleanup:
	floor_bpf__destroy(skel);
	return err ? 1 : 0;
}
