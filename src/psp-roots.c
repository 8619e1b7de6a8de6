// SPDX-License-Identifier: MIT
/*
 * Trust anchors for a target's certificates: the genuine AMD root keys
 * (ARK) of every SEV generation, roots the operator adds to a context, and
 * the context's optional signature verifier. libsevmig has no cryptography:
 * a root is recognised by its key id and a SHA-256 fingerprint of its
 * public key, and signatures are checked only through the verifier the VMM
 * plugs in. What each layer catches is written down in docs/psp.md.
 */
#include <errno.h>
#include <string.h>

#include "psp-cert.h"
#include "psp-roots.h"
#include "internal.h"
#include "sha256.h"
#include "uapi/sev-cert.h"

/*
 * AMD's root keys, public facts: the key id (bytes 4-19 of the ARK
 * certificate, as hex) and the SHA-256 of the public exponent field
 * followed by the modulus field, both as the AMD certificate stores them
 * (little-endian, zero-padded to their declared sizes: 2048 or 4096 bits
 * each). Taken from the ARKs AMD's key distribution service publishes;
 * docs/psp.md lists them and how to recompute them.
 */
static const struct genuine_ark {
	uint32_t origin;
	const char *key_id;
	const char *fingerprint;
} genuine_arks[] = {
	{ SEVMIG_ARK_NAPLES, "1bb987c359494606b174945601c9ea5b",
	  "fb61bb1bf3b399dfb7c811390c25845d74369aae5f2a77e25710c86cc2ecb158" },
	{ SEVMIG_ARK_ROME, "e6002122fb58419399d15fee7b131351",
	  "227cc97640363424696c3e80d4d17902a5e1784cc5805a9eb5acc00620661a71" },
	{ SEVMIG_ARK_MILAN, "94c38e4177d0479292a7ae671d083fb6",
	  "5201496b2232d81cf2ae75b867e7b8516f81a3d4d0dc876138051927a5a20bab" },
	{ SEVMIG_ARK_GENOA, "9f9d4a8fe761456599f6946c4c010f3a",
	  "6be9aa11d1b8c246ba0e67c8cb850f249e8fa0690adcba97189f223885e6a91b" },
	{ SEVMIG_ARK_TURIN, "d05c3a8bde484904b49552422ceb3942",
	  "1d1245f774fd7190e5380751a9338c3dc63c89d75c44c1faa317bfffe4bd00c7" },
};

SEVMIG_EXPORT const char *sevmig_ark_name(uint32_t origin)
{
	switch (origin) {
	case SEVMIG_ARK_NAPLES: return "Naples";
	case SEVMIG_ARK_ROME: return "Rome";
	case SEVMIG_ARK_MILAN: return "Milan";
	case SEVMIG_ARK_GENOA: return "Genoa";
	case SEVMIG_ARK_TURIN: return "Turin";
	case SEVMIG_ARK_ADDED: return "added by the operator";
	default: return NULL;
	}
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* An ARK's identity: key id and the fingerprint of its public key. */
static void ark_id(const uint8_t *ark, const struct sevmig_cert_info *info,
		   struct sevmig_ark_id *id)
{
	memcpy(id->key_id, info->key_id, sizeof(id->key_id));
	sevmig_sha256(ark + AMD_CERT_HDR_SIZE,
		      info->pub_exp_bits / 8u + info->key_bits / 8u,
		      id->fingerprint);
}

enum match {
	MATCH_NONE,
	MATCH_SAME,	/* same key id, same key */
	MATCH_CLASH,	/* same key id, another key */
};

/*
 * Compare @id with the genuine roots, then with the first @n added ones.
 * On SAME or CLASH, *origin says whose key id it is.
 */
static enum match lookup(const struct sevmig_ctx *ctx, uint32_t n,
			 const struct sevmig_ark_id *id, uint32_t *origin)
{
	char kid[33], fp[65];

	to_hex(id->key_id, sizeof(id->key_id), kid);
	to_hex(id->fingerprint, sizeof(id->fingerprint), fp);
	for (size_t i = 0; i < ARRAY_SIZE(genuine_arks); i++) {
		if (strcmp(kid, genuine_arks[i].key_id) != 0)
			continue;
		*origin = genuine_arks[i].origin;
		return strcmp(fp, genuine_arks[i].fingerprint) != 0 ? MATCH_CLASH :
								 MATCH_SAME;
	}
	for (uint32_t i = 0; ctx && i < n; i++) {
		if (memcmp(id->key_id, ctx->arks[i].key_id, sizeof(id->key_id)) != 0)
			continue;
		*origin = SEVMIG_ARK_ADDED;
		return memcmp(id->fingerprint, ctx->arks[i].fingerprint,
			      sizeof(id->fingerprint)) ? MATCH_CLASH : MATCH_SAME;
	}
	return MATCH_NONE;
}

static uint32_t published_arks(const struct sevmig_ctx *ctx)
{
	return ctx ? __atomic_load_n(&ctx->nr_arks, __ATOMIC_ACQUIRE) : 0;
}

int sevmig_ark_identify(const struct sevmig_ctx *ctx, const char *what,
			const uint8_t *ark, const struct sevmig_cert_info *info,
			uint32_t *origin)
{
	struct sevmig_ark_id id;
	char kid[33], fp[65];
	uint32_t who = 0;

	ark_id(ark, info, &id);
	switch (lookup(ctx, published_arks(ctx), &id, &who)) {
	case MATCH_SAME:
		*origin = who;
		return 0;
	case MATCH_CLASH:
		to_hex(id.key_id, sizeof(id.key_id), kid);
		to_hex(id.fingerprint, sizeof(id.fingerprint), fp);
		return sevmig_err(ctx, -ENOKEY,
				  "%s: the ARK carries the key id %s of %s%s root, but another public key (fingerprint %s): a forged or corrupted root",
				  what, kid,
				  who == SEVMIG_ARK_ADDED ? "an" : "AMD's genuine ",
				  who == SEVMIG_ARK_ADDED ? " operator-added" :
							    sevmig_ark_name(who),
				  fp);
	case MATCH_NONE:
	default:
		to_hex(id.key_id, sizeof(id.key_id), kid);
		return sevmig_err(ctx, -ENOKEY,
				  "%s: the ARK with key id %s is not a genuine AMD root of any SEV generation (Naples, Rome, Milan, Genoa, Turin) nor one added with sevmig_ctx_add_ark()",
				  what, kid);
	}
}

SEVMIG_EXPORT int sevmig_ctx_add_ark(struct sevmig_ctx *ctx, const void *ark,
				     size_t len, uint32_t flags)
{
	struct sevmig_cert_info info;
	struct sevmig_ark_id id;
	uint32_t n, who = 0;
	char kid[33];
	int ret;

	if (!ctx || !ark)
		return sevmig_arg_null(ctx, __func__,
				       ctx ? "the ARK" : "the context");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	ret = sevmig_cert_parse_amd(ctx, "added ARK", ark, len, 0, &info);
	if (ret)
		return ret;
	if (info.usage != SEVMIG_CERT_USAGE_ARK)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: the certificate has usage 0x%x; a root is an ARK (usage 0x0)",
				  __func__, info.usage);
	if (info.length != len)
		return sevmig_err(ctx, -EBADMSG,
				  "%s: %zu bytes, but the ARK in them is %u: give exactly one ARK",
				  __func__, len, info.length);
	ark_id(ark, &info, &id);
	to_hex(id.key_id, sizeof(id.key_id), kid);
	if (ctx->verify) {
		ret = ctx->verify(ctx->verify_opaque, ark, len, ark, len);
		if (ret)
			return sevmig_err(ctx, -EKEYREJECTED,
					  "%s: the ARK %s is not validly self-signed: the signature verifier answered %d (%s)",
					  __func__, kid, ret,
					  sevmig_strerror(ret));
	}

	pthread_mutex_lock(&ctx->arks_lock);
	n = ctx->nr_arks;
	switch (lookup(ctx, n, &id, &who)) {
	case MATCH_SAME:
		ret = sevmig_err(ctx, -EEXIST,
				 "%s: the ARK %s is already trusted (%s%s)",
				 __func__, kid,
				 who == SEVMIG_ARK_ADDED ? "" : "AMD's genuine root of ",
				 sevmig_ark_name(who));
		break;
	case MATCH_CLASH:
		ret = sevmig_err(ctx, -EKEYREJECTED,
				 "%s: the ARK carries the key id %s of %s%s root, but another public key: refused",
				 __func__, kid,
				 who == SEVMIG_ARK_ADDED ? "an" : "AMD's genuine ",
				 who == SEVMIG_ARK_ADDED ? " operator-added" :
							   sevmig_ark_name(who));
		break;
	case MATCH_NONE:
	default:
		if (n >= SEVMIG_MAX_ADDED_ARKS) {
			ret = sevmig_err(ctx, -ENOSPC,
					 "%s: this context holds %u added roots already, the most it can",
					 __func__, SEVMIG_MAX_ADDED_ARKS);
			break;
		}
		ctx->arks[n] = id;
		/* Publish the slot only once it is written. */
		__atomic_store_n(&ctx->nr_arks, n + 1, __ATOMIC_RELEASE);
		sevmig_log(ctx, SEVMIG_LOG_INFO,
			   "%s: the ARK %s (RSA-%u) is now trusted", __func__,
			   kid, info.key_bits);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ctx->arks_lock);
	return ret;
}

/* ASK || ARK sizes: a lone ARK (64 + exponent + 2 moduli) never has one. */
static bool chain_len(size_t len)
{
	return len == AMD_CHAIN_2K_2K || len == AMD_CHAIN_4K_2K ||
	       len == AMD_CHAIN_2K_4K || len == AMD_CHAIN_4K_4K;
}

SEVMIG_EXPORT int sevmig_cert_check_root(struct sevmig_ctx *ctx,
					 const void *amd_chain, size_t len,
					 uint32_t *ret_origin,
					 uint64_t *ret_reasons)
{
	struct sevmig_cert_info ask, ark;
	const uint8_t *b = amd_chain, *ark_bytes = b;
	uint32_t origin = 0;
	uint64_t r = 0;
	int ret;

	if (!amd_chain || !ret_origin || !ret_reasons)
		return sevmig_arg_null(ctx, __func__,
				       !amd_chain ? "the AMD chain" :
				       !ret_origin ? "ret_origin" : "ret_reasons");
	if (chain_len(len)) {
		ret = sevmig_amd_chain_parse(ctx, b, len, &ask, &ark);
		if (ret == -ENOLINK)
			r |= SEVMIG_REASON_TARGET_CERT_LINK;
		else if (ret)
			r |= SEVMIG_REASON_TARGET_AMD_CHAIN;
		if (!ret || ret == -ENOLINK)
			ark_bytes = b + ask.length;
	} else {
		ret = sevmig_cert_parse_amd(ctx, "ARK", b, len, 0, &ark);
		if (!ret && ark.usage != SEVMIG_CERT_USAGE_ARK)
			ret = sevmig_err(ctx, -EBADMSG,
					 "%s: a lone certificate must be the ARK (usage 0x0), not usage 0x%x",
					 __func__, ark.usage);
		else if (!ret && ark.length != len)
			ret = sevmig_err(ctx, -EBADMSG,
					 "%s: %zu bytes hold an ARK of %u bytes and more; an AMD chain (ASK || ARK) is 1664, 2176, 2688 or 3200 bytes",
					 __func__, len, ark.length);
		if (ret)
			r |= SEVMIG_REASON_TARGET_AMD_CHAIN;
	}
	if (!(r & SEVMIG_REASON_TARGET_AMD_CHAIN) &&
	    sevmig_ark_identify(ctx, "AMD root", ark_bytes, &ark, &origin))
		r |= SEVMIG_REASON_TARGET_UNKNOWN_ROOT;
	*ret_origin = origin;
	*ret_reasons = r;
	return 0;
}

uint64_t sevmig_chain_verify(const struct sevmig_ctx *ctx,
			     const struct sevmig_chain_view *v)
{
	const struct {
		const char *cert_name, *signer_name;
		const uint8_t *cert, *signer;
		size_t cert_len, signer_len;
	} links[] = {
		{ "ASK", "ARK", v->ask, v->ark, v->ask_len, v->ark_len },
		{ "CEK", "ASK", v->cek, v->ask, SEVMIG_SEV_CERT_LEN, v->ask_len },
		{ "PEK", "CEK", v->pek, v->cek, SEVMIG_SEV_CERT_LEN,
		  SEVMIG_SEV_CERT_LEN },
		{ "PEK", "OCA", v->pek, v->oca, SEVMIG_SEV_CERT_LEN,
		  SEVMIG_SEV_CERT_LEN },
		{ "PDH", "PEK", v->pdh, v->pek, SEVMIG_SEV_CERT_LEN,
		  SEVMIG_SEV_CERT_LEN },
	};
	unsigned int ok = 0, bad = 0;

	if (!ctx || !ctx->verify) {
		sevmig_log(ctx, SEVMIG_LOG_INFO,
			   "target certificates: no signature verifier in this context (sevmig_ctx_opts.verify): the signatures are left to the firmware at SEND_START");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		int ret;

		if (!links[i].cert || !links[i].signer) {
			sevmig_log(ctx, SEVMIG_LOG_DEBUG,
				   "target certificates: link %s -> %s not verified: one of them is missing or malformed",
				   links[i].signer_name, links[i].cert_name);
			continue;
		}
		ret = ctx->verify(ctx->verify_opaque, links[i].cert,
				  links[i].cert_len, links[i].signer,
				  links[i].signer_len);
		if (!ret) {
			ok++;
			continue;
		}
		bad++;
		sevmig_err(ctx, -EKEYREJECTED,
			   "target certificates: link %s -> %s: the %s's signature by the %s does not verify (the verifier answered %d: %s)",
			   links[i].signer_name, links[i].cert_name,
			   links[i].cert_name, links[i].signer_name, ret,
			   ret < 0 ? sevmig_strerror(ret) :
				     "not 0 or a negative errno");
	}
	sevmig_log(ctx, SEVMIG_LOG_INFO,
		   "target certificates: %u signature%s verified, %u refused",
		   ok, ok == 1 ? "" : "s", bad);
	return bad ? SEVMIG_REASON_TARGET_SIGNATURE : 0;
}
