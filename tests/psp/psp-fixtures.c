// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "psp-fixtures.h"
#include "test-util.h"

void fixtures_require(void)
{
	if (!test_sev_certs_dir()) {
		fprintf(stderr, "SEV certificate fixtures not found (SEVMIG_SEV_CERTS): skipping\n");
		exit(TEST_SKIP);
	}
}

uint8_t *fixtures_file(const char *rel, size_t *ret_len)
{
	char path[4096];
	uint8_t *buf;

	snprintf(path, sizeof(path), "%s/%s", test_sev_certs_dir(), rel);
	buf = test_read_file(path, ret_len);
	if (!buf)
		fail_msg("cannot read fixture %s", path);
	return buf;
}

static void copy_exact(const char *rel, uint8_t *dst, size_t want)
{
	size_t len;
	uint8_t *b = fixtures_file(rel, &len);

	assert_int_equal(len, want);
	memcpy(dst, b, len);
	free(b);
}

void fixtures_platform(const char *gen, struct platform_certs *ret)
{
	static const char *const names[3] = { "pek", "oca", "cek" };
	char rel[128];

	snprintf(rel, sizeof(rel), "platform-%s/pdh.cert", gen);
	copy_exact(rel, ret->pdh, SEVMIG_SEV_CERT_LEN);
	for (int i = 0; i < 3; i++) {
		snprintf(rel, sizeof(rel), "platform-%s/%s.cert", gen, names[i]);
		copy_exact(rel, ret->chain + i * SEVMIG_SEV_CERT_LEN,
			   SEVMIG_SEV_CERT_LEN);
	}
}

void fixtures_amd(const char *gen, struct amd_certs *ret)
{
	char rel[128];
	uint8_t *ask, *ark;

	snprintf(rel, sizeof(rel), "amd-%s/ask.cert", gen);
	ask = fixtures_file(rel, &ret->ask_len);
	snprintf(rel, sizeof(rel), "amd-%s/ark.cert", gen);
	ark = fixtures_file(rel, &ret->ark_len);
	ret->len = ret->ask_len + ret->ark_len;
	assert_true(ret->len <= sizeof(ret->chain));
	memcpy(ret->chain, ask, ret->ask_len);
	memcpy(ret->chain + ret->ask_len, ark, ret->ark_len);
	free(ask);
	free(ark);
}
