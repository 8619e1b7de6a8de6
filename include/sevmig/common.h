/* SPDX-License-Identifier: MIT */
/*
 * libsevmig common definitions: version, errors and reasons, the syscall
 * backend and the library context. Included by every topic header; a VMM
 * includes <sevmig/sevmig.h>, which includes them all.
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
#ifndef SEVMIG_COMMON_H
#define SEVMIG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Callers must look at the result (define SEVMIG_NO_ATTRIBUTES to drop it). */
#if defined(__GNUC__) && !defined(SEVMIG_NO_ATTRIBUTES)
#define SEVMIG_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define SEVMIG_WARN_UNUSED
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
 * as "unknown reason". Every reason of every verdict is in this one table;
 * the comment after each group says which calls report it. The constants
 * are written with ULL so that bindings (bindgen) keep them 64-bit.
 */
/* The host: sevmig_host_probe(). */
#define SEVMIG_REASON_NO_KVM                  (1ULL << 0)
#define SEVMIG_REASON_KVM_API_VERSION         (1ULL << 1)
#define SEVMIG_REASON_NO_EXIT_HYPERCALL       (1ULL << 2)
#define SEVMIG_REASON_NO_USER_SPACE_MSR       (1ULL << 3)
#define SEVMIG_REASON_NO_MSR_FILTER           (1ULL << 4)
#define SEVMIG_REASON_KVM_NO_SEV              (1ULL << 5)
#define SEVMIG_REASON_KVM_SEV_PROBE_FAILED    (1ULL << 6)
#define SEVMIG_REASON_NO_SEV_DEVICE           (1ULL << 7)
#define SEVMIG_REASON_SEV_DEVICE_ACCESS       (1ULL << 8)
#define SEVMIG_REASON_SEV_STATUS_FAILED       (1ULL << 9)
#define SEVMIG_REASON_PSP_DEAD                (1ULL << 10)
#define SEVMIG_REASON_NO_MOVE_ENC_CONTEXT     (1ULL << 11)
#define SEVMIG_REASON_NO_COPY_ENC_CONTEXT     (1ULL << 12)
#define SEVMIG_REASON_ES_NO_VMSA_MIGRATION    (1ULL << 13)
/* The guest policy: sevmig_preflight(), sevmig_vm_readiness() (NOSEND). */
#define SEVMIG_REASON_POLICY_NOSEND           (1ULL << 14)
#define SEVMIG_REASON_POLICY_DOMAIN           (1ULL << 15)
#define SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN (1ULL << 16)
#define SEVMIG_REASON_POLICY_API_VERSION      (1ULL << 17)
#define SEVMIG_REASON_POLICY_RESERVED         (1ULL << 18)
/* The target's certificates: sevmig_cert_check_target(), sevmig_preflight(). */
#define SEVMIG_REASON_TARGET_PDH              (1ULL << 19)
#define SEVMIG_REASON_TARGET_PLAT_CHAIN       (1ULL << 20)
#define SEVMIG_REASON_TARGET_AMD_CHAIN        (1ULL << 21)
#define SEVMIG_REASON_TARGET_CERT_LINK        (1ULL << 22)
#define SEVMIG_REASON_TARGET_UNKNOWN_ROOT     (1ULL << 23)
#define SEVMIG_REASON_TARGET_SIGNATURE        (1ULL << 24)
/* One VM: sevmig_vm_readiness(). */
#define SEVMIG_REASON_EXITS_NOT_ENABLED       (1ULL << 32)
#define SEVMIG_REASON_HOST_POLICY_DENY        (1ULL << 33)
#define SEVMIG_REASON_GUEST_NOT_READY         (1ULL << 34)
#define SEVMIG_REASON_TRACKING_LOST           (1ULL << 35)
#define SEVMIG_REASON_MSR_FILTER_MISSING      (1ULL << 36)
#define SEVMIG_REASON_CPUID_NOT_OFFERED       (1ULL << 37)
#define SEVMIG_REASON_VM_NOT_LIVE             (1ULL << 38)
/*
 * Intra-host moves and mirrors: sevmig_vm_move_check(), sevmig_vm_move_from(),
 * sevmig_vm_mirror_check(), sevmig_vm_mirror_from(), sevmig_vm_mirror_create(),
 * sevmig_vm_teardown() (HAS_MIRRORS) and sevmig_vm_readiness() (IS_MIRROR).
 */
#define SEVMIG_REASON_SAME_VM                 (1ULL << 39)
#define SEVMIG_REASON_SOURCE_NOT_LIVE         (1ULL << 40)
#define SEVMIG_REASON_DEST_NOT_LIVE           (1ULL << 41)
#define SEVMIG_REASON_SOURCE_NOT_SEV          (1ULL << 42)
#define SEVMIG_REASON_DEST_HAS_CONTEXT        (1ULL << 43)
#define SEVMIG_REASON_VM_TYPE_MISMATCH        (1ULL << 44)
#define SEVMIG_REASON_SNP                     (1ULL << 45)
#define SEVMIG_REASON_SEV_TYPE_UNKNOWN        (1ULL << 46)
#define SEVMIG_REASON_ES_VCPU_COUNT           (1ULL << 47)
#define SEVMIG_REASON_ES_VMSA                 (1ULL << 48)
#define SEVMIG_REASON_VCPUS_RUNNING           (1ULL << 49)
#define SEVMIG_REASON_IS_MIRROR               (1ULL << 50)
#define SEVMIG_REASON_HAS_MIRRORS             (1ULL << 51)
#define SEVMIG_REASON_MIRROR_HAS_VCPUS        (1ULL << 52)
#define SEVMIG_REASON_PHYS_BITS_MISMATCH      (1ULL << 53)
#define SEVMIG_REASON_CONTENDED               (1ULL << 54)
#define SEVMIG_REASON_KERNEL_REFUSED          (1ULL << 55)

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

/** One buffer of a vectored write (like struct iovec, without <sys/uio.h>). */
struct sevmig_iovec {
	const void *base;	/**< first byte */
	size_t len;		/**< number of bytes */
};

/**
 * struct sevmig_sys_ops - where the library's system calls go.
 *
 * Every system call libsevmig performs goes through one of these members, so
 * a VMM can route them (a broker, a sandbox) and a test or simulator can
 * answer them. A NULL member means "the real Linux system call". Each
 * member returns its result (>= 0) or a negative errno, never -1 with errno.
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
 * @read:    read(2) once (the fd channel of a migration session): returns
 *           the bytes read (0 at end of file) or -errno.
 * @writev:  writev(2) once, never raising SIGPIPE (a closed peer is
 *           -EPIPE): returns the bytes written (possibly fewer) or -errno.
 * @poll:    poll(2) on one descriptor: @events and the result are
 *           SEVMIG_POLL_* bits; 0 on timeout; -errno.
 * @fsync:   fsync(2): returns 0 or -errno.
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
	int (*read)(void *opaque, int fd, void *buf, size_t len);
	int (*writev)(void *opaque, int fd, const struct sevmig_iovec *iov,
		      uint32_t iovcnt);
	int (*poll)(void *opaque, int fd, uint32_t events, int timeout_ms);
	int (*fsync)(void *opaque, int fd);
};
#define SEVMIG_SYS_OPS_SIZE_VER0 88u

/* Events of struct sevmig_sys_ops.poll (the values of Linux's POLL*). */
#define SEVMIG_POLL_IN  0x001u
#define SEVMIG_POLL_OUT 0x004u
#define SEVMIG_POLL_ERR 0x008u
#define SEVMIG_POLL_HUP 0x010u

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
 * @reserved0: must be 0.
 * @verify:    optional signature verifier, so that a target's certificate
 *             chain can be checked before the firmware is asked while
 *             libsevmig itself stays free of cryptography. Called with one
 *             certificate and the certificate of the key that should have
 *             signed it, both exactly as they appear in the chains:
 *             2084-byte SEV certificates (PDH, PEK, OCA, CEK) or AMD
 *             certificates (ASK, ARK; @cert_len and @signer_len are their
 *             exact lengths). An ARK's self-signature is asked with the ARK
 *             as both. Returns 0 when the signature @cert carries by
 *             @signer's key usage verifies with @signer's public key, else
 *             a negative errno (-EKEYREJECTED for a bad signature, -ENOKEY
 *             when @cert names no such signer, -EINVAL for what it cannot
 *             parse). libsevmig-sim's sevmig_sim_cert_verify() has this
 *             shape apart from its flags argument. NULL: no verification
 *             (signatures are left to the firmware). Must be callable from
 *             several threads at once; it is called on the thread of the
 *             check that needs it (sevmig_cert_check_target(),
 *             sevmig_preflight(), sevmig_ctx_add_ark(), a send session's
 *             handshake).
 * @verify_opaque: passed to @verify.
 */
struct sevmig_ctx_opts {
	uint32_t size;
	uint32_t flags;
	const struct sevmig_sys_ops *sys;
	void (*log)(void *log_opaque, uint32_t level, const char *msg);
	void *log_opaque;
	uint32_t log_level;
	uint32_t reserved0;
	int (*verify)(void *verify_opaque, const void *cert, size_t cert_len,
		      const void *signer, size_t signer_len);
	void *verify_opaque;
};
#define SEVMIG_CTX_OPTS_SIZE_VER0 56u

/**
 * A library context: backend, logging, PSP health, the signature verifier
 * and the AMD roots the operator added (sevmig_ctx_add_ark()). Opaque.
 */
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

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_COMMON_H */
