// SPDX-License-Identifier: MIT
/*
 * "May this guest go to that target?": the target's certificates checked
 * structurally, and the guest policy checked against them, answered with
 * every reason in words before the firmware is asked.
 */
#include <errno.h>
#include <string.h>

#include "psp-cert.h"
#include "psp-roots.h"
#include "internal.h"
#include "uapi/sev-cert.h"

/* Does signature area @sig_algo fit a signer key @signer? */
static bool sig_fits_signer(uint32_t sig_algo,
			    const struct sevmig_cert_info *signer)
{
	if (signer->key_type == SEVMIG_CERT_KEY_RSA)
		return sig_algo == SEVMIG_CERT_ALGO_RSA_SHA256 ||
		       sig_algo == SEVMIG_CERT_ALGO_RSA_SHA384;
	if (signer->key_type == SEVMIG_CERT_KEY_ECDSA)
		return sig_algo == SEVMIG_CERT_ALGO_ECDSA_SHA256 ||
		       sig_algo == SEVMIG_CERT_ALGO_ECDSA_SHA384;
	return false;
}

static uint32_t sig_algo_by(const struct sevmig_cert_info *c, uint32_t usage)
{
	if (c->sig1_usage == usage)
		return c->sig1_algo;
	if (c->sig2_usage == usage)
		return c->sig2_algo;
	return 0;
}

/*
 * An RSA signature is an integer below the signer's modulus, stored
 * little-endian and zero-padded: its significant length must not exceed
 * the modulus and, except with probability about 2^-64, is within 8 bytes
 * of it. This is what tells a Naples CEK (signed by a 2048-bit ASK) from a
 * Rome one (4096-bit ASK).
 */
static bool rsa_sig_fits(uint32_t sig_bytes, uint32_t mod_bits)
{
	uint32_t mod = mod_bits / 8u;

	return sig_bytes <= mod && sig_bytes + 8u > mod;
}

static uint64_t check_links(struct sevmig_ctx *ctx,
			    const struct sevmig_cert_info *pdh,
			    const struct sevmig_cert_info *pek,
			    const struct sevmig_cert_info *oca,
			    const struct sevmig_cert_info *cek,
			    const struct sevmig_cert_info *ask)
{
	uint64_t r = 0;

	if (pdh && pek) {
		if (!sig_fits_signer(sig_algo_by(pdh, SEVMIG_CERT_USAGE_PEK), pek)) {
			sevmig_err(ctx, -EBADMSG,
				   "target certificates: the PDH's PEK signature (algorithm 0x%x) cannot come from this PEK (algorithm 0x%x)",
				   sig_algo_by(pdh, SEVMIG_CERT_USAGE_PEK), pek->algo);
			r |= SEVMIG_REASON_TARGET_CERT_LINK;
		}
		/* PEK_GEN regenerates the PDH: a PDH older than its PEK is not its. */
		if ((pdh->api_major << 8 | pdh->api_minor) <
		    (pek->api_major << 8 | pek->api_minor)) {
			sevmig_err(ctx, -EBADMSG,
				   "target certificates: the PDH (API %u.%u) is older than the PEK (API %u.%u) in the chain, so that PEK did not sign it (PDH and chain from different platforms?)",
				   pdh->api_major, pdh->api_minor, pek->api_major,
				   pek->api_minor);
			r |= SEVMIG_REASON_TARGET_CERT_LINK;
		}
	}
	if (pek && oca &&
	    !sig_fits_signer(sig_algo_by(pek, SEVMIG_CERT_USAGE_OCA), oca)) {
		sevmig_err(ctx, -EBADMSG,
			   "target certificates: the PEK's OCA signature (algorithm 0x%x) cannot come from this OCA (algorithm 0x%x)",
			   sig_algo_by(pek, SEVMIG_CERT_USAGE_OCA), oca->algo);
		r |= SEVMIG_REASON_TARGET_CERT_LINK;
	}
	if (oca && !sig_fits_signer(oca->sig1_algo, oca)) {
		sevmig_err(ctx, -EBADMSG,
			   "target certificates: the OCA's self-signature (algorithm 0x%x) does not fit its own key (algorithm 0x%x)",
			   oca->sig1_algo, oca->algo);
		r |= SEVMIG_REASON_TARGET_CERT_LINK;
	}
	if (pek && cek &&
	    !sig_fits_signer(sig_algo_by(pek, SEVMIG_CERT_USAGE_CEK), cek)) {
		sevmig_err(ctx, -EBADMSG,
			   "target certificates: the PEK's CEK signature (algorithm 0x%x) cannot come from this CEK (algorithm 0x%x)",
			   sig_algo_by(pek, SEVMIG_CERT_USAGE_CEK), cek->algo);
		r |= SEVMIG_REASON_TARGET_CERT_LINK;
	}
	if (cek && ask) {
		if (!sig_fits_signer(cek->sig1_algo, ask) ||
		    !rsa_sig_fits(cek->sig_bytes, ask->key_bits)) {
			sevmig_err(ctx, -EBADMSG,
				   "target certificates: the CEK's ASK signature (%u significant bytes, algorithm 0x%x) was not made by this %u-bit ASK (the AMD chain is for another CPU generation than the platform chain)",
				   cek->sig_bytes, cek->sig1_algo, ask->key_bits);
			r |= SEVMIG_REASON_TARGET_CERT_LINK;
		}
	}
	return r;
}

/* The checks of sevmig_cert_check_target(), on validated arguments. */
static uint64_t target_reasons(struct sevmig_ctx *ctx,
			       const struct sevmig_target_certs *t,
			       uint32_t policy)
{
	struct sevmig_cert_info pdh, pek, oca, cek, ask, ark;
	bool have_pdh = false, have_chain = false, have_ask = false;
	const uint8_t *chain = t->plat_chain;
	struct sevmig_chain_view view = { .pdh = NULL };
	uint32_t origin;
	uint64_t r = 0;
	int ret;

	if (!t->pdh || !t->pdh_len) {
		sevmig_err(ctx, -EINVAL, "target certificates: no PDH given");
		r |= SEVMIG_REASON_TARGET_PDH;
	} else if (sevmig_cert_parse_sev(ctx, "target PDH", t->pdh, t->pdh_len,
					 &pdh)) {
		r |= SEVMIG_REASON_TARGET_PDH;
	} else if (pdh.usage != SEVMIG_CERT_USAGE_PDH) {
		sevmig_err(ctx, -EBADMSG,
			   "target PDH: the certificate has usage 0x%x, not PDH (0x1003)",
			   pdh.usage);
		r |= SEVMIG_REASON_TARGET_PDH;
	} else {
		have_pdh = true;
	}

	if (!chain || t->plat_chain_len != SEVMIG_PLAT_CHAIN_LEN) {
		sevmig_err(ctx, -EBADMSG,
			   "target platform chain: %zu bytes; PEK || OCA || CEK is %u",
			   chain ? t->plat_chain_len : 0,
			   SEVMIG_PLAT_CHAIN_LEN);
		r |= SEVMIG_REASON_TARGET_PLAT_CHAIN;
	} else {
		static const uint32_t want[3] = {
			SEVMIG_CERT_USAGE_PEK, SEVMIG_CERT_USAGE_OCA, SEVMIG_CERT_USAGE_CEK
		};
		static const char *const names[3] = {
			"target PEK", "target OCA", "target CEK"
		};
		struct sevmig_cert_info *c[3] = { &pek, &oca, &cek };

		have_chain = true;
		for (int k = 0; k < 3; k++) {
			ret = sevmig_cert_parse_sev(ctx, names[k],
						    chain + k * SEVMIG_SEV_CERT_LEN,
						    SEVMIG_SEV_CERT_LEN, c[k]);
			if (!ret && c[k]->usage != want[k]) {
				sevmig_err(ctx, -EBADMSG,
					   "%s: certificate %d of the chain has usage 0x%x; the chain is PEK, OCA, CEK",
					   names[k], k + 1, c[k]->usage);
				ret = -EBADMSG;
			}
			if (ret) {
				have_chain = false;
				r |= SEVMIG_REASON_TARGET_PLAT_CHAIN;
			}
		}
	}

	if (t->amd_chain || t->amd_chain_len) {
		if (!t->amd_chain || !t->amd_chain_len) {
			sevmig_err(ctx, -EINVAL,
				   "AMD chain: give the buffer with its length");
			r |= SEVMIG_REASON_TARGET_AMD_CHAIN;
		} else {
			ret = sevmig_amd_chain_parse(ctx, t->amd_chain,
						     t->amd_chain_len, &ask, &ark);
			if (ret == -ENOLINK)
				r |= SEVMIG_REASON_TARGET_CERT_LINK;
			else if (ret)
				r |= SEVMIG_REASON_TARGET_AMD_CHAIN;
			have_ask = ret == 0 || ret == -ENOLINK;
		}
	}

	r |= check_links(ctx, have_pdh ? &pdh : NULL,
			 have_chain ? &pek : NULL, have_chain ? &oca : NULL,
			 have_chain ? &cek : NULL, have_ask ? &ask : NULL);

	/* The root must be AMD's (or the operator's); then the signatures. */
	if (have_ask) {
		view.ask = t->amd_chain;
		view.ask_len = ask.length;
		view.ark = view.ask + ask.length;
		view.ark_len = ark.length;
		if (sevmig_ark_identify(ctx, "target AMD chain", view.ark, &ark,
					&origin))
			r |= SEVMIG_REASON_TARGET_UNKNOWN_ROOT;
		else
			sevmig_log(ctx, SEVMIG_LOG_DEBUG,
				   "target AMD chain: the root is %s%s",
				   origin == SEVMIG_ARK_ADDED ? "" :
				   "AMD's genuine root of ",
				   sevmig_ark_name(origin));
	}
	if (have_pdh)
		view.pdh = t->pdh;
	if (have_chain) {
		view.pek = chain;
		view.oca = chain + SEVMIG_SEV_CERT_LEN;
		view.cek = chain + 2 * SEVMIG_SEV_CERT_LEN;
	}
	r |= sevmig_chain_verify(ctx, &view);

	if (have_chain && sevmig_api_older(pek.api_major, pek.api_minor, policy)) {
		sevmig_err(ctx, -EBADMSG,
			   "target: firmware API %u.%u (its PEK) is older than the %u.%u the guest policy requires",
			   pek.api_major, pek.api_minor,
			   SEV_POLICY_API_MAJOR(policy),
			   SEV_POLICY_API_MINOR(policy));
		r |= SEVMIG_REASON_POLICY_API_VERSION;
	}
	return r;
}

SEVMIG_EXPORT int
sevmig_cert_check_target(struct sevmig_ctx *ctx,
			 const struct sevmig_target_certs *target,
			 uint32_t policy, uint64_t *ret_reasons)
{
	struct sevmig_target_certs t;
	int ret;

	if (!target || !ret_reasons)
		return sevmig_arg_null(ctx, __func__,
				       target ? "ret_reasons" : "the target record");
	ret = sevmig_arg_in(ctx, __func__, "target record", &t, sizeof(t),
			    target, SEVMIG_TARGET_CERTS_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(ctx, __func__, t.flags)))
		return ret;
	*ret_reasons = target_reasons(ctx, &t, policy);
	return 0;
}

SEVMIG_EXPORT int sevmig_preflight(struct sevmig_ctx *ctx,
				   const struct sevmig_preflight_args *args,
				   uint64_t *ret_reasons)
{
	struct sevmig_preflight_args a;
	struct sevmig_target_certs t;
	uint64_t r = 0;
	int ret;

	if (!args || !ret_reasons)
		return sevmig_arg_null(ctx, __func__,
				       args ? "ret_reasons" : "the argument record");
	ret = sevmig_arg_in(ctx, __func__, "argument record", &a, sizeof(a),
			    args, SEVMIG_PREFLIGHT_ARGS_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(ctx, __func__, a.flags)))
		return ret;
	if (!a.target)
		return sevmig_arg_null(ctx, __func__, "args->target");
	ret = sevmig_arg_in(ctx, __func__, "target record", &t, sizeof(t),
			    a.target, SEVMIG_TARGET_CERTS_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(ctx, __func__, t.flags)))
		return ret;
	if ((a.policy & SEVMIG_GUEST_POLICY_DOMAIN) &&
	    (!a.our_oca || a.our_oca_len != SEVMIG_SEV_CERT_LEN))
		return sevmig_arg_invalid(ctx, __func__,
					  "the policy has DOMAIN, so this platform's OCA (%u bytes) is needed to compare",
					  SEVMIG_SEV_CERT_LEN);

	if (a.policy & SEVMIG_GUEST_POLICY_RESERVED) {
		sevmig_err(ctx, -EINVAL,
			   "preflight: policy 0x%08x sets reserved bits 0x%04x",
			   a.policy, a.policy & SEVMIG_GUEST_POLICY_RESERVED);
		r |= SEVMIG_REASON_POLICY_RESERVED;
	}
	if (a.policy & SEVMIG_GUEST_POLICY_NOSEND) {
		sevmig_err(ctx, -EPERM, "preflight: the guest policy has NOSEND");
		r |= SEVMIG_REASON_POLICY_NOSEND;
	}
	if ((a.policy & SEVMIG_GUEST_POLICY_ES) || a.guest_es) {
		sevmig_err(ctx, -EOPNOTSUPP,
			   "preflight: SEV-ES guest: upstream KVM has no SEND/RECEIVE_UPDATE_VMSA (EINVAL), so it can only move within this host");
		r |= SEVMIG_REASON_ES_NO_VMSA_MIGRATION;
	}
	if (a.policy & SEVMIG_GUEST_POLICY_DOMAIN) {
		const uint8_t *chain = t.plat_chain;

		if (!chain || t.plat_chain_len != SEVMIG_PLAT_CHAIN_LEN ||
		    memcmp(chain + SEVMIG_SEV_CERT_LEN, a.our_oca,
			   SEVMIG_SEV_CERT_LEN) != 0) {
			sevmig_err(ctx, -EPERM,
				   "preflight: the policy has DOMAIN and the target's OCA is not byte-identical to ours (another owner)");
			r |= SEVMIG_REASON_POLICY_DOMAIN;
		}
	}
	if ((a.policy & SEVMIG_GUEST_POLICY_SEV) &&
	    (!t.amd_chain || !t.amd_chain_len)) {
		sevmig_err(ctx, -EPERM,
			   "preflight: the policy has SEV, but no AMD chain (ASK || ARK) for the target was given");
		r |= SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN;
	}
	if ((a.target_api_major || a.target_api_minor) &&
	    sevmig_api_older(a.target_api_major, a.target_api_minor, a.policy)) {
		sevmig_err(ctx, -EPERM,
			   "preflight: the target's firmware API %u.%u is older than the %u.%u the guest policy requires",
			   a.target_api_major, a.target_api_minor,
			   SEV_POLICY_API_MAJOR(a.policy),
			   SEV_POLICY_API_MINOR(a.policy));
		r |= SEVMIG_REASON_POLICY_API_VERSION;
	}
	r |= target_reasons(ctx, &t, a.policy);
	*ret_reasons = r;
	return 0;
}
