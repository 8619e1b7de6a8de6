// SPDX-License-Identifier: MIT
/* The static description tables: errno, firmware status, reasons. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "test-util.h"

static void test_fw_table_complete(void **state)
{
	/* Every code assigned by the SEV API and current Linux. */
	static const uint32_t unassigned[] = { 0x1E, 0x29, 0x2A, 0x2B, 0x2C,
					       0x2D, 0x2E, 0x2F, 0x34 };

	(void)state;
	for (uint32_t code = 0; code <= 0x3F; code++) {
		bool hole = false;

		for (size_t i = 0; i < ARRAY_LEN(unassigned); i++)
			hole |= unassigned[i] == code;
		if (hole) {
			assert_null(sevmig_fw_status_name(code));
			assert_string_equal(sevmig_fw_strerror(code),
					    "unknown firmware status");
			continue;
		}
		const char *name = sevmig_fw_status_name(code);
		const char *text = sevmig_fw_strerror(code);

		assert_non_null(name);
		/* "NAME: explanation" */
		assert_int_equal(strncmp(text, name, strlen(name)), 0);
		assert_int_equal(text[strlen(name)], ':');
		assert_true(strlen(text) > strlen(name) + 5);
	}
	assert_string_equal(sevmig_fw_status_name(0x04), "INVALID_LEN");
	assert_string_equal(sevmig_fw_status_name(0x07), "POLICY_FAILURE");
	assert_string_equal(sevmig_fw_status_name(0x27), "INVALID_KEY");
	assert_string_equal(sevmig_fw_status_name(0x3A), "IN_USE");
	assert_string_equal(sevmig_fw_strerror(0x40), "unknown firmware status");
	assert_string_equal(sevmig_fw_strerror(UINT32_MAX),
			    "unknown firmware status");
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(sevmig_strerror(0), "success");
	/* Negative and positive forms agree. */
	assert_string_equal(sevmig_strerror(-EINVAL), sevmig_strerror(EINVAL));
	assert_non_null(strstr(sevmig_strerror(-E2BIG), "newer"));
	assert_non_null(strstr(sevmig_strerror(-524), "ENOTSUPP"));
	assert_non_null(strstr(sevmig_strerror(-ETIMEDOUT), "PSP"));
	assert_non_null(strstr(sevmig_strerror(-ENOTTY), "SEV"));
	assert_string_equal(sevmig_strerror(-99999), "unknown error");
	assert_string_equal(sevmig_strerror(INT32_MIN + 1), "unknown error");
}

static void test_reasons(void **state)
{
	(void)state;
	for (unsigned int b = 0; b <= 13; b++) {
		const char *s = sevmig_reason_string(UINT64_C(1) << b);

		assert_string_not_equal(s, "unknown reason");
		assert_true(strlen(s) > 20);
	}
	assert_string_equal(sevmig_reason_string(0), "unknown reason");
	assert_string_equal(sevmig_reason_string(3), "unknown reason");
	assert_string_equal(sevmig_reason_string(UINT64_C(1) << 63),
			    "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fw_table_complete),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
