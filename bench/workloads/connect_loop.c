// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The connect loop: a thread accepts on a TCP listener bound to 127.0.0.1
 * with an ephemeral port, and the main thread creates a socket, connects
 * to the listener and closes the socket, N times. Each client socket is
 * closed with SO_LINGER 0 (a reset), so thousands of connects leave no
 * TIME_WAIT sockets behind to use up the ephemeral ports.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "common.h"

#define USAGE	"[-n ITERATIONS] [-r RATE_PER_S]"

static void *accept_all(void *arg)
{
	int listener = *(int *)arg, fd;

	for (;;) {
		fd = accept(listener, NULL, NULL);
		if (fd >= 0)
			close(fd);
		else if (errno != EINTR && errno != ECONNABORTED)
			die("failed to accept: %s", strerror(errno));
	}
	return NULL;
}

/* Binds a listener to 127.0.0.1 on a port the kernel picks and stores the address. */
static int listen_loopback(struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("failed to create the listener socket: %s", strerror(errno));
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)addr, sizeof(*addr)) || listen(fd, SOMAXCONN) ||
	    getsockname(fd, (struct sockaddr *)addr, &len))
		die("failed to listen on 127.0.0.1: %s", strerror(errno));
	return fd;
}

static void connect_close(const struct sockaddr_in *addr)
{
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("failed to create a socket: %s", strerror(errno));
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)))
		die("failed to connect to 127.0.0.1:%u: %s", ntohs(addr->sin_port),
		    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	close(fd);
}

int main(int argc, char **argv)
{
	struct loop_options o = { .iterations = 20000 };
	struct sockaddr_in addr;
	pthread_t acceptor;
	uint64_t start_ns;
	int listener, err;

	parse_loop_options(argc, argv, &o, USAGE);
	if (o.mode)
		die("unexpected argument '%s'\nUsage: %s %s", o.mode, program_name, USAGE);
	listener = listen_loopback(&addr);
	err = pthread_create(&acceptor, NULL, accept_all, &listener);
	if (err)
		die("failed to start the accept thread: %s", strerror(err));

	start_ns = monotonic_ns();
	for (unsigned long i = 0; i < o.iterations; i++) {
		pace(&o, start_ns, i);
		connect_close(&addr);
	}
	print_result(o.iterations, monotonic_ns() - start_ns);
	/* Exiting ends the accept thread. */
	return 0;
}
