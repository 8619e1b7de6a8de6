// SPDX-License-Identifier: MIT
/*
 * /dev/sev platform commands: PLATFORM_STATUS, PDH_CERT_EXPORT, GET_ID2.
 * Everything goes through the PSP choke point (psp.c); length queries (the
 * firmware's EIO + INVALID_LEN answer) are turned into sizes here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "psp-platform.h"
#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

#define SEV_DEFAULT_PATH "/dev/sev"

static int platform_new(struct sevmig_ctx *ctx, int fd, bool owned,
			struct sevmig_platform **ret)
{
	struct sevmig_platform *p = calloc(1, sizeof(*p));

	if (p)
		p->uses = calloc(1, sizeof(*p->uses));
	if (!p || !p->uses) {
		free(p);
		return sevmig_err(ctx, -ENOMEM, "platform: out of memory");
	}
	p->uses->refs = 1;
	p->ctx = ctx;
	p->fd = fd;
	p->owned = owned;
	*ret = p;
	return 0;
}

SEVMIG_EXPORT int sevmig_platform_open(struct sevmig_ctx *ctx, const char *path,
				       uint32_t flags,
				       struct sevmig_platform **ret_platform)
{
	int fd, ret;

	if (!ctx)
		return -EINVAL;
	if (!ret_platform)
		return sevmig_arg_null(ctx, __func__, "ret_platform");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	if (!path)
		path = SEV_DEFAULT_PATH;
	fd = sevmig_sys_open(ctx, path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		switch (fd) {
		case -ENOENT:
		case -ENODEV:
		case -ENXIO:
			return sevmig_err(ctx, fd,
					  "%s: no SEV platform device here (no AMD PSP, or the ccp driver is not loaded)",
					  path);
		case -EACCES:
		case -EPERM:
			return sevmig_err(ctx, fd,
					  "%s: permission denied opening it read-write (run as root or grant access to the device)",
					  path);
		default:
			return sevmig_err(ctx, fd, "%s: cannot open: %s", path,
					  sevmig_strerror(fd));
		}
	}
	ret = platform_new(ctx, fd, true, ret_platform);
	if (ret)
		sevmig_sys_close(ctx, fd);
	return ret;
}

SEVMIG_EXPORT int sevmig_platform_from_fd(struct sevmig_ctx *ctx, int sev_fd,
					  uint32_t flags,
					  struct sevmig_platform **ret_platform)
{
	if (!ctx)
		return -EINVAL;
	if (!ret_platform)
		return sevmig_arg_null(ctx, __func__, "ret_platform");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	if (sev_fd < 0)
		return sevmig_err(ctx, -EBADF,
				  "sevmig_platform_from_fd: %d is not a file descriptor",
				  sev_fd);
	return platform_new(ctx, sev_fd, false, ret_platform);
}

static void uses_put(struct sevmig_platform_uses *u)
{
	if (!__atomic_sub_fetch(&u->refs, 1, __ATOMIC_ACQ_REL))
		free(u);
}

SEVMIG_EXPORT void sevmig_platform_free(struct sevmig_platform *p)
{
	int vms;

	if (!p)
		return;
	vms = __atomic_load_n(&p->uses->vms, __ATOMIC_RELAXED);
	if (vms)
		sevmig_log(p->ctx, SEVMIG_LOG_WARNING,
			   "platform: /dev/sev fd %d released while %d VM(s) received with it may still exist (VM handles not freed, or raw RECEIVE_STARTs); KVM looks that fd number up for each of their commands, which will now fail with EBADF",
			   p->fd, vms);
	if (p->owned)
		sevmig_sys_close(p->ctx, p->fd);
	uses_put(p->uses);
	free(p);
}

struct sevmig_platform_uses *sevmig_platform_vm_received(struct sevmig_platform *p)
{
	__atomic_add_fetch(&p->uses->refs, 1, __ATOMIC_RELAXED);
	return p->uses;
}

void sevmig_platform_vm_released(struct sevmig_platform_uses *u)
{
	__atomic_sub_fetch(&u->vms, 1, __ATOMIC_RELAXED);
	uses_put(u);
}

SEVMIG_EXPORT int sevmig_platform_fd(const struct sevmig_platform *p)
{
	return p ? p->fd : -EINVAL;
}

/* Platform command errors a person can act on, beyond the choke point's. */
static int platform_cmd(struct sevmig_platform *p, uint32_t cmd, void *data,
			uint32_t *fw)
{
	int ret = sevmig_psp_platform_cmd(p->ctx, p->fd, cmd, data, fw);

	if (ret == -EIO && *fw == SEV_RET_INVALID_PLATFORM_STATE)
		sevmig_err(p->ctx, ret,
			   "%s: the SEV platform is not initialized (UNINIT): it is initialized when KVM starts its first SEV guest, or by the kernel for this command on kernels that do so",
			   sevmig_sev_cmd_name(cmd));
	return ret;
}

void sevmig_psp_status_decode(const struct sev_user_data_status *st,
			      struct sevmig_platform_status *out)
{
	memset(out, 0, sizeof(*out));
	out->api_major = st->api_major;
	out->api_minor = st->api_minor;
	out->build = st->build;
	out->state = st->state <= SEV_PSTATE_WORKING ? st->state + 1u : 0;
	out->config = (st->flags >> 8) & 0xffffu;
	out->guest_count = st->guest_count;
	if (st->flags & SEV_STATUS_FLAGS_OWNER)
		out->flags |= SEVMIG_PLATFORM_OWNER_EXTERNAL;
	if (st->flags & SEV_STATUS_FLAGS_CONFIG_ES)
		out->flags |= SEVMIG_PLATFORM_ES_INITIALIZED;
}

SEVMIG_EXPORT int
sevmig_platform_status(struct sevmig_platform *p,
		       struct sevmig_platform_status *ret_status,
		       uint32_t *ret_fw_error)
{
	struct sev_user_data_status st;
	struct sevmig_platform_status out;
	uint32_t fw = 0;
	int len, ret;

	if (!p)
		return -EINVAL;
	if (!ret_status)
		return sevmig_arg_null(p->ctx, __func__, "the status record");
	len = sevmig_arg_out(p->ctx, __func__, "status record", ret_status,
			     sizeof(out), SEVMIG_PLATFORM_STATUS_SIZE_VER0);
	if (len < 0)
		return len;
	memset(&st, 0, sizeof(st));
	ret = platform_cmd(p, SEV_PLATFORM_STATUS, &st, &fw);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return ret;
	}
	sevmig_psp_status_decode(&st, &out);
	sevmig_struct_out(ret_status, &out, (size_t)len);
	return 0;
}

static uint32_t blob_len(size_t size)
{
	return size > SEVMIG_FW_BLOB_MAX ? SEVMIG_FW_BLOB_MAX : (uint32_t)size;
}

SEVMIG_EXPORT int sevmig_platform_pdh_export(struct sevmig_platform *p,
					     void *pdh, size_t pdh_size,
					     void *chain, size_t chain_size,
					     size_t *ret_pdh_len,
					     size_t *ret_chain_len,
					     uint32_t *ret_fw_error)
{
	struct sev_user_data_pdh_cert_export ex;
	bool query = !pdh && !chain;
	uint32_t fw = 0;
	int ret;

	if (!p)
		return -EINVAL;
	if (!query && (!pdh || !chain || !pdh_size || !chain_size))
		return sevmig_arg_invalid(p->ctx, __func__,
					  "give both buffers with their sizes, or neither for a length query");
	/*
	 * Any zero address or length makes the kernel send a length query
	 * (sev_ioctl_do_pdh_export); the firmware then answers INVALID_LEN with
	 * both lengths, and the kernel copies them back. Kernels that
	 * initialize the platform for this command do so for queries too
	 * (docs/psp.md); a failed INIT shows up as EIO with a firmware status,
	 * which platform_cmd() explains.
	 */
	memset(&ex, 0, sizeof(ex));
	if (!query) {
		ex.pdh_cert_address = sevmig_ptr_u64(pdh);
		ex.pdh_cert_len = blob_len(pdh_size);
		ex.cert_chain_address = sevmig_ptr_u64(chain);
		ex.cert_chain_len = blob_len(chain_size);
	}
	ret = platform_cmd(p, SEV_PDH_CERT_EXPORT, &ex, &fw);
	if (query) {
		ret = sevmig_psp_query_answer(p->ctx, "PDH_CERT_EXPORT", ret,
					      fw, ret_fw_error);
	} else if (sevmig_psp_is_len_answer(ret, fw)) {
		/* The firmware's own length-query answer: pass the sizes on. */
		if (ret_pdh_len)
			*ret_pdh_len = ex.pdh_cert_len;
		if (ret_chain_len)
			*ret_chain_len = ex.cert_chain_len;
		return sevmig_err(p->ctx, -ENOSPC,
				  "PDH_CERT_EXPORT: buffers too small: the firmware needs %u bytes for the PDH and %u for the chain (given %zu and %zu)",
				  ex.pdh_cert_len, ex.cert_chain_len, pdh_size,
				  chain_size);
	} else if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
	} else if (ex.pdh_cert_len > pdh_size ||
		   ex.cert_chain_len > chain_size) {
		ret = sevmig_err(p->ctx, -EPROTO,
				 "PDH_CERT_EXPORT: the firmware reports more bytes (%u, %u) than the buffers hold",
				 ex.pdh_cert_len, ex.cert_chain_len);
	}
	if (ret)
		return ret;
	if (ret_pdh_len)
		*ret_pdh_len = ex.pdh_cert_len;
	if (ret_chain_len)
		*ret_chain_len = ex.cert_chain_len;
	return 0;
}

SEVMIG_EXPORT int sevmig_platform_get_id(struct sevmig_platform *p, void *buf,
					 size_t size, size_t *ret_len,
					 uint32_t *ret_fw_error)
{
	struct sev_user_data_get_id2 id;
	uint32_t fw = 0;
	int ret;

	if (!p)
		return -EINVAL;
	if (buf && !size)
		return sevmig_arg_invalid(p->ctx, __func__,
					  "a buffer needs a size; pass NULL for a length query");
	memset(&id, 0, sizeof(id));
	if (buf) {
		id.address = sevmig_ptr_u64(buf);
		id.length = blob_len(size);
	}
	ret = platform_cmd(p, SEV_GET_ID2, &id, &fw);
	if (ret == -ENOTSUPP)
		return sevmig_err(p->ctx, ret,
				  "GET_ID2: the SEV firmware is older than API 0.16 and has no GET_ID2");
	if (!buf) {
		ret = sevmig_psp_query_answer(p->ctx, "GET_ID2", ret, fw,
					      ret_fw_error);
	} else if (sevmig_psp_is_len_answer(ret, fw)) {
		if (ret_len)
			*ret_len = id.length;
		return sevmig_err(p->ctx, -ENOSPC,
				  "GET_ID2: buffer too small: the firmware needs %u bytes (given %zu)",
				  id.length, size);
	} else if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
	} else if (id.length > size) {
		ret = sevmig_err(p->ctx, -EPROTO,
				 "GET_ID2: the firmware reports %u bytes, more than the %zu-byte buffer",
				 id.length, size);
	}
	if (ret)
		return ret;
	if (ret_len)
		*ret_len = id.length;
	return 0;
}
