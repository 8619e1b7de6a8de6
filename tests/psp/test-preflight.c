// SPDX-License-Identifier: MIT
/*
 * Target certificate checks and the migration preflight, on the real Naples
 * and Rome platform certificates and AMD chains, mixed and corrupted here.
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
#include "psp-fixtures.h"
#include "test-util.h"

static struct platform_certs naples, rome;
static struct amd_certs amd_naples, amd_rome, amd_milan;
static const struct fake_call no_calls[1];

#define POLICY_API(maj, min) ((uint32_t)(maj) << 16 | (uint32_t)(min) << 24)

static uint64_t check(const uint8_t *pdh, size_t pdh_len, const uint8_t *chain,
		      size_t chain_len, const uint8_t *amd, size_t amd_len,
		      uint32_t policy)
{
	struct sevmig_target_certs t = {
		.size = sizeof(t), .pdh = pdh, .pdh_len = pdh_len,
		.plat_chain = chain, .plat_chain_len = chain_len,
		.amd_chain = amd, .amd_chain_len = amd_len,
	};
	uint64_t r = 0xdead;

	assert_int_equal(sevmig_cert_check_target(NULL, &t, policy, &r), 0);
	return r;
}

static uint64_t check_pair(const struct platform_certs *p,
			   const struct amd_certs *a, uint32_t policy)
{
	return check(p->pdh, sizeof(p->pdh), p->chain, sizeof(p->chain),
		     a ? a->chain : NULL, a ? a->len : 0, policy);
}

static void test_genuine(void **state)
{
	(void)state;
	assert_int_equal(check_pair(&rome, &amd_rome, 0), 0);
	assert_int_equal(check_pair(&naples, &amd_naples, 0), 0);
	assert_int_equal(check_pair(&rome, NULL, 0), 0);
	assert_int_equal(check_pair(&naples, NULL, 0), 0);
	/* Rome PEK is API 0.22: a policy asking 0.22 passes, 0.23 or 1.0 not. */
	assert_int_equal(check_pair(&rome, &amd_rome, POLICY_API(0, 22)), 0);
	assert_int_equal(check_pair(&rome, &amd_rome, POLICY_API(0, 23)),
			 SEVMIG_REASON_POLICY_API_VERSION);
	assert_int_equal(check_pair(&rome, &amd_rome, POLICY_API(1, 0)),
			 SEVMIG_REASON_POLICY_API_VERSION);
	assert_int_equal(check_pair(&naples, &amd_naples, POLICY_API(0, 17)),
			 SEVMIG_REASON_POLICY_API_VERSION);
}

static void test_mixed_platforms(void **state)
{
	struct fake_sys *fs = fake_sys_new(no_calls, 0);
	struct sevmig_target_certs t = {
		.size = sizeof(t), .pdh = naples.pdh, .pdh_len = 2084,
		.plat_chain = rome.chain, .plat_chain_len = 6252,
		.amd_chain = amd_rome.chain, .amd_chain_len = amd_rome.len,
	};
	uint64_t r;

	(void)state;
	/* A Naples PDH presented with the Rome chain: PDH older than PEK. */
	assert_int_equal(sevmig_cert_check_target(fake_sys_ctx(fs), &t, 0, &r), 0);
	assert_int_equal(r, SEVMIG_REASON_TARGET_CERT_LINK);
	assert_non_null(strstr(fake_sys_last_error(fs), "older than the PEK"));
	fake_sys_done(fs);

	/* The Naples platform with the Rome AMD chain: CEK sig is 2048-bit. */
	fs = fake_sys_new(no_calls, 0);
	t.pdh = naples.pdh;
	t.plat_chain = naples.chain;
	assert_int_equal(sevmig_cert_check_target(fake_sys_ctx(fs), &t, 0, &r), 0);
	assert_int_equal(r, SEVMIG_REASON_TARGET_CERT_LINK);
	assert_non_null(strstr(fake_sys_last_error(fs), "4096-bit ASK"));
	fake_sys_done(fs);

	/* And the reverse: Rome platform, Naples AMD chain. */
	assert_int_equal(check_pair(&rome, &amd_naples, 0),
			 SEVMIG_REASON_TARGET_CERT_LINK);
	/*
	 * Not caught, by design: a Rome platform with the Milan chain has the
	 * same shapes everywhere; only the firmware's signature check sees it.
	 */
	assert_int_equal(check_pair(&rome, &amd_milan, 0), 0);
}

static void test_amd_chain_shapes(void **state)
{
	uint8_t buf[3200];
	struct amd_certs mixed;

	(void)state;
	/* ARK first. */
	memcpy(buf, amd_rome.chain + amd_rome.ask_len, amd_rome.ark_len);
	memcpy(buf + amd_rome.ark_len, amd_rome.chain, amd_rome.ask_len);
	assert_int_equal(check(rome.pdh, 2084, rome.chain, 6252, buf, 3200, 0),
			 SEVMIG_REASON_TARGET_AMD_CHAIN);
	/* Wrong sizes. */
	assert_int_equal(check(rome.pdh, 2084, rome.chain, 6252,
			       amd_rome.chain, 3199, 0),
			 SEVMIG_REASON_TARGET_AMD_CHAIN);
	assert_int_equal(check(rome.pdh, 2084, rome.chain, 6252,
			       amd_rome.chain, 1600, 0),
			 SEVMIG_REASON_TARGET_AMD_CHAIN);
	/* Rome ASK with the Milan ARK: ids do not link. */
	mixed = amd_rome;
	memcpy(mixed.chain + mixed.ask_len, amd_milan.chain + amd_milan.ask_len,
	       amd_milan.ark_len);
	assert_int_equal(check_pair(&rome, &mixed, 0),
			 SEVMIG_REASON_TARGET_CERT_LINK);
	/* The ARK's usage changed to ASK. */
	mixed = amd_rome;
	mixed.chain[mixed.ask_len + 36] = 0x13;
	assert_int_equal(check_pair(&rome, &mixed, 0),
			 SEVMIG_REASON_TARGET_AMD_CHAIN);
	/* A buffer without a length. */
	assert_int_equal(check(rome.pdh, 2084, rome.chain, 6252,
			       amd_rome.chain, 0, 0),
			 SEVMIG_REASON_TARGET_AMD_CHAIN);
}

static void test_platform_chain_shapes(void **state)
{
	uint8_t chain[6252], pdh[2084];

	(void)state;
	/* Truncated PDH and chain. */
	assert_int_equal(check(rome.pdh, 2083, rome.chain, 6252, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_PDH);
	assert_int_equal(check(rome.pdh, 2084, rome.chain, 6251, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_PLAT_CHAIN);
	assert_int_equal(check(NULL, 0, NULL, 0, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_PDH | SEVMIG_REASON_TARGET_PLAT_CHAIN);
	/* The PEK given as PDH (wrong usage, and no ECDH key). */
	assert_int_equal(check(rome.chain, 2084, rome.chain, 6252, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_PDH);
	/* OCA and PEK swapped. */
	memcpy(chain, rome.chain + 2084, 2084);
	memcpy(chain + 2084, rome.chain, 2084);
	memcpy(chain + 4168, rome.chain + 4168, 2084);
	assert_int_equal(check(rome.pdh, 2084, chain, 6252, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_PLAT_CHAIN);
	/* A PDH whose PEK signature claims RSA while the PEK is ECDSA. */
	memcpy(pdh, rome.pdh, 2084);
	pdh[1048] = SEVMIG_CERT_ALGO_RSA_SHA256;
	memset(pdh + 1052 + 144, 0x11, 8);	/* RSA sigs may fill the area */
	assert_int_equal(check(pdh, 2084, rome.chain, 6252, NULL, 0, 0),
			 SEVMIG_REASON_TARGET_CERT_LINK);
	/* A CEK in the chain whose ASK signature is ECDSA: no ASK is EC. */
	memcpy(chain, rome.chain, 6252);
	chain[4168 + 1048] = SEVMIG_CERT_ALGO_ECDSA_SHA256;
	chain[4168 + 1049] = 0;
	memset(chain + 4168 + 1052 + 144, 0, 512 - 144);
	assert_int_equal(check(rome.pdh, 2084, chain, 6252, amd_rome.chain,
			       amd_rome.len, 0),
			 SEVMIG_REASON_TARGET_CERT_LINK);
}

static void test_check_target_args(void **state)
{
	struct sevmig_target_certs t = { .size = sizeof(t) };
	uint64_t r = 7;

	(void)state;
	assert_int_equal(sevmig_cert_check_target(NULL, NULL, 0, &r), -EINVAL);
	assert_int_equal(sevmig_cert_check_target(NULL, &t, 0, NULL), -EINVAL);
	t.flags = 1;
	assert_int_equal(sevmig_cert_check_target(NULL, &t, 0, &r), -EINVAL);
	t.flags = 0;
	t.size = 8;
	assert_int_equal(sevmig_cert_check_target(NULL, &t, 0, &r), -EINVAL);
	assert_int_equal(r, 7);
}

static int preflight(uint32_t policy, uint32_t es, const uint8_t *our_oca,
		     const struct platform_certs *p, const struct amd_certs *a,
		     uint32_t api_major, uint32_t api_minor, uint64_t *r)
{
	struct sevmig_target_certs t = {
		.size = sizeof(t), .pdh = p->pdh, .pdh_len = sizeof(p->pdh),
		.plat_chain = p->chain, .plat_chain_len = sizeof(p->chain),
		.amd_chain = a ? a->chain : NULL, .amd_chain_len = a ? a->len : 0,
	};
	struct sevmig_preflight_args args = {
		.size = sizeof(args), .policy = policy, .guest_es = es,
		.our_oca = our_oca, .our_oca_len = our_oca ? 2084 : 0,
		.target = &t, .target_api_major = api_major,
		.target_api_minor = api_minor,
	};

	*r = 0xdead;
	return sevmig_preflight(NULL, &args, r);
}

static void test_preflight(void **state)
{
	const uint8_t *rome_oca = rome.chain + 2084;
	const uint8_t *naples_oca = naples.chain + 2084;
	static const struct {
		uint32_t policy, es;
		bool naples_target, with_amd, naples_oca;
		uint32_t api_major, api_minor;
		uint64_t want;
	} cases[] = {
		{ 0, 0, false, true, false, 0, 0, 0 },
		{ 0x01, 0, false, false, false, 0, 0, 0 },	/* NODBG only */
		{ 0x02, 0, false, false, false, 0, 0, 0 },	/* NOKS only */
		{ 0x08, 0, false, true, false, 0, 0, SEVMIG_REASON_POLICY_NOSEND },
		{ 0x04, 0, false, true, false, 0, 0, SEVMIG_REASON_ES_NO_VMSA_MIGRATION },
		{ 0, 1, false, true, false, 0, 0, SEVMIG_REASON_ES_NO_VMSA_MIGRATION },
		{ 0x10, 0, false, true, false, 0, 0, 0 },	/* DOMAIN, same OCA */
		{ 0x10, 0, false, true, true, 0, 0, SEVMIG_REASON_POLICY_DOMAIN },
		{ 0x20, 0, false, true, false, 0, 0, 0 },	/* SEV with chain */
		{ 0x20, 0, false, false, false, 0, 0, SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN },
		{ 0x40, 0, false, true, false, 0, 0, SEVMIG_REASON_POLICY_RESERVED },
		{ 0x8000, 0, false, true, false, 0, 0, SEVMIG_REASON_POLICY_RESERVED },
		/* Explicit target API older than the policy (PEK says 0.22). */
		{ POLICY_API(0, 22), 0, false, true, false, 0, 21, SEVMIG_REASON_POLICY_API_VERSION },
		{ POLICY_API(0, 22), 0, false, true, false, 0, 24, 0 },
		{ POLICY_API(0, 23), 0, false, true, false, 0, 0, SEVMIG_REASON_POLICY_API_VERSION },
		/* Naples target with the Rome AMD chain and a policy asking SEV. */
		{ 0x20, 0, true, true, true, 0, 0, SEVMIG_REASON_TARGET_CERT_LINK },
		/* Everything at once. */
		{ 0x3c | 0x80 | POLICY_API(1, 0), 1, false, false, true, 0, 0,
		  SEVMIG_REASON_POLICY_NOSEND | SEVMIG_REASON_ES_NO_VMSA_MIGRATION |
		  SEVMIG_REASON_POLICY_DOMAIN | SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN |
		  SEVMIG_REASON_POLICY_RESERVED | SEVMIG_REASON_POLICY_API_VERSION },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t r;

		assert_int_equal(preflight(cases[i].policy, cases[i].es,
					   cases[i].naples_oca ? naples_oca : rome_oca,
					   cases[i].naples_target ? &naples : &rome,
					   cases[i].with_amd ? &amd_rome : NULL,
					   cases[i].api_major, cases[i].api_minor,
					   &r), 0);
		if (r != cases[i].want)
			fail_msg("case %zu: reasons 0x%llx, want 0x%llx", i,
				 (unsigned long long)r,
				 (unsigned long long)cases[i].want);
	}
}

static void test_preflight_logs_every_reason(void **state)
{
	struct fake_sys *fs = fake_sys_new(no_calls, 0);
	struct sevmig_target_certs t = {
		.size = sizeof(t), .pdh = rome.pdh, .pdh_len = 2084,
		.plat_chain = rome.chain, .plat_chain_len = 6252,
	};
	struct sevmig_preflight_args args = {
		.size = sizeof(args), .policy = 0x28, .target = &t,
	};
	uint64_t r;

	(void)state;
	assert_int_equal(sevmig_preflight(fake_sys_ctx(fs), &args, &r), 0);
	assert_int_equal(r, SEVMIG_REASON_POLICY_NOSEND |
			    SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN);
	assert_non_null(strstr(fake_sys_last_error(fs), "no AMD chain"));
	fake_sys_done(fs);
}

static void test_preflight_args(void **state)
{
	struct sevmig_target_certs t = { .size = sizeof(t) };
	struct sevmig_preflight_args args = { .size = sizeof(args), .target = &t };
	uint64_t r = 5;

	(void)state;
	assert_int_equal(sevmig_preflight(NULL, NULL, &r), -EINVAL);
	assert_int_equal(sevmig_preflight(NULL, &args, NULL), -EINVAL);
	args.flags = 1;
	assert_int_equal(sevmig_preflight(NULL, &args, &r), -EINVAL);
	args.flags = 0;
	args.target = NULL;
	assert_int_equal(sevmig_preflight(NULL, &args, &r), -EINVAL);
	args.target = &t;
	/* DOMAIN without our OCA cannot be answered. */
	args.policy = SEVMIG_GUEST_POLICY_DOMAIN;
	assert_int_equal(sevmig_preflight(NULL, &args, &r), -EINVAL);
	args.policy = 0;
	t.flags = 2;
	assert_int_equal(sevmig_preflight(NULL, &args, &r), -EINVAL);
	assert_int_equal(r, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_genuine),
		cmocka_unit_test(test_mixed_platforms),
		cmocka_unit_test(test_amd_chain_shapes),
		cmocka_unit_test(test_platform_chain_shapes),
		cmocka_unit_test(test_check_target_args),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_preflight_logs_every_reason),
		cmocka_unit_test(test_preflight_args),
	};

	fixtures_require();
	fixtures_platform("naples", &naples);
	fixtures_platform("rome", &rome);
	fixtures_amd("naples", &amd_naples);
	fixtures_amd("rome", &amd_rome);
	fixtures_amd("milan", &amd_milan);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
