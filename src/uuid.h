/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Session ids: UUIDs in their 36-character text form. */
#ifndef CCAPM_UUID_H
#define CCAPM_UUID_H

#include <stdbool.h>
#include <stdint.h>

#define UUID_BYTES	16
#define UUID_TEXT_BYTES	37	/* 36 characters and the NUL */

/* Parses exactly 36 characters (8-4-4-4-12 hex digits, any case) at s. */
bool uuid_parse(const char *s, uint8_t uuid[UUID_BYTES]);
/* Formats uuid in lowercase into text. */
void uuid_format(const uint8_t uuid[UUID_BYTES], char text[UUID_TEXT_BYTES]);
bool uuid_is_zero(const uint8_t uuid[UUID_BYTES]);

#endif /* CCAPM_UUID_H */
