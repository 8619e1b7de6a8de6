/* SPDX-License-Identifier: MIT */
/*
 * The parts of the Linux KVM, PSP and kvm_para user ABI libsevmig uses,
 * written out here so the build never depends on the host's kernel headers
 * (Debian 12 ships 6.1, which lacks hypercall.flags, KVM_CAP_VM_TYPES and the
 * current SEV_RET_* numbering).
 *
 * Follows: Linux 6.18 include/uapi/linux/kvm.h, include/uapi/linux/psp-sev.h,
 * arch/x86/include/uapi/asm/kvm.h and asm/kvm_para.h (x86_64). Every layout
 * is pinned by a _Static_assert below; tests/unit/test-uapi.c compares the
 * values against the system's headers where those have them.
 */
#ifndef UAPI_KVM_ABI_H
#define UAPI_KVM_ABI_H

#include <stddef.h>
#include <stdint.h>

/* ---- ioctl number encoding (asm-generic/ioctl.h, x86) ---------------- */
#define UAPI_IOC(dir, type, nr, size) \
	(((unsigned long)(dir) << 30) | ((unsigned long)(size) << 16) | \
	 ((unsigned long)(type) << 8) | (unsigned long)(nr))
#define UAPI_IO(type, nr)         UAPI_IOC(0u, type, nr, 0u)
#define UAPI_IOW(type, nr, size)  UAPI_IOC(1u, type, nr, size)
#define UAPI_IOR(type, nr, size)  UAPI_IOC(2u, type, nr, size)
#define UAPI_IOWR(type, nr, size) UAPI_IOC(3u, type, nr, size)

#define KVMIO 0xAEu

/* ---- /dev/kvm and VM ioctls ------------------------------------------ */
#define KVM_API_VERSION 12

#define KVM_GET_API_VERSION     UAPI_IO(KVMIO, 0x00)
#define KVM_CREATE_VM           UAPI_IO(KVMIO, 0x01)
#define KVM_CHECK_EXTENSION     UAPI_IO(KVMIO, 0x03)
#define KVM_GET_VCPU_MMAP_SIZE  UAPI_IO(KVMIO, 0x04)
#define KVM_CREATE_VCPU         UAPI_IO(KVMIO, 0x41)
#define KVM_RUN                 UAPI_IO(KVMIO, 0x80)
#define KVM_ENABLE_CAP          UAPI_IOW(KVMIO, 0xa3, 104u)
#define KVM_SET_CPUID2          UAPI_IOW(KVMIO, 0x90, 8u)
#define KVM_X86_SET_MSR_FILTER  UAPI_IOW(KVMIO, 0xc6, 392u)
#define KVM_MEMORY_ENCRYPT_OP   UAPI_IOWR(KVMIO, 0xba, 8u)
#define KVM_GET_DIRTY_LOG       UAPI_IOW(KVMIO, 0x42, 16u)
#define KVM_MEMORY_ENCRYPT_REG_REGION   UAPI_IOR(KVMIO, 0xbb, 16u)
#define KVM_MEMORY_ENCRYPT_UNREG_REGION UAPI_IOR(KVMIO, 0xbc, 16u)

/* Teardown requests (sevmig_vm_teardown_ioctl()'s allow-list). */
#define KVM_SET_USER_MEMORY_REGION    UAPI_IOW(KVMIO, 0x46, 32u)
#define KVM_SET_USER_MEMORY_REGION2   UAPI_IOW(KVMIO, 0x49, 160u)
#define KVM_CREATE_IRQCHIP            UAPI_IO(KVMIO, 0x60)
#define KVM_REGISTER_COALESCED_MMIO   UAPI_IOW(KVMIO, 0x67, 16u)
#define KVM_UNREGISTER_COALESCED_MMIO UAPI_IOW(KVMIO, 0x68, 16u)
#define KVM_IRQFD                     UAPI_IOW(KVMIO, 0x76, 32u)
#define KVM_IOEVENTFD                 UAPI_IOW(KVMIO, 0x79, 64u)
#define KVM_IRQFD_FLAG_DEASSIGN       (1u << 0)
#define KVM_IOEVENTFD_FLAG_PIO        (1u << 1)
#define KVM_IOEVENTFD_FLAG_DEASSIGN   (1u << 2)

struct kvm_userspace_memory_region {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
};
_Static_assert(sizeof(struct kvm_userspace_memory_region) == 32, "umr");
_Static_assert(offsetof(struct kvm_userspace_memory_region, memory_size) ==
	       16, "umr size");

struct kvm_userspace_memory_region2 {
	uint32_t slot;
	uint32_t flags;
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t guest_memfd_offset;
	uint32_t guest_memfd;
	uint32_t pad1;
	uint64_t pad2[14];
};
_Static_assert(sizeof(struct kvm_userspace_memory_region2) == 160, "umr2");
_Static_assert(offsetof(struct kvm_userspace_memory_region2, memory_size) ==
	       16, "umr2 size");

struct kvm_ioeventfd {
	uint64_t datamatch;
	uint64_t addr;
	uint32_t len;
	int32_t fd;
	uint32_t flags;
	uint8_t pad[36];
};
_Static_assert(sizeof(struct kvm_ioeventfd) == 64, "ioeventfd");
_Static_assert(offsetof(struct kvm_ioeventfd, flags) == 24, "ioeventfd flags");

struct kvm_irqfd {
	uint32_t fd;
	uint32_t gsi;
	uint32_t flags;
	uint32_t resamplefd;
	uint8_t pad[16];
};
_Static_assert(sizeof(struct kvm_irqfd) == 32, "irqfd");
_Static_assert(offsetof(struct kvm_irqfd, flags) == 8, "irqfd flags");

struct kvm_coalesced_mmio_zone {
	uint64_t addr;
	uint32_t size;
	uint32_t pio;	/* a union with pad in the kernel's header */
};
_Static_assert(sizeof(struct kvm_coalesced_mmio_zone) == 16, "mmio zone");

/* VM types (KVM_CREATE_VM argument). */
#define KVM_X86_DEFAULT_VM      0u
#define KVM_X86_SEV_VM          2u
#define KVM_X86_SEV_ES_VM       3u
#define KVM_X86_SNP_VM          4u

/* Capabilities. */
#define KVM_CAP_X86_USER_SPACE_MSR        188u
#define KVM_CAP_X86_MSR_FILTER            189u
#define KVM_CAP_VM_COPY_ENC_CONTEXT_FROM  197u
#define KVM_CAP_EXIT_HYPERCALL            201u
#define KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM  206u
#define KVM_CAP_VM_TYPES                  235u

struct kvm_enable_cap {
	uint32_t cap;
	uint32_t flags;
	uint64_t args[4];
	uint8_t pad[64];
};
_Static_assert(sizeof(struct kvm_enable_cap) == 104, "kvm_enable_cap");
_Static_assert(offsetof(struct kvm_enable_cap, args) == 8, "args");

/* ---- hypercall exits (kvm_para.h, kvm.h) ------------------------------ */
#define KVM_HC_MAP_GPA_RANGE          12u
#define KVM_EXIT_HYPERCALL_VALID_MASK (UINT64_C(1) << 12)
#define KVM_MAP_GPA_RANGE_PAGE_SZ_MASK 0xfu
#define KVM_MAP_GPA_RANGE_ENCRYPTED   (UINT64_C(1) << 4)
#define KVM_MAP_GPA_RANGE_RESERVED    (~UINT64_C(0x1f))
#define KVM_EXIT_HYPERCALL_LONG_MODE  (UINT64_C(1) << 0)
#define KVM_ENOSYS 1000
#define KVM_EINVAL 22

/* ---- MSR exits and filters -------------------------------------------- */
#define MSR_KVM_MIGRATION_CONTROL 0x4b564d08u
#define KVM_MIGRATION_READY       (UINT64_C(1) << 0)
#define KVM_MSR_EXIT_REASON_INVAL   (1u << 0)
#define KVM_MSR_EXIT_REASON_UNKNOWN (1u << 1)
#define KVM_MSR_EXIT_REASON_FILTER  (1u << 2)
#define KVM_MSR_FILTER_READ   (1u << 0)
#define KVM_MSR_FILTER_WRITE  (1u << 1)
#define KVM_MSR_FILTER_DEFAULT_DENY (1u << 0)
#define KVM_MSR_FILTER_MAX_RANGES 16u
#define KVM_MSR_FILTER_MAX_BITMAP_SIZE 0x600u

struct kvm_msr_filter_range {
	uint32_t flags;
	uint32_t nmsrs;
	uint32_t base;
	uint32_t pad;
	uint8_t *bitmap;
};
struct kvm_msr_filter {
	uint32_t flags;
	uint32_t pad;
	struct kvm_msr_filter_range ranges[16];
};
_Static_assert(sizeof(struct kvm_msr_filter_range) == 24, "range");
_Static_assert(offsetof(struct kvm_msr_filter_range, bitmap) == 16, "bm");
_Static_assert(sizeof(struct kvm_msr_filter) == 392, "msr_filter");
_Static_assert(offsetof(struct kvm_msr_filter, ranges) == 8, "ranges");

/* ---- CPUID ------------------------------------------------------------- */
#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES  0x40000001u
#define KVM_FEATURE_HC_MAP_GPA_RANGE  16u
#define KVM_FEATURE_MIGRATION_CONTROL 17u

struct kvm_cpuid_entry2 {
	uint32_t function;
	uint32_t index;
	uint32_t flags;
	uint32_t eax, ebx, ecx, edx;
	uint32_t padding[3];
};
_Static_assert(sizeof(struct kvm_cpuid_entry2) == 40, "cpuid_entry2");

struct kvm_cpuid2 {
	uint32_t nent;
	uint32_t padding;
	struct kvm_cpuid_entry2 entries[];
};
_Static_assert(offsetof(struct kvm_cpuid2, entries) == 8, "cpuid2");

/* ---- struct kvm_run (the parts we read and write) --------------------- */
#define KVM_EXIT_HYPERCALL 3u
#define KVM_EXIT_INTR      10u
#define KVM_EXIT_X86_RDMSR 29u
#define KVM_EXIT_X86_WRMSR 30u
#define KVM_RUN_SIZE       2352u

struct kvm_run_hdr {
	uint8_t request_interrupt_window;
	uint8_t immediate_exit;
	uint8_t padding1[6];
	uint32_t exit_reason;
	uint8_t ready_for_interrupt_injection;
	uint8_t if_flag;
	uint16_t flags;
	uint64_t cr8;
	uint64_t apic_base;
};
_Static_assert(sizeof(struct kvm_run_hdr) == 32, "kvm_run header");
_Static_assert(offsetof(struct kvm_run_hdr, exit_reason) == 8, "exit");

struct kvm_run_hypercall {
	uint64_t nr;
	uint64_t args[6];
	uint64_t ret;
	uint64_t flags;   /* 6.1 headers: u32 longmode; u32 pad (same bytes) */
};
_Static_assert(sizeof(struct kvm_run_hypercall) == 72, "hypercall");

struct kvm_run_msr {
	uint8_t error;
	uint8_t pad[7];
	uint32_t reason;
	uint32_t index;
	uint64_t data;
};
_Static_assert(sizeof(struct kvm_run_msr) == 24, "msr");
_Static_assert(offsetof(struct kvm_run_msr, data) == 16, "msr.data");

/* Offsets inside struct kvm_run. */
#define KVM_RUN_EXIT_OFFSET 32u

/* ---- /dev/sev (psp-sev.h) --------------------------------------------- */
#define SEV_FACTORY_RESET   0u
#define SEV_PLATFORM_STATUS 1u
#define SEV_PEK_GEN         2u
#define SEV_PEK_CSR         3u
#define SEV_PDH_GEN         4u
#define SEV_PDH_CERT_EXPORT 5u
#define SEV_PEK_CERT_IMPORT 6u
#define SEV_GET_ID          7u
#define SEV_GET_ID2         8u

#define SEV_FW_BLOB_MAX_SIZE 0x4000u
#define SEV_STATUS_FLAGS_OWNER     0x0001u
#define SEV_STATUS_FLAGS_CONFIG_ES 0x0100u

/* Platform states as the firmware numbers them. */
#define SEV_PSTATE_UNINIT  0u
#define SEV_PSTATE_INIT    1u
#define SEV_PSTATE_WORKING 2u
#define ENOTSUPP 524 /* kernel-internal errno the PSP driver leaks */

struct sev_issue_cmd {
	uint32_t cmd;
	uint64_t data;
	uint32_t error;
} __attribute__((packed));
_Static_assert(sizeof(struct sev_issue_cmd) == 16, "sev_issue_cmd");
_Static_assert(offsetof(struct sev_issue_cmd, error) == 12, "error");
#define SEV_ISSUE_CMD UAPI_IOWR('S', 0x0, 16u)

struct sev_user_data_status {
	uint8_t api_major;
	uint8_t api_minor;
	uint8_t state;
	uint32_t flags;
	uint8_t build;
	uint32_t guest_count;
} __attribute__((packed));
_Static_assert(sizeof(struct sev_user_data_status) == 12, "status");
_Static_assert(offsetof(struct sev_user_data_status, build) == 7, "b");

struct sev_user_data_pdh_cert_export {
	uint64_t pdh_cert_address;
	uint32_t pdh_cert_len;
	uint64_t cert_chain_address;
	uint32_t cert_chain_len;
} __attribute__((packed));
_Static_assert(sizeof(struct sev_user_data_pdh_cert_export) == 24, "pdh");

struct sev_user_data_get_id2 {
	uint64_t address;
	uint32_t length;
} __attribute__((packed));
_Static_assert(sizeof(struct sev_user_data_get_id2) == 12, "get_id2");

/* Firmware status codes used by the library's logic (full table: error.c). */
#define SEV_RET_INVALID_PLATFORM_STATE 0x01u
#define SEV_RET_INVALID_GUEST_STATE    0x02u
#define SEV_RET_INVALID_LEN            0x04u
#define SEV_RET_INVALID_CERTIFICATE    0x06u
#define SEV_RET_POLICY_FAILURE         0x07u
#define SEV_RET_INACTIVE               0x08u
#define SEV_RET_INVALID_ADDRESS        0x09u
#define SEV_RET_BAD_SIGNATURE          0x0Au
#define SEV_RET_BAD_MEASUREMENT        0x0Bu
#define SEV_RET_INVALID_GUEST          0x10u
#define SEV_RET_HWSEV_RET_UNSAFE       0x14u
#define SEV_RET_UNSUPPORTED            0x15u
#define SEV_RET_INVALID_PARAM          0x16u

/* ---- KVM_MEMORY_ENCRYPT_OP (SEV guest commands) ----------------------- */
#define KVM_SEV_INIT                 0u
#define KVM_SEV_ES_INIT              1u
#define KVM_SEV_LAUNCH_START         2u
#define KVM_SEV_LAUNCH_UPDATE_DATA   3u
#define KVM_SEV_LAUNCH_UPDATE_VMSA   4u
#define KVM_SEV_LAUNCH_SECRET        5u
#define KVM_SEV_LAUNCH_MEASURE       6u
#define KVM_SEV_LAUNCH_FINISH        7u
#define KVM_SEV_SEND_START           8u
#define KVM_SEV_SEND_UPDATE_DATA     9u
#define KVM_SEV_SEND_UPDATE_VMSA     10u
#define KVM_SEV_SEND_FINISH          11u
#define KVM_SEV_RECEIVE_START        12u
#define KVM_SEV_RECEIVE_UPDATE_DATA  13u
#define KVM_SEV_RECEIVE_UPDATE_VMSA  14u
#define KVM_SEV_RECEIVE_FINISH       15u
#define KVM_SEV_GUEST_STATUS         16u
#define KVM_SEV_DBG_DECRYPT          17u
#define KVM_SEV_DBG_ENCRYPT          18u
#define KVM_SEV_CERT_EXPORT          19u
#define KVM_SEV_GET_ATTESTATION_REPORT 20u
#define KVM_SEV_SEND_CANCEL          21u
#define KVM_SEV_INIT2                22u

struct kvm_sev_cmd {
	uint32_t id;
	uint32_t pad0;
	uint64_t data;
	uint32_t error;
	uint32_t sev_fd;
};
_Static_assert(sizeof(struct kvm_sev_cmd) == 24, "kvm_sev_cmd");
_Static_assert(offsetof(struct kvm_sev_cmd, error) == 16, "error");

struct kvm_sev_launch_start {
	uint32_t handle;
	uint32_t policy;
	uint64_t dh_uaddr;
	uint32_t dh_len;
	uint32_t pad0;
	uint64_t session_uaddr;
	uint32_t session_len;
	uint32_t pad1;
};
_Static_assert(sizeof(struct kvm_sev_launch_start) == 40, "l_start");

struct kvm_sev_send_start {
	uint32_t policy;
	uint32_t pad0;
	uint64_t pdh_cert_uaddr;
	uint32_t pdh_cert_len;
	uint32_t pad1;
	uint64_t plat_certs_uaddr;
	uint32_t plat_certs_len;
	uint32_t pad2;
	uint64_t amd_certs_uaddr;
	uint32_t amd_certs_len;
	uint32_t pad3;
	uint64_t session_uaddr;
	uint32_t session_len;
	uint32_t pad4;
};
_Static_assert(sizeof(struct kvm_sev_send_start) == 72, "send_start");
_Static_assert(offsetof(struct kvm_sev_send_start, session_len) == 64,
	       "session_len");

/* Also the layout of kvm_sev_receive_update_data. */
struct kvm_sev_send_update_data {
	uint64_t hdr_uaddr;
	uint32_t hdr_len;
	uint32_t pad0;
	uint64_t guest_uaddr;
	uint32_t guest_len;
	uint32_t pad1;
	uint64_t trans_uaddr;
	uint32_t trans_len;
	uint32_t pad2;
};
_Static_assert(sizeof(struct kvm_sev_send_update_data) == 48, "sud");
_Static_assert(offsetof(struct kvm_sev_send_update_data, trans_len) == 40,
	       "trans_len");

struct kvm_sev_receive_start {
	uint32_t handle;
	uint32_t policy;
	uint64_t pdh_uaddr;
	uint32_t pdh_len;
	uint32_t pad0;
	uint64_t session_uaddr;
	uint32_t session_len;
	uint32_t pad1;
};
_Static_assert(sizeof(struct kvm_sev_receive_start) == 40, "r_start");

struct kvm_sev_guest_status {
	uint32_t handle;
	uint32_t policy;
	uint32_t state;
};
_Static_assert(sizeof(struct kvm_sev_guest_status) == 12, "status");

struct kvm_dirty_log {
	uint32_t slot;
	uint32_t padding1;
	uint64_t dirty_bitmap;	/* user pointer: one bit per page of the slot */
};
_Static_assert(sizeof(struct kvm_dirty_log) == 16, "kvm_dirty_log");

struct kvm_enc_region {
	uint64_t addr;
	uint64_t size;
};
_Static_assert(sizeof(struct kvm_enc_region) == 16, "enc_region");

/* Guest states as the firmware numbers them (the kernel doc swaps 4/5). */
#define SEV_GSTATE_UNINIT  0u
#define SEV_GSTATE_LUPDATE 1u
#define SEV_GSTATE_LSECRET 2u
#define SEV_GSTATE_RUNNING 3u
#define SEV_GSTATE_SUPDATE 4u
#define SEV_GSTATE_RUPDATE 5u
#define SEV_GSTATE_SENT    6u

/* Field offsets the PSP layer relies on (uapi linux/psp-sev.h and kvm.h). */
_Static_assert(offsetof(struct sev_user_data_pdh_cert_export,
			cert_chain_address) == 12, "pdh chain address");
_Static_assert(offsetof(struct sev_user_data_pdh_cert_export,
			cert_chain_len) == 20, "pdh chain len");
_Static_assert(offsetof(struct sev_user_data_get_id2, length) == 8,
	       "get_id2 length");
_Static_assert(offsetof(struct kvm_sev_send_start, pdh_cert_len) == 16,
	       "send_start pdh_cert_len");
_Static_assert(offsetof(struct kvm_sev_send_start, plat_certs_uaddr) == 24,
	       "send_start plat_certs_uaddr");
_Static_assert(offsetof(struct kvm_sev_send_start, amd_certs_len) == 48,
	       "send_start amd_certs_len");
_Static_assert(offsetof(struct kvm_sev_send_update_data, guest_uaddr) == 16,
	       "update_data guest_uaddr");
_Static_assert(offsetof(struct kvm_sev_send_update_data, guest_len) == 24,
	       "update_data guest_len");
_Static_assert(offsetof(struct kvm_sev_receive_start, pdh_len) == 16,
	       "receive_start pdh_len");
_Static_assert(offsetof(struct kvm_sev_receive_start, session_uaddr) == 24,
	       "receive_start session_uaddr");
_Static_assert(offsetof(struct kvm_sev_receive_start, session_len) == 32,
	       "receive_start session_len");
_Static_assert(offsetof(struct kvm_sev_guest_status, state) == 8,
	       "guest_status state");

/* The ioctl numbers above, checked against their encodings in the spec. */
_Static_assert(KVM_ENABLE_CAP == 0x4068AEA3ul, "KVM_ENABLE_CAP");
_Static_assert(KVM_X86_SET_MSR_FILTER == 0x4188AEC6ul, "MSR_FILTER");
_Static_assert(KVM_MEMORY_ENCRYPT_OP == 0xC008AEBAul, "ENCRYPT_OP");
_Static_assert(KVM_MEMORY_ENCRYPT_REG_REGION == 0x8010AEBBul, "REG");
_Static_assert(KVM_MEMORY_ENCRYPT_UNREG_REGION == 0x8010AEBCul, "UNREG");
_Static_assert(SEV_ISSUE_CMD == 0xC0105300ul, "SEV_ISSUE_CMD");
_Static_assert(KVM_SET_USER_MEMORY_REGION == 0x4020AE46ul, "SET_UMR");
_Static_assert(KVM_SET_USER_MEMORY_REGION2 == 0x40A0AE49ul, "SET_UMR2");
_Static_assert(KVM_IOEVENTFD == 0x4040AE79ul, "IOEVENTFD");
_Static_assert(KVM_IRQFD == 0x4020AE76ul, "IRQFD");
_Static_assert(KVM_UNREGISTER_COALESCED_MMIO == 0x4010AE68ul, "UNREG_MMIO");

/*
 * Public constants that restate a kernel value: one definition each side,
 * asserted equal here so neither can drift.
 */
#include <sevmig/sevmig.h>
_Static_assert(SEVMIG_FW_BLOB_MAX == SEV_FW_BLOB_MAX_SIZE, "blob max");
_Static_assert(SEVMIG_MIGRATION_CONTROL_READY == KVM_MIGRATION_READY, "READY");

#endif /* UAPI_KVM_ABI_H */
