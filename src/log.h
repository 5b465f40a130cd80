/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Messages to stderr, each one line prefixed with the program name. */
#ifndef CCAPM_LOG_H
#define CCAPM_LOG_H

#include <stdbool.h>

extern bool log_verbose;

/* Prints "ccapm-trace: <message>" to stderr. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like log_error, but only with -v. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* CCAPM_LOG_H */
