/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* UTF-8 validation for text that leaves the tracer: labels and log lines. */
#ifndef CCAPM_UTF8_H
#define CCAPM_UTF8_H

#include <stddef.h>

/*
 * Returns the length (1 to 4) of the valid UTF-8 character that s starts
 * with, or 0 when its first byte begins no valid character. Invalid are
 * stray continuation bytes, overlong forms, surrogates, code points above
 * U+10FFFF and cut sequences. s must be NUL-terminated.
 */
size_t utf8_char_len(const char *s);

#endif /* CCAPM_UTF8_H */
