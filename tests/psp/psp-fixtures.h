/* SPDX-License-Identifier: MIT */
/* Real SEV certificates from ../shared/fixtures/sev-certs, read at run time. */
#ifndef SEVMIG_TEST_PSP_FIXTURES_H
#define SEVMIG_TEST_PSP_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "uapi/sev-cert.h"

struct platform_certs {
	uint8_t pdh[SEVMIG_SEV_CERT_LEN];
	uint8_t chain[SEVMIG_PLAT_CHAIN_LEN];	/* PEK || OCA || CEK */
};

struct amd_certs {
	uint8_t chain[AMD_CHAIN_4K_4K];		/* ASK || ARK */
	size_t len, ask_len, ark_len;
};

/* Exits 77 (skip) when the fixture folder is absent. */
void fixtures_require(void);
/* "naples" or "rome"; fails the test on a missing file. */
void fixtures_platform(const char *gen, struct platform_certs *ret);
/* "naples", "rome", "milan", "genoa", "turin". */
void fixtures_amd(const char *gen, struct amd_certs *ret);
/* One file under the fixture folder, e.g. "amd-rome/ask.cert"; malloc'd. */
uint8_t *fixtures_file(const char *rel, size_t *ret_len);

#endif
