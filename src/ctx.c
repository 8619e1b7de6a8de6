// SPDX-License-Identifier: MIT
/* The library context: which backend, where logs go, whether the PSP lives. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Fill @dst from a caller's ops table; NULL members fall back to Linux. */
static int sys_ops_copy(struct sevmig_sys_ops *dst,
			const struct sevmig_sys_ops *src)
{
	const struct sevmig_sys_ops *def = sevmig_sys_default();
	int ret;

	ret = sevmig_struct_in(dst, sizeof(*dst), src, SEVMIG_SYS_OPS_SIZE_VER0);
	if (ret)
		return ret;
	if (dst->flags)
		return -EINVAL;
	if (!dst->open)
		dst->open = def->open;
	if (!dst->close)
		dst->close = def->close;
	if (!dst->ioctl)
		dst->ioctl = def->ioctl;
	if (!dst->mmap)
		dst->mmap = def->mmap;
	if (!dst->munmap)
		dst->munmap = def->munmap;
	return 0;
}

SEVMIG_EXPORT int sevmig_ctx_new(const struct sevmig_ctx_opts *opts,
				 struct sevmig_ctx **ret_ctx)
{
	struct sevmig_ctx_opts o;
	struct sevmig_ctx *ctx;
	int ret;

	if (!ret_ctx)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts, SEVMIG_CTX_OPTS_SIZE_VER0);
	if (ret)
		return ret;
	if (o.flags || o.reserved0 || o.log_level > SEVMIG_LOG_DEBUG)
		return -EINVAL;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ret = sys_ops_copy(&ctx->sys, o.sys ? o.sys : sevmig_sys_default());
	if (ret) {
		free(ctx);
		return ret;
	}
	ctx->log = o.log;
	ctx->log_opaque = o.log_opaque;
	ctx->log_level = o.log_level ? o.log_level : SEVMIG_LOG_WARNING;
	*ret_ctx = ctx;
	return 0;
}

SEVMIG_EXPORT void sevmig_ctx_free(struct sevmig_ctx *ctx)
{
	free(ctx);
}
