// SPDX-License-Identifier: MIT
/*
 * /dev/sev platform commands on the scripted fake backend: open/free,
 * PLATFORM_STATUS, PDH_CERT_EXPORT and GET_ID2 with their length queries,
 * firmware statuses and errno paths. Command structs are checked byte by
 * byte against the offsets of the kernel's uapi linux/psp-sev.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "internal.h"
#include "psp-hook.h"
#include "test-util.h"

#define SEV_FD 5

static struct sevmig_platform *plat(struct fake_sys *fs)
{
	struct sevmig_platform *p = NULL;

	assert_int_equal(sevmig_platform_from_fd(fake_sys_ctx(fs), SEV_FD, 0, &p), 0);
	assert_int_equal(sevmig_platform_fd(p), SEV_FD);
	return p;
}

static void test_open_free(void **state)
{
	const struct fake_call script[] = {
		{ .op = FAKE_OP_OPEN, .path = "/dev/sev",
		  .oflags_mask = O_RDWR | O_CLOEXEC, .ret = 9,
		  .nested_off = FAKE_NO_NESTED, .what = "open" },
		FAKE_CLOSE(9, 0),
		FAKE_OPEN("/tmp/other-sev", 11),
		FAKE_CLOSE(11, 0),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_platform *p = NULL;

	(void)state;
	assert_int_equal(sevmig_platform_open(ctx, NULL, 0, &p), 0);
	assert_int_equal(sevmig_platform_fd(p), 9);
	sevmig_platform_free(p);		/* closes what it opened */
	assert_int_equal(sevmig_platform_open(ctx, "/tmp/other-sev", 0, &p), 0);
	sevmig_platform_free(p);
	/* Borrowed: never closed (a close would be an unexpected call). */
	assert_int_equal(sevmig_platform_from_fd(ctx, 3, 0, &p), 0);
	sevmig_platform_free(p);
	sevmig_platform_free(NULL);
	assert_int_equal(sevmig_platform_fd(NULL), -EINVAL);
	fake_sys_done(fs);
}

static void test_open_errors(void **state)
{
	static const struct {
		int err;
		const char *words;
	} cases[] = {
		{ -ENOENT, "no SEV platform device" },
		{ -ENODEV, "no SEV platform device" },
		{ -EACCES, "permission denied" },
		{ -EPERM, "permission denied" },
		{ -EMFILE, "cannot open" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake_call script[] = { FAKE_OPEN("/dev/sev", 0) };
		struct fake_sys *fs;
		struct sevmig_platform *p = (void *)&script;

		script[0].ret = cases[i].err;
		fs = fake_sys_new(script, 1);
		assert_int_equal(sevmig_platform_open(fake_sys_ctx(fs), NULL, 0, &p),
				 cases[i].err);
		assert_ptr_equal(p, (void *)&script);	/* untouched */
		assert_non_null(strstr(fake_sys_last_error(fs), cases[i].words));
		fake_sys_done(fs);
	}
}

static void test_args(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_platform *p = NULL;
	uint8_t buf[16];

	(void)state;
	assert_int_equal(sevmig_platform_open(NULL, NULL, 0, &p), -EINVAL);
	assert_int_equal(sevmig_platform_open(ctx, NULL, 0, NULL), -EINVAL);
	assert_int_equal(sevmig_platform_open(ctx, NULL, 1, &p), -EINVAL);
	assert_int_equal(sevmig_platform_from_fd(ctx, 3, 1, &p), -EINVAL);
	assert_int_equal(sevmig_platform_from_fd(ctx, -1, 0, &p), -EBADF);
	assert_null(p);
	assert_int_equal(sevmig_platform_from_fd(ctx, SEV_FD, 0, &p), 0);
	/* One buffer without the other, or a buffer without a size. */
	assert_int_equal(sevmig_platform_pdh_export(p, buf, 16, NULL, 0, NULL,
						    NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_platform_pdh_export(p, buf, 0, buf, 16, NULL,
						    NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_platform_get_id(p, buf, 0, NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_platform_status(p, NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_platform_status(NULL, NULL, NULL), -EINVAL);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_status(void **state)
{
	uint8_t in[12] = { 0 }, out[12] = { 0 };
	struct psp_expect e = {
		.cmd = 1, .in = in, .in_len = 12, .out = out, .out_len = 12,
	};
	const struct fake_call script[] = { SEV_EXPECT(SEV_FD, 0, &e) };
	struct fake_sys *fs;
	struct sevmig_platform *p;
	struct sevmig_platform_status st;
	uint32_t fw = 77;

	(void)state;
	/* §3.1: api_major @0, api_minor @1, state @2, flags u32 @3, build @7,
	 * guest_count u32 @8; flags bit 0 owner, bits 8-23 config. */
	out[0] = 0;
	out[1] = 22;
	out[2] = 2;			/* WORKING */
	put32(out, 3, 0x0101);		/* externally owned, ES initialized */
	out[7] = 9;
	put32(out, 8, 3);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	assert_int_equal(sevmig_platform_status(p, &st, &fw), 0);
	assert_int_equal(fw, 77);	/* written only for a firmware status */
	assert_int_equal(st.size, sizeof(st));
	assert_int_equal(st.api_major, 0);
	assert_int_equal(st.api_minor, 22);
	assert_int_equal(st.state, SEVMIG_PLATFORM_WORKING);
	assert_int_equal(st.build, 9);
	assert_int_equal(st.guest_count, 3);
	assert_int_equal(st.config, 1);
	assert_int_equal(st.flags, SEVMIG_PLATFORM_OWNER_EXTERNAL |
			 SEVMIG_PLATFORM_ES_INITIALIZED);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

/* One failing ioctl for each way a platform command can fail. */
typedef int (*plat_fn)(struct sevmig_platform *p, uint32_t *fw);

static int do_status(struct sevmig_platform *p, uint32_t *fw)
{
	struct sevmig_platform_status st = { .size = sizeof(st) };

	return sevmig_platform_status(p, &st, fw);
}

static int do_pdh_query(struct sevmig_platform *p, uint32_t *fw)
{
	size_t a = 1, b = 1;

	return sevmig_platform_pdh_export(p, NULL, 0, NULL, 0, &a, &b, fw);
}

static int do_pdh_fetch(struct sevmig_platform *p, uint32_t *fw)
{
	static uint8_t pdh[2084], chain[6252];

	return sevmig_platform_pdh_export(p, pdh, sizeof(pdh), chain,
					  sizeof(chain), NULL, NULL, fw);
}

static int do_get_id(struct sevmig_platform *p, uint32_t *fw)
{
	size_t len;

	return sevmig_platform_get_id(p, NULL, 0, &len, fw);
}

static void test_errors(void **state)
{
	static const struct {
		plat_fn fn;
		uint32_t cmd;
	} cmds[] = {
		{ do_status, 1 }, { do_pdh_query, 5 }, { do_pdh_fetch, 5 },
		{ do_get_id, 8 },
	};
	static const struct {
		int err;
		uint32_t fw;		/* left in `error` by the "kernel" */
		uint32_t want_fw;	/* what the caller must see (77: untouched) */
		const char *words;
	} errs[] = {
		{ -EBADF, 0x13, 77, "not open" },
		{ -EINVAL, 0x07, 77, "invalid argument" },
		{ -ENOTTY, 0, 77, "not /dev/sev" },
		{ -EFAULT, 0, 77, "" },
		{ -EPERM, 0, 77, "read-only" },
		{ -EIO, 0x13, 0x13, "HWERROR_PLATFORM" },
		{ -EIO, 0x01, 0x01, "UNINIT" },
		{ -EIO, 0x15, 0x15, "UNSUPPORTED" },
		{ -EIO, 0, 77, "" },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_LEN(cmds); c++) {
		for (size_t i = 0; i < ARRAY_LEN(errs); i++) {
			struct psp_expect e = { .cmd = cmds[c].cmd, .fw = errs[i].fw };
			const struct fake_call script[] = {
				SEV_EXPECT(SEV_FD, errs[i].err, &e),
			};
			struct fake_sys *fs = fake_sys_new(script, 1);
			struct sevmig_platform *p = plat(fs);
			uint32_t fw = 77;

			assert_int_equal(cmds[c].fn(p, &fw), errs[i].err);
			assert_int_equal(fw, errs[i].want_fw);
			if (!strstr(fake_sys_last_error(fs), errs[i].words))
				fail_msg("cmd %zu err %zu: \"%s\" lacks \"%s\"", c, i,
					 fake_sys_last_error(fs), errs[i].words);
			sevmig_platform_free(p);
			fake_sys_done(fs);
		}
	}
}

static void test_dead_psp(void **state)
{
	struct psp_expect st = { .cmd = 1 }, pdh = { .cmd = 5 }, id = { .cmd = 8 };
	const struct fake_call script[] = {
		SEV_EXPECT(SEV_FD, -ETIMEDOUT, &st),
		SEV_EXPECT(SEV_FD, -EBUSY, &pdh),
		SEV_EXPECT(SEV_FD, -EBUSY, &id),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_platform *p = plat(fs);
	uint32_t fw = 77;

	(void)state;
	assert_int_equal(do_status(p, &fw), -ETIMEDOUT);
	assert_non_null(strstr(fake_sys_last_error(fs), "until the host reboots"));
	assert_int_equal(do_pdh_query(p, &fw), -EBUSY);
	assert_non_null(strstr(fake_sys_last_error(fs), "timed out earlier"));
	assert_int_equal(do_get_id(p, &fw), -EBUSY);
	assert_non_null(strstr(fake_sys_last_error(fs), "timed out earlier"));
	assert_int_equal(fw, 77);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_pdh_export(void **state)
{
	static uint8_t pdh[2084], chain[6252], big[20000], big2[20000];
	uint8_t q_in[24] = { 0 }, q_out[24] = { 0 }, f_in[24], b_in[24];
	struct psp_expect query = {
		.cmd = 5, .in = q_in, .in_len = 24, .out = q_out, .out_len = 24,
		.fw = 0x04,
	};
	struct psp_expect fetch = { .cmd = 5, .in = f_in, .in_len = 24 };
	struct psp_expect fetch_big = { .cmd = 5, .in = b_in, .in_len = 24 };
	struct psp_expect small = { .cmd = 5, .out = q_out, .out_len = 24,
				    .fw = 0x04 };
	const struct fake_call script[] = {
		SEV_EXPECT(SEV_FD, -EIO, &query),
		SEV_EXPECT(SEV_FD, 0, &fetch),
		SEV_EXPECT(SEV_FD, 0, &fetch_big),
		SEV_EXPECT(SEV_FD, -EIO, &small),
		SEV_EXPECT(SEV_FD, 0, &query),	/* a query that "succeeds" */
	};
	struct fake_sys *fs;
	struct sevmig_platform *p;
	size_t pl = 0, cl = 0;
	uint32_t fw = 77;

	(void)state;
	/* §3.1: pdh_cert_address u64 @0, pdh_cert_len u32 @8,
	 * cert_chain_address u64 @12, cert_chain_len u32 @20. */
	put32(q_out, 8, 2084);
	put32(q_out, 20, 6252);
	memset(f_in, 0, sizeof(f_in));
	put_ptr(f_in, 0, pdh);
	put32(f_in, 8, 2084);
	put_ptr(f_in, 12, chain);
	put32(f_in, 20, 6252);
	memset(b_in, 0, sizeof(b_in));
	put_ptr(b_in, 0, big);
	put32(b_in, 8, 0x4000);		/* clamped: the kernel's limit */
	put_ptr(b_in, 12, big2);
	put32(b_in, 20, 0x4000);

	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	/* The query's EIO + INVALID_LEN is success with sizes. */
	assert_int_equal(sevmig_platform_pdh_export(p, NULL, 0, NULL, 0, &pl, &cl,
						    &fw), 0);
	assert_int_equal(pl, 2084);
	assert_int_equal(cl, 6252);
	assert_int_equal(fw, 77);
	assert_string_equal(fake_sys_last_error(fs), "");
	/* The fetch: kernel leaves the lengths as given. */
	pl = cl = 0;
	assert_int_equal(sevmig_platform_pdh_export(p, pdh, sizeof(pdh), chain,
						    sizeof(chain), &pl, &cl,
						    &fw), 0);
	assert_int_equal(pl, 2084);
	assert_int_equal(cl, 6252);
	assert_int_equal(sevmig_platform_pdh_export(p, big, sizeof(big), big2,
						    sizeof(big2), NULL, NULL,
						    NULL), 0);
	/* Buffers too small: the firmware answers INVALID_LEN. */
	pl = cl = 1;
	assert_int_equal(sevmig_platform_pdh_export(p, pdh, 100, chain, 100,
						    &pl, &cl, &fw), -ENOSPC);
	assert_int_equal(pl, 2084);	/* the sizes needed come back */
	assert_int_equal(cl, 6252);
	assert_int_equal(fw, 77);
	assert_non_null(strstr(fake_sys_last_error(fs), "needs 2084 bytes"));
	assert_int_equal(sevmig_platform_pdh_export(p, NULL, 0, NULL, 0, &pl, &cl,
						    &fw), -EPROTO);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

static void test_get_id(void **state)
{
	static uint8_t id[128];
	uint8_t q_in[12] = { 0 }, q_out[12] = { 0 }, f_in[12] = { 0 };
	uint8_t f_out[12] = { 0 };
	struct psp_expect query = {
		.cmd = 8, .in = q_in, .in_len = 12, .out = q_out, .out_len = 12,
		.fw = 0x04,
	};
	struct psp_expect fetch = {
		.cmd = 8, .in = f_in, .in_len = 12, .out = f_out, .out_len = 12,
	};
	struct psp_expect small = { .cmd = 8, .out = q_out, .out_len = 12,
				    .fw = 0x04 };
	struct psp_expect old = { .cmd = 8 };
	const struct fake_call script[] = {
		SEV_EXPECT(SEV_FD, -EIO, &query),
		SEV_EXPECT(SEV_FD, 0, &fetch),
		SEV_EXPECT(SEV_FD, -EIO, &small),
		SEV_EXPECT(SEV_FD, -524, &old),
	};
	struct fake_sys *fs;
	struct sevmig_platform *p;
	size_t len = 0;
	uint32_t fw = 77;

	(void)state;
	/* §3.1: address u64 @0, length u32 @8. */
	put32(q_out, 8, 128);		/* two sockets */
	put_ptr(f_in, 0, id);
	put32(f_in, 8, 128);
	memcpy(f_out, f_in, 12);
	put32(f_out, 8, 128);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	p = plat(fs);
	assert_int_equal(sevmig_platform_get_id(p, NULL, 0, &len, &fw), 0);
	assert_int_equal(len, 128);
	len = 0;
	assert_int_equal(sevmig_platform_get_id(p, id, sizeof(id), &len, &fw), 0);
	assert_int_equal(len, 128);
	len = 0;
	assert_int_equal(sevmig_platform_get_id(p, id, 64, &len, &fw), -ENOSPC);
	assert_int_equal(len, 128);	/* the size needed comes back */
	assert_non_null(strstr(fake_sys_last_error(fs), "needs 128 bytes"));
	assert_int_equal(sevmig_platform_get_id(p, NULL, 0, &len, &fw), -524);
	assert_non_null(strstr(fake_sys_last_error(fs), "older than API 0.16"));
	assert_int_equal(fw, 77);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_free),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dead_psp),
		cmocka_unit_test(test_pdh_export),
		cmocka_unit_test(test_get_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
