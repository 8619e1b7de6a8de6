// SPDX-License-Identifier: MIT
/*
 * Guest commands that move a guest between machines (SEND_*, RECEIVE_*)
 * and the SEV API transport they use, byte for byte as AMD's firmware
 * writes it (docs/simulator.md, "Transport", names the source of each
 * rule): ECDH P-384 between the PDHs, the SP 800-108 KDF, AES-128-CTR and
 * HMAC-SHA256.
 */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sim-internal.h"

#define PKT_CTX_DATA 0x02u          /* SEV_CHANNEL_CTX_DATA */
#define PKT_FLAG_COMPRESSED 1u
#define PKT_AAD_LEN 29u

struct pkt_hdr {
	uint32_t flags;
	uint8_t iv[16];
	uint8_t mac[32];
} __attribute__((packed));
_Static_assert(sizeof(struct pkt_hdr) == SEVMIG_PACKET_HDR_LEN, "hdr");

/* --------------------------------------------------------- key schedule */

/* master = KDF(Z, "sev-master-secret", NONCE); KEK, KIK = KDF(master). */
static int derive_kek_kik(const uint8_t *z, size_t zlen,
			  const uint8_t nonce[16], uint8_t kek[16],
			  uint8_t kik[16])
{
	uint8_t master[16];
	int ret;

	/*
	 * kdf(key, len, label, context, len, out): master is the key of the
	 * next two, kek and kik their outputs, as the names say.
	 */
	ret = simc_kdf(z, zlen, "sev-master-secret", nonce, 16, master);
	if (!ret)
		// NOLINTNEXTLINE(readability-suspicious-call-argument)
		ret = simc_kdf(master, 16, "sev-kek", NULL, 0, kek);
	if (!ret)
		ret = simc_kdf(master, 16, "sev-kik", NULL, 0, kik);
	OPENSSL_cleanse(master, sizeof(master));
	return ret;
}

int sim_session_wrap(const uint8_t *z, size_t zlen, const uint8_t nonce[16],
		     const uint8_t iv[16], const uint8_t tek[16],
		     const uint8_t tik[16], uint32_t policy,
		     struct sim_session *out)
{
	uint8_t tk[32], kek[16], kik[16];
	int ret;

	memcpy(out->nonce, nonce, 16);
	memcpy(out->wrap_iv, iv, 16);
	memcpy(tk, tek, 16);
	memcpy(tk + 16, tik, 16);
	ret = derive_kek_kik(z, zlen, nonce, kek, kik);
	if (!ret)
		ret = simc_aes128_ctr(kek, iv, tk, out->wrap_tk, 32);
	if (!ret)
		ret = simc_hmac(kik, 16, out->wrap_tk, 32, NULL, 0,
				out->wrap_mac);
	if (!ret) /* the policy as its 4 little-endian bytes */
		ret = simc_hmac(tik, 16, &policy, 4, NULL, 0, out->policy_mac);
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(kik, sizeof(kik));
	return ret;
}

/* The receiver's side: WRAP_MAC, unwrap, POLICY_MAC. Returns 0, a
 * negative errno, or SEV_RET_BAD_MEASUREMENT for a MAC that fails. */
static int session_unwrap(const uint8_t *z, size_t zlen,
			  const struct sim_session *s, uint32_t policy,
			  uint8_t tek[16], uint8_t tik[16])
{
	uint8_t tk[32], kek[16], kik[16], mac[32];
	int ret;

	ret = derive_kek_kik(z, zlen, s->nonce, kek, kik);
	if (!ret)
		ret = simc_hmac(kik, 16, s->wrap_tk, 32, NULL, 0, mac);
	if (!ret && !simc_memeq(mac, s->wrap_mac, 32))
		ret = SEV_RET_BAD_MEASUREMENT; /* wrong PDH or tampering */
	if (!ret)
		ret = simc_aes128_ctr(kek, s->wrap_iv, s->wrap_tk, tk, 32);
	if (!ret)
		ret = simc_hmac(tk + 16, 16, &policy, 4, NULL, 0, mac);
	if (!ret && !simc_memeq(mac, s->policy_mac, 32))
		ret = SEV_RET_BAD_MEASUREMENT;
	if (!ret) {
		memcpy(tek, tk, 16);
		memcpy(tik, tk + 16, 16);
	}
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(kik, sizeof(kik));
	return ret;
}

int sim_packet_mac(const uint8_t tik[16], uint32_t flags,
		   const uint8_t iv[16], uint32_t len, const uint8_t *ct,
		   uint8_t mac[32])
{
	uint8_t aad[PKT_AAD_LEN];

	aad[0] = PKT_CTX_DATA;
	memcpy(aad + 1, &flags, 4);
	memcpy(aad + 5, iv, 16);
	memcpy(aad + 21, &len, 4); /* uncompressed length */
	memcpy(aad + 25, &len, 4); /* transport length */
	return simc_hmac(tik, 16, aad, sizeof(aad), ct, len, mac);
}

/*
 * The peer's PDH as a key, or NULL: sev_cert_sanity_check(cert, PDH,
 * ECDH_SHA256) in the firmware's sev_channel_open_client/_server wants
 * version 1, usage PDH, algorithm ECDH_SHA256 exactly and a P-384 point.
 */
static EVP_PKEY *peer_pdh_key(const uint8_t *cert)
{
	struct sev_cert c;

	memcpy(&c, cert, sizeof(c));
	if (c.version != 1 || c.pub_key_usage != SEVMIG_CERT_USAGE_PDH ||
	    c.pub_key_algo != SEVMIG_CERT_ALGO_ECDH_SHA256 ||
	    c.pub_key.ecc.curve != SEVMIG_CERT_CURVE_P384)
		return NULL;
	return simc_ec_pub_from_cert(&c.pub_key.ecc);
}

/* Z = ECDH(own PDH, peer PDH): the 48-byte x coordinate, big-endian. */
static int pdh_secret(struct sevmig_sim_host *host, EVP_PKEY *peer,
		      uint8_t z[48])
{
	return simc_ecdh(host->pdh.pkey, peer, z);
}

/* ---------------------------------------------------------------- SEND */

static uint32_t send_policy_checks(struct sim_gcmd *g,
				   const struct sim_guest *guest,
				   const struct kvm_sev_send_start *p)
{
	if (guest->policy & SEVMIG_GUEST_POLICY_SEV) {
		struct sev_cert pdh, pek;
		uint32_t st;

		memcpy(&pdh, sim_uptr(p->pdh_cert_uaddr), sizeof(pdh));
		st = sim_check_sev_chain(g->host->sim, &pdh,
					 sim_uptr(p->plat_certs_uaddr),
					 p->plat_certs_len,
					 sim_uptr(p->amd_certs_uaddr),
					 p->amd_certs_len);
		if (st)
			return st;
		memcpy(&pek, sim_uptr(p->plat_certs_uaddr), sizeof(pek));
		if (pek.api_major < SEV_POLICY_API_MAJOR(guest->policy) ||
		    (pek.api_major == SEV_POLICY_API_MAJOR(guest->policy) &&
		     pek.api_minor < SEV_POLICY_API_MINOR(guest->policy)))
			return SEV_RET_POLICY_FAILURE;
	}
	if (guest->policy & SEVMIG_GUEST_POLICY_DOMAIN) {
		struct sev_cert pdh, pek, oca;
		const uint8_t *plat = sim_uptr(p->plat_certs_uaddr);

		if (p->plat_certs_len != SEVMIG_PLAT_CHAIN_LEN)
			return SEV_RET_INVALID_LEN;
		memcpy(&pdh, sim_uptr(p->pdh_cert_uaddr), sizeof(pdh));
		memcpy(&pek, plat, sizeof(pek));
		memcpy(&oca, plat + SEVMIG_SEV_CERT_LEN, sizeof(oca));
		if (sim_verify_sev_by_sev(&oca, &oca) ||
		    sim_verify_sev_by_sev(&pek, &oca) ||
		    sim_verify_sev_by_sev(&pdh, &pek))
			return SEV_RET_BAD_SIGNATURE;
		if (memcmp(&oca, &g->host->oca.cert, sizeof(oca)) != 0)
			return SEV_RET_POLICY_FAILURE;
	}
	return 0;
}

int sim_cmd_send_start(struct sim_gcmd *g)
{
	struct kvm_sev_send_start p;
	struct sim_guest *guest;
	struct sim_session s;
	uint8_t z[48], nonce[16], iv[16], tk[32];
	EVP_PKEY *peer;
	uint32_t st;
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (p.session_len) {
		if (!p.pdh_cert_uaddr || !p.pdh_cert_len || !p.session_uaddr ||
		    p.session_len > SEV_FW_BLOB_MAX_SIZE)
			return -EINVAL;
		if (sim_blob_check(p.pdh_cert_uaddr, p.pdh_cert_len) ||
		    sim_blob_check(p.plat_certs_uaddr, p.plat_certs_len) ||
		    sim_blob_check(p.amd_certs_uaddr, p.amd_certs_len))
			return -EINVAL;
	}
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (p.session_len != SEVMIG_SESSION_LEN) {
		p.session_len = SEVMIG_SESSION_LEN;
		memcpy(sim_uptr(g->c->data), &p, sizeof(p));
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	}
	if (guest->state != SEV_GSTATE_RUNNING)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	if (guest->policy & SEVMIG_GUEST_POLICY_NOSEND)
		return sim_fw_fail(g->fw, SEV_RET_POLICY_FAILURE);
	if (p.pdh_cert_len != SEVMIG_SEV_CERT_LEN)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	st = send_policy_checks(g, guest, &p);
	if (st)
		return sim_fw_fail(g->fw, st);
	peer = peer_pdh_key(sim_uptr(p.pdh_cert_uaddr));
	if (!peer)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_CERTIFICATE);
	ret = pdh_secret(g->host, peer, z);
	EVP_PKEY_free(peer);
	if (!ret)
		ret = simc_random(tk, sizeof(tk)); /* TEK || TIK */
	if (!ret)
		ret = simc_random(nonce, sizeof(nonce));
	if (!ret)
		ret = simc_random(iv, sizeof(iv));
	if (!ret)
		ret = sim_session_wrap(z, sizeof(z), nonce, iv, tk, tk + 16,
				       guest->policy, &s);
	if (!ret) {
		memcpy(guest->tek, tk, 16);
		memcpy(guest->tik, tk + 16, 16);
		guest->chan = true;
		guest->state = SEV_GSTATE_SUPDATE;
		memcpy(sim_uptr(p.session_uaddr), &s, sizeof(s));
		p.policy = guest->policy;
		p.session_len = SEVMIG_SESSION_LEN;
		memcpy(sim_uptr(g->c->data), &p, sizeof(p));
		*g->fw = 0;
	}
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(tk, sizeof(tk));
	return ret;
}

/* Kernel checks shared by SEND/RECEIVE_UPDATE_DATA's real calls. */
static int page_bounds(const struct kvm_sev_send_update_data *p)
{
	if (p->guest_len > SIM_PAGE_SIZE ||
	    (p->guest_uaddr & (SIM_PAGE_SIZE - 1u)) + p->guest_len >
		    SIM_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

int sim_cmd_send_update_data(struct sim_gcmd *g)
{
	struct kvm_sev_send_update_data p;
	struct sim_guest *guest;
	struct pkt_hdr h;
	uint8_t ct[SIM_PAGE_SIZE];
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (!p.trans_len || !p.hdr_len) { /* length query */
		ret = sim_gcmd_issue(g);
		if (ret)
			return ret;
		guest = sim_gcmd_guest(g, &ret);
		if (!guest)
			return ret;
		p.hdr_len = SEVMIG_PACKET_HDR_LEN;
		p.trans_len = 0; /* AMD-ASPFW never writes it */
		memcpy(sim_uptr(g->c->data), &p, sizeof(p));
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	}
	if (!p.trans_uaddr || !p.guest_uaddr || !p.guest_len || !p.hdr_uaddr)
		return -EINVAL;
	if (page_bounds(&p))
		return -EINVAL;
	if (p.hdr_len > SIM_KMALLOC_MAX || p.trans_len > SIM_KMALLOC_MAX)
		return -ENOMEM;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (p.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	if (guest->state != SEV_GSTATE_SUPDATE)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	if (!guest->active)
		return sim_fw_fail(g->fw, SEV_RET_INACTIVE);
	if ((p.guest_len & 15u) || p.trans_len < p.guest_len)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	if (p.guest_uaddr & 15u)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_ADDRESS);
	memset(&h, 0, sizeof(h));
	ret = simc_random(h.iv, sizeof(h.iv));
	if (!ret)
		ret = simc_aes128_ctr(guest->tek, h.iv, sim_uptr(p.guest_uaddr),
				      ct, p.guest_len);
	if (!ret)
		ret = sim_packet_mac(guest->tik, h.flags, h.iv, p.guest_len, ct,
				     h.mac);
	if (ret)
		return ret;
	memset(sim_uptr(p.hdr_uaddr), 0, p.hdr_len);
	memcpy(sim_uptr(p.hdr_uaddr), &h, sizeof(h));
	memset(sim_uptr(p.trans_uaddr), 0, p.trans_len);
	memcpy(sim_uptr(p.trans_uaddr), ct, p.guest_len);
	*g->fw = 0;
	return 0;
}

/* A command that only moves the guest from @from to @to and closes its
 * transport channel. */
static int transition(struct sim_gcmd *g, uint32_t from, uint32_t to)
{
	struct sim_guest *guest;
	int ret;

	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != from)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	sim_guest_chan_close(guest);
	guest->state = to;
	*g->fw = 0;
	return 0;
}

int sim_cmd_send_finish(struct sim_gcmd *g)
{
	return transition(g, SEV_GSTATE_SUPDATE, SEV_GSTATE_SENT);
}

int sim_cmd_send_cancel(struct sim_gcmd *g)
{
	return transition(g, SEV_GSTATE_SUPDATE, SEV_GSTATE_RUNNING);
}

/* ------------------------------------------------------------- RECEIVE */

/* sev_mcmd_receive_start(): lengths, the sender's PDH, the session MACs,
 * the policy, key sharing, SEV-ES; then KVM's ACTIVATE. */
int sim_cmd_receive_start(struct sim_gcmd *g)
{
	struct kvm_sev_receive_start p;
	struct sim_guest *guest;
	struct sim_session s;
	uint8_t z[48], tek[16], tik[16];
	EVP_PKEY *peer;
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (!p.pdh_uaddr || !p.pdh_len || !p.session_uaddr || !p.session_len)
		return -EINVAL;
	if (sim_blob_check(p.pdh_uaddr, p.pdh_len) ||
	    sim_blob_check(p.session_uaddr, p.session_len))
		return -EINVAL;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	if (g->host->pstate == SEV_PSTATE_UNINIT)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_PLATFORM_STATE);
	if (p.session_len != SEVMIG_SESSION_LEN ||
	    p.pdh_len != SEVMIG_SEV_CERT_LEN)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	peer = peer_pdh_key(sim_uptr(p.pdh_uaddr));
	if (!peer)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_CERTIFICATE);
	memcpy(&s, sim_uptr(p.session_uaddr), sizeof(s));
	ret = pdh_secret(g->host, peer, z);
	EVP_PKEY_free(peer);
	if (!ret)
		ret = session_unwrap(z, sizeof(z), &s, p.policy, tek, tik);
	OPENSSL_cleanse(z, sizeof(z));
	if (ret > 0)
		ret = sim_fw_fail(g->fw, (uint32_t)ret);
	if (!ret)
		ret = sim_fw_new_guest_policy(g, p.handle, p.policy);
	if (ret)
		goto out;
	guest = sim_guest_new(g->host, p.policy, SEV_GSTATE_RUPDATE);
	if (!guest) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(guest->tek, tek, 16);
	memcpy(guest->tik, tik, 16);
	guest->chan = true;
	*g->fw = 0;
	ret = sim_gcmd_activate(g, guest);
	if (!ret) {
		p.handle = guest->handle;
		memcpy(sim_uptr(g->c->data), &p, sizeof(p));
	}
out:
	OPENSSL_cleanse(tek, sizeof(tek));
	OPENSSL_cleanse(tik, sizeof(tik));
	return ret;
}

/* sev_mcmd_receive_update(): state, ASID, lengths, address, then the
 * COMPRESSED flag (UNSUPPORTED); any other FLAGS bit is covered by the MAC,
 * so it fails there as BAD_MEASUREMENT like any tampering. */
int sim_cmd_receive_update_data(struct sim_gcmd *g)
{
	struct kvm_sev_send_update_data p;
	struct sim_guest *guest;
	struct pkt_hdr h;
	uint8_t pt[SIM_PAGE_SIZE], mac[32];
	int ret;

	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, sim_uptr(g->c->data), sizeof(p));
	if (!p.hdr_uaddr || !p.hdr_len || !p.guest_uaddr || !p.guest_len ||
	    !p.trans_uaddr || !p.trans_len)
		return -EINVAL;
	if (page_bounds(&p))
		return -EINVAL;
	if (sim_blob_check(p.hdr_uaddr, p.hdr_len) ||
	    sim_blob_check(p.trans_uaddr, p.trans_len))
		return -EINVAL;
	ret = sim_gcmd_issue(g);
	if (ret)
		return ret;
	guest = sim_gcmd_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != SEV_GSTATE_RUPDATE)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_GUEST_STATE);
	if (!guest->active)
		return sim_fw_fail(g->fw, SEV_RET_INACTIVE);
	if (p.trans_len != p.guest_len || (p.guest_len & 15u) ||
	    p.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_LEN);
	if (p.guest_uaddr & 15u)
		return sim_fw_fail(g->fw, SEV_RET_INVALID_ADDRESS);
	memcpy(&h, sim_uptr(p.hdr_uaddr), sizeof(h));
	if (h.flags & PKT_FLAG_COMPRESSED)
		return sim_fw_fail(g->fw, SEV_RET_UNSUPPORTED);
	ret = sim_packet_mac(guest->tik, h.flags, h.iv, p.trans_len,
			     sim_uptr(p.trans_uaddr), mac);
	if (ret)
		return ret;
	if (!simc_memeq(mac, h.mac, sizeof(mac)))
		return sim_fw_fail(g->fw, SEV_RET_BAD_MEASUREMENT);
	ret = simc_aes128_ctr(guest->tek, h.iv, sim_uptr(p.trans_uaddr), pt,
			      p.trans_len);
	if (ret)
		return ret;
	memcpy(sim_uptr(p.guest_uaddr), pt, p.guest_len);
	OPENSSL_cleanse(pt, sizeof(pt));
	*g->fw = 0;
	return 0;
}

int sim_cmd_receive_finish(struct sim_gcmd *g)
{
	return transition(g, SEV_GSTATE_RUPDATE, SEV_GSTATE_RUNNING);
}
