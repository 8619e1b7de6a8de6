// SPDX-License-Identifier: MIT
/*
 * SEV and AMD certificates: structural parsing and chain checks, libc only.
 * No signature is verified here (no cryptography in libsevmig); the firmware
 * verifies them at SEND_START. What structure can and cannot reveal is
 * written down in docs/psp.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "psp-cert.h"
#include "internal.h"
#include "uapi/sev-cert.h"

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Bytes up to and including the last non-zero one (little-endian length). */
static size_t significant(const uint8_t *p, size_t n)
{
	while (n && !p[n - 1])
		n--;
	return n;
}

static bool algo_is_rsa(uint32_t a)
{
	return a == SEVMIG_CERT_ALGO_RSA_SHA256 || a == SEVMIG_CERT_ALGO_RSA_SHA384;
}

static bool algo_is_ecdsa(uint32_t a)
{
	return a == SEVMIG_CERT_ALGO_ECDSA_SHA256 || a == SEVMIG_CERT_ALGO_ECDSA_SHA384;
}

static bool algo_is_ecdh(uint32_t a)
{
	return a == SEVMIG_CERT_ALGO_ECDH_SHA256 || a == SEVMIG_CERT_ALGO_ECDH_SHA384;
}

bool sevmig_api_older(uint32_t major, uint32_t minor, uint32_t policy)
{
	uint32_t have = major << 8 | minor;
	uint32_t want = SEV_POLICY_API_MAJOR(policy) << 8 |
			SEV_POLICY_API_MINOR(policy);

	return have < want;
}

static const char *usage_name(uint32_t u)
{
	switch (u) {
	case SEVMIG_CERT_USAGE_ARK: return "ARK";
	case SEVMIG_CERT_USAGE_ASK: return "ASK";
	case SEVMIG_CERT_USAGE_NONE: return "none";
	case SEVMIG_CERT_USAGE_OCA: return "OCA";
	case SEVMIG_CERT_USAGE_PEK: return "PEK";
	case SEVMIG_CERT_USAGE_PDH: return "PDH";
	case SEVMIG_CERT_USAGE_CEK: return "CEK";
	default: return "unknown";
	}
}

/* One signature area: usage, algorithm, padding. */
static int check_sig_area(struct sevmig_ctx *ctx, const char *what, int n,
			  uint32_t usage, uint32_t algo, const uint8_t *sig)
{
	if (usage == SEVMIG_CERT_USAGE_NONE) {
		if (algo != SEV_CERT_ALGO_INVALID || !all_zero(sig, 512))
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: signature %d is marked unused but carries an algorithm or data",
					  what, n);
		return 0;
	}
	switch (usage) {
	case SEVMIG_CERT_USAGE_OCA:
	case SEVMIG_CERT_USAGE_PEK:
	case SEVMIG_CERT_USAGE_CEK:
	case SEVMIG_CERT_USAGE_ASK:
		break;
	default:
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: signature %d names signer usage 0x%x, which signs no SEV certificate",
				  what, n, usage);
	}
	if (algo_is_ecdsa(algo)) {
		if (!all_zero(sig + 2 * SEV_ECC_PARAM_SIZE,
			      512 - 2 * SEV_ECC_PARAM_SIZE))
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: ECDSA signature %d has data past r and s",
					  what, n);
	} else if (!algo_is_rsa(algo)) {
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: signature %d has algorithm 0x%x, which is not a signature algorithm",
				  what, n, algo);
	}
	if (all_zero(sig, 512))
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: signature %d by %s is empty", what,
				  n, usage_name(usage));
	return 0;
}

/* Which signers each usage must carry (sig1, sig2; order as exported). */
static int check_signers(struct sevmig_ctx *ctx, const char *what,
			 const struct sevmig_cert_info *i)
{
	uint32_t want1, want2 = SEVMIG_CERT_USAGE_NONE;

	switch (i->usage) {
	case SEVMIG_CERT_USAGE_PDH: want1 = SEVMIG_CERT_USAGE_PEK; break;
	case SEVMIG_CERT_USAGE_OCA: want1 = SEVMIG_CERT_USAGE_OCA; break;
	case SEVMIG_CERT_USAGE_CEK: want1 = SEVMIG_CERT_USAGE_ASK; break;
	case SEVMIG_CERT_USAGE_PEK:
		/* Signed by the OCA and the CEK, in either area. */
		if ((i->sig1_usage == SEVMIG_CERT_USAGE_OCA &&
		     i->sig2_usage == SEVMIG_CERT_USAGE_CEK) ||
		    (i->sig1_usage == SEVMIG_CERT_USAGE_CEK &&
		     i->sig2_usage == SEVMIG_CERT_USAGE_OCA))
			return 0;
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: a PEK must be signed by the OCA and the CEK, but its signatures name %s and %s",
				  what, usage_name(i->sig1_usage),
				  usage_name(i->sig2_usage));
	default:
		return -EBADMSG;
	}
	if (i->sig1_usage != want1 || i->sig2_usage != want2)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: a %s must be signed by %s only, but its signatures name %s and %s",
				  what, usage_name(i->usage), usage_name(want1),
				  usage_name(i->sig1_usage),
				  usage_name(i->sig2_usage));
	return 0;
}

int sevmig_cert_parse_sev(struct sevmig_ctx *ctx, const char *what,
			  const void *buf, size_t len,
			  struct sevmig_cert_info *info)
{
	const uint8_t *b = buf;
	const uint8_t *key = b + offsetof(struct sev_cert, pub_key);
	const uint8_t *sig1 = b + offsetof(struct sev_cert, sig1);
	const uint8_t *sig2 = b + offsetof(struct sev_cert, sig2);
	struct sevmig_cert_info i;
	int ret;

	if (len != SEVMIG_SEV_CERT_LEN)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: %zu bytes; an SEV certificate is %u",
				  what, len, SEVMIG_SEV_CERT_LEN);
	memset(&i, 0, sizeof(i));
	i.type = SEVMIG_CERT_SEV;
	i.length = SEVMIG_SEV_CERT_LEN;
	i.version = rd32(b);
	i.api_major = b[4];
	i.api_minor = b[5];
	i.usage = rd32(b + 8);
	i.algo = rd32(b + 12);
	i.sig1_usage = rd32(b + offsetof(struct sev_cert, sig1_usage));
	i.sig1_algo = rd32(b + offsetof(struct sev_cert, sig1_algo));
	i.sig2_usage = rd32(b + offsetof(struct sev_cert, sig2_usage));
	i.sig2_algo = rd32(b + offsetof(struct sev_cert, sig2_algo));
	i.sig_bytes = (uint32_t)significant(sig1, 512);

	if (i.version != 1)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: format version %u; only version 1 exists",
				  what, i.version);
	if (b[6] || b[7])
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: reserved header bytes are not zero",
				  what);
	switch (i.usage) {
	case SEVMIG_CERT_USAGE_OCA:
	case SEVMIG_CERT_USAGE_PEK:
	case SEVMIG_CERT_USAGE_PDH:
	case SEVMIG_CERT_USAGE_CEK:
		break;
	default:
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: key usage 0x%x is not PDH, PEK, OCA or CEK",
				  what, i.usage);
	}
	if (algo_is_ecdh(i.algo))
		i.key_type = SEVMIG_CERT_KEY_ECDH;
	else if (algo_is_ecdsa(i.algo))
		i.key_type = SEVMIG_CERT_KEY_ECDSA;
	else if (algo_is_rsa(i.algo))
		i.key_type = SEVMIG_CERT_KEY_RSA;
	else
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: unknown key algorithm 0x%x", what,
				  i.algo);
	if (i.usage == SEVMIG_CERT_USAGE_PDH && i.key_type != SEVMIG_CERT_KEY_ECDH)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: a PDH must hold an ECDH key, not algorithm 0x%x",
				  what, i.algo);
	if (i.usage != SEVMIG_CERT_USAGE_PDH && i.key_type == SEVMIG_CERT_KEY_ECDH)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: a %s signs, so its key cannot be ECDH",
				  what, usage_name(i.usage));

	if (i.key_type == SEVMIG_CERT_KEY_RSA) {
		uint32_t bits = rd32(key);
		size_t nbytes = bits / 8u;

		if (bits != 2048 && bits != 3072 && bits != 4096)
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: RSA modulus of %u bits (2048, 3072 or 4096 expected)",
					  what, bits);
		if (!all_zero(key + 4 + nbytes, SEV_RSA_MAX_BYTES - nbytes) ||
		    !all_zero(key + 4 + SEV_RSA_MAX_BYTES + nbytes,
			      SEV_RSA_MAX_BYTES - nbytes))
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: RSA key data past the %u-bit size",
					  what, bits);
		i.key_bits = bits;
		i.pub_exp_bits = bits;
	} else {
		uint32_t curve = rd32(key);
		size_t nbytes;

		if (curve == SEVMIG_CERT_CURVE_P256)
			i.key_bits = 256;
		else if (curve == SEVMIG_CERT_CURVE_P384)
			i.key_bits = 384;
		else
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: curve %u is neither P-256 (1) nor P-384 (2)",
					  what, curve);
		i.curve = curve;
		nbytes = i.key_bits / 8u;
		if (!all_zero(key + 4 + nbytes, SEV_ECC_PARAM_SIZE - nbytes) ||
		    !all_zero(key + 4 + SEV_ECC_PARAM_SIZE + nbytes,
			      SEV_ECC_PARAM_SIZE - nbytes) ||
		    !all_zero(key + 4 + 2 * SEV_ECC_PARAM_SIZE,
			      1028 - 4 - 2 * SEV_ECC_PARAM_SIZE))
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: EC key data past the %u-bit coordinates",
					  what, i.key_bits);
		if (all_zero(key + 4, 2 * SEV_ECC_PARAM_SIZE))
			return sevmig_err(ctx, -EBADMSG,
					  "certificate %s: the EC public key is all zero",
					  what);
	}
	ret = check_sig_area(ctx, what, 1, i.sig1_usage, i.sig1_algo, sig1);
	if (!ret)
		ret = check_sig_area(ctx, what, 2, i.sig2_usage, i.sig2_algo, sig2);
	if (!ret)
		ret = check_signers(ctx, what, &i);
	if (ret)
		return ret;
	*info = i;
	return 0;
}

struct amd_hdr {
	uint32_t version, usage, exp_bits, mod_bits;
	const uint8_t *key_id, *cert_id;
};

static void amd_read(const uint8_t *b, struct amd_hdr *h)
{
	h->version = rd32(b);
	h->key_id = b + 4;
	h->cert_id = b + 20;
	h->usage = rd32(b + 36);
	h->exp_bits = rd32(b + 56);
	h->mod_bits = rd32(b + 60);
}

int sevmig_cert_parse_amd(struct sevmig_ctx *ctx, const char *what,
			  const void *buf, size_t avail, size_t sig_len,
			  struct sevmig_cert_info *info)
{
	const uint8_t *b = buf;
	struct sevmig_cert_info i;
	struct amd_hdr h;
	size_t body;

	if (avail < AMD_CERT_HDR_SIZE)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: %zu bytes, shorter than the 64-byte AMD certificate header",
				  what, avail);
	amd_read(b, &h);
	if (h.version != 1)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: AMD certificate version %u; only version 1 exists",
				  what, h.version);
	if (h.usage != SEVMIG_CERT_USAGE_ARK && h.usage != SEVMIG_CERT_USAGE_ASK)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: AMD key usage 0x%x is neither ARK (0x0) nor ASK (0x13)",
				  what, h.usage);
	if (!all_zero(b + 40, 16))
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: reserved AMD header fields are not zero",
				  what);
	if (h.mod_bits != 2048 && h.mod_bits != 4096)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: RSA modulus of %u bits (AMD keys are 2048 or 4096)",
				  what, h.mod_bits);
	if (!h.exp_bits || h.exp_bits % 8u || h.exp_bits > 4096)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: public exponent field of %u bits",
				  what, h.exp_bits);
	if (h.usage == SEVMIG_CERT_USAGE_ARK ?
		    memcmp(h.key_id, h.cert_id, 16) != 0 :
		    memcmp(h.key_id, h.cert_id, 16) == 0)
		return sevmig_err(ctx, -EBADMSG,
				  h.usage == SEVMIG_CERT_USAGE_ARK ?
				  "certificate %s: an ARK certifies itself, but its certifying id differs from its key id" :
				  "certificate %s: an ASK is certified by the ARK, but its certifying id equals its own key id",
				  what);
	body = AMD_CERT_HDR_SIZE + h.exp_bits / 8u + h.mod_bits / 8u;
	if (!sig_len) {
		if (h.usage == SEVMIG_CERT_USAGE_ARK)
			sig_len = h.mod_bits / 8u;
		else
			sig_len = avail > body ? avail - body : 0;
	}
	if (h.usage == SEVMIG_CERT_USAGE_ARK && sig_len != h.mod_bits / 8u)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: an ARK signs itself, so its signature must be %u bytes, not %zu",
				  what, h.mod_bits / 8u, sig_len);
	if (sig_len != 256 && sig_len != 512)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: %zu bytes cannot hold header, exponent (%u bits), modulus (%u bits) and a 2048- or 4096-bit signature",
				  what, avail, h.exp_bits, h.mod_bits);
	if (body + sig_len > avail)
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: truncated: needs %zu bytes, has %zu",
				  what, body + sig_len, avail);
	if (all_zero(b + body - h.mod_bits / 8u, h.mod_bits / 8u) ||
	    all_zero(b + body, sig_len))
		return sevmig_err(ctx, -EBADMSG,
				  "certificate %s: the modulus or the signature is all zero",
				  what);
	memset(&i, 0, sizeof(i));
	i.type = SEVMIG_CERT_AMD;
	i.version = h.version;
	i.usage = h.usage;
	i.key_type = SEVMIG_CERT_KEY_RSA;
	i.key_bits = h.mod_bits;
	i.pub_exp_bits = h.exp_bits;
	i.sig_bytes = (uint32_t)sig_len;
	i.length = (uint32_t)(body + sig_len);
	memcpy(i.key_id, h.key_id, 16);
	memcpy(i.certifying_id, h.cert_id, 16);
	*info = i;
	return 0;
}

int sevmig_amd_chain_parse(struct sevmig_ctx *ctx, const void *buf, size_t len,
			   struct sevmig_cert_info *ask,
			   struct sevmig_cert_info *ark)
{
	const uint8_t *b = buf;
	struct amd_hdr h;
	size_t body;
	int ret;

	if (len != AMD_CHAIN_2K_2K && len != AMD_CHAIN_4K_2K &&
	    len != AMD_CHAIN_2K_4K && len != AMD_CHAIN_4K_4K)
		return sevmig_err(ctx, -EBADMSG,
				  "AMD chain: %zu bytes; ASK || ARK is 1664, 2176, 2688 or 3200",
				  len);
	amd_read(b, &h);
	body = AMD_CERT_HDR_SIZE + h.exp_bits / 8u + h.mod_bits / 8u;
	/* The ASK's signature is as long as the ARK's modulus: find the ARK. */
	for (size_t sig = 256; sig <= 512; sig += 256) {
		const uint8_t *a = b + body + sig;
		struct amd_hdr r;

		if (body + sig + AMD_CERT_HDR_SIZE > len)
			continue;
		amd_read(a, &r);
		if (r.mod_bits / 8u != sig)
			continue;
		if (body + sig + AMD_CERT_HDR_SIZE + r.exp_bits / 8u +
			    2u * (r.mod_bits / 8u) != len)
			continue;
		ret = sevmig_cert_parse_amd(ctx, "ASK", b, body + sig, sig, ask);
		if (ret)
			return ret;
		ret = sevmig_cert_parse_amd(ctx, "ARK", a, len - body - sig, 0,
					    ark);
		if (ret)
			return ret;
		if (ask->usage != SEVMIG_CERT_USAGE_ASK || ark->usage != SEVMIG_CERT_USAGE_ARK)
			return sevmig_err(ctx, -EBADMSG,
					  "AMD chain: expected the ASK (usage 0x13) then the ARK (usage 0x0), found usages 0x%x and 0x%x",
					  ask->usage, ark->usage);
		if (memcmp(ask->certifying_id, ark->key_id, 16) != 0)
			return sevmig_err(ctx, -ENOLINK,
					  "AMD chain: the ASK was certified by another ARK (its certifying id differs from this ARK's key id)");
		return 0;
	}
	return sevmig_err(ctx, -EBADMSG,
			  "AMD chain: %zu bytes do not split into an ASK and an ARK whose sizes match their moduli (ASK usage 0x%x, modulus %u bits)",
			  len, h.usage, h.mod_bits);
}

/*
 * A truncated or padded SEV certificate: its usage field (offset 8) is
 * 0x1000-0x1004, where an AMD certificate has random key-id bytes.
 */
static bool looks_sev(const uint8_t *b, size_t len)
{
	uint32_t usage;

	if (len < 12 || rd32(b) != 1)
		return false;
	usage = rd32(b + 8);
	return usage >= SEVMIG_CERT_USAGE_NONE && usage <= SEVMIG_CERT_USAGE_CEK;
}

SEVMIG_EXPORT int sevmig_cert_parse(struct sevmig_ctx *ctx, const void *buf,
				    size_t len,
				    struct sevmig_cert_info *ret_info,
				    uint32_t flags)
{
	struct sevmig_cert_info i;
	int out_len, ret;

	if (!buf || !ret_info)
		return sevmig_arg_null(ctx, __func__,
				       buf ? "the info record" : "the certificate");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	out_len = sevmig_arg_out(ctx, __func__, "info record", ret_info,
				 sizeof(i), SEVMIG_CERT_INFO_SIZE_VER0);
	if (out_len < 0)
		return out_len;
	/*
	 * Both formats start with version 1. An SEV certificate is exactly
	 * 2084 bytes; no AMD certificate can be (64 + 256..512 + 256..512 +
	 * 256..512 bytes in steps of 256). Other lengths are AMD unless the
	 * bytes look like a damaged SEV certificate.
	 */
	if (len == SEVMIG_SEV_CERT_LEN || looks_sev(buf, len))
		ret = sevmig_cert_parse_sev(ctx, "(SEV format)", buf, len, &i);
	else {
		ret = sevmig_cert_parse_amd(ctx, "(AMD format)", buf, len, 0, &i);
		/* i is filled whenever ret is 0 (sevmig_err() never returns 0). */
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
		if (!ret && i.length != len)
			ret = sevmig_err(ctx, -EBADMSG,
					 "certificate: %zu bytes, but the AMD certificate in them is %u",
					 len, i.length);
	}
	if (ret)
		return ret;
	i.size = (uint32_t)out_len;
	sevmig_struct_out(ret_info, &i, (size_t)out_len);
	return 0;
}
