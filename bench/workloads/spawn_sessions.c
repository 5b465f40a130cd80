// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Starts many sessions for the scale runs: forks SESSIONS children that each
 * exec AGENT (the fake agent named `claude`) with "-k CHILDREN -w WRITES
 * -d DIR", at most STARTING of them not yet ready at a time, waits until
 * every agent prints "ready", prints "ready sessions=S processes=P" and
 * then waits for SIGTERM or SIGINT, which it passes on to every agent
 * before it reaps them. Exits 1 if an agent exits before it is ready.
 *
 * The limit on starting agents matters on a small machine: forking
 * thousands of agents at once leaves hundreds of tasks runnable, and the
 * tracer under test then gets too little CPU to keep up.
 */
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "common.h"

#define USAGE	"-s SESSIONS [-k CHILDREN] [-w WRITES] [-d DIR] [-c STARTING] AGENT"
#define POLL_MS	100
#define DEFAULT_STARTING	8

struct spawn_options {
	unsigned long sessions;
	unsigned long children;
	unsigned long writes;
	unsigned long starting;		/* agents started but not yet ready, at most */
	const char *dir;
	const char *agent;
};

static void stop_agents(const pid_t *pids, unsigned long n, int sig)
{
	for (unsigned long i = 0; i < n; i++)
		kill(pids[i], sig);
	for (unsigned long i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

static pid_t start_agent(const struct spawn_options *o, int ready_fd)
{
	char children[32], writes[32];
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* An agent must not outlive the spawner, even when the spawner is killed. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	dup2(ready_fd, STDOUT_FILENO);
	snprintf(children, sizeof(children), "%lu", o->children);
	snprintf(writes, sizeof(writes), "%lu", o->writes);
	execl(o->agent, "claude", "-k", children, "-w", writes, "-d", o->dir, (char *)NULL);
	fprintf(stderr, "%s: failed to exec '%s': %s\n", program_name, o->agent, strerror(errno));
	_exit(127);
}

/*
 * Starts the agents, at most o->starting of them not yet ready at a time,
 * and counts their "ready" lines on ready_pipe. Returns how many agents it
 * started, which is fewer than o->sessions when a fork failed or an agent
 * exited before it was ready.
 */
static unsigned long start_agents(const struct spawn_options *o, pid_t *pids,
				  const int ready_pipe[2])
{
	struct pollfd pfd = { .fd = ready_pipe[0], .events = POLLIN };
	unsigned long started = 0, ready = 0;
	char buf[4096];
	ssize_t n;

	while (ready < o->sessions) {
		while (started < o->sessions && started - ready < o->starting) {
			pids[started] = start_agent(o, ready_pipe[1]);
			if (pids[started] < 0) {
				fprintf(stderr, "%s: failed to fork agent %lu of %lu: %s\n",
					program_name, started + 1, o->sessions, strerror(errno));
				return started;
			}
			started++;
		}
		if (waitpid(-1, NULL, WNOHANG) > 0) {
			fprintf(stderr, "%s: an agent exited before it was ready (%lu of %lu ready)\n",
				program_name, ready, o->sessions);
			return started;
		}
		if (poll(&pfd, 1, POLL_MS) <= 0)
			continue;
		n = read(ready_pipe[0], buf, sizeof(buf));
		if (n <= 0)
			return started;
		for (ssize_t i = 0; i < n; i++)
			ready += buf[i] == '\n';
	}
	return started;
}

static void parse_spawn_options(int argc, char **argv, struct spawn_options *o)
{
	int opt;

	program_name = argv[0];
	while ((opt = getopt(argc, argv, "s:k:w:d:c:h")) != -1) {
		switch (opt) {
		case 's':
			o->sessions = parse_count(optarg, 1, 100000, 's');
			break;
		case 'k':
			o->children = parse_count(optarg, 0, 100000, 'k');
			break;
		case 'w':
			o->writes = parse_count(optarg, 0, 100000, 'w');
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'c':
			o->starting = parse_count(optarg, 1, 100000, 'c');
			break;
		case 'h':
			printf("Usage: %s %s\n", program_name, USAGE);
			exit(0);
		default:
			fprintf(stderr, "Usage: %s %s\n", program_name, USAGE);
			exit(2);
		}
	}
	if (!o->sessions || optind != argc - 1) {
		fprintf(stderr, "Usage: %s %s\n", program_name, USAGE);
		exit(2);
	}
	o->agent = argv[optind];
}

int main(int argc, char **argv)
{
	struct spawn_options o = { .dir = ".", .starting = DEFAULT_STARTING };
	unsigned long started;
	sigset_t stop;
	pid_t *pids;
	int ready_pipe[2], sig;

	parse_spawn_options(argc, argv, &o);
	pids = calloc(o.sessions, sizeof(*pids));
	if (!pids)
		die("failed to allocate %lu pids: out of memory", o.sessions);
	if (pipe(ready_pipe))
		die("failed to create a pipe: %s", strerror(errno));
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);

	started = start_agents(&o, pids, ready_pipe);
	if (started < o.sessions) {
		stop_agents(pids, started, SIGKILL);
		return 1;
	}
	printf("ready sessions=%lu processes=%lu\n", o.sessions, o.sessions * (o.children + 1));
	fflush(stdout);

	sigwait(&stop, &sig);
	stop_agents(pids, o.sessions, SIGTERM);
	free(pids);
	return 0;
}
