// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The syscall-heavy loop: "write" opens one regular file for writing
 * (O_WRONLY | O_CREAT | O_TRUNC), writes 64 bytes and closes it. "read"
 * opens the same file read-only, reads it and closes it. ccapm-trace counts
 * each write open of a session process as a file operation and ignores
 * read-only opens after the flags check.
 */
#include <fcntl.h>
#include <limits.h>

#include "common.h"

#define USAGE	"[-n ITERATIONS] [-r RATE_PER_S] [-d DIR] write|read"
#define PAYLOAD_BYTES	64

static void open_write_close(const char *path, const char *payload)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die("failed to open '%s' for writing: %s", path, strerror(errno));
	if (write(fd, payload, PAYLOAD_BYTES) != PAYLOAD_BYTES)
		die("failed to write '%s': %s", path, strerror(errno));
	close(fd);
}

static void open_read_close(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die("failed to open '%s' for reading: %s", path, strerror(errno));
	if (read(fd, buf, PAYLOAD_BYTES) < 0)
		die("failed to read '%s': %s", path, strerror(errno));
	close(fd);
}

int main(int argc, char **argv)
{
	struct loop_options o = { .iterations = 100000, .dir = "." };
	char path[PATH_MAX], buf[PAYLOAD_BYTES];
	bool writing;
	uint64_t start_ns;

	parse_loop_options(argc, argv, &o, USAGE);
	if (!o.mode || (strcmp(o.mode, "write") && strcmp(o.mode, "read")))
		die("expected the mode write or read\nUsage: %s %s", program_name, USAGE);
	writing = !strcmp(o.mode, "write");
	if (snprintf(path, sizeof(path), "%s/file-loop.dat", o.dir) >= (int)sizeof(path))
		die("directory path too long: '%s'", o.dir);
	memset(buf, 'x', sizeof(buf));
	/* The read loop needs the file to exist; this open is not timed. */
	open_write_close(path, buf);

	start_ns = monotonic_ns();
	for (unsigned long i = 0; i < o.iterations; i++) {
		pace(&o, start_ns, i);
		if (writing)
			open_write_close(path, buf);
		else
			open_read_close(path, buf);
	}
	print_result(o.iterations, monotonic_ns() - start_ns);
	return 0;
}
