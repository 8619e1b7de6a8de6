/* SPDX-License-Identifier: MIT */
/*
 * libsevmig checks before a migration: certificates, guest policy and
 * preflight, all without reaching the firmware. Conventions:
 * <sevmig/common.h>.
 */
#ifndef SEVMIG_CHECKS_H
#define SEVMIG_CHECKS_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- certificates ---- */

/* Certificate formats. */
enum sevmig_cert_type {
	SEVMIG_CERT_SEV = 1,   /* 2084-byte SEV certificate: PDH, PEK, OCA, CEK */
	SEVMIG_CERT_AMD = 2,   /* AMD certificate: ASK, ARK */
};

/* Key usages (the formats' own codes). */
#define SEVMIG_CERT_USAGE_ARK 0x0000u
#define SEVMIG_CERT_USAGE_ASK 0x0013u
#define SEVMIG_CERT_USAGE_NONE 0x1000u  /* "invalid": an unused signature */
#define SEVMIG_CERT_USAGE_OCA 0x1001u
#define SEVMIG_CERT_USAGE_PEK 0x1002u
#define SEVMIG_CERT_USAGE_PDH 0x1003u
#define SEVMIG_CERT_USAGE_CEK 0x1004u

/* Algorithms (the SEV format's codes). */
#define SEVMIG_CERT_ALGO_RSA_SHA256   0x0001u
#define SEVMIG_CERT_ALGO_ECDSA_SHA256 0x0002u
#define SEVMIG_CERT_ALGO_ECDH_SHA256  0x0003u
#define SEVMIG_CERT_ALGO_RSA_SHA384   0x0101u
#define SEVMIG_CERT_ALGO_ECDSA_SHA384 0x0102u
#define SEVMIG_CERT_ALGO_ECDH_SHA384  0x0103u

/* Key kinds. */
enum sevmig_cert_key {
	SEVMIG_CERT_KEY_RSA = 1,
	SEVMIG_CERT_KEY_ECDSA = 2,
	SEVMIG_CERT_KEY_ECDH = 3,
};

/* Curves (the SEV format's codes). */
#define SEVMIG_CERT_CURVE_P256 1u
#define SEVMIG_CERT_CURVE_P384 2u

/**
 * struct sevmig_cert_info - what one certificate says about itself.
 *
 * @size:          in: sizeof(); out: bytes written.
 * @type:          SEVMIG_CERT_SEV or SEVMIG_CERT_AMD.
 * @version:       format version (1).
 * @usage:         SEVMIG_CERT_USAGE_*.
 * @algo:          SEV: SEVMIG_CERT_ALGO_*; AMD: 0 (the format has none).
 * @key_type:      SEVMIG_CERT_KEY_*.
 * @curve:         SEVMIG_CERT_CURVE_* for EC keys, else 0.
 * @key_bits:      EC: 256 or 384; RSA: modulus bits.
 * @pub_exp_bits:  RSA: size of the public exponent field in bits, else 0.
 * @api_major, @api_minor: SEV: firmware API that made the certificate (the
 *                 PEK's is what a target's version is judged by); AMD: 0.
 * @sig1_usage, @sig1_algo, @sig2_usage, @sig2_algo: SEV: who signed it
 *                 (usage and algorithm of each signature area; usage
 *                 SEVMIG_CERT_USAGE_NONE = unused); AMD: 0.
 * @sig_bytes:     AMD: signature bytes; SEV: significant (non-zero-padded)
 *                 bytes in signature area 1.
 * @length:        bytes the certificate occupies (2084 for SEV).
 * @key_id, @certifying_id: AMD only: the key's id and its signer's id (an
 *                 ARK has both equal). The SEV format carries no key ids:
 *                 zero there.
 */
struct sevmig_cert_info {
	uint32_t size;
	uint32_t type;
	uint32_t version;
	uint32_t usage;
	uint32_t algo;
	uint32_t key_type;
	uint32_t curve;
	uint32_t key_bits;
	uint32_t pub_exp_bits;
	uint32_t api_major;
	uint32_t api_minor;
	uint32_t sig1_usage;
	uint32_t sig1_algo;
	uint32_t sig2_usage;
	uint32_t sig2_algo;
	uint32_t sig_bytes;
	uint32_t length;
	uint32_t reserved0;
	uint8_t key_id[16];
	uint8_t certifying_id[16];
};
#define SEVMIG_CERT_INFO_SIZE_VER0 104u

/**
 * sevmig_cert_parse() - parse and structurally check one certificate.
 *
 * Accepts exactly one SEV certificate (2084 B) or one AMD certificate (64-B
 * header, public exponent, modulus, signature of 256 or 512 B). Checks the
 * version, the usage, the algorithm against the usage (a PDH is ECDH, a
 * signing key ECDSA or RSA), curve and key size, zero padding in the key and
 * signature areas, and that signature areas name plausible signers. Does
 * not verify signatures (no cryptography in libsevmig).
 *
 * @ctx:      optional context; the reason for a rejection is logged there.
 * @buf, @len: the certificate bytes.
 * @ret_info: record to fill; set ->size first.
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @buf or @ret_info, flags, record size), -E2BIG
 *         (newer record with non-zero tail), -EBADMSG (not a well-formed
 *         certificate; the log says which field).
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_cert_parse(struct sevmig_ctx *ctx,
					 const void *buf, size_t len,
					 struct sevmig_cert_info *ret_info,
					 uint32_t flags);

/**
 * struct sevmig_target_certs - a migration target's certificates.
 *
 * @size:  sizeof().
 * @flags: must be 0.
 * @pdh, @pdh_len:               target PDH (2084 B).
 * @plat_chain, @plat_chain_len: target PEK || OCA || CEK (6252 B).
 * @amd_chain, @amd_chain_len:   ASK || ARK, or NULL and 0 when not given.
 */
struct sevmig_target_certs {
	uint32_t size;
	uint32_t flags;
	const void *pdh;
	size_t pdh_len;
	const void *plat_chain;
	size_t plat_chain_len;
	const void *amd_chain;
	size_t amd_chain_len;
};
#define SEVMIG_TARGET_CERTS_SIZE_VER0 56u

/* ---- AMD root keys (ARK) ---- */

/*
 * Where a trusted ARK comes from: the genuine AMD root of one SEV CPU
 * generation, or the operator (sevmig_ctx_add_ark()). Genoa's root also
 * signs Bergamo and Siena. Values below SEVMIG_ARK_ADDED are generations;
 * later ones may be added.
 */
enum sevmig_ark_origin {
	SEVMIG_ARK_NAPLES = 1,   /* EPYC 7001, RSA-2048 */
	SEVMIG_ARK_ROME = 2,     /* EPYC 7002, RSA-4096 */
	SEVMIG_ARK_MILAN = 3,    /* EPYC 7003 */
	SEVMIG_ARK_GENOA = 4,    /* EPYC 9004, 8004 (Genoa, Bergamo, Siena) */
	SEVMIG_ARK_TURIN = 5,    /* EPYC 9005 */
	SEVMIG_ARK_ADDED = 0x100, /* added with sevmig_ctx_add_ark() */
};

/* Roots one context can hold besides AMD's own. */
#define SEVMIG_MAX_ADDED_ARKS 16u

/**
 * sevmig_ark_name() - the name of an ARK origin.
 *
 * @origin: SEVMIG_ARK_*.
 * @return "Naples", "Rome", "Milan", "Genoa", "Turin", "added by the
 *         operator"; NULL for any other value.
 *
 * Errors: none. Firmware: not reached. Context: any thread; no blocking.
 */
const char *sevmig_ark_name(uint32_t origin);

/**
 * sevmig_ctx_add_ark() - trust one more AMD root key in this context.
 *
 * libsevmig knows the genuine ARK of every SEV generation (by key id and
 * a SHA-256 fingerprint of its public exponent and modulus as the AMD
 * certificate stores them) and refuses a target chain whose ARK is none of
 * them. An operator whose targets use another root (a test lab, a
 * simulator, a future generation) adds it here. The certificate is checked
 * structurally; with a signature verifier (sevmig_ctx_opts.verify) its
 * self-signature must verify too. Only the key id and the fingerprint are
 * kept, not the buffer.
 *
 * @ctx:   the context.
 * @ark:   one AMD-format ARK certificate (usage 0, self-certified).
 * @len:   its exact length.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ctx or @ark, flags), -EBADMSG (not exactly one
 *         well-formed ARK; the log says which field), -EEXIST (already
 *         trusted: a genuine AMD root or added before), -EKEYREJECTED (its
 *         key id is that of a trusted root with another key, or the
 *         verifier refused its self-signature), -ENOSPC
 *         (SEVMIG_MAX_ADDED_ARKS roots added already). Each is logged.
 * Firmware: not reached.
 * Context: any thread; concurrent calls and checks are safe. A root added
 *          while a check runs may or may not count for that check.
 */
SEVMIG_WARN_UNUSED int sevmig_ctx_add_ark(struct sevmig_ctx *ctx,
					  const void *ark, size_t len,
					  uint32_t flags);

/**
 * sevmig_cert_check_root() - is the root of this AMD chain trusted here?
 *
 * Finds the ARK (the second certificate of ASK || ARK, or the whole buffer
 * when it is one ARK) and compares its key id and key fingerprint with the
 * genuine AMD roots and those added to @ctx. Signatures are not checked:
 * the key itself is what is recognised (see sevmig_cert_check_target() for
 * the signatures).
 *
 * @ctx:            optional context; a refusal is logged at ERR with the
 *                  ARK's key id (and, for an ARK that claims a genuine
 *                  root's key id with another key, that root's name).
 * @amd_chain, @len: ASK || ARK (1664, 2176, 2688 or 3200 bytes) or one ARK.
 * @ret_origin:     receives SEVMIG_ARK_* when trusted, else 0.
 * @ret_reasons:    receives 0 (trusted), SEVMIG_REASON_TARGET_UNKNOWN_ROOT
 *                  (well formed, not trusted), SEVMIG_REASON_TARGET_AMD_CHAIN
 *                  (not a well-formed chain or ARK), or
 *                  SEVMIG_REASON_TARGET_CERT_LINK (the ASK names another
 *                  ARK; the ARK is still judged).
 * @return 0 (whatever the verdict) or a negative errno.
 *
 * Errors: -EINVAL (NULL @amd_chain, @ret_origin or @ret_reasons).
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_cert_check_root(struct sevmig_ctx *ctx,
					      const void *amd_chain, size_t len,
					      uint32_t *ret_origin,
					      uint64_t *ret_reasons);

/**
 * sevmig_cert_check_target() - may these certificates be given to
 * SEND_START for a guest with this policy?
 *
 * Structural checks: sizes; each certificate well formed; usages (PDH, PEK,
 * OCA, CEK; ASK, ARK); the PDH is ECDH; each signature area names the
 * expected signer with an algorithm matching the signer's key (PDH by PEK;
 * PEK by OCA and CEK; OCA by itself; CEK by the ASK, whose modulus size must
 * match the CEK's signature); the PDH is not older than the PEK that signed
 * it; the AMD chain links (ASK.certifying_id == ARK.key_id, ARK
 * self-certified, sizes from the moduli); and the target PEK's API version
 * against the policy's minimum.
 *
 * Roots: when an AMD chain is given, its ARK must be a genuine AMD root or
 * one added to @ctx (sevmig_cert_check_root()); otherwise
 * SEVMIG_REASON_TARGET_UNKNOWN_ROOT.
 *
 * Signatures: when @ctx has a verifier (sevmig_ctx_opts.verify), every link
 * whose two certificates are well formed is verified: ARK -> ASK,
 * ASK -> CEK, CEK -> PEK, OCA -> PEK, PEK -> PDH; each failure is logged
 * naming the link and the verifier's error, and gives
 * SEVMIG_REASON_TARGET_SIGNATURE. This is what catches a PDH, PEK or CEK
 * from another platform of the same shape, or a Rome platform with the
 * Milan AMD chain. Without a verifier the SEV format's lack of key ids means
 * such a mix passes here, and the call says at SEVMIG_LOG_INFO that
 * signatures are left to the firmware (SEND_START).
 *
 * @ctx:         optional context (its roots and verifier; without one, only
 *               the genuine AMD roots and no signatures); each problem is
 *               logged at ERR.
 * @target:      the certificates.
 * @policy:      the guest policy (its minimum API version is checked).
 * @ret_reasons: receives 0 or SEVMIG_REASON_TARGET_* /
 *               SEVMIG_REASON_POLICY_API_VERSION bits.
 * @return 0 (whatever the verdict) or a negative errno.
 *
 * Errors: -EINVAL (NULL @target or @ret_reasons, flags, size), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking apart from the verifier's own work.
 */
SEVMIG_WARN_UNUSED int
sevmig_cert_check_target(struct sevmig_ctx *ctx,
			 const struct sevmig_target_certs *target,
			 uint32_t policy, uint64_t *ret_reasons);

/* ---- guest policy ---- */

/* Guest policy bits (SEV API, 32-bit policy). */
#define SEVMIG_GUEST_POLICY_NODBG    (1u << 0)
#define SEVMIG_GUEST_POLICY_NOKS     (1u << 1)
#define SEVMIG_GUEST_POLICY_ES       (1u << 2)
#define SEVMIG_GUEST_POLICY_NOSEND   (1u << 3)
#define SEVMIG_GUEST_POLICY_DOMAIN   (1u << 4)
#define SEVMIG_GUEST_POLICY_SEV      (1u << 5)
#define SEVMIG_GUEST_POLICY_RESERVED 0x0000ffc0u  /* bits 6-15: must be 0 */

/**
 * struct sevmig_policy_info - a decoded guest policy.
 *
 * @size:      in: sizeof(); out: bytes written.
 * @policy:    the raw policy.
 * @flags:     the SEVMIG_GUEST_POLICY_* bits 0-5 that are set.
 * @reserved:  reserved bits 6-15 that are set (non-zero: invalid policy).
 * @api_major, @api_minor: minimum firmware API of any platform running it.
 */
struct sevmig_policy_info {
	uint32_t size;
	uint32_t policy;
	uint32_t flags;
	uint32_t reserved;
	uint32_t api_major;
	uint32_t api_minor;
};
#define SEVMIG_POLICY_INFO_SIZE_VER0 24u

/**
 * sevmig_policy_decode() - split a guest policy into its fields.
 *
 * @policy:   the 32-bit SEV guest policy.
 * @ret_info: record to fill; set ->size first.
 * @return 0 or a negative errno. A policy with reserved bits set decodes
 *         fine; ret_info->reserved then says which (the firmware refuses it).
 *
 * Errors: -EINVAL (NULL, size), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int
sevmig_policy_decode(uint32_t policy, struct sevmig_policy_info *ret_info);

/**
 * sevmig_policy_bit_name() - short name of one policy bit.
 *
 * @bit: exactly one of SEVMIG_GUEST_POLICY_NODBG ... _SEV.
 * @return "NODBG", "NOKS", "ES", "NOSEND", "DOMAIN" or "SEV"; NULL for
 *         anything else (reserved bits are not named).
 *
 * Errors: none. Firmware: not reached. Context: any thread; no blocking.
 */
const char *sevmig_policy_bit_name(uint32_t bit);

/**
 * sevmig_policy_bit_describe() - one sentence on what a policy bit does.
 *
 * @bit: one bit (any of bits 0-15).
 * @return a static sentence, never NULL ("reserved: must be zero" for
 *         bits 6-15, "not a single policy bit" otherwise).
 *
 * Errors: none. Firmware: not reached. Context: any thread; no blocking.
 */
const char *sevmig_policy_bit_describe(uint32_t bit);

/**
 * struct sevmig_preflight_args - "may this guest go to that target?"
 *
 * @size:          sizeof().
 * @flags:         must be 0.
 * @policy:        the guest's policy (GUEST_STATUS reports it).
 * @guest_es:      non-zero if the guest is SEV-ES (also implied by the
 *                 policy's ES bit).
 * @our_oca, @our_oca_len: this platform's OCA (2084 B; the second
 *                 certificate of our PDH_CERT_EXPORT chain), needed when the
 *                 policy has DOMAIN; NULL and 0 otherwise.
 * @target:        the target's certificates (->size set).
 * @target_api_major, @target_api_minor: the target firmware's API version
 *                 if known (its PLATFORM_STATUS); both 0: judged by the
 *                 target PEK's version.
 */
struct sevmig_preflight_args {
	uint32_t size;
	uint32_t flags;
	uint32_t policy;
	uint32_t guest_es;
	const void *our_oca;
	size_t our_oca_len;
	const struct sevmig_target_certs *target;
	uint32_t target_api_major;
	uint32_t target_api_minor;
};
#define SEVMIG_PREFLIGHT_ARGS_SIZE_VER0 48u

/**
 * sevmig_preflight() - every reason this guest may not be sent to a target.
 *
 * Checks, without reaching the firmware, what SEND_START and RECEIVE_START
 * would refuse and what upstream KVM cannot do: NOSEND; DOMAIN needs the
 * target's OCA byte-identical to ours; SEV needs an AMD chain; SEV-ES cannot
 * cross hosts on upstream KVM (SEND/RECEIVE_UPDATE_VMSA do not exist);
 * the target's firmware API older than the policy's minimum; reserved
 * policy bits; and every certificate problem of sevmig_cert_check_target()
 * (structure, an untrusted AMD root, and bad signatures when @ctx has a
 * verifier).
 *
 * @ctx:         optional context; each reason is logged at ERR.
 * @args:        policy, our OCA, target certificates.
 * @ret_reasons: receives 0 (may go) or SEVMIG_REASON_* bits, each described
 *               by sevmig_reason_string().
 * @return 0 (whatever the verdict) or a negative errno.
 *
 * Errors: -EINVAL (NULL @args, @ret_reasons or args->target, flags,
 *         sizes), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking apart from the verifier's own work.
 */
SEVMIG_WARN_UNUSED int
sevmig_preflight(struct sevmig_ctx *ctx,
		 const struct sevmig_preflight_args *args,
		 uint64_t *ret_reasons);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_CHECKS_H */
