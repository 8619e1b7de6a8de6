// SPDX-License-Identifier: MIT
/*
 * The library context: which backend, where logs go, whether the PSP lives,
 * and the trust anchors of certificate checks (verifier, added roots).
 */
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
	if (!dst->read)
		dst->read = def->read;
	if (!dst->writev)
		dst->writev = def->writev;
	if (!dst->poll)
		dst->poll = def->poll;
	if (!dst->fsync)
		dst->fsync = def->fsync;
	return 0;
}

SEVMIG_EXPORT int sevmig_ctx_new(const struct sevmig_ctx_opts *opts,
				 struct sevmig_ctx **ret_ctx)
{
	struct sevmig_ctx early = { .log = NULL };
	struct sevmig_ctx_opts o;
	struct sevmig_ctx *ctx;
	int ret;

	if (!ret_ctx)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts, SEVMIG_CTX_OPTS_SIZE_VER0);
	if (ret)
		return ret;	/* no valid log callback to say why */
	/* From here the caller's log callback can hear why we refuse. */
	early.log = o.log;
	early.log_opaque = o.log_opaque;
	early.log_level = SEVMIG_LOG_ERR;
	if ((ret = sevmig_arg_flags(&early, __func__, o.flags)))
		return ret;
	if (o.reserved0)
		return sevmig_arg_invalid(&early, __func__,
					  "opts->reserved0 must be 0");
	if (o.log_level > SEVMIG_LOG_DEBUG)
		return sevmig_arg_invalid(&early, __func__,
					  "log_level %u is not a SEVMIG_LOG_* level",
					  o.log_level);

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return sevmig_err(&early, -ENOMEM, "%s: out of memory", __func__);
	ret = sys_ops_copy(&ctx->sys, o.sys ? o.sys : sevmig_sys_default());
	if (ret) {
		free(ctx);
		return sevmig_err(&early, ret,
				  "%s: the syscall table (opts->sys) is not accepted: %s",
				  __func__, ret == -E2BIG ?
				  "it is larger than this library knows, with non-zero members past its end" :
				  "its size is below the first version or its flags are not 0");
	}
	ctx->log = o.log;
	ctx->log_opaque = o.log_opaque;
	ctx->log_level = o.log_level ? o.log_level : SEVMIG_LOG_WARNING;
	ctx->verify = o.verify;
	ctx->verify_opaque = o.verify_opaque;
	ret = pthread_mutex_init(&ctx->arks_lock, NULL);
	if (ret) {
		free(ctx);
		return sevmig_err(&early, -ret, "%s: cannot create a lock: %s",
				  __func__, sevmig_strerror(-ret));
	}
	*ret_ctx = ctx;
	return 0;
}

SEVMIG_EXPORT void sevmig_ctx_free(struct sevmig_ctx *ctx)
{
	if (!ctx)
		return;
	pthread_mutex_destroy(&ctx->arks_lock);
	free(ctx);
}
