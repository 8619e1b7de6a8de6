// SPDX-License-Identifier: MIT
/*
 * Certificate parsing and target checks on real certificates (Naples and
 * Rome platforms, AMD chains of five generations) and on corrupted copies
 * made here. Skips (77) without the fixture folder.
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

static const struct fake_call no_calls[1];

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static int parse(const void *buf, size_t len, struct sevmig_cert_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return sevmig_cert_parse(NULL, buf, len, info, 0);
}

/* Parse expecting -EBADMSG and a log line containing @words. */
static void expect_bad(const void *buf, size_t len, const char *words)
{
	struct fake_sys *fs = fake_sys_new(no_calls, 0);
	struct sevmig_cert_info info;

	memset(&info, 0x5a, sizeof(info));
	info.size = sizeof(info);
	assert_int_equal(sevmig_cert_parse(fake_sys_ctx(fs), buf, len, &info, 0),
			 -EBADMSG);
	assert_int_equal(info.type, 0x5a5a5a5au);	/* untouched */
	if (!strstr(fake_sys_last_error(fs), words))
		fail_msg("expected \"%s\" in \"%s\"", words,
			 fake_sys_last_error(fs));
	fake_sys_done(fs);
}

static void test_platform_certs(void **state)
{
	static const struct {
		const char *file;
		uint32_t usage, algo, key_type, major, minor, sig1, sig2;
	} cases[] = {
		{ "platform-rome/pdh.cert", 0x1003, 0x3, SEVMIG_CERT_KEY_ECDH, 0, 22, 0x1002, 0x1000 },
		{ "platform-rome/pek.cert", 0x1002, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 22, 0x1001, 0x1004 },
		{ "platform-rome/oca.cert", 0x1001, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 22, 0x1001, 0x1000 },
		{ "platform-rome/cek.cert", 0x1004, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 14, 0x13, 0x1000 },
		{ "platform-naples/pdh.cert", 0x1003, 0x3, SEVMIG_CERT_KEY_ECDH, 0, 16, 0x1002, 0x1000 },
		{ "platform-naples/pek.cert", 0x1002, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 16, 0x1001, 0x1004 },
		{ "platform-naples/oca.cert", 0x1001, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 16, 0x1001, 0x1000 },
		{ "platform-naples/cek.cert", 0x1004, 0x2, SEVMIG_CERT_KEY_ECDSA, 0, 14, 0x13, 0x1000 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sevmig_cert_info info;
		size_t len;
		uint8_t *b = fixtures_file(cases[i].file, &len);

		assert_int_equal(parse(b, len, &info), 0);
		assert_int_equal(info.size, sizeof(info));
		assert_int_equal(info.type, SEVMIG_CERT_SEV);
		assert_int_equal(info.version, 1);
		assert_int_equal(info.length, 2084);
		assert_int_equal(info.usage, cases[i].usage);
		assert_int_equal(info.algo, cases[i].algo);
		assert_int_equal(info.key_type, cases[i].key_type);
		assert_int_equal(info.curve, SEVMIG_CERT_CURVE_P384);
		assert_int_equal(info.key_bits, 384);
		assert_int_equal(info.api_major, cases[i].major);
		assert_int_equal(info.api_minor, cases[i].minor);
		assert_int_equal(info.sig1_usage, cases[i].sig1);
		assert_int_equal(info.sig2_usage, cases[i].sig2);
		for (int k = 0; k < 16; k++) {
			assert_int_equal(info.key_id[k], 0);	/* no ids in SEV certs */
			assert_int_equal(info.certifying_id[k], 0);
		}
		free(b);
	}
}

static void test_cek_signature_sizes(void **state)
{
	struct sevmig_cert_info info;
	size_t len;
	uint8_t *b;

	(void)state;
	/* Naples: ASK is RSA-2048 (SHA-256); Rome: RSA-4096 (SHA-384). */
	b = fixtures_file("platform-naples/cek.cert", &len);
	assert_int_equal(parse(b, len, &info), 0);
	assert_int_equal(info.sig1_algo, SEVMIG_CERT_ALGO_RSA_SHA256);
	assert_true(info.sig_bytes > 248 && info.sig_bytes <= 256);
	free(b);
	b = fixtures_file("platform-rome/cek.cert", &len);
	assert_int_equal(parse(b, len, &info), 0);
	assert_int_equal(info.sig1_algo, SEVMIG_CERT_ALGO_RSA_SHA384);
	assert_true(info.sig_bytes > 504 && info.sig_bytes <= 512);
	free(b);
}

static void test_amd_certs(void **state)
{
	static const struct {
		const char *gen;
		uint32_t bits;
		size_t len;
	} gens[] = {
		{ "naples", 2048, 832 }, { "rome", 4096, 1600 },
		{ "milan", 4096, 1600 }, { "genoa", 4096, 1600 },
		{ "turin", 4096, 1600 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(gens); i++) {
		struct sevmig_cert_info ask, ark;
		struct amd_certs c;

		fixtures_amd(gens[i].gen, &c);
		assert_int_equal(c.ask_len, gens[i].len);
		assert_int_equal(parse(c.chain, c.ask_len, &ask), 0);
		assert_int_equal(parse(c.chain + c.ask_len, c.ark_len, &ark), 0);
		assert_int_equal(ask.type, SEVMIG_CERT_AMD);
		assert_int_equal(ask.usage, SEVMIG_CERT_USAGE_ASK);
		assert_int_equal(ark.usage, SEVMIG_CERT_USAGE_ARK);
		assert_int_equal(ask.key_type, SEVMIG_CERT_KEY_RSA);
		assert_int_equal(ask.key_bits, gens[i].bits);
		assert_int_equal(ark.key_bits, gens[i].bits);
		assert_int_equal(ask.sig_bytes, gens[i].bits / 8);
		assert_int_equal(ask.length, gens[i].len);
		assert_int_equal(ask.algo, 0);
		assert_int_equal(ask.api_major, 0);
		assert_memory_equal(ark.key_id, ark.certifying_id, 16);
		assert_memory_equal(ask.certifying_id, ark.key_id, 16);
		assert_memory_not_equal(ask.key_id, ask.certifying_id, 16);
		/* The key id is the raw bytes at offset 4 of the header. */
		assert_memory_equal(ask.key_id, c.chain + 4, 16);
		/* A whole chain is not one certificate. */
		expect_bad(c.chain, c.len, "cannot hold");
	}
}

static void test_record_rules(void **state)
{
	struct {
		struct sevmig_cert_info info;
		uint8_t extra[8];
	} big;
	struct sevmig_cert_info info;
	size_t len;
	uint8_t *b = fixtures_file("platform-rome/pdh.cert", &len);

	(void)state;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	assert_int_equal(sevmig_cert_parse(NULL, NULL, len, &info, 0), -EINVAL);
	assert_int_equal(sevmig_cert_parse(NULL, b, len, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_cert_parse(NULL, b, len, &info, 1), -EINVAL);
	info.size = 4;
	assert_int_equal(sevmig_cert_parse(NULL, b, len, &info, 0), -EINVAL);
	memset(&big, 0, sizeof(big));
	big.info.size = sizeof(big);
	big.extra[7] = 1;
	assert_int_equal(sevmig_cert_parse(NULL, b, len, &big.info, 0), -E2BIG);
	big.extra[7] = 0;
	assert_int_equal(sevmig_cert_parse(NULL, b, len, &big.info, 0), 0);
	assert_int_equal(big.info.size, sizeof(info));
	/* The first published size is the smallest accepted. */
	info.size = SEVMIG_CERT_INFO_SIZE_VER0 - 4;
	assert_int_equal(sevmig_cert_parse(NULL, b, len, &info, 0), -EINVAL);
	assert_int_equal(sizeof(info), SEVMIG_CERT_INFO_SIZE_VER0);
	free(b);
}

static void test_corrupt_sev(void **state)
{
	size_t len;
	uint8_t *orig = fixtures_file("platform-rome/pdh.cert", &len);
	uint8_t *pek = fixtures_file("platform-rome/pek.cert", &len);
	uint8_t b[2084];

	(void)state;
	expect_bad(orig, 2083, "2083 bytes");
	expect_bad(orig, 100, "100 bytes");
	memcpy(b, orig, len);
	wr32(b, 2);
	expect_bad(b, len, "version 2");
	memcpy(b, orig, len);
	b[6] = 1;
	expect_bad(b, len, "reserved header");
	memcpy(b, orig, len);
	wr32(b + 8, 0x1005);
	expect_bad(b, len, "usage 0x1005");
	memcpy(b, orig, len);
	wr32(b + 8, SEVMIG_CERT_USAGE_ASK);
	expect_bad(b, len, "usage 0x13");
	memcpy(b, orig, len);
	wr32(b + 12, SEVMIG_CERT_ALGO_ECDSA_SHA256);	/* PDH must be ECDH */
	expect_bad(b, len, "must hold an ECDH key");
	memcpy(b, orig, len);
	wr32(b + 12, 0x7);
	expect_bad(b, len, "unknown key algorithm");
	memcpy(b, pek, len);
	wr32(b + 12, SEVMIG_CERT_ALGO_ECDH_SHA256);	/* a signer with ECDH */
	expect_bad(b, len, "cannot be ECDH");
	memcpy(b, orig, len);
	wr32(b + 16, 3);				/* curve */
	expect_bad(b, len, "curve 3");
	memcpy(b, orig, len);
	b[16 + 4 + 60] = 1;				/* qx past 48 bytes */
	expect_bad(b, len, "EC key data past");
	memcpy(b, orig, len);
	b[1000] = 1;					/* key area padding */
	expect_bad(b, len, "EC key data past");
	memcpy(b, orig, len);
	wr32(b + 1044, SEVMIG_CERT_USAGE_OCA);		/* PDH signed by the OCA? */
	expect_bad(b, len, "signed by PEK only");
	memcpy(b, orig, len);
	wr32(b + 1044, 0x1003);				/* PDH cannot sign */
	expect_bad(b, len, "signs no SEV certificate");
	memcpy(b, orig, len);
	wr32(b + 1048, SEVMIG_CERT_ALGO_ECDH_SHA256);	/* not a signature algo */
	expect_bad(b, len, "not a signature algorithm");
	memcpy(b, orig, len);
	b[1052 + 200] = 1;				/* ECDSA sig padding */
	expect_bad(b, len, "past r and s");
	memcpy(b, orig, len);
	memset(b + 1052, 0, 512);
	expect_bad(b, len, "is empty");
	memcpy(b, orig, len);
	b[1572 + 3] = 1;				/* unused sig2 carries data */
	expect_bad(b, len, "marked unused");
	memcpy(b, pek, len);
	wr32(b + 1564, SEVMIG_CERT_USAGE_NONE);		/* PEK without CEK sig */
	wr32(b + 1568, 0);
	memset(b + 1572, 0, 512);
	expect_bad(b, len, "OCA and the CEK");
	free(orig);
	free(pek);
}

static void test_corrupt_amd(void **state)
{
	struct amd_certs c;
	uint8_t b[1600];

	(void)state;
	fixtures_amd("rome", &c);
	expect_bad(c.chain, 63, "shorter than the 64-byte");
	expect_bad(c.chain, c.ask_len - 1, "cannot hold");
	/*
	 * Not caught: a Rome ASK cut to 1344 bytes reads as a whole ASK with a
	 * 2048-bit signature; only the chain (or the firmware) can tell.
	 */
	expect_bad(c.chain, c.ask_len - 100, "cannot hold");
	memcpy(b, c.chain, c.ask_len);
	wr32(b, 2);
	expect_bad(b, c.ask_len, "version 2");
	memcpy(b, c.chain, c.ask_len);
	wr32(b + 36, 0x14);
	expect_bad(b, c.ask_len, "usage 0x14");
	memcpy(b, c.chain, c.ask_len);
	b[44] = 1;
	expect_bad(b, c.ask_len, "reserved AMD header");
	memcpy(b, c.chain, c.ask_len);
	wr32(b + 60, 3072);
	expect_bad(b, c.ask_len, "3072 bits");
	memcpy(b, c.chain + c.ask_len, c.ark_len);	/* ARK, other certifier */
	b[20] ^= 1;
	expect_bad(b, c.ark_len, "certifies itself");
	memcpy(b, c.chain, c.ask_len);			/* ASK claiming itself */
	memcpy(b + 20, b + 4, 16);
	expect_bad(b, c.ask_len, "equals its own key id");
	memcpy(b, c.chain, c.ask_len);
	memset(b + 64 + 512, 0, 512);			/* zero modulus */
	expect_bad(b, c.ask_len, "all zero");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_certs),
		cmocka_unit_test(test_cek_signature_sizes),
		cmocka_unit_test(test_amd_certs),
		cmocka_unit_test(test_record_rules),
		cmocka_unit_test(test_corrupt_sev),
		cmocka_unit_test(test_corrupt_amd),
	};

	fixtures_require();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
