// SPDX-License-Identifier: MIT
/*
 * Refusing a caller's output record with the reason in the log. Apart from
 * sized.c because that file is libc-only and also compiled into
 * libsevmig-sim, which has no libsevmig context to log through.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

int sevmig_struct_out_begin(const struct sevmig_ctx *ctx, const char *what,
			    const void *user, size_t ksize, size_t min_size)
{
	int len = sevmig_struct_out_len(user, ksize, min_size);
	uint32_t usize;

	memcpy(&usize, user, sizeof(usize));
	if (len < 0)
		return sevmig_err(ctx, len,
				  "%s: record size %u is not accepted (%s)", what,
				  usize,
				  len == -E2BIG ?
				  "larger than this library knows, with non-zero fields past its end" :
				  "smaller than the first published version");
	return len;
}
