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
	(void)vsnprintf(msg, sizeof(msg), fmt, ap); /* a long message is cut */
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

int sevmig_err(const struct sevmig_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(ctx, SEVMIG_LOG_ERR, fmt, ap);
	va_end(ap);
	return err;
}
