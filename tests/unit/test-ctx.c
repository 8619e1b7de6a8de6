// SPDX-License-Identifier: MIT
/* Context creation and the sized-record rules every public struct follows. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "test-util.h"

static void test_ctx_defaults(void **state)
{
	struct sevmig_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	assert_non_null(ctx);
	/* NULL opts: the real kernel backend, every member filled. */
	assert_ptr_equal(ctx->sys.ioctl, sevmig_sys_default()->ioctl);
	assert_ptr_equal(ctx->sys.open, sevmig_sys_default()->open);
	assert_null(ctx->log);
	sevmig_ctx_free(ctx);
	sevmig_ctx_free(NULL);	/* must be a no-op */
}

static void test_ctx_bad_args(void **state)
{
	struct sevmig_ctx_opts opts = { .size = sizeof(opts) };
	struct sevmig_ctx *ctx = (struct sevmig_ctx *)0x1;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, NULL), -EINVAL);
	opts.flags = 1;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
	assert_ptr_equal(ctx, (struct sevmig_ctx *)0x1);	/* untouched */
	opts.flags = 0;
	opts.log_level = SEVMIG_LOG_DEBUG + 1;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
	opts.log_level = 0;
	opts.size = SEVMIG_CTX_OPTS_SIZE_VER0 - 1;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
	opts.size = 0;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
}

static int dummy_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	(void)opaque; (void)fd; (void)req; (void)arg;
	return 42;
}

static void test_ctx_sys_partial(void **state)
{
	struct sevmig_sys_ops ops = { .size = sizeof(ops), .ioctl = dummy_ioctl };
	struct sevmig_ctx_opts opts = { .size = sizeof(opts), .sys = &ops };
	struct sevmig_ctx *ctx;

	(void)state;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), 0);
	/* The given member is used, missing ones fall back to Linux. */
	assert_int_equal(sevmig_sys_ioctl(ctx, 0, 0, NULL), 42);
	assert_ptr_equal(ctx->sys.open, sevmig_sys_default()->open);
	sevmig_ctx_free(ctx);

	ops.flags = 2;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
	ops.flags = 0;
	ops.size = SEVMIG_SYS_OPS_SIZE_VER0 - 8;
	assert_int_equal(sevmig_ctx_new(&opts, &ctx), -EINVAL);
}

/* A "newer" caller's record: ours plus a tail. */
struct opts_v2 {
	struct sevmig_ctx_opts v1;
	uint64_t future_field;
};

static void test_ctx_larger_record(void **state)
{
	struct opts_v2 o;
	struct sevmig_ctx *ctx;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.v1.size = sizeof(o);
	/* Larger with a zero tail: accepted. */
	assert_int_equal(sevmig_ctx_new(&o.v1, &ctx), 0);
	sevmig_ctx_free(ctx);
	/* Larger asking for something we do not know: -E2BIG. */
	o.future_field = 1;
	assert_int_equal(sevmig_ctx_new(&o.v1, &ctx), -E2BIG);
}

struct rec {
	uint32_t size;
	uint32_t a;
	uint64_t b;
};

static void test_struct_in_rules(void **state)
{
	unsigned char big[sizeof(struct rec) + 8];
	struct rec in, out;

	(void)state;
	/* Older caller: only size and a; b reads as zero. */
	memset(&in, 0xff, sizeof(in));
	in.size = 8;
	in.a = 7;
	assert_int_equal(sevmig_struct_in(&out, sizeof(out), &in, 8), 0);
	assert_int_equal(out.size, sizeof(out));
	assert_int_equal(out.a, 7);
	assert_int_equal(out.b, 0);
	/* Exact. */
	in.size = sizeof(in);
	in.b = 9;
	assert_int_equal(sevmig_struct_in(&out, sizeof(out), &in, 8), 0);
	assert_int_equal(out.b, 9);
	/* Below the first version. */
	in.size = 4;
	assert_int_equal(sevmig_struct_in(&out, sizeof(out), &in, 8), -EINVAL);
	/* Newer caller, zero tail / non-zero tail at every position. */
	memset(big, 0, sizeof(big));
	in.size = sizeof(big);
	memcpy(big, &in, sizeof(in));
	assert_int_equal(sevmig_struct_in(&out, sizeof(out), big, 8), 0);
	for (size_t i = sizeof(struct rec); i < sizeof(big); i++) {
		big[i] = 1;
		assert_int_equal(sevmig_struct_in(&out, sizeof(out), big, 8), -E2BIG);
		big[i] = 0;
	}
	/* NULL: all zero, size set. */
	assert_int_equal(sevmig_struct_in(&out, sizeof(out), NULL, 8), 0);
	assert_int_equal(out.size, sizeof(out));
	assert_int_equal(out.a, 0);
}

static void test_struct_out_rules(void **state)
{
	unsigned char big[sizeof(struct rec) + 8];
	struct rec k = { .size = sizeof(k), .a = 1, .b = 2 }, u;
	int len;

	(void)state;
	/* Older caller: only its prefix is written, size says how much. */
	memset(&u, 0xee, sizeof(u));
	u.size = 8;
	len = sevmig_struct_out_len(&u, sizeof(k), 8);
	assert_int_equal(len, 8);
	sevmig_struct_out(&u, &k, (size_t)len);
	assert_int_equal(u.size, 8);
	assert_int_equal(u.a, 1);
	assert_int_equal(u.b, 0xeeeeeeeeeeeeeeeeull);	/* not written */
	/* Newer caller with a zero tail: we write our part, tail stays 0. */
	memset(big, 0, sizeof(big));
	u.size = sizeof(big);
	memcpy(big, &u, sizeof(uint32_t));
	len = sevmig_struct_out_len(big, sizeof(k), 8);
	assert_int_equal(len, sizeof(k));
	big[sizeof(k) + 3] = 5;
	assert_int_equal(sevmig_struct_out_len(big, sizeof(k), 8), -E2BIG);
	u.size = 7;
	assert_int_equal(sevmig_struct_out_len(&u, sizeof(k), 8), -EINVAL);
}

static void test_version(void **state)
{
	(void)state;
	assert_int_equal(sevmig_version(), SEVMIG_VERSION_NUMBER);
	assert_string_equal(sevmig_version_string(), SEVMIG_VERSION_STRING);
	assert_true(SEVMIG_CHECK_VERSION(0, 1, 0));
	assert_false(SEVMIG_CHECK_VERSION(255, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctx_defaults),
		cmocka_unit_test(test_ctx_bad_args),
		cmocka_unit_test(test_ctx_sys_partial),
		cmocka_unit_test(test_ctx_larger_record),
		cmocka_unit_test(test_struct_in_rules),
		cmocka_unit_test(test_struct_out_rules),
		cmocka_unit_test(test_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
