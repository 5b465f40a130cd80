// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "utf8.h"

/* Maximum message length written whole. Longer ones end in "...". */
#define LOG_LINE_BYTES	8192

bool log_verbose;

/*
 * Writes text with control characters and bytes that are not valid UTF-8
 * as \xNN, so that a file or directory name cannot split or forge a line.
 */
static void write_escaped(const char *text)
{
	for (const char *c = text; *c;) {
		unsigned char byte = (unsigned char)*c;
		size_t len = utf8_char_len(c);

		if (len == 0 || byte < 0x20 || byte == 0x7f) {
			fprintf(stderr, "\\x%02x", byte);
			c++;
			continue;
		}
		fwrite(c, 1, len, stderr);
		c += len;
	}
}

static void log_line(const char *fmt, va_list ap)
{
	char line[LOG_LINE_BYTES];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	fputs("ccapm-trace: ", stderr);
	write_escaped(line);
	if (n >= (int)sizeof(line))
		fputs("...", stderr);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line(fmt, ap);
	va_end(ap);
}
