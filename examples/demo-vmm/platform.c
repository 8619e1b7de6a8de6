// SPDX-License-Identifier: MIT
/*
 * Where SEV comes from. On a host with /dev/sev and SEV in KVM, the real
 * thing. Elsewhere libsevmig-sim in KVM mode: the VMs and vCPUs are real KVM
 * objects that really run the guest, and the simulator answers /dev/sev and
 * the SEV side of KVM (the PSP) itself. Each process has its own simulated
 * world, so source and destination have different AMD roots, as two real
 * machines of different owners would: the destination exports its root and
 * the source is told to trust it.
 *
 * The guest launch is the VMM's job in every VMM (libsevmig does migration,
 * not launch): KVM_SEV_INIT, LAUNCH_START, LAUNCH_UPDATE_DATA over what the
 * guest needs to boot, LAUNCH_MEASURE, LAUNCH_FINISH.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef DEMO_HAVE_SIM
#include <sevmig/sim.h>
#endif

#include "vmm.h"

static void lib_log(void *opaque, uint32_t level, const char *msg)
{
	struct vmm *v = opaque;

	/* The refused resume after a migration is the library doing its job. */
	vmm_note(v, level == SEVMIG_LOG_ERR &&
		 !__atomic_load_n(&v->expect_refusal, __ATOMIC_RELAXED) ?
		 "libsevmig-error" : "libsevmig", "%s", msg);
}

#ifdef DEMO_HAVE_SIM
/*
 * libsevmig has no cryptography of its own; given a verifier it checks
 * every signature of a target's chain (PDH, PEK, OCA, CEK, ASK, ARK) before
 * the firmware is asked. libsevmig-sim's verifier handles real AMD and SEV
 * certificates as well as simulated ones.
 */
static int verify(void *opaque, const void *cert, size_t cert_len,
		  const void *signer, size_t signer_len)
{
	(void)opaque;
	return sevmig_sim_cert_verify(cert, cert_len, signer, signer_len, 0);
}
#endif

static int new_ctx(struct vmm *v)
{
	struct sevmig_ctx_opts o = {
		.size = sizeof(o),
		.sys = &v->sys,
		.log = lib_log,
		.log_opaque = v,
		.log_level = SEVMIG_LOG_WARNING,
#ifdef DEMO_HAVE_SIM
		.verify = verify,
#endif
	};
	int r = sevmig_ctx_new(&o, &v->ctx);

	if (r)
		vmm_note(v, "error", "sevmig_ctx_new: %s", sevmig_strerror(r));
	return r;
}

/* Real SEV: the probe's own answer (KVM with SEV and a usable /dev/sev). */
static bool real_sev_available(void)
{
	struct sevmig_host_caps caps = { .size = sizeof(caps) };
	struct sevmig_ctx *ctx;
	bool yes;

	if (access("/dev/sev", F_OK))
		return false;
	if (sevmig_ctx_new(NULL, &ctx))
		return false;
	yes = sevmig_host_probe(ctx, &caps, 0) == 0 &&
	      (caps.flags & SEVMIG_HOST_KVM_SEV) &&
	      (caps.flags & SEVMIG_HOST_SEV_DEVICE);
	sevmig_ctx_free(ctx);
	return yes;
}

int platform_open(struct vmm *v, bool incoming)
{
	uint32_t want = v->cfg.sev;
	int r;

	(void)incoming;
	if (want == DEMO_SEV_AUTO)
		want = real_sev_available() ? DEMO_SEV_REAL : DEMO_SEV_SIM;
	v->sev = want;
	if (want == DEMO_SEV_REAL) {
		v->sys = *sevmig_sys_default();
	} else {
#ifdef DEMO_HAVE_SIM
		struct sevmig_sim_opts so = { .size = sizeof(so),
					      .mode = SEVMIG_SIM_MODE_KVM };

		r = sevmig_sim_new(&so, &v->sim);
		if (r) {
			vmm_note(v, "error", "libsevmig-sim in KVM mode: %s",
				 sevmig_strerror(r));
			return r;
		}
		r = sevmig_sim_host_new(v->sim, NULL, &v->sim_host);
		if (r) {
			vmm_note(v, "error", "simulated SEV host: %s",
				 sevmig_strerror(r));
			return r;
		}
		/* How long each PSP command takes (--psp-latency-us). */
		r = sevmig_sim_host_set_latency(v->sim_host,
						v->cfg.psp_latency_us);
		if (r) {
			vmm_note(v, "error", "--psp-latency-us %u: %s",
				 v->cfg.psp_latency_us, sevmig_strerror(r));
			return r;
		}
		v->sys.size = sizeof(v->sys);
		r = sevmig_sim_host_sys_ops(v->sim_host, &v->sys);
		if (r)
			return r;
#else
		vmm_note(v, "error", "this host has no SEV and the demo was "
			 "built without libsevmig-sim (install libssl-dev and "
			 "rebuild)");
		return -ENODEV;
#endif
	}
	r = new_ctx(v);
	if (r)
		return r;
	v->kvm_fd = v->sys.open(v->sys.opaque, "/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0) {
		vmm_note(v, "error", "/dev/kvm: %s", strerror(-v->kvm_fd));
		return v->kvm_fd;
	}
	r = sevmig_platform_open(v->ctx, NULL, 0, &v->platform);
	if (r) {
		vmm_note(v, "error", "/dev/sev: %s", sevmig_strerror(r));
		return r;
	}
	return 0;
}

const char *platform_describe(const struct vmm *v)
{
	if (v->sev == DEMO_SEV_REAL)
		return "real SEV: /dev/sev and SEV in KVM";
	return "libsevmig-sim in KVM mode: real KVM VMs, emulated PSP "
	       "(no memory encryption)";
}

void platform_close(struct vmm *v)
{
	sevmig_platform_free(v->platform);
	v->platform = NULL;
	if (v->kvm_fd >= 0)
		v->sys.close(v->sys.opaque, v->kvm_fd);
	v->kvm_fd = -1;
	sevmig_ctx_free(v->ctx);
	v->ctx = NULL;
#ifdef DEMO_HAVE_SIM
	sevmig_sim_free(v->sim);	/* frees its host too */
#endif
	v->sim = NULL;
	v->sim_host = NULL;
}

static int sev_op(struct vmm *v, uint32_t id, void *data, uint32_t *fw)
{
	struct kvm_sev_cmd c = {
		.id = id,
		.data = (uint64_t)(uintptr_t)data,
		.sev_fd = (uint32_t)sevmig_platform_fd(v->platform),
	};
	int r = vmm_ioctl(v, v->vm_fd, KVM_MEMORY_ENCRYPT_OP, &c);

	*fw = c.error;
	return r;
}

static int sev_fail(struct vmm *v, const char *what, int r, uint32_t fw)
{
	if (r == -EIO && fw)
		vmm_note(v, "error", "%s: firmware status %s (%s)", what,
			 sevmig_fw_status_name(fw), sevmig_fw_strerror(fw));
	else
		vmm_note(v, "error", "%s: %s", what, strerror(-r));
	return r;
}

/* KVM_SEV_INIT: before any vCPU exists (a KVM rule). */
int platform_sev_init(struct vmm *v)
{
	uint32_t fw = 0;
	int r = sev_op(v, KVM_SEV_INIT, NULL, &fw);

	return r ? sev_fail(v, "KVM_SEV_INIT", r, fw) : 0;
}

/* Pin the guest RAM for the SEV guest's lifetime. */
int platform_register_ram(struct vmm *v)
{
	struct kvm_enc_region reg = {
		.addr = (uint64_t)(uintptr_t)v->ram,
		.size = v->lay.ram_size,
	};
	int r = vmm_ioctl(v, v->vm_fd, KVM_MEMORY_ENCRYPT_REG_REGION, &reg);

	if (r)
		vmm_note(v, "error", "KVM_MEMORY_ENCRYPT_REG_REGION: %s",
			 strerror(-r));
	else
		v->ram_registered = true;
	return r;
}

/*
 * Launch: everything the guest reads before it writes it (boot information,
 * image, page tables) is encrypted in place and measured. The rest of RAM
 * the guest initialises itself.
 */
int platform_launch(struct vmm *v)
{
	struct kvm_sev_launch_start ls = { .policy = v->cfg.policy };
	struct kvm_sev_launch_update_data ud = {
		.uaddr = (uint64_t)(uintptr_t)v->ram,
		.len = (uint32_t)v->lay.launch_end,
	};
	uint8_t digest[128];
	struct kvm_sev_launch_measure m = {
		.uaddr = (uint64_t)(uintptr_t)digest,
		.len = sizeof(digest),
	};
	uint32_t fw = 0;
	int r;

	r = sev_op(v, KVM_SEV_LAUNCH_START, &ls, &fw);
	if (r)
		return sev_fail(v, "LAUNCH_START", r, fw);
	r = sev_op(v, KVM_SEV_LAUNCH_UPDATE_DATA, &ud, &fw);
	if (r)
		return sev_fail(v, "LAUNCH_UPDATE_DATA", r, fw);
	r = sev_op(v, KVM_SEV_LAUNCH_MEASURE, &m, &fw);
	if (r)
		return sev_fail(v, "LAUNCH_MEASURE", r, fw);
	r = sev_op(v, KVM_SEV_LAUNCH_FINISH, NULL, &fw);
	if (r)
		return sev_fail(v, "LAUNCH_FINISH", r, fw);
	/* The handle checks NOSEND and friends against this policy. */
	r = sevmig_vm_set_guest_policy(v->vm, v->cfg.policy, 0);
	if (r)
		vmm_note(v, "error", "sevmig_vm_set_guest_policy: %s",
			 sevmig_strerror(r));
	return r;
}

void *platform_read_file(const char *path, size_t max, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n == 0 || n > max) {
		free(buf);
		errno = n ? EFBIG : EINVAL;
		return NULL;
	}
	*ret_len = n;
	return buf;
}

/* This host's ASK || ARK, which the destination sends in its HELLO. */
int platform_amd_chain(struct vmm *v, void **ret_chain, size_t *ret_len)
{
	if (v->sev == DEMO_SEV_REAL) {
		if (!v->amd_chain_path) {
			vmm_note(v, "error", "a real SEV destination needs "
				 "--amd-chain FILE: the ASK||ARK of this CPU "
				 "generation (from AMD's key server)");
			return -EINVAL;
		}
		*ret_chain = platform_read_file(v->amd_chain_path, 16384, ret_len);
		if (!*ret_chain) {
			vmm_note(v, "error", "%s: %s", v->amd_chain_path,
				 strerror(errno));
			return -errno;
		}
		return 0;
	}
#ifdef DEMO_HAVE_SIM
	{
		size_t len = 0;
		void *buf;
		int r = sevmig_sim_amd_chain(v->sim, NULL, 0, &len);

		if (r && r != -ENOSPC)
			return r;
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
		r = sevmig_sim_amd_chain(v->sim, buf, len, &len);
		if (r) {
			free(buf);
			return r;
		}
		*ret_chain = buf;
		*ret_len = len;
		return 0;
	}
#else
	return -ENODEV;
#endif
}

/* Length of the AMD-format certificate at @p (the SEV API's layout). */
static size_t amd_cert_len(const uint8_t *p, size_t avail)
{
	uint32_t exp_bits, mod_bits;

	if (avail < 64)
		return 0;
	memcpy(&exp_bits, p + 56, 4);
	memcpy(&mod_bits, p + 60, 4);
	if (exp_bits % 8 || mod_bits % 8 || exp_bits > 4096 || mod_bits > 4096)
		return 0;
	return 64 + exp_bits / 8 + 2 * (size_t)(mod_bits / 8);
}

/* Write this host's AMD root (the ARK after the ASK) for a source. */
int platform_export_ark(struct vmm *v, const char *path)
{
	void *chain;
	size_t len, ask;
	FILE *f;
	int r = platform_amd_chain(v, &chain, &len);

	if (r)
		return r;
	ask = amd_cert_len(chain, len);
	if (!ask || ask >= len) {
		free(chain);
		vmm_note(v, "error", "the AMD chain is malformed");
		return -EINVAL;
	}
	f = fopen(path, "wb");
	if (!f || fwrite((uint8_t *)chain + ask, 1, len - ask, f) != len - ask) {
		r = -errno;
		vmm_note(v, "error", "%s: %s", path, strerror(errno));
	}
	if (f && fclose(f) && !r)
		r = -errno;
	free(chain);
	return r;
}
