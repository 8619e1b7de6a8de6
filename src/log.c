// SPDX-License-Identifier: MIT
/* Per-context logging: no stderr, no globals; a callback or nothing. */
#include <stdio.h>

#include "internal.h"

static void vlog(const struct sevmig_ctx *ctx, uint32_t level,
		 const char *fmt, va_list ap) SEVMIG_PRINTF(3, 0);

static void vlog(const struct sevmig_ctx *ctx, uint32_t level,
		 const char *fmt, va_list ap)
{
	char msg[512];

	if (!ctx || !ctx->log || level > ctx->log_level)
		return;
	/*
	 * A long message is cut. Every caller did va_start; the analyzer
	 * loses it through the call (x86-64 va_list is an array).
	 */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	ctx->log(ctx->log_opaque, level, msg);
}

void sevmig_log(const struct sevmig_ctx *ctx, uint32_t level, const char *fmt,
		...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, level, fmt, ap);
	va_end(ap);
}

int sevmig_err_log(const struct sevmig_ctx *ctx, int err, const char *fmt,
		   ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, SEVMIG_LOG_ERR, fmt, ap);
	va_end(ap);
	return err;
}
