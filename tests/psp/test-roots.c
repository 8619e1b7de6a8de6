// SPDX-License-Identifier: MIT
/*
 * Trust anchors of the target checks: SHA-256 against the FIPS 180-4
 * vectors, the genuine AMD roots on the real ARKs of every generation,
 * operator-added roots (limits, errors, threads), and the target checks
 * with and without a signature verifier (libsevmig-sim's, on its own
 * chains and on the real ones).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "psp-fixtures.h"
#include "sha256.h"
#include "test-util.h"

#ifdef HAVE_SIM
#include <sevmig/sim.h>
#endif

static const char *const gens[] = { "naples", "rome", "milan", "genoa", "turin" };
static const uint32_t gen_origin[] = {
	SEVMIG_ARK_NAPLES, SEVMIG_ARK_ROME, SEVMIG_ARK_MILAN, SEVMIG_ARK_GENOA,
	SEVMIG_ARK_TURIN,
};
static bool have_fixtures;

/* ------------------------------------------------------------ helpers */

/* Everything a context logged, with levels, for asserting on the words. */
struct logcap {
	char text[16384];
	size_t len;
	unsigned int errors, infos;
};

static void cap_log(void *opaque, uint32_t level, const char *msg)
{
	struct logcap *c = opaque;
	int n;

	if (level == SEVMIG_LOG_ERR)
		c->errors++;
	if (level == SEVMIG_LOG_INFO)
		c->infos++;
	if (c->len >= sizeof(c->text) - 1)
		return;
	n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%u: %s\n",
		     level, msg);
	if (n > 0)
		c->len += (size_t)n < sizeof(c->text) - c->len ?
			  (size_t)n : sizeof(c->text) - c->len - 1;
}

static void cap_reset(struct logcap *c)
{
	memset(c, 0, sizeof(*c));
}

static bool logged(const struct logcap *c, const char *s)
{
	return strstr(c->text, s) != NULL;
}

typedef int (*verify_fn)(void *, const void *, size_t, const void *, size_t);

static struct sevmig_ctx *ctx_new(struct logcap *c, verify_fn verify,
				  void *opaque)
{
	struct sevmig_ctx_opts o = {
		.size = sizeof(o), .log = cap_log, .log_opaque = c,
		.log_level = SEVMIG_LOG_DEBUG, .verify = verify,
		.verify_opaque = opaque,
	};
	struct sevmig_ctx *ctx;

	cap_reset(c);
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	return ctx;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/* The real ARK of @gen; the test is skipped without the fixtures. */
static uint8_t *read_ark(const char *gen, size_t *len)
{
	char rel[64];

	if (!have_fixtures)
		skip();
	snprintf(rel, sizeof(rel), "amd-%s/ark.cert", gen);
	return fixtures_file(rel, len);
}

static void root_of(struct sevmig_ctx *ctx, const void *buf, size_t len,
		    uint32_t *origin, uint64_t *reasons)
{
	*origin = 0xdead;
	*reasons = 0xdead;
	assert_int_equal(sevmig_cert_check_root(ctx, buf, len, origin, reasons),
			 0);
}

/*
 * A root that is not AMD's: the Rome ARK's layout with key id @tag and a
 * modulus changed accordingly (so key id and fingerprint are new). Its
 * self-signature no longer verifies; structurally it is a fine ARK.
 */
static void foreign_ark(const uint8_t *rome_ark, size_t len, uint8_t tag,
			uint8_t *out)
{
	memcpy(out, rome_ark, len);
	memset(out + 4, tag, 16);	/* key id */
	memset(out + 20, tag, 16);	/* certifying id: itself */
	out[64 + 512 + 7] ^= (uint8_t)(tag | 1);	/* a modulus byte */
}

/* ------------------------------------------------------------ SHA-256 */

static void digest_is(const void *msg, size_t len, const char *want)
{
	uint8_t d[SEVMIG_SHA256_LEN];
	char got[65];

	sevmig_sha256(msg, len, d);
	hex(d, sizeof(d), got);
	assert_string_equal(got, want);
}

static void test_sha256_fips_vectors(void **state)
{
	/* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional"). */
	static const char abc448[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char abc896[] =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	struct sevmig_sha256 s;
	uint8_t a[1000], d[SEVMIG_SHA256_LEN];
	char got[65];

	(void)state;
	digest_is("abc", 3,
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_is("", 0,
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_is(NULL, 0,
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_is(abc448, strlen(abc448),
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	digest_is(abc896, strlen(abc896),
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	/* One million 'a', fed 1000 at a time. */
	memset(a, 'a', sizeof(a));
	sevmig_sha256_init(&s);
	for (int i = 0; i < 1000; i++)
		sevmig_sha256_update(&s, a, sizeof(a));
	sevmig_sha256_final(&s, d);
	hex(d, sizeof(d), got);
	assert_string_equal(got,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_sha256_padding_edges(void **state)
{
	/* Bytes 0, 1, 2, ... n-1: the lengths around the padding boundary. */
	static const struct {
		size_t n;
		const char *want;
	} v[] = {
		{ 55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59" },
		{ 56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562" },
		{ 63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488" },
		{ 64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108" },
		{ 65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781" },
		{ 119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6" },
		{ 120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c" },
		{ 128, "471fb943aa23c511f6f72f8d1652d9c880cfa392ad80503120547703e56a2be5" },
	};
	uint8_t msg[128], one[SEVMIG_SHA256_LEN], split[SEVMIG_SHA256_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		digest_is(msg, v[i].n, v[i].want);
	/* Any split into three updates gives the one-shot digest. */
	sevmig_sha256(msg, sizeof(msg), one);
	for (size_t a = 0; a <= sizeof(msg); a++) {
		for (size_t b = a; b <= sizeof(msg); b += 7) {
			struct sevmig_sha256 s;

			sevmig_sha256_init(&s);
			sevmig_sha256_update(&s, msg, a);
			sevmig_sha256_update(&s, msg + a, b - a);
			sevmig_sha256_update(&s, msg + b, sizeof(msg) - b);
			sevmig_sha256_final(&s, split);
			assert_memory_equal(one, split, sizeof(one));
		}
	}
}

/* ------------------------------------------------------ genuine roots */

static void test_genuine_roots(void **state)
{
	struct logcap c;
	struct sevmig_ctx *ctx = ctx_new(&c, NULL, NULL);
	uint32_t origin;
	uint64_t r;

	(void)state;
	if (!have_fixtures)
		skip();
	for (size_t g = 0; g < ARRAY_LEN(gens); g++) {
		struct amd_certs amd;
		size_t len;
		uint8_t *ark = read_ark(gens[g], &len);

		/* The lone ARK, with and without a context. */
		root_of(ctx, ark, len, &origin, &r);
		assert_int_equal(r, 0);
		assert_int_equal(origin, gen_origin[g]);
		root_of(NULL, ark, len, &origin, &r);
		assert_int_equal(origin, gen_origin[g]);
		/* The whole ASK || ARK chain. */
		fixtures_amd(gens[g], &amd);
		root_of(ctx, amd.chain, amd.len, &origin, &r);
		assert_int_equal(r, 0);
		assert_int_equal(origin, gen_origin[g]);
		free(ark);
	}
	assert_int_equal(c.errors, 0);
	sevmig_ctx_free(ctx);

	assert_string_equal(sevmig_ark_name(SEVMIG_ARK_NAPLES), "Naples");
	assert_string_equal(sevmig_ark_name(SEVMIG_ARK_TURIN), "Turin");
	assert_string_equal(sevmig_ark_name(SEVMIG_ARK_ADDED),
			    "added by the operator");
	assert_null(sevmig_ark_name(0));
	assert_null(sevmig_ark_name(6));
	assert_non_null(strstr(sevmig_reason_string(SEVMIG_REASON_TARGET_UNKNOWN_ROOT),
			       "genuine AMD root"));
	assert_non_null(strstr(sevmig_reason_string(SEVMIG_REASON_TARGET_SIGNATURE),
			       "does not verify"));
}

static void test_corrupted_roots(void **state)
{
	struct logcap c;
	struct sevmig_ctx *ctx = ctx_new(&c, NULL, NULL);
	uint8_t buf[1600], chain[3200];
	struct amd_certs amd;
	uint32_t origin;
	uint64_t r;
	size_t len;
	uint8_t *ark;

	(void)state;
	ark = read_ark("milan", &len);
	/* One modulus bit: same key id, another key. */
	memcpy(buf, ark, len);
	buf[64 + 512 + 100] ^= 0x01;
	root_of(ctx, buf, len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_int_equal(origin, 0);
	assert_true(logged(&c, "key id 94c38e4177d0479292a7ae671d083fb6 of AMD's genuine Milan root, but another public key"));
	/* The exponent field too is part of the key. */
	memcpy(buf, ark, len);
	buf[64 + 3] = 0x01;
	cap_reset(&c);
	root_of(ctx, buf, len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_true(logged(&c, "forged or corrupted"));
	/* Another key id (and so another root): unknown, named by its id. */
	foreign_ark(ark, len, 0x5a, buf);
	cap_reset(&c);
	root_of(ctx, buf, len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_true(logged(&c, "ARK with key id 5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a is not a genuine AMD root"));
	/* In a chain whose ASK names it: same verdict. */
	fixtures_amd("milan", &amd);
	memcpy(chain, amd.chain, amd.ask_len);
	memset(chain + 20, 0x5a, 16);	/* the ASK's certifying id */
	memcpy(chain + amd.ask_len, buf, len);
	root_of(ctx, chain, amd.len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	/* A chain whose ASK names another ARK: a link reason as well. */
	memcpy(chain, amd.chain, amd.ask_len);
	root_of(ctx, chain, amd.len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT |
			    SEVMIG_REASON_TARGET_CERT_LINK);
	/* Not an ARK or a chain at all. */
	cap_reset(&c);
	root_of(ctx, buf, 100, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_AMD_CHAIN);
	assert_int_equal(origin, 0);
	assert_true(c.errors > 0);
	/* The ASK alone is no root. */
	cap_reset(&c);
	root_of(ctx, amd.chain, amd.ask_len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_AMD_CHAIN);
	assert_true(logged(&c, "must be the ARK"));
	/* A truncated ARK. */
	memcpy(buf, ark, len);
	cap_reset(&c);
	root_of(ctx, buf, len - 8, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_AMD_CHAIN);
	assert_true(logged(&c, "truncated"));
	/* Arguments. */
	cap_reset(&c);
	assert_int_equal(sevmig_cert_check_root(ctx, NULL, 1600, &origin, &r),
			 -EINVAL);
	assert_true(logged(&c, "the AMD chain is required"));
	assert_int_equal(sevmig_cert_check_root(ctx, ark, len, NULL, &r),
			 -EINVAL);
	assert_true(logged(&c, "ret_origin is required"));
	assert_int_equal(sevmig_cert_check_root(ctx, ark, len, &origin, NULL),
			 -EINVAL);
	assert_true(logged(&c, "ret_reasons is required"));
	free(ark);
	sevmig_ctx_free(ctx);
}

/* ------------------------------------------------- operator-added roots */

static void test_add_ark_errors(void **state)
{
	struct logcap c;
	struct sevmig_ctx *ctx = ctx_new(&c, NULL, NULL);
	uint8_t buf[1700];
	struct amd_certs amd;
	uint32_t origin;
	uint64_t r;
	size_t len;
	uint8_t *ark;

	(void)state;
	ark = read_ark("rome", &len);
	assert_int_equal(sevmig_ctx_add_ark(NULL, ark, len, 0), -EINVAL);
	assert_int_equal(sevmig_ctx_add_ark(ctx, NULL, len, 0), -EINVAL);
	assert_true(logged(&c, "sevmig_ctx_add_ark: the ARK is required"));
	assert_int_equal(sevmig_ctx_add_ark(ctx, ark, len, 1), -EINVAL);
	assert_true(logged(&c, "flags must be 0"));
	/* Malformed. */
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, ark, 100, 0), -EBADMSG);
	assert_true(logged(&c, "added ARK"));
	/* An ASK is no root. */
	fixtures_amd("rome", &amd);
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, amd.chain, amd.ask_len, 0),
			 -EBADMSG);
	assert_true(logged(&c, "usage 0x13; a root is an ARK"));
	/* Bytes past the ARK. */
	memcpy(buf, ark, len);
	memset(buf + len, 0, sizeof(buf) - len);
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, buf, sizeof(buf), 0), -EBADMSG);
	assert_true(logged(&c, "give exactly one ARK"));
	/* AMD's own root: already trusted. */
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, ark, len, 0), -EEXIST);
	assert_true(logged(&c, "already trusted (AMD's genuine root of Rome)"));
	/* A key posing as AMD's Rome root. */
	memcpy(buf, ark, len);
	buf[64 + 512 + 9] ^= 0x80;
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, buf, len, 0), -EKEYREJECTED);
	assert_true(logged(&c, "genuine Rome root, but another public key: refused"));
	/* Nothing of that was kept: the impostor is still unknown. */
	root_of(ctx, buf, len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	free(ark);
	sevmig_ctx_free(ctx);
}

static void test_add_ark_limit(void **state)
{
	struct logcap c, c2;
	struct sevmig_ctx *ctx = ctx_new(&c, NULL, NULL);
	struct sevmig_ctx *other = ctx_new(&c2, NULL, NULL);
	uint8_t roots[SEVMIG_MAX_ADDED_ARKS + 1][1600];
	uint32_t origin;
	uint64_t r;
	size_t len;
	uint8_t *ark;

	(void)state;
	ark = read_ark("rome", &len);
	for (unsigned int i = 0; i <= SEVMIG_MAX_ADDED_ARKS; i++)
		foreign_ark(ark, len, (uint8_t)(0x10 + i), roots[i]);
	root_of(ctx, roots[0], len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	for (unsigned int i = 0; i < SEVMIG_MAX_ADDED_ARKS; i++)
		assert_int_equal(sevmig_ctx_add_ark(ctx, roots[i], len, 0), 0);
	assert_true(logged(&c, "10101010101010101010101010101010 (RSA-4096) is now trusted"));
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, roots[SEVMIG_MAX_ADDED_ARKS],
					    len, 0), -ENOSPC);
	assert_true(logged(&c, "holds 16 added roots already"));
	/* Each added root is trusted here, and only here. */
	for (unsigned int i = 0; i < SEVMIG_MAX_ADDED_ARKS; i++) {
		root_of(ctx, roots[i], len, &origin, &r);
		assert_int_equal(r, 0);
		assert_int_equal(origin, SEVMIG_ARK_ADDED);
		root_of(other, roots[i], len, &origin, &r);
		assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	}
	root_of(ctx, roots[SEVMIG_MAX_ADDED_ARKS], len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	/* Again: -EEXIST; same id with another key: refused. */
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, roots[3], len, 0), -EEXIST);
	assert_true(logged(&c, "already trusted (added by the operator)"));
	roots[3][64 + 700] ^= 0x40;
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, roots[3], len, 0),
			 -EKEYREJECTED);
	assert_true(logged(&c, "of an operator-added root, but another public key"));
	root_of(ctx, roots[3], len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_true(logged(&c, "forged or corrupted"));
	free(ark);
	sevmig_ctx_free(ctx);
	sevmig_ctx_free(other);
}

#define ADDERS 4
#define PER_ADDER 8

struct adder {
	struct sevmig_ctx *ctx;
	uint8_t (*roots)[1600];
	size_t len;
	int results[PER_ADDER];
};

static void *add_some(void *arg)
{
	struct adder *a = arg;

	for (int i = 0; i < PER_ADDER; i++) {
		uint32_t origin;
		uint64_t r;

		a->results[i] = sevmig_ctx_add_ark(a->ctx, a->roots[i], a->len, 0);
		/* Checks run meanwhile and see only whole entries. */
		if (sevmig_cert_check_root(a->ctx, a->roots[i], a->len, &origin,
					   &r) ||
		    (a->results[i] == 0 && (r || origin != SEVMIG_ARK_ADDED)))
			a->results[i] = -1000;
	}
	return NULL;
}

static void test_add_ark_threads(void **state)
{
	static uint8_t roots[ADDERS * PER_ADDER][1600];
	struct adder adders[ADDERS];
	pthread_t th[ADDERS];
	/* No log callback: the capture above is not meant for threads. */
	struct sevmig_ctx_opts o = { .size = sizeof(o) };
	struct sevmig_ctx *ctx;
	int added = 0, full = 0;
	size_t len;
	uint8_t *ark;

	(void)state;
	ark = read_ark("genoa", &len);
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	for (int i = 0; i < ADDERS * PER_ADDER; i++)
		foreign_ark(ark, len, (uint8_t)(0x40 + i), roots[i]);
	for (int t = 0; t < ADDERS; t++) {
		adders[t] = (struct adder){ .ctx = ctx, .len = len,
					    .roots = &roots[t * PER_ADDER] };
		assert_int_equal(pthread_create(&th[t], NULL, add_some,
						&adders[t]), 0);
	}
	for (int t = 0; t < ADDERS; t++) {
		pthread_join(th[t], NULL);
		for (int i = 0; i < PER_ADDER; i++) {
			if (adders[t].results[i] == 0)
				added++;
			else if (adders[t].results[i] == -ENOSPC)
				full++;
			else
				fail_msg("thread %d root %d: %d", t, i,
					 adders[t].results[i]);
		}
	}
	assert_int_equal(added, SEVMIG_MAX_ADDED_ARKS);
	assert_int_equal(full, ADDERS * PER_ADDER - SEVMIG_MAX_ADDED_ARKS);
	free(ark);
	sevmig_ctx_free(ctx);
}

/* ------------------------------------------------ target checks, verifier */

static uint64_t target(struct sevmig_ctx *ctx, const void *pdh,
		       const void *chain, const void *amd, size_t amd_len)
{
	struct sevmig_target_certs t = {
		.size = sizeof(t), .pdh = pdh, .pdh_len = SEVMIG_SEV_CERT_LEN,
		.plat_chain = chain, .plat_chain_len = SEVMIG_PLAT_CHAIN_LEN,
		.amd_chain = amd, .amd_chain_len = amd_len,
	};
	uint64_t r = 0xdead;

	assert_int_equal(sevmig_cert_check_target(ctx, &t, 0, &r), 0);
	return r;
}

/* A verifier that answers something no verifier should. */
static int verify_positive(void *opaque, const void *cert, size_t cert_len,
			   const void *signer, size_t signer_len)
{
	(void)opaque; (void)cert; (void)cert_len; (void)signer;
	(void)signer_len;
	return 1;
}

static void test_target_roots_without_verifier(void **state)
{
	struct platform_certs rome;
	struct amd_certs amd, bad;
	struct logcap c;
	struct sevmig_ctx *ctx = ctx_new(&c, NULL, NULL);

	(void)state;
	if (!have_fixtures)
		skip();
	fixtures_platform("rome", &rome);
	fixtures_amd("rome", &amd);
	assert_int_equal(target(ctx, rome.pdh, rome.chain, amd.chain, amd.len), 0);
	assert_true(logged(&c, "signatures are left to the firmware at SEND_START"));
	assert_true(logged(&c, "the root is AMD's genuine root of Rome"));
	/* Not caught without a verifier: a Rome platform, the Milan chain. */
	fixtures_amd("milan", &bad);
	assert_int_equal(target(ctx, rome.pdh, rome.chain, bad.chain, bad.len), 0);
	/* A Rome chain whose ARK's key was changed: not AMD's root. */
	bad = amd;
	bad.chain[bad.ask_len + 64 + 512 + 33] ^= 0x04;
	cap_reset(&c);
	assert_int_equal(target(ctx, rome.pdh, rome.chain, bad.chain, bad.len),
			 SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_true(logged(&c, "target AMD chain: the ARK carries the key id e6002122fb58419399d15fee7b131351 of AMD's genuine Rome root"));
	/* And through sevmig_preflight(), with its other reasons. */
	{
		struct sevmig_target_certs t = {
			.size = sizeof(t), .pdh = rome.pdh, .pdh_len = 2084,
			.plat_chain = rome.chain, .plat_chain_len = 6252,
			.amd_chain = bad.chain, .amd_chain_len = bad.len,
		};
		struct sevmig_preflight_args a = {
			.size = sizeof(a), .policy = SEVMIG_GUEST_POLICY_NOSEND,
			.target = &t,
		};
		uint64_t r;

		assert_int_equal(sevmig_preflight(ctx, &a, &r), 0);
		assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT |
				    SEVMIG_REASON_POLICY_NOSEND);
	}
	/* No AMD chain, no root to judge (preflight says so with SEV). */
	assert_int_equal(target(ctx, rome.pdh, rome.chain, NULL, 0), 0);
	/* A verifier with a contract-breaking answer: refused, in words. */
	sevmig_ctx_free(ctx);
	ctx = ctx_new(&c, verify_positive, NULL);
	assert_int_equal(target(ctx, rome.pdh, rome.chain, amd.chain, amd.len),
			 SEVMIG_REASON_TARGET_SIGNATURE);
	assert_true(logged(&c, "link ARK -> ASK: the ASK's signature by the ARK does not verify (the verifier answered 1: not 0 or a negative errno)"));
	assert_int_equal(c.errors, 5);
	sevmig_ctx_free(ctx);
}

#ifdef HAVE_SIM
/* libsevmig-sim's verifier behind the context's callback. */
struct counted {
	unsigned int calls;
};

static int sim_verify(void *opaque, const void *cert, size_t cert_len,
		      const void *signer, size_t signer_len)
{
	struct counted *n = opaque;

	if (n)
		__atomic_add_fetch(&n->calls, 1, __ATOMIC_RELAXED);
	return sevmig_sim_cert_verify(cert, cert_len, signer, signer_len, 0);
}

struct simworld {
	struct sevmig_sim *sim;
	struct sevmig_sim_host *a, *b;
	uint8_t amd[AMD_CHAIN_2K_2K];
	size_t amd_len, ark_off;
	uint8_t pdh_a[2084], chain_a[6252], pdh_b[2084], chain_b[6252];
};

static void host_certs(struct sevmig_sim_host *h, uint8_t *pdh, uint8_t *chain)
{
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_PDH, pdh,
					      2084), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_PEK, chain,
					      2084), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_OCA,
					      chain + 2084, 2084), 0);
	assert_int_equal(sevmig_sim_host_cert(h, SEVMIG_CERT_USAGE_CEK,
					      chain + 4168, 2084), 0);
}

static void world_new(struct simworld *w)
{
	struct sevmig_sim_opts o = { .size = sizeof(o),
				     .mode = SEVMIG_SIM_MODE_MEMORY };

	memset(w, 0, sizeof(*w));
	assert_int_equal(sevmig_sim_new(&o, &w->sim), 0);
	assert_int_equal(sevmig_sim_host_new(w->sim, NULL, &w->a), 0);
	assert_int_equal(sevmig_sim_host_new(w->sim, NULL, &w->b), 0);
	assert_int_equal(sevmig_sim_amd_chain(w->sim, w->amd, sizeof(w->amd),
					      &w->amd_len), 0);
	w->ark_off = w->amd_len / 2;
	host_certs(w->a, w->pdh_a, w->chain_a);
	host_certs(w->b, w->pdh_b, w->chain_b);
}

static void test_sim_root_needs_adding(void **state)
{
	struct simworld w;
	struct logcap c;
	struct counted n = { 0 };
	struct sevmig_ctx *ctx;
	uint32_t origin;
	uint64_t r;
	uint8_t ark[832];
	char kid[33];

	(void)state;
	world_new(&w);
	/* The simulator's root is its own, not AMD's. */
	ctx = ctx_new(&c, sim_verify, &n);
	hex(w.amd + w.ark_off + 4, 16, kid);
	root_of(ctx, w.amd, w.amd_len, &origin, &r);
	assert_int_equal(r, SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	assert_true(logged(&c, kid));
	assert_int_equal(target(ctx, w.pdh_a, w.chain_a, w.amd, w.amd_len),
			 SEVMIG_REASON_TARGET_UNKNOWN_ROOT);
	/* Its signatures are all fine, though: five links verified. */
	assert_int_equal(n.calls, 5);
	assert_true(logged(&c, "5 signatures verified, 0 refused"));
	/* With a verifier, a root whose self-signature is broken is refused. */
	memcpy(ark, w.amd + w.ark_off, sizeof(ark));
	ark[64 + 256 + 256 + 100] ^= 0x10;	/* its signature */
	cap_reset(&c);
	assert_int_equal(sevmig_ctx_add_ark(ctx, ark, sizeof(ark), 0),
			 -EKEYREJECTED);
	assert_true(logged(&c, "is not validly self-signed"));
	assert_int_equal(sevmig_ctx_add_ark(ctx, w.amd + w.ark_off,
					    w.amd_len - w.ark_off, 0), 0);
	root_of(ctx, w.amd, w.amd_len, &origin, &r);
	assert_int_equal(r, 0);
	assert_int_equal(origin, SEVMIG_ARK_ADDED);
	assert_int_equal(target(ctx, w.pdh_a, w.chain_a, w.amd, w.amd_len), 0);
	assert_int_equal(target(ctx, w.pdh_b, w.chain_b, w.amd, w.amd_len), 0);
	sevmig_ctx_free(ctx);
	sevmig_sim_free(w.sim);
}

/* @ctx refuses the chain for a bad signature, and logs @words. */
static void refused_at(struct sevmig_ctx *ctx, struct logcap *c,
		       const uint8_t *pdh, const uint8_t *chain,
		       const uint8_t *amd, size_t amd_len, const char *words)
{
	cap_reset(c);
	assert_int_equal(target(ctx, pdh, chain, amd, amd_len),
			 SEVMIG_REASON_TARGET_SIGNATURE);
	if (!logged(c, words))
		fail_msg("expected \"%s\" in the log:\n%s", words, c->text);
}

static void test_sim_signatures(void **state)
{
	struct simworld w;
	struct logcap c, c0;
	struct counted n = { 0 };
	struct sevmig_ctx *ctx, *plain;
	uint8_t chain[6252], amd[AMD_CHAIN_2K_2K], pdh[2084];

	(void)state;
	world_new(&w);
	ctx = ctx_new(&c, sim_verify, &n);
	plain = ctx_new(&c0, NULL, NULL);
	assert_int_equal(sevmig_ctx_add_ark(ctx, w.amd + w.ark_off,
					    w.amd_len - w.ark_off, 0), 0);
	assert_int_equal(sevmig_ctx_add_ark(plain, w.amd + w.ark_off,
					    w.amd_len - w.ark_off, 0), 0);

	/* Host A's PDH with host B's chain: same shape, other keys. */
	assert_int_equal(target(plain, w.pdh_a, w.chain_b, w.amd, w.amd_len), 0);
	refused_at(ctx, &c, w.pdh_a, w.chain_b, w.amd, w.amd_len,
		   "link PEK -> PDH: the PDH's signature by the PEK does not verify");
	assert_int_equal(c.errors, 1);
	/* Host B's CEK, then host B's OCA: the PEK's two signers. */
	for (int k = 2; k >= 1; k--) {
		memcpy(chain, w.chain_a, sizeof(chain));
		memcpy(chain + 2084 * k, w.chain_b + 2084 * k, 2084);
		assert_int_equal(target(plain, w.pdh_a, chain, w.amd, w.amd_len),
				 0);
		refused_at(ctx, &c, w.pdh_a, chain, w.amd, w.amd_len,
			   k == 2 ? "link CEK -> PEK" : "link OCA -> PEK");
		assert_int_equal(c.errors, 1);
	}

	/* A PEK whose signed bytes changed (its API version): two links. */
	memcpy(chain, w.chain_a, sizeof(chain));
	chain[5] ^= 0x01;
	refused_at(ctx, &c, w.pdh_a, chain, w.amd, w.amd_len, "link CEK -> PEK");
	assert_true(logged(&c, "link OCA -> PEK"));
	assert_false(logged(&c, "link PEK -> PDH"));

	/* A forged CEK signature (the ASK's): ASK -> CEK. */
	memcpy(chain, w.chain_a, sizeof(chain));
	chain[4168 + 0x41c + 17] ^= 0x20;	/* inside sig1 */
	refused_at(ctx, &c, w.pdh_a, chain, w.amd, w.amd_len, "link ASK -> CEK");

	/* The ASK's signature by the ARK. */
	memcpy(amd, w.amd, w.amd_len);
	amd[64 + 256 + 256 + 40] ^= 0x02;
	refused_at(ctx, &c, w.pdh_a, w.chain_a, amd, w.amd_len,
		   "link ARK -> ASK: the ASK's signature by the ARK does not verify (the verifier answered -129");

	/* A malformed PDH: a structural reason, and its link is skipped. */
	memcpy(pdh, w.pdh_a, sizeof(pdh));
	pdh[0] = 2;
	n.calls = 0;
	cap_reset(&c);
	assert_int_equal(target(ctx, pdh, w.chain_a, w.amd, w.amd_len),
			 SEVMIG_REASON_TARGET_PDH);
	assert_int_equal(n.calls, 4);
	assert_true(logged(&c, "link PEK -> PDH not verified"));

	/* No AMD chain: the platform's own links are still verified. */
	n.calls = 0;
	assert_int_equal(target(ctx, w.pdh_a, w.chain_a, NULL, 0), 0);
	assert_int_equal(n.calls, 3);

	/* The preflight carries the verdict. */
	{
		struct sevmig_target_certs t = {
			.size = sizeof(t), .pdh = w.pdh_a, .pdh_len = 2084,
			.plat_chain = w.chain_b, .plat_chain_len = 6252,
			.amd_chain = w.amd, .amd_chain_len = w.amd_len,
		};
		struct sevmig_preflight_args a = {
			.size = sizeof(a), .target = &t,
			.policy = SEVMIG_GUEST_POLICY_SEV,
		};
		uint64_t r;

		assert_int_equal(sevmig_preflight(ctx, &a, &r), 0);
		assert_int_equal(r, SEVMIG_REASON_TARGET_SIGNATURE);
		t.plat_chain = w.chain_a;
		assert_int_equal(sevmig_preflight(ctx, &a, &r), 0);
		assert_int_equal(r, 0);
	}
	sevmig_ctx_free(ctx);
	sevmig_ctx_free(plain);
	sevmig_sim_free(w.sim);
}

static void test_real_chains_with_verifier(void **state)
{
	struct platform_certs naples, rome;
	struct amd_certs a_naples, a_rome, a_milan;
	struct logcap c;
	struct sevmig_ctx *ctx;

	(void)state;
	if (!have_fixtures)
		skip();
	fixtures_platform("naples", &naples);
	fixtures_platform("rome", &rome);
	fixtures_amd("naples", &a_naples);
	fixtures_amd("rome", &a_rome);
	fixtures_amd("milan", &a_milan);
	ctx = ctx_new(&c, sim_verify, NULL);
	assert_int_equal(target(ctx, rome.pdh, rome.chain, a_rome.chain,
				a_rome.len), 0);
	assert_true(logged(&c, "5 signatures verified, 0 refused"));
	assert_int_equal(target(ctx, naples.pdh, naples.chain, a_naples.chain,
				a_naples.len), 0);
	assert_int_equal(c.errors, 0);
	/* Rome platform, Milan AMD chain: only a signature tells. */
	assert_int_equal(target(ctx, rome.pdh, rome.chain, a_milan.chain,
				a_milan.len), SEVMIG_REASON_TARGET_SIGNATURE);
	assert_true(logged(&c, "link ASK -> CEK: the CEK's signature by the ASK does not verify"));
	/* A Naples PDH with the Rome chain: a link reason and a bad signature. */
	assert_int_equal(target(ctx, naples.pdh, rome.chain, a_rome.chain,
				a_rome.len),
			 SEVMIG_REASON_TARGET_CERT_LINK |
			 SEVMIG_REASON_TARGET_SIGNATURE);
	assert_true(logged(&c, "link PEK -> PDH"));
	sevmig_ctx_free(ctx);
}
#endif /* HAVE_SIM */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips_vectors),
		cmocka_unit_test(test_sha256_padding_edges),
		cmocka_unit_test(test_genuine_roots),
		cmocka_unit_test(test_corrupted_roots),
		cmocka_unit_test(test_add_ark_errors),
		cmocka_unit_test(test_add_ark_limit),
		cmocka_unit_test(test_add_ark_threads),
		cmocka_unit_test(test_target_roots_without_verifier),
#ifdef HAVE_SIM
		cmocka_unit_test(test_sim_root_needs_adding),
		cmocka_unit_test(test_sim_signatures),
		cmocka_unit_test(test_real_chains_with_verifier),
#endif
	};

	have_fixtures = test_sev_certs_dir() != NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
