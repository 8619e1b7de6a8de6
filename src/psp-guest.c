// SPDX-License-Identifier: MIT
/*
 * Raw KVM SEV guest commands for migration (KVM_MEMORY_ENCRYPT_OP on a VM
 * fd): GUEST_STATUS, SEND_START/UPDATE_DATA/FINISH/CANCEL and
 * RECEIVE_START/UPDATE_DATA/FINISH. Thin and stateless, but every argument
 * is validated before the ioctl so a caller gets a sentence instead of a
 * bare EINVAL from the kernel. All calls go through the PSP choke point.
 *
 * Kernel behaviour relied on (arch/x86/kvm/svm/sev.c; docs/psp.md):
 *  - SEND_START with session_len == 0 is a query: EIO, error INVALID_LEN,
 *    session_len = 128 copied back.
 *  - SEND_UPDATE_DATA with hdr_len == 0 or trans_len == 0 is a query: EIO,
 *    INVALID_LEN, hdr_len = 52; trans_len stays 0 on current firmware
 *    (a non-zero value is reported to the caller rather than assumed away).
 *  - UPDATE_DATA: guest_len <= PAGE_SIZE and (guest_uaddr & ~PAGE_MASK) +
 *    guest_len <= PAGE_SIZE, else EINVAL; the firmware wants 16-byte
 *    alignment, a multiple of 16 and trans_len == guest_len.
 *  - Blobs go through psp_copy_user_blob: NULL/0/ > 16 KiB gives EINVAL.
 *  - RECEIVE_START reads kvm_sev_cmd.sev_fd and stores the number; later
 *    commands look that number up again (EBADF when it is gone, and before
 *    any LAUNCH_START/RECEIVE_START, when KVM has none stored).
 */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "psp-platform.h"
#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

static int guest_cmd(struct sevmig_platform *p, int vm_fd, uint32_t id,
		     void *data, uint32_t *fw)
{
	/* The choke point logs every failure with its cause. */
	*fw = 0;
	return sevmig_psp_guest_cmd(p->ctx, vm_fd, p->fd, id, data, fw);
}

/* Common entry checks; returns 0 or a negative errno (logged if it can be). */
static int check_common(const struct sevmig_platform *p, int vm_fd,
			const char *fn)
{
	if (!p)
		return -EINVAL;	/* no platform: no context to log through */
	if (vm_fd < 0)
		return sevmig_err(p->ctx, -EBADF, "%s: %d is not a VM fd", fn,
				  vm_fd);
	return 0;
}

SEVMIG_EXPORT int
sevmig_psp_guest_status(struct sevmig_platform *p, int vm_fd,
			struct sevmig_guest_status *ret_status,
			uint32_t *ret_fw_error)
{
	struct kvm_sev_guest_status gs;
	struct sevmig_guest_status out;
	uint32_t fw;
	int len, ret;

	ret = check_common(p, vm_fd, __func__);
	if (ret)
		return ret;
	if (!ret_status)
		return sevmig_arg_null(p->ctx, __func__, "the status record");
	len = sevmig_arg_out(p->ctx, __func__, "status record", ret_status,
			     sizeof(out), SEVMIG_GUEST_STATUS_SIZE_VER0);
	if (len < 0)
		return len;
	memset(&gs, 0, sizeof(gs));
	ret = guest_cmd(p, vm_fd, KVM_SEV_GUEST_STATUS, &gs, &fw);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
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

static int check_blob(const struct sevmig_ctx *ctx, const char *what,
		      const void *buf, size_t len)
{
	if (!buf || !len)
		return sevmig_arg_invalid(ctx, "sevmig_psp_send_start",
					  "the %s is missing (the kernel needs all three blobs, even when the policy does not make the firmware read them)",
					  what);
	if (len > SEVMIG_FW_BLOB_MAX)
		return sevmig_arg_invalid(ctx, "sevmig_psp_send_start",
					  "the %s is %zu bytes; the kernel takes at most %u",
					  what, len, SEVMIG_FW_BLOB_MAX);
	return 0;
}

SEVMIG_EXPORT int
sevmig_psp_send_start(struct sevmig_platform *p, int vm_fd,
		      const struct sevmig_send_start_args *args,
		      uint32_t *ret_policy, size_t *ret_session_len,
		      uint32_t *ret_fw_error)
{
	struct sevmig_send_start_args a;
	struct kvm_sev_send_start ss;
	uint32_t fw, need;
	int ret;

	ret = check_common(p, vm_fd, __func__);
	if (ret)
		return ret;
	if (!args)
		return sevmig_arg_null(p->ctx, __func__, "the argument record");
	ret = sevmig_arg_in(p->ctx, __func__, "argument record", &a, sizeof(a),
			    args, SEVMIG_SEND_START_ARGS_SIZE_VER0);
	if (ret)
		return ret;
	if ((ret = sevmig_arg_flags(p->ctx, __func__, a.flags)) ||
	    (ret = check_blob(p->ctx, "target PDH", a.pdh, a.pdh_len)) ||
	    (ret = check_blob(p->ctx, "target platform chain", a.plat_chain,
			      a.plat_chain_len)) ||
	    (ret = check_blob(p->ctx, "AMD chain (ASK and ARK)", a.amd_chain,
			      a.amd_chain_len)))
		return ret;
	if (!a.session != !a.session_size)
		return sevmig_arg_invalid(p->ctx, __func__,
					  "give the session buffer with its size, or neither for a length query");

	/* The session-length query: the firmware's INVALID_LEN is its answer. */
	memset(&ss, 0, sizeof(ss));
	ret = guest_cmd(p, vm_fd, KVM_SEV_SEND_START, &ss, &fw);
	ret = sevmig_psp_query_answer(p->ctx, "SEND_START", ret, fw,
				      ret_fw_error);
	if (ret)
		return ret;
	need = ss.session_len;
	if (!need || need > SEVMIG_FW_BLOB_MAX)
		return sevmig_err(p->ctx, -EPROTO,
				  "SEND_START: the firmware asked for a %u-byte session",
				  need);
	if (!a.session || need > a.session_size) {
		if (ret_session_len)
			*ret_session_len = need;
		if (!a.session)
			return 0;
		return sevmig_err(p->ctx, -ENOSPC,
				  "SEND_START: the session needs %u bytes; the buffer holds %zu",
				  need, a.session_size);
	}

	memset(&ss, 0, sizeof(ss));
	ss.pdh_cert_uaddr = sevmig_ptr_u64(a.pdh);
	ss.pdh_cert_len = (uint32_t)a.pdh_len;
	ss.plat_certs_uaddr = sevmig_ptr_u64(a.plat_chain);
	ss.plat_certs_len = (uint32_t)a.plat_chain_len;
	ss.amd_certs_uaddr = sevmig_ptr_u64(a.amd_chain);
	ss.amd_certs_len = (uint32_t)a.amd_chain_len;
	ss.session_uaddr = sevmig_ptr_u64(a.session);
	ss.session_len = need;
	ret = guest_cmd(p, vm_fd, KVM_SEV_SEND_START, &ss, &fw);
	if (ret) {
		if (ret == -EIO && fw == SEV_RET_POLICY_FAILURE)
			sevmig_err(p->ctx, ret,
				   "SEND_START: the guest policy forbids this target (NOSEND, DOMAIN with another OCA, or the target's API version); sevmig_preflight() says which");
		sevmig_put_fw(ret_fw_error, fw);
		return ret;
	}
	if (ret_policy)
		*ret_policy = ss.policy;
	if (ret_session_len)
		*ret_session_len = ss.session_len;
	return 0;
}

SEVMIG_EXPORT int sevmig_psp_send_update_data_lengths(struct sevmig_platform *p,
						      int vm_fd,
						      uint32_t *ret_hdr_len,
						      uint32_t *ret_trans_len,
						      uint32_t *ret_fw_error)
{
	struct kvm_sev_send_update_data ud;
	uint32_t fw;
	int ret;

	ret = check_common(p, vm_fd, __func__);
	if (ret)
		return ret;
	memset(&ud, 0, sizeof(ud));
	ret = guest_cmd(p, vm_fd, KVM_SEV_SEND_UPDATE_DATA, &ud, &fw);
	ret = sevmig_psp_query_answer(p->ctx, "SEND_UPDATE_DATA", ret, fw,
				      ret_fw_error);
	if (ret)
		return ret;
	if (ret_hdr_len)
		*ret_hdr_len = ud.hdr_len;
	if (ret_trans_len)
		*ret_trans_len = ud.trans_len;
	return 0;
}

/* Validate one transfer and fill the kernel struct; no allocation. */
static int xfer_prepare(const struct sevmig_ctx *ctx, const char *fn,
			const struct sevmig_page_xfer *xfer,
			struct kvm_sev_send_update_data *ud)
{
	struct sevmig_page_xfer x;
	uintptr_t addr;
	int ret;

	if (!xfer)
		return sevmig_arg_null(ctx, fn, "the transfer record");
	ret = sevmig_arg_in(ctx, fn, "transfer record", &x, sizeof(x), xfer,
			    SEVMIG_PAGE_XFER_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(ctx, fn, x.flags)))
		return ret;
	if (!x.guest || !x.hdr || !x.trans)
		return sevmig_arg_invalid(ctx, fn,
					  "the guest address, header buffer and transport buffer are all required");
	addr = (uintptr_t)x.guest;
	if (x.guest_len == 0 || x.guest_len > SEVMIG_XFER_PAGE_SIZE)
		return sevmig_arg_invalid(ctx, fn,
					  "length %u: one transfer moves 16 to 4096 bytes (at most one page)",
					  x.guest_len);
	if (x.guest_len % 16u)
		return sevmig_arg_invalid(ctx, fn,
					  "length %u is not a multiple of 16 bytes",
					  x.guest_len);
	if (addr % 16u)
		return sevmig_arg_invalid(ctx, fn,
					  "guest address %p is not 16-byte aligned",
					  x.guest);
	if ((addr & (SEVMIG_XFER_PAGE_SIZE - 1u)) + x.guest_len >
	    SEVMIG_XFER_PAGE_SIZE)
		return sevmig_arg_invalid(ctx, fn,
					  "%u bytes at %p cross a page boundary; split the transfer at the page",
					  x.guest_len, x.guest);
	if (x.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return sevmig_arg_invalid(ctx, fn,
					  "the header buffer holds %u bytes; a packet header is %u",
					  x.hdr_len, SEVMIG_PACKET_HDR_LEN);
	if (x.trans_len < x.guest_len)
		return sevmig_arg_invalid(ctx, fn,
					  "the transport buffer holds %u bytes, less than the %u guest bytes",
					  x.trans_len, x.guest_len);
	memset(ud, 0, sizeof(*ud));
	ud->hdr_uaddr = sevmig_ptr_u64(x.hdr);
	ud->hdr_len = SEVMIG_PACKET_HDR_LEN;
	ud->guest_uaddr = sevmig_ptr_u64(x.guest);
	ud->guest_len = x.guest_len;
	ud->trans_uaddr = sevmig_ptr_u64(x.trans);
	ud->trans_len = x.guest_len;	/* no compression: trans_len == guest_len */
	return 0;
}

static int update_data(struct sevmig_platform *p, int vm_fd, uint32_t id,
		       const char *fn, const struct sevmig_page_xfer *xfer,
		       uint32_t *ret_fw_error)
{
	struct kvm_sev_send_update_data ud;
	uint32_t fw;
	int ret;

	ret = check_common(p, vm_fd, fn);
	if (ret)
		return ret;
	ret = xfer_prepare(p->ctx, fn, xfer, &ud);
	if (ret)
		return ret;
	ret = guest_cmd(p, vm_fd, id, &ud, &fw);
	if (ret)
		sevmig_put_fw(ret_fw_error, fw);
	return ret;
}

SEVMIG_EXPORT int
sevmig_psp_send_update_data(struct sevmig_platform *p, int vm_fd,
			    const struct sevmig_page_xfer *xfer,
			    uint32_t *ret_fw_error)
{
	return update_data(p, vm_fd, KVM_SEV_SEND_UPDATE_DATA, __func__, xfer,
			   ret_fw_error);
}

SEVMIG_EXPORT int
sevmig_psp_receive_update_data(struct sevmig_platform *p, int vm_fd,
			       const struct sevmig_page_xfer *xfer,
			       uint32_t *ret_fw_error)
{
	return update_data(p, vm_fd, KVM_SEV_RECEIVE_UPDATE_DATA, __func__,
			   xfer, ret_fw_error);
}

static int simple_cmd(struct sevmig_platform *p, int vm_fd, uint32_t id,
		      const char *fn, uint32_t *ret_fw_error)
{
	uint32_t fw;
	int ret;

	ret = check_common(p, vm_fd, fn);
	if (ret)
		return ret;
	/* These commands carry no data; KVM ignores the pointer. */
	ret = guest_cmd(p, vm_fd, id, NULL, &fw);
	if (ret)
		sevmig_put_fw(ret_fw_error, fw);
	return ret;
}

SEVMIG_EXPORT int sevmig_psp_init(struct sevmig_platform *p, int vm_fd,
				  uint32_t flags, uint32_t *ret_fw_error)
{
	if (p && sevmig_arg_flags(p->ctx, __func__, flags))
		return -EINVAL;
	return simple_cmd(p, vm_fd, KVM_SEV_INIT, __func__, ret_fw_error);
}

SEVMIG_EXPORT int sevmig_psp_send_finish(struct sevmig_platform *p, int vm_fd,
					 uint32_t *ret_fw_error)
{
	return simple_cmd(p, vm_fd, KVM_SEV_SEND_FINISH, __func__, ret_fw_error);
}

SEVMIG_EXPORT int sevmig_psp_send_cancel(struct sevmig_platform *p, int vm_fd,
					 uint32_t *ret_fw_error)
{
	return simple_cmd(p, vm_fd, KVM_SEV_SEND_CANCEL, __func__, ret_fw_error);
}

SEVMIG_EXPORT int sevmig_psp_receive_finish(struct sevmig_platform *p,
					    int vm_fd, uint32_t *ret_fw_error)
{
	return simple_cmd(p, vm_fd, KVM_SEV_RECEIVE_FINISH, __func__,
			  ret_fw_error);
}

SEVMIG_EXPORT int
sevmig_psp_receive_start(struct sevmig_platform *p, int vm_fd,
			 const struct sevmig_receive_start_args *args,
			 uint32_t *ret_handle, uint32_t *ret_fw_error)
{
	struct sevmig_receive_start_args a;
	struct kvm_sev_receive_start rs;
	uint32_t fw;
	int ret;

	ret = check_common(p, vm_fd, __func__);
	if (ret)
		return ret;
	if (!args)
		return sevmig_arg_null(p->ctx, __func__, "the argument record");
	ret = sevmig_arg_in(p->ctx, __func__, "argument record", &a, sizeof(a),
			    args, SEVMIG_RECEIVE_START_ARGS_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(p->ctx, __func__, a.flags)))
		return ret;
	if (!a.pdh || a.pdh_len != SEVMIG_SEV_CERT_LEN)
		return sevmig_arg_invalid(p->ctx, __func__,
					  "the source's PDH must be one %u-byte SEV certificate (got %zu bytes)",
					  SEVMIG_SEV_CERT_LEN, a.pdh ? a.pdh_len : 0);
	if (!a.session || a.session_len != SEVMIG_SESSION_LEN)
		return sevmig_arg_invalid(p->ctx, __func__,
					  "the session from SEND_START must be %u bytes (got %zu)",
					  SEVMIG_SESSION_LEN,
					  a.session ? a.session_len : 0);
	if (a.policy & SEVMIG_GUEST_POLICY_RESERVED)
		return sevmig_arg_invalid(p->ctx, __func__,
					  "policy 0x%08x sets reserved bits 0x%04x; the firmware refuses it",
					  a.policy,
					  a.policy & SEVMIG_GUEST_POLICY_RESERVED);
	if (a.policy & SEVMIG_GUEST_POLICY_ES)
		return sevmig_err(p->ctx, -EOPNOTSUPP,
				  "%s: policy 0x%08x is an SEV-ES guest; upstream KVM has no RECEIVE_UPDATE_VMSA, so SEV-ES guests cannot cross hosts",
				  __func__, a.policy);
	if (a.handle && (a.policy & SEVMIG_GUEST_POLICY_NOKS))
		return sevmig_arg_invalid(p->ctx, __func__,
					  "handle %u asks to share a key, but the policy has NOKS",
					  a.handle);

	memset(&rs, 0, sizeof(rs));
	rs.handle = a.handle;
	rs.policy = a.policy;
	rs.pdh_uaddr = sevmig_ptr_u64(a.pdh);
	rs.pdh_len = (uint32_t)a.pdh_len;
	rs.session_uaddr = sevmig_ptr_u64(a.session);
	rs.session_len = (uint32_t)a.session_len;
	ret = guest_cmd(p, vm_fd, KVM_SEV_RECEIVE_START, &rs, &fw);
	if (ret) {
		sevmig_put_fw(ret_fw_error, fw);
		return ret;
	}
	/* KVM stored p->fd's number for this VM: p must now outlive it. */
	__atomic_add_fetch(&p->uses->vms, 1, __ATOMIC_RELAXED);
	if (ret_handle)
		*ret_handle = rs.handle;
	return 0;
}
