// SPDX-License-Identifier: MIT
/*
 * KVM SEV guest commands for migration (KVM_MEMORY_ENCRYPT_OP on a VM fd):
 * GUEST_STATUS, SEND_START/UPDATE_DATA/FINISH/CANCEL and
 * RECEIVE_START/UPDATE_DATA/FINISH. Thin and stateless, but every argument
 * is validated before the ioctl so a caller gets a sentence instead of a
 * bare EINVAL from the kernel. All calls go through the PSP choke point.
 *
 * Kernel behaviour relied on (arch/x86/kvm/svm/sev.c, read upstream; see
 * /work/shared/docs/kernel-interfaces.md section 4):
 *  - SEND_START with session_len == 0 is a query: EIO, error INVALID_LEN,
 *    session_len = 128 copied back.
 *  - SEND_UPDATE_DATA with hdr_len == 0 or trans_len == 0 is a query: EIO,
 *    INVALID_LEN, hdr_len = 52; trans_len stays 0 on AMD-ASPFW firmware
 *    (unverified for older Naples/Rome builds, so a non-zero value is
 *    reported to the caller rather than assumed away).
 *  - UPDATE_DATA: guest_len <= PAGE_SIZE and (guest_uaddr & ~PAGE_MASK) +
 *    guest_len <= PAGE_SIZE, else EINVAL; the firmware wants 16-byte
 *    alignment, a multiple of 16 and trans_len == guest_len.
 *  - Blobs go through psp_copy_user_blob: NULL/0/ > 16 KiB gives EINVAL.
 *  - SEND/RECEIVE_UPDATE_VMSA (10, 14) are unknown ids upstream: EINVAL.
 *  - RECEIVE_START reads kvm_sev_cmd.sev_fd and stores the number; later
 *    commands look that number up again (EBADF when it is gone).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "platform.h"
#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

#define XFER_PAGE 4096u

static int guest_cmd(struct sevmig_ctx *ctx, int vm_fd,
		     struct sevmig_platform *p, uint32_t id, void *data,
		     uint32_t *fw)
{
	const char *name = sevmig_kvm_sev_cmd_name(id);
	int ret;

	*fw = 0;
	ret = sevmig_psp_guest_cmd(ctx, vm_fd, p->fd, id, data, fw);
	if (ret == -EBADF) {
		if (id == KVM_SEV_RECEIVE_START)
			sevmig_err(ctx, ret,
				   "%s: VM fd %d is not open, or /dev/sev fd %d is not an open /dev/sev descriptor",
				   name, vm_fd, p->fd);
		else
			sevmig_err(ctx, ret,
				   "%s: VM fd %d is not open, or the /dev/sev fd number KVM stored when this VM was started (LAUNCH_START/RECEIVE_START) is no longer open in this process: the platform object must outlive the VM",
				   name, vm_fd);
	} else if (ret == -ENOTTY) {
		sevmig_err(ctx, ret,
			   "%s: SEV is not enabled in KVM, or VM fd %d is not an SEV guest",
			   name, vm_fd);
	}
	return ret;
}

/* Common entry checks; returns 0 or a negative errno (already logged). */
static int check_common(struct sevmig_ctx *ctx, int vm_fd,
			const struct sevmig_platform *p, const char *fn)
{
	if (!ctx)
		return -EINVAL;
	if (!p)
		return sevmig_err(ctx, -EINVAL,
				  "%s: the platform (/dev/sev) object is required",
				  fn);
	if (vm_fd < 0)
		return sevmig_err(ctx, -EBADF, "%s: %d is not a VM fd", fn, vm_fd);
	return 0;
}

static void put_fw(uint32_t *ret_fw_error, uint32_t fw)
{
	if (fw && ret_fw_error)
		*ret_fw_error = fw;
}

SEVMIG_EXPORT int sevmig_guest_status(struct sevmig_ctx *ctx, int vm_fd,
				      struct sevmig_platform *p,
				      struct sevmig_guest_status *ret_status,
				      uint32_t *ret_fw_error)
{
	struct kvm_sev_guest_status gs;
	struct sevmig_guest_status out;
	uint32_t fw;
	int len, ret;

	ret = check_common(ctx, vm_fd, p, "GUEST_STATUS");
	if (ret)
		return ret;
	if (!ret_status)
		return sevmig_err(ctx, -EINVAL, "GUEST_STATUS: no record to fill");
	len = sevmig_struct_out_begin(ctx, "GUEST_STATUS", ret_status,
				      sizeof(out), SEVMIG_GUEST_STATUS_SIZE_VER0);
	if (len < 0)
		return len;
	memset(&gs, 0, sizeof(gs));
	ret = guest_cmd(ctx, vm_fd, p, KVM_SEV_GUEST_STATUS, &gs, &fw);
	if (ret) {
		put_fw(ret_fw_error, fw);
		return ret;
	}
	memset(&out, 0, sizeof(out));
	out.handle = gs.handle;
	out.policy = gs.policy;
	out.fw_state = gs.state;
	/* Firmware numbering (the kernel doc swaps SUPDATE 4 and RUPDATE 5). */
	out.state = gs.state <= SEV_GSTATE_SENT ? gs.state + 1u : 0;
	sevmig_struct_out(ret_status, &out, (size_t)len);
	return 0;
}

static int check_blob(struct sevmig_ctx *ctx, const char *what,
		      const void *buf, size_t len)
{
	if (!buf || !len)
		return sevmig_err(ctx, -EINVAL,
				  "SEND_START: the %s is missing (the kernel needs all three blobs, even when the policy does not make the firmware read them)",
				  what);
	if (len > SEV_FW_BLOB_MAX_SIZE)
		return sevmig_err(ctx, -EINVAL,
				  "SEND_START: the %s is %zu bytes; the kernel takes at most %u",
				  what, len, SEV_FW_BLOB_MAX_SIZE);
	return 0;
}

SEVMIG_EXPORT int sevmig_send_start(struct sevmig_ctx *ctx, int vm_fd,
				    struct sevmig_platform *p,
				    const struct sevmig_send_start_args *args,
				    uint32_t *ret_policy,
				    size_t *ret_session_len,
				    uint32_t *ret_fw_error)
{
	struct sevmig_send_start_args a;
	struct kvm_sev_send_start ss;
	uint32_t fw, need;
	int ret;

	ret = check_common(ctx, vm_fd, p, "SEND_START");
	if (ret)
		return ret;
	if (!args)
		return sevmig_err(ctx, -EINVAL, "SEND_START: no arguments");
	ret = sevmig_struct_in(&a, sizeof(a), args,
			       SEVMIG_SEND_START_ARGS_SIZE_VER0);
	if (ret)
		return sevmig_err(ctx, ret,
				  "SEND_START: argument record size %u is not one this library accepts",
				  args->size);
	if (a.flags)
		return sevmig_err(ctx, -EINVAL,
				  "SEND_START: flags must be 0 (got 0x%x)", a.flags);
	if ((ret = check_blob(ctx, "target PDH", a.pdh, a.pdh_len)) ||
	    (ret = check_blob(ctx, "target platform chain", a.plat_chain,
			      a.plat_chain_len)) ||
	    (ret = check_blob(ctx, "AMD chain (ASK and ARK)", a.amd_chain,
			      a.amd_chain_len)))
		return ret;
	if (!a.session != !a.session_size)
		return sevmig_err(ctx, -EINVAL,
				  "SEND_START: give the session buffer with its size, or neither for a length query");

	/* The session-length query: the firmware's INVALID_LEN is its answer. */
	memset(&ss, 0, sizeof(ss));
	ret = guest_cmd(ctx, vm_fd, p, KVM_SEV_SEND_START, &ss, &fw);
	if (!sevmig_psp_is_len_answer(ret, fw)) {
		if (!ret)
			return sevmig_err(ctx, -EPROTO,
					  "SEND_START: the session-length query succeeded instead of answering INVALID_LEN");
		put_fw(ret_fw_error, fw);
		return ret;
	}
	need = ss.session_len;
	if (!need || need > SEV_FW_BLOB_MAX_SIZE)
		return sevmig_err(ctx, -EPROTO,
				  "SEND_START: the firmware asked for a %u-byte session",
				  need);
	if (!a.session) {
		if (ret_session_len)
			*ret_session_len = need;
		return 0;
	}
	if (need > a.session_size)
		return sevmig_err(ctx, -ENOSPC,
				  "SEND_START: the session needs %u bytes; the buffer holds %zu",
				  need, a.session_size);

	memset(&ss, 0, sizeof(ss));
	ss.pdh_cert_uaddr = sevmig_ptr_u64(a.pdh);
	ss.pdh_cert_len = (uint32_t)a.pdh_len;
	ss.plat_certs_uaddr = sevmig_ptr_u64(a.plat_chain);
	ss.plat_certs_len = (uint32_t)a.plat_chain_len;
	ss.amd_certs_uaddr = sevmig_ptr_u64(a.amd_chain);
	ss.amd_certs_len = (uint32_t)a.amd_chain_len;
	ss.session_uaddr = sevmig_ptr_u64(a.session);
	ss.session_len = need;
	ret = guest_cmd(ctx, vm_fd, p, KVM_SEV_SEND_START, &ss, &fw);
	if (ret) {
		if (ret == -EIO && fw == SEV_RET_POLICY_FAILURE)
			sevmig_err(ctx, ret,
				   "SEND_START: the guest policy forbids this target (NOSEND, DOMAIN with another OCA, or the target's API version); sevmig_preflight() says which");
		put_fw(ret_fw_error, fw);
		return ret;
	}
	if (ret_policy)
		*ret_policy = ss.policy;
	if (ret_session_len)
		*ret_session_len = ss.session_len;
	return 0;
}

SEVMIG_EXPORT int sevmig_send_update_data_lengths(struct sevmig_ctx *ctx,
						  int vm_fd,
						  struct sevmig_platform *p,
						  uint32_t *ret_hdr_len,
						  uint32_t *ret_trans_len,
						  uint32_t *ret_fw_error)
{
	struct kvm_sev_send_update_data ud;
	uint32_t fw;
	int ret;

	ret = check_common(ctx, vm_fd, p, "SEND_UPDATE_DATA");
	if (ret)
		return ret;
	memset(&ud, 0, sizeof(ud));
	ret = guest_cmd(ctx, vm_fd, p, KVM_SEV_SEND_UPDATE_DATA, &ud, &fw);
	if (!sevmig_psp_is_len_answer(ret, fw)) {
		if (!ret)
			return sevmig_err(ctx, -EPROTO,
					  "SEND_UPDATE_DATA: the length query succeeded instead of answering INVALID_LEN");
		put_fw(ret_fw_error, fw);
		return ret;
	}
	if (ret_hdr_len)
		*ret_hdr_len = ud.hdr_len;
	if (ret_trans_len)
		*ret_trans_len = ud.trans_len;
	return 0;
}

/* Validate one transfer and fill the kernel struct; no allocation. */
static int xfer_prepare(struct sevmig_ctx *ctx, const char *name,
			const struct sevmig_page_xfer *xfer,
			struct kvm_sev_send_update_data *ud)
{
	struct sevmig_page_xfer x;
	uintptr_t addr;
	int ret;

	if (!xfer)
		return sevmig_err(ctx, -EINVAL, "%s: no transfer record", name);
	ret = sevmig_struct_in(&x, sizeof(x), xfer, SEVMIG_PAGE_XFER_SIZE_VER0);
	if (ret)
		return sevmig_err(ctx, ret,
				  "%s: transfer record size %u is not one this library accepts",
				  name, xfer->size);
	if (x.flags)
		return sevmig_err(ctx, -EINVAL, "%s: flags must be 0 (got 0x%x)",
				  name, x.flags);
	if (!x.guest || !x.hdr || !x.trans)
		return sevmig_err(ctx, -EINVAL,
				  "%s: the guest address, header buffer and transport buffer are all required",
				  name);
	addr = (uintptr_t)x.guest;
	if (x.guest_len == 0 || x.guest_len > XFER_PAGE)
		return sevmig_err(ctx, -EINVAL,
				  "%s: length %u: one transfer moves 16 to 4096 bytes (at most one page)",
				  name, x.guest_len);
	if (x.guest_len % 16u)
		return sevmig_err(ctx, -EINVAL,
				  "%s: length %u is not a multiple of 16 bytes", name,
				  x.guest_len);
	if (addr % 16u)
		return sevmig_err(ctx, -EINVAL,
				  "%s: guest address %p is not 16-byte aligned", name,
				  x.guest);
	if ((addr & (XFER_PAGE - 1u)) + x.guest_len > XFER_PAGE)
		return sevmig_err(ctx, -EINVAL,
				  "%s: %u bytes at %p cross a page boundary; split the transfer at the page",
				  name, x.guest_len, x.guest);
	if (x.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return sevmig_err(ctx, -EINVAL,
				  "%s: the header buffer holds %u bytes; a packet header is %u",
				  name, x.hdr_len, SEVMIG_PACKET_HDR_LEN);
	if (x.trans_len < x.guest_len)
		return sevmig_err(ctx, -EINVAL,
				  "%s: the transport buffer holds %u bytes, less than the %u guest bytes",
				  name, x.trans_len, x.guest_len);
	memset(ud, 0, sizeof(*ud));
	ud->hdr_uaddr = sevmig_ptr_u64(x.hdr);
	ud->hdr_len = SEVMIG_PACKET_HDR_LEN;
	ud->guest_uaddr = sevmig_ptr_u64(x.guest);
	ud->guest_len = x.guest_len;
	ud->trans_uaddr = sevmig_ptr_u64(x.trans);
	ud->trans_len = x.guest_len;	/* no compression: trans_len == guest_len */
	return 0;
}

static int update_data(struct sevmig_ctx *ctx, int vm_fd,
		       struct sevmig_platform *p, uint32_t id,
		       const struct sevmig_page_xfer *xfer,
		       uint32_t *ret_fw_error)
{
	const char *name = sevmig_kvm_sev_cmd_name(id);
	struct kvm_sev_send_update_data ud;
	uint32_t fw;
	int ret;

	ret = check_common(ctx, vm_fd, p, name);
	if (ret)
		return ret;
	ret = xfer_prepare(ctx, name, xfer, &ud);
	if (ret)
		return ret;
	ret = guest_cmd(ctx, vm_fd, p, id, &ud, &fw);
	if (ret) {
		if (ret == -ENOMEM)
			sevmig_err(ctx, ret,
				   "%s: KVM could not pin the guest page (RLIMIT_MEMLOCK reached without CAP_IPC_LOCK?)",
				   name);
		put_fw(ret_fw_error, fw);
	}
	return ret;
}

SEVMIG_EXPORT int sevmig_send_update_data(struct sevmig_ctx *ctx, int vm_fd,
					  struct sevmig_platform *p,
					  const struct sevmig_page_xfer *xfer,
					  uint32_t *ret_fw_error)
{
	return update_data(ctx, vm_fd, p, KVM_SEV_SEND_UPDATE_DATA, xfer,
			   ret_fw_error);
}

SEVMIG_EXPORT int sevmig_receive_update_data(struct sevmig_ctx *ctx, int vm_fd,
					     struct sevmig_platform *p,
					     const struct sevmig_page_xfer *xfer,
					     uint32_t *ret_fw_error)
{
	return update_data(ctx, vm_fd, p, KVM_SEV_RECEIVE_UPDATE_DATA,
			   xfer, ret_fw_error);
}

static int simple_cmd(struct sevmig_ctx *ctx, int vm_fd,
		      struct sevmig_platform *p, uint32_t id,
		      uint32_t *ret_fw_error)
{
	uint32_t fw;
	int ret;

	ret = check_common(ctx, vm_fd, p, sevmig_kvm_sev_cmd_name(id));
	if (ret)
		return ret;
	/* These commands carry no data; KVM ignores the pointer. */
	ret = guest_cmd(ctx, vm_fd, p, id, NULL, &fw);
	if (ret)
		put_fw(ret_fw_error, fw);
	return ret;
}

SEVMIG_EXPORT int sevmig_send_finish(struct sevmig_ctx *ctx, int vm_fd,
				     struct sevmig_platform *p,
				     uint32_t *ret_fw_error)
{
	return simple_cmd(ctx, vm_fd, p, KVM_SEV_SEND_FINISH,
			  ret_fw_error);
}

SEVMIG_EXPORT int sevmig_send_cancel(struct sevmig_ctx *ctx, int vm_fd,
				     struct sevmig_platform *p,
				     uint32_t *ret_fw_error)
{
	return simple_cmd(ctx, vm_fd, p, KVM_SEV_SEND_CANCEL,
			  ret_fw_error);
}

SEVMIG_EXPORT int sevmig_receive_finish(struct sevmig_ctx *ctx, int vm_fd,
					struct sevmig_platform *p,
					uint32_t *ret_fw_error)
{
	return simple_cmd(ctx, vm_fd, p, KVM_SEV_RECEIVE_FINISH,
			  ret_fw_error);
}

SEVMIG_EXPORT int sevmig_receive_start(struct sevmig_ctx *ctx, int vm_fd,
				       struct sevmig_platform *p,
				       const struct sevmig_receive_start_args *args,
				       uint32_t *ret_handle,
				       uint32_t *ret_fw_error)
{
	struct sevmig_receive_start_args a;
	struct kvm_sev_receive_start rs;
	uint32_t fw;
	int ret;

	ret = check_common(ctx, vm_fd, p, "RECEIVE_START");
	if (ret)
		return ret;
	if (!args)
		return sevmig_err(ctx, -EINVAL, "RECEIVE_START: no arguments");
	ret = sevmig_struct_in(&a, sizeof(a), args,
			       SEVMIG_RECEIVE_START_ARGS_SIZE_VER0);
	if (ret)
		return sevmig_err(ctx, ret,
				  "RECEIVE_START: argument record size %u is not one this library accepts",
				  args->size);
	if (a.flags)
		return sevmig_err(ctx, -EINVAL,
				  "RECEIVE_START: flags must be 0 (got 0x%x)", a.flags);
	if (!a.pdh || a.pdh_len != SEVMIG_SEV_CERT_LEN)
		return sevmig_err(ctx, -EINVAL,
				  "RECEIVE_START: the source's PDH must be one %u-byte SEV certificate (got %zu bytes)",
				  SEVMIG_SEV_CERT_LEN, a.pdh ? a.pdh_len : 0);
	if (!a.session || a.session_len != SEVMIG_SESSION_LEN)
		return sevmig_err(ctx, -EINVAL,
				  "RECEIVE_START: the session from SEND_START must be %u bytes (got %zu)",
				  SEVMIG_SESSION_LEN,
				  a.session ? a.session_len : 0);
	if (a.policy & SEVMIG_GUEST_POLICY_RESERVED)
		return sevmig_err(ctx, -EINVAL,
				  "RECEIVE_START: policy 0x%08x sets reserved bits 0x%04x; the firmware refuses it",
				  a.policy, a.policy & SEVMIG_GUEST_POLICY_RESERVED);
	if (a.policy & SEVMIG_GUEST_POLICY_ES)
		return sevmig_err(ctx, -EOPNOTSUPP,
				  "RECEIVE_START: policy 0x%08x is an SEV-ES guest; upstream KVM has no RECEIVE_UPDATE_VMSA, so SEV-ES guests cannot cross hosts",
				  a.policy);
	if (a.handle && (a.policy & SEVMIG_GUEST_POLICY_NOKS))
		return sevmig_err(ctx, -EINVAL,
				  "RECEIVE_START: handle %u asks to share a key, but the policy has NOKS",
				  a.handle);

	memset(&rs, 0, sizeof(rs));
	rs.handle = a.handle;
	rs.policy = a.policy;
	rs.pdh_uaddr = sevmig_ptr_u64(a.pdh);
	rs.pdh_len = (uint32_t)a.pdh_len;
	rs.session_uaddr = sevmig_ptr_u64(a.session);
	rs.session_len = (uint32_t)a.session_len;
	ret = guest_cmd(ctx, vm_fd, p, KVM_SEV_RECEIVE_START, &rs, &fw);
	if (ret) {
		put_fw(ret_fw_error, fw);
		return ret;
	}
	/* KVM stored p->fd's number for this VM: p must now outlive it. */
	__atomic_add_fetch(&p->vms_started, 1, __ATOMIC_RELAXED);
	if (ret_handle)
		*ret_handle = rs.handle;
	return 0;
}
