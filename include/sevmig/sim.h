/* SPDX-License-Identifier: MIT */
/*
 * libsevmig-sim: an emulated AMD SEV platform behind libsevmig's syscall
 * seam, for tests and demos on machines without SEV hardware.
 *
 * THIS IS AN EMULATOR FOR TESTS. It provides no confidentiality: "guest
 * memory" is ordinary host memory and every key lives in this process.
 * libsevmig never uses it unless a caller passes its ops table.
 *
 * Model:
 *  - A struct sevmig_sim is one simulated world: the AMD root of trust
 *    (an ARK and ASK of its own) and a set of hosts. A process may hold
 *    several worlds; they share nothing.
 *  - A struct sevmig_sim_host is one simulated SEV machine: a PSP with its
 *    platform state machine (UNINIT, INIT, WORKING), its own keys and
 *    certificate chain (OCA, CEK, PEK, PDH as 2084-byte SEV certificates,
 *    CEK signed by the world's ASK), its firmware guests, and one PSP
 *    command mutex (like the kernel's global one).
 *  - Latency model: a host's PSP runs one command at a time on a timeline.
 *    A command that reaches the PSP at time t starts at max(t, the finish
 *    of the command before it) and finishes L microseconds later; its
 *    caller returns at that finish (an absolute sleep, not a busy wait;
 *    the locks are not held while sleeping). Commands queued by several
 *    threads therefore complete every L whatever time their callers wake
 *    up, so a caller that keeps commands in flight reaches 1/L commands per
 *    second, while a serial caller (PSP, then other work, then PSP) pays L
 *    for every command on top of its other work: idle PSP time is never
 *    banked. The sleep cuts the calling thread's timer slack to 1 ns for
 *    its duration (and restores it), so a return is late by the wake-up
 *    delay only, about 20 us on an idle machine.
 *  - sevmig_sim_host_sys_ops() gives a struct sevmig_sys_ops for one host.
 *    Pass it in struct sevmig_ctx_opts.sys (or call its members directly):
 *    open("/dev/sev") and the SEV side of KVM go to that host, everything
 *    else goes to the real kernel (sevmig_sys_default()). A migration
 *    source and destination in one process are two hosts of one world,
 *    each used through its own ops table.
 *
 * What a host's ops table emulates:
 *  - /dev/sev: open returns a real, unique fd (a memfd) that the simulator
 *    recognises; SEV_ISSUE_CMD with PLATFORM_STATUS, PEK_GEN, PDH_GEN,
 *    PDH_CERT_EXPORT, GET_ID, GET_ID2 and FACTORY_RESET, with the kernel's
 *    rules (writable fd, length queries, blob caps) and the firmware's.
 *  - /dev/kvm in one of two modes (struct sevmig_sim_opts.mode):
 *    KVM mode: /dev/kvm, VMs and vCPUs are real KVM objects; the simulator
 *    watches KVM_CREATE_VM / KVM_CREATE_VCPU / KVM_CREATE_DEVICE / close
 *    to learn the fds, and answers KVM_MEMORY_ENCRYPT_OP,
 *    KVM_MEMORY_ENCRYPT_(UN)REG_REGION and
 *    KVM_ENABLE_CAP(MOVE/COPY_ENC_CONTEXT_FROM) itself. SEV VM types (2,
 *    and 3 on a host with SEVMIG_SIM_CONFIG_ES) are created as real type-0
 *    VMs and remembered as SEV types; other vCPU ioctls go to real KVM.
 *    Memory mode: /dev/kvm, VM and vCPU fds are placeholder fds; only
 *    KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_CREATE_VM,
 *    KVM_CREATE_VCPU, KVM_ENABLE_CAP (EXIT_HYPERCALL, USER_SPACE_MSR,
 *    MOVE, COPY), KVM_X86_SET_MSR_FILTER, KVM_SET_CPUID2 and the SEV ioctls
 *    are answered; every other ioctl on them answers -ENOTTY, and mmap of
 *    them fails with -ENODEV. Nothing ever runs a vCPU in memory mode.
 *  - Guest commands: INIT, ES_INIT, INIT2, LAUNCH_START/UPDATE_DATA/
 *    UPDATE_VMSA/MEASURE/FINISH, GUEST_STATUS, SEND_START/UPDATE_DATA/
 *    FINISH/CANCEL, RECEIVE_START/UPDATE_DATA/FINISH, with the SEV API
 *    transport (ECDH P-384, SP 800-108 KDF, AES-128-CTR, HMAC-SHA256).
 *    SEND/RECEIVE_UPDATE_VMSA and CERT_EXPORT answer -EINVAL as upstream
 *    KVM does. LAUNCH_SECRET, DBG_*, GET_ATTESTATION_REPORT, SNP commands,
 *    PEK_CSR, PEK_CERT_IMPORT and the SNP /dev/sev commands are not
 *    emulated: they answer -EOPNOTSUPP.
 *  - Guest memory is the VMM's own mapping: SEND_UPDATE_DATA reads the
 *    plaintext at guest_uaddr, RECEIVE_UPDATE_DATA writes plaintext there.
 *  - A VM that was the source of a MOVE is dead, as KVM's kvm_vm_dead()
 *    makes it (the behaviour before the 2025 "vm_bugged" change, see
 *    docs/simulator.md): every later ioctl on its VM fd, its vCPU fds and
 *    (KVM mode) its device fds answers -EIO; close still works.
 *  - A SENT guest never runs again: after SEND_FINISH, KVM_RUN on any vCPU
 *    of a VM bound to that firmware guest answers -EIO and is counted in
 *    struct sevmig_sim_host_stats.sent_vcpu_runs. This is the simulator's
 *    own rule, not the kernel's (KVM lets such a vCPU enter the guest), so
 *    tests can prove a VMM never tries.
 *
 * Use in a test (error handling left out):
 *
 *     struct sevmig_sim *w;
 *     struct sevmig_sim_host *src, *dst;
 *     struct sevmig_sys_ops src_ops = { .size = sizeof(src_ops) };
 *     struct sevmig_ctx_opts o = { .size = sizeof(o), .sys = &src_ops };
 *     struct sevmig_ctx *ctx;
 *
 *     sevmig_sim_new(NULL, &w);
 *     sevmig_sim_host_new(w, NULL, &src);
 *     sevmig_sim_host_new(w, NULL, &dst);
 *     sevmig_sim_host_sys_ops(src, &src_ops);
 *     sevmig_ctx_new(&o, &ctx);          (libsevmig now talks to "src")
 *     ... the VMM's own /dev/kvm, /dev/sev, VM and vCPU calls go through
 *         src_ops.open/ioctl/close too, so the simulator sees its VMs ...
 *     sevmig_ctx_free(ctx);
 *     sevmig_sim_free(w);                (frees the hosts)
 *
 * See docs/simulator.md for the full list of emulated rules and the
 * assumptions taken where the SEV documentation is unverified.
 *
 * Conventions are libsevmig's (see <sevmig/sevmig.h>): negative errno
 * returns, sized records starting with uint32_t size, flags must be 0.
 */
#ifndef SEVMIG_SIM_H
#define SEVMIG_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A simulated world (AMD root of trust plus hosts). Opaque. */
struct sevmig_sim;
/** One simulated SEV host of a world. Opaque. */
struct sevmig_sim_host;

/* struct sevmig_sim_opts.mode */
#define SEVMIG_SIM_MODE_AUTO   1u /* KVM mode if /dev/kvm opens, else memory */
#define SEVMIG_SIM_MODE_KVM    2u /* real /dev/kvm, VMs and vCPUs */
#define SEVMIG_SIM_MODE_MEMORY 3u /* placeholder /dev/kvm, VMs and vCPUs */

/**
 * struct sevmig_sim_opts - how a simulated world is built.
 *
 * @size:      sizeof(struct sevmig_sim_opts).
 * @flags:     must be 0.
 * @mode:      SEVMIG_SIM_MODE_*; 0 means SEVMIG_SIM_MODE_AUTO.
 * @reserved0: must be 0.
 */
struct sevmig_sim_opts {
	uint32_t size;
	uint32_t flags;
	uint32_t mode;
	uint32_t reserved0;
};
#define SEVMIG_SIM_OPTS_SIZE_VER0 16u

/**
 * sevmig_sim_new() - create a simulated world with its own AMD root keys.
 *
 * Generates an RSA-2048 ARK and ASK (the 1664-byte ASK||ARK layout of
 * Naples), which takes some tens of milliseconds.
 *
 * @opts:    options, or NULL for SEVMIG_SIM_MODE_AUTO.
 * @ret_sim: receives the world.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ret_sim, flags, unknown mode, size below the first
 *         version), -E2BIG (newer record with non-zero tail), -ENODEV
 *         (SEVMIG_SIM_MODE_KVM and /dev/kvm cannot be opened; the open's
 *         errno is returned instead when it is not ENOENT), -ENOMEM, -EIO
 *         (libcrypto failed).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_new(const struct sevmig_sim_opts *opts,
				      struct sevmig_sim **ret_sim);

/**
 * sevmig_sim_free() - free a world and all its hosts. NULL is ignored.
 *
 * @sim: the world. Contexts using its ops tables must be freed first. Fds
 *       the simulator handed out and that are still open (a leak in the
 *       caller) are closed.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @sim or its hosts during or after it.
 */
void sevmig_sim_free(struct sevmig_sim *sim);

/**
 * sevmig_sim_mode() - the mode a world actually runs in.
 *
 * @sim: the world.
 * @return SEVMIG_SIM_MODE_KVM or SEVMIG_SIM_MODE_MEMORY (never AUTO), or
 *         0 for a NULL @sim.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread.
 */
uint32_t sevmig_sim_mode(const struct sevmig_sim *sim);

/**
 * sevmig_sim_amd_chain() - the world's ASK||ARK, as SEND_START's amd_certs.
 *
 * @sim:     the world.
 * @buf:     destination, or NULL to ask for the length only.
 * @len:     bytes available at @buf.
 * @ret_len: receives the chain length (1664) in every case but -EINVAL.
 * @return 0, or a negative errno.
 *
 * Errors: -EINVAL (NULL @sim or @ret_len), -ENOSPC (@buf too small;
 *         *ret_len says how much is needed).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_amd_chain(const struct sevmig_sim *sim,
					    void *buf, size_t len,
					    size_t *ret_len);

/**
 * sevmig_sim_trust_ark() - add an AMD root the hosts of @sim accept.
 *
 * SEND_START with the SEV policy bit checks that the amd_certs chain ends
 * in a known ARK. The world's own ARK is always known; this adds another
 * (for example a real ARK from AMD's key server), so a test can drive
 * SEND_START against real certificate chains. At most 8 extra roots.
 *
 * @sim:   the world.
 * @ark:   an AMD-format ARK certificate (self-signed; checked).
 * @len:   its length.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, malformed certificate),
 *         -EKEYREJECTED (not validly self-signed), -ENOSPC (8 roots
 *         already), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_trust_ark(struct sevmig_sim *sim,
					    const void *ark, size_t len,
					    uint32_t flags);

/**
 * sevmig_sim_cert_verify() - check that @signer signed @cert.
 *
 * Both are either 2084-byte SEV certificates (OCA, CEK, PEK, PDH) or
 * AMD-format certificates (ARK, ASK), in the formats of the SEV API
 * (little-endian fields; see docs/simulator.md). Supported pairs: SEV cert
 * signed by an SEV cert (ECDSA P-384 or P-256 over the first 1044 bytes,
 * SHA-256 or SHA-384 as the signature's algorithm says), SEV cert signed
 * by an AMD cert (the CEK signed by the ASK: RSA-PSS), AMD cert signed by an
 * AMD cert (RSA-PSS, SHA-256 for 2048-bit and SHA-384 for 4096-bit signer
 * keys; pass the same ARK twice for its self-signature). The signature
 * slot used is the one whose usage equals the signer's key usage.
 *
 * @cert:       the certificate to check.
 * @cert_len:   its length in bytes (exact).
 * @signer:     the certificate of the signing key.
 * @signer_len: its length in bytes (exact).
 * @flags:      must be 0.
 * @return 0 when the signature verifies, else a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, malformed certificate, key type
 *         not usable for signing), -ENOKEY (@cert carries no signature by
 *         a key of @signer's usage), -EKEYREJECTED (the signature does not
 *         verify), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread; pure function.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_cert_verify(const void *cert,
					      size_t cert_len,
					      const void *signer,
					      size_t signer_len,
					      uint32_t flags);

/* struct sevmig_sim_host_opts.config bits */
#define SEVMIG_SIM_CONFIG_ES (1u << 0) /* platform initialised with SEV-ES */

/**
 * struct sevmig_sim_host_opts - how a simulated host is built.
 *
 * @size:       sizeof(struct sevmig_sim_host_opts).
 * @flags:      must be 0.
 * @api_major:  firmware API major; with @api_minor both 0 means 1.55.
 * @api_minor:  firmware API minor.
 * @build:      firmware build number (0..255).
 * @state:      initial platform state, SEVMIG_PLATFORM_UNINIT or
 *              SEVMIG_PLATFORM_INIT (0 means INIT, as after the kernel
 *              module loaded on older kernels).
 * @config:     SEVMIG_SIM_CONFIG_* bits.
 * @latency_us: microseconds each PSP command takes on the host's PSP
 *              timeline (see "Latency model" above); 0 for none.
 */
struct sevmig_sim_host_opts {
	uint32_t size;
	uint32_t flags;
	uint32_t api_major;
	uint32_t api_minor;
	uint32_t build;
	uint32_t state;
	uint32_t config;
	uint32_t latency_us;
};
#define SEVMIG_SIM_HOST_OPTS_SIZE_VER0 32u

/**
 * sevmig_sim_host_new() - add a simulated SEV host to a world.
 *
 * Generates the host's P-384 OCA, CEK, PEK and PDH keys and their
 * certificates (CEK signed by the world's ASK).
 *
 * @sim:      the world.
 * @opts:     options, or NULL for the defaults.
 * @ret_host: receives the host; it lives until sevmig_sim_host_free() or
 *            sevmig_sim_free().
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @sim or @ret_host, flags, bad state, unknown config
 *         bits, build > 255, API version > 255.255), -E2BIG, -ENOMEM, -EIO
 *         (libcrypto failed).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int
sevmig_sim_host_new(struct sevmig_sim *sim,
		    const struct sevmig_sim_host_opts *opts,
		    struct sevmig_sim_host **ret_host);

/**
 * sevmig_sim_host_free() - remove a host from its world. NULL is ignored.
 *
 * @host: the host. Fds it handed out that are still open are closed; its
 *        VMs, guests and /dev/sev fds are forgotten.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @host during or after the call.
 */
void sevmig_sim_host_free(struct sevmig_sim_host *host);

/**
 * sevmig_sim_host_sys_ops() - the syscall backend that talks to @host.
 *
 * @host: the host.
 * @ops:  record to fill; set ops->size first (>= SEVMIG_SYS_OPS_SIZE_VER0).
 *        Every member is set; ops->opaque is @host. The table stays valid
 *        as long as @host does.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, size below the first version), -E2BIG
 *         (a larger record with non-zero bytes past what is known).
 * Firmware: not reached.
 * Context: any thread. The members are thread-safe as struct
 *          sevmig_sys_ops requires.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_host_sys_ops(struct sevmig_sim_host *host,
					       struct sevmig_sys_ops *ops);

/**
 * sevmig_sim_host_cert() - one of the host's current SEV certificates.
 *
 * The same bytes PDH_CERT_EXPORT returns (PEK, OCA, CEK form its chain);
 * handy for tests that do not want to open /dev/sev.
 *
 * @host:  the host.
 * @usage: 0x1001 OCA, 0x1002 PEK, 0x1003 PDH or 0x1004 CEK.
 * @buf:   destination of 2084 bytes.
 * @len:   bytes available at @buf.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, unknown usage), -ENOSPC (@len < 2084).
 * Firmware: not reached (no PSP command is counted or delayed).
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_host_cert(struct sevmig_sim_host *host,
					    uint32_t usage, void *buf,
					    size_t len);

/**
 * sevmig_sim_host_set_latency() - change the PSP latency model.
 *
 * @host:       the host.
 * @latency_us: microseconds each later PSP command takes on the host's
 *              PSP timeline (see "Latency model" above: commands of all VMs
 *              and /dev/sev fds of the host queue behind each other, as on
 *              hardware). An intra-host MOVE or COPY also takes this long
 *              (it is no PSP command and does not queue), with both VMs
 *              marked as migrating (so concurrent moves see -EBUSY).
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @host, @latency_us above 10 s).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_sim_host_set_latency(struct sevmig_sim_host *host,
						   uint32_t latency_us);

/* struct sevmig_sim_fault.kind */
#define SEVMIG_SIM_FAULT_ANY      1u /* any PSP command of the host */
#define SEVMIG_SIM_FAULT_PLATFORM 2u /* /dev/sev command @cmd (SEV_* id) */
#define SEVMIG_SIM_FAULT_GUEST    3u /* KVM_SEV_* guest command @cmd */

/**
 * struct sevmig_sim_fault - make the Nth matching PSP command fail.
 *
 * Counting starts when the fault is installed and covers commands that
 * reach the PSP (after the kernel-side checks, which are never faulted).
 * The fault fires once and is then removed.
 *
 * @size:      sizeof(struct sevmig_sim_fault).
 * @flags:     must be 0.
 * @kind:      SEVMIG_SIM_FAULT_*.
 * @cmd:       command id for PLATFORM and GUEST kinds; 0 for ANY.
 * @nth:       1 for the next matching command; 0 removes any fault.
 * @err:       negative errno the ioctl returns. -ETIMEDOUT models a PSP
 *             timeout: the host's PSP is then dead and every later command
 *             answers -EBUSY, as the kernel driver does. 0 with a
 *             @fw_status means -EIO.
 * @fw_status: firmware status to report (written to the error field);
 *             non-zero only with @err 0 or -EIO.
 * @reserved0: must be 0.
 */
struct sevmig_sim_fault {
	uint32_t size;
	uint32_t flags;
	uint32_t kind;
	uint32_t cmd;
	uint32_t nth;
	int32_t err;
	uint32_t fw_status;
	uint32_t reserved0;
};
#define SEVMIG_SIM_FAULT_SIZE_VER0 32u

/**
 * sevmig_sim_host_inject_fault() - install (or with nth 0 remove) a fault.
 *
 * @host:  the host.
 * @fault: the fault; replaces any earlier one.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, unknown kind, cmd with kind ANY,
 *         err not negative or not -EIO with a fw_status, fw_status above
 *         0xffff, neither err nor fw_status while nth != 0), -E2BIG.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int
sevmig_sim_host_inject_fault(struct sevmig_sim_host *host,
			     const struct sevmig_sim_fault *fault);

/**
 * struct sevmig_sim_host_stats - counters and state of a host.
 *
 * @size:           in: sizeof(); out: bytes written.
 * @flags:          0.
 * @psp_commands:   PSP commands executed (including failed and faulted).
 * @platform_state: SEVMIG_PLATFORM_* (firmware numbering plus one).
 * @guest_count:    firmware guests alive.
 * @psp_dead:       1 after a PSP timeout, else 0.
 * @vm_count:       VMs of this host the simulator tracks.
 * @sent_vcpu_runs: KVM_RUN calls refused because the VM's firmware guest
 *                  was SENT (see "What a host's ops table emulates").
 */
struct sevmig_sim_host_stats {
	uint32_t size;
	uint32_t flags;
	uint64_t psp_commands;
	uint32_t platform_state;
	uint32_t guest_count;
	uint32_t psp_dead;
	uint32_t vm_count;
	uint64_t sent_vcpu_runs;
};
#define SEVMIG_SIM_HOST_STATS_SIZE_VER0 40u

/**
 * sevmig_sim_host_stats() - read a host's counters.
 *
 * @host:  the host.
 * @stats: record to fill; set stats->size first.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, size), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; never waits for the latency model.
 */
SEVMIG_WARN_UNUSED int
sevmig_sim_host_stats(struct sevmig_sim_host *host,
		      struct sevmig_sim_host_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_SIM_H */
