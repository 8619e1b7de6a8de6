// SPDX-License-Identifier: MIT
/*
 * Static descriptions for errno values, SEV firmware statuses and verdict
 * reasons. Tables, not strerror(3): the text must say what the error means
 * for SEV migration, and must be the same on every libc.
 */
#include <errno.h>

#include "internal.h"
#include "uapi/kvm-abi.h"

struct fw_status {
	uint32_t code;
	const char *name;
	const char *text;	/* "NAME: explanation" */
};

#define S(code, name, text) { code, name, name ": " text }

/*
 * Every status of the SEV API (spec 55766) and of the SNP/TIO extensions, as
 * numbered by current Linux (include/uapi/linux/psp-sev.h). Note: kernels
 * before 6.13 misnumbered 0x19-0x1F in their enum; the firmware values here
 * are the real ones. 0x1E, 0x29-0x2F and 0x34 are unassigned.
 */
static const struct fw_status fw_statuses[] = {
	S(0x00, "SUCCESS", "the command succeeded"),
	S(0x01, "INVALID_PLATFORM_STATE", "the platform is in the wrong state for this command (UNINIT, INIT or WORKING)"),
	S(0x02, "INVALID_GUEST_STATE", "the guest is in the wrong state for this command"),
	S(0x03, "INVALID_CONFIG", "the platform configuration is invalid"),
	S(0x04, "INVALID_LEN", "a buffer is too small (the firmware reported the length it needs)"),
	S(0x05, "ALREADY_OWNED", "the platform is already owned"),
	S(0x06, "INVALID_CERTIFICATE", "a certificate is invalid"),
	S(0x07, "POLICY_FAILURE", "the guest policy forbids this (NOSEND, DOMAIN, SEV or API version)"),
	S(0x08, "INACTIVE", "the guest is not active (no ASID bound)"),
	S(0x09, "INVALID_ADDRESS", "an address is invalid or misaligned"),
	S(0x0A, "BAD_SIGNATURE", "a signature did not verify"),
	S(0x0B, "BAD_MEASUREMENT", "a measurement or MAC did not verify"),
	S(0x0C, "ASID_OWNED", "the ASID is already owned"),
	S(0x0D, "INVALID_ASID", "the ASID is invalid"),
	S(0x0E, "WBINVD_REQUIRED", "a WBINVD is required first"),
	S(0x0F, "DFFLUSH_REQUIRED", "a DF_FLUSH is required first"),
	S(0x10, "INVALID_GUEST", "the guest handle is invalid"),
	S(0x11, "INVALID_COMMAND", "the firmware does not know this command (firmware too old?)"),
	S(0x12, "ACTIVE", "the guest is still active"),
	S(0x13, "HWERROR_PLATFORM", "hardware error in the platform"),
	S(0x14, "HWERROR_UNSAFE", "hardware error: the platform state is unsafe"),
	S(0x15, "UNSUPPORTED", "the feature is not supported"),
	S(0x16, "INVALID_PARAM", "a parameter is invalid"),
	S(0x17, "RESOURCE_LIMIT", "a firmware resource limit was reached"),
	S(0x18, "SECURE_DATA_INVALID", "the secure data is invalid"),
	S(0x19, "INVALID_PAGE_SIZE", "the page size is invalid"),
	S(0x1A, "INVALID_PAGE_STATE", "the RMP page state is invalid"),
	S(0x1B, "INVALID_MDATA_ENTRY", "the metadata entry is invalid"),
	S(0x1C, "INVALID_PAGE_OWNER", "the page owner is invalid"),
	S(0x1D, "AEAD_OFLOW", "the AEAD message counter overflowed"),
	S(0x1F, "EXIT_RING_BUFFER", "the ring buffer command was exited"),
	S(0x20, "RMP_INIT_REQUIRED", "the RMP must be initialized first"),
	S(0x21, "BAD_SVN", "the security version number is too old"),
	S(0x22, "BAD_VERSION", "the version is invalid"),
	S(0x23, "SHUTDOWN_REQUIRED", "a SHUTDOWN is required first"),
	S(0x24, "UPDATE_FAILED", "the firmware update failed"),
	S(0x25, "RESTORE_REQUIRED", "a restore is required"),
	S(0x26, "RMP_INITIALIZATION_FAILED", "RMP initialization failed"),
	S(0x27, "INVALID_KEY", "the key is invalid"),
	S(0x28, "SHUTDOWN_INCOMPLETE", "the shutdown did not complete"),
	S(0x30, "INCORRECT_BUFFER_LENGTH", "a buffer length is wrong"),
	S(0x31, "EXPAND_BUFFER_LENGTH_REQUEST", "a larger buffer is requested"),
	S(0x32, "SPDM_REQUEST", "an SPDM request is pending"),
	S(0x33, "SPDM_ERROR", "an SPDM error occurred"),
	S(0x35, "ERR_IN_DEV_CONN", "error in the device connection (TIO)"),
	S(0x36, "INVALID_DEV_CTX", "invalid device context (TIO)"),
	S(0x37, "INVALID_TDI_CTX", "invalid TDI context (TIO)"),
	S(0x38, "INVALID_TDI", "invalid TDI (TIO)"),
	S(0x39, "RECLAIM_REQUIRED", "a reclaim is required (TIO)"),
	S(0x3A, "IN_USE", "the resource is in use"),
	S(0x3B, "INVALID_DEV_STATE", "invalid device state (TIO)"),
	S(0x3C, "INVALID_TDI_STATE", "invalid TDI state (TIO)"),
	S(0x3D, "DEV_CERT_CHANGED", "the device certificate changed (TIO)"),
	S(0x3E, "RESYNC_REQ", "a resync is required (TIO)"),
	S(0x3F, "RESPONSE_TOO_LARGE", "the response is too large (TIO)"),
};

static const struct fw_status *fw_lookup(uint32_t status)
{
	for (size_t i = 0; i < ARRAY_SIZE(fw_statuses); i++)
		if (fw_statuses[i].code == status)
			return &fw_statuses[i];
	return NULL;
}

SEVMIG_EXPORT const char *sevmig_fw_status_name(uint32_t status)
{
	const struct fw_status *s = fw_lookup(status);

	return s ? s->name : NULL;
}

SEVMIG_EXPORT const char *sevmig_fw_strerror(uint32_t status)
{
	const struct fw_status *s = fw_lookup(status);

	return s ? s->text : "unknown firmware status";
}

struct errno_text {
	int err;
	const char *text;
};

/*
 * The errnos the library and the kernel interfaces it drives return, worded
 * for what they mean here. Anything else falls back to a generic text.
 */
static const struct errno_text errno_texts[] = {
	{ 0, "success" },
	{ EPERM, "operation not permitted (a read-only /dev/sev for a command that needs write access?)" },
	{ ENOENT, "no such file or device" },
	{ EINTR, "interrupted by a signal; retry" },
	{ EIO, "I/O error: the SEV firmware reported a status (see the firmware status), or the VM is dead" },
	{ ENXIO, "no such device" },
	{ E2BIG, "the record is larger than this library knows and its extra fields are not zero (built against a newer libsevmig header?)" },
	{ EBADF, "bad file descriptor (for SEV guest commands: the /dev/sev fd given at LAUNCH/RECEIVE_START was closed or renumbered)" },
	{ EAGAIN, "resource temporarily unavailable; retry" },
	{ ENOMEM, "out of memory (for SEND/RECEIVE_UPDATE_DATA: RLIMIT_MEMLOCK may be too low)" },
	{ EACCES, "permission denied (run as root or get access to /dev/kvm and /dev/sev)" },
	{ EFAULT, "bad address passed to the kernel" },
	{ EBUSY, "device or resource busy (the PSP may be dead after a timeout, or a context move is in progress)" },
	{ EEXIST, "already exists" },
	{ ENODEV, "no such device (no SEV-capable PSP)" },
	{ EINVAL, "invalid argument" },
	{ ENOSPC, "no space left (a fixed-size table is full)" },
	{ ERANGE, "value out of range" },
	{ ENODATA, "no data available" },
	{ EBADMSG, "malformed message: the input failed validation" },
	{ EPROTO, "protocol error: the peer or kernel answered out of sequence" },
	{ EOPNOTSUPP, "operation not supported on this host or kernel" },
	{ ETIMEDOUT, "timed out (a PSP command timed out: the PSP is now dead until reboot)" },
	{ ENOTTY, "inappropriate ioctl: the kernel does not support this request (SEV not enabled in KVM?)" },
	{ ESTALE, "stale object: the VM was migrated away and must not be used" },
	{ ECANCELED, "operation canceled (the migration was cancelled, or its channel was)" },
	{ EMSGSIZE, "message too long (a VMM record above the session's limit)" },
	{ EALREADY, "already done (the session has begun or run already)" },
	{ ENOTCONN, "contact lost after the acknowledgement: the migration is in doubt until the source's verdict arrives" },
	{ EPIPE, "the peer closed the channel, or the stream ended in the middle (truncated)" },
	{ ECONNRESET, "the peer reset the connection" },
	{ ENOLINK, "the certificates do not link (an AMD key id does not name its signer)" },
	{ EKEYREJECTED, "key or certificate rejected" },
	{ ENOTSUPP, "not supported by the SEV firmware (ENOTSUPP 524: firmware API too old)" },
};

SEVMIG_EXPORT const char *sevmig_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < ARRAY_SIZE(errno_texts); i++)
		if (errno_texts[i].err == err)
			return errno_texts[i].text;
	return "unknown error";
}

static const char *const reason_texts[] = {
	[0] = "/dev/kvm cannot be opened (KVM not loaded, or no permission)",
	[1] = "KVM reports an unexpected API version (expected 12)",
	[2] = "KVM cannot forward KVM_HC_MAP_GPA_RANGE to userspace (KVM_CAP_EXIT_HYPERCALL lacks bit 12), so shared pages cannot be tracked",
	[3] = "KVM cannot send MSR accesses to userspace (no KVM_CAP_X86_USER_SPACE_MSR), so MSR_KVM_MIGRATION_CONTROL cannot be handled",
	[4] = "KVM has no MSR filters (no KVM_CAP_X86_MSR_FILTER), so MSR_KVM_MIGRATION_CONTROL cannot be intercepted",
	[5] = "SEV is not enabled in KVM (KVM_MEMORY_ENCRYPT_OP answers ENOTTY: not an AMD SEV host, or kvm_amd loaded without sev=1)",
	[6] = "the KVM SEV probe failed: creating a scratch VM or KVM_MEMORY_ENCRYPT_OP returned an unexpected error (see kvm_sev_status)",
	[7] = "/dev/sev does not exist (no PSP, or the ccp driver is not loaded)",
	[8] = "/dev/sev cannot be opened read-write (permission denied: run as root or grant access)",
	[9] = "the SEV firmware did not answer PLATFORM_STATUS",
	[10] = "the PSP timed out earlier and the kernel now refuses every command (EBUSY) until the host reboots",
	[11] = "KVM cannot move an encryption context between VMs (no KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM)",
	[12] = "KVM cannot create mirror VMs (no KVM_CAP_VM_COPY_ENC_CONTEXT_FROM)",
	[13] = "upstream KVM does not implement SEND/RECEIVE_UPDATE_VMSA, so SEV-ES guests can only be moved within one host",
	[14] = "the guest policy has NOSEND: the firmware refuses to send this guest anywhere",
	[15] = "the guest policy has DOMAIN: the target's OCA must be byte-identical to this platform's OCA, and it is not",
	[16] = "the guest policy has SEV: the target must prove it is a genuine AMD platform, but no AMD chain (ASK and ARK) was given",
	[17] = "the target's SEV firmware API version is older than the minimum the guest policy requires",
	[18] = "the guest policy sets reserved bits 6-15, which the firmware refuses at RECEIVE_START",
	[19] = "the target's PDH is not a well-formed 2084-byte SEV certificate with usage PDH and an ECDH key",
	[20] = "the target's platform chain is not a well-formed PEK, OCA and CEK (6252 bytes)",
	[21] = "the AMD chain is not a well-formed ASK followed by its ARK (1664, 2176, 2688 or 3200 bytes)",
	[22] = "the target's certificates do not belong together: a signature area does not match its signer (usage, algorithm, key size or version), or the AMD key ids do not link",
	[23] = "the target's AMD root key (ARK) is neither the genuine AMD root of an SEV generation (Naples, Rome, Milan, Genoa, Turin) nor one the operator added with sevmig_ctx_add_ark()",
	[24] = "a signature in the target's certificate chain (ARK -> ASK -> CEK -> PEK -> PDH, OCA -> PEK) does not verify with the context's signature verifier: the certificates were not made by the keys that claim them",
	[32] = "KVM was not made to forward the migration exits: sevmig_vm_enable_exits() was not called or failed, so the guest's hypercalls and MSR writes cannot reach the library",
	[33] = "the host policy denies migration of this VM",
	[34] = "the guest has not declared itself ready (no KVM_MIGRATION_READY write to MSR_KVM_MIGRATION_CONTROL, or it wrote 0 again on reboot, kexec or CPU offline)",
	[35] = "a page-state change could not be recorded, so the shared/private map is no longer trustworthy for this VM",
	[36] = "the MSR filter that routes MSR_KVM_MIGRATION_CONTROL to userspace is not installed: sevmig_vm_set_msr_filter() was not called, or its last call failed",
	[37] = "the guest was not offered the migration features in CPUID: sevmig_vm_cpuid_apply() was not called, or was called before the exits and the MSR filter were in place",
	[38] = "the VM is not live: it is being sent or received, was sent or moved away, or was torn down",
	[39] = "the source and the destination are the same VM",
	[40] = "the source VM cannot give its encryption context: it was sent, moved away or torn down, or a cross-host migration of it is in progress",
	[41] = "the destination VM was sent, moved away or torn down, or a cross-host migration of it is in progress",
	[42] = "the source VM has no SEV encryption context: it is not an SEV guest (no KVM_SEV_INIT, INIT2 or launch), or its context was moved away",
	[43] = "the destination VM already has an SEV encryption context (KVM_SEV_INIT or INIT2 was run on it, or it is a mirror): create it without any SEV setup",
	[44] = "the two VMs were created with different KVM VM types (KVM_CREATE_VM), and KVM moves a context only between VMs of the same type",
	[45] = "SEV-SNP guests cannot be moved or mirrored: KVM does not carry the SNP guest context",
	[46] = "the library cannot tell whether the VM is SEV, SEV-ES or SNP: set sevmig_vm_opts.sev_type, or give the handle the platform the VM was started with",
	[47] = "SEV-ES: the destination must have exactly as many vCPUs as the source (register them with sevmig_vm_vcpu_add() on both)",
	[48] = "SEV-ES: KVM refused the move although the vCPU counts match: every source vCPU must have its state encrypted (LAUNCH_UPDATE_VMSA) and the VMs' real vCPU counts must equal the registered ones",
	[49] = "a vCPU of the VM may be running: stop every vCPU thread and call sevmig_vm_pause() first (KVM would wait for a running vCPU)",
	[50] = "the VM is a mirror: a mirror shares its primary's encryption context and cannot be moved, mirrored, migrated or used as a move destination",
	[51] = "the VM has mirrors: a primary cannot be moved, and is torn down only after its mirrors, which share its encryption context",
	[52] = "a mirror must be created before it has vCPUs: KVM sets up vCPUs for the encryption context they are created with",
	[53] = "the two handles were created with different guest physical address widths (sevmig_vm_opts.phys_bits), so the page-state tracker cannot be handed over",
	[54] = "KVM kept answering busy (another move or mirror of either VM, vCPU creation in flight, or no room in the SEV ASID cgroup) after the bounded retries",
	[55] = "KVM refused for a rule the library could not check beforehand (see the log for which rules were not known)",
};

SEVMIG_EXPORT const char *sevmig_reason_string(uint64_t reason)
{
	unsigned int bit;

	if (!reason || (reason & (reason - 1)))
		return "unknown reason";
	bit = (unsigned int)__builtin_ctzll(reason);
	if (bit >= ARRAY_SIZE(reason_texts) || !reason_texts[bit])
		return "unknown reason";
	return reason_texts[bit];
}
