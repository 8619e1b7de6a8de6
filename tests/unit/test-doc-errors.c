// SPDX-License-Identifier: MIT
/*
 * Every error common.h, probe.h, psp.h, vm.h and migration.h document,
 * forced once on the scripted fake backend (kernel answers), with
 * allocations refused (-ENOMEM), or with nothing but the arguments. The
 * cases that need migration sessions on a simulated SEV platform are in
 * tests/mig/test-doc-errors-mig.c. tests/abi/check-errors.py checks that
 * the two files together force every documented error and nothing else.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "doc-errors.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"

/* ======================================================================
 * common.h
 * ====================================================================== */

DOC_CASE(sevmig_ctx_new, EINVAL)
{
	struct sevmig_ctx_opts o = doc_ctx_opts(NULL);
	struct sevmig_ctx *ctx = NULL;

	o.flags = 1;
	return DOC_CALL(sevmig_ctx_new(&o, &ctx));
}

DOC_CASE(sevmig_ctx_new, E2BIG)
{
	struct {
		struct sevmig_ctx_opts o;
		uint64_t newer;
	} big = { .o = doc_ctx_opts(NULL), .newer = 1 };
	struct sevmig_ctx *ctx = NULL;

	big.o.size = sizeof(big);
	return DOC_CALL(sevmig_ctx_new(&big.o, &ctx));
}

DOC_CASE(sevmig_ctx_new, ENOMEM)
{
	struct sevmig_ctx_opts o = doc_ctx_opts(NULL);
	struct sevmig_ctx *ctx = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_ctx_new(&o, &ctx));
}

/* ======================================================================
 * probe.h
 * ====================================================================== */

DOC_CASE(sevmig_host_probe, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_host_caps caps = { .size = sizeof(caps) };

	return DOC_CALL(sevmig_host_probe(ctx, &caps, 1));
}

DOC_CASE(sevmig_host_probe, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct {
		struct sevmig_host_caps caps;
		uint64_t newer;
	} big = { .caps.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_host_probe(ctx, &big.caps, 0));
}

/* ======================================================================
 * psp.h: the platform object
 * ====================================================================== */

static int open_fails(int err)
{
	const struct fake_call script[] = { FAKE_OPEN("/dev/sev", err) };
	struct sevmig_ctx *ctx = doc_ctx(DOC_FAKE(script));
	struct sevmig_platform *p = NULL;

	return DOC_CALL(sevmig_platform_open(ctx, NULL, 0, &p));
}

DOC_CASE(sevmig_platform_open, ENOENT) { return open_fails(-ENOENT); }
DOC_CASE(sevmig_platform_open, ENODEV) { return open_fails(-ENODEV); }
DOC_CASE(sevmig_platform_open, ENXIO) { return open_fails(-ENXIO); }
DOC_CASE(sevmig_platform_open, EACCES) { return open_fails(-EACCES); }
DOC_CASE(sevmig_platform_open, EPERM) { return open_fails(-EPERM); }

DOC_CASE(sevmig_platform_open, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_platform *p = NULL;

	return DOC_CALL(sevmig_platform_open(ctx, NULL, 1, &p));
}

DOC_CASE(sevmig_platform_open, ENOMEM)
{
	/* The descriptor it opened is closed again. */
	const struct fake_call script[] = {
		FAKE_OPEN("/dev/sev", DOC_SEV_FD),
		FAKE_CLOSE(DOC_SEV_FD, 0),
	};
	struct sevmig_platform *p = NULL;
	struct sevmig_ctx *ctx;

	doc_nomem();	/* before the script: a skip leaves it unused */
	ctx = doc_ctx(DOC_FAKE(script));
	return DOC_CALL(sevmig_platform_open(ctx, NULL, 0, &p));
}

DOC_CASE(sevmig_platform_from_fd, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());

	return DOC_CALL(sevmig_platform_from_fd(ctx, DOC_SEV_FD, 0, NULL));
}

DOC_CASE(sevmig_platform_from_fd, EBADF)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_platform *p = NULL;

	return DOC_CALL(sevmig_platform_from_fd(ctx, -1, 0, &p));
}

DOC_CASE(sevmig_platform_from_fd, ENOMEM)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_platform *p = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_platform_from_fd(ctx, DOC_SEV_FD, 0, &p));
}

DOC_CASE(sevmig_platform_fd, EINVAL)
{
	doc_no_log("no platform object: no context to log through");
	return DOC_CALL(sevmig_platform_fd(NULL));
}

/* ---- PLATFORM_STATUS ---- */

static int status_answer(int ret, uint32_t fw)
{
	const struct fake_call script[] = {
		DOC_SEV(SEV_PLATFORM_STATUS, ret, fw),
	};
	struct sevmig_platform *p = doc_platform(doc_ctx(DOC_FAKE(script)));
	struct sevmig_platform_status st = { .size = sizeof(st) };
	uint32_t got = 0;

	ret = DOC_CALL(sevmig_platform_status(p, &st, &got));
	assert_int_equal(got, fw);
	return ret;
}

DOC_CASE(sevmig_platform_status, EIO)
{
	return status_answer(-EIO, SEV_RET_INVALID_PARAM);
}
DOC_CASE(sevmig_platform_status, EBADF) { return status_answer(-EBADF, 0); }
DOC_CASE(sevmig_platform_status, ENOTTY) { return status_answer(-ENOTTY, 0); }
DOC_CASE(sevmig_platform_status, EFAULT) { return status_answer(-EFAULT, 0); }
DOC_CASE(sevmig_platform_status, ETIMEDOUT)
{
	return status_answer(-ETIMEDOUT, 0);
}
DOC_CASE(sevmig_platform_status, EBUSY) { return status_answer(-EBUSY, 0); }

DOC_CASE(sevmig_platform_status, EINVAL)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));
	struct sevmig_platform_status st = { .size = 4 };

	return DOC_CALL(sevmig_platform_status(p, &st, NULL));
}

DOC_CASE(sevmig_platform_status, E2BIG)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));
	struct {
		struct sevmig_platform_status st;
		uint64_t newer;
	} big = { .st.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_platform_status(p, &big.st, NULL));
}

/* ---- PDH_CERT_EXPORT ---- */

static uint8_t pdh_buf[SEVMIG_SEV_CERT_LEN], chain_buf[SEVMIG_PLAT_CHAIN_LEN];

static int pdh_export_with(const struct fake_call *script, size_t n,
			   size_t pdh_size)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake(script, n)));
	size_t pdh_len = 0, chain_len = 0;

	return DOC_CALL(sevmig_platform_pdh_export(p, pdh_buf, pdh_size,
						   chain_buf, sizeof(chain_buf),
						   &pdh_len, &chain_len, NULL));
}

static int pdh_answer(int ret, uint32_t fw)
{
	const struct fake_call script[] = {
		DOC_SEV(SEV_PDH_CERT_EXPORT, ret, fw),
	};

	return pdh_export_with(script, 1, sizeof(pdh_buf));
}

DOC_CASE(sevmig_platform_pdh_export, EINVAL)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));

	/* Only one of the two buffers. */
	return DOC_CALL(sevmig_platform_pdh_export(p, pdh_buf, sizeof(pdh_buf),
						   NULL, 0, NULL, NULL, NULL));
}

DOC_CASE(sevmig_platform_pdh_export, ENOSPC)
{
	/* The firmware answers a short buffer as a length query. */
	static const struct sev_user_data_pdh_cert_export need = {
		.pdh_cert_len = SEVMIG_SEV_CERT_LEN,
		.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN,
	};
	const struct fake_call script[] = {
		DOC_SEV_OUT(SEV_PDH_CERT_EXPORT, -EIO, SEV_RET_INVALID_LEN,
			    &need, sizeof(need)),
	};

	return pdh_export_with(script, 1, 100);
}

DOC_CASE(sevmig_platform_pdh_export, EPROTO)
{
	/* The firmware claims to have written more than the buffers hold. */
	static const struct sev_user_data_pdh_cert_export more = {
		.pdh_cert_len = SEVMIG_SEV_CERT_LEN + 1,
		.cert_chain_len = SEVMIG_PLAT_CHAIN_LEN,
	};
	const struct fake_call script[] = {
		DOC_SEV_OUT(SEV_PDH_CERT_EXPORT, 0, 0, &more, sizeof(more)),
	};

	return pdh_export_with(script, 1, sizeof(pdh_buf));
}

DOC_CASE(sevmig_platform_pdh_export, EPERM) { return pdh_answer(-EPERM, 0); }
DOC_CASE(sevmig_platform_pdh_export, EIO)
{
	return pdh_answer(-EIO, SEV_RET_INVALID_PLATFORM_STATE);
}
DOC_CASE(sevmig_platform_pdh_export, EBADF) { return pdh_answer(-EBADF, 0); }
DOC_CASE(sevmig_platform_pdh_export, ENOTTY) { return pdh_answer(-ENOTTY, 0); }
DOC_CASE(sevmig_platform_pdh_export, EFAULT) { return pdh_answer(-EFAULT, 0); }
DOC_CASE(sevmig_platform_pdh_export, ETIMEDOUT)
{
	return pdh_answer(-ETIMEDOUT, 0);
}
DOC_CASE(sevmig_platform_pdh_export, EBUSY) { return pdh_answer(-EBUSY, 0); }

/* ---- GET_ID2 ---- */

static uint8_t id_buf[128];

static int get_id_answer(int ret, uint32_t fw)
{
	const struct fake_call script[] = { DOC_SEV(SEV_GET_ID2, ret, fw) };
	struct sevmig_platform *p = doc_platform(doc_ctx(DOC_FAKE(script)));

	return DOC_CALL(sevmig_platform_get_id(p, id_buf, sizeof(id_buf), NULL,
					       NULL));
}

DOC_CASE(sevmig_platform_get_id, EINVAL)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));

	return DOC_CALL(sevmig_platform_get_id(p, id_buf, 0, NULL, NULL));
}

DOC_CASE(sevmig_platform_get_id, ENOSPC)
{
	static const struct sev_user_data_get_id2 need = { .length = 128 };
	const struct fake_call script[] = {
		DOC_SEV_OUT(SEV_GET_ID2, -EIO, SEV_RET_INVALID_LEN, &need,
			    sizeof(need)),
	};
	struct sevmig_platform *p = doc_platform(doc_ctx(DOC_FAKE(script)));
	size_t len = 0;
	int ret;

	ret = DOC_CALL(sevmig_platform_get_id(p, id_buf, 64, &len, NULL));
	assert_int_equal(len, 128);
	return ret;
}

DOC_CASE(sevmig_platform_get_id, EPROTO)
{
	/* A length query the firmware answers with success. */
	const struct fake_call script[] = { DOC_SEV(SEV_GET_ID2, 0, 0) };
	struct sevmig_platform *p = doc_platform(doc_ctx(DOC_FAKE(script)));
	size_t len = 0;

	return DOC_CALL(sevmig_platform_get_id(p, NULL, 0, &len, NULL));
}

DOC_CASE(sevmig_platform_get_id, ENOTSUPP)
{
	return get_id_answer(-ENOTSUPP, 0);
}
DOC_CASE(sevmig_platform_get_id, EIO)
{
	return get_id_answer(-EIO, SEV_RET_INVALID_PLATFORM_STATE);
}
DOC_CASE(sevmig_platform_get_id, EBADF) { return get_id_answer(-EBADF, 0); }
DOC_CASE(sevmig_platform_get_id, ENOTTY) { return get_id_answer(-ENOTTY, 0); }
DOC_CASE(sevmig_platform_get_id, EFAULT) { return get_id_answer(-EFAULT, 0); }
DOC_CASE(sevmig_platform_get_id, ETIMEDOUT)
{
	return get_id_answer(-ETIMEDOUT, 0);
}
DOC_CASE(sevmig_platform_get_id, EBUSY) { return get_id_answer(-EBUSY, 0); }

/* ======================================================================
 * psp.h: raw guest commands on DOC_VM_FD
 * ====================================================================== */

static uint8_t cert[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
static uint8_t amd[3200], session[SEVMIG_SESSION_LEN];
static uint8_t hdr[SEVMIG_PACKET_HDR_LEN], trans[4096];
static uint8_t page[2 * 4096] __attribute__((aligned(4096)));

static struct sevmig_platform *guest_platform(const struct fake_call *script,
					      size_t n)
{
	return doc_platform(doc_ctx(doc_fake(script, n)));
}

static struct sevmig_send_start_args send_args(void)
{
	struct sevmig_send_start_args a = {
		.size = sizeof(a), .pdh = cert, .pdh_len = sizeof(cert),
		.plat_chain = chain, .plat_chain_len = sizeof(chain),
		.amd_chain = amd, .amd_chain_len = sizeof(amd),
		.session = session, .session_size = sizeof(session),
	};

	return a;
}

static struct sevmig_page_xfer xfer(void *guest, uint32_t len)
{
	struct sevmig_page_xfer x = {
		.size = sizeof(x), .guest = guest, .hdr = hdr, .trans = trans,
		.guest_len = len, .hdr_len = sizeof(hdr),
		.trans_len = sizeof(trans),
	};

	return x;
}

static struct sevmig_receive_start_args recv_args(uint32_t policy)
{
	struct sevmig_receive_start_args a = {
		.size = sizeof(a), .policy = policy, .pdh = cert,
		.pdh_len = sizeof(cert), .session = session,
		.session_len = sizeof(session),
	};

	return a;
}

/* ---- KVM_SEV_INIT ---- */

DOC_CASE(sevmig_psp_init, EINVAL)
{
	/* The kernel's answer for a VM that is an SEV guest already. */
	const struct fake_call script[] = { DOC_KVM(KVM_SEV_INIT, -EINVAL, 0) };
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_init(p, DOC_VM_FD, 0, NULL));
}

DOC_CASE(sevmig_psp_init, EBUSY)
{
	/* No free SEV ASID. */
	const struct fake_call script[] = { DOC_KVM(KVM_SEV_INIT, -EBUSY, 0) };
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_init(p, DOC_VM_FD, 0, NULL));
}

DOC_CASE(sevmig_psp_init, EIO)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_INIT, -EIO, SEV_RET_INVALID_PLATFORM_STATE),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_psp_init(p, DOC_VM_FD, 0, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_PLATFORM_STATE);
	return ret;
}

/* ---- GUEST_STATUS ---- */

DOC_CASE(sevmig_psp_guest_status, E2BIG)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	struct {
		struct sevmig_guest_status st;
		uint64_t newer;
	} big = { .st.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_psp_guest_status(p, DOC_VM_FD, &big.st, NULL));
}

DOC_CASE(sevmig_psp_guest_status, EBADF)
{
	/* KVM has no /dev/sev descriptor for a VM with no guest started. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_GUEST_STATUS, -EBADF, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	int ret;

	ret = DOC_CALL(sevmig_psp_guest_status(p, DOC_VM_FD, &st, NULL));
	assert_true(doc_log_has("no guest was started on this VM yet"));
	return ret;
}

DOC_CASE(sevmig_psp_guest_status, EIO)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_GUEST_STATUS, -EIO, SEV_RET_INVALID_GUEST),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_psp_guest_status(p, DOC_VM_FD, &st, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_GUEST);
	return ret;
}

/* ---- SEND_START ---- */

static const struct kvm_sev_send_start session_128 = { .session_len = 128 };

DOC_CASE(sevmig_psp_send_start, EINVAL)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	struct sevmig_send_start_args a = send_args();

	a.amd_chain = NULL;
	a.amd_chain_len = 0;
	return DOC_CALL(sevmig_psp_send_start(p, DOC_VM_FD, &a, NULL, NULL,
					      NULL));
}

DOC_CASE(sevmig_psp_send_start, ENOSPC)
{
	const struct fake_call script[] = {
		DOC_KVM_OUT(KVM_SEV_SEND_START, -EIO, SEV_RET_INVALID_LEN,
			    &session_128, sizeof(session_128)),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_send_start_args a = send_args();
	size_t need = 0;
	int ret;

	a.session_size = 64;
	ret = DOC_CALL(sevmig_psp_send_start(p, DOC_VM_FD, &a, NULL, &need,
					     NULL));
	assert_int_equal(need, 128);
	return ret;
}

DOC_CASE(sevmig_psp_send_start, EPROTO)
{
	/* The session-length query succeeds instead of answering a length. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_START, 0, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_send_start_args a = send_args();

	return DOC_CALL(sevmig_psp_send_start(p, DOC_VM_FD, &a, NULL, NULL,
					      NULL));
}

DOC_CASE(sevmig_psp_send_start, ETIMEDOUT)
{
	const struct fake_call script[] = {
		DOC_KVM_OUT(KVM_SEV_SEND_START, -EIO, SEV_RET_INVALID_LEN,
			    &session_128, sizeof(session_128)),
		DOC_KVM(KVM_SEV_SEND_START, -ETIMEDOUT, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 2);
	struct sevmig_send_start_args a = send_args();

	return DOC_CALL(sevmig_psp_send_start(p, DOC_VM_FD, &a, NULL, NULL,
					      NULL));
}

DOC_CASE(sevmig_psp_send_start, EIO)
{
	const struct fake_call script[] = {
		DOC_KVM_OUT(KVM_SEV_SEND_START, -EIO, SEV_RET_INVALID_LEN,
			    &session_128, sizeof(session_128)),
		DOC_KVM(KVM_SEV_SEND_START, -EIO, SEV_RET_POLICY_FAILURE),
	};
	struct sevmig_platform *p = guest_platform(script, 2);
	struct sevmig_send_start_args a = send_args();
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_psp_send_start(p, DOC_VM_FD, &a, NULL, NULL,
					     &fw));
	assert_int_equal(fw, SEV_RET_POLICY_FAILURE);
	return ret;
}

/* ---- SEND_UPDATE_DATA ---- */

DOC_CASE(sevmig_psp_send_update_data_lengths, EPROTO)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_UPDATE_DATA, 0, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_send_update_data_lengths(p, DOC_VM_FD, NULL,
							    NULL, NULL));
}

DOC_CASE(sevmig_psp_send_update_data_lengths, EFAULT)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_UPDATE_DATA, -EFAULT, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_send_update_data_lengths(p, DOC_VM_FD, NULL,
							    NULL, NULL));
}

DOC_CASE(sevmig_psp_send_update_data, EINVAL)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	/* 4096 bytes from the middle of a page cross into the next one. */
	struct sevmig_page_xfer x = xfer(page + 2048, 4096);

	return DOC_CALL(sevmig_psp_send_update_data(p, DOC_VM_FD, &x, NULL));
}

DOC_CASE(sevmig_psp_send_update_data, ENOMEM)
{
	/* KVM could not pin the guest page. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_UPDATE_DATA, -ENOMEM, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_page_xfer x = xfer(page, 4096);

	return DOC_CALL(sevmig_psp_send_update_data(p, DOC_VM_FD, &x, NULL));
}

/* ---- SEND_FINISH, SEND_CANCEL ---- */

DOC_CASE(sevmig_psp_send_finish, EIO)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_FINISH, -EIO, SEV_RET_INVALID_GUEST_STATE),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_psp_send_finish(p, DOC_VM_FD, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_GUEST_STATE);
	return ret;
}

DOC_CASE(sevmig_psp_send_cancel, EBUSY)
{
	/* A PSP that timed out earlier: the kernel refuses with EBUSY. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_SEND_CANCEL, -EBUSY, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_send_cancel(p, DOC_VM_FD, NULL));
}

/* ---- RECEIVE_* ---- */

DOC_CASE(sevmig_psp_receive_start, EINVAL)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	struct sevmig_receive_start_args a = recv_args(0);

	a.session_len = 64;
	return DOC_CALL(sevmig_psp_receive_start(p, DOC_VM_FD, &a, NULL, NULL));
}

DOC_CASE(sevmig_psp_receive_start, EOPNOTSUPP)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	struct sevmig_receive_start_args a =
		recv_args(SEVMIG_GUEST_POLICY_ES);

	return DOC_CALL(sevmig_psp_receive_start(p, DOC_VM_FD, &a, NULL, NULL));
}

DOC_CASE(sevmig_psp_receive_start, EBADF)
{
	/* The platform's descriptor is not /dev/sev. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_RECEIVE_START, -EBADF, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_receive_start_args a = recv_args(0);

	return DOC_CALL(sevmig_psp_receive_start(p, DOC_VM_FD, &a, NULL, NULL));
}

DOC_CASE(sevmig_psp_receive_update_data, EINVAL)
{
	struct sevmig_platform *p = guest_platform(NULL, 0);
	struct sevmig_page_xfer x = xfer(page + 8, 4000);	/* unaligned */

	return DOC_CALL(sevmig_psp_receive_update_data(p, DOC_VM_FD, &x, NULL));
}

DOC_CASE(sevmig_psp_receive_update_data, ENOTTY)
{
	/* SEV is not enabled in KVM. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_RECEIVE_UPDATE_DATA, -ENOTTY, 0),
	};
	struct sevmig_platform *p = guest_platform(script, 1);
	struct sevmig_page_xfer x = xfer(page, 4096);

	return DOC_CALL(sevmig_psp_receive_update_data(p, DOC_VM_FD, &x, NULL));
}

DOC_CASE(sevmig_psp_receive_finish, EIO)
{
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_RECEIVE_FINISH, -EIO, SEV_RET_HWSEV_RET_UNSAFE),
	};
	struct sevmig_platform *p = guest_platform(script, 1);

	return DOC_CALL(sevmig_psp_receive_finish(p, DOC_VM_FD, NULL));
}

/* ======================================================================
 * vm.h
 * ====================================================================== */

static struct sevmig_vm *plain_vm(const struct fake_call *script, size_t n)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake(script, n));

	return doc_vm(ctx, doc_platform(ctx));
}

static void receive_free(void *r)
{
	sevmig_receive_free(r);
}

static uint8_t amd_chain[1664];

/* A receive session on @vm: the handle is INCOMING, a session is open. */
static struct sevmig_receive *incoming(struct sevmig_ctx *ctx,
				       struct sevmig_vm *vm)
{
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = {
		.size = sizeof(o), .channels = &ch, .nr_channels = 1,
		.amd_chain = amd_chain, .amd_chain_len = sizeof(amd_chain),
	};
	struct sevmig_receive *r = NULL;

	assert_int_equal(sevmig_receive_new(vm, &o, &r), 0);
	doc_defer(receive_free, r);
	return r;
}

/* A handle that is DEAD: a receive session that ended without commit. */
static struct sevmig_vm *dead_vm(struct sevmig_ctx *ctx)
{
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = {
		.size = sizeof(o), .channels = &ch, .nr_channels = 1,
		.amd_chain = amd_chain, .amd_chain_len = sizeof(amd_chain),
	};
	struct sevmig_receive *r = NULL;
	uint32_t state = 0;

	assert_int_equal(sevmig_receive_new(vm, &o, &r), 0);
	sevmig_receive_free(r);
	assert_int_equal(sevmig_vm_state(vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_DEAD);
	return vm;
}

DOC_CASE(sevmig_vm_new, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = DOC_VM_FD,
				    .phys_bits = 20 };
	struct sevmig_vm *vm = NULL;

	return DOC_CALL(sevmig_vm_new(ctx, &o, &vm));
}

DOC_CASE(sevmig_vm_new, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct {
		struct sevmig_vm_opts o;
		uint64_t newer;
	} big = { .o = { .size = sizeof(big), .vm_fd = DOC_VM_FD }, .newer = 1 };
	struct sevmig_vm *vm = NULL;

	return DOC_CALL(sevmig_vm_new(ctx, &big.o, &vm));
}

DOC_CASE(sevmig_vm_new, ENOMEM)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = DOC_VM_FD };
	struct sevmig_vm *vm = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_vm_new(ctx, &o, &vm));
}

DOC_CASE(sevmig_vm_state, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_state(vm, NULL));
}

/* ---- guest status through the handle ---- */

DOC_CASE(sevmig_vm_guest_status, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_guest_status(vm, NULL, NULL));
}

DOC_CASE(sevmig_vm_guest_status, E2BIG)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);
	struct {
		struct sevmig_guest_status st;
		uint64_t newer;
	} big = { .st.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_vm_guest_status(vm, &big.st, NULL));
}

DOC_CASE(sevmig_vm_guest_status, ENODEV)
{
	struct sevmig_vm *vm = doc_vm(doc_ctx(doc_fake_none()), NULL);
	struct sevmig_guest_status st = { .size = sizeof(st) };

	return DOC_CALL(sevmig_vm_guest_status(vm, &st, NULL));
}

DOC_CASE(sevmig_vm_guest_status, ESTALE)
{
	struct sevmig_vm *vm = dead_vm(doc_ctx(doc_fake_none()));
	struct sevmig_guest_status st = { .size = sizeof(st) };

	return DOC_CALL(sevmig_vm_guest_status(vm, &st, NULL));
}

DOC_CASE(sevmig_vm_guest_status, EIO)
{
	/* A common error of the raw commands, with its firmware status. */
	const struct fake_call script[] = {
		DOC_KVM(KVM_SEV_GUEST_STATUS, -EIO, SEV_RET_INVALID_GUEST),
	};
	struct sevmig_vm *vm = plain_vm(script, 1);
	struct sevmig_guest_status st = { .size = sizeof(st) };
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_vm_guest_status(vm, &st, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_GUEST);
	return ret;
}

/* ---- RAM ---- */

DOC_CASE(sevmig_vm_ram_add, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_ram_add(vm, 0x800, 4096, NULL, 0));
}

DOC_CASE(sevmig_vm_ram_add, EEXIST)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	assert_int_equal(sevmig_vm_ram_add(vm, 0, 16 * 4096, NULL, 0), 0);
	return DOC_CALL(sevmig_vm_ram_add(vm, 8 * 4096, 16 * 4096, NULL, 0));
}

DOC_CASE(sevmig_vm_ram_add, ENOSPC)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	/* One page apart, so that no two regions touch. */
	for (uint64_t i = 0; i < 4096; i++)
		assert_int_equal(sevmig_vm_ram_add(vm, i * 2 * 4096, 4096, NULL,
						   0), 0);
	return DOC_CALL(sevmig_vm_ram_add(vm, 4096 * 2 * 4096, 4096, NULL, 0));
}

DOC_CASE(sevmig_vm_ram_add, ENOMEM)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	doc_nomem();
	return DOC_CALL(sevmig_vm_ram_add(vm, 0, 4096, NULL, 0));
}

DOC_CASE(sevmig_vm_ram_add, EBUSY)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));

	incoming(ctx, vm);
	return DOC_CALL(sevmig_vm_ram_add(vm, 0, 4096, NULL, 0));
}

DOC_CASE(sevmig_vm_ram_remove, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_ram_remove(vm, 0, 4096, 1));
}

DOC_CASE(sevmig_vm_ram_remove, ENOENT)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	assert_int_equal(sevmig_vm_ram_add(vm, 0, 2 * 4096, NULL, 0), 0);
	/* Not exactly as added. */
	return DOC_CALL(sevmig_vm_ram_remove(vm, 0, 4096, 0));
}

DOC_CASE(sevmig_vm_ram_remove, EBUSY)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));

	assert_int_equal(sevmig_vm_ram_add(vm, 0, 4096, NULL, 0), 0);
	incoming(ctx, vm);
	return DOC_CALL(sevmig_vm_ram_remove(vm, 0, 4096, 0));
}

/* ---- negotiation ---- */

DOC_CASE(sevmig_vm_enable_exits, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_enable_exits(vm, 0, 0, 1));
}

DOC_CASE(sevmig_vm_enable_exits, EOPNOTSUPP)
{
	/* A kernel without KVM_CAP_EXIT_HYPERCALL answers EINVAL. */
	const struct fake_call script[] = {
		FAKE_IOCTL_ANY(DOC_VM_FD, KVM_ENABLE_CAP, -EINVAL),
	};
	struct sevmig_vm *vm = plain_vm(script, 1);

	return DOC_CALL(sevmig_vm_enable_exits(vm, 0, 0, 0));
}

DOC_CASE(sevmig_vm_set_msr_filter, EINVAL)
{
	const struct fake_call script[] = { DOC_SCRIPT_EXITS };
	struct sevmig_vm *vm = plain_vm(script, 2);
	static const uint8_t allow[8] = { 0xff };
	struct kvm_msr_filter f;

	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	/* The VMM's range lets the guest reach our MSR in the kernel. */
	memset(&f, 0, sizeof(f));
	f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	f.ranges[0].nmsrs = 1;
	f.ranges[0].base = MSR_KVM_MIGRATION_CONTROL;
	f.ranges[0].bitmap = (uint8_t *)(uintptr_t)allow;
	return DOC_CALL(sevmig_vm_set_msr_filter(vm, &f, 0));
}

DOC_CASE(sevmig_vm_set_msr_filter, ENOSPC)
{
	const struct fake_call script[] = { DOC_SCRIPT_EXITS };
	struct sevmig_vm *vm = plain_vm(script, 2);
	static const uint8_t deny[8];
	struct kvm_msr_filter f;

	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	memset(&f, 0, sizeof(f));
	for (uint32_t i = 0; i < 16; i++) {
		f.ranges[i].flags = KVM_MSR_FILTER_READ;
		f.ranges[i].nmsrs = 1;
		f.ranges[i].base = 0x10 + i;
		f.ranges[i].bitmap = (uint8_t *)(uintptr_t)deny;
	}
	return DOC_CALL(sevmig_vm_set_msr_filter(vm, &f, 0));
}

DOC_CASE(sevmig_vm_set_msr_filter, EPROTO)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	/* sevmig_vm_enable_exits() was not done. */
	return DOC_CALL(sevmig_vm_set_msr_filter(vm, NULL, 0));
}

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

DOC_CASE(sevmig_vm_cpuid_apply, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);
	struct cpuid_table t = { .nent = 257 };

	return DOC_CALL(sevmig_vm_cpuid_apply(vm, &t, 0));
}

DOC_CASE(sevmig_vm_cpuid_apply, ENOENT)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);
	struct cpuid_table t = { .nent = 2 };

	t.e[0].function = 0x40000000;	/* no KVM signature */
	t.e[1].function = 0x40000001;
	return DOC_CALL(sevmig_vm_cpuid_apply(vm, &t, 0));
}

/* ---- exits ---- */

DOC_CASE(sevmig_vm_handle_exit, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_handle_exit(vm, NULL, 0));
}

/* A negotiated VM with RAM: the guest was offered the features. */
static struct sevmig_vm *offered_vm(void)
{
	static const struct fake_call script[] = {
		DOC_SCRIPT_EXITS,
		DOC_SCRIPT_FILTER,
	};
	struct sevmig_vm *vm = plain_vm(script, ARRAY_LEN(script));

	doc_vm_negotiate(vm);
	assert_int_equal(sevmig_vm_ram_add(vm, 0, 64 * 4096, NULL, 0), 0);
	return vm;
}

static void assert_tracking_lost(struct sevmig_vm *vm)
{
	uint64_t why = 0;

	assert_int_equal(sevmig_vm_readiness(vm, &why, 0), 0);
	assert_true(why & SEVMIG_REASON_TRACKING_LOST);
}

DOC_CASE(sevmig_vm_handle_exit, ENOMEM)
{
	/* A MAP_GPA_RANGE the tracker has no memory to record. */
	struct sevmig_vm *vm = offered_vm();
	static uint64_t run[KVM_RUN_SIZE / 8];
	struct kvm_run_hdr *h = (struct kvm_run_hdr *)run;
	struct kvm_run_hypercall *hc =
		(struct kvm_run_hypercall *)(run + KVM_RUN_EXIT_OFFSET / 8);
	int ret;

	memset(run, 0, sizeof(run));
	h->exit_reason = KVM_EXIT_HYPERCALL;
	hc->nr = KVM_HC_MAP_GPA_RANGE;
	hc->args[0] = 4 * 4096;
	hc->args[1] = 2;
	hc->flags = KVM_EXIT_HYPERCALL_LONG_MODE;
	doc_nomem();
	ret = DOC_CALL(sevmig_vm_handle_exit(vm, run, 0));
	/* The guest is answered anyway, and the VM can no longer migrate. */
	assert_int_equal(hc->ret, (uint64_t)-KVM_EINVAL);
	assert_tracking_lost(vm);
	return ret;
}

DOC_CASE(sevmig_vm_map_gpa_range, ENOMEM)
{
	struct sevmig_vm *vm = offered_vm();
	uint64_t hc = 0;
	int ret;

	doc_nomem();
	ret = DOC_CALL(sevmig_vm_map_gpa_range(vm, 4 * 4096, 2, 0,
					       SEVMIG_MAP_GPA_F_LONG_MODE, &hc));
	assert_int_equal(hc, (uint64_t)-KVM_EINVAL);
	assert_tracking_lost(vm);
	return ret;
}

DOC_CASE(sevmig_vm_firmware_shared_add, ENOMEM)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	doc_nomem();
	return DOC_CALL(sevmig_vm_firmware_shared_add(vm, 0, 4096, 0));
}

DOC_CASE(sevmig_vm_reset, ENOMEM)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);
	int ret;

	doc_nomem();
	ret = DOC_CALL(sevmig_vm_reset(vm, 0));
	assert_tracking_lost(vm);
	return ret;
}

DOC_CASE(sevmig_vm_map_gpa_range, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);
	uint64_t hc = 0;

	return DOC_CALL(sevmig_vm_map_gpa_range(vm, 0, 1, 0, 0x2, &hc));
}

DOC_CASE(sevmig_vm_migration_control, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_migration_control(vm, NULL));
}

DOC_CASE(sevmig_vm_set_migration_control, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_set_migration_control(vm, 0x2, 0));
}

DOC_CASE(sevmig_vm_firmware_shared_add, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_firmware_shared_add(vm, 0, 0, 0));
}

DOC_CASE(sevmig_vm_firmware_shared_add, ENOSPC)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	for (uint64_t i = 0; i < 64; i++)
		assert_int_equal(sevmig_vm_firmware_shared_add(vm, i * 8192,
							       4096, 0), 0);
	return DOC_CALL(sevmig_vm_firmware_shared_add(vm, 64 * 8192, 4096, 0));
}

DOC_CASE(sevmig_vm_reset, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_reset(vm, 1));
}

DOC_CASE(sevmig_vm_set_guest_policy, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_set_guest_policy(vm, 0, 1));
}

DOC_CASE(sevmig_vm_readiness, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_readiness(vm, NULL, 0));
}

/* ---- vCPUs, pause, resume ---- */

static uint8_t run_page[4096];

DOC_CASE(sevmig_vm_complete_pending, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_complete_pending(vm, -1, run_page, 0));
}

DOC_CASE(sevmig_vm_complete_pending, ESTALE)
{
	struct sevmig_vm *vm = dead_vm(doc_ctx(doc_fake_none()));

	return DOC_CALL(sevmig_vm_complete_pending(vm, DOC_VCPU_FD, run_page,
						   0));
}

DOC_CASE(sevmig_vm_complete_pending, EIO)
{
	/* The kernel considers the VM dead. */
	const struct fake_call script[] = {
		FAKE_IOCTL_VAL(DOC_VCPU_FD, KVM_RUN, 0, -EIO),
	};
	struct sevmig_vm *vm = plain_vm(script, 1);

	return DOC_CALL(sevmig_vm_complete_pending(vm, DOC_VCPU_FD, run_page,
						   0));
}

DOC_CASE(sevmig_vm_vcpu_add, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_vcpu_add(vm, DOC_VCPU_FD, NULL, 0));
}

DOC_CASE(sevmig_vm_vcpu_add, EEXIST)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	assert_int_equal(sevmig_vm_vcpu_add(vm, DOC_VCPU_FD, run_page, 0), 0);
	return DOC_CALL(sevmig_vm_vcpu_add(vm, DOC_VCPU_FD, run_page, 0));
}

DOC_CASE(sevmig_vm_vcpu_add, ENOSPC)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	for (int i = 0; i < 1024; i++)
		assert_int_equal(sevmig_vm_vcpu_add(vm, 100 + i, run_page, 0), 0);
	return DOC_CALL(sevmig_vm_vcpu_add(vm, 100 + 1024, run_page, 0));
}

DOC_CASE(sevmig_vm_vcpu_add, ENOMEM)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	doc_nomem();
	return DOC_CALL(sevmig_vm_vcpu_add(vm, DOC_VCPU_FD, run_page, 0));
}

DOC_CASE(sevmig_vm_vcpu_remove, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_vcpu_remove(vm, DOC_VCPU_FD, 1));
}

DOC_CASE(sevmig_vm_vcpu_remove, ENOENT)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_vcpu_remove(vm, DOC_VCPU_FD, 0));
}

DOC_CASE(sevmig_vm_vcpu_count, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_vcpu_count(vm, NULL));
}

DOC_CASE(sevmig_vm_pause, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_pause(vm, 1));
}

DOC_CASE(sevmig_vm_pause, ESTALE)
{
	struct sevmig_vm *vm = dead_vm(doc_ctx(doc_fake_none()));

	return DOC_CALL(sevmig_vm_pause(vm, 0));
}

DOC_CASE(sevmig_vm_pause, EIO)
{
	/* As sevmig_vm_complete_pending() on a registered vCPU. */
	const struct fake_call script[] = {
		FAKE_IOCTL_VAL(DOC_VCPU_FD, KVM_RUN, 0, -EIO),
	};
	struct sevmig_vm *vm = plain_vm(script, 1);

	assert_int_equal(sevmig_vm_vcpu_add(vm, DOC_VCPU_FD, run_page, 0), 0);
	return DOC_CALL(sevmig_vm_pause(vm, 0));
}

DOC_CASE(sevmig_vm_resume, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_resume(vm, 1));
}

DOC_CASE(sevmig_vm_resume, ESTALE)
{
	struct sevmig_vm *vm = dead_vm(doc_ctx(doc_fake_none()));

	return DOC_CALL(sevmig_vm_resume(vm, 0));
}

DOC_CASE(sevmig_vm_resume, EBUSY)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));

	incoming(ctx, vm);
	return DOC_CALL(sevmig_vm_resume(vm, 0));
}

DOC_CASE(sevmig_vm_paused, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_vm_paused(vm, NULL));
}

/* ======================================================================
 * migration.h: channels
 * ====================================================================== */

static int nop_read(void *opaque, void *buf, size_t len)
{
	(void)opaque;
	(void)buf;
	(void)len;
	return -ENODATA;
}

DOC_CASE(sevmig_channel_new, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_channel_ops ops = { .size = sizeof(ops) };
	struct sevmig_channel *ch = NULL;

	/* Neither read nor writev. */
	return DOC_CALL(sevmig_channel_new(ctx, &ops, 0, &ch));
}

DOC_CASE(sevmig_channel_new, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct {
		struct sevmig_channel_ops ops;
		uint64_t newer;
	} big = { .ops = { .size = sizeof(big), .read = nop_read }, .newer = 1 };
	struct sevmig_channel *ch = NULL;

	return DOC_CALL(sevmig_channel_new(ctx, &big.ops, 0, &ch));
}

DOC_CASE(sevmig_channel_new, ENOMEM)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_channel_ops ops = { .size = sizeof(ops),
					  .read = nop_read };
	struct sevmig_channel *ch = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_channel_new(ctx, &ops, 0, &ch));
}

DOC_CASE(sevmig_channel_from_fds, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_channel *ch = NULL;

	return DOC_CALL(sevmig_channel_from_fds(ctx, -1, -1, 0, &ch));
}

DOC_CASE(sevmig_channel_from_fds, ENOMEM)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_channel *ch = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_channel_from_fds(ctx, 0, -1, 0, &ch));
}

/* ======================================================================
 * migration.h: send sessions that need no peer
 * ====================================================================== */

static void send_free(void *s)
{
	sevmig_send_free(s);
}

/*
 * A source VM ready to migrate (negotiation done, READY, RAM with a host
 * mapping) on a fake that answers the negotiation's ioctls.
 */
static struct sevmig_vm *ready_vm(struct sevmig_ctx **ret_ctx)
{
	static const struct fake_call script[] = {
		DOC_SCRIPT_EXITS,
		DOC_SCRIPT_FILTER,
	};
	struct sevmig_ctx *ctx = doc_ctx(DOC_FAKE(script));
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));

	doc_vm_negotiate(vm);
	doc_vm_ram(vm, 4);
	if (ret_ctx)
		*ret_ctx = ctx;
	return vm;
}

static struct sevmig_send_opts send_opts(struct sevmig_channel **ch)
{
	struct sevmig_send_opts o = { .size = sizeof(o), .channels = ch,
				      .nr_channels = 1 };

	return o;
}

/* A send session on a ready VM whose channel 0 has @len bytes to read. */
static struct sevmig_send *new_send(const void *bytes, size_t len)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, bytes, len, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;

	assert_int_equal(sevmig_send_new(vm, &o, &s, NULL), 0);
	doc_defer(send_free, s);
	return s;
}

/* A send session that was cancelled before it began. */
static struct sevmig_send *cancelled_send(void)
{
	struct sevmig_send *s = new_send(NULL, 0);

	assert_int_equal(sevmig_send_cancel(s, 0), 0);
	return s;
}

DOC_CASE(sevmig_send_new, EINVAL)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;

	o.nr_channels = 17;
	return DOC_CALL(sevmig_send_new(vm, &o, &s, NULL));
}

DOC_CASE(sevmig_send_new, E2BIG)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct {
		struct sevmig_send_opts o;
		uint64_t newer;
	} big = { .o = send_opts(&ch), .newer = 1 };
	struct sevmig_send *s = NULL;

	big.o.size = sizeof(big);
	return DOC_CALL(sevmig_send_new(vm, &big.o, &s, NULL));
}

DOC_CASE(sevmig_send_new, ENODEV)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, NULL);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;

	return DOC_CALL(sevmig_send_new(vm, &o, &s, NULL));
}

DOC_CASE(sevmig_send_new, EPERM)
{
	/* No negotiation: every missing piece is a reason. */
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;
	uint64_t why = 0;
	int ret;

	ret = DOC_CALL(sevmig_send_new(vm, &o, &s, &why));
	assert_true(why & SEVMIG_REASON_EXITS_NOT_ENABLED);
	assert_true(why & SEVMIG_REASON_GUEST_NOT_READY);
	return ret;
}

DOC_CASE(sevmig_send_new, EBUSY)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL, *s2 = NULL;

	assert_int_equal(sevmig_send_new(vm, &o, &s, NULL), 0);
	doc_defer(send_free, s);
	return DOC_CALL(sevmig_send_new(vm, &o, &s2, NULL));
}

DOC_CASE(sevmig_send_new, ESTALE)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = dead_vm(ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;

	return DOC_CALL(sevmig_send_new(vm, &o, &s, NULL));
}

DOC_CASE(sevmig_send_new, ENOMEM)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;

	doc_nomem();
	return DOC_CALL(sevmig_send_new(vm, &o, &s, NULL));
}

DOC_CASE(sevmig_send_begin, EPIPE)
{
	/* The target closed channel 0 before its HELLO. */
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_begin(s, NULL, NULL));
}

DOC_CASE(sevmig_send_begin, EALREADY)
{
	struct sevmig_send *s = new_send(NULL, 0);

	assert_int_equal(sevmig_send_begin(s, NULL, NULL), -EPIPE);
	return DOC_CALL(sevmig_send_begin(s, NULL, NULL));
}

DOC_CASE(sevmig_send_begin, EINVAL)
{
	doc_no_log("no session: no context to log through");
	return DOC_CALL(sevmig_send_begin(NULL, NULL, NULL));
}

DOC_CASE(sevmig_send_mark_dirty, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);

	/* Outside the VM's 4 pages of RAM. */
	return DOC_CALL(sevmig_send_mark_dirty(s, 8 * 4096, 4096, NULL, 0));
}

DOC_CASE(sevmig_send_mark_dirty, ESTALE)
{
	struct sevmig_send *s = cancelled_send();

	return DOC_CALL(sevmig_send_mark_dirty(s, 0, 4096, NULL, 0));
}

DOC_CASE(sevmig_send_dirty_log_slot, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);

	/* Not exactly one registered region. */
	return DOC_CALL(sevmig_send_dirty_log_slot(s, 0, 0, 4096, 0));
}

DOC_CASE(sevmig_send_dirty_log_slot, EEXIST)
{
	struct sevmig_send *s = new_send(NULL, 0);

	assert_int_equal(sevmig_send_dirty_log_slot(s, 0, 0, 4 * 4096, 0), 0);
	return DOC_CALL(sevmig_send_dirty_log_slot(s, 1, 0, 4 * 4096, 0));
}

DOC_CASE(sevmig_send_dirty_log_slot, ENOSPC)
{
	static const struct fake_call script[] = {
		DOC_SCRIPT_EXITS,
		DOC_SCRIPT_FILTER,
	};
	struct sevmig_ctx *ctx = doc_ctx(DOC_FAKE(script));
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;
	uint8_t *ram = doc_vm_ram(vm, 1);

	(void)ram;
	doc_vm_negotiate(vm);
	/* 65 regions of one page each, every one a slot. */
	for (uint64_t i = 1; i <= 64; i++)
		assert_int_equal(sevmig_vm_ram_add(vm, i * 2 * 4096, 4096, ram,
						   0), 0);
	assert_int_equal(sevmig_send_new(vm, &o, &s, NULL), 0);
	doc_defer(send_free, s);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(sevmig_send_dirty_log_slot(s, i,
				 i ? i * 2 * 4096 : 0, 4096, 0), 0);
	return DOC_CALL(sevmig_send_dirty_log_slot(s, 64, 64 * 2 * 4096, 4096,
						   0));
}

DOC_CASE(sevmig_send_pass, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_pass(s, NULL, 1));
}

DOC_CASE(sevmig_send_pass, EPROTO)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_pass(s, NULL, 0));
}

DOC_CASE(sevmig_send_pass, ESTALE)
{
	struct sevmig_send *s = cancelled_send();

	return DOC_CALL(sevmig_send_pass(s, NULL, 0));
}

DOC_CASE(sevmig_send_record, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_record(s, 0x10, "x", 1, 0));
}

DOC_CASE(sevmig_send_record, EMSGSIZE)
{
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *vm = ready_vm(&ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);
	struct sevmig_send_opts o = send_opts(&ch);
	struct sevmig_send *s = NULL;
	static const char rec[32];

	o.max_vmm_record = 16;
	assert_int_equal(sevmig_send_new(vm, &o, &s, NULL), 0);
	doc_defer(send_free, s);
	return DOC_CALL(sevmig_send_record(s, SEVMIG_RECORD_VMM_FIRST, rec,
					   sizeof(rec), 0));
}

DOC_CASE(sevmig_send_record, EPROTO)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_record(s, SEVMIG_RECORD_VMM_FIRST, "x", 1,
					   0));
}

DOC_CASE(sevmig_send_commit, EPROTO)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_commit(s, NULL));
}

DOC_CASE(sevmig_send_commit, ESTALE)
{
	struct sevmig_send *s = cancelled_send();

	return DOC_CALL(sevmig_send_commit(s, NULL));
}

DOC_CASE(sevmig_send_commit, EINVAL)
{
	doc_no_log("no session: no context to log through");
	return DOC_CALL(sevmig_send_commit(NULL, NULL));
}

DOC_CASE(sevmig_send_cancel, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);

	return DOC_CALL(sevmig_send_cancel(s, 1));
}

DOC_CASE(sevmig_send_stats, EINVAL)
{
	struct sevmig_send *s = new_send(NULL, 0);
	struct sevmig_mig_stats st = { .size = 8 };

	return DOC_CALL(sevmig_send_stats(s, &st));
}

DOC_CASE(sevmig_send_stats, E2BIG)
{
	struct sevmig_send *s = new_send(NULL, 0);
	struct {
		struct sevmig_mig_stats st;
		uint64_t newer;
	} big = { .st.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_send_stats(s, &big.st));
}

DOC_CASE(sevmig_send_resolve, EINVAL)
{
	struct sevmig_vm *vm = plain_vm(NULL, 0);

	return DOC_CALL(sevmig_send_resolve(vm, NULL, 0));
}

DOC_CASE(sevmig_send_resolve, ENOENT)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);

	return DOC_CALL(sevmig_send_resolve(vm, ch, 0));
}

DOC_CASE(sevmig_send_resolve, EBUSY)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, true);

	incoming(ctx, vm);
	return DOC_CALL(sevmig_send_resolve(vm, ch, 0));
}

/* ======================================================================
 * migration.h: receive sessions that need no peer
 * ====================================================================== */

static struct sevmig_receive_opts recv_opts(struct sevmig_channel **ch)
{
	struct sevmig_receive_opts o = {
		.size = sizeof(o), .channels = ch, .nr_channels = 1,
		.amd_chain = amd_chain, .amd_chain_len = sizeof(amd_chain),
	};

	return o;
}

DOC_CASE(sevmig_receive_new, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = recv_opts(&ch);
	struct sevmig_receive *r = NULL;

	o.amd_chain_len = 1000;
	return DOC_CALL(sevmig_receive_new(vm, &o, &r));
}

DOC_CASE(sevmig_receive_new, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct {
		struct sevmig_receive_opts o;
		uint64_t newer;
	} big = { .o = recv_opts(&ch), .newer = 1 };
	struct sevmig_receive *r = NULL;

	big.o.size = sizeof(big);
	return DOC_CALL(sevmig_receive_new(vm, &big.o, &r));
}

DOC_CASE(sevmig_receive_new, ENODEV)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, NULL);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = recv_opts(&ch);
	struct sevmig_receive *r = NULL;

	return DOC_CALL(sevmig_receive_new(vm, &o, &r));
}

DOC_CASE(sevmig_receive_new, ESTALE)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = dead_vm(ctx);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = recv_opts(&ch);
	struct sevmig_receive *r = NULL;

	return DOC_CALL(sevmig_receive_new(vm, &o, &r));
}

DOC_CASE(sevmig_receive_new, EBUSY)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = recv_opts(&ch);
	struct sevmig_receive *r = NULL;

	incoming(ctx, vm);
	return DOC_CALL(sevmig_receive_new(vm, &o, &r));
}

DOC_CASE(sevmig_receive_new, ENOMEM)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);
	struct sevmig_receive_opts o = recv_opts(&ch);
	struct sevmig_receive *r = NULL;
	uint32_t state = 0;
	int ret;

	doc_nomem();
	ret = DOC_CALL(sevmig_receive_new(vm, &o, &r));
	/* The handle is LIVE again: nothing was received. */
	assert_int_equal(sevmig_vm_state(vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_LIVE);
	return ret;
}

DOC_CASE(sevmig_receive_stats, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_receive *r = incoming(ctx, vm);

	return DOC_CALL(sevmig_receive_stats(r, NULL));
}

DOC_CASE(sevmig_receive_stats, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_receive *r = incoming(ctx, vm);
	struct {
		struct sevmig_mig_stats st;
		uint64_t newer;
	} big = { .st.size = sizeof(big), .newer = 1 };

	return DOC_CALL(sevmig_receive_stats(r, &big.st));
}

DOC_CASE(sevmig_receive_run, EINVAL)
{
	doc_no_log("no session: no context to log through");
	return DOC_CALL(sevmig_receive_run(NULL, NULL));
}

DOC_CASE(sevmig_receive_resolve, EINVAL)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_receive *r = incoming(ctx, vm);

	return DOC_CALL(sevmig_receive_resolve(r, NULL, NULL));
}

DOC_CASE(sevmig_receive_resolve, EPROTO)
{
	/* The session is not in doubt. */
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_vm *vm = doc_vm(ctx, doc_platform(ctx));
	struct sevmig_receive *r = incoming(ctx, vm);
	struct sevmig_channel *ch = doc_channel_bytes(ctx, NULL, 0, false);

	return DOC_CALL(sevmig_receive_resolve(r, ch, NULL));
}

/* ---- the HELLO, exported ---- */

DOC_CASE(sevmig_hello_export, EINVAL)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));
	size_t len = 0;

	return DOC_CALL(sevmig_hello_export(p, amd_chain, 1000, NULL, 0, &len,
					    NULL));
}

DOC_CASE(sevmig_hello_export, ENOSPC)
{
	struct sevmig_platform *p = doc_platform(doc_ctx(doc_fake_none()));
	static uint8_t buf[64];
	size_t len = 0;
	int ret;

	ret = DOC_CALL(sevmig_hello_export(p, amd_chain, sizeof(amd_chain),
					   buf, sizeof(buf), &len, NULL));
	assert_true(len > sizeof(buf));
	return ret;
}

DOC_CASE(sevmig_hello_export, EIO)
{
	/* As sevmig_platform_status(): the firmware refused. */
	const struct fake_call script[] = {
		DOC_SEV(SEV_PLATFORM_STATUS, -EIO, SEV_RET_INVALID_PARAM),
	};
	struct sevmig_platform *p = doc_platform(doc_ctx(DOC_FAKE(script)));
	static uint8_t buf[16384];
	size_t len = 0;
	uint32_t fw = 0;
	int ret;

	ret = DOC_CALL(sevmig_hello_export(p, amd_chain, sizeof(amd_chain),
					   buf, sizeof(buf), &len, &fw));
	assert_int_equal(fw, SEV_RET_INVALID_PARAM);
	return ret;
}

/* ---- checks.h: records from a newer header ---- */

DOC_CASE(sevmig_cert_check_target, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct {
		struct sevmig_target_certs t;
		uint64_t newer;
	} big = { .t.size = sizeof(big), .newer = 1 };
	uint64_t why = 0;

	return DOC_CALL(sevmig_cert_check_target(ctx, &big.t, 0, &why));
}

DOC_CASE(sevmig_preflight, E2BIG)
{
	struct sevmig_ctx *ctx = doc_ctx(doc_fake_none());
	struct sevmig_target_certs t = { .size = sizeof(t) };
	struct {
		struct sevmig_preflight_args a;
		uint64_t newer;
	} big = { .a.size = sizeof(big), .a.target = &t, .newer = 1 };
	uint64_t why = 0;

	return DOC_CALL(sevmig_preflight(ctx, &big.a, &why));
}

/* ---- move.h: the mirror's own handle cannot be made ---- */

DOC_CASE(sevmig_vm_mirror_create, ENOMEM)
{
	/* KVM made the VM; the handle for it cannot be: the fd is closed. */
	const struct fake_call script[] = {
		FAKE_IOCTL_VAL(DOC_KVM_FD, KVM_CREATE_VM, 0, DOC_VM_FD + 1),
		FAKE_CLOSE(DOC_VM_FD + 1, 0),
	};
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = DOC_VM_FD,
				    .phys_bits = 40,
				    .sev_type = SEVMIG_SEV_TYPE_SEV };
	struct sevmig_vm *p = NULL, *m = NULL;
	struct sevmig_ctx *ctx;

	doc_nomem();	/* before the script: a skip leaves it unused */
	ctx = doc_ctx(DOC_FAKE(script));
	assert_int_equal(sevmig_vm_new(ctx, &o, &p), 0);
	doc_defer((void (*)(void *))sevmig_vm_free, p);
	return DOC_CALL(sevmig_vm_mirror_create(p, DOC_KVM_FD, 0, &m, NULL));
}

int main(void)
{
	return doc_run_all("documented errors (fake backend)");
}
