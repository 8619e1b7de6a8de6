/* SPDX-License-Identifier: MIT */
/*
 * Private: SHA-256 (FIPS 180-4), libc only, for fingerprints and digests
 * where libsevmig must not depend on a crypto library. Not constant-time
 * with respect to anything but the data length, which is all a hash of
 * public data needs.
 */
#ifndef SEVMIG_SHA256_H
#define SEVMIG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SEVMIG_SHA256_LEN 32u

struct sevmig_sha256 {
	uint32_t h[8];
	uint64_t bytes;		/* message length so far */
	uint8_t block[64];	/* partial block */
	uint32_t fill;		/* bytes in @block */
};

void sevmig_sha256_init(struct sevmig_sha256 *s);
void sevmig_sha256_update(struct sevmig_sha256 *s, const void *data,
			  size_t len);
/* Writes the digest; @s must be initialised again before reuse. */
void sevmig_sha256_final(struct sevmig_sha256 *s,
			 uint8_t out[SEVMIG_SHA256_LEN]);
/* One call: the digest of @len bytes at @data. */
void sevmig_sha256(const void *data, size_t len,
		   uint8_t out[SEVMIG_SHA256_LEN]);

#endif /* SEVMIG_SHA256_H */
