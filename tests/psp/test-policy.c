// SPDX-License-Identifier: MIT
/* Guest policy decoding and the reason sentences of the PSP layer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "test-util.h"

static void test_decode(void **state)
{
	static const struct {
		uint32_t policy, flags, reserved, major, minor;
	} cases[] = {
		{ 0x00000000, 0, 0, 0, 0 },
		{ 0x00000001, SEVMIG_GUEST_POLICY_NODBG, 0, 0, 0 },
		{ 0x00000033, 0x33, 0, 0, 0 },
		{ 0x0000003f, 0x3f, 0, 0, 0 },
		{ 0x16000005, 0x05, 0, 0, 0x16 },	/* API 0.22 */
		{ 0x00010008, SEVMIG_GUEST_POLICY_NOSEND, 0, 1, 0 },
		{ 0x0000ffc0, 0, 0xffc0, 0, 0 },
		{ 0x00000040, 0, 0x40, 0, 0 },
		{ 0x00008000, 0, 0x8000, 0, 0 },
		{ 0xffffffff, 0x3f, 0xffc0, 0xff, 0xff },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sevmig_policy_info info = { .size = sizeof(info) };

		assert_int_equal(sevmig_policy_decode(cases[i].policy, &info), 0);
		assert_int_equal(info.size, sizeof(info));
		assert_int_equal(info.policy, cases[i].policy);
		assert_int_equal(info.flags, cases[i].flags);
		assert_int_equal(info.reserved, cases[i].reserved);
		assert_int_equal(info.api_major, cases[i].major);
		assert_int_equal(info.api_minor, cases[i].minor);
	}
}

static void test_decode_sizes(void **state)
{
	struct {
		struct sevmig_policy_info info;
		uint32_t extra;
	} big;
	struct sevmig_policy_info info;

	(void)state;
	assert_int_equal(sevmig_policy_decode(1, NULL), -EINVAL);
	memset(&info, 0xaa, sizeof(info));
	info.size = 8;
	assert_int_equal(sevmig_policy_decode(1, &info), -EINVAL);
	assert_int_equal(info.policy, 0xaaaaaaaau);	/* untouched */
	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.extra = 1;
	assert_int_equal(sevmig_policy_decode(1, &big.info), -E2BIG);
	big.extra = 0;
	assert_int_equal(sevmig_policy_decode(1, &big.info), 0);
	assert_int_equal(big.info.size, sizeof(info));
	assert_int_equal(big.info.flags, 1);
}

static void test_bit_names(void **state)
{
	static const char *const names[] = {
		"NODBG", "NOKS", "ES", "NOSEND", "DOMAIN", "SEV"
	};

	(void)state;
	for (unsigned int b = 0; b < 6; b++) {
		assert_string_equal(sevmig_policy_bit_name(1u << b), names[b]);
		assert_non_null(sevmig_policy_bit_describe(1u << b));
		assert_null(strstr(sevmig_policy_bit_describe(1u << b),
				   "reserved"));
	}
	for (unsigned int b = 6; b < 32; b++)
		assert_null(sevmig_policy_bit_name(1u << b));
	for (unsigned int b = 6; b < 16; b++)
		assert_non_null(strstr(sevmig_policy_bit_describe(1u << b),
				       "reserved"));
	assert_non_null(strstr(sevmig_policy_bit_describe(1u << 16), "major"));
	assert_non_null(strstr(sevmig_policy_bit_describe(1u << 31), "minor"));
	assert_null(sevmig_policy_bit_name(0));
	assert_null(sevmig_policy_bit_name(3));
	assert_string_equal(sevmig_policy_bit_describe(3),
			    "not a single policy bit");
	assert_non_null(strstr(sevmig_policy_bit_describe(SEVMIG_GUEST_POLICY_ES),
			       "hosts"));
}

static void test_reason_sentences(void **state)
{
	static const uint64_t bits[] = {
		SEVMIG_REASON_POLICY_NOSEND, SEVMIG_REASON_POLICY_DOMAIN,
		SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN,
		SEVMIG_REASON_POLICY_API_VERSION, SEVMIG_REASON_POLICY_RESERVED,
		SEVMIG_REASON_TARGET_PDH, SEVMIG_REASON_TARGET_PLAT_CHAIN,
		SEVMIG_REASON_TARGET_AMD_CHAIN, SEVMIG_REASON_TARGET_CERT_LINK,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bits); i++) {
		const char *s = sevmig_reason_string(bits[i]);

		assert_string_not_equal(s, "unknown reason");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(s, sevmig_reason_string(bits[j]));
	}
	assert_non_null(strstr(sevmig_reason_string(SEVMIG_REASON_POLICY_NOSEND),
			       "NOSEND"));
	assert_non_null(strstr(sevmig_reason_string(SEVMIG_REASON_POLICY_DOMAIN),
			       "OCA"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_sizes),
		cmocka_unit_test(test_bit_names),
		cmocka_unit_test(test_reason_sentences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
