// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A fake Claude Code agent, built as an executable named `claude`, so that
 * ccapm-trace starts a session when it is exec'd and tracks everything it
 * runs. No Claude Code is involved.
 *
 *   claude PROGRAM [ARG...]
 *	runs PROGRAM as a child, as an agent runs a tool command, and exits
 *	with its status;
 *   claude -k CHILDREN [-w WRITES] [-d DIR]
 *	keeps a session open for the scale runs: opens DIR/agent-<pid>.dat
 *	for writing WRITES times, runs /bin/true once, forks CHILDREN idle
 *	children, prints "ready" and waits for SIGTERM, then kills its
 *	children and exits 0.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common.h"

#define USAGE	"PROGRAM [ARG...] | -k CHILDREN [-w WRITES] [-d DIR]"

static int run_program(char **argv)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		die("failed to fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "%s: failed to exec '%s': %s\n", program_name, argv[0],
			strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("failed to wait for pid %d: %s", pid, strerror(errno));
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* The activity a held session shows in the textfile: file writes and one command. */
static void make_activity(const char *dir, unsigned long writes)
{
	char path[PATH_MAX];
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/agent-%d.dat", dir, (int)getpid());
	for (unsigned long i = 0; i < writes; i++) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die("failed to open '%s' for writing: %s", path, strerror(errno));
		close(fd);
	}
	pid = fork();
	if (pid < 0)
		die("failed to fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static int hold_session(unsigned long children, unsigned long writes, const char *dir)
{
	pid_t *pids = calloc(children ? children : 1, sizeof(*pids));
	sigset_t stop;
	int sig;

	if (!pids)
		die("failed to allocate %lu pids: out of memory", children);
	/* Blocked before any fork, so a SIGTERM that comes early waits for sigwait. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	make_activity(dir, writes);
	for (unsigned long i = 0; i < children; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("failed to fork child %lu of %lu: %s", i + 1, children, strerror(errno));
		if (pids[i] == 0) {
			/* An idle child dies with its agent even if the agent is killed. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			for (;;)
				pause();
		}
	}
	printf("ready\n");
	fflush(stdout);

	sigwait(&stop, &sig);
	for (unsigned long i = 0; i < children; i++)
		kill(pids[i], SIGKILL);
	for (unsigned long i = 0; i < children; i++)
		waitpid(pids[i], NULL, 0);
	free(pids);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long children = 0, writes = 0;
	const char *dir = ".";
	bool holding = false;
	int opt;

	program_name = argv[0];
	/* "+": options end at PROGRAM, whose own options follow it. */
	while ((opt = getopt(argc, argv, "+k:w:d:h")) != -1) {
		switch (opt) {
		case 'k':
			children = parse_count(optarg, 0, 1000000, 'k');
			holding = true;
			break;
		case 'w':
			writes = parse_count(optarg, 0, 1000000, 'w');
			break;
		case 'd':
			dir = optarg;
			break;
		case 'h':
			printf("Usage: %s %s\n", program_name, USAGE);
			return 0;
		default:
			fprintf(stderr, "Usage: %s %s\n", program_name, USAGE);
			return 2;
		}
	}
	if (holding && optind == argc)
		return hold_session(children, writes, dir);
	if (holding || optind == argc) {
		fprintf(stderr, "Usage: %s %s\n", program_name, USAGE);
		return 2;
	}
	return run_program(argv + optind);
}
