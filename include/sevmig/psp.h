/* SPDX-License-Identifier: MIT */
/*
 * libsevmig PSP layer: the SEV platform device (/dev/sev) and the raw SEV
 * guest firmware commands on a VM descriptor. Conventions: <sevmig/common.h>.
 */
#ifndef SEVMIG_PSP_H
#define SEVMIG_PSP_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The SEV firmware (PSP) is reached two ways: platform commands on /dev/sev
 * (struct sevmig_platform) and guest commands on a VM fd through
 * KVM_MEMORY_ENCRYPT_OP (sevmig_psp_guest_status(), sevmig_psp_send_*(),
 * sevmig_psp_receive_*()). Every such call keeps errno and firmware status
 * apart: the return value is 0 or a negative errno; when the firmware
 * refused a command the return is -EIO and *ret_fw_error holds its status
 * (SEV_RET_*, see sevmig_fw_strerror()). Length queries, which the kernel
 * answers with EIO and INVALID_LEN, are handled inside: callers see sizes.
 * After one PSP timeout (-ETIMEDOUT) the kernel refuses every later command
 * with -EBUSY until the host reboots; the log says so.
 *
 * Certificates are checked structurally only: libsevmig contains no
 * cryptography; the firmware verifies every signature at SEND_START.
 * docs/psp.md lists what the structural checks can and cannot catch.
 */

/* Sizes of the SEV transport objects. */
#define SEVMIG_SEV_CERT_LEN        2084u  /* one SEV certificate (PDH, PEK, ...) */
#define SEVMIG_PLAT_CHAIN_LEN      6252u  /* PEK || OCA || CEK */
#define SEVMIG_SESSION_LEN         128u   /* SEND_START output */
#define SEVMIG_PACKET_HDR_LEN      52u    /* SEND/RECEIVE_UPDATE_DATA header */
#define SEVMIG_FW_BLOB_MAX         16384u /* kernel limit on any blob */
#define SEVMIG_XFER_PAGE_SIZE      4096u  /* host page: one transfer's bound */

/** /dev/sev: an open SEV platform device. Opaque. */
struct sevmig_platform;

/**
 * sevmig_platform_open() - open the SEV platform device.
 *
 * Opens @path (NULL means "/dev/sev") with O_RDWR | O_CLOEXEC through the
 * context's backend. The descriptor belongs to the object and is closed by
 * sevmig_platform_free().
 *
 * Lifetime: KVM stores the *number* of the /dev/sev descriptor given at
 * LAUNCH_START or RECEIVE_START and looks it up again for every later guest
 * command of that VM. The platform object (and so its descriptor) must
 * therefore outlive every VM started with it; freeing it early makes the
 * VM's later commands fail with -EBADF (or reach whatever file reuses the
 * number).
 *
 * @ctx:          the context; must outlive the object.
 * @path:         device path, or NULL for /dev/sev.
 * @flags:        must be 0.
 * @ret_platform: receives the object.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ctx or @ret_platform, flags), -ENOMEM, and the
 *         open(2) error: -ENOENT/-ENODEV/-ENXIO (no SEV device: no PSP or
 *         the ccp driver is not loaded), -EACCES/-EPERM (no permission to
 *         open it read-write).
 * Firmware: not reached.
 * Context: any thread; blocks for one open(2).
 */
SEVMIG_WARN_UNUSED int
sevmig_platform_open(struct sevmig_ctx *ctx, const char *path, uint32_t flags,
		     struct sevmig_platform **ret_platform);

/**
 * sevmig_platform_from_fd() - wrap a /dev/sev descriptor the caller owns.
 *
 * The descriptor is borrowed: it is never closed by libsevmig and must stay
 * open (at the same number) for the object's life and for the life of every
 * VM started with it (see sevmig_platform_open()). It should be opened
 * read-write: PDH_CERT_EXPORT on a platform not yet in INIT needs write
 * access (-EPERM otherwise).
 *
 * @ctx:          the context; must outlive the object.
 * @sev_fd:       an open /dev/sev descriptor (>= 0).
 * @flags:        must be 0.
 * @ret_platform: receives the object.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags), -EBADF (@sev_fd < 0), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int
sevmig_platform_from_fd(struct sevmig_ctx *ctx, int sev_fd, uint32_t flags,
			struct sevmig_platform **ret_platform);

/**
 * sevmig_platform_free() - release a platform object. NULL is ignored.
 *
 * Closes the descriptor if sevmig_platform_open() opened it. Logs a warning
 * when VMs received with it may still exist: KVM keeps the fd number of
 * RECEIVE_START for every later command of the VM, which then fails with
 * -EBADF. Counted: every sevmig_psp_receive_start() on it, less each VM
 * handle a receive session started that was freed since (sevmig_vm_free());
 * free those handles (and close their VMs) first.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @p during or after the call.
 */
void sevmig_platform_free(struct sevmig_platform *p);

/**
 * sevmig_platform_fd() - the /dev/sev descriptor of a platform object.
 *
 * @return the descriptor (owned by the object or borrowed), or -EINVAL for
 *         a NULL @p. Do not close it.
 *
 * Errors: -EINVAL. Firmware: not reached.
 * Context: any thread; no blocking.
 */
int sevmig_platform_fd(const struct sevmig_platform *p);

/* struct sevmig_platform_status.flags */
#define SEVMIG_PLATFORM_OWNER_EXTERNAL (1u << 0) /* externally owned (OCA imported) */
#define SEVMIG_PLATFORM_ES_INITIALIZED (1u << 1) /* SEV-ES initialized */

/**
 * struct sevmig_platform_status - SEV PLATFORM_STATUS.
 *
 * @size:        in: sizeof(); out: bytes written.
 * @flags:       SEVMIG_PLATFORM_OWNER_EXTERNAL, SEVMIG_PLATFORM_ES_INITIALIZED.
 * @api_major, @api_minor: firmware API version.
 * @build:       firmware build.
 * @state:       SEVMIG_PLATFORM_UNINIT, _INIT or _WORKING (firmware + 1).
 * @config:      the firmware's CONFIG field (bit 0 = SEV-ES initialized).
 * @guest_count: guests the firmware holds.
 */
struct sevmig_platform_status {
	uint32_t size;
	uint32_t flags;
	uint32_t api_major;
	uint32_t api_minor;
	uint32_t build;
	uint32_t state;
	uint32_t config;
	uint32_t guest_count;
};
#define SEVMIG_PLATFORM_STATUS_SIZE_VER0 32u

/**
 * sevmig_platform_status() - read the SEV platform status.
 *
 * Works in every platform state, UNINIT included, and on a read-only fd.
 *
 * @p:            the platform.
 * @ret_status:   record to fill; set ->size first.
 * @ret_fw_error: optional; receives the firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL, size), -E2BIG (newer record, non-zero tail),
 *         -EIO (firmware status in *ret_fw_error), -EBADF (the descriptor
 *         is not open), -ENOTTY (not an SEV device), -EFAULT,
 *         -ETIMEDOUT (the PSP timed out: dead until reboot), -EBUSY (the
 *         PSP is dead or busy), or another ioctl error.
 * Firmware: PLATFORM_STATUS; a status is rare (HWSEV_RET_* on a broken PSP).
 * Context: any thread; blocks for one PSP command (milliseconds).
 */
SEVMIG_WARN_UNUSED int
sevmig_platform_status(struct sevmig_platform *p,
		       struct sevmig_platform_status *ret_status,
		       uint32_t *ret_fw_error);

/**
 * sevmig_platform_pdh_export() - export the platform's PDH and chain.
 *
 * With @pdh and @chain both NULL this is a length query: the firmware says
 * how large the PDH (2084 B) and the platform chain PEK || OCA || CEK
 * (6252 B) are, and those sizes are stored. Otherwise both buffers must be
 * given; they are filled and the lengths written stored. A migration source
 * sends its PDH to the target (RECEIVE_START); a target sends PDH and chain
 * to the source (SEND_START).
 *
 * @p:             the platform (descriptor opened read-write unless the
 *                 platform is already initialized).
 * @pdh, @pdh_size:     buffer for the PDH and its size, or NULL and 0.
 * @chain, @chain_size: buffer for the chain and its size, or NULL and 0.
 *                 Sizes above SEVMIG_FW_BLOB_MAX are passed as that limit.
 * @ret_pdh_len:   optional; bytes of PDH (needed, or written).
 * @ret_chain_len: optional; bytes of chain (needed, or written).
 * @ret_fw_error:  optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @p, only one buffer given, a size of 0 with a
 *         buffer), -ENOSPC (a buffer is smaller than the firmware needs;
 *         ask with a length query), -EPERM (read-only descriptor and the
 *         platform is not initialized), -EIO (firmware status; e.g.
 *         INVALID_PLATFORM_STATE when the platform is in UNINIT and the
 *         kernel does not initialize it), -EBADF, -ENOTTY, -EFAULT,
 *         -ETIMEDOUT, -EBUSY, as for sevmig_platform_status(); -EPROTO
 *         (the firmware broke its own rules: a length query that
 *         succeeded, or more bytes reported than the buffers hold).
 * Firmware: PDH_CERT_EXPORT; INVALID_LEN is the query's answer and never
 *         reported; INVALID_PLATFORM_STATE means UNINIT.
 * Context: any thread; blocks for one PSP command.
 */
SEVMIG_WARN_UNUSED int sevmig_platform_pdh_export(struct sevmig_platform *p,
						  void *pdh, size_t pdh_size,
						  void *chain,
						  size_t chain_size,
						  size_t *ret_pdh_len,
						  size_t *ret_chain_len,
						  uint32_t *ret_fw_error);

/**
 * sevmig_platform_get_id() - the platform's unique ID (GET_ID2).
 *
 * With @buf NULL this is a length query (do not assume 64 bytes: the ID is
 * 64 bytes per socket). The ID names the CEK at AMD's key distribution
 * service.
 *
 * @p:            the platform.
 * @buf, @size:   buffer and its size, or NULL and 0 for a query.
 * @ret_len:      optional; bytes needed (query) or written.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @p, @buf with size 0), -ENOSPC (@size too small),
 *         -524 (ENOTSUPP: firmware API older than 0.16 has no GET_ID2),
 *         -EIO, -EBADF, -ENOTTY, -EFAULT, -ETIMEDOUT, -EBUSY, -EPROTO (a
 *         length query that succeeded, or more bytes than the buffer).
 * Firmware: GET_ID2; INVALID_LEN is the query's answer and never reported.
 * Context: any thread; blocks for one PSP command.
 */
SEVMIG_WARN_UNUSED int sevmig_platform_get_id(struct sevmig_platform *p,
					      void *buf, size_t size,
					      size_t *ret_len,
					      uint32_t *ret_fw_error);

/* Guest states of GUEST_STATUS (firmware numbering plus one). */
enum sevmig_guest_state {
	SEVMIG_GUEST_UNINIT = 1,   /* firmware 0 */
	SEVMIG_GUEST_LUPDATE = 2,  /* launching */
	SEVMIG_GUEST_LSECRET = 3,  /* launch measured */
	SEVMIG_GUEST_RUNNING = 4,  /* firmware 3 */
	SEVMIG_GUEST_SUPDATE = 5,  /* sending (firmware 4) */
	SEVMIG_GUEST_RUPDATE = 6,  /* receiving (firmware 5) */
	SEVMIG_GUEST_SENT = 7,     /* firmware 6: never run it again */
};

/**
 * struct sevmig_guest_status - KVM_SEV_GUEST_STATUS.
 *
 * @size:     in: sizeof(); out: bytes written.
 * @handle:   firmware guest handle.
 * @policy:   the guest policy (see sevmig_policy_decode()).
 * @state:    SEVMIG_GUEST_* (firmware state plus one; the kernel's
 *            documentation swaps SUPDATE and RUPDATE, the firmware does not).
 * @fw_state: the raw firmware state (RUNNING 3, SUPDATE 4, RUPDATE 5, SENT 6).
 */
struct sevmig_guest_status {
	uint32_t size;
	uint32_t handle;
	uint32_t policy;
	uint32_t state;
	uint32_t fw_state;
	uint32_t reserved0;
};
#define SEVMIG_GUEST_STATUS_SIZE_VER0 24u

/*
 * Raw guest commands. These are the firmware commands themselves, one call
 * each, for VMMs that want only them (like libbpf's bpf.h beside its
 * object API): they take the VM descriptor and the platform whose
 * descriptor the VM was started with, keep no state and enforce no order.
 * A VMM that uses the VM handle (vm.h) and migration sessions never needs
 * them: the handle knows its platform and its lifecycle, and sessions keep
 * the order (SEND_CANCEL on failure, never resume after SEND_FINISH).
 *
 * KVM uses the /dev/sev descriptor number it stored at LAUNCH_START or
 * RECEIVE_START; if that number is no longer an open /dev/sev in this
 * process the command fails with -EBADF and the log says why.
 * Common errors of every guest command: -EINVAL (NULL argument, flags,
 * sizes; also KVM's answer to a command it does not know), -ENOTTY (SEV not
 * enabled in KVM, or the VM is not an SEV guest), -EBADF (see above),
 * -EFAULT, -EIO (firmware status in *ret_fw_error; also a dead VM),
 * -ETIMEDOUT (PSP timed out: dead until reboot), -EBUSY, -ENOMEM.
 * Context of every guest command: any thread; KVM serializes commands on
 * one VM; each blocks for one or two PSP commands.
 */

/**
 * sevmig_psp_init() - KVM_SEV_INIT: make a VM an SEV guest (no guest yet).
 *
 * The step the kernel requires on a destination before RECEIVE_START (and
 * on a source before LAUNCH_START). For a VM created with type 0
 * (KVM_X86_DEFAULT_VM); SEV-ES guests cannot cross hosts (see
 * sevmig_psp_receive_start()). Receive sessions issue it themselves.
 *
 * @p, @vm_fd:    the platform and the VM fd.
 * @flags:        must be 0.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL also when the VM is already an SEV guest
 *         or was created with another type; -EBUSY when KVM has no free
 *         SEV ASID (or vCPUs were already created).
 * Firmware: INIT of the platform if needed (INVALID_PLATFORM_STATE...).
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_psp_init(struct sevmig_platform *p, int vm_fd,
				       uint32_t flags, uint32_t *ret_fw_error);

/**
 * sevmig_psp_guest_status() - KVM_SEV_GUEST_STATUS: handle, policy, state.
 *
 * @p, @vm_fd:  the platform the VM was started with, and the VM fd.
 * @ret_status:   record to fill; set ->size first.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones above; -E2BIG (newer record, non-zero tail);
 *         -EBADF also when the VM is an SEV guest (KVM_SEV_INIT done) but
 *         no guest was started on it yet: KVM stores the /dev/sev
 *         descriptor only at LAUNCH_START or RECEIVE_START, so before that
 *         it has none to pass the command through; -ENOTTY for a VM that
 *         never had KVM_SEV_INIT.
 * Firmware: GUEST_STATUS; INVALID_GUEST when the handle KVM holds is no
 *         longer a guest of the firmware.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_guest_status(struct sevmig_platform *p, int vm_fd,
			struct sevmig_guest_status *ret_status,
			uint32_t *ret_fw_error);

/**
 * struct sevmig_send_start_args - what SEND_START needs about the target.
 *
 * @size:        sizeof().
 * @flags:       must be 0.
 * @pdh, @pdh_len:               the target's PDH (2084 B).
 * @plat_chain, @plat_chain_len: the target's PEK || OCA || CEK (6252 B).
 * @amd_chain, @amd_chain_len:   ASK || ARK of the target's CPU generation
 *                               (1664, 2176, 2688 or 3200 B).
 * @session, @session_size:      buffer for the session (>= 128 B), or NULL
 *                               and 0 for a session-length query only.
 *
 * The kernel requires all three blobs non-empty and at most 16 KiB even when
 * the policy does not make the firmware read them.
 */
struct sevmig_send_start_args {
	uint32_t size;
	uint32_t flags;
	const void *pdh;
	size_t pdh_len;
	const void *plat_chain;
	size_t plat_chain_len;
	const void *amd_chain;
	size_t amd_chain_len;
	void *session;
	size_t session_size;
};
#define SEVMIG_SEND_START_ARGS_SIZE_VER0 72u

/**
 * sevmig_psp_send_start() - KVM_SEV_SEND_START: open the channel to a target.
 *
 * Asks the session length first (the firmware's INVALID_LEN answer, 128),
 * then issues the command. On success the guest is in SUPDATE and the
 * 128-byte session is in args->session; send it with the policy and this
 * host's PDH to the target. Run sevmig_preflight() first: it explains in
 * words what the firmware would refuse with POLICY_FAILURE.
 *
 * @p, @vm_fd:  the platform the VM was started with, and the VM fd.
 * @args:            the target's certificates and the session buffer.
 * @ret_policy:      optional; the guest policy the firmware reports.
 * @ret_session_len: optional; session bytes (needed, or written).
 * @ret_fw_error:    optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL also for an empty or larger than 16 KiB
 *         blob; -ENOSPC (session buffer smaller than the firmware needs;
 *         *ret_session_len says how large); -EPROTO (the session-length
 *         query succeeded, or asked for 0 or more than 16 KiB).
 * Firmware: SEND_START: INVALID_GUEST_STATE (not RUNNING), POLICY_FAILURE
 *         (NOSEND, DOMAIN with another OCA, target API too old),
 *         INVALID_CERTIFICATE, BAD_SIGNATURE, INVALID_LEN (wrong cert
 *         sizes with the SEV policy bit), INVALID_PLATFORM_STATE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_send_start(struct sevmig_platform *p, int vm_fd,
		      const struct sevmig_send_start_args *args,
		      uint32_t *ret_policy, size_t *ret_session_len,
		      uint32_t *ret_fw_error);

/**
 * struct sevmig_page_xfer - one SEND/RECEIVE_UPDATE_DATA transfer.
 *
 * All buffers belong to the caller; nothing is allocated per page.
 *
 * @size:      sizeof().
 * @flags:     must be 0.
 * @guest:     host virtual address of the guest data, inside the guest's
 *             RAM mapping (registered with KVM). 16-byte aligned.
 * @hdr:       packet header buffer (52 B): output of SEND, input of RECEIVE.
 * @trans:     transport buffer: output of SEND, input of RECEIVE.
 * @guest_len: bytes: 16..4096, a multiple of 16, and @guest + @guest_len
 *             must not cross a 4 KiB page.
 * @hdr_len:   bytes at @hdr (>= 52; exactly 52 are passed).
 * @trans_len: bytes at @trans (>= @guest_len; @guest_len are passed, as
 *             the firmware requires trans_len == guest_len).
 */
struct sevmig_page_xfer {
	uint32_t size;
	uint32_t flags;
	void *guest;
	void *hdr;
	void *trans;
	uint32_t guest_len;
	uint32_t hdr_len;
	uint32_t trans_len;
	uint32_t reserved0;
};
#define SEVMIG_PAGE_XFER_SIZE_VER0 48u

/**
 * sevmig_psp_send_update_data_lengths() - the SEND_UPDATE_DATA length query.
 *
 * @ret_hdr_len:   optional; header bytes the firmware asks for (52).
 * @ret_trans_len: optional; transport bytes it reports; 0 on current
 *                 firmware, which means "the same as guest_len".
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EPROTO when the firmware answered the query
 *         with success instead of INVALID_LEN.
 * Firmware: SEND_UPDATE_DATA; INVALID_GUEST_STATE when not sending.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_send_update_data_lengths(struct sevmig_platform *p, int vm_fd,
				    uint32_t *ret_hdr_len,
				    uint32_t *ret_trans_len,
				    uint32_t *ret_fw_error);

/**
 * sevmig_psp_send_update_data() - KVM_SEV_SEND_UPDATE_DATA: encrypt one
 * private page (or part of one) for the target.
 *
 * The bounds (one page, no crossing, 16-byte alignment, buffer sizes) are
 * checked before the ioctl. Only for private pages: shared pages travel as
 * plain bytes.
 *
 * @p, @vm_fd:  the platform the VM was started with, and the VM fd.
 * @xfer:         the transfer; header and transport buffers are written.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL with a logged reason for a bad bound.
 * Firmware: SEND_UPDATE_DATA: INVALID_GUEST_STATE (not SUPDATE),
 *         INVALID_ADDRESS, INACTIVE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_send_update_data(struct sevmig_platform *p, int vm_fd,
			    const struct sevmig_page_xfer *xfer,
			    uint32_t *ret_fw_error);

/**
 * sevmig_psp_send_finish() - KVM_SEV_SEND_FINISH: SUPDATE -> SENT.
 *
 * After success the source guest must never run again (its memory would
 * diverge from the target's); nothing in KVM or the firmware stops it.
 *
 * Errors: the common ones.
 * Firmware: SEND_FINISH: INVALID_GUEST_STATE when not sending.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_psp_send_finish(struct sevmig_platform *p,
					      int vm_fd,
					      uint32_t *ret_fw_error);

/**
 * sevmig_psp_send_cancel() - KVM_SEV_SEND_CANCEL: SUPDATE -> RUNNING.
 *
 * Errors: the common ones.
 * Firmware: SEND_CANCEL: INVALID_GUEST_STATE when not sending;
 *         INVALID_COMMAND on firmware too old to know it.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_psp_send_cancel(struct sevmig_platform *p,
					      int vm_fd,
					      uint32_t *ret_fw_error);

/**
 * struct sevmig_receive_start_args - what RECEIVE_START needs.
 *
 * @size:    sizeof().
 * @flags:   must be 0.
 * @handle:  0 for a new guest key; else share the key of that guest
 *           (allowed only with equal policies and NOKS clear).
 * @policy:  the guest policy sent by the source.
 * @pdh, @pdh_len:         the *source's* PDH (2084 B).
 * @session, @session_len: the session from the source's SEND_START (128 B).
 */
struct sevmig_receive_start_args {
	uint32_t size;
	uint32_t flags;
	uint32_t handle;
	uint32_t policy;
	const void *pdh;
	size_t pdh_len;
	const void *session;
	size_t session_len;
};
#define SEVMIG_RECEIVE_START_ARGS_SIZE_VER0 48u

/**
 * sevmig_psp_receive_start() - KVM_SEV_RECEIVE_START: create the incoming guest.
 *
 * The VM must have had KVM_SEV_INIT (or INIT2) and no LAUNCH_*. Passes the
 * platform's descriptor, whose number KVM stores: @p must outlive the VM.
 *
 * @p, @vm_fd:  the platform the VM was started with, and the VM fd.
 * @args:         policy, source PDH, session.
 * @ret_handle:   optional; the new guest handle.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL also for a PDH that is not 2084 B, a
 *         session that is not 128 B, reserved policy bits 6-15 set, or a
 *         non-zero @handle with NOKS; -EOPNOTSUPP for an SEV-ES policy
 *         (upstream KVM cannot receive VMSAs); -EBADF when the platform
 *         descriptor is not /dev/sev.
 * Firmware: RECEIVE_START: BAD_SIGNATURE/BAD_MEASUREMENT (session does not
 *         match this platform's PDH or the policy), POLICY_FAILURE,
 *         INVALID_PLATFORM_STATE, UNSUPPORTED (ES policy, ES not initialized).
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_receive_start(struct sevmig_platform *p, int vm_fd,
			 const struct sevmig_receive_start_args *args,
			 uint32_t *ret_handle, uint32_t *ret_fw_error);

/**
 * sevmig_psp_receive_update_data() - KVM_SEV_RECEIVE_UPDATE_DATA: decrypt one
 * packet into guest memory.
 *
 * @xfer: as for sevmig_psp_send_update_data(); @hdr and @trans are read and
 *        @guest is written (encrypted with this guest's key).
 *
 * Errors: the common ones (KVM answers -EINVAL, not -ENOTTY, for a VM that
 *         is not an SEV guest); -EINVAL with a logged reason for a bad bound.
 * Firmware: RECEIVE_UPDATE_DATA: INVALID_GUEST_STATE (not RUPDATE), a MAC
 *         failure (BAD_MEASUREMENT or INVALID_PARAM), UNSUPPORTED
 *         (compressed packet).
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int
sevmig_psp_receive_update_data(struct sevmig_platform *p, int vm_fd,
			       const struct sevmig_page_xfer *xfer,
			       uint32_t *ret_fw_error);

/**
 * sevmig_psp_receive_finish() - KVM_SEV_RECEIVE_FINISH: RUPDATE -> RUNNING.
 *
 * Errors: the common ones.
 * Firmware: RECEIVE_FINISH: INVALID_GUEST_STATE, HWSEV_RET_UNSAFE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_psp_receive_finish(struct sevmig_platform *p,
						 int vm_fd,
						 uint32_t *ret_fw_error);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_PSP_H */
