// SPDX-License-Identifier: MIT
/*
 * Argument checks for public entry points: one way to refuse a caller's
 * input, always with the reason in the log. Apart from sized.c because that
 * file is libc-only and also compiled into libsevmig-sim, which has no
 * libsevmig context to log through.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Every public record's first published size, checked against its layout. */
SEVMIG_RECORD_VER0(struct sevmig_sys_ops, SEVMIG_SYS_OPS_SIZE_VER0, fsync);
SEVMIG_RECORD_VER0(struct sevmig_ctx_opts, SEVMIG_CTX_OPTS_SIZE_VER0,
		   verify_opaque);
SEVMIG_RECORD_VER0(struct sevmig_host_caps, SEVMIG_HOST_CAPS_SIZE_VER0,
		   es_cross_host_reasons);
SEVMIG_RECORD_VER0(struct sevmig_tracker_sync_info,
		   SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0, pages);
SEVMIG_RECORD_VER0(struct sevmig_tracker_stats, SEVMIG_TRACKER_STATS_SIZE_VER0,
		   leaves);
SEVMIG_RECORD_VER0(struct sevmig_platform_status,
		   SEVMIG_PLATFORM_STATUS_SIZE_VER0, guest_count);
SEVMIG_RECORD_VER0(struct sevmig_guest_status, SEVMIG_GUEST_STATUS_SIZE_VER0,
		   reserved0);
SEVMIG_RECORD_VER0(struct sevmig_send_start_args,
		   SEVMIG_SEND_START_ARGS_SIZE_VER0, session_size);
SEVMIG_RECORD_VER0(struct sevmig_page_xfer, SEVMIG_PAGE_XFER_SIZE_VER0,
		   reserved0);
SEVMIG_RECORD_VER0(struct sevmig_receive_start_args,
		   SEVMIG_RECEIVE_START_ARGS_SIZE_VER0, session_len);
SEVMIG_RECORD_VER0(struct sevmig_cert_info, SEVMIG_CERT_INFO_SIZE_VER0,
		   certifying_id);
SEVMIG_RECORD_VER0(struct sevmig_target_certs, SEVMIG_TARGET_CERTS_SIZE_VER0,
		   amd_chain_len);
SEVMIG_RECORD_VER0(struct sevmig_policy_info, SEVMIG_POLICY_INFO_SIZE_VER0,
		   api_minor);
SEVMIG_RECORD_VER0(struct sevmig_preflight_args,
		   SEVMIG_PREFLIGHT_ARGS_SIZE_VER0, target_api_minor);
SEVMIG_RECORD_VER0(struct sevmig_vm_opts, SEVMIG_VM_OPTS_SIZE_VER0, sev_type);
SEVMIG_RECORD_VER0(struct sevmig_channel_ops, SEVMIG_CHANNEL_OPS_SIZE_VER0,
		   cancel);
SEVMIG_RECORD_VER0(struct sevmig_mig_stats, SEVMIG_MIG_STATS_SIZE_VER0,
		   fw_status_seen);
SEVMIG_RECORD_VER0(struct sevmig_send_opts, SEVMIG_SEND_OPTS_SIZE_VER0,
		   reserved0);
SEVMIG_RECORD_VER0(struct sevmig_pass_info, SEVMIG_PASS_INFO_SIZE_VER0,
		   duration_ns);
SEVMIG_RECORD_VER0(struct sevmig_receive_opts, SEVMIG_RECEIVE_OPTS_SIZE_VER0,
		   progress_opaque);
SEVMIG_RECORD_VER0(struct sevmig_stream_info, SEVMIG_STREAM_INFO_SIZE_VER0,
		   error_offset);

int sevmig_arg_null_log(const struct sevmig_ctx *ctx, const char *fn,
			const char *what)
{
	return sevmig_err(ctx, -EINVAL, "%s: %s is required", fn, what);
}

int sevmig_arg_flags(const struct sevmig_ctx *ctx, const char *fn,
		     uint32_t flags)
{
	if (!flags)
		return 0;
	return sevmig_err(ctx, -EINVAL,
			  "%s: flags must be 0 (got 0x%x: no flag is defined yet)",
			  fn, flags);
}

int sevmig_arg_invalid_log(const struct sevmig_ctx *ctx, const char *fn,
			   const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap); /* a long message is cut */
	va_end(ap);
	return sevmig_err(ctx, -EINVAL, "%s: %s", fn, msg);
}

static int refuse_size(const struct sevmig_ctx *ctx, const char *fn,
		       const char *what, const void *rec, int err,
		       size_t min_size)
{
	uint32_t usize;

	memcpy(&usize, rec, sizeof(usize));
	return sevmig_err(ctx, err,
			  "%s: %s size %u is not accepted (%s)", fn, what, usize,
			  err == -E2BIG ?
			  "larger than this library knows, with non-zero fields past its end: built against a newer header?" :
			  min_size ? "smaller than the first published version: set ->size = sizeof() first" :
			  "invalid");
}

int sevmig_arg_in(const struct sevmig_ctx *ctx, const char *fn,
		  const char *what, void *dst, size_t ksize, const void *src,
		  size_t min_size)
{
	int ret = sevmig_struct_in(dst, ksize, src, min_size);

	return ret ? refuse_size(ctx, fn, what, src, ret, min_size) : 0;
}

int sevmig_arg_out(const struct sevmig_ctx *ctx, const char *fn,
		   const char *what, const void *user, size_t ksize,
		   size_t min_size)
{
	int len = sevmig_struct_out_len(user, ksize, min_size);

	return len < 0 ? refuse_size(ctx, fn, what, user, len, min_size) : len;
}
