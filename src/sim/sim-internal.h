/* SPDX-License-Identifier: MIT */
/*
 * Private to libsevmig-sim. The simulator is layered; each file calls only
 * into the layers below it (docs/simulator.md draws the picture):
 *
 *   api.c            the public sevmig_sim_* functions
 *   dispatch.c       the syscall backend: /dev/kvm, VM, vCPU and /dev/sev fds
 *   cmd-table.c      the command tables and the two command dispatchers
 *   cmd-platform.c   /dev/sev platform commands
 *   cmd-launch.c     guest commands: INIT family, LAUNCH_*, GUEST_STATUS
 *   cmd-transport.c  guest commands: SEND_*, RECEIVE_* and the SEV transport
 *   cmd-move.c       KVM-side encryption context: regions, MOVE, COPY
 *   cmd-guest.c      what the guest commands share (checks, the PSP gate)
 *   objects.c        fd table, VM references, firmware guests, the PSP gate
 *   certs.c          certificate formats and signatures
 *   crypto.c         libcrypto primitives
 */
#ifndef SEVMIG_SIM_INTERNAL_H
#define SEVMIG_SIM_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <sevmig/sim.h>

#include "internal.h"
#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"

#define SIM_EXPORT __attribute__((visibility("default")))

/* Structs of the KVM and PSP ABI that kvm-abi.h does not carry (Linux 6.18
 * uapi). */
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

struct sim_kvm_create_device {
	uint32_t type;
	uint32_t fd;
	uint32_t flags;
};
#define SIM_KVM_CREATE_DEVICE UAPI_IOWR(KVMIO, 0xe0, 12u)
#define SIM_KVM_CREATE_DEVICE_TEST 1u

#define SIM_SEV_MAX 13u            /* SEV_MAX of Linux 6.18 psp-sev.h */
#define SIM_GHCB_VERSION_MAX 2u    /* GHCB_VERSION_MAX of Linux 6.18 */
#define SIM_PAGE_SIZE 4096u        /* the host kernel's PAGE_SIZE (x86) */
#define SIM_KMALLOC_MAX (4u << 20) /* kzalloc beyond this fails: -ENOMEM */
#define SIM_ID_LEN 64u
#define SIM_MEASURE_LEN 48u        /* 32-byte measurement + 16-byte MNONCE */
#define SIM_MAX_ROOTS 8u
#define SIM_LATENCY_MAX_US 10000000u
/* Firmware status not in kvm-abi.h (error.c names it). */
#define SIM_FW_ASID_OWNED 0x0Cu
/* The fault-injection id of the platform INIT the kernel runs on demand. */
#define SIM_PLATFORM_INIT_CMD 0xffffu

/* ====================================================== object types */
/*
 * Locks, and the only order in which they nest:
 *
 *   struct sim_vm.lock  ->  struct sevmig_sim_host.psp  ->  struct sevmig_sim.lock
 *   (kvm->lock)             (the PSP command mutex)         (fd table, lists)
 *
 * Two VM locks nest only in cmd-move.c, lower address first. Nothing sleeps
 * for the latency model while holding any of them (sim_psp_wait()).
 */

struct sim_key { /* a key plus its certificate */
	EVP_PKEY *pkey;
	struct sev_cert cert;
};

/* A firmware guest (lives in the host, found by handle). Host PSP lock. */
struct sim_guest {
	struct sim_guest *next;
	uint32_t handle;
	uint32_t policy;
	uint32_t state;            /* SEV_GSTATE_* */
	bool active;               /* ASID bound (ACTIVATE) */
	bool chan;                 /* transport channel open */
	uint8_t tek[16];
	uint8_t tik[16];
	uint8_t digest[32];        /* launch measurement chain */
};

enum sim_fd_kind { SIM_FD_NONE = 0, SIM_FD_SEV, SIM_FD_KVM, SIM_FD_VM,
		   SIM_FD_VCPU, SIM_FD_DEVICE };

struct sim_vm;

struct sim_fd {
	uint8_t kind;
	bool writable;             /* /dev/sev opened for writing */
	bool placeholder;          /* our own fd standing for a KVM object */
	struct sevmig_sim_host *host;
	struct sim_vm *vm;         /* VM, vCPU and device fds: a reference */
};

struct sim_region {
	uint64_t addr, size;
};

/* A KVM VM as seen by the SEV side of KVM (struct kvm_sev_info and more). */
struct sim_vm {
	struct sim_vm *next;       /* world list */
	unsigned refs;             /* world lock */
	pthread_mutex_t lock;      /* kvm->lock: everything below */
	struct sevmig_sim_host *host;
	uint32_t type;
	int migrating;             /* atomic: migration_in_progress */
	bool dead;                 /* atomic: kvm_vm_dead() after a move */
	bool need_init;
	uint32_t nr_vcpus;
	uint32_t nr_vmsa;          /* vCPUs whose VMSA is encrypted */
	/* kvm_sev_info */
	bool sev_active;
	bool es_active;
	uint32_t handle;
	int sev_fd;
	/*
	 * A mirror: the VM it mirrors (a reference). Read under the VM's own
	 * lock by its commands and under the world lock by a move that
	 * re-parents mirrors, so every access is atomic (sim_vm_owner()).
	 */
	struct sim_vm *owner;
	struct sim_region *regions;
	size_t nregions;
};

struct sevmig_sim_host {
	struct sevmig_sim_host *next;
	struct sevmig_sim *sim;
	uint32_t latency_us;       /* atomic */
	uint64_t sent_runs;        /* atomic: KVM_RUN refused on a SENT guest */
	pthread_mutex_t psp;       /* the PSP command mutex: everything below */
	uint8_t api_major, api_minor, build;
	uint32_t config;
	uint32_t pstate;           /* SEV_PSTATE_* */
	uint64_t psp_commands;
	uint64_t psp_free_ns;      /* latency timeline: when the PSP is idle */
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
	pthread_mutex_t lock;      /* fd table, VM list, host list, roots */
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

/* ================================================ crypto.c (bottom) */
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
/* The SEV KDF (docs/simulator.md, "Transport"): 16 bytes from @key. */
int simc_kdf(const uint8_t *key, size_t klen, const char *label,
	     const uint8_t *ctx, size_t ctxlen, uint8_t out[16]);
int simc_aes128_ctr(const uint8_t key[16], const uint8_t iv[16],
		    const uint8_t *in, uint8_t *out, size_t len);
int simc_sha256(const void *a, size_t alen, const void *b, size_t blen,
		uint8_t out[32]);
bool simc_memeq(const void *a, const void *b, size_t len);

/* ========================================================= certs.c */
int sim_world_keys(struct sevmig_sim *sim);
int sim_host_keys(struct sevmig_sim_host *host, bool regen_all,
		  bool regen_pek);
/* SEV cert signed by SEV cert: 0, -ENOKEY, -EKEYREJECTED, -EINVAL. */
int sim_verify_sev_by_sev(const struct sev_cert *c,
			  const struct sev_cert *signer);
int sim_verify_amd_by_amd(const uint8_t *c, size_t clen, const uint8_t *s,
			  size_t slen);
int sim_verify_sev_by_amd(const struct sev_cert *c, const uint8_t *s,
			  size_t slen);
/* sevmig_sim_cert_verify() without the argument checks. */
int sim_cert_verify(const void *cert, size_t cert_len, const void *signer,
		    size_t signer_len);
/* Add a self-signed AMD ARK to the world's roots (sevmig_sim_trust_ark). */
int sim_trust_ark(struct sevmig_sim *sim, const void *ark, size_t len);
/* SEND_START policy checks; returns a firmware status (0 = fine). */
uint32_t sim_check_sev_chain(struct sevmig_sim *sim,
			     const struct sev_cert *pdh,
			     const uint8_t *plat, uint32_t plat_len,
			     const uint8_t *amd, uint32_t amd_len);

/* ======================================================= objects.c */
static inline const struct sevmig_sys_ops *sim_real(void)
{
	return sevmig_sys_default(); /* the real kernel */
}

static inline void *sim_uptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr;
}

/* ---- fd table (world lock inside) ---- */
/* A real fd number for an emulated object: a memfd. */
int sim_placeholder_fd(const char *name, int oflags);
/* Enter @e at @fd (taking a VM reference when e->vm is set). */
int sim_fd_register(struct sevmig_sim *sim, int fd, const struct sim_fd *e);
/* Snapshot of entry @fd; a VM reference is taken for the caller. */
struct sim_fd sim_fd_get(struct sevmig_sim *sim, int fd);
/* Forget entry @fd (its VM reference is dropped). */
void sim_fd_forget(struct sevmig_sim *sim, int fd);
/* Is @fd a /dev/sev fd of @host? */
bool sim_fd_is_sev(struct sevmig_sim_host *host, int fd);
/* Forget and close every fd of @host (what a caller leaked). */
void sim_fd_close_host(struct sevmig_sim_host *host);

/* ---- VM references ---- */
/* A new VM of @type with no reference yet (sim_fd_register takes one). */
struct sim_vm *sim_vm_new(struct sevmig_sim_host *host, uint32_t type);
void sim_vm_get(struct sim_vm *vm);
/* Drop a reference; the last one destroys the VM (sev_vm_destroy). */
void sim_vm_put(struct sim_vm *vm);
/* The VM of VM fd @fd with a reference taken, or NULL. */
static inline struct sim_vm *sim_vm_owner(const struct sim_vm *vm)
{
	return __atomic_load_n(&vm->owner, __ATOMIC_ACQUIRE);
}

static inline void sim_vm_set_owner(struct sim_vm *vm, struct sim_vm *owner)
{
	__atomic_store_n(&vm->owner, owner, __ATOMIC_RELEASE);
}

struct sim_vm *sim_vm_get_fd(struct sevmig_sim *sim, int fd);
uint32_t sim_vm_count(struct sevmig_sim_host *host);
/* Is the firmware guest of @vm in SENT? Takes the VM and PSP locks. */
bool sim_vm_guest_sent(struct sim_vm *vm);

/* ---- firmware guests (PSP lock held) ---- */
struct sim_guest *sim_guest_find(struct sevmig_sim_host *host,
				 uint32_t handle);
struct sim_guest *sim_guest_new(struct sevmig_sim_host *host,
				uint32_t policy, uint32_t state);
void sim_guest_decommission(struct sevmig_sim_host *host, uint32_t handle);
uint32_t sim_guest_count(const struct sevmig_sim_host *host);
void sim_guest_chan_close(struct sim_guest *guest);

/* ---- the PSP gate ---- */
/*
 * PSP lock held. One command enters the PSP: it is refused when the PSP is
 * dead, given its slot on the host's latency timeline (*done_ns is raised
 * to its finish time), counted, and failed when an injected fault matches.
 * Returns 0 to run it, or a negative errno with *fw set when there is a
 * firmware status. The caller returns no earlier than *done_ns, after it
 * dropped its locks (sim_psp_wait()).
 */
int sim_psp_enter(struct sevmig_sim_host *host, uint32_t kind, uint32_t cmd,
		  uint32_t *fw, uint64_t *done_ns);
/* No lock held: return at @done_ns (CLOCK_MONOTONIC ns; 0 = now). */
void sim_psp_wait(uint64_t done_ns);
/* One latency period from now, for work that is not a PSP command. */
uint64_t sim_latency_deadline(struct sevmig_sim_host *host);
/* PSP lock held: the kernel's INIT of an UNINIT platform, on demand. */
int sim_platform_init(struct sevmig_sim_host *host, uint32_t *fw,
		      uint64_t *done_ns);

/* ====================================== commands (cmd-*.c, cmd-table.c) */
/* struct sim_guest_cmd.sev_fd: which /dev/sev fd the command goes through */
enum sim_sev_fd_src {
	SIM_SEVFD_NONE = 0,        /* kernel only: no firmware command */
	SIM_SEVFD_ARG,             /* kvm_sev_cmd.sev_fd (LAUNCH/RECEIVE_START) */
	SIM_SEVFD_VM,              /* the number stored at *_START */
};

struct sim_gcmd;

/* One row of the guest command table (KVM_MEMORY_ENCRYPT_OP ids). */
struct sim_guest_cmd {
	uint32_t id;
	int (*run)(struct sim_gcmd *g); /* NULL: answers .absent */
	int absent;          /* no handler: -EINVAL (unknown to upstream KVM,
				no copy-back) or -EOPNOTSUPP (not emulated) */
	int not_sev;         /* errno on a VM without SEV; 0: run decides */
	uint8_t sev_fd;      /* SIM_SEVFD_*: the PSP gate it goes through */
	bool mirror_ok;      /* a mirror VM may issue it */
};

/* A guest command in flight: VM lock and host PSP lock held while run. */
struct sim_gcmd {
	const struct sim_guest_cmd *def;
	struct sevmig_sim_host *host;
	struct sim_vm *vm;
	struct kvm_sev_cmd *c;
	uint32_t *fw;
	uint64_t done_ns;          /* latency timeline: return no earlier */
};

/* One row of the /dev/sev command table (SEV_ISSUE_CMD ids). */
struct sim_pcmd;
struct sim_platform_cmd {
	uint32_t id;
	int (*run)(struct sim_pcmd *p); /* NULL: -EOPNOTSUPP (not emulated) */
	bool writable;       /* needs /dev/sev opened for writing (-EPERM) */
	bool api_0_16;       /* needs firmware API >= 0.16 (-ENOTSUPP) */
};

/* A /dev/sev command in flight: host PSP lock held while run. */
struct sim_pcmd {
	const struct sim_platform_cmd *def;
	struct sevmig_sim_host *host;
	bool writable;
	void *data;                /* sev_issue_cmd.data */
	uint32_t *fw;
	uint64_t done_ns;
};

static inline int sim_fw_fail(uint32_t *fw, uint32_t status)
{
	*fw = status;
	return -EIO;
}

/* ---- what every guest command shares (cmd-guest.c) ---- */
/* Enter the PSP through the command's /dev/sev fd (SIM_SEVFD_*). */
int sim_gcmd_issue(struct sim_gcmd *g);
/* Firmware: platform WORKING and the VM's handle valid, else NULL and
 * *ret. */
struct sim_guest *sim_gcmd_guest(struct sim_gcmd *g, int *ret);
/* psp_copy_user_blob(): the kernel's blob rules (-EINVAL). */
int sim_blob_check(uint64_t uaddr, uint32_t len);
/* Firmware policy checks of a new guest: API version and reserved bits,
 * then key sharing with @handle, then SEV-ES. */
int sim_fw_new_guest_policy(struct sim_gcmd *g, uint32_t handle,
			    uint32_t policy);
/* KVM binds the ASID (ACTIVATE) after LAUNCH_START / RECEIVE_START. */
int sim_gcmd_activate(struct sim_gcmd *g, struct sim_guest *guest);

/* ---- handlers ---- */
int sim_cmd_init(struct sim_gcmd *g);                 /* INIT, ES_INIT, INIT2 */
int sim_cmd_launch_start(struct sim_gcmd *g);
int sim_cmd_launch_update_data(struct sim_gcmd *g);
int sim_cmd_launch_update_vmsa(struct sim_gcmd *g);
int sim_cmd_launch_measure(struct sim_gcmd *g);
int sim_cmd_launch_finish(struct sim_gcmd *g);
int sim_cmd_guest_status(struct sim_gcmd *g);
int sim_cmd_send_start(struct sim_gcmd *g);
int sim_cmd_send_update_data(struct sim_gcmd *g);
int sim_cmd_send_finish(struct sim_gcmd *g);
int sim_cmd_send_cancel(struct sim_gcmd *g);
int sim_cmd_receive_start(struct sim_gcmd *g);
int sim_cmd_receive_update_data(struct sim_gcmd *g);
int sim_cmd_receive_finish(struct sim_gcmd *g);

int sim_cmd_platform_status(struct sim_pcmd *p);
int sim_cmd_key_gen(struct sim_pcmd *p);              /* PEK_GEN, PDH_GEN */
int sim_cmd_pdh_cert_export(struct sim_pcmd *p);
int sim_cmd_get_id(struct sim_pcmd *p);
int sim_cmd_get_id2(struct sim_pcmd *p);
int sim_cmd_factory_reset(struct sim_pcmd *p);

/* ---- the SEV transport (cmd-transport.c), pure functions ---- */
struct sim_session {
	uint8_t nonce[16];
	uint8_t wrap_tk[32];
	uint8_t wrap_iv[16];
	uint8_t wrap_mac[32];
	uint8_t policy_mac[32];
};
_Static_assert(sizeof(struct sim_session) == SEVMIG_SESSION_LEN, "session");

/* The session a sender's firmware writes, from the ECDH secret @z, the
 * nonce, WRAP_IV, TEK, TIK and the policy. */
int sim_session_wrap(const uint8_t *z, size_t zlen, const uint8_t nonce[16],
		     const uint8_t iv[16], const uint8_t tek[16],
		     const uint8_t tik[16], uint32_t policy,
		     struct sim_session *out);
/* Packet MAC: HMAC-SHA256(TIK, ctx || FLAGS || IV || len || len || ct). */
int sim_packet_mac(const uint8_t tik[16], uint32_t flags,
		   const uint8_t iv[16], uint32_t len, const uint8_t *ct,
		   uint8_t mac[32]);

/* ---- KVM-side context (cmd-move.c) ---- */
int sim_reg_region(struct sim_vm *vm, unsigned long req,
		   const struct kvm_enc_region *r);
int sim_enc_context_from(struct sim_vm *dst, const struct kvm_enable_cap *cap);

/* ---- dispatchers (cmd-table.c) ---- */
const struct sim_guest_cmd *sim_guest_cmd_find(uint32_t id);
const struct sim_platform_cmd *sim_platform_cmd_find(uint32_t id);
/* KVM_MEMORY_ENCRYPT_OP with a non-NULL argument on @vm. */
int sim_mem_enc_op(struct sim_vm *vm, struct kvm_sev_cmd *user);
/* An ioctl on a /dev/sev fd of @host. */
int sim_sev_ioctl(struct sevmig_sim_host *host, bool writable,
		  unsigned long req, void *arg);

/* ======================================================= dispatch.c */
/* Fill @o (a full struct sevmig_sys_ops) with the members talking to
 * @host. */
void sim_dispatch_ops(struct sevmig_sim_host *host, struct sevmig_sys_ops *o);

#endif /* SEVMIG_SIM_INTERNAL_H */
