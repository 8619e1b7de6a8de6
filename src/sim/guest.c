// SPDX-License-Identifier: MIT
/*
 * The SEV side of KVM (KVM_MEMORY_ENCRYPT_OP, REG_REGION, MOVE/COPY) and
 * the SEV firmware's guest commands. Each command runs the kernel-side
 * checks of kernel-interfaces.md §4 first (errno results, no firmware
 * status), then enters the PSP and runs the firmware checks of §3.4/§4/§6
 * in the documented order (-EIO plus a status in cmd->error).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "sim-internal.h"

#define PAGE_OFF(a) ((a) & (SIM_PAGE_SIZE - 1u))
#define AAD_LEN 29u
#define PKT_CTX_DATA 0x02u
#define PKT_FLAG_COMPRESSED 1u

struct gc {
	struct sevmig_sim_host *host;
	struct sim_vm *vm;
	struct kvm_sev_cmd *c;
	uint32_t *fw;
};

static int fw_fail(struct gc *g, uint32_t status)
{
	*g->fw = status;
	return -EIO;
}

static void *uptr(uint64_t a)
{
	return (void *)(uintptr_t)a;
}

/* psp_copy_user_blob(): the kernel's blob rules. */
static int blob(uint64_t uaddr, uint32_t len)
{
	if (!uaddr || !len || len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	return 0;
}

/* Issue a firmware command through @fd (PSP lock held). */
static int issue(struct gc *g, int fd)
{
	if (!sim_is_sev_fd(g->host, fd))
		return -EBADF;
	return sim_psp_enter(g->host, SEVMIG_SIM_FAULT_GUEST, g->c->id, g->fw);
}

/* Firmware: platform WORKING and a valid handle. */
static struct sim_guest *fw_guest(struct gc *g, int *ret)
{
	struct sim_guest *guest;

	if (g->host->pstate != SIM_PSTATE_WORKING) {
		*ret = fw_fail(g, SEV_RET_INVALID_PLATFORM_STATE);
		return NULL;
	}
	guest = sim_guest_find(g->host, g->vm->handle);
	if (!guest)
		*ret = fw_fail(g, SEV_RET_INVALID_GUEST);
	return guest;
}

static void chan_close(struct sim_guest *guest)
{
	guest->chan = false;
	OPENSSL_cleanse(guest->tek, sizeof(guest->tek));
	OPENSSL_cleanse(guest->tik, sizeof(guest->tik));
}

static struct sim_guest *guest_new(struct sevmig_sim_host *host,
				   uint32_t policy, uint32_t state)
{
	struct sim_guest *guest = calloc(1, sizeof(*guest));

	if (!guest)
		return NULL;
	guest->handle = host->next_handle++;
	if (!host->next_handle)
		host->next_handle = 1;
	guest->policy = policy;
	guest->state = state;
	guest->next = host->guests;
	host->guests = guest;
	host->pstate = SIM_PSTATE_WORKING;
	return guest;
}

/* KVM binds the ASID (ACTIVATE) after LAUNCH_START / RECEIVE_START. */
static int activate(struct gc *g, struct sim_guest *guest)
{
	if (g->vm->handle) { /* this VM's ASID is bound to another guest */
		sim_guest_decommission(g->host, guest->handle);
		return fw_fail(g, SIM_FW_ASID_OWNED);
	}
	guest->active = true;
	g->vm->handle = guest->handle;
	g->vm->sev_fd = (int)g->c->sev_fd;
	return 0;
}

/* Firmware policy checks shared by LAUNCH_START and RECEIVE_START. */
static int fw_policy_ok(struct gc *g, uint32_t policy)
{
	struct sevmig_sim_host *h = g->host;
	unsigned maj = SEV_POLICY_API_MAJOR(policy);
	unsigned min = SEV_POLICY_API_MINOR(policy);

	if ((policy & SEVMIG_GUEST_POLICY_RESERVED) || maj > h->api_major ||
	    (maj == h->api_major && min > h->api_minor))
		return fw_fail(g, SEV_RET_POLICY_FAILURE);
	if ((policy & SEVMIG_GUEST_POLICY_ES) && !(h->config & SEVMIG_SIM_CONFIG_ES))
		return fw_fail(g, SEV_RET_UNSUPPORTED);
	return 0;
}

/* Key sharing with an existing guest (non-zero handle at *_START). */
static int fw_key_share(struct gc *g, uint32_t handle, uint32_t policy)
{
	struct sim_guest *other;

	if (!handle)
		return 0;
	other = sim_guest_find(g->host, handle);
	if (!other)
		return fw_fail(g, SEV_RET_INVALID_GUEST);
	if ((other->policy & SEVMIG_GUEST_POLICY_NOKS) || other->policy != policy)
		return fw_fail(g, SEV_RET_POLICY_FAILURE);
	return 0;
}

/* ------------------------------------------------------------ INIT */

static int cmd_init(struct gc *g)
{
	struct sim_vm *vm = g->vm;
	struct sim_kvm_sev_init d;
	bool es;
	int ret;

	memset(&d, 0, sizeof(d));
	if (g->c->id == KVM_SEV_INIT2) {
		if (!vm->need_init)
			return -EINVAL;
		if (!g->c->data)
			return -EFAULT;
		memcpy(&d, uptr(g->c->data), sizeof(d));
		es = vm->type == KVM_X86_SEV_ES_VM;
		for (size_t i = 0; i < SIM_ARRAY_SIZE(d.pad2); i++)
			if (d.pad2[i])
				return -EINVAL;
		if (es && !(g->host->config & SEVMIG_SIM_CONFIG_ES))
			return -EINVAL;
	} else {
		if (vm->type != KVM_X86_DEFAULT_VM)
			return -EINVAL;
		es = g->c->id == KVM_SEV_ES_INIT;
		if (es && !(g->host->config & SEVMIG_SIM_CONFIG_ES))
			return -ENOTTY;
	}
	if (vm->nr_vcpus || d.flags || d.vmsa_features ||
	    d.ghcb_version > 2 || (!es && d.ghcb_version))
		return -EINVAL;
	if (vm->sev_active)
		return -EINVAL;
	pthread_mutex_lock(&g->host->psp);
	ret = sim_platform_init(g->host, g->fw);
	pthread_mutex_unlock(&g->host->psp);
	if (ret)
		return ret;
	vm->sev_active = true;
	vm->es_active = es;
	vm->need_init = false;
	return 0;
}

/* ------------------------------------------------------------ LAUNCH */

static int cmd_launch_start(struct gc *g)
{
	struct kvm_sev_launch_start p;
	struct sim_guest *guest;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if ((p.dh_uaddr && blob(p.dh_uaddr, p.dh_len)) ||
	    (p.session_uaddr && blob(p.session_uaddr, p.session_len)))
		return -EINVAL;
	ret = issue(g, (int)g->c->sev_fd);
	if (ret)
		return ret;
	if (g->host->pstate == SIM_PSTATE_UNINIT)
		return fw_fail(g, SEV_RET_INVALID_PLATFORM_STATE);
	ret = fw_key_share(g, p.handle, p.policy);
	if (!ret && p.dh_uaddr && p.dh_len != SEVMIG_SEV_CERT_LEN)
		ret = fw_fail(g, SEV_RET_INVALID_LEN);
	if (!ret && p.session_uaddr && p.session_len != SEVMIG_SESSION_LEN)
		ret = fw_fail(g, SEV_RET_INVALID_LEN);
	if (!ret)
		ret = fw_policy_ok(g, p.policy);
	if (ret)
		return ret;
	guest = guest_new(g->host, p.policy, SEV_GSTATE_LUPDATE);
	if (!guest)
		return -ENOMEM;
	*g->fw = 0;
	ret = activate(g, guest);
	if (ret)
		return ret;
	p.handle = guest->handle;
	memcpy(uptr(g->c->data), &p, sizeof(p));
	return 0;
}

static int cmd_launch_update_data(struct gc *g)
{
	struct sim_kvm_sev_launch_update_data p;
	struct sim_guest *guest;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (!p.len || p.uaddr + p.len < p.uaddr) /* sev_pin_memory() */
		return -EINVAL;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != SEV_GSTATE_LUPDATE)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	if (p.uaddr & 15u)
		return fw_fail(g, SEV_RET_INVALID_ADDRESS);
	if (p.len & 15u)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	*g->fw = 0;
	return simc_sha256(guest->digest, sizeof(guest->digest), uptr(p.uaddr),
			   p.len, guest->digest);
}

static int cmd_launch_update_vmsa(struct gc *g)
{
	struct sim_guest *guest;
	int ret;

	if (!g->vm->sev_active || !g->vm->es_active)
		return -ENOTTY;
	if (g->vm->nr_vcpus && g->vm->nr_vmsa == g->vm->nr_vcpus)
		return -EINVAL; /* guest_state_protected already */
	for (uint32_t i = g->vm->nr_vmsa; i < g->vm->nr_vcpus; i++) {
		ret = issue(g, g->vm->sev_fd);
		if (ret)
			return ret;
		guest = fw_guest(g, &ret);
		if (!guest)
			return ret;
		if (guest->state != SEV_GSTATE_LUPDATE)
			return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
		*g->fw = 0;
		g->vm->nr_vmsa = i + 1;
	}
	return 0;
}

static int cmd_launch_measure(struct gc *g)
{
	struct sim_kvm_sev_launch_update_data p;
	struct sim_guest *guest;
	uint8_t msg[1 + 3 + 4 + 32 + 16], out[SIM_MEASURE_LEN];
	uint32_t len;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (p.len && p.uaddr && p.len > SEV_FW_BLOB_MAX_SIZE)
		return -EINVAL;
	len = p.uaddr ? p.len : 0;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (len < SIM_MEASURE_LEN) {
		p.len = SIM_MEASURE_LEN;
		memcpy(uptr(g->c->data), &p, sizeof(p));
		return fw_fail(g, SEV_RET_INVALID_LEN);
	}
	if (guest->state != SEV_GSTATE_LUPDATE)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	/* HMAC(key, 0x04 || api || build || policy || digest || mnonce) */
	msg[0] = 0x04;
	msg[1] = g->host->api_major;
	msg[2] = g->host->api_minor;
	msg[3] = g->host->build;
	memcpy(msg + 4, &guest->policy, 4);
	memcpy(msg + 8, guest->digest, 32);
	ret = simc_random(msg + 40, 16);
	if (!ret)
		ret = simc_hmac(g->host->measure_key, 32, msg, sizeof(msg), NULL,
				0, out);
	if (ret)
		return ret;
	memcpy(out + 32, msg + 40, 16);
	memcpy(uptr(p.uaddr), out, sizeof(out));
	guest->state = SEV_GSTATE_LSECRET;
	*g->fw = 0;
	p.len = SIM_MEASURE_LEN;
	memcpy(uptr(g->c->data), &p, sizeof(p));
	return 0;
}

/* A command that only moves the guest from @from to @to. */
static int cmd_transition(struct gc *g, uint32_t from, uint32_t to,
			  bool close_chan)
{
	struct sim_guest *guest;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != from)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	if (close_chan)
		chan_close(guest);
	guest->state = to;
	*g->fw = 0;
	return 0;
}

static int cmd_guest_status(struct gc *g)
{
	struct kvm_sev_guest_status st;
	struct sim_guest *guest;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	if (g->host->pstate == SIM_PSTATE_UNINIT)
		return fw_fail(g, SEV_RET_INVALID_PLATFORM_STATE);
	guest = sim_guest_find(g->host, g->vm->handle);
	if (!guest)
		return fw_fail(g, SEV_RET_INVALID_GUEST);
	*g->fw = 0;
	st.handle = guest->handle;
	st.policy = guest->policy;
	st.state = guest->state;
	if (!g->c->data)
		return -EFAULT;
	memcpy(uptr(g->c->data), &st, sizeof(st));
	return 0;
}

/* ------------------------------------------------------- transport keys */

struct session {
	uint8_t nonce[16];
	uint8_t wrap_tk[32];
	uint8_t wrap_iv[16];
	uint8_t wrap_mac[32];
	uint8_t policy_mac[32];
};
_Static_assert(sizeof(struct session) == SEVMIG_SESSION_LEN, "session");

struct pkt_hdr {
	uint32_t flags;
	uint8_t iv[16];
	uint8_t mac[32];
} __attribute__((packed));
_Static_assert(sizeof(struct pkt_hdr) == SEVMIG_PACKET_HDR_LEN, "hdr");

/* The peer's PDH as a key, or NULL (not an ECDH P-384 PDH). */
static EVP_PKEY *pdh_key(const uint8_t *cert)
{
	struct sev_cert c;

	memcpy(&c, cert, sizeof(c));
	if (c.pub_key_usage != SEVMIG_CERT_USAGE_PDH ||
	    (c.pub_key_algo != SEVMIG_CERT_ALGO_ECDH_SHA256 &&
	     c.pub_key_algo != SEVMIG_CERT_ALGO_ECDH_SHA384) ||
	    c.pub_key.ecc.curve != SEVMIG_CERT_CURVE_P384)
		return NULL;
	return simc_ec_pub_from_cert(&c.pub_key.ecc);
}

/* KEK and KIK from ECDH(own PDH, peer PDH) and the nonce (§6.3). */
static int derive_kek_kik(struct sevmig_sim_host *host, EVP_PKEY *peer,
			  const uint8_t nonce[16], uint8_t kek[16],
			  uint8_t kik[16])
{
	uint8_t z[48], master[16];
	int ret;

	ret = simc_ecdh(host->pdh.pkey, peer, z);
	if (!ret)
		ret = simc_kdf(z, sizeof(z), "sev-master-secret", nonce, 16,
			       master);
	if (!ret)
		/* KEK = KDF(master, "sev-kek"): the argument order is right. */
		/* NOLINTNEXTLINE(readability-suspicious-call-argument) */
		ret = simc_kdf(master, 16, "sev-kek", NULL, 0, kek);
	if (!ret)
		ret = simc_kdf(master, 16, "sev-kik", NULL, 0, kik);
	OPENSSL_cleanse(z, sizeof(z));
	OPENSSL_cleanse(master, sizeof(master));
	return ret;
}

static int packet_mac(const uint8_t tik[16], uint32_t flags,
		      const uint8_t iv[16], uint32_t len, const uint8_t *ct,
		      uint8_t mac[32])
{
	uint8_t aad[AAD_LEN];

	aad[0] = PKT_CTX_DATA;
	memcpy(aad + 1, &flags, 4);
	memcpy(aad + 5, iv, 16);
	memcpy(aad + 21, &len, 4); /* uncompressed length */
	memcpy(aad + 25, &len, 4); /* transport length */
	return simc_hmac(tik, 16, aad, sizeof(aad), ct, len, mac);
}

/* ------------------------------------------------------------- SEND */

static int cmd_send_start(struct gc *g)
{
	struct kvm_sev_send_start p;
	struct sim_guest *guest;
	struct session s;
	uint8_t tk[32], kek[16], kik[16];
	EVP_PKEY *peer;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (p.session_len) {
		if (!p.pdh_cert_uaddr || !p.pdh_cert_len || !p.session_uaddr ||
		    p.session_len > SEV_FW_BLOB_MAX_SIZE)
			return -EINVAL;
		if (blob(p.pdh_cert_uaddr, p.pdh_cert_len) ||
		    blob(p.plat_certs_uaddr, p.plat_certs_len) ||
		    blob(p.amd_certs_uaddr, p.amd_certs_len))
			return -EINVAL;
	}
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (p.session_len != SEVMIG_SESSION_LEN) {
		p.session_len = SEVMIG_SESSION_LEN;
		memcpy(uptr(g->c->data), &p, sizeof(p));
		return fw_fail(g, SEV_RET_INVALID_LEN);
	}
	if (guest->state != SEV_GSTATE_RUNNING)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	if (guest->policy & SEVMIG_GUEST_POLICY_NOSEND)
		return fw_fail(g, SEV_RET_POLICY_FAILURE);
	if (p.pdh_cert_len != SEVMIG_SEV_CERT_LEN)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	if (guest->policy & SEVMIG_GUEST_POLICY_SEV) {
		struct sev_cert pdh, pek;
		uint32_t st;

		memcpy(&pdh, uptr(p.pdh_cert_uaddr), sizeof(pdh));
		st = sim_check_sev_chain(g->host->sim, &pdh,
					 uptr(p.plat_certs_uaddr),
					 p.plat_certs_len,
					 uptr(p.amd_certs_uaddr),
					 p.amd_certs_len);
		if (st)
			return fw_fail(g, st);
		memcpy(&pek, uptr(p.plat_certs_uaddr), sizeof(pek));
		if (pek.api_major < SEV_POLICY_API_MAJOR(guest->policy) ||
		    (pek.api_major == SEV_POLICY_API_MAJOR(guest->policy) &&
		     pek.api_minor < SEV_POLICY_API_MINOR(guest->policy)))
			return fw_fail(g, SEV_RET_POLICY_FAILURE);
	}
	if (guest->policy & SEVMIG_GUEST_POLICY_DOMAIN) {
		struct sev_cert pdh, pek, oca;
		const uint8_t *plat = uptr(p.plat_certs_uaddr);

		if (p.plat_certs_len != SEVMIG_PLAT_CHAIN_LEN)
			return fw_fail(g, SEV_RET_INVALID_LEN);
		memcpy(&pdh, uptr(p.pdh_cert_uaddr), sizeof(pdh));
		memcpy(&pek, plat, sizeof(pek));
		memcpy(&oca, plat + SEVMIG_SEV_CERT_LEN, sizeof(oca));
		if (sim_verify_sev_by_sev(&oca, &oca) ||
		    sim_verify_sev_by_sev(&pek, &oca) ||
		    sim_verify_sev_by_sev(&pdh, &pek))
			return fw_fail(g, SEV_RET_BAD_SIGNATURE);
		if (memcmp(&oca, &g->host->oca.cert, sizeof(oca)) != 0)
			return fw_fail(g, SEV_RET_POLICY_FAILURE);
	}
	peer = pdh_key(uptr(p.pdh_cert_uaddr));
	if (!peer)
		return fw_fail(g, SEV_RET_INVALID_CERTIFICATE);
	ret = simc_random(s.nonce, sizeof(s.nonce));
	if (!ret)
		ret = simc_random(s.wrap_iv, sizeof(s.wrap_iv));
	if (!ret)
		ret = simc_random(tk, sizeof(tk)); /* TEK || TIK */
	if (!ret)
		ret = derive_kek_kik(g->host, peer, s.nonce, kek, kik);
	EVP_PKEY_free(peer);
	if (!ret)
		ret = simc_aes128_ctr(kek, s.wrap_iv, tk, s.wrap_tk, 32);
	if (!ret)
		ret = simc_hmac(kik, 16, s.wrap_tk, 32, NULL, 0, s.wrap_mac);
	if (!ret)
		ret = simc_hmac(tk + 16, 16, &guest->policy, 4, NULL, 0,
				s.policy_mac);
	if (!ret) {
		memcpy(guest->tek, tk, 16);
		memcpy(guest->tik, tk + 16, 16);
		guest->chan = true;
		guest->state = SEV_GSTATE_SUPDATE;
		memcpy(uptr(p.session_uaddr), &s, sizeof(s));
		p.policy = guest->policy;
		p.session_len = SEVMIG_SESSION_LEN;
		memcpy(uptr(g->c->data), &p, sizeof(p));
		*g->fw = 0;
	}
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(kik, sizeof(kik));
	return ret;
}

/* Kernel checks shared by SEND/RECEIVE_UPDATE_DATA's real calls. */
static int page_bounds(const struct kvm_sev_send_update_data *p)
{
	if (p->guest_len > SIM_PAGE_SIZE ||
	    PAGE_OFF(p->guest_uaddr) + p->guest_len > SIM_PAGE_SIZE)
		return -EINVAL;
	return 0;
}

static int cmd_send_update_data(struct gc *g)
{
	struct kvm_sev_send_update_data p;
	struct sim_guest *guest;
	struct pkt_hdr h;
	uint8_t ct[SIM_PAGE_SIZE];
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (!p.trans_len || !p.hdr_len) { /* length query */
		ret = issue(g, g->vm->sev_fd);
		if (ret)
			return ret;
		guest = fw_guest(g, &ret);
		if (!guest)
			return ret;
		p.hdr_len = SEVMIG_PACKET_HDR_LEN;
		p.trans_len = 0; /* AMD-ASPFW never writes it */
		memcpy(uptr(g->c->data), &p, sizeof(p));
		return fw_fail(g, SEV_RET_INVALID_LEN);
	}
	if (!p.trans_uaddr || !p.guest_uaddr || !p.guest_len || !p.hdr_uaddr)
		return -EINVAL;
	if (page_bounds(&p))
		return -EINVAL;
	if (p.hdr_len > SIM_KMALLOC_MAX || p.trans_len > SIM_KMALLOC_MAX)
		return -ENOMEM;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (p.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	if (guest->state != SEV_GSTATE_SUPDATE)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	if (!guest->active)
		return fw_fail(g, SEV_RET_INACTIVE);
	if ((p.guest_len & 15u) || p.trans_len < p.guest_len)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	if (p.guest_uaddr & 15u)
		return fw_fail(g, SEV_RET_INVALID_ADDRESS);
	memset(&h, 0, sizeof(h));
	ret = simc_random(h.iv, sizeof(h.iv));
	if (!ret)
		ret = simc_aes128_ctr(guest->tek, h.iv, uptr(p.guest_uaddr), ct,
				      p.guest_len);
	if (!ret)
		ret = packet_mac(guest->tik, h.flags, h.iv, p.guest_len, ct,
				 h.mac);
	if (ret)
		return ret;
	memset(uptr(p.hdr_uaddr), 0, p.hdr_len);
	memcpy(uptr(p.hdr_uaddr), &h, sizeof(h));
	memset(uptr(p.trans_uaddr), 0, p.trans_len);
	memcpy(uptr(p.trans_uaddr), ct, p.guest_len);
	*g->fw = 0;
	return 0;
}

/* ---------------------------------------------------------- RECEIVE */

static int cmd_receive_start(struct gc *g)
{
	struct kvm_sev_receive_start p;
	struct sim_guest *guest;
	struct session s;
	uint8_t tk[32], kek[16], kik[16], mac[32];
	EVP_PKEY *peer;
	int ret;

	if (!g->vm->sev_active)
		return -ENOTTY;
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (!p.pdh_uaddr || !p.pdh_len || !p.session_uaddr || !p.session_len)
		return -EINVAL;
	if (blob(p.pdh_uaddr, p.pdh_len) || blob(p.session_uaddr, p.session_len))
		return -EINVAL;
	ret = issue(g, (int)g->c->sev_fd);
	if (ret)
		return ret;
	if (g->host->pstate == SIM_PSTATE_UNINIT)
		return fw_fail(g, SEV_RET_INVALID_PLATFORM_STATE);
	ret = fw_key_share(g, p.handle, p.policy);
	if (ret)
		return ret;
	if (p.session_len != SEVMIG_SESSION_LEN ||
	    p.pdh_len != SEVMIG_SEV_CERT_LEN)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	peer = pdh_key(uptr(p.pdh_uaddr));
	if (!peer)
		return fw_fail(g, SEV_RET_INVALID_CERTIFICATE);
	memcpy(&s, uptr(p.session_uaddr), sizeof(s));
	ret = derive_kek_kik(g->host, peer, s.nonce, kek, kik);
	EVP_PKEY_free(peer);
	if (!ret)
		ret = simc_hmac(kik, 16, s.wrap_tk, 32, NULL, 0, mac);
	if (ret)
		goto out;
	if (!simc_memeq(mac, s.wrap_mac, 32)) { /* wrong PDH or tampering */
		ret = fw_fail(g, SEV_RET_BAD_MEASUREMENT);
		goto out;
	}
	ret = simc_aes128_ctr(kek, s.wrap_iv, s.wrap_tk, tk, 32);
	if (!ret)
		ret = simc_hmac(tk + 16, 16, &p.policy, 4, NULL, 0, mac);
	if (ret)
		goto out;
	if (!simc_memeq(mac, s.policy_mac, 32)) {
		ret = fw_fail(g, SEV_RET_BAD_MEASUREMENT);
		goto out;
	}
	ret = fw_policy_ok(g, p.policy);
	if (ret)
		goto out;
	guest = guest_new(g->host, p.policy, SEV_GSTATE_RUPDATE);
	if (!guest) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(guest->tek, tk, 16);
	memcpy(guest->tik, tk + 16, 16);
	guest->chan = true;
	*g->fw = 0;
	ret = activate(g, guest);
	if (!ret) {
		p.handle = guest->handle;
		memcpy(uptr(g->c->data), &p, sizeof(p));
	}
out:
	OPENSSL_cleanse(tk, sizeof(tk));
	OPENSSL_cleanse(kek, sizeof(kek));
	OPENSSL_cleanse(kik, sizeof(kik));
	return ret;
}

static int cmd_receive_update_data(struct gc *g)
{
	struct kvm_sev_send_update_data p;
	struct sim_guest *guest;
	struct pkt_hdr h;
	uint8_t pt[SIM_PAGE_SIZE], mac[32];
	int ret;

	if (!g->vm->sev_active)
		return -EINVAL; /* sic: not -ENOTTY for this command */
	if (!g->c->data)
		return -EFAULT;
	memcpy(&p, uptr(g->c->data), sizeof(p));
	if (!p.hdr_uaddr || !p.hdr_len || !p.guest_uaddr || !p.guest_len ||
	    !p.trans_uaddr || !p.trans_len)
		return -EINVAL;
	if (page_bounds(&p))
		return -EINVAL;
	if (blob(p.hdr_uaddr, p.hdr_len) || blob(p.trans_uaddr, p.trans_len))
		return -EINVAL;
	ret = issue(g, g->vm->sev_fd);
	if (ret)
		return ret;
	guest = fw_guest(g, &ret);
	if (!guest)
		return ret;
	if (guest->state != SEV_GSTATE_RUPDATE)
		return fw_fail(g, SEV_RET_INVALID_GUEST_STATE);
	if (!guest->active)
		return fw_fail(g, SEV_RET_INACTIVE);
	if (p.hdr_len < SEVMIG_PACKET_HDR_LEN)
		return fw_fail(g, SEV_RET_INVALID_LEN);
	memcpy(&h, uptr(p.hdr_uaddr), sizeof(h));
	if (h.flags & PKT_FLAG_COMPRESSED)
		return fw_fail(g, SEV_RET_UNSUPPORTED);
	if (h.flags)
		return fw_fail(g, SEV_RET_INVALID_PARAM);
	if (p.trans_len != p.guest_len || (p.guest_len & 15u))
		return fw_fail(g, SEV_RET_INVALID_LEN);
	if (p.guest_uaddr & 15u)
		return fw_fail(g, SEV_RET_INVALID_ADDRESS);
	ret = packet_mac(guest->tik, h.flags, h.iv, p.trans_len,
			 uptr(p.trans_uaddr), mac);
	if (ret)
		return ret;
	if (!simc_memeq(mac, h.mac, sizeof(mac)))
		return fw_fail(g, SEV_RET_BAD_MEASUREMENT);
	ret = simc_aes128_ctr(guest->tek, h.iv, uptr(p.trans_uaddr), pt,
			      p.trans_len);
	if (ret)
		return ret;
	memcpy(uptr(p.guest_uaddr), pt, p.guest_len);
	OPENSSL_cleanse(pt, sizeof(pt));
	*g->fw = 0;
	return 0;
}

/* ------------------------------------------------------------- dispatch */

static bool mirror_allowed(uint32_t id)
{
	return id == KVM_SEV_LAUNCH_UPDATE_VMSA ||
	       id == KVM_SEV_GUEST_STATUS ||
	       id == KVM_SEV_DBG_DECRYPT ||
	       id == KVM_SEV_DBG_ENCRYPT;
}

static int dispatch(struct gc *g)
{
	int ret;

	switch (g->c->id) {
	case KVM_SEV_INIT:
	case KVM_SEV_ES_INIT:
	case KVM_SEV_INIT2:
		return cmd_init(g);
	case KVM_SEV_LAUNCH_START:
	case KVM_SEV_RECEIVE_START:
	case KVM_SEV_LAUNCH_UPDATE_DATA:
	case KVM_SEV_LAUNCH_UPDATE_VMSA:
	case KVM_SEV_LAUNCH_MEASURE:
	case KVM_SEV_LAUNCH_FINISH:
	case KVM_SEV_GUEST_STATUS:
	case KVM_SEV_SEND_START:
	case KVM_SEV_SEND_UPDATE_DATA:
	case KVM_SEV_SEND_FINISH:
	case KVM_SEV_SEND_CANCEL:
	case KVM_SEV_RECEIVE_UPDATE_DATA:
	case KVM_SEV_RECEIVE_FINISH:
		break;
	default:
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&g->host->psp);
	switch (g->c->id) {
	case KVM_SEV_LAUNCH_START:
		ret = cmd_launch_start(g);
		break;
	case KVM_SEV_LAUNCH_UPDATE_DATA:
		ret = cmd_launch_update_data(g);
		break;
	case KVM_SEV_LAUNCH_UPDATE_VMSA:
		ret = cmd_launch_update_vmsa(g);
		break;
	case KVM_SEV_LAUNCH_MEASURE:
		ret = cmd_launch_measure(g);
		break;
	case KVM_SEV_LAUNCH_FINISH:
		ret = cmd_transition(g, SEV_GSTATE_LSECRET,
				     SEV_GSTATE_RUNNING, false);
		break;
	case KVM_SEV_GUEST_STATUS:
		ret = cmd_guest_status(g);
		break;
	case KVM_SEV_SEND_START:
		ret = cmd_send_start(g);
		break;
	case KVM_SEV_SEND_UPDATE_DATA:
		ret = cmd_send_update_data(g);
		break;
	case KVM_SEV_SEND_FINISH:
		ret = cmd_transition(g, SEV_GSTATE_SUPDATE,
				     SEV_GSTATE_SENT, true);
		break;
	case KVM_SEV_SEND_CANCEL:
		ret = cmd_transition(g, SEV_GSTATE_SUPDATE,
				     SEV_GSTATE_RUNNING, true);
		break;
	case KVM_SEV_RECEIVE_START:
		ret = cmd_receive_start(g);
		break;
	case KVM_SEV_RECEIVE_UPDATE_DATA:
		ret = cmd_receive_update_data(g);
		break;
	default: /* RECEIVE_FINISH */
		ret = cmd_transition(g, SEV_GSTATE_RUPDATE,
				     SEV_GSTATE_RUNNING, true);
		break;
	}
	pthread_mutex_unlock(&g->host->psp);
	return ret;
}

int sim_mem_enc_op(struct sevmig_sim_host *host, struct sim_vm *vm,
		   struct kvm_sev_cmd *user)
{
	struct kvm_sev_cmd c;
	struct gc g = { .host = host, .vm = vm, .c = &c, .fw = &c.error };
	int ret;

	memcpy(&c, user, sizeof(c));
	pthread_mutex_lock(&vm->lock);
	if (vm->owner && !mirror_allowed(c.id)) {
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL; /* no copy-back on this path */
	}
	switch (c.id) {
	case KVM_SEV_SEND_UPDATE_VMSA:
	case KVM_SEV_RECEIVE_UPDATE_VMSA:
	case KVM_SEV_CERT_EXPORT:
		pthread_mutex_unlock(&vm->lock);
		return -EINVAL; /* upstream KVM: unknown id, no copy-back */
	default:
		if (c.id > KVM_SEV_INIT2 && c.id < 100) {
			pthread_mutex_unlock(&vm->lock);
			return -EINVAL;
		}
		break;
	}
	ret = dispatch(&g);
	pthread_mutex_unlock(&vm->lock);
	memcpy(user, &c, sizeof(c));
	return ret;
}

/* -------------------------------------------------------- REG_REGION */

int sim_reg_region(struct sim_vm *vm, unsigned long req,
		   const struct kvm_enc_region *r)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->sev_active) {
		ret = -ENOTTY;
	} else if (vm->owner) {
		ret = -EINVAL;
	} else if (req == KVM_MEMORY_ENCRYPT_REG_REGION) {
		struct sim_region *n;

		if (!r->size || r->addr + r->size < r->addr) {
			ret = -EINVAL;
		} else {
			n = realloc(vm->regions,
				    (vm->nregions + 1) * sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
			} else {
				vm->regions = n;
				n[vm->nregions].addr = r->addr;
				n[vm->nregions++].size = r->size;
			}
		}
	} else {
		ret = -EINVAL;
		for (size_t i = 0; i < vm->nregions; i++) {
			if (vm->regions[i].addr == r->addr &&
			    vm->regions[i].size == r->size) {
				vm->regions[i] = vm->regions[--vm->nregions];
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* ----------------------------------------------------- MOVE and COPY */

static void lock_two(struct sim_vm *a, struct sim_vm *b)
{
	if ((uintptr_t)a > (uintptr_t)b) {
		struct sim_vm *t = a;

		a = b;
		b = t;
	}
	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&b->lock);
}

static int do_move(struct sevmig_sim *sim, struct sim_vm *dst,
		   struct sim_vm *src)
{
	if (dst->type != src->type || dst->sev_active || !src->sev_active)
		return -EINVAL;
	if (src->es_active && (dst->nr_vcpus != src->nr_vcpus ||
			       src->nr_vmsa != src->nr_vcpus))
		return -EINVAL;
	dst->sev_active = true;
	dst->es_active = src->es_active;
	dst->handle = src->handle;
	dst->nr_vmsa = src->es_active ? dst->nr_vcpus : 0;
	free(dst->regions);
	dst->regions = src->regions;
	dst->nregions = src->nregions;
	/* [D] sev->fd is not copied and need_init is not cleared. */
	pthread_mutex_lock(&sim->lock);
	dst->owner = src->owner;
	src->owner = NULL;
	for (struct sim_vm *m = sim->vms; m; m = m->next) {
		if (m->owner == src) { /* re-parent mirrors */
			m->owner = dst;
			dst->refs++;
			src->refs--; /* never 0: the caller holds a reference */
		}
	}
	pthread_mutex_unlock(&sim->lock);
	src->sev_active = false;
	src->es_active = false;
	src->handle = 0;
	src->nr_vmsa = 0;
	src->regions = NULL;
	src->nregions = 0;
	__atomic_store_n(&src->dead, true, __ATOMIC_RELEASE);
	return 0;
}

static int do_copy(struct sevmig_sim *sim, struct sim_vm *dst,
		   struct sim_vm *src)
{
	if (dst->sev_active || !src->sev_active || src->owner || dst->nr_vcpus)
		return -EINVAL;
	dst->sev_active = true;
	dst->es_active = src->es_active;
	dst->handle = src->handle;
	dst->sev_fd = src->sev_fd;
	dst->need_init = false;
	pthread_mutex_lock(&sim->lock);
	dst->owner = src;
	src->refs++;
	pthread_mutex_unlock(&sim->lock);
	return 0;
}

int sim_enc_context_from(struct sevmig_sim_host *host, struct sim_vm *dst,
			 const struct kvm_enable_cap *cap)
{
	struct sevmig_sim *sim = host->sim;
	struct sim_vm *src;
	uint32_t us;
	int zero = 0, ret;

	src = cap->args[0] > INT32_MAX ? NULL :
		sim_vm_get_fd(sim, (int)cap->args[0], SIM_FD_VM);
	if (src && src->host != dst->host) {
		sim_vm_put(src); /* another simulated machine's VM */
		src = NULL;
	}
	if (!src)
		return -EBADF;
	if (src == dst) {
		sim_vm_put(src);
		return -EINVAL;
	}
	if (!__atomic_compare_exchange_n(&dst->migrating, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		sim_vm_put(src);
		return -EBUSY;
	}
	zero = 0;
	if (!__atomic_compare_exchange_n(&src->migrating, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		__atomic_store_n(&dst->migrating, 0, __ATOMIC_RELEASE);
		sim_vm_put(src);
		return -EBUSY;
	}
	us = __atomic_load_n(&host->latency_us, __ATOMIC_RELAXED);
	if (us) { /* the latency model: taking every vCPU lock takes time */
		struct timespec ts = { .tv_sec = us / 1000000u,
				       .tv_nsec = (long)(us % 1000000u) * 1000 };

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	lock_two(dst, src);
	if (cap->cap == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM)
		ret = do_move(sim, dst, src);
	else
		ret = do_copy(sim, dst, src);
	pthread_mutex_unlock(&src->lock);
	pthread_mutex_unlock(&dst->lock);
	__atomic_store_n(&src->migrating, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->migrating, 0, __ATOMIC_RELEASE);
	sim_vm_put(src);
	return ret;
}
