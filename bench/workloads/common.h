/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Option parsing, pacing and the result line shared by the benchmark
 * workloads. Each workload times only its own loop and prints one line,
 * "iterations=N elapsed_ns=T", that bench/run.py parses.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S	1000000000ull

/* Settings common to the loops. Each workload reads the ones it needs. */
struct loop_options {
	unsigned long iterations;	/* -n */
	unsigned long rate_per_s;	/* -r, 0: as fast as possible */
	unsigned long parallel;		/* -p, loops run at once */
	const char *dir;		/* -d, where files are made */
	const char *mode;		/* the first operand, if any */
};

static const char *program_name = "workload";

static inline void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Prints "<program>: <message>" to stderr and exits 1. */
static inline void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", program_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Parses a decimal number from min to max or exits with a usage error. */
static inline unsigned long parse_count(const char *s, unsigned long min, unsigned long max,
					char opt)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || errno || *end || value < min || value > max) {
		fprintf(stderr, "%s: invalid -%c '%s': expected a whole number from %lu to %lu\n",
			program_name, opt, s, min, max);
		exit(2);
	}
	return value;
}

/*
 * Parses -n ITERATIONS, -r RATE_PER_S, -p PARALLEL and -d DIR, then one
 * optional operand (the mode). Exits 2 on anything else.
 */
static inline void parse_loop_options(int argc, char **argv, struct loop_options *o,
				      const char *usage)
{
	int opt;

	program_name = argv[0];
	while ((opt = getopt(argc, argv, "n:r:p:d:h")) != -1) {
		switch (opt) {
		case 'n':
			o->iterations = parse_count(optarg, 1, 100000000, 'n');
			break;
		case 'r':
			o->rate_per_s = parse_count(optarg, 0, 1000000, 'r');
			break;
		case 'p':
			o->parallel = parse_count(optarg, 1, 1024, 'p');
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'h':
			printf("Usage: %s %s\n", program_name, usage);
			exit(0);
		default:
			fprintf(stderr, "Usage: %s %s\n", program_name, usage);
			exit(2);
		}
	}
	if (optind < argc)
		o->mode = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\nUsage: %s %s\n", program_name,
			argv[optind], program_name, usage);
		exit(2);
	}
}

/*
 * Sleeps until iteration i is due when a rate is set, so a paced loop
 * keeps its average rate even when single iterations run late.
 */
static inline void pace(const struct loop_options *o, uint64_t start_ns, unsigned long i)
{
	struct timespec due;
	uint64_t due_ns;

	if (!o->rate_per_s)
		return;
	due_ns = start_ns + i * NS_PER_S / o->rate_per_s;
	due.tv_sec = due_ns / NS_PER_S;
	due.tv_nsec = due_ns % NS_PER_S;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
		;
}

static inline void print_result(unsigned long iterations, uint64_t elapsed_ns)
{
	printf("iterations=%lu elapsed_ns=%llu\n", iterations, (unsigned long long)elapsed_ns);
	fflush(stdout);
}

#endif /* BENCH_COMMON_H */
