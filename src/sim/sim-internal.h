/* SPDX-License-Identifier: MIT */
/* Private to libsevmig-sim. */
#ifndef SEVMIG_SIM_INTERNAL_H
#define SEVMIG_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <sevmig/sim.h>

#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

#define SIM_EXPORT __attribute__((visibility("default")))
#define SIM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Structs of the KVM ABI that kvm-abi.h does not carry (Linux 6.18 uapi). */
struct sim_kvm_sev_launch_update_data { /* also kvm_sev_launch_measure */
	uint64_t uaddr;
	uint32_t len;
	uint32_t pad0;
};
_Static_assert(sizeof(struct sim_kvm_sev_launch_update_data) == 16, "lud");

struct sim_kvm_sev_init {
	uint64_t vmsa_features;
	uint32_t flags;
	uint16_t ghcb_version;
	uint16_t pad1;
	uint32_t pad2[8];
};
_Static_assert(sizeof(struct sim_kvm_sev_init) == 48, "kvm_sev_init");

struct sim_sev_user_data_get_id {
	uint8_t socket1[64];
	uint8_t socket2[64];
};

#define SIM_KVM_CREATE_VM_SEV_TYPES ((1u << KVM_X86_SEV_VM) | \
				     (1u << KVM_X86_SEV_ES_VM))
#define SIM_KVM_SET_USER_MEMORY_REGION UAPI_IOW(KVMIO, 0x46, 32u)
#define SIM_SEV_MAX 13u            /* SEV_MAX of Linux 6.18 psp-sev.h */
#define SIM_PAGE_SIZE 4096u
#define SIM_KMALLOC_MAX (4u << 20) /* kzalloc beyond this fails: -ENOMEM */
#define SIM_ID_LEN 64u
#define SIM_MEASURE_LEN 48u        /* 32-byte measurement + 16-byte MNONCE */
#define SIM_MAX_ROOTS 8u

/* Firmware platform states (firmware numbering). */
#define SIM_PSTATE_UNINIT 0u
#define SIM_PSTATE_INIT 1u
#define SIM_PSTATE_WORKING 2u

/* Firmware status codes not in kvm-abi.h. */
#define SIM_FW_ASID_OWNED 0x0Cu

struct sim_key { /* a key plus its certificate */
	EVP_PKEY *pkey;
	struct sev_cert cert;
};

/* A firmware guest (lives in the host, found by handle). */
struct sim_guest {
	struct sim_guest *next;
	uint32_t handle;
	uint32_t policy;
	uint32_t state;            /* SEVMIG_SEV_GSTATE_* */
	bool active;               /* ASID bound (ACTIVATE) */
	bool chan;                 /* transport channel open */
	uint8_t tek[16];
	uint8_t tik[16];
	uint8_t digest[32];        /* launch measurement chain */
};

enum sim_fd_kind { SIM_FD_NONE = 0, SIM_FD_SEV, SIM_FD_KVM, SIM_FD_VM,
		   SIM_FD_VCPU };

struct sim_vm;

struct sim_fd {
	uint8_t kind;
	bool writable;             /* /dev/sev opened for writing */
	bool placeholder;          /* our own fd standing for a KVM object */
	struct sevmig_sim_host *host;
	struct sim_vm *vm;         /* VM and vCPU fds: a reference */
};

struct sim_region {
	uint64_t addr, size;
};

/* A KVM VM as seen by the SEV side of KVM (struct kvm_sev_info and more). */
struct sim_vm {
	struct sim_vm *next;       /* world list */
	unsigned refs;             /* world->lock */
	pthread_mutex_t lock;      /* kvm->lock */
	struct sevmig_sim_host *host;
	uint32_t type;
	int migrating;             /* atomic: migration_in_progress */
	bool dead;
	bool need_init;
	uint32_t nr_vcpus;
	uint32_t nr_vmsa;          /* vCPUs whose VMSA is encrypted */
	/* kvm_sev_info */
	bool sev_active;
	bool es_active;
	uint32_t handle;
	int sev_fd;
	struct sim_vm *owner;      /* a mirror: the VM it mirrors (a reference) */
	struct sim_region *regions;
	size_t nregions;
};

struct sevmig_sim_host {
	struct sevmig_sim_host *next;
	struct sevmig_sim *sim;
	pthread_mutex_t psp;       /* the PSP command mutex */
	/* everything below is under psp */
	uint8_t api_major, api_minor, build;
	uint32_t config;
	uint32_t pstate;           /* SIM_PSTATE_* */
	uint32_t latency_us;       /* atomic */
	uint64_t psp_commands;
	bool psp_dead;
	struct sevmig_sim_fault fault;
	uint32_t fault_seen;
	struct sim_key oca, cek, pek, pdh;
	uint8_t id[SIM_ID_LEN];
	uint8_t measure_key[32];
	struct sim_guest *guests;
	uint32_t next_handle;
};

struct sevmig_sim {
	uint32_t mode;
	pthread_mutex_t lock;      /* fd table, VM list, host list */
	struct sim_fd *fds;
	size_t nfds;
	struct sim_vm *vms;
	struct sevmig_sim_host *hosts;
	EVP_PKEY *ark_key, *ask_key;
	uint8_t amd_chain[AMD_CHAIN_2K_2K]; /* ASK || ARK */
	size_t ark_off, amd_chain_len;
	uint8_t *roots[SIM_MAX_ROOTS];            /* extra trusted ARKs */
	size_t root_len[SIM_MAX_ROOTS];
	size_t nroots;
};

/* ---- crypto.c ---- */
int simc_random(void *buf, size_t len);
int simc_ec_keygen(EVP_PKEY **ret);
int simc_rsa_keygen(unsigned bits, EVP_PKEY **ret);
int simc_ec_pub_to_cert(EVP_PKEY *key, struct sev_ecc_pubkey *out);
EVP_PKEY *simc_ec_pub_from_cert(const struct sev_ecc_pubkey *in);
EVP_PKEY *simc_rsa_pub_from_le(const uint8_t *e, size_t elen,
			       const uint8_t *n, size_t nlen);
int simc_rsa_pub_to_le(EVP_PKEY *key, uint8_t *e, size_t elen, uint8_t *n,
		       size_t nlen);
/* ECDSA over @data with @md; r and s written little-endian into 72-byte
 * fields. */
int simc_ecdsa_sign(EVP_PKEY *key, const EVP_MD *md, const void *data,
		    size_t len, uint8_t r[72], uint8_t s[72]);
int simc_ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const void *data,
		      size_t len, const uint8_t r[72], const uint8_t s[72]);
/* RSA-PSS (salt = digest length, MGF1 with @md); sig little-endian. */
int simc_rsa_pss_sign(EVP_PKEY *key, const EVP_MD *md, const void *data,
		      size_t len, uint8_t *sig_le, size_t sig_len);
int simc_rsa_pss_verify(EVP_PKEY *key, const EVP_MD *md, const void *data,
			size_t len, const uint8_t *sig_le, size_t sig_len);
int simc_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t z[48]);
int simc_hmac(const uint8_t *key, size_t klen, const void *a, size_t alen,
	      const void *b, size_t blen, uint8_t out[32]);
int simc_kdf(const uint8_t *key, size_t klen, const char *label,
	     const uint8_t *ctx, size_t ctxlen, uint8_t out[16]);
int simc_aes128_ctr(const uint8_t key[16], const uint8_t iv[16],
		    const uint8_t *in, uint8_t *out, size_t len);
int simc_sha256(const void *a, size_t alen, const void *b, size_t blen,
		uint8_t out[32]);
bool simc_memeq(const void *a, const void *b, size_t len);

/* ---- certs.c ---- */
int sim_world_keys(struct sevmig_sim *sim);
int sim_host_keys(struct sevmig_sim_host *host, bool regen_all,
		  bool regen_pek);
/* SEV cert signed by SEV cert: 0, -ENOKEY, -EKEYREJECTED, -EINVAL. */
int sim_verify_sev_by_sev(const struct sev_cert *c,
			  const struct sev_cert *signer);
/* Parse an AMD cert at @p (at most @len bytes); returns its total size or
 * -EINVAL. */
long sim_amd_cert_len(const uint8_t *p, size_t len, size_t signer_mod_bytes);
int sim_verify_amd_by_amd(const uint8_t *c, size_t clen, const uint8_t *s,
			  size_t slen);
int sim_verify_sev_by_amd(const struct sev_cert *c, const uint8_t *s,
			  size_t slen);
/* SEND_START policy checks; returns a firmware status (0 = fine). */
uint32_t sim_check_sev_chain(struct sevmig_sim *sim,
			     const struct sev_cert *pdh,
			     const uint8_t *plat, uint32_t plat_len,
			     const uint8_t *amd, uint32_t amd_len);

/* ---- backend.c ---- */
/* Enter the PSP (lock held by caller): latency, counting, death, faults.
 * Returns 0 to run the command, or a negative errno with *fw set. */
int sim_psp_enter(struct sevmig_sim_host *host, uint32_t kind, uint32_t cmd,
		  uint32_t *fw);
/* PSP lock held: run INIT if the platform is UNINIT. */
int sim_platform_init(struct sevmig_sim_host *host, uint32_t *fw);
/* Is @fd a /dev/sev fd of @host? */
bool sim_is_sev_fd(struct sevmig_sim_host *host, int fd);
struct sim_guest *sim_guest_find(struct sevmig_sim_host *host,
				 uint32_t handle);
void sim_guest_decommission(struct sevmig_sim_host *host, uint32_t handle);
void sim_vm_put(struct sim_vm *vm);
struct sim_vm *sim_vm_get_fd(struct sevmig_sim *sim, int fd, uint8_t kind);

/* ---- guest.c ---- */
int sim_mem_enc_op(struct sevmig_sim_host *host, struct sim_vm *vm,
		   struct kvm_sev_cmd *user);
int sim_reg_region(struct sim_vm *vm, unsigned long req,
		   const struct kvm_enc_region *r);
int sim_enc_context_from(struct sevmig_sim_host *host, struct sim_vm *dst,
			 const struct kvm_enable_cap *cap);

#endif /* SEVMIG_SIM_INTERNAL_H */
