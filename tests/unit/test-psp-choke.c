// SPDX-License-Identifier: MIT
/*
 * The PSP choke point: error zeroed before each call, read only on EIO,
 * firmware status kept apart from errno, a dead PSP recognised.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "internal.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"

/* Writes a firmware status into sev_issue_cmd.error, like the driver. */
static int set_sev_error(const struct fake_call *c, void *arg)
{
	struct sev_issue_cmd *cmd = arg;

	assert_int_equal(cmd->error, 0);	/* zeroed before the call */
	cmd->error = (uint32_t)(uintptr_t)c->hook_data;
	return c->ret;
}

static int set_kvm_error(const struct fake_call *c, void *arg)
{
	struct kvm_sev_cmd *cmd = arg;

	assert_int_equal(cmd->error, 0);
	cmd->error = (uint32_t)(uintptr_t)c->hook_data;
	return c->ret;
}

#define SEV_CMD(r, fw) \
	{ .op = FAKE_OP_IOCTL, .fd = 5, .req = SEV_ISSUE_CMD, \
	  .nested_off = FAKE_NO_NESTED, .hook = set_sev_error, \
	  .hook_data = (void *)(uintptr_t)(fw), .ret = (r), .what = "SEV_ISSUE_CMD" }
#define KVM_CMD(r, fw) \
	{ .op = FAKE_OP_IOCTL, .fd = 7, .req = KVM_MEMORY_ENCRYPT_OP, \
	  .nested_off = FAKE_NO_NESTED, .hook = set_kvm_error, \
	  .hook_data = (void *)(uintptr_t)(fw), .ret = (r), .what = "ENCRYPT_OP" }

static void test_platform_cmd_statuses(void **state)
{
	/* A status left in `error` on a non-EIO failure must be ignored. */
	const struct fake_call script[] = {
		SEV_CMD(0, 0),
		SEV_CMD(-EIO, 0x07),
		SEV_CMD(-EINVAL, 0x07),
		SEV_CMD(-EIO, 0x04),
		SEV_CMD(-EFAULT, 0),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	uint32_t fw = 99;

	(void)state;
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, &fw), 0);
	assert_int_equal(fw, 0);
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, &fw), -EIO);
	assert_int_equal(fw, 0x07);
	assert_non_null(strstr(fake_sys_last_error(fs), "POLICY_FAILURE"));
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, &fw), -EINVAL);
	assert_int_equal(fw, 0);
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 5, NULL, &fw), -EIO);
	assert_true(sevmig_psp_is_len_answer(-EIO, fw));
	/* NULL fw pointer is allowed. */
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, NULL), -EFAULT);
	fake_sys_done(fs);
}

static void test_platform_cmd_layout(void **state)
{
	struct sev_user_data_status st;
	struct sev_issue_cmd want = { .cmd = 1, .error = 0 };
	unsigned char mask[16];
	struct fake_call script[] = {
		{ .op = FAKE_OP_IOCTL, .fd = 5, .req = SEV_ISSUE_CMD,
		  .in = &want, .in_len = sizeof(want), .in_mask = mask,
		  .nested_off = offsetof(struct sev_issue_cmd, data),
		  .ret = 0, .what = "PLATFORM_STATUS" },
	};
	struct fake_sys *fs;
	uint32_t fw;

	(void)state;
	/* Compare cmd and error; the data pointer is checked separately. */
	memset(mask, 1, sizeof(mask));
	memset(mask + 4, 0, 8);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	assert_int_equal(sevmig_psp_platform_cmd(fake_sys_ctx(fs), 5, 1, &st,
						 &fw), 0);
	fake_sys_done(fs);
}

static void test_guest_cmd_statuses(void **state)
{
	const struct fake_call script[] = {
		KVM_CMD(0, 0),
		KVM_CMD(-EIO, 0x02),
		KVM_CMD(-ENOTTY, 0),
		KVM_CMD(-EBADF, 0),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	uint32_t fw = 1;

	(void)state;
	assert_int_equal(sevmig_psp_guest_cmd(ctx, 7, 9, 16, NULL, &fw), 0);
	assert_int_equal(fw, 0);
	assert_int_equal(sevmig_psp_guest_cmd(ctx, 7, 9, 16, NULL, &fw), -EIO);
	assert_int_equal(fw, 0x02);
	assert_non_null(strstr(fake_sys_last_error(fs), "GUEST_STATUS"));
	assert_int_equal(sevmig_psp_guest_cmd(ctx, 7, 9, 8, NULL, &fw), -ENOTTY);
	assert_int_equal(fw, 0);
	assert_int_equal(sevmig_psp_guest_cmd(ctx, 7, 9, 8, NULL, &fw), -EBADF);
	fake_sys_done(fs);
}

static void test_guest_cmd_passes_sev_fd(void **state)
{
	struct kvm_sev_cmd want = { .id = 12, .sev_fd = 33 };
	unsigned char mask[24];
	struct fake_call script[] = {
		{ .op = FAKE_OP_IOCTL, .fd = 7, .req = KVM_MEMORY_ENCRYPT_OP,
		  .in = &want, .in_len = sizeof(want), .in_mask = mask,
		  .nested_off = FAKE_NO_NESTED, .ret = 0, .what = "RECEIVE_START" },
	};
	struct fake_sys *fs;

	(void)state;
	memset(mask, 1, sizeof(mask));
	memset(mask + 8, 0, 8);	/* data pointer */
	fs = fake_sys_new(script, ARRAY_LEN(script));
	assert_int_equal(sevmig_psp_guest_cmd(fake_sys_ctx(fs), 7, 33, 12,
					      &want, NULL), 0);
	fake_sys_done(fs);
}

static void test_dead_psp(void **state)
{
	const struct fake_call script[] = {
		SEV_CMD(-EBUSY, 0),	/* busy before any timeout: plain busy */
		SEV_CMD(-ETIMEDOUT, 0),
		SEV_CMD(-EBUSY, 0),
		KVM_CMD(-EBUSY, 0),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);

	(void)state;
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, NULL), -EBUSY);
	assert_false(sevmig_psp_is_dead(ctx));
	assert_null(strstr(fake_sys_last_error(fs), "timed out"));
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, NULL),
			 -ETIMEDOUT);
	assert_true(sevmig_psp_is_dead(ctx));
	assert_non_null(strstr(fake_sys_last_error(fs), "until the host reboots"));
	assert_int_equal(sevmig_psp_platform_cmd(ctx, 5, 1, NULL, NULL), -EBUSY);
	assert_non_null(strstr(fake_sys_last_error(fs), "timed out earlier"));
	assert_int_equal(sevmig_psp_guest_cmd(ctx, 7, 3, 16, NULL, NULL), -EBUSY);
	assert_non_null(strstr(fake_sys_last_error(fs), "GUEST_STATUS"));
	fake_sys_done(fs);
}

static void test_cmd_names(void **state)
{
	(void)state;
	assert_string_equal(sevmig_sev_cmd_name(5), "PDH_CERT_EXPORT");
	assert_string_equal(sevmig_kvm_sev_cmd_name(21), "SEND_CANCEL");
	assert_string_equal(sevmig_kvm_sev_cmd_name(999), "unknown KVM SEV command");
	assert_string_equal(sevmig_sev_cmd_name(999), "unknown /dev/sev command");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_cmd_statuses),
		cmocka_unit_test(test_platform_cmd_layout),
		cmocka_unit_test(test_guest_cmd_statuses),
		cmocka_unit_test(test_guest_cmd_passes_sev_fd),
		cmocka_unit_test(test_dead_psp),
		cmocka_unit_test(test_cmd_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
