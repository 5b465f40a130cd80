// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The exec loop: fork, exec /bin/true in the child, wait for it, N times.
 * With -p P it is the exec storm: P forked loops of N iterations each run
 * at once, and the result counts the P * N execs over the time until the
 * last loop ends. A rate (-r) applies to each loop.
 */
#include <sys/wait.h>

#include "common.h"

#define USAGE	"[-n ITERATIONS] [-p PARALLEL] [-r RATE_PER_S]"
#define TRUE_PATH	"/bin/true"

static void fork_exec_wait(void)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("failed to fork: %s", strerror(errno));
	if (pid == 0) {
		execl(TRUE_PATH, "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("failed to wait for pid %d: %s", pid, strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		die("%s did not exit 0 (wait status 0x%x)", TRUE_PATH, status);
}

static void run_loop(const struct loop_options *o)
{
	uint64_t start_ns = monotonic_ns();

	for (unsigned long i = 0; i < o->iterations; i++) {
		pace(o, start_ns, i);
		fork_exec_wait();
	}
}

int main(int argc, char **argv)
{
	struct loop_options o = { .iterations = 2000, .parallel = 1 };
	uint64_t start_ns;
	unsigned long failed = 0;
	int status;

	parse_loop_options(argc, argv, &o, USAGE);
	if (o.mode)
		die("unexpected argument '%s'\nUsage: %s %s", o.mode, program_name, USAGE);

	start_ns = monotonic_ns();
	if (o.parallel == 1) {
		run_loop(&o);
	} else {
		for (unsigned long i = 0; i < o.parallel; i++) {
			pid_t pid = fork();

			if (pid < 0)
				die("failed to fork loop %lu: %s", i, strerror(errno));
			if (pid == 0) {
				run_loop(&o);
				exit(0);
			}
		}
		while (wait(&status) > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status))
				failed++;
		}
		if (failed)
			die("%lu of %lu loops failed", failed, o.parallel);
	}
	print_result(o.iterations * o.parallel, monotonic_ns() - start_ns);
	return 0;
}
