// SPDX-License-Identifier: MIT
/*
 * Cryptographic primitives of the simulator, on OpenSSL 3 EVP APIs only.
 * Every function returns 0 or a negative errno (-EIO when libcrypto failed).
 * SEV stores big integers little-endian and zero-padded; OpenSSL wants
 * big-endian, so the conversions live here.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "sim-internal.h"

int simc_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

bool simc_memeq(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	uint8_t d = 0;

	for (size_t i = 0; i < len; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d == 0;
}

int simc_ec_keygen(EVP_PKEY **ret)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");

	if (!k)
		return -EIO;
	*ret = k;
	return 0;
}

int simc_rsa_keygen(unsigned bits, EVP_PKEY **ret)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	if (!k)
		return -EIO;
	*ret = k;
	return 0;
}

static int bn_to_le(const BIGNUM *bn, uint8_t *out, size_t len)
{
	return BN_bn2lebinpad(bn, out, (int)len) == (int)len ? 0 : -EIO;
}

int simc_ec_pub_to_cert(EVP_PKEY *key, struct sev_ecc_pubkey *out)
{
	BIGNUM *x = NULL, *y = NULL;
	int ret = -EIO;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1)
		goto out;
	memset(out, 0, sizeof(*out));
	out->curve = SEVMIG_CERT_CURVE_P384;
	if (bn_to_le(x, out->qx, sizeof(out->qx)) ||
	    bn_to_le(y, out->qy, sizeof(out->qy)))
		goto out;
	ret = 0;
out:
	BN_free(x);
	BN_free(y);
	return ret;
}

EVP_PKEY *simc_ec_pub_from_cert(const struct sev_ecc_pubkey *in)
{
	uint8_t pt[1 + 2 * 48];
	size_t clen;
	const char *group;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *key = NULL;
	OSSL_PARAM params[3];

	if (in->curve == SEVMIG_CERT_CURVE_P384) {
		clen = 48;
		group = "P-384";
	} else if (in->curve == SEVMIG_CERT_CURVE_P256) {
		clen = 32;
		group = "P-256";
	} else {
		return NULL;
	}
	/* Bytes beyond the curve size must be zero padding. */
	for (size_t i = clen; i < SEV_ECC_PARAM_SIZE; i++)
		if (in->qx[i] || in->qy[i])
			return NULL;
	pt[0] = 0x04;
	for (size_t i = 0; i < clen; i++) {
		pt[1 + i] = in->qx[clen - 1 - i];
		pt[1 + clen + i] = in->qy[clen - 1 - i];
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
						      pt, 1 + 2 * clen);
	params[2] = OSSL_PARAM_construct_end();
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(pctx);
	return key;
}

EVP_PKEY *simc_rsa_pub_from_le(const uint8_t *e, size_t elen,
			       const uint8_t *n, size_t nlen)
{
	BIGNUM *bn_e = BN_lebin2bn(e, (int)elen, NULL);
	BIGNUM *bn_n = BN_lebin2bn(n, (int)nlen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *key = NULL;

	if (!bn_e || !bn_n || !bld || BN_is_zero(bn_n) || BN_is_zero(bn_e) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_e);
	BN_free(bn_n);
	return key;
}

int simc_rsa_pub_to_le(EVP_PKEY *key, uint8_t *e, size_t elen, uint8_t *n,
		       size_t nlen)
{
	BIGNUM *bn_e = NULL, *bn_n = NULL;
	int ret = -EIO;

	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &bn_e) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &bn_n) == 1 &&
	    !bn_to_le(bn_e, e, elen) && !bn_to_le(bn_n, n, nlen))
		ret = 0;
	BN_free(bn_e);
	BN_free(bn_n);
	return ret;
}

int simc_ecdsa_sign(EVP_PKEY *key, const EVP_MD *md, const void *data,
		    size_t len, uint8_t r[72], uint8_t s[72])
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned char der[160];
	size_t dlen = sizeof(der);
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	int ret = -EIO;

	if (!mctx || EVP_DigestSignInit(mctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(mctx, der, &dlen, data, len) != 1)
		goto out;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!sig)
		goto out;
	memset(r, 0, 72);
	memset(s, 0, 72);
	if (bn_to_le(ECDSA_SIG_get0_r(sig), r, 72) ||
	    bn_to_le(ECDSA_SIG_get0_s(sig), s, 72))
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(mctx);
	return ret;
}

int simc_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const void *data,
		      size_t len, const uint8_t r[72], const uint8_t s[72])
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_lebin2bn(r, 72, NULL), *bs = BN_lebin2bn(s, 72, NULL);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int dlen, ret = -ENOMEM;

	if (!sig || !br || !bs || !mctx)
		goto out;
	if (ECDSA_SIG_set0(sig, br, bs) != 1)
		goto out;
	br = bs = NULL;
	dlen = i2d_ECDSA_SIG(sig, &der);
	ret = -EIO;
	if (dlen <= 0 || EVP_DigestVerifyInit(mctx, NULL, md, NULL, key) != 1)
		goto out;
	ret = EVP_DigestVerify(mctx, der, (size_t)dlen, data, len) == 1 ?
		      0 : -EKEYREJECTED;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(sig);
	return ret;
}

static int pss_init(EVP_MD_CTX *mctx, EVP_PKEY *key, const EVP_MD *md,
		    bool sign)
{
	EVP_PKEY_CTX *pctx = NULL;

	if ((sign ? EVP_DigestSignInit(mctx, &pctx, md, NULL, key) :
		    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key)) != 1)
		return -EIO;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
		return -EIO;
	return 0;
}

int simc_rsa_pss_sign(EVP_PKEY *key, const EVP_MD *md, const void *data,
		      size_t len, uint8_t *sig_le, size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	uint8_t be[SEV_RSA_MAX_BYTES];
	size_t blen = sizeof(be);
	int ret = -EIO;

	if (!mctx || pss_init(mctx, key, md, true) ||
	    EVP_DigestSign(mctx, be, &blen, data, len) != 1 || blen != sig_len)
		goto out;
	for (size_t i = 0; i < blen; i++)
		sig_le[i] = be[blen - 1 - i];
	ret = 0;
out:
	EVP_MD_CTX_free(mctx);
	return ret;
}

int simc_rsa_pss_verify(EVP_PKEY *key, const EVP_MD *md, const void *data,
			size_t len, const uint8_t *sig_le, size_t sig_len)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	uint8_t be[SEV_RSA_MAX_BYTES];
	int ret = -EIO;

	if (!mctx || sig_len > sizeof(be) || pss_init(mctx, key, md, false))
		goto out;
	for (size_t i = 0; i < sig_len; i++)
		be[i] = sig_le[sig_len - 1 - i];
	ret = EVP_DigestVerify(mctx, be, sig_len, data, len) == 1 ?
		      0 : -EKEYREJECTED;
out:
	EVP_MD_CTX_free(mctx);
	return ret;
}

int simc_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[48])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);
	size_t len = 48;
	int ret = -EIO;

	if (ctx && EVP_PKEY_derive_init(ctx) == 1 &&
	    EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
	    EVP_PKEY_derive(ctx, z, &len) == 1 && len == 48)
		ret = 0;
	EVP_PKEY_CTX_free(ctx);
	return ret;
}

/*
 * Fetching an algorithm is the slow part of OpenSSL 3 (a provider lookup
 * under a lock, several microseconds): fetch once per process, so that the
 * emulated PSP's per-page cost is the cryptography itself and throughput
 * benchmarks measure the library, not the lookup.
 */
static EVP_MAC *hmac_alg;
static EVP_CIPHER *ctr_alg;
static pthread_once_t alg_once = PTHREAD_ONCE_INIT;

static void alg_fetch(void)
{
	hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctr_alg = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
}

int simc_hmac(const uint8_t *key, size_t klen, const void *a, size_t alen,
	      const void *b, size_t blen, uint8_t out[32])
{
	EVP_MAC_CTX *ctx;
	OSSL_PARAM params[2];
	size_t olen = 0;
	int ret = -EIO;

	pthread_once(&alg_once, alg_fetch);
	ctx = hmac_alg ? EVP_MAC_CTX_new(hmac_alg) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx && EVP_MAC_init(ctx, key, klen, params) == 1 &&
	    (!alen || EVP_MAC_update(ctx, a, alen) == 1) &&
	    (!blen || EVP_MAC_update(ctx, b, blen) == 1) &&
	    EVP_MAC_final(ctx, out, &olen, 32) == 1 && olen == 32)
		ret = 0;
	EVP_MAC_CTX_free(ctx);
	return ret;
}

/*
 * The SEV KDF: NIST SP 800-108 in counter mode with HMAC-SHA256 as the PRF,
 * one block for a 128-bit key:
 *   HMAC(key, [i=1]_32 || label || 0x00 || context || [L=128]_32)
 * truncated to 16 bytes, with i and L written LITTLE-endian, as AMD's
 * firmware (nist_kdf_prf() hashes its uint32_t fields in place on the
 * little-endian PSP), AMD's sev-tool (kdf()) and virtee/sev
 * (Key::derive(), to_le_bytes) all do; SP 800-108 itself leaves the
 * encoding to the implementation.
 */
int simc_kdf(const uint8_t *key, size_t klen, const char *label,
	     const uint8_t *ctx, size_t ctxlen, uint8_t out[16])
{
	uint8_t msg[4 + 64 + 1 + 64 + 4], full[32];
	size_t llen = strlen(label), n = 0;
	const uint32_t i = 1, l = 128;
	int ret;

	if (llen > 64 || ctxlen > 64)
		return -EINVAL;
	msg[n++] = (uint8_t)i;
	msg[n++] = (uint8_t)(i >> 8);
	msg[n++] = (uint8_t)(i >> 16);
	msg[n++] = (uint8_t)(i >> 24);
	memcpy(msg + n, label, llen);
	n += llen;
	msg[n++] = 0;
	if (ctxlen)
		memcpy(msg + n, ctx, ctxlen);
	n += ctxlen;
	msg[n++] = (uint8_t)l;
	msg[n++] = (uint8_t)(l >> 8);
	msg[n++] = (uint8_t)(l >> 16);
	msg[n++] = (uint8_t)(l >> 24);
	ret = simc_hmac(key, klen, msg, n, NULL, 0, full);
	if (!ret)
		memcpy(out, full, 16);
	OPENSSL_cleanse(full, sizeof(full));
	return ret;
}

int simc_aes128_ctr(const uint8_t key[16], const uint8_t iv[16],
		    const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, ret = -EIO;

	pthread_once(&alg_once, alg_fetch);
	if (ctx && ctr_alg &&
	    EVP_EncryptInit_ex2(ctx, ctr_alg, key, iv, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &l1, in, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, out + l1, &l2) == 1 &&
	    (size_t)l1 + (size_t)l2 == len)
		ret = 0;
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

int simc_sha256(const void *a, size_t alen, const void *b, size_t blen,
		uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ret = -EIO;

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (!blen || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return ret;
}
