// SPDX-License-Identifier: MIT
/*
 * KVM SEV guest commands on the scripted fake backend. Every command struct
 * is checked byte by byte against the kernel's uapi layout (offsets written
 * out here, not taken from our structs); every command is driven through
 * each errno and firmware-status path.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "internal.h"
#include "psp-hook.h"
#include "test-util.h"

#define VM_FD 7
#define SEV_FD 5

static uint8_t pdh[2084], chain[6252], amd[3200], session[128];
static uint8_t hdr[52], trans[4096];
static uint8_t *page;		/* two page-aligned pages */

static struct sevmig_platform *plat(struct fake_sys *fs)
{
	struct sevmig_platform *p = NULL;

	assert_int_equal(sevmig_platform_from_fd(fake_sys_ctx(fs), SEV_FD, 0, &p), 0);
	return p;
}

static struct sevmig_send_start_args send_args(void)
{
	struct sevmig_send_start_args a = {
		.size = sizeof(a), .pdh = pdh, .pdh_len = sizeof(pdh),
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
		.size = sizeof(a), .policy = policy, .pdh = pdh,
		.pdh_len = sizeof(pdh), .session = session,
		.session_len = sizeof(session),
	};

	return a;
}

/* ---- one call per command with valid arguments ---- */
typedef int (*guest_fn)(struct sevmig_platform *p, uint32_t *fw);

static int do_status(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_guest_status st = { .size = sizeof(st) };

	return sevmig_psp_guest_status(p, VM_FD, &st, fw);
}

static int do_send_start(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_send_start_args a = send_args();

	return sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, fw);
}

static int do_sud_lengths(struct sevmig_platform *p, uint32_t *fw)
{
	return sevmig_psp_send_update_data_lengths(p, VM_FD, NULL, NULL, fw);
}

static int do_sud(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_page_xfer x = xfer(page, 4096);

	return sevmig_psp_send_update_data(p, VM_FD, &x, fw);
}

static int do_send_finish(struct sevmig_platform *p, uint32_t *fw)
{
	return sevmig_psp_send_finish(p, VM_FD, fw);
}

static int do_send_cancel(struct sevmig_platform *p, uint32_t *fw)
{
	return sevmig_psp_send_cancel(p, VM_FD, fw);
}

static int do_recv_start(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_receive_start_args a = recv_args(0);

	return sevmig_psp_receive_start(p, VM_FD, &a, NULL, fw);
}

static int do_rud(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_page_xfer x = xfer(page, 4096);

	return sevmig_psp_receive_update_data(p, VM_FD, &x, fw);
}

static int do_recv_finish(struct sevmig_platform *p, uint32_t *fw)
{
	return sevmig_psp_receive_finish(p, VM_FD, fw);
}

static const struct {
	const char *name;
	guest_fn fn;
	uint32_t id;
} commands[] = {
	{ "GUEST_STATUS", do_status, 16 },
	{ "SEND_START", do_send_start, 8 },
	{ "SEND_UPDATE_DATA", do_sud_lengths, 9 },
	{ "SEND_UPDATE_DATA", do_sud, 9 },
	{ "SEND_FINISH", do_send_finish, 11 },
	{ "SEND_CANCEL", do_send_cancel, 21 },
	{ "RECEIVE_START", do_recv_start, 12 },
	{ "RECEIVE_UPDATE_DATA", do_rud, 13 },
	{ "RECEIVE_FINISH", do_recv_finish, 15 },
};

static void test_errors(void **state)
{
	static const struct {
		int err;
		uint32_t fw, want_fw;	/* 77: untouched */
		const char *words;
	} errs[] = {
		{ -EBADF, 0x01, 77, "not open" },
		{ -EINVAL, 0x07, 77, "invalid argument" },
		{ -ENOTTY, 0, 77, "not an SEV guest" },
		{ -EFAULT, 0, 77, "" },
		{ -ENOMEM, 0, 77, "" },
		{ -EIO, 0x02, 0x02, "INVALID_GUEST_STATE" },
		{ -EIO, 0x07, 0x07, "POLICY_FAILURE" },
		{ -EIO, 0x08, 0x08, "INACTIVE" },
		{ -EIO, 0x11, 0x11, "INVALID_COMMAND" },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_LEN(commands); c++) {
		for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
			struct psp_expect e = {
				.cmd = commands[c].id, .sev_fd = SEV_FD,
				.fw = errs[i].fw,
			};
			const struct fake_call script[] = {
				KVM_EXPECT(VM_FD, errs[i].err, &e),
			};
			struct fake_sys *fs = fake_sys_new(script, 1);
			struct sevmig_platform *p = plat(fs);
			uint32_t fw = 77;

			assert_int_equal(commands[c].fn(p, &fw),
					 errs[i].err);
			assert_int_equal(fw, errs[i].want_fw);
			if (!strstr(fake_sys_last_error(fs), errs[i].words) ||
			    !strstr(fake_sys_last_error(fs), commands[c].name))
				fail_msg("%s, case %zu: \"%s\" lacks \"%s\"",
					 commands[c].name, i,
					 fake_sys_last_error(fs), errs[i].words);
			sevmig_platform_free(p);
			fake_sys_done(fs);
		}
	}
}

static void test_ebadf_explains_lifetime(void **state)
{
	struct psp_expect e = { .cmd = 16, .sev_fd = SEV_FD };
	struct psp_expect r = { .cmd = 12, .sev_fd = SEV_FD };
	const struct fake_call script[] = {
		KVM_EXPECT(VM_FD, -EBADF, &e),
		KVM_EXPECT(VM_FD, -EBADF, &r),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_platform *p = plat(fs);

	(void)state;
	assert_int_equal(do_status(p, NULL), -EBADF);
	assert_non_null(strstr(fake_sys_last_error(fs), "must outlive the VM"));
	assert_int_equal(do_recv_start(p, NULL), -EBADF);
	assert_non_null(strstr(fake_sys_last_error(fs), "not an open /dev/sev"));
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_dead_psp(void **state)
{
	struct psp_expect e[ARRAY_LEN(commands)];
	struct fake_call script[ARRAY_LEN(commands)];
	struct fake_sys *fs;
	struct sevmig_platform *p;

	(void)state;
	for (size_t c = 0; c < ARRAY_LEN(commands); c++) {
		struct fake_call k = KVM_EXPECT(VM_FD, c ? -EBUSY : -ETIMEDOUT, &e[c]);

		memset(&e[c], 0, sizeof(e[c]));
		e[c].cmd = commands[c].id;
		e[c].sev_fd = SEV_FD;
		script[c] = k;
	}
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	for (size_t c = 0; c < ARRAY_LEN(commands); c++) {
		uint32_t fw = 77;

		assert_int_equal(commands[c].fn(p, &fw),
				 c ? -EBUSY : -ETIMEDOUT);
		assert_int_equal(fw, 77);
		assert_non_null(strstr(fake_sys_last_error(fs),
				       c ? "timed out earlier" : "until the host reboots"));
	}
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_guest_status(void **state)
{
	static const struct {
		uint32_t fw_state, state;
	} states[] = {
		{ 0, SEVMIG_GUEST_UNINIT }, { 1, SEVMIG_GUEST_LUPDATE },
		{ 2, SEVMIG_GUEST_LSECRET }, { 3, SEVMIG_GUEST_RUNNING },
		{ 4, SEVMIG_GUEST_SUPDATE }, { 5, SEVMIG_GUEST_RUPDATE },
		{ 6, SEVMIG_GUEST_SENT }, { 9, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(states); i++) {
		uint8_t in[12] = { 0 }, out[12];
		struct psp_expect e = {
			.cmd = 16, .sev_fd = SEV_FD, .in = in, .in_len = 12,
			.out = out, .out_len = 12,
		};
		const struct fake_call script[] = { KVM_EXPECT(VM_FD, 0, &e) };
		struct fake_sys *fs = fake_sys_new(script, 1);
		struct sevmig_platform *p = plat(fs);
		struct sevmig_guest_status st = { .size = sizeof(st) };

		/* §4.1: handle u32 @0, policy u32 @4, state u32 @8. */
		put32(out, 0, 42);
		put32(out, 4, 0x00160011);
		put32(out, 8, states[i].fw_state);
		assert_int_equal(sevmig_psp_guest_status(p, VM_FD,
						     &st, NULL), 0);
		assert_int_equal(st.size, sizeof(st));
		assert_int_equal(st.handle, 42);
		assert_int_equal(st.policy, 0x00160011);
		assert_int_equal(st.fw_state, states[i].fw_state);
		assert_int_equal(st.state, states[i].state);
		sevmig_platform_free(p);
		fake_sys_done(fs);
	}
}

static void send_start_in(uint8_t *b)
{
	/* §4.1 kvm_sev_send_start: policy @0; pdh @8, len @16; plat @24,
	 * len @32; amd @40, len @48; session @56, len @64; 72 bytes. */
	memset(b, 0, 72);
	put_ptr(b, 8, pdh);
	put32(b, 16, 2084);
	put_ptr(b, 24, chain);
	put32(b, 32, 6252);
	put_ptr(b, 40, amd);
	put32(b, 48, 3200);
	put_ptr(b, 56, session);
	put32(b, 64, 128);
}

static void test_send_start(void **state)
{
	uint8_t q_in[72] = { 0 }, q_out[72] = { 0 }, in[72], out[72];
	struct psp_expect query = {
		.cmd = 8, .sev_fd = SEV_FD, .in = q_in, .in_len = 72,
		.out = q_out, .out_len = 72, .fw = 0x04,
	};
	struct psp_expect start = {
		.cmd = 8, .sev_fd = SEV_FD, .in = in, .in_len = 72,
		.out = out, .out_len = 72,
	};
	const struct fake_call script[] = {
		KVM_EXPECT(VM_FD, -EIO, &query),
		KVM_EXPECT(VM_FD, 0, &start),
		KVM_EXPECT(VM_FD, -EIO, &query),	/* query only */
		KVM_EXPECT(VM_FD, -EIO, &query),	/* buffer too small */
	};
	struct fake_sys *fs;
	struct sevmig_platform *p;
	struct sevmig_send_start_args a = send_args();
	uint32_t policy = 0, fw = 77;
	size_t slen = 0;

	(void)state;
	put32(q_out, 64, 128);		/* the query's answer */
	send_start_in(in);
	memcpy(out, in, 72);
	put32(out, 0, 0x00000001);	/* the policy, filled by the firmware */
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a,
					   &policy, &slen, &fw), 0);
	assert_int_equal(policy, 1);
	assert_int_equal(slen, 128);
	assert_int_equal(fw, 77);
	assert_string_equal(fake_sys_last_error(fs), "");
	/* Session-length query alone. */
	a.session = NULL;
	a.session_size = 0;
	slen = 0;
	policy = 9;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a,
					   &policy, &slen, &fw), 0);
	assert_int_equal(slen, 128);
	assert_int_equal(policy, 9);
	/* A 64-byte session buffer. */
	a.session = session;
	a.session_size = 64;
	slen = 1;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a,
					   &policy, &slen, &fw), -ENOSPC);
	assert_int_equal(slen, 128);	/* the size needed, as the firmware does */
	assert_non_null(strstr(fake_sys_last_error(fs), "needs 128 bytes"));
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_send_start_refusals(void **state)
{
	uint8_t q_out[72] = { 0 }, out[72] = { 0 };
	struct psp_expect ok_query = {
		.cmd = 8, .sev_fd = SEV_FD, .out = q_out, .out_len = 72,
	};
	struct psp_expect query = {
		.cmd = 8, .sev_fd = SEV_FD, .out = q_out, .out_len = 72, .fw = 4,
	};
	struct psp_expect policy = { .cmd = 8, .sev_fd = SEV_FD, .out = out,
				     .out_len = 72, .fw = 0x07 };
	const struct fake_call script[] = {
		KVM_EXPECT(VM_FD, 0, &ok_query),
		KVM_EXPECT(VM_FD, -EIO, &query),
		KVM_EXPECT(VM_FD, -EIO, &policy),
	};
	struct fake_sys *fs;
	struct sevmig_platform *p;
	struct sevmig_send_start_args a;
	uint32_t fw = 77;
	static uint8_t huge[16385];

	(void)state;
	put32(q_out, 64, 128);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	/* Checked before any ioctl. */
	a = send_args();
	a.amd_chain = NULL;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs), "AMD chain"));
	a = send_args();
	a.pdh_len = 0;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	a = send_args();
	a.plat_chain = huge;
	a.plat_chain_len = sizeof(huge);
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs), "at most 16384"));
	a = send_args();
	a.session_size = 0;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	a = send_args();
	a.flags = 1;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	a = send_args();
	a.size = 8;
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, NULL, NULL, NULL, &fw), -EINVAL);
	assert_int_equal(sevmig_psp_send_start(NULL, VM_FD, &a, NULL, NULL, &fw), -EINVAL);
	assert_int_equal(sevmig_psp_send_start(p, -1, &a, NULL, NULL, &fw), -EBADF);
	/* A query the firmware does not answer with INVALID_LEN. */
	a = send_args();
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EPROTO);
	/* POLICY_FAILURE on the real call, explained. */
	assert_int_equal(sevmig_psp_send_start(p, VM_FD, &a, NULL, NULL, &fw), -EIO);
	assert_int_equal(fw, 0x07);
	assert_non_null(strstr(fake_sys_last_error(fs), "sevmig_preflight"));
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void update_in(uint8_t *b, const void *guest, uint32_t len)
{
	/* §4.1 kvm_sev_send_update_data / receive_update_data: hdr @0,
	 * hdr_len @8; guest @16, guest_len @24; trans @32, trans_len @40. */
	memset(b, 0, 48);
	put_ptr(b, 0, hdr);
	put32(b, 8, 52);
	put_ptr(b, 16, guest);
	put32(b, 24, len);
	put_ptr(b, 32, trans);
	put32(b, 40, len);		/* trans_len = guest_len */
}

static void test_update_data(void **state)
{
	uint8_t in1[48], in2[48], in3[48], q_in[48] = { 0 }, q_out[48] = { 0 };
	struct psp_expect s1 = { .cmd = 9, .sev_fd = SEV_FD, .in = in1, .in_len = 48 };
	struct psp_expect s2 = { .cmd = 9, .sev_fd = SEV_FD, .in = in2, .in_len = 48 };
	struct psp_expect r1 = { .cmd = 13, .sev_fd = SEV_FD, .in = in3, .in_len = 48 };
	struct psp_expect q = { .cmd = 9, .sev_fd = SEV_FD, .in = q_in, .in_len = 48,
				.out = q_out, .out_len = 48, .fw = 4 };
	const struct fake_call script[] = {
		KVM_EXPECT(VM_FD, 0, &s1),
		KVM_EXPECT(VM_FD, 0, &s2),
		KVM_EXPECT(VM_FD, 0, &r1),
		KVM_EXPECT(VM_FD, -EIO, &q),
	};
	struct fake_sys *fs;
	struct sevmig_platform *p;
	struct sevmig_page_xfer x;
	uint32_t hl = 0, tl = 9;

	(void)state;
	update_in(in1, page, 4096);
	update_in(in2, page + 4096 + 0xff0, 16);	/* the last 16 bytes */
	update_in(in3, page + 32, 64);
	put32(q_out, 8, 52);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	x = xfer(page, 4096);
	assert_int_equal(sevmig_psp_send_update_data(p, VM_FD, &x, NULL), 0);
	x = xfer(page + 4096 + 0xff0, 16);
	assert_int_equal(sevmig_psp_send_update_data(p, VM_FD, &x, NULL), 0);
	x = xfer(page + 32, 64);
	x.trans_len = 64;
	x.hdr_len = 100;		/* larger buffers are fine; 52 is passed */
	assert_int_equal(sevmig_psp_receive_update_data(p, VM_FD, &x, NULL), 0);
	/* Length query: hdr 52, trans 0 (= guest_len) on current firmware. */
	assert_int_equal(sevmig_psp_send_update_data_lengths(p, VM_FD, &hl, &tl, NULL), 0);
	assert_int_equal(hl, 52);
	assert_int_equal(tl, 0);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_update_data_bounds(void **state)
{
	static const struct {
		size_t off;
		uint32_t len, hdr_len, trans_len, flags;
		bool no_hdr;
		const char *words;
	} cases[] = {
		{ 0, 0, 52, 4096, 0, false, "16 to 4096" },
		{ 0, 4112, 52, 8192, 0, false, "16 to 4096" },
		{ 0, 24, 52, 4096, 0, false, "multiple of 16" },
		{ 8, 16, 52, 4096, 0, false, "16-byte aligned" },
		{ 4080, 32, 52, 4096, 0, false, "cross a page" },
		{ 16, 4096, 52, 4096, 0, false, "cross a page" },
		{ 0, 64, 51, 4096, 0, false, "a packet header is 52" },
		{ 0, 64, 52, 48, 0, false, "less than the 64 guest bytes" },
		{ 0, 64, 52, 4096, 0, true, "all required" },
		{ 0, 64, 52, 4096, 1, false, "flags must be 0" },
	};
	struct fake_sys *fs = fake_sys_new(NULL, 0);	/* no ioctl may happen */
	struct sevmig_platform *p = plat(fs);

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		for (int recv = 0; recv < 2; recv++) {
			struct sevmig_page_xfer x = xfer(page + cases[i].off,
							 cases[i].len);

			x.hdr_len = cases[i].hdr_len;
			x.trans_len = cases[i].trans_len;
			x.flags = cases[i].flags;
			if (cases[i].no_hdr)
				x.hdr = NULL;
			assert_int_equal(recv ?
					 sevmig_psp_receive_update_data(p, VM_FD, &x, NULL) :
					 sevmig_psp_send_update_data(p, VM_FD, &x, NULL),
					 -EINVAL);
			if (!strstr(fake_sys_last_error(fs), cases[i].words))
				fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
					 fake_sys_last_error(fs), cases[i].words);
		}
	}
	assert_int_equal(sevmig_psp_send_update_data(p, VM_FD, NULL, NULL), -EINVAL);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_simple_commands(void **state)
{
	struct psp_expect fin = { .cmd = 11, .sev_fd = SEV_FD, .null_data = true };
	struct psp_expect can = { .cmd = 21, .sev_fd = SEV_FD, .null_data = true };
	struct psp_expect rfin = { .cmd = 15, .sev_fd = SEV_FD, .null_data = true };
	const struct fake_call script[] = {
		KVM_EXPECT(VM_FD, 0, &can),
		KVM_EXPECT(VM_FD, 0, &fin),
		KVM_EXPECT(VM_FD, 0, &rfin),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_platform *p = plat(fs);
	uint32_t fw = 77;

	(void)state;
	assert_int_equal(sevmig_psp_send_cancel(p, VM_FD, &fw), 0);
	assert_int_equal(sevmig_psp_send_finish(p, VM_FD, &fw), 0);
	assert_int_equal(sevmig_psp_receive_finish(p, VM_FD, &fw), 0);
	assert_int_equal(fw, 77);
	assert_int_equal(sevmig_psp_send_finish(p, -1, &fw), -EBADF);
	assert_int_equal(sevmig_psp_send_finish(NULL, VM_FD, &fw), -EINVAL);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_receive_start(void **state)
{
	uint8_t in[40] = { 0 }, out[40];
	struct psp_expect e = { .cmd = 12, .sev_fd = SEV_FD, .in = in, .in_len = 40,
				.out = out, .out_len = 40 };
	const struct fake_call script[] = { KVM_EXPECT(VM_FD, 0, &e) };
	struct fake_sys *fs;
	struct sevmig_platform *p;
	struct sevmig_receive_start_args a = recv_args(0x00160001);
	uint32_t handle = 0;

	(void)state;
	/* §4.1 kvm_sev_receive_start: handle @0, policy @4, pdh @8, len @16,
	 * session @24, len @32; 40 bytes. */
	put32(in, 4, 0x00160001);
	put_ptr(in, 8, pdh);
	put32(in, 16, 2084);
	put_ptr(in, 24, session);
	put32(in, 32, 128);
	memcpy(out, in, 40);
	put32(out, 0, 42);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	assert_int_equal(sevmig_psp_receive_start(p, VM_FD, &a,
					      &handle, NULL), 0);
	assert_int_equal(handle, 42);
	/* The platform now backs a VM: freeing it warns. */
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_receive_start_refusals(void **state)
{
	static const struct {
		uint32_t policy, handle;
		size_t pdh_len, session_len;
		int err;
		const char *words;
	} cases[] = {
		{ 0, 0, 2083, 128, -EINVAL, "2084-byte" },
		{ 0, 0, 2084, 127, -EINVAL, "must be 128 bytes" },
		{ 0x40, 0, 2084, 128, -EINVAL, "reserved bits" },
		{ 0x04, 0, 2084, 128, -EOPNOTSUPP, "SEV-ES" },
		{ 0x02, 3, 2084, 128, -EINVAL, "NOKS" },
	};
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_platform *p = plat(fs);

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sevmig_receive_start_args a = recv_args(cases[i].policy);
		uint32_t handle = 77;

		a.handle = cases[i].handle;
		a.pdh_len = cases[i].pdh_len;
		a.session_len = cases[i].session_len;
		assert_int_equal(sevmig_psp_receive_start(p, VM_FD,
						      &a, &handle, NULL),
				 cases[i].err);
		assert_int_equal(handle, 77);
		if (!strstr(fake_sys_last_error(fs), cases[i].words))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i,
				 fake_sys_last_error(fs), cases[i].words);
	}
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ebadf_explains_lifetime),
		cmocka_unit_test(test_dead_psp),
		cmocka_unit_test(test_guest_status),
		cmocka_unit_test(test_send_start),
		cmocka_unit_test(test_send_start_refusals),
		cmocka_unit_test(test_update_data),
		cmocka_unit_test(test_update_data_bounds),
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_receive_start),
		cmocka_unit_test(test_receive_start_refusals),
	};
	int ret;

	page = aligned_alloc(4096, 8192);
	if (!page)
		return 1;
	memset(page, 0, 8192);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	free(page);
	return ret;
}
