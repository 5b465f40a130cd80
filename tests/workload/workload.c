// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A fake agent for the integration tests: it performs exactly the actions
 * listed on its command line, in order, so a test can predict exactly what
 * the tracer must count. Tests copy or link it to names like `claude` (an agent) and
 * `claude-helper` (a look-alike).
 *
 * Each action is one argument, NAME or NAME=ARG[,ARG...]. A leading '!'
 * means the action's syscall must fail. Actions that start a child take the
 * child's arguments from a following "{" ... "}" block. Paths starting with
 * "@" are spelled through the current directory fd: "@/x" becomes
 * "/proc/self/fd/<dirfd>/x". AT arguments are "cwd" (AT_FDCWD) or "fd" (the
 * current directory fd, set by dir=). Arguments that are not actions, such
 * as "--session-id UUID", are skipped with a note on stderr.
 *
 * Exit status: 0 when every action did what it expected, 1 when one did
 * not (the message names it), 77 when an action is not available on this
 * architecture, 2 for a malformed action list.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS	8
#define MAX_BG_CHILDREN	64
#define PATH_BYTES	4096

#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_EXEC_FAILED	127
#define EXIT_UNSUPPORTED	77

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE		(1 << 1)
#endif

extern char **environ;

/* One parsed action and the state it runs against. */
struct action {
	const char *token;		/* the whole argument, for messages */
	char name[64];
	char *args[MAX_ARGS];
	int n_args;
	bool expect_failure;
	char **block;			/* the child's arguments, NULL-terminated */
	int block_len;
};

struct state {
	int dirfd;			/* set by dir=, -1 until then */
	pid_t bg_children[MAX_BG_CHILDREN];
	int n_bg_children;
};

static struct state state = { .dirfd = -1 };

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("workload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* Formats into buf like snprintf, but exits when the result does not fit. */
static void format_path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void format_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		die(EXIT_USAGE, "path too long: %s", buf);
}

/*
 * Checks the result of the syscall an action is about: ret < 0 with errno
 * set means it failed. Exits unless the outcome is the expected one.
 */
static void check(const struct action *a, long ret)
{
	int err = errno;

	if (ret < 0 && !a->expect_failure)
		die(EXIT_FAILED, "%s: %s", a->token, strerror(err));
	if (ret >= 0 && a->expect_failure)
		die(EXIT_FAILED, "%s: succeeded, but failure was expected", a->token);
}

static void need_args(const struct action *a, int min, int max)
{
	if (a->n_args < min || a->n_args > max)
		die(EXIT_USAGE, "%s: expected %d to %d arguments, got %d", a->token, min, max,
		    a->n_args);
}

static int parse_int(const char *s, const char *token)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1000000)
		die(EXIT_USAGE, "%s: invalid number '%s'", token, s);
	return (int)v;
}

/* Expands a leading "@" to /proc/self/fd/<dirfd> into buf. */
static const char *spell_path(const char *path, char *buf, size_t size)
{
	if (path[0] != '@')
		return path;
	if (state.dirfd < 0)
		die(EXIT_USAGE, "'%s' needs a directory fd: use dir= first", path);
	format_path(buf, size, "/proc/self/fd/%d%s", state.dirfd, path + 1);
	return buf;
}

static int parse_at(const char *s, const char *token)
{
	if (!strcmp(s, "cwd"))
		return AT_FDCWD;
	if (!strcmp(s, "fd")) {
		if (state.dirfd < 0)
			die(EXIT_USAGE, "%s: AT is fd but no dir= came before", token);
		return state.dirfd;
	}
	die(EXIT_USAGE, "%s: invalid AT '%s': use cwd or fd", token, s);
}

/* Parses open flags written as names joined by '|', e.g. "wronly|creat". */
static int parse_open_flags(const char *s, const char *token)
{
	static const struct {
		const char *name;
		int flag;
	} names[] = {
		{ "rdonly", O_RDONLY }, { "wronly", O_WRONLY }, { "rdwr", O_RDWR },
		{ "creat", O_CREAT }, { "trunc", O_TRUNC }, { "append", O_APPEND },
		{ "excl", O_EXCL }, { "directory", O_DIRECTORY }, { "path", O_PATH },
		{ "nofollow", O_NOFOLLOW },
	};
	char copy[256];
	char *name, *saveptr;
	int flags = 0;

	snprintf(copy, sizeof(copy), "%s", s);
	for (name = strtok_r(copy, "|", &saveptr); name; name = strtok_r(NULL, "|", &saveptr)) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(name, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			die(EXIT_USAGE, "%s: unknown open flag '%s'", token, name);
		flags |= names[i].flag;
	}
	return flags;
}

static void close_if_open(long fd)
{
	if (fd >= 0)
		close((int)fd);
}

/* ---- file operations ---------------------------------------------------- */

static void do_mkdir(struct action *a)
{
	char buf[PATH_BYTES];

	need_args(a, 1, 1);
#ifdef SYS_mkdir
	check(a, syscall(SYS_mkdir, spell_path(a->args[0], buf, sizeof(buf)), 0755));
#else
	die(EXIT_UNSUPPORTED, "%s: mkdir(2) is not available on this architecture", a->token);
#endif
}

static void do_mkdirat(struct action *a)
{
	char buf[PATH_BYTES];

	need_args(a, 2, 2);
	check(a, syscall(SYS_mkdirat, parse_at(a->args[0], a->token),
			 spell_path(a->args[1], buf, sizeof(buf)), 0755));
}

static void do_mkfifo(struct action *a)
{
	char buf[PATH_BYTES];

	need_args(a, 1, 1);
	check(a, syscall(SYS_mknodat, AT_FDCWD, spell_path(a->args[0], buf, sizeof(buf)),
			 S_IFIFO | 0644, 0));
}

/* Binds a unix socket to a path, which leaves a socket file behind, and closes it. */
static void do_bind_unix(struct action *a)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char buf[PATH_BYTES];
	const char *path;
	int fd;

	need_args(a, 1, 1);
	path = spell_path(a->args[0], buf, sizeof(buf));
	if (strlen(path) >= sizeof(addr.sun_path))
		die(EXIT_USAGE, "%s: path too long for a unix socket", a->token);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die(EXIT_FAILED, "%s: socket: %s", a->token, strerror(errno));
	check(a, bind(fd, (struct sockaddr *)&addr, sizeof(addr)));
	close(fd);
}

static void do_creat(struct action *a)
{
	char buf[PATH_BYTES];
	long fd;

	need_args(a, 1, 1);
#ifdef SYS_creat
	fd = syscall(SYS_creat, spell_path(a->args[0], buf, sizeof(buf)), 0644);
	check(a, fd);
	close_if_open(fd);
#else
	(void)fd;
	(void)buf;
	die(EXIT_UNSUPPORTED, "%s: creat(2) is not available on this architecture", a->token);
#endif
}

static void do_open(struct action *a)
{
	char buf[PATH_BYTES];
	long fd;

	need_args(a, 2, 2);
#ifdef SYS_open
	fd = syscall(SYS_open, spell_path(a->args[0], buf, sizeof(buf)),
		     parse_open_flags(a->args[1], a->token), 0644);
	check(a, fd);
	close_if_open(fd);
#else
	(void)fd;
	(void)buf;
	die(EXIT_UNSUPPORTED, "%s: open(2) is not available on this architecture", a->token);
#endif
}

static void do_openat(struct action *a)
{
	char buf[PATH_BYTES];
	long fd;

	need_args(a, 3, 3);
	fd = syscall(SYS_openat, parse_at(a->args[0], a->token),
		     spell_path(a->args[1], buf, sizeof(buf)),
		     parse_open_flags(a->args[2], a->token), 0644);
	check(a, fd);
	close_if_open(fd);
}

static void do_openat2(struct action *a)
{
	char buf[PATH_BYTES];
	struct open_how how;
	long fd;

	need_args(a, 3, 3);
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)parse_open_flags(a->args[2], a->token);
	if (how.flags & O_CREAT)
		how.mode = 0644;
	fd = syscall(SYS_openat2, parse_at(a->args[0], a->token),
		     spell_path(a->args[1], buf, sizeof(buf)), &how, sizeof(how));
	check(a, fd);
	close_if_open(fd);
}

static void do_rename(struct action *a)
{
	char old_buf[PATH_BYTES], new_buf[PATH_BYTES];

	need_args(a, 2, 2);
#ifdef SYS_rename
	check(a, syscall(SYS_rename, spell_path(a->args[0], old_buf, sizeof(old_buf)),
			 spell_path(a->args[1], new_buf, sizeof(new_buf))));
#else
	(void)old_buf;
	(void)new_buf;
	die(EXIT_UNSUPPORTED, "%s: rename(2) is not available on this architecture", a->token);
#endif
}

static void do_renameat(struct action *a)
{
	char old_buf[PATH_BYTES], new_buf[PATH_BYTES];
	int at;

	need_args(a, 3, 3);
	at = parse_at(a->args[0], a->token);
#ifdef SYS_renameat
	check(a, syscall(SYS_renameat, at, spell_path(a->args[1], old_buf, sizeof(old_buf)),
			 at, spell_path(a->args[2], new_buf, sizeof(new_buf))));
#else
	(void)at;
	(void)old_buf;
	(void)new_buf;
	die(EXIT_UNSUPPORTED, "%s: renameat(2) is not available on this architecture", a->token);
#endif
}

static void do_renameat2(struct action *a)
{
	char old_buf[PATH_BYTES], new_buf[PATH_BYTES];
	unsigned int flags;
	int at;

	need_args(a, 4, 4);
	at = parse_at(a->args[0], a->token);
	if (!strcmp(a->args[3], "0"))
		flags = 0;
	else if (!strcmp(a->args[3], "noreplace"))
		flags = RENAME_NOREPLACE;
	else if (!strcmp(a->args[3], "exchange"))
		flags = RENAME_EXCHANGE;
	else
		die(EXIT_USAGE, "%s: invalid flags '%s': use 0, noreplace or exchange", a->token,
		    a->args[3]);
	check(a, syscall(SYS_renameat2, at, spell_path(a->args[1], old_buf, sizeof(old_buf)),
			 at, spell_path(a->args[2], new_buf, sizeof(new_buf)), flags));
}

static void do_unlink(struct action *a)
{
	char buf[PATH_BYTES];

	need_args(a, 1, 1);
#ifdef SYS_unlink
	check(a, syscall(SYS_unlink, spell_path(a->args[0], buf, sizeof(buf))));
#else
	(void)buf;
	die(EXIT_UNSUPPORTED, "%s: unlink(2) is not available on this architecture", a->token);
#endif
}

static void do_unlinkat(struct action *a)
{
	char buf[PATH_BYTES];
	int flags = 0;

	need_args(a, 2, 3);
	if (a->n_args == 3) {
		if (strcmp(a->args[2], "removedir"))
			die(EXIT_USAGE, "%s: invalid flag '%s': use removedir", a->token,
			    a->args[2]);
		flags = AT_REMOVEDIR;
	}
	check(a, syscall(SYS_unlinkat, parse_at(a->args[0], a->token),
			 spell_path(a->args[1], buf, sizeof(buf)), flags));
}

static void do_rmdir(struct action *a)
{
	char buf[PATH_BYTES];

	need_args(a, 1, 1);
#ifdef SYS_rmdir
	check(a, syscall(SYS_rmdir, spell_path(a->args[0], buf, sizeof(buf))));
#else
	(void)buf;
	die(EXIT_UNSUPPORTED, "%s: rmdir(2) is not available on this architecture", a->token);
#endif
}

static void do_chdir(struct action *a)
{
	need_args(a, 1, 1);
	check(a, chdir(a->args[0]));
}

static void do_dir(struct action *a)
{
	int fd;

	need_args(a, 1, 1);
	fd = open(a->args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check(a, fd);
	if (fd < 0)
		return;
	if (state.dirfd >= 0)
		close(state.dirfd);
	state.dirfd = fd;
}

/* Opens the write end of a pipe again through /proc/self/fd and writes to it. */
static void do_pipe_write(struct action *a)
{
	char path[64];
	int fds[2];
	long fd;

	need_args(a, 0, 0);
	if (pipe2(fds, O_CLOEXEC))
		die(EXIT_FAILED, "%s: pipe2: %s", a->token, strerror(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[1]);
	fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CLOEXEC);
	check(a, fd);
	if (fd >= 0 && write((int)fd, "x", 1) != 1)
		die(EXIT_FAILED, "%s: write: %s", a->token, strerror(errno));
	close_if_open(fd);
	close(fds[0]);
	close(fds[1]);
}

/* ---- threads ------------------------------------------------------------ */

struct writer {
	pthread_t thread;
	pthread_barrier_t *start;
	const char *dir;
	int index;
	int n_files;
	int error;		/* errno of the first failure, 0 if none */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	char path[PATH_BYTES];
	int i, fd;

	pthread_barrier_wait(w->start);
	for (i = 0; i < w->n_files; i++) {
		format_path(path, sizeof(path), "%s/thread-%d-%d", w->dir, w->index, i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			w->error = errno;
			return NULL;
		}
		if (write(fd, "x", 1) != 1)
			w->error = errno;
		close(fd);
	}
	return NULL;
}

/* threads=N,M,DIR: N threads start together and each creates M files in DIR. */
static void do_threads(struct action *a)
{
	pthread_barrier_t start;
	struct writer *writers;
	int n_threads, n_files, i, err;

	need_args(a, 3, 3);
	n_threads = parse_int(a->args[0], a->token);
	n_files = parse_int(a->args[1], a->token);
	if (n_threads < 1)
		die(EXIT_USAGE, "%s: need at least one thread", a->token);
	writers = calloc((size_t)n_threads, sizeof(*writers));
	if (!writers)
		die(EXIT_FAILED, "%s: out of memory", a->token);
	pthread_barrier_init(&start, NULL, (unsigned int)n_threads);
	for (i = 0; i < n_threads; i++) {
		writers[i] = (struct writer){
			.start = &start, .dir = a->args[2], .index = i, .n_files = n_files,
		};
		err = pthread_create(&writers[i].thread, NULL, writer_main, &writers[i]);
		if (err)
			die(EXIT_FAILED, "%s: pthread_create: %s", a->token, strerror(err));
	}
	for (i = 0; i < n_threads; i++) {
		pthread_join(writers[i].thread, NULL);
		if (writers[i].error)
			die(EXIT_FAILED, "%s: thread %d: %s", a->token, i,
			    strerror(writers[i].error));
	}
	pthread_barrier_destroy(&start);
	free(writers);
}

/* ---- Claude Code files -------------------------------------------------- */

/* Returns $CLAUDE_CONFIG_DIR, else $HOME/.claude, in buf. */
static const char *config_dir(char *buf, size_t size)
{
	const char *dir = getenv("CLAUDE_CONFIG_DIR");
	const char *home = getenv("HOME");

	if (dir && *dir)
		return dir;
	if (!home || !*home)
		die(EXIT_USAGE, "neither CLAUDE_CONFIG_DIR nor HOME is set");
	format_path(buf, size, "%s/.claude", home);
	return buf;
}

/* Creates every missing directory of path, like mkdir -p. */
static void make_dirs(const char *path, const char *token)
{
	char buf[PATH_BYTES];
	char *p, saved;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; ; p++) {
		if (*p != '/' && *p)
			continue;
		saved = *p;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			die(EXIT_FAILED, "%s: mkdir %s: %s", token, buf, strerror(errno));
		*p = saved;
		if (!saved)
			break;
	}
}

static void append_line(struct action *a, const char *path, const char *line)
{
	long fd;

	fd = syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	check(a, fd);
	if (fd < 0)
		return;
	if (write((int)fd, line, strlen(line)) != (ssize_t)strlen(line))
		die(EXIT_FAILED, "%s: write %s: %s", a->token, path, strerror(errno));
	close((int)fd);
}

/* The project directory name Claude Code derives from the cwd. */
static void project_name(char *buf, size_t size)
{
	char *p;

	if (!getcwd(buf, size))
		die(EXIT_FAILED, "getcwd: %s", strerror(errno));
	for (p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			*p = '-';
}

/* transcript=UUID[,PROJECT]: appends to <config dir>/projects/PROJECT/UUID.jsonl. */
static void do_transcript(struct action *a)
{
	char config[PATH_BYTES], project[PATH_BYTES], dir[PATH_BYTES], path[PATH_BYTES];
	char line[256];

	need_args(a, 1, 2);
	if (a->n_args == 2)
		snprintf(project, sizeof(project), "%s", a->args[1]);
	else
		project_name(project, sizeof(project));
	format_path(dir, sizeof(dir), "%s/projects/%s", config_dir(config, sizeof(config)),
		    project);
	make_dirs(dir, a->token);
	format_path(path, sizeof(path), "%s/%s.jsonl", dir, a->args[0]);
	snprintf(line, sizeof(line), "{\"type\":\"user\",\"sessionId\":\"%s\"}\n", a->args[0]);
	append_line(a, path, line);
}

/* registry=UUID: writes <config dir>/sessions/<pid>.json like a live agent. */
static void do_registry(struct action *a)
{
	char config[PATH_BYTES], dir[PATH_BYTES], path[PATH_BYTES], cwd[PATH_BYTES];
	char line[PATH_BYTES + 256];

	need_args(a, 1, 1);
	if (!getcwd(cwd, sizeof(cwd)))
		die(EXIT_FAILED, "getcwd: %s", strerror(errno));
	format_path(dir, sizeof(dir), "%s/sessions", config_dir(config, sizeof(config)));
	make_dirs(dir, a->token);
	format_path(path, sizeof(path), "%s/%d.json", dir, (int)getpid());
	snprintf(line, sizeof(line),
		 "{\"pid\":%d,\"sessionId\":\"%s\",\"cwd\":\"%s\",\"status\":\"idle\"}\n",
		 (int)getpid(), a->args[0], cwd);
	append_line(a, path, line);
}

static void do_setenv(struct action *a)
{
	need_args(a, 2, 2);
	check(a, setenv(a->args[0], a->args[1], 1));
}

/* ---- connects ----------------------------------------------------------- */

/*
 * connect=ipv4,ADDR,PORT[,OPT...], connect=ipv6,ADDR,PORT[,OPT...],
 * connect=unix,PATH or connect=netlink. OPT is nonblock or udp. A
 * non-blocking connect that returns EINPROGRESS counts as success and
 * prints "connect: EINPROGRESS" on stdout.
 */
static void do_connect(struct action *a)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int family, type = SOCK_STREAM, protocol = 0, fd, i, ret, err;
	bool nonblock = false;

	need_args(a, 1, 5);
	memset(&ss, 0, sizeof(ss));
	for (i = 3; i < a->n_args; i++) {
		if (!strcmp(a->args[i], "nonblock"))
			nonblock = true;
		else if (!strcmp(a->args[i], "udp"))
			type = SOCK_DGRAM;
		else
			die(EXIT_USAGE, "%s: unknown option '%s'", a->token, a->args[i]);
	}
	if (!strcmp(a->args[0], "ipv4")) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		need_args(a, 3, 5);
		family = AF_INET;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)parse_int(a->args[2], a->token));
		if (inet_pton(AF_INET, a->args[1], &sin->sin_addr) != 1)
			die(EXIT_USAGE, "%s: invalid IPv4 address '%s'", a->token, a->args[1]);
		len = sizeof(*sin);
	} else if (!strcmp(a->args[0], "ipv6")) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		need_args(a, 3, 5);
		family = AF_INET6;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)parse_int(a->args[2], a->token));
		if (inet_pton(AF_INET6, a->args[1], &sin6->sin6_addr) != 1)
			die(EXIT_USAGE, "%s: invalid IPv6 address '%s'", a->token, a->args[1]);
		len = sizeof(*sin6);
	} else if (!strcmp(a->args[0], "unix")) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		need_args(a, 2, 2);
		family = AF_UNIX;
		sun->sun_family = AF_UNIX;
		if (strlen(a->args[1]) >= sizeof(sun->sun_path))
			die(EXIT_USAGE, "%s: socket path too long", a->token);
		strcpy(sun->sun_path, a->args[1]);
		len = sizeof(*sun);
	} else if (!strcmp(a->args[0], "netlink")) {
		struct sockaddr_nl *snl = (struct sockaddr_nl *)&ss;

		need_args(a, 1, 1);
		family = AF_NETLINK;
		type = SOCK_RAW;
		protocol = NETLINK_ROUTE;
		snl->nl_family = AF_NETLINK;
		len = sizeof(*snl);
	} else {
		die(EXIT_USAGE, "%s: invalid family '%s': use ipv4, ipv6, unix or netlink",
		    a->token, a->args[0]);
	}

	fd = socket(family, type | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), protocol);
	if (fd < 0)
		die(EXIT_FAILED, "%s: socket: %s", a->token, strerror(errno));
	ret = connect(fd, (struct sockaddr *)&ss, len);
	err = errno;
	if (ret < 0 && err == EINPROGRESS && nonblock) {
		printf("connect: EINPROGRESS\n");
		ret = 0;
	}
	errno = err;
	check(a, ret);
	close(fd);
}

/* ---- synchronisation ---------------------------------------------------- */

/* signal=FIFO: writes one byte to FIFO, which a test or another action reads. */
static void do_signal(struct action *a)
{
	int fd;

	need_args(a, 1, 1);
	fflush(stdout);
	fd = open(a->args[0], O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_FAILED, "%s: open: %s", a->token, strerror(errno));
	if (write(fd, "s", 1) != 1)
		die(EXIT_FAILED, "%s: write: %s", a->token, strerror(errno));
	close(fd);
}

/* wait=FIFO: blocks until one byte can be read from FIFO. */
static void do_wait(struct action *a)
{
	char byte;
	ssize_t n;
	int fd;

	need_args(a, 1, 1);
	fflush(stdout);
	/* O_RDWR keeps a writer open, so a writer that closes never ends the wait with EOF. */
	fd = open(a->args[0], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(EXIT_FAILED, "%s: open: %s", a->token, strerror(errno));
	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		die(EXIT_FAILED, "%s: read: %s", a->token, n < 0 ? strerror(errno) : "EOF");
	close(fd);
}

static void do_sleep(struct action *a)
{
	struct timespec ts;
	int ms;

	need_args(a, 1, 1);
	ms = parse_int(a->args[0], a->token);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- processes ---------------------------------------------------------- */

static int run_actions(char **argv, int begin, int end);

/*
 * Builds the argv of an exec'd child: argv[0], then the block. argv[0] is
 * the optional argument after the program's n_program_args arguments, else
 * default_argv0.
 */
static char **child_argv(const struct action *a, int n_program_args, const char *default_argv0)
{
	char **argv = calloc((size_t)a->block_len + 2, sizeof(*argv));
	const char *argv0 = default_argv0;
	int i;

	if (a->n_args > n_program_args)
		argv0 = a->args[n_program_args];
	if (!argv)
		die(EXIT_FAILED, "%s: out of memory", a->token);
	argv[0] = (char *)argv0;
	for (i = 0; i < a->block_len; i++)
		argv[i + 1] = a->block[i];
	return argv;
}

/*
 * Waits for a child and checks how it ended. An exec that was expected to
 * fail must end with EXIT_EXEC_FAILED; anything else must end with 0.
 */
static void wait_child(const struct action *a, pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die(EXIT_FAILED, "%s: waitpid: %s", a->token, strerror(errno));
	if (WIFSIGNALED(status))
		die(EXIT_FAILED, "%s: child %d killed by signal %d", a->token, (int)pid,
		    WTERMSIG(status));
	if (WEXITSTATUS(status) == EXIT_UNSUPPORTED)
		exit(EXIT_UNSUPPORTED);
	if (a->expect_failure && WEXITSTATUS(status) == EXIT_EXEC_FAILED)
		return;
	if (a->expect_failure)
		die(EXIT_FAILED, "%s: exec succeeded, but failure was expected", a->token);
	if (WEXITSTATUS(status))
		die(EXIT_FAILED, "%s: child %d exited with %d", a->token, (int)pid,
		    WEXITSTATUS(status));
}

/* Runs in a forked child: execs the action's program, or exits 127. */
static void exec_in_child(const struct action *a)
{
	char **argv;
	int fd;

	if (!strcmp(a->name, "execveat")) {
		fd = open(a->args[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			_exit(EXIT_EXEC_FAILED);
		argv = child_argv(a, 2, a->args[1]);
		syscall(SYS_execveat, fd, a->args[1], argv, environ, 0);
	} else if (!strcmp(a->name, "execveat-fd")) {
		fd = open(a->args[0], O_PATH | O_CLOEXEC);
		if (fd < 0)
			_exit(EXIT_EXEC_FAILED);
		argv = child_argv(a, 1, a->args[0]);
		syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
	} else {
		argv = child_argv(a, 1, a->args[0]);
		execve(a->args[0], argv, environ);
	}
	if (!a->expect_failure)
		fprintf(stderr, "workload: %s: exec: %s\n", a->token, strerror(errno));
	_exit(EXIT_EXEC_FAILED);
}

/*
 * exec=, execveat=, execveat-fd= and bg-exec=: fork, then exec in the
 * child. An argument after the program sets argv[0], as in exec=PATH,rg.
 */
static void do_exec(struct action *a)
{
	bool background = !strcmp(a->name, "bg-exec");
	int n_args = !strcmp(a->name, "execveat") ? 2 : 1;
	pid_t pid;

	need_args(a, n_args, n_args + 1);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAILED, "%s: fork: %s", a->token, strerror(errno));
	if (pid == 0)
		exec_in_child(a);
	if (!background) {
		wait_child(a, pid);
		return;
	}
	if (state.n_bg_children == MAX_BG_CHILDREN)
		die(EXIT_USAGE, "%s: more than %d background children", a->token,
		    MAX_BG_CHILDREN);
	state.bg_children[state.n_bg_children++] = pid;
}

static void do_vfork_exec(struct action *a)
{
	char **argv;
	pid_t pid;

	need_args(a, 1, 2);
	argv = child_argv(a, 1, a->args[0]);
	fflush(NULL);
	pid = vfork();
	if (pid < 0)
		die(EXIT_FAILED, "%s: vfork: %s", a->token, strerror(errno));
	if (pid == 0) {
		execve(a->args[0], argv, environ);
		_exit(EXIT_EXEC_FAILED);
	}
	free(argv);
	wait_child(a, pid);
}

/* Runs the block's actions in a child process and exits with their status. */
static void __attribute__((noreturn)) run_block_and_exit(const struct action *a)
{
	int status;

	/* The parent's background children are not this process's to reap. */
	state.n_bg_children = 0;
	status = run_actions(a->block, 0, a->block_len);

	fflush(NULL);
	_exit(status);
}

static void do_fork(struct action *a)
{
	pid_t pid;

	need_args(a, 0, 0);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAILED, "%s: fork: %s", a->token, strerror(errno));
	if (pid == 0)
		run_block_and_exit(a);
	wait_child(a, pid);
}

static void do_clone3(struct action *a)
{
	struct clone_args args;
	long pid;

	need_args(a, 0, 0);
	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	fflush(NULL);
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		die(EXIT_FAILED, "%s: clone3: %s", a->token, strerror(errno));
	if (pid == 0)
		run_block_and_exit(a);
	wait_child(a, (pid_t)pid);
}

/*
 * daemon: double fork and setsid. The grandchild waits until its parent
 * has exited, then runs the block. The caller reaps only the parent.
 */
static void do_daemon(struct action *a)
{
	pid_t pid, grandchild;

	need_args(a, 0, 0);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die(EXIT_FAILED, "%s: fork: %s", a->token, strerror(errno));
	if (pid == 0) {
		pid_t parent = getpid();

		grandchild = fork();
		if (grandchild < 0)
			_exit(EXIT_FAILED);
		if (grandchild > 0)
			_exit(0);
		if (setsid() < 0)
			die(EXIT_FAILED, "%s: setsid: %s", a->token, strerror(errno));
		while (getppid() == parent)
			usleep(1000);
		run_block_and_exit(a);
	}
	wait_child(a, pid);
}

static void reap_background_children(const struct action *a)
{
	int i;

	for (i = 0; i < state.n_bg_children; i++)
		wait_child(a, state.bg_children[i]);
	state.n_bg_children = 0;
}

static void do_reap(struct action *a)
{
	need_args(a, 0, 0);
	reap_background_children(a);
}

/* ---- dispatch ----------------------------------------------------------- */

struct action_kind {
	const char *name;
	void (*run)(struct action *a);
	bool takes_block;
};

static const struct action_kind kinds[] = {
	{ "mkdir", do_mkdir, false },
	{ "mkdirat", do_mkdirat, false },
	{ "mkfifo", do_mkfifo, false },
	{ "bind-unix", do_bind_unix, false },
	{ "creat", do_creat, false },
	{ "open", do_open, false },
	{ "openat", do_openat, false },
	{ "openat2", do_openat2, false },
	{ "rename", do_rename, false },
	{ "renameat", do_renameat, false },
	{ "renameat2", do_renameat2, false },
	{ "unlink", do_unlink, false },
	{ "unlinkat", do_unlinkat, false },
	{ "rmdir", do_rmdir, false },
	{ "chdir", do_chdir, false },
	{ "dir", do_dir, false },
	{ "pipe-write", do_pipe_write, false },
	{ "threads", do_threads, false },
	{ "transcript", do_transcript, false },
	{ "registry", do_registry, false },
	{ "setenv", do_setenv, false },
	{ "connect", do_connect, false },
	{ "signal", do_signal, false },
	{ "wait", do_wait, false },
	{ "sleep", do_sleep, false },
	{ "exec", do_exec, true },
	{ "bg-exec", do_exec, true },
	{ "execveat", do_exec, true },
	{ "execveat-fd", do_exec, true },
	{ "vfork-exec", do_vfork_exec, true },
	{ "fork", do_fork, true },
	{ "clone3", do_clone3, true },
	{ "daemon", do_daemon, true },
	{ "reap", do_reap, false },
};

static const struct action_kind *find_kind(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

/*
 * Splits token into a. Returns false when the token is not an action.
 * The argument strings are copies, so the token itself stays intact.
 */
static bool parse_action(const char *token, struct action *a)
{
	const char *name = token, *eq;
	size_t name_len;
	char *rest, *arg, *saveptr;

	memset(a, 0, sizeof(*a));
	a->token = token;
	if (*name == '!') {
		a->expect_failure = true;
		name++;
	}
	eq = strchr(name, '=');
	name_len = eq ? (size_t)(eq - name) : strlen(name);
	if (name_len == 0 || name_len >= sizeof(a->name))
		return false;
	memcpy(a->name, name, name_len);
	if (!find_kind(a->name))
		return false;
	if (!eq)
		return true;
	rest = strdup(eq + 1);
	if (!rest)
		die(EXIT_FAILED, "out of memory");
	for (arg = strtok_r(rest, ",", &saveptr); arg; arg = strtok_r(NULL, ",", &saveptr)) {
		if (a->n_args == MAX_ARGS)
			die(EXIT_USAGE, "%s: more than %d arguments", token, MAX_ARGS);
		a->args[a->n_args++] = arg;
	}
	return true;
}

/* Returns the index just past the "}" that closes the block opening at argv[open]. */
static int block_end(char **argv, int open, int end)
{
	int depth = 0, i;

	for (i = open; i < end; i++) {
		if (!strcmp(argv[i], "{"))
			depth++;
		else if (!strcmp(argv[i], "}") && --depth == 0)
			return i + 1;
	}
	die(EXIT_USAGE, "'{' after '%s' is never closed", argv[open - 1]);
}

/* Runs argv[begin..end) as actions. Returns the exit status. */
static int run_actions(char **argv, int begin, int end)
{
	struct action a;
	int i = begin, next;

	while (i < end) {
		next = i + 1;
		if (!parse_action(argv[i], &a)) {
			fprintf(stderr, "workload: skipping '%s': not an action\n", argv[i]);
			i = next;
			continue;
		}
		if (find_kind(a.name)->takes_block && next < end && !strcmp(argv[next], "{")) {
			int close = block_end(argv, next, end);

			/* The block without its braces, NULL-terminated for exec. */
			a.block_len = close - next - 2;
			a.block = calloc((size_t)a.block_len + 1, sizeof(*a.block));
			if (!a.block)
				die(EXIT_FAILED, "out of memory");
			memcpy(a.block, argv + next + 1, (size_t)a.block_len * sizeof(*a.block));
			next = close;
		}
		find_kind(a.name)->run(&a);
		i = next;
	}
	if (state.n_bg_children) {
		struct action reap = { .token = "reap at exit", .name = "reap" };

		reap_background_children(&reap);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int status = run_actions(argv, 1, argc);

	fflush(NULL);
	return status;
}
