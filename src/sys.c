// SPDX-License-Identifier: MIT
/*
 * The syscall seam: every layer reaches the kernel (or whatever backend the
 * context was given) through these wrappers and nowhere else.
 */
#include <errno.h>

#include "internal.h"

int sevmig_sys_open(const struct sevmig_ctx *ctx, const char *path, int oflags)
{
	return ctx->sys.open(ctx->sys.opaque, path, oflags);
}

int sevmig_sys_close(const struct sevmig_ctx *ctx, int fd)
{
	return ctx->sys.close(ctx->sys.opaque, fd);
}

int sevmig_sys_ioctl(const struct sevmig_ctx *ctx, int fd, unsigned long req,
		     void *arg)
{
	/* The backend's member; only sys-linux.c issues the real system call. */
	int (*request)(void *, int, unsigned long, void *) = ctx->sys.ioctl;

	return request(ctx->sys.opaque, fd, req, arg);
}

int sevmig_sys_ioctl_val(const struct sevmig_ctx *ctx, int fd,
			 unsigned long req, unsigned long val)
{
	return sevmig_sys_ioctl(ctx, fd, req, (void *)(uintptr_t)val);
}

int sevmig_sys_read(const struct sevmig_ctx *ctx, int fd, void *buf, size_t len)
{
	return ctx->sys.read(ctx->sys.opaque, fd, buf, len);
}

int sevmig_sys_writev(const struct sevmig_ctx *ctx, int fd,
		      const struct sevmig_iovec *iov, uint32_t iovcnt)
{
	return ctx->sys.writev(ctx->sys.opaque, fd, iov, iovcnt);
}

int sevmig_sys_poll(const struct sevmig_ctx *ctx, int fd, uint32_t events,
		    int timeout_ms)
{
	return ctx->sys.poll(ctx->sys.opaque, fd, events, timeout_ms);
}

int sevmig_sys_fsync(const struct sevmig_ctx *ctx, int fd)
{
	return ctx->sys.fsync(ctx->sys.opaque, fd);
}
