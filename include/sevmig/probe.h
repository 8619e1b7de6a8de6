/* SPDX-License-Identifier: MIT */
/*
 * libsevmig host probe: what this host offers for SEV live migration, with
 * the reason for every "no". Conventions: <sevmig/common.h>.
 */
#ifndef SEVMIG_PROBE_H
#define SEVMIG_PROBE_H

#include <stdint.h>

#include <sevmig/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* struct sevmig_host_caps.flags: what the probe found. */
#define SEVMIG_HOST_KVM                 (1u << 0)  /* /dev/kvm opened */
#define SEVMIG_HOST_EXIT_HC_MAP_GPA     (1u << 1)  /* exit mask has 0x1000 */
#define SEVMIG_HOST_USER_SPACE_MSR      (1u << 2)
#define SEVMIG_HOST_MSR_FILTER          (1u << 3)
#define SEVMIG_HOST_MOVE_ENC_CONTEXT    (1u << 4)  /* cap reported; see doc */
#define SEVMIG_HOST_COPY_ENC_CONTEXT    (1u << 5)  /* cap reported; see doc */
#define SEVMIG_HOST_KVM_SEV             (1u << 6)  /* SEV enabled in KVM */
#define SEVMIG_HOST_SEV_DEVICE          (1u << 7)  /* /dev/sev opened RW */
#define SEVMIG_HOST_SEV_STATUS          (1u << 8)  /* PLATFORM_STATUS read */
#define SEVMIG_HOST_SEV_ES_INIT         (1u << 9)  /* platform has ES on */
#define SEVMIG_HOST_SEV_EXT_OWNED       (1u << 10) /* platform externally owned */
#define SEVMIG_HOST_VM_TYPES            (1u << 11) /* vm_types is valid */
#define SEVMIG_HOST_SEV_DEVICE_RO       (1u << 12) /* /dev/sev read-only only */

/* SEV platform states (firmware numbering plus one: 0 means "unknown"). */
enum sevmig_platform_state {
	SEVMIG_PLATFORM_UNINIT = 1,
	SEVMIG_PLATFORM_INIT = 2,
	SEVMIG_PLATFORM_WORKING = 3,
};

/**
 * struct sevmig_host_caps - what this host can do for SEV migration.
 *
 * Filled by sevmig_host_probe(). "Status" fields hold 0 or the negative
 * errno of the step; fields after a failed step are 0.
 *
 * @size:                 in: sizeof(); out: bytes written.
 * @flags:                SEVMIG_HOST_* bits.
 * @kvm_status:           opening /dev/kvm.
 * @kvm_api_version:      KVM_GET_API_VERSION (12 on every supported kernel).
 * @exit_hypercall_mask:  KVM_CHECK_EXTENSION(KVM_CAP_EXIT_HYPERCALL): the
 *                        hypercalls KVM can forward; bit 12 (0x1000) is
 *                        KVM_HC_MAP_GPA_RANGE.
 * @vm_types:             KVM_CAP_VM_TYPES mask (bit 2 = KVM_X86_SEV_VM);
 *                        valid when SEVMIG_HOST_VM_TYPES is set.
 * @kvm_sev_status:       KVM_MEMORY_ENCRYPT_OP(NULL) on a scratch VM:
 *                        0 = SEV enabled, -ENOTTY = not, else the failure.
 * @sev_dev_status:       opening /dev/sev read-write.
 * @sev_platform_status:  SEV PLATFORM_STATUS: 0 or -errno.
 * @sev_fw_error:         firmware status of PLATFORM_STATUS when it failed
 *                        with -EIO.
 * @sev_api_major, @sev_api_minor, @sev_build: firmware API version, build.
 * @sev_state:            SEVMIG_PLATFORM_* (0 if unknown).
 * @sev_config:           firmware CONFIG bits (bit 0 = SEV-ES initialized).
 * @sev_guest_count:      guests the firmware holds.
 * @es_vmsa_probe_status: KVM_SEV_SEND_UPDATE_VMSA on the scratch VM, only
 *                        when SEV is enabled: -EINVAL means the kernel does
 *                        not implement VMSA migration (upstream).
 * @cross_host_reasons:   0 if plain-SEV cross-host migration is possible
 *                        here, else SEVMIG_REASON_* bits.
 * @intra_host_reasons:   0 if an intra-host context move is possible. The
 *                        move capability is reported by every x86 KVM; the
 *                        real test is the move itself.
 * @mirror_reasons:       0 if mirror VMs are possible (same caveat).
 * @es_cross_host_reasons: never 0 on upstream KVM: it has no
 *                        SEND/RECEIVE_UPDATE_VMSA, so SEV-ES guests move
 *                        only intra-host.
 */
struct sevmig_host_caps {
	uint32_t size;
	uint32_t flags;
	int32_t kvm_status;
	int32_t kvm_api_version;
	uint32_t exit_hypercall_mask;
	uint32_t vm_types;
	int32_t kvm_sev_status;
	int32_t sev_dev_status;
	int32_t sev_platform_status;
	uint32_t sev_fw_error;
	uint32_t sev_api_major;
	uint32_t sev_api_minor;
	uint32_t sev_build;
	uint32_t sev_state;
	uint32_t sev_config;
	uint32_t sev_guest_count;
	int32_t es_vmsa_probe_status;
	uint32_t reserved0;
	uint64_t cross_host_reasons;
	uint64_t intra_host_reasons;
	uint64_t mirror_reasons;
	uint64_t es_cross_host_reasons;
};
#define SEVMIG_HOST_CAPS_SIZE_VER0 104u

/**
 * sevmig_host_probe() - find out what this host offers for SEV migration.
 *
 * Opens /dev/kvm and /dev/sev itself (through the context's backend) and
 * closes them again; creates and destroys one scratch VM. Missing devices
 * are findings, not errors: they are recorded in @caps with their reasons.
 *
 * @ctx:   the context.
 * @caps:  record to fill; set caps->size first, other fields zero.
 * @flags: must be 0.
 * @return 0 (even when nothing is available), or a negative errno when the
 *         probe itself could not run.
 *
 * Errors: -EINVAL (NULL argument, flags, size), -E2BIG (newer record with
 *         non-zero tail).
 * Firmware: PLATFORM_STATUS is issued when /dev/sev opens; its status is
 *         reported in caps->sev_fw_error, never as the return value.
 * Context: any thread; blocks for the duration of a few ioctls (a PSP
 *          command may take milliseconds).
 */
SEVMIG_WARN_UNUSED int sevmig_host_probe(struct sevmig_ctx *ctx,
					 struct sevmig_host_caps *caps,
					 uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_PROBE_H */
