// SPDX-License-Identifier: MIT
/*
 * Sized records, handled like the kernel's copy_struct_from_user(): an older
 * caller's smaller record reads as zero-extended, a newer caller's larger
 * record is fine as long as it asks for nothing we do not know.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static bool tail_is_zero(const unsigned char *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
}

static uint32_t record_size(const void *rec)
{
	uint32_t size;

	memcpy(&size, rec, sizeof(size));
	return size;
}

int sevmig_struct_in(void *dst, size_t ksize, const void *src,
		     size_t min_size)
{
	uint32_t usize, ksize32 = (uint32_t)ksize;

	memset(dst, 0, ksize);
	if (!src) {
		memcpy(dst, &ksize32, sizeof(ksize32));
		return 0;
	}
	usize = record_size(src);
	if (usize < min_size)
		return -EINVAL;
	if (usize > ksize && !tail_is_zero(src, ksize, usize))
		return -E2BIG;
	memcpy(dst, src, usize < ksize ? usize : ksize);
	memcpy(dst, &ksize32, sizeof(ksize32));
	return 0;
}

int sevmig_struct_out_len(const void *user, size_t ksize, size_t min_size)
{
	uint32_t usize = record_size(user);

	if (usize < min_size)
		return -EINVAL;
	if (usize > ksize && !tail_is_zero(user, ksize, usize))
		return -E2BIG;
	return (int)(usize < ksize ? usize : ksize);
}

void sevmig_struct_out(void *user, const void *kern, size_t len)
{
	uint32_t len32 = (uint32_t)len;

	memcpy(user, kern, len);
	memcpy(user, &len32, sizeof(len32));
}
