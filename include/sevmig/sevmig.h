/* SPDX-License-Identifier: MIT */
/*
 * libsevmig: live migration of AMD SEV guests on Linux KVM, for any VMM.
 *
 * This is the one public header. It includes standard headers only, never
 * <linux/...>, so consumers stay independent of their kernel headers.
 *
 * Conventions that hold for every function below:
 *
 *  - Errors are negative errno values; 0 (or a count) is success. errno is
 *    never part of the contract.
 *  - Calls that reach SEV firmware take an optional `uint32_t *ret_fw_error`.
 *    It is written only when the firmware reported a status (the call then
 *    returns -EIO unless documented otherwise); see sevmig_fw_strerror().
 *  - Output parameters are named ret_* and are left untouched on failure.
 *  - Records passed by pointer start with `uint32_t size`, set by the caller
 *    to sizeof() of the struct it was compiled with. An older (smaller) record
 *    is accepted and its missing tail reads as zero; a newer (larger) record
 *    is accepted only if every byte past what this library knows is zero,
 *    otherwise -E2BIG. A size below the first published size is -EINVAL.
 *    On output, `size` is set to the number of bytes the library wrote.
 *  - Arguments named `flags` must be 0 today (-EINVAL otherwise).
 *  - Enumerations start at 1; fields carrying them are uint32_t.
 *  - File descriptors passed in are borrowed: the library never closes a
 *    descriptor it did not open.
 *  - Thread-safety is stated per function under "Context:".
 */
#ifndef SEVMIG_SEVMIG_H
#define SEVMIG_SEVMIG_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(SEVMIG_NO_ATTRIBUTES)
#define SEVMIG_WARN_UNUSED __attribute__((warn_unused_result))
#define SEVMIG_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define SEVMIG_WARN_UNUSED
#define SEVMIG_DEPRECATED(msg)
#endif

/* ======================================================================
 * Version
 * ====================================================================== */

/**
 * sevmig_version() - version of the library loaded at run time.
 *
 * @return (major << 16) | (minor << 8) | micro of the loaded library, to
 *         compare with SEVMIG_VERSION_NUMBER from the header built against.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
uint32_t sevmig_version(void);

/**
 * sevmig_version_string() - version of the loaded library as text.
 *
 * @return a static string such as "0.1.0".
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_version_string(void);

/* ======================================================================
 * Errors and reasons
 * ====================================================================== */

/**
 * sevmig_strerror() - describe an error returned by libsevmig.
 *
 * @err: a return value of this library (negative errno); a positive errno
 *       is accepted too.
 * @return a static string, never NULL. Errors with a meaning particular to
 *         this library (-E2BIG for a record from a newer header, -ENOTSUPP
 *         (524) from the PSP driver, ...) are described in those terms.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_strerror(int err);

/**
 * sevmig_fw_strerror() - describe an SEV firmware status code.
 *
 * @status: a value written to a ret_fw_error out-parameter (the SEV API's
 *          16-bit status, SEV_RET_* in the kernel), e.g. 0x4 INVALID_LEN.
 * @return a static string "NAME: explanation", never NULL; codes this
 *         library does not know give "unknown firmware status".
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_fw_strerror(uint32_t status);

/**
 * sevmig_fw_status_name() - the short name of an SEV firmware status code.
 *
 * @status: SEV firmware status.
 * @return a static string such as "INVALID_LEN", or NULL if unknown.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_fw_status_name(uint32_t status);

/*
 * Reasons. Verdicts ("may X happen here?") come as a uint64_t mask of the
 * bits below: 0 means yes, each set bit is one reason for no, described by
 * sevmig_reason_string(). New bits may be added; unknown bits are described
 * as "unknown reason".
 */
#define SEVMIG_REASON_NO_KVM                 (UINT64_C(1) << 0)
#define SEVMIG_REASON_KVM_API_VERSION        (UINT64_C(1) << 1)
#define SEVMIG_REASON_NO_EXIT_HYPERCALL      (UINT64_C(1) << 2)
#define SEVMIG_REASON_NO_USER_SPACE_MSR      (UINT64_C(1) << 3)
#define SEVMIG_REASON_NO_MSR_FILTER          (UINT64_C(1) << 4)
#define SEVMIG_REASON_KVM_NO_SEV             (UINT64_C(1) << 5)
#define SEVMIG_REASON_KVM_SEV_PROBE_FAILED   (UINT64_C(1) << 6)
#define SEVMIG_REASON_NO_SEV_DEVICE          (UINT64_C(1) << 7)
#define SEVMIG_REASON_SEV_DEVICE_ACCESS      (UINT64_C(1) << 8)
#define SEVMIG_REASON_SEV_STATUS_FAILED      (UINT64_C(1) << 9)
#define SEVMIG_REASON_PSP_DEAD               (UINT64_C(1) << 10)
#define SEVMIG_REASON_NO_MOVE_ENC_CONTEXT    (UINT64_C(1) << 11)
#define SEVMIG_REASON_NO_COPY_ENC_CONTEXT    (UINT64_C(1) << 12)
#define SEVMIG_REASON_ES_NO_VMSA_MIGRATION   (UINT64_C(1) << 13)

/**
 * sevmig_reason_string() - describe one reason bit.
 *
 * @reason: exactly one SEVMIG_REASON_* bit.
 * @return a static sentence a person understands, never NULL; "unknown
 *         reason" when @reason is not exactly one known bit.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_reason_string(uint64_t reason);

/* ======================================================================
 * Syscall backend
 * ====================================================================== */

/**
 * struct sevmig_sys_ops - where the library's system calls go.
 *
 * Every open, close, ioctl, mmap and munmap libsevmig performs goes through
 * one of these members, so a VMM can route them (a broker, a sandbox) and a
 * test or simulator can answer them. A NULL member means "the real Linux
 * system call". Each member returns its result (>= 0) or a negative errno,
 * never -1 with errno.
 *
 * @size:    sizeof(struct sevmig_sys_ops) as compiled by the caller.
 * @flags:   must be 0.
 * @opaque:  passed unchanged as the first argument of every member.
 * @open:    open(2): returns a new fd or -errno.
 * @close:   close(2): returns 0 or -errno.
 * @ioctl:   ioctl(2): @arg is the pointer or integer argument; returns the
 *           ioctl's non-negative result or -errno.
 * @mmap:    mmap(2): stores the mapping in *@ret_addr; returns 0 or -errno.
 * @munmap:  munmap(2): returns 0 or -errno.
 *
 * Members must be callable from several threads at once.
 */
struct sevmig_sys_ops {
	uint32_t size;
	uint32_t flags;
	void *opaque;
	int (*open)(void *opaque, const char *path, int oflags);
	int (*close)(void *opaque, int fd);
	int (*ioctl)(void *opaque, int fd, unsigned long request, void *arg);
	int (*mmap)(void *opaque, void *addr, size_t length, int prot,
		    int mflags, int fd, int64_t offset, void **ret_addr);
	int (*munmap)(void *opaque, void *addr, size_t length);
};
#define SEVMIG_SYS_OPS_SIZE_VER0 56u

/**
 * sevmig_sys_default() - the real Linux system calls as an ops table.
 *
 * @return a static table whose members call the kernel directly. A backend
 *         that answers some calls itself (the simulator does) forwards the
 *         rest here.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const struct sevmig_sys_ops *sevmig_sys_default(void);

/* ======================================================================
 * Context
 * ====================================================================== */

/** Log levels for struct sevmig_ctx_opts.log. */
enum sevmig_log_level {
	SEVMIG_LOG_ERR = 1,
	SEVMIG_LOG_WARNING = 2,
	SEVMIG_LOG_INFO = 3,
	SEVMIG_LOG_DEBUG = 4,
};

/**
 * struct sevmig_ctx_opts - how a context is built.
 *
 * @size:      sizeof(struct sevmig_ctx_opts).
 * @flags:     must be 0.
 * @sys:       syscall backend, or NULL for the real kernel. The table is
 *             copied; its @opaque must stay valid for the context's life.
 * @log:       optional log callback. Every error the library returns is
 *             logged first at SEVMIG_LOG_ERR with the detail a person needs
 *             (which device, which command, which firmware status). The
 *             message is valid only during the call. Called from whichever
 *             thread hit the event.
 * @log_opaque: passed to @log.
 * @log_level: highest level delivered (SEVMIG_LOG_*); 0 means
 *             SEVMIG_LOG_WARNING.
 */
struct sevmig_ctx_opts {
	uint32_t size;
	uint32_t flags;
	const struct sevmig_sys_ops *sys;
	void (*log)(void *log_opaque, uint32_t level, const char *msg);
	void *log_opaque;
	uint32_t log_level;
	uint32_t reserved0;
};
#define SEVMIG_CTX_OPTS_SIZE_VER0 40u

/** A library context: backend, logging, PSP health. Opaque. */
struct sevmig_ctx;

/**
 * sevmig_ctx_new() - create a context.
 *
 * @opts:    options, or NULL for the real kernel and no logging.
 * @ret_ctx: receives the context.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ret_ctx, non-zero flags, record size below the
 *         first version, sys ops with non-zero flags), -E2BIG (a record
 *         from a newer header with non-zero fields this library does not
 *         know), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread. A context is safe to use from many threads at once;
 *          it holds no hidden threads and opens nothing by itself.
 */
SEVMIG_WARN_UNUSED int sevmig_ctx_new(const struct sevmig_ctx_opts *opts,
				      struct sevmig_ctx **ret_ctx);

/**
 * sevmig_ctx_free() - free a context. NULL is ignored.
 *
 * @ctx: the context; every object created from it must be freed first.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @ctx during or after the call.
 */
void sevmig_ctx_free(struct sevmig_ctx *ctx);

/* ======================================================================
 * Host probe
 * ====================================================================== */

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
 *         non-zero tail), -ENOMEM.
 * Firmware: PLATFORM_STATUS is issued when /dev/sev opens; its status is
 *         reported in caps->sev_fw_error, never as the return value.
 * Context: any thread; blocks for the duration of a few ioctls (a PSP
 *          command may take milliseconds).
 */
SEVMIG_WARN_UNUSED int sevmig_host_probe(struct sevmig_ctx *ctx,
					 struct sevmig_host_caps *caps,
					 uint32_t flags);

/* ======================================================================
 * Page-state tracker
 * ====================================================================== */

/* ======================================================================
 * PSP commands, certificates and guest policy
 * ====================================================================== */

/* ======================================================================
 * VM handle, feature negotiation and exit handling
 * ====================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_SEVMIG_H */
