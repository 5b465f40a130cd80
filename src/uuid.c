// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>

#include "uuid.h"

#define UUID_CHARS	36

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_dash_position(int i)
{
	return i == 8 || i == 13 || i == 18 || i == 23;
}

/* Reads left to right and stops at the first bad character, so a short string ends at its NUL. */
bool uuid_parse(const char *s, uint8_t uuid[UUID_BYTES])
{
	uint8_t out[UUID_BYTES];
	int nibbles = 0;

	for (int i = 0; i < UUID_CHARS; i++) {
		int v;

		if (is_dash_position(i)) {
			if (s[i] != '-')
				return false;
			continue;
		}
		v = hex_value(s[i]);
		if (v < 0)
			return false;
		if (nibbles % 2 == 0)
			out[nibbles / 2] = v << 4;
		else
			out[nibbles / 2] |= v;
		nibbles++;
	}
	memcpy(uuid, out, UUID_BYTES);
	return true;
}

void uuid_format(const uint8_t uuid[UUID_BYTES], char text[UUID_TEXT_BYTES])
{
	static const char digits[] = "0123456789abcdef";
	int pos = 0;

	for (int i = 0; i < UUID_BYTES; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			text[pos++] = '-';
		text[pos++] = digits[uuid[i] >> 4];
		text[pos++] = digits[uuid[i] & 0xf];
	}
	text[pos] = '\0';
}

bool uuid_is_zero(const uint8_t uuid[UUID_BYTES])
{
	for (int i = 0; i < UUID_BYTES; i++) {
		if (uuid[i])
			return false;
	}
	return true;
}
