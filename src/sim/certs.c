// SPDX-License-Identifier: MIT
/*
 * Certificates: the simulator's own AMD root (ARK, ASK) and per-host SEV
 * chain (OCA, CEK, PEK, PDH) in the real formats, and signature checks that
 * also verify real AMD chains. Formats (checked against real Naples and Rome
 * chains): SEV certs sign their first 1044 bytes with ECDSA (r, s stored
 * little-endian, 72 bytes each) using the hash the signature's algorithm
 * names (SHA-256 on every real chain, even with P-384 keys); the CEK is
 * signed by the ASK with RSA-PSS; AMD certs sign header || pub_exp ||
 * modulus with RSA-PSS, SHA-256 for 2048-bit and SHA-384 for 4096-bit
 * signer keys. RSA-PSS uses MGF1 with the same hash and a salt as long as
 * the digest. RSA integers and signatures are little-endian in the files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim-internal.h"

#define AMD_BITS 2048u
#define AMD_BYTES (AMD_BITS / 8u)

/* ------------------------------------------------------------------ build */

static int amd_cert_build(EVP_PKEY *key, EVP_PKEY *signer, uint32_t usage,
			  const uint8_t key_id[16], const uint8_t cert_id[16],
			  uint8_t *out)
{
	struct amd_cert_hdr h;
	uint8_t *p = out;
	int ret;

	memset(&h, 0, sizeof(h));
	h.version = 1;
	memcpy(&h.key_id_0, key_id, 8);
	memcpy(&h.key_id_1, key_id + 8, 8);
	memcpy(&h.certifying_id_0, cert_id, 8);
	memcpy(&h.certifying_id_1, cert_id + 8, 8);
	h.key_usage = usage;
	h.pub_exp_size_bits = AMD_BITS;
	h.modulus_size_bits = AMD_BITS;
	memcpy(p, &h, sizeof(h));
	ret = simc_rsa_pub_to_le(key, p + 64, AMD_BYTES, p + 64 + AMD_BYTES,
				 AMD_BYTES);
	if (ret)
		return ret;
	return simc_rsa_pss_sign(signer, EVP_sha256(), p, 64 + 2 * AMD_BYTES,
				 p + 64 + 2 * AMD_BYTES, AMD_BYTES);
}

int sim_world_keys(struct sevmig_sim *sim)
{
	uint8_t ark_id[16], ask_id[16];
	size_t one = 64 + 3 * AMD_BYTES;
	int ret;

	_Static_assert(64 + 3 * AMD_BYTES == AMD_CHAIN_2K_2K / 2, "amd");
	ret = simc_rsa_keygen(AMD_BITS, &sim->ark_key);
	if (!ret)
		ret = simc_rsa_keygen(AMD_BITS, &sim->ask_key);
	if (!ret)
		ret = simc_random(ark_id, sizeof(ark_id));
	if (!ret)
		ret = simc_random(ask_id, sizeof(ask_id));
	if (!ret) /* ASK first, then ARK: the amd_certs layout */
		ret = amd_cert_build(sim->ask_key, sim->ark_key,
				     SEVMIG_CERT_USAGE_ASK, ask_id, ark_id,
				     sim->amd_chain);
	if (!ret)
		ret = amd_cert_build(sim->ark_key, sim->ark_key,
				     SEVMIG_CERT_USAGE_ARK, ark_id, ark_id,
				     sim->amd_chain + one);
	sim->ark_off = one;
	sim->amd_chain_len = 2 * one;
	return ret;
}

static void sev_cert_init(struct sev_cert *c,
			  const struct sevmig_sim_host *host, uint32_t usage,
			  uint32_t algo)
{
	memset(c, 0, sizeof(*c));
	c->version = 1;
	c->api_major = host->api_major;
	c->api_minor = host->api_minor;
	c->pub_key_usage = usage;
	c->pub_key_algo = algo;
	c->sig1_usage = SEVMIG_CERT_USAGE_NONE;
	c->sig2_usage = SEVMIG_CERT_USAGE_NONE;
}

static int sev_sign_ecdsa(struct sev_cert *c, int slot,
			  const struct sim_key *signer)
{
	union sev_sig *sig = slot == 1 ? &c->sig1 : &c->sig2;

	if (slot == 1) {
		c->sig1_usage = signer->cert.pub_key_usage;
		c->sig1_algo = SEVMIG_CERT_ALGO_ECDSA_SHA256;
	} else {
		c->sig2_usage = signer->cert.pub_key_usage;
		c->sig2_algo = SEVMIG_CERT_ALGO_ECDSA_SHA256;
	}
	return simc_ecdsa_sign(signer->pkey, EVP_sha256(), c,
			       SEV_CERT_SIGNED_SIZE, sig->ecdsa.r,
			       sig->ecdsa.s);
}

static int new_key(struct sim_key *k, const struct sevmig_sim_host *host,
		   uint32_t usage, uint32_t algo)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	if (simc_ec_keygen(&k->pkey))
		return -EIO;
	sev_cert_init(&k->cert, host, usage, algo);
	return simc_ec_pub_to_cert(k->pkey, &k->cert.pub_key.ecc);
}

int sim_host_keys(struct sevmig_sim_host *host, bool regen_all, bool regen_pek)
{
	struct sevmig_sim *sim = host->sim;
	int ret = 0;

	if (regen_all) {
		ret = new_key(&host->oca, host, SEVMIG_CERT_USAGE_OCA,
			      SEVMIG_CERT_ALGO_ECDSA_SHA256);
		if (!ret)
			ret = sev_sign_ecdsa(&host->oca.cert, 1, &host->oca);
		if (!ret)
			ret = new_key(&host->cek, host, SEVMIG_CERT_USAGE_CEK,
				      SEVMIG_CERT_ALGO_ECDSA_SHA256);
		if (!ret) {
			host->cek.cert.sig1_usage = SEVMIG_CERT_USAGE_ASK;
			host->cek.cert.sig1_algo = SEVMIG_CERT_ALGO_RSA_SHA256;
			ret = simc_rsa_pss_sign(sim->ask_key, EVP_sha256(),
						&host->cek.cert,
						SEV_CERT_SIGNED_SIZE,
						host->cek.cert.sig1.rsa,
						AMD_BYTES);
		}
		if (!ret)
			ret = simc_random(host->id, sizeof(host->id));
	}
	if (!ret && (regen_all || regen_pek)) {
		ret = new_key(&host->pek, host, SEVMIG_CERT_USAGE_PEK,
			      SEVMIG_CERT_ALGO_ECDSA_SHA256);
		if (!ret) /* like real PEKs: sig1 by the OCA, sig2 by the CEK */
			ret = sev_sign_ecdsa(&host->pek.cert, 1, &host->oca);
		if (!ret)
			ret = sev_sign_ecdsa(&host->pek.cert, 2, &host->cek);
	}
	if (!ret)
		ret = new_key(&host->pdh, host, SEVMIG_CERT_USAGE_PDH,
			      SEVMIG_CERT_ALGO_ECDH_SHA256);
	if (!ret)
		ret = sev_sign_ecdsa(&host->pdh.cert, 1, &host->pek);
	return ret;
}

/* ----------------------------------------------------------------- verify */

static const EVP_MD *sig_md(uint32_t algo)
{
	switch (algo) {
	case SEVMIG_CERT_ALGO_ECDSA_SHA256:
	case SEVMIG_CERT_ALGO_RSA_SHA256:
		return EVP_sha256();
	case SEVMIG_CERT_ALGO_ECDSA_SHA384:
	case SEVMIG_CERT_ALGO_RSA_SHA384:
		return EVP_sha384();
	default:
		return NULL;
	}
}

/* The signature slot of @c made by a key of @usage, or NULL. */
static const union sev_sig *find_sig(const struct sev_cert *c,
					    uint32_t usage, uint32_t *algo)
{
	if (c->sig1_usage == usage) {
		*algo = c->sig1_algo;
		return &c->sig1;
	}
	if (c->sig2_usage == usage) {
		*algo = c->sig2_algo;
		return &c->sig2;
	}
	return NULL;
}

static bool sev_cert_sane(const struct sev_cert *c)
{
	return c->version == 1 && c->pub_key_usage >= SEVMIG_CERT_USAGE_OCA &&
	       c->pub_key_usage <= SEVMIG_CERT_USAGE_CEK;
}

int sim_verify_sev_by_sev(const struct sev_cert *c,
			  const struct sev_cert *signer)
{
	const union sev_sig *sig;
	const EVP_MD *md;
	EVP_PKEY *key;
	uint32_t algo = 0;
	int ret;

	if (!sev_cert_sane(c) || !sev_cert_sane(signer))
		return -EINVAL;
	if (signer->pub_key_algo != SEVMIG_CERT_ALGO_ECDSA_SHA256 &&
	    signer->pub_key_algo != SEVMIG_CERT_ALGO_ECDSA_SHA384)
		return -EINVAL; /* ECDH and RSA keys do not sign SEV certs here */
	sig = find_sig(c, signer->pub_key_usage, &algo);
	if (!sig)
		return -ENOKEY;
	md = sig_md(algo);
	if (!md || (algo != SEVMIG_CERT_ALGO_ECDSA_SHA256 &&
		    algo != SEVMIG_CERT_ALGO_ECDSA_SHA384))
		return -EINVAL;
	key = simc_ec_pub_from_cert(&signer->pub_key.ecc);
	if (!key)
		return -EINVAL;
	ret = simc_ecdsa_verify(key, md, c, SEV_CERT_SIGNED_SIZE,
				sig->ecdsa.r, sig->ecdsa.s);
	EVP_PKEY_free(key);
	return ret;
}

struct amd_view {
	struct amd_cert_hdr h;
	const uint8_t *exp, *mod, *sig;
	size_t exp_len, mod_len, signed_len, total;
};

/* Parse an AMD cert whose signature is @sig_len bytes (0: own modulus). */
static int amd_parse(const uint8_t *p, size_t len, size_t sig_len,
		     struct amd_view *v)
{
	if (len < AMD_CERT_HDR_SIZE)
		return -EINVAL;
	memcpy(&v->h, p, sizeof(v->h));
	if (v->h.version != 1 ||
	    (v->h.modulus_size_bits != 2048 && v->h.modulus_size_bits != 4096) ||
	    (v->h.pub_exp_size_bits != 2048 && v->h.pub_exp_size_bits != 4096))
		return -EINVAL;
	v->exp_len = v->h.pub_exp_size_bits / 8;
	v->mod_len = v->h.modulus_size_bits / 8;
	if (!sig_len)
		sig_len = v->mod_len;
	v->signed_len = AMD_CERT_HDR_SIZE + v->exp_len + v->mod_len;
	v->total = v->signed_len + sig_len;
	if (v->total > len)
		return -EINVAL;
	v->exp = p + AMD_CERT_HDR_SIZE;
	v->mod = v->exp + v->exp_len;
	v->sig = v->mod + v->mod_len;
	return 0;
}

static EVP_PKEY *amd_key(const struct amd_view *v)
{
	return simc_rsa_pub_from_le(v->exp, v->exp_len, v->mod, v->mod_len);
}

static const EVP_MD *amd_md(size_t mod_len)
{
	return mod_len == 256 ? EVP_sha256() : EVP_sha384();
}

int sim_verify_amd_by_amd(const uint8_t *c, size_t clen, const uint8_t *s,
			  size_t slen)
{
	struct amd_view cv, sv;
	EVP_PKEY *key;
	int ret;

	if (amd_parse(s, slen, 0, &sv) && amd_parse(s, slen, 256, &sv) &&
	    amd_parse(s, slen, 512, &sv))
		return -EINVAL;
	if (clen < AMD_CERT_HDR_SIZE)
		return -EINVAL;
	memcpy(&cv.h, c, sizeof(cv.h));
	if (memcmp(&cv.h.certifying_id_0, &sv.h.key_id_0, 16) != 0)
		return -ENOKEY; /* names another signer */
	if (amd_parse(c, clen, sv.mod_len, &cv) || cv.total != clen)
		return -EINVAL;
	key = amd_key(&sv);
	if (!key)
		return -EINVAL;
	ret = simc_rsa_pss_verify(key, amd_md(sv.mod_len), c, cv.signed_len,
				  cv.sig, sv.mod_len);
	EVP_PKEY_free(key);
	return ret;
}

/* Length of a signer AMD cert whose own signer size is unknown. */
static int amd_parse_any(const uint8_t *s, size_t slen, struct amd_view *v)
{
	static const size_t sizes[] = { 256, 512 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
		if (!amd_parse(s, slen, sizes[i], v) && v->total == slen)
			return 0;
	return -EINVAL;
}

int sim_verify_sev_by_amd(const struct sev_cert *c, const uint8_t *s,
			  size_t slen)
{
	const union sev_sig *sig;
	struct amd_view sv;
	uint32_t algo = 0;
	EVP_PKEY *key;
	int ret;

	if (!sev_cert_sane(c) || amd_parse_any(s, slen, &sv))
		return -EINVAL;
	sig = find_sig(c, sv.h.key_usage, &algo);
	if (!sig)
		return -ENOKEY;
	if ((algo != SEVMIG_CERT_ALGO_RSA_SHA256 && algo != SEVMIG_CERT_ALGO_RSA_SHA384) ||
	    sv.mod_len > sizeof(sig->rsa))
		return -EINVAL;
	key = amd_key(&sv);
	if (!key)
		return -EINVAL;
	ret = simc_rsa_pss_verify(key, sig_md(algo), c,
				  SEV_CERT_SIGNED_SIZE, sig->rsa,
				  sv.mod_len);
	EVP_PKEY_free(key);
	return ret;
}

int sim_cert_verify(const void *cert, size_t cert_len, const void *signer,
		    size_t signer_len)
{
	struct sev_cert c, s;
	bool c_sev, s_sev;

	c_sev = cert_len == SEVMIG_SEV_CERT_LEN;
	s_sev = signer_len == SEVMIG_SEV_CERT_LEN;
	if (c_sev)
		memcpy(&c, cert, sizeof(c));
	if (s_sev)
		memcpy(&s, signer, sizeof(s));
	if (c_sev && s_sev)
		return sim_verify_sev_by_sev(&c, &s);
	if (c_sev)
		return sim_verify_sev_by_amd(&c, signer, signer_len);
	if (s_sev)
		return -EINVAL;
	return sim_verify_amd_by_amd(cert, cert_len, signer, signer_len);
}

/* ------------------------------------------------------------ SEND_START */

static uint32_t fw_of(int err)
{
	if (err == -EKEYREJECTED || err == -ENOKEY)
		return SEV_RET_BAD_SIGNATURE;
	return SEV_RET_INVALID_CERTIFICATE;
}

static bool known_ark(struct sevmig_sim *sim, const uint8_t *ark, size_t len)
{
	bool ok = len == sim->amd_chain_len - sim->ark_off &&
		  !memcmp(ark, sim->amd_chain + sim->ark_off, len);

	pthread_mutex_lock(&sim->lock);
	for (size_t i = 0; !ok && i < sim->nroots; i++)
		ok = sim->root_len[i] == len && !memcmp(sim->roots[i], ark, len);
	pthread_mutex_unlock(&sim->lock);
	return ok;
}

uint32_t sim_check_sev_chain(struct sevmig_sim *sim,
			     const struct sev_cert *pdh,
			     const uint8_t *plat, uint32_t plat_len,
			     const uint8_t *amd, uint32_t amd_len)
{
	struct sev_cert pek, oca, cek;
	struct amd_view ask, ark;
	size_t ask_len = 0;
	int ret;

	if (plat_len != SEVMIG_PLAT_CHAIN_LEN)
		return SEV_RET_INVALID_LEN;
	if (amd_len != AMD_CHAIN_2K_2K && amd_len != AMD_CHAIN_4K_2K &&
	    amd_len != AMD_CHAIN_2K_4K && amd_len != AMD_CHAIN_4K_4K)
		return SEV_RET_INVALID_LEN;
	memcpy(&pek, plat, sizeof(pek));
	memcpy(&oca, plat + SEVMIG_SEV_CERT_LEN, sizeof(oca));
	memcpy(&cek, plat + 2 * SEVMIG_SEV_CERT_LEN, sizeof(cek));
	if (pek.pub_key_usage != SEVMIG_CERT_USAGE_PEK ||
	    oca.pub_key_usage != SEVMIG_CERT_USAGE_OCA ||
	    cek.pub_key_usage != SEVMIG_CERT_USAGE_CEK)
		return SEV_RET_INVALID_CERTIFICATE;
	/* Split ASK || ARK: the ASK's signature is as long as the ARK's key. */
	for (size_t sig = 256; sig <= 512 && !ask_len; sig += 256) {
		if (amd_parse(amd, amd_len, sig, &ask) ||
		    amd_parse(amd + ask.total, amd_len - ask.total, 0, &ark) ||
		    ark.mod_len != sig || ask.total + ark.total != amd_len)
			continue;
		ask_len = ask.total;
	}
	if (!ask_len || ask.h.key_usage != SEVMIG_CERT_USAGE_ASK ||
	    ark.h.key_usage != SEVMIG_CERT_USAGE_ARK)
		return SEV_RET_INVALID_CERTIFICATE;
	if (!known_ark(sim, amd + ask_len, amd_len - ask_len))
		return SEV_RET_INVALID_CERTIFICATE;
	ret = sim_verify_amd_by_amd(amd + ask_len, amd_len - ask_len,
				    amd + ask_len, amd_len - ask_len);
	if (!ret)
		ret = sim_verify_amd_by_amd(amd, ask_len, amd + ask_len,
					    amd_len - ask_len);
	if (!ret)
		ret = sim_verify_sev_by_amd(&cek, amd, ask_len);
	if (!ret)
		ret = sim_verify_sev_by_sev(&pek, &cek);
	if (!ret)
		ret = sim_verify_sev_by_sev(pdh, &pek);
	return ret ? fw_of(ret) : 0;
}

/* ---------------------------------------------------------------- roots */

int sim_trust_ark(struct sevmig_sim *sim, const void *ark, size_t len)
{
	struct amd_view v;
	uint8_t *copy;
	int ret;

	if (amd_parse(ark, len, 0, &v) ||
	    v.total != len || v.h.key_usage != SEVMIG_CERT_USAGE_ARK)
		return -EINVAL;
	ret = sim_verify_amd_by_amd(ark, len, ark, len);
	if (ret)
		return ret;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ark, len);
	pthread_mutex_lock(&sim->lock);
	if (sim->nroots == SIM_MAX_ROOTS) {
		pthread_mutex_unlock(&sim->lock);
		free(copy);
		return -ENOSPC;
	}
	sim->roots[sim->nroots] = copy;
	sim->root_len[sim->nroots++] = len;
	pthread_mutex_unlock(&sim->lock);
	return 0;
}
