// SPDX-License-Identifier: MIT
/*
 * Proof against real data: the simulator's certificate checks verify the
 * real Naples and Rome chains (ARK -> ASK -> CEK -> PEK -> PDH, and
 * OCA -> PEK) from ../shared/fixtures/sev-certs and reject crossed chains.
 * SEND_START with the SEV policy bit accepts a real chain once its ARK is
 * trusted, and rejects a crossed one with the firmware status. Skips (77)
 * when the certificate folder is absent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

struct blob {
	uint8_t *p;
	size_t len;
};

struct platform {
	struct blob ark, ask, cek, oca, pek, pdh;
};

static const char *dir;
static struct platform naples, rome;

static struct blob load(const char *sub, const char *name)
{
	char path[4096];
	struct blob b = { 0 };

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	b.p = test_read_file(path, &b.len);
	if (!b.p)
		fail_msg("cannot read %s", path);
	return b;
}

static void load_platform(struct platform *p, const char *gen)
{
	char amd[64], plat[64];

	snprintf(amd, sizeof(amd), "amd-%s", gen);
	snprintf(plat, sizeof(plat), "platform-%s", gen);
	p->ark = load(amd, "ark.cert");
	p->ask = load(amd, "ask.cert");
	p->cek = load(plat, "cek.cert");
	p->oca = load(plat, "oca.cert");
	p->pek = load(plat, "pek.cert");
	p->pdh = load(plat, "pdh.cert");
}

static void free_platform(struct platform *p)
{
	free(p->ark.p);
	free(p->ask.p);
	free(p->cek.p);
	free(p->oca.p);
	free(p->pek.p);
	free(p->pdh.p);
}

static int verify(struct blob c, struct blob s)
{
	return sevmig_sim_cert_verify(c.p, c.len, s.p, s.len, 0);
}

static void check_chain(const struct platform *p)
{
	assert_int_equal(verify(p->ark, p->ark), 0);
	assert_int_equal(verify(p->ask, p->ark), 0);
	assert_int_equal(verify(p->cek, p->ask), 0);
	assert_int_equal(verify(p->pek, p->cek), 0);
	assert_int_equal(verify(p->oca, p->oca), 0);
	assert_int_equal(verify(p->pek, p->oca), 0);
	assert_int_equal(verify(p->pdh, p->pek), 0);
}

static void test_naples_chain(void **state)
{
	(void)state;
	assert_int_equal(naples.ark.len, 832);
	check_chain(&naples);
}

static void test_rome_chain(void **state)
{
	(void)state;
	assert_int_equal(rome.ark.len, 1600);
	check_chain(&rome);
}

static void test_other_generations(void **state)
{
	static const char *const gens[] = { "amd-milan", "amd-genoa",
					    "amd-turin" };

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(gens); i++) {
		struct blob ark = load(gens[i], "ark.cert");
		struct blob ask = load(gens[i], "ask.cert");

		assert_int_equal(verify(ark, ark), 0);
		assert_int_equal(verify(ask, ark), 0);
		/* Rome's ARK did not sign this generation's ASK. */
		assert_int_equal(verify(ask, rome.ark), -ENOKEY);
		free(ark.p);
		free(ask.p);
	}
}

static void test_crossed_chains(void **state)
{
	(void)state;
	/* A Naples PDH under the Rome chain and vice versa. */
	assert_int_equal(verify(naples.pdh, rome.pek), -EKEYREJECTED);
	assert_int_equal(verify(rome.pdh, naples.pek), -EKEYREJECTED);
	assert_int_equal(verify(naples.pek, rome.cek), -EKEYREJECTED);
	assert_int_equal(verify(naples.pek, rome.oca), -EKEYREJECTED);
	assert_int_equal(verify(rome.cek, naples.ask), -EKEYREJECTED);
	/* AMD certs name their signer: the wrong ARK is not even tried. */
	assert_int_equal(verify(naples.ask, rome.ark), -ENOKEY);
	/* No signature slot for that usage: the CEK did not sign the PDH. */
	assert_int_equal(verify(rome.pdh, rome.cek), -ENOKEY);
	/* An ECDH key signs nothing. */
	assert_int_equal(verify(rome.pek, rome.pdh), -EINVAL);
}

static void test_flipped_bits(void **state)
{
	uint8_t pek[SEVMIG_SEV_CERT_LEN];
	struct blob b = { pek, sizeof(pek) };

	(void)state;
	memcpy(pek, rome.pek.p, sizeof(pek));
	pek[100] ^= 1; /* public key */
	assert_int_equal(verify(b, rome.cek), -EKEYREJECTED);
	memcpy(pek, rome.pek.p, sizeof(pek));
	pek[1564 + 8 + 3] ^= 1; /* sig2 (CEK) r */
	assert_int_equal(verify(b, rome.cek), -EKEYREJECTED);
	assert_int_equal(verify(b, rome.oca), 0); /* sig1 untouched */
	assert_int_equal(sevmig_sim_cert_verify(rome.pek.p, 100, rome.cek.p,
						rome.cek.len, 0), -EINVAL);
	assert_int_equal(sevmig_sim_cert_verify(rome.pek.p, rome.pek.len,
						rome.cek.p, rome.cek.len, 1),
			 -EINVAL);
}

/* SEND_START (policy SEV) against real chains on a simulated source. */
static void test_send_start_real_chain(void **state)
{
	uint8_t chain[SEVMIG_PLAT_CHAIN_LEN], amd[AMD_CHAIN_4K_4K];
	uint8_t session[SEVMIG_SESSION_LEN];
	struct sevmig_sim *sim = th_world(SEVMIG_SIM_MODE_MEMORY);
	uint32_t policy = SEVMIG_GUEST_POLICY_SEV, err = 0;
	uint8_t *mem = th_pages(1);
	struct th a;
	int vm;

	(void)state;
	th_open(&a, sim, NULL);
	vm = th_vm(&a, KVM_X86_DEFAULT_VM);
	th_launch(&a, vm, policy, mem, 4096);
	memcpy(chain, rome.pek.p, SEVMIG_SEV_CERT_LEN);
	memcpy(chain + SEVMIG_SEV_CERT_LEN, rome.oca.p, SEVMIG_SEV_CERT_LEN);
	memcpy(chain + 2 * SEVMIG_SEV_CERT_LEN, rome.cek.p,
	       SEVMIG_SEV_CERT_LEN);
	memcpy(amd, rome.ask.p, rome.ask.len);
	memcpy(amd + rome.ask.len, rome.ark.p, rome.ark.len);
	/* The real ARK is not one of the simulator's roots yet. */
	assert_int_equal(th_send_start(&a, vm, rome.pdh.p, chain, amd,
				       AMD_CHAIN_4K_4K, session, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_INVALID_CERTIFICATE);
	assert_int_equal(sevmig_sim_trust_ark(sim, rome.ask.p, rome.ask.len, 0),
			 -EINVAL);
	assert_int_equal(sevmig_sim_trust_ark(sim, rome.ark.p, rome.ark.len, 0),
			 0);
	/* A Naples PDH with the Rome chain: the PEK did not sign it. */
	assert_int_equal(th_send_start(&a, vm, naples.pdh.p, chain, amd,
				       AMD_CHAIN_4K_4K, session, &err),
			 -EIO);
	assert_int_equal(err, SEV_RET_BAD_SIGNATURE);
	/* A chain length the firmware does not know. */
	assert_int_equal(th_send_start(&a, vm, rome.pdh.p, chain, amd,
				       AMD_CHAIN_4K_4K - 1, session,
				       &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(th_state(&a, vm), SEV_GSTATE_RUNNING);
	/* The genuine Rome chain passes; the session is built for its PDH. */
	assert_int_equal(th_send_start(&a, vm, rome.pdh.p, chain, amd,
				       AMD_CHAIN_4K_4K, session, &err), 0);
	assert_int_equal(th_state(&a, vm), SEV_GSTATE_SUPDATE);
	a.ops.close(a.ops.opaque, vm);
	th_close(&a);
	th_free_pages(mem, 1);
	sevmig_sim_free(sim);
}

/* The simulator's own certificates have the real formats and verify. */
static void test_sim_chain(void **state)
{
	uint8_t amd[AMD_CHAIN_2K_2K], c[4][SEVMIG_SEV_CERT_LEN];
	struct sevmig_sim *sim = th_world(SEVMIG_SIM_MODE_MEMORY);
	struct sevmig_sim_host *h = NULL;
	size_t len = 0, half;

	(void)state;
	assert_int_equal(sevmig_sim_host_new(sim, NULL, &h), 0);
	assert_int_equal(sevmig_sim_amd_chain(sim, NULL, 0, &len), 0);
	assert_int_equal(len, AMD_CHAIN_2K_2K);
	assert_int_equal(sevmig_sim_amd_chain(sim, amd, 10, &len), -ENOSPC);
	assert_int_equal(sevmig_sim_amd_chain(sim, amd, sizeof(amd), &len), 0);
	half = len / 2;
	assert_int_equal(sevmig_sim_cert_verify(amd + half, half, amd + half,
						half, 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(amd, half, amd + half, half, 0),
			 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_OCA, c[0],
					      sizeof(c[0])), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_CEK, c[1],
					      sizeof(c[1])), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_PEK, c[2],
					      sizeof(c[2])), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_PDH, c[3],
					      sizeof(c[3])), 0);
	assert_int_equal(sevmig_sim_host_cert(h, 0x13, c[3], sizeof(c[3])),
			 -EINVAL);
	assert_int_equal(sevmig_sim_cert_verify(c[0], sizeof(c[0]), c[0],
						sizeof(c[0]), 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(c[1], sizeof(c[1]), amd, half,
						0), 0);
	assert_int_equal(sevmig_sim_cert_verify(c[2], sizeof(c[2]), c[1],
						sizeof(c[1]), 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(c[2], sizeof(c[2]), c[0],
						sizeof(c[0]), 0), 0);
	assert_int_equal(sevmig_sim_cert_verify(c[3], sizeof(c[3]), c[2],
						sizeof(c[2]), 0), 0);
	/* And not under a real chain. */
	assert_int_equal(sevmig_sim_cert_verify(c[1], sizeof(c[1]), rome.ask.p,
						rome.ask.len, 0), -EKEYREJECTED);
	sevmig_sim_host_free(h);
	sevmig_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_naples_chain),
		cmocka_unit_test(test_rome_chain),
		cmocka_unit_test(test_other_generations),
		cmocka_unit_test(test_crossed_chains),
		cmocka_unit_test(test_flipped_bits),
		cmocka_unit_test(test_send_start_real_chain),
		cmocka_unit_test(test_sim_chain),
	};
	int ret;

	dir = test_sev_certs_dir();
	if (!dir) {
		fprintf(stderr, "no SEV certificate folder: skipping\n");
		return TEST_SKIP;
	}
	load_platform(&naples, "naples");
	load_platform(&rome, "rome");
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	free_platform(&naples);
	free_platform(&rome);
	return ret;
}
