/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Byte-string helpers small enough for the verifier to unroll. */
#ifndef CCAPM_BYTES_H
#define CCAPM_BYTES_H

/* Compares n bytes; n is a small constant, so clang unrolls the loop. */
static __always_inline bool bytes_equal(const char *a, const char *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/*
 * Compares n bytes of buf starting at a variable offset. buf must hold
 * mask + 1 bytes; mask keeps every index in bounds for the verifier.
 */
static __always_inline bool bytes_equal_at(const char *buf, __u32 start, __u32 mask,
					   const char *lit, int n)
{
	for (int i = 0; i < n; i++)
		if (buf[(start + i) & mask] != lit[i])
			return false;
	return true;
}

static __always_inline int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses the 36-character text form of a UUID into 16 bytes. */
static __always_inline bool parse_uuid(const char *s, __u8 *uuid)
{
	__u8 high = 0;

#pragma unroll
	for (int i = 0; i < CCAPM_UUID_CHARS; i++) {
		/* Dashes sit at 8, 13, 18 and 23; k counts the hex digits before i. */
		int k = i - (i > 8) - (i > 13) - (i > 18) - (i > 23);
		int v;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		v = hex_value(s[i]);
		if (v < 0)
			return false;
		if (k % 2 == 0)
			high = v << 4;
		else
			uuid[k / 2] = high | v;
	}
	return true;
}

/* Tells whether a dentry's name is exactly lit (len bytes, at most 16). */
static __always_inline bool dentry_name_is(struct dentry *dentry, const char *lit, __u32 len)
{
	char name[16];

	if (!dentry || BPF_CORE_READ(dentry, d_name.len) != len)
		return false;
	if (bpf_probe_read_kernel(name, len, BPF_CORE_READ(dentry, d_name.name)))
		return false;
	return bytes_equal(name, lit, len);
}

#endif /* CCAPM_BYTES_H */
