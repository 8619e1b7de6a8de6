// SPDX-License-Identifier: MIT
/*
 * CRC32C, the stream's record checksum: the standard check value, the
 * RFC 3720 (iSCSI) test vectors, continuation, and the hardware path equal
 * to the table path at every length and alignment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static void test_vectors(void **state)
{
	unsigned char buf[32];

	(void)state;
	assert_int_equal(sevmig_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(sevmig_crc32c(0, NULL, 0), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(sevmig_crc32c(0, buf, 32), 0x8a9136aau);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(sevmig_crc32c(0, buf, 32), 0x62a8ab43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)i;
	assert_int_equal(sevmig_crc32c(0, buf, 32), 0x46dd794eu);
	for (int i = 0; i < 32; i++)
		buf[i] = (unsigned char)(31 - i);
	assert_int_equal(sevmig_crc32c(0, buf, 32), 0x113fdb5cu);
	assert_int_equal(sevmig_crc32c_soft(0, "123456789", 9), 0xe3069283u);
}

static void test_paths_agree(void **state)
{
	static unsigned char buf[3 * 8192 * 2 + 64];
	uint64_t x = 1;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (unsigned char)(x >> 56);
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t len = 0; len < 200; len += 7)
			assert_int_equal(sevmig_crc32c(0, buf + off, len),
					 sevmig_crc32c_soft(0, buf + off, len));
	/* Continuation: CRC(a || b) from CRC(a). */
	assert_int_equal(sevmig_crc32c(sevmig_crc32c(0, buf, 1000), buf + 1000,
				       3000),
			 sevmig_crc32c(0, buf, 4000));
	/* Lengths that take the three-lane paths, at odd alignments. */
	for (size_t len = 700; len < sizeof(buf) - 16; len = len * 3 / 2 + 13)
		for (size_t off = 0; off < 3; off++)
			assert_int_equal(sevmig_crc32c(0, buf + off, len),
					 sevmig_crc32c_soft(0, buf + off, len));
	assert_int_equal(sevmig_crc32c(0, buf, 4096),
			 sevmig_crc32c_soft(0, buf, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_paths_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
