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
#define SEVMIG_REASON_POLICY_NOSEND          (UINT64_C(1) << 14)
#define SEVMIG_REASON_POLICY_DOMAIN          (UINT64_C(1) << 15)
#define SEVMIG_REASON_POLICY_SEV_NO_AMD_CHAIN (UINT64_C(1) << 16)
#define SEVMIG_REASON_POLICY_API_VERSION     (UINT64_C(1) << 17)
#define SEVMIG_REASON_POLICY_RESERVED        (UINT64_C(1) << 18)
#define SEVMIG_REASON_TARGET_PDH             (UINT64_C(1) << 19)
#define SEVMIG_REASON_TARGET_PLAT_CHAIN      (UINT64_C(1) << 20)
#define SEVMIG_REASON_TARGET_AMD_CHAIN       (UINT64_C(1) << 21)
#define SEVMIG_REASON_TARGET_CERT_LINK       (UINT64_C(1) << 22)

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

/*
 * The set of shared guest frames of one VM (every other frame is private,
 * the SEV default), the frames whose state flipped since the last sync, and
 * their migration-stream encoding. GFNs are 4 KiB frame numbers; ranges are
 * half-open [gfn, gfn + npages). Updates cost O(log max_gfn) whatever the
 * length, memory never exceeds about one bit per page of the touched range
 * (32 KiB per GiB) whatever the guest does, and every function may be called
 * from any thread. Design and encoding: docs/tracker.md.
 */

/** Page states; fields carrying them are uint32_t. */
enum sevmig_page_state {
	SEVMIG_PAGE_PRIVATE = 1,
	SEVMIG_PAGE_SHARED = 2,
};

/** Largest accepted max_gfn (52-bit guest physical addresses). */
#define SEVMIG_TRACKER_MAX_GFN (UINT64_C(1) << 40)

/** A page-state tracker. Opaque. */
struct sevmig_tracker;

/**
 * sevmig_tracker_new() - create a tracker with every page private.
 *
 * @max_gfn:     exclusive upper bound of the GFNs it will hold, e.g.
 *               1 << (guest physical address width - 12). Costs nothing
 *               until pages are shared.
 * @flags:       must be 0.
 * @ret_tracker: receives the tracker.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @ret_tracker, flags, @max_gfn 0 or above
 *         SEVMIG_TRACKER_MAX_GFN), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_new(uint64_t max_gfn, uint32_t flags,
					  struct sevmig_tracker **ret_tracker);

/**
 * sevmig_tracker_free() - free a tracker. NULL is ignored.
 *
 * @tracker: the tracker.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @tracker during or after the call.
 */
void sevmig_tracker_free(struct sevmig_tracker *tracker);

/**
 * sevmig_tracker_set_shared() - mark [gfn, gfn + npages) shared.
 *
 * Idempotent; overlapping and adjacent ranges coalesce. Pages whose state
 * flips are added to the changed-since-sync log.
 *
 * @tracker: the tracker.
 * @gfn:     first frame.
 * @npages:  number of 4 KiB frames, >= 1.
 * @return 0 or a negative errno; on error nothing changed.
 *
 * Errors: -EINVAL (NULL @tracker, @npages 0), -ERANGE (the range wraps or
 *         ends beyond max_gfn), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread (vCPU threads on hypercall exits); takes the tracker
 *          lock for O(64 * log64(max_gfn / 32768)) slot updates plus at
 *          most two leaf edits (a 64-byte boundary list or up to 4 KiB of
 *          bitmap); memory it frees is released after the lock is
 *          dropped. Never sleeps otherwise. (An update that replaces a
 *          fragmented region while a sync log is on also merges it into
 *          the log: amortized, see docs/tracker.md.)
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_set_shared(struct sevmig_tracker *tracker,
						 uint64_t gfn, uint64_t npages);

/**
 * sevmig_tracker_set_private() - mark [gfn, gfn + npages) private.
 *
 * @tracker: the tracker.
 * @gfn:     first frame.
 * @npages:  number of 4 KiB frames, >= 1.
 * @return 0 or a negative errno; on error nothing changed.
 *
 * Errors: as sevmig_tracker_set_shared().
 * Firmware: not reached.
 * Context: as sevmig_tracker_set_shared().
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_set_private(struct sevmig_tracker *tracker,
						  uint64_t gfn, uint64_t npages);

/**
 * sevmig_tracker_reset() - mark every page private (VM reset).
 *
 * Pages that were shared are logged as changed, like any other update.
 *
 * @tracker: the tracker.
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker, flags), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread. Holds the lock for time proportional to the memory
 *          the tracker holds (it moves the shared set into the log).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_reset(struct sevmig_tracker *tracker,
					    uint32_t flags);

/**
 * sevmig_tracker_state() - state of one frame.
 *
 * @tracker:   the tracker.
 * @gfn:       the frame, below max_gfn.
 * @ret_state: receives SEVMIG_PAGE_PRIVATE or SEVMIG_PAGE_SHARED.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument), -ERANGE (@gfn >= max_gfn).
 * Firmware: not reached.
 * Context: any thread; O(log max_gfn) under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_state(struct sevmig_tracker *tracker,
					    uint64_t gfn, uint32_t *ret_state);

/**
 * sevmig_tracker_run_end() - end of the run of equal state starting at @gfn.
 *
 * @tracker:   the tracker.
 * @gfn:       the frame, below max_gfn.
 * @ret_end:   receives the first frame after @gfn whose state differs, or
 *             max_gfn.
 * @ret_state: optional; receives the state of the run.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @tracker or @ret_end), -ERANGE (@gfn >= max_gfn).
 * Firmware: not reached.
 * Context: any thread; under the lock for O(log max_gfn) plus the leaf
 *          contents scanned (at most 512 bitmap words per 128 MiB of the
 *          run, 24 boundaries in a compact leaf).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_run_end(struct sevmig_tracker *tracker,
					      uint64_t gfn, uint64_t *ret_end,
					      uint32_t *ret_state);

/**
 * sevmig_tracker_runs() - classify [gfn, end) into maximal runs, in batches.
 *
 * Writes the end of each run: run 0 is [gfn, ret_ends[0]) in state
 * *ret_first_state, run i is [ret_ends[i-1], ret_ends[i]) and, the runs
 * being maximal, states alternate. The last run is clipped at @end. When
 * the return value is @max_ends and ret_ends[max_ends - 1] < @end, continue
 * from there. This is the send loop's walk: a pass over fully fragmented
 * memory costs a few ns per run.
 *
 * @tracker:         the tracker.
 * @gfn:             first frame; @gfn < @end.
 * @end:             exclusive end, <= max_gfn.
 * @ret_ends:        array of @max_ends run ends.
 * @max_ends:        its length, 1..INT_MAX.
 * @ret_first_state: receives the state of the first run.
 * @ret_seq:         optional; receives the update sequence number at the
 *                   time of the batch. Each batch is one atomic snapshot; a
 *                   walk whose batches all report the same sequence number
 *                   saw one consistent state. Flips during a walk are
 *                   caught by the next sevmig_tracker_sync().
 * @return the number of run ends written (>= 1), or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, @max_ends 0, @gfn >= @end), -ERANGE
 *         (@end > max_gfn).
 * Firmware: not reached.
 * Context: any thread; holds the lock for O(log max_gfn + @max_ends).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_runs(struct sevmig_tracker *tracker,
					   uint64_t gfn, uint64_t end,
					   uint64_t *ret_ends,
					   uint32_t max_ends,
					   uint32_t *ret_first_state,
					   uint64_t *ret_seq);

/**
 * sevmig_tracker_shared_pages() - number of shared frames. O(1).
 *
 * @tracker:   the tracker.
 * @ret_pages: receives the count.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_shared_pages(struct sevmig_tracker *tracker,
						   uint64_t *ret_pages);

/* struct sevmig_tracker_sync_info.flags */
#define SEVMIG_TRACKER_SYNC_MORE (1u << 0) /* round not drained: call again */

/**
 * struct sevmig_tracker_sync_info - result of one sevmig_tracker_sync().
 *
 * @size:       in: sizeof(); out: bytes written.
 * @flags:      out: SEVMIG_TRACKER_SYNC_MORE while the round has ranges
 *              left.
 * @generation: out: the round's generation, 1 for the first sync, +1 per
 *              round.
 * @nr_ranges:  out: ranges written by this call.
 * @pages:      out: frames in those ranges.
 */
struct sevmig_tracker_sync_info {
	uint32_t size;
	uint32_t flags;
	uint64_t generation;
	uint64_t nr_ranges;
	uint64_t pages;
};
#define SEVMIG_TRACKER_SYNC_INFO_SIZE_VER0 32u

/**
 * sevmig_tracker_sync() - the frames whose state flipped since the last
 * round, coalesced.
 *
 * A round starts when no round is open: the log of flipped frames is taken
 * atomically (later flips, even ones racing with this call, go to the next
 * round) and the generation is incremented. The round's ranges are then
 * returned in ascending order, at most @max_ranges per call; while
 * info->flags has SEVMIG_TRACKER_SYNC_MORE, call again to continue the
 * same round. Frames flipped twice (shared and back) are reported: they
 * may have been sent in the other form. Memory stays bounded: the log is a
 * set of the same form as the shared set.
 *
 * @tracker:    the tracker.
 * @ret_ranges: array of 2 * @max_ranges GFNs: pairs [start, end).
 * @max_ranges: 1..INT_MAX/2.
 * @info:       result record; set info->size first.
 * @flags:      must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, @max_ranges, flags, info->size below the
 *         first version), -E2BIG (newer record with a non-zero tail).
 * Firmware: not reached.
 * Context: any thread, normally the migration thread; holds the lock for
 *          O(log max_gfn + @max_ranges).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_sync(struct sevmig_tracker *tracker,
					   uint64_t *ret_ranges,
					   uint32_t max_ranges,
					   struct sevmig_tracker_sync_info *info,
					   uint32_t flags);

/**
 * struct sevmig_tracker_stats - counters of a tracker.
 *
 * @size:           in: sizeof(); out: bytes written.
 * @flags:          out: SEVMIG_TRACKER_SYNC_MORE while a sync round is open.
 * @max_gfn:        the tracker's bound.
 * @shared_pages:   shared frames.
 * @changed_pages:  frames flipped since the current round was taken.
 * @pending_pages:  frames in the open round (0 when none is open).
 * @generation:     generation of the last round taken.
 * @seq:            number of updates that flipped at least one frame.
 * @mem_bytes:      bytes the tracker holds now (malloc requests).
 * @peak_mem_bytes: the most it ever held.
 * @nodes, @leaves: radix nodes and 4 KiB bitmap leaves allocated (compact
 *                  64-byte leaves count in @mem_bytes only).
 */
struct sevmig_tracker_stats {
	uint32_t size;
	uint32_t flags;
	uint64_t max_gfn;
	uint64_t shared_pages;
	uint64_t changed_pages;
	uint64_t pending_pages;
	uint64_t generation;
	uint64_t seq;
	uint64_t mem_bytes;
	uint64_t peak_mem_bytes;
	uint64_t nodes;
	uint64_t leaves;
};
#define SEVMIG_TRACKER_STATS_SIZE_VER0 88u

/**
 * sevmig_tracker_stats() - read the counters.
 *
 * @tracker: the tracker.
 * @stats:   record to fill; set stats->size first.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, size below the first version), -E2BIG
 *         (newer record with a non-zero tail).
 * Firmware: not reached.
 * Context: any thread; O(1) under the lock.
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_stats(struct sevmig_tracker *tracker,
					    struct sevmig_tracker_stats *stats);

/* Record kinds of sevmig_tracker_encode(). */
#define SEVMIG_TRACKER_RECORD_FULL  1u /* part of the full set */
#define SEVMIG_TRACKER_RECORD_DELTA 2u /* a changed range from a sync */
/** Smallest buffer sevmig_tracker_encode() accepts. */
#define SEVMIG_TRACKER_RECORD_MIN 64u

/**
 * sevmig_tracker_encode() - encode the state of a window of frames.
 *
 * Writes one record (docs/tracker.md, "Encoding": a 40-byte header and
 * LEB128 shared ranges) that sets the window [gfn, *ret_next) on the
 * receiver to exactly this tracker's state there. If the buffer fills
 * first, the window stops at the last range that fit: continue from
 * *ret_next, which equals @end when done. Send the full set as records over
 * [0, max_gfn), and deltas as records over each range a sync returned.
 *
 * @tracker:  the tracker.
 * @kind:     SEVMIG_TRACKER_RECORD_FULL or _DELTA (carried to the
 *            receiver, which checks it; the encoding is the same).
 * @gfn:      window start; @gfn < @end.
 * @end:      window end, <= max_gfn.
 * @buf:      output buffer.
 * @buf_len:  its size, >= SEVMIG_TRACKER_RECORD_MIN.
 * @ret_len:  receives the record's length.
 * @ret_next: receives the window's end (> @gfn).
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, @kind, flags, @gfn >= @end), -ERANGE
 *         (@end > max_gfn), -ENOSPC (@buf_len < SEVMIG_TRACKER_RECORD_MIN).
 * Firmware: not reached.
 * Context: any thread; holds the lock for O(@buf_len) (one atomic snapshot
 *          of the window).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_encode(struct sevmig_tracker *tracker,
					     uint32_t kind, uint64_t gfn,
					     uint64_t end, void *buf,
					     size_t buf_len, size_t *ret_len,
					     uint64_t *ret_next,
					     uint32_t flags);

/**
 * sevmig_tracker_decode() - apply one record made by sevmig_tracker_encode().
 *
 * The input is untrusted: the whole record is validated (magic, version,
 * kind, zero reserved bytes, matching max_gfn, window inside bounds,
 * ranges sorted, non-overlapping, coalesced and inside the window,
 * canonical LEB128, counts checked against the length before any work)
 * before anything is applied. Records may be concatenated: @ret_used tells
 * where the next one starts.
 *
 * @tracker:  the receiving tracker (same max_gfn as the sender's).
 * @buf:      the input.
 * @len:      its length.
 * @ret_used: optional; receives the bytes the record used.
 * @ret_kind: optional; receives SEVMIG_TRACKER_RECORD_*.
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, max_gfn differs), -EBADMSG
 *         (malformed or truncated record; nothing applied), -ENOMEM (the
 *         window may be partly applied; decode the record again).
 * Firmware: not reached.
 * Context: any thread; holds the lock for O(record length).
 */
SEVMIG_WARN_UNUSED int sevmig_tracker_decode(struct sevmig_tracker *tracker,
					     const void *buf, size_t len,
					     size_t *ret_used,
					     uint32_t *ret_kind,
					     uint32_t flags);

/* ======================================================================
 * PSP commands, certificates and guest policy
 * ====================================================================== */

/*
 * The SEV firmware (PSP) is reached two ways: platform commands on /dev/sev
 * (struct sevmig_platform) and guest commands on a VM fd through
 * KVM_MEMORY_ENCRYPT_OP (sevmig_guest_status(), sevmig_send_*(),
 * sevmig_receive_*()). Every such call keeps errno and firmware status
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
SEVMIG_WARN_UNUSED int sevmig_platform_open(struct sevmig_ctx *ctx,
					    const char *path, uint32_t flags,
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
SEVMIG_WARN_UNUSED int sevmig_platform_from_fd(struct sevmig_ctx *ctx,
					       int sev_fd, uint32_t flags,
					       struct sevmig_platform **ret_platform);

/**
 * sevmig_platform_free() - release a platform object. NULL is ignored.
 *
 * Closes the descriptor if sevmig_platform_open() opened it. Logs a warning
 * when VMs were started with it (sevmig_receive_start()): their later
 * commands will fail with -EBADF.
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
SEVMIG_WARN_UNUSED int sevmig_platform_status(struct sevmig_platform *p,
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
 *         -ETIMEDOUT, -EBUSY, as for sevmig_platform_status().
 * Firmware: PDH_CERT_EXPORT; INVALID_LEN is the query's answer and never
 *         reported; INVALID_PLATFORM_STATE means UNINIT.
 * Context: any thread; blocks for one PSP command.
 */
SEVMIG_WARN_UNUSED int sevmig_platform_pdh_export(struct sevmig_platform *p,
						  void *pdh, size_t pdh_size,
						  void *chain, size_t chain_size,
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
 *         -EIO, -EBADF, -ENOTTY, -EFAULT, -ETIMEDOUT, -EBUSY.
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
 * Guest commands below take the VM fd (borrowed) and the platform whose
 * descriptor the VM was started with. KVM uses the descriptor number it
 * stored at LAUNCH_START/RECEIVE_START; if that number is no longer an open
 * /dev/sev in this process the command fails with -EBADF and the log says
 * why. They are stateless: the migration session built on them keeps the
 * order (SEND_CANCEL on failure, never resume after SEND_FINISH).
 * Common errors of every guest command: -EINVAL (NULL argument, flags,
 * sizes; also KVM's answer to a command it does not know), -ENOTTY (SEV not
 * enabled in KVM, or the VM is not an SEV guest), -EBADF (see above),
 * -EFAULT, -EIO (firmware status in *ret_fw_error; also a dead VM),
 * -ETIMEDOUT (PSP timed out: dead until reboot), -EBUSY, -ENOMEM.
 * Context of every guest command: any thread; KVM serializes commands on
 * one VM; each blocks for one or two PSP commands.
 */

/**
 * sevmig_guest_status() - KVM_SEV_GUEST_STATUS: handle, policy, state.
 *
 * @ctx, @vm_fd, @p: context, VM fd, platform.
 * @ret_status:   record to fill; set ->size first.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones above; -E2BIG (newer record, non-zero tail).
 * Firmware: GUEST_STATUS; INVALID_GUEST means no guest is bound yet.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_guest_status(struct sevmig_ctx *ctx, int vm_fd,
					   struct sevmig_platform *p,
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
 * sevmig_send_start() - KVM_SEV_SEND_START: open the channel to a target.
 *
 * Asks the session length first (the firmware's INVALID_LEN answer, 128),
 * then issues the command. On success the guest is in SUPDATE and the
 * 128-byte session is in args->session; send it with the policy and this
 * host's PDH to the target. Run sevmig_preflight() first: it explains in
 * words what the firmware would refuse with POLICY_FAILURE.
 *
 * @ctx, @vm_fd, @p: context, VM fd, platform.
 * @args:            the target's certificates and the session buffer.
 * @ret_policy:      optional; the guest policy the firmware reports.
 * @ret_session_len: optional; session bytes (needed, or written).
 * @ret_fw_error:    optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL also for an empty or larger than 16 KiB
 *         blob; -ENOSPC (session buffer smaller than the firmware needs).
 * Firmware: SEND_START: INVALID_GUEST_STATE (not RUNNING), POLICY_FAILURE
 *         (NOSEND, DOMAIN with another OCA, target API too old),
 *         INVALID_CERTIFICATE, BAD_SIGNATURE, INVALID_LEN (wrong cert
 *         sizes with the SEV policy bit), INVALID_PLATFORM_STATE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_send_start(struct sevmig_ctx *ctx, int vm_fd,
					 struct sevmig_platform *p,
					 const struct sevmig_send_start_args *args,
					 uint32_t *ret_policy,
					 size_t *ret_session_len,
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
 * sevmig_send_update_data_lengths() - the SEND_UPDATE_DATA length query.
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
SEVMIG_WARN_UNUSED int sevmig_send_update_data_lengths(struct sevmig_ctx *ctx,
						       int vm_fd,
						       struct sevmig_platform *p,
						       uint32_t *ret_hdr_len,
						       uint32_t *ret_trans_len,
						       uint32_t *ret_fw_error);

/**
 * sevmig_send_update_data() - KVM_SEV_SEND_UPDATE_DATA: encrypt one
 * private page (or part of one) for the target.
 *
 * The bounds (one page, no crossing, 16-byte alignment, buffer sizes) are
 * checked before the ioctl. Only for private pages: shared pages travel as
 * plain bytes.
 *
 * @ctx, @vm_fd, @p: context, VM fd, platform.
 * @xfer:         the transfer; header and transport buffers are written.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: the common ones; -EINVAL with a logged reason for a bad bound.
 * Firmware: SEND_UPDATE_DATA: INVALID_GUEST_STATE (not SUPDATE),
 *         INVALID_ADDRESS, INACTIVE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_send_update_data(struct sevmig_ctx *ctx,
					       int vm_fd,
					       struct sevmig_platform *p,
					       const struct sevmig_page_xfer *xfer,
					       uint32_t *ret_fw_error);

/**
 * sevmig_send_finish() - KVM_SEV_SEND_FINISH: SUPDATE -> SENT.
 *
 * After success the source guest must never run again (its memory would
 * diverge from the target's); nothing in KVM or the firmware stops it.
 *
 * Errors: the common ones.
 * Firmware: SEND_FINISH: INVALID_GUEST_STATE when not sending.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_send_finish(struct sevmig_ctx *ctx, int vm_fd,
					  struct sevmig_platform *p,
					  uint32_t *ret_fw_error);

/**
 * sevmig_send_cancel() - KVM_SEV_SEND_CANCEL: SUPDATE -> RUNNING.
 *
 * Errors: the common ones.
 * Firmware: SEND_CANCEL: INVALID_GUEST_STATE when not sending;
 *         INVALID_COMMAND on firmware too old to know it.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_send_cancel(struct sevmig_ctx *ctx, int vm_fd,
					  struct sevmig_platform *p,
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
 * sevmig_receive_start() - KVM_SEV_RECEIVE_START: create the incoming guest.
 *
 * The VM must have had KVM_SEV_INIT (or INIT2) and no LAUNCH_*. Passes the
 * platform's descriptor, whose number KVM stores: @p must outlive the VM.
 *
 * @ctx, @vm_fd, @p: context, VM fd, platform.
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
SEVMIG_WARN_UNUSED int sevmig_receive_start(struct sevmig_ctx *ctx, int vm_fd,
					    struct sevmig_platform *p,
					    const struct sevmig_receive_start_args *args,
					    uint32_t *ret_handle,
					    uint32_t *ret_fw_error);

/**
 * sevmig_receive_update_data() - KVM_SEV_RECEIVE_UPDATE_DATA: decrypt one
 * packet into guest memory.
 *
 * @xfer: as for sevmig_send_update_data(); @hdr and @trans are read and
 *        @guest is written (encrypted with this guest's key).
 *
 * Errors: the common ones (KVM answers -EINVAL, not -ENOTTY, for a VM that
 *         is not an SEV guest); -EINVAL with a logged reason for a bad bound.
 * Firmware: RECEIVE_UPDATE_DATA: INVALID_GUEST_STATE (not RUPDATE), a MAC
 *         failure (BAD_MEASUREMENT or INVALID_PARAM), UNSUPPORTED
 *         (compressed packet).
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_update_data(struct sevmig_ctx *ctx,
						  int vm_fd,
						  struct sevmig_platform *p,
						  const struct sevmig_page_xfer *xfer,
						  uint32_t *ret_fw_error);

/**
 * sevmig_receive_finish() - KVM_SEV_RECEIVE_FINISH: RUPDATE -> RUNNING.
 *
 * Errors: the common ones.
 * Firmware: RECEIVE_FINISH: INVALID_GUEST_STATE, HWSEV_RET_UNSAFE.
 * Context: see above.
 */
SEVMIG_WARN_UNUSED int sevmig_receive_finish(struct sevmig_ctx *ctx, int vm_fd,
					     struct sevmig_platform *p,
					     uint32_t *ret_fw_error);

/* ---- certificates ---- */

/* Certificate formats. */
enum sevmig_cert_type {
	SEVMIG_CERT_SEV = 1,   /* 2084-byte SEV certificate: PDH, PEK, OCA, CEK */
	SEVMIG_CERT_AMD = 2,   /* AMD certificate: ASK, ARK */
};

/* Key usages (the formats' own codes). */
#define SEVMIG_CERT_USAGE_ARK 0x0000u
#define SEVMIG_CERT_USAGE_ASK 0x0013u
#define SEVMIG_CERT_USAGE_NONE 0x1000u  /* "invalid": an unused signature */
#define SEVMIG_CERT_USAGE_OCA 0x1001u
#define SEVMIG_CERT_USAGE_PEK 0x1002u
#define SEVMIG_CERT_USAGE_PDH 0x1003u
#define SEVMIG_CERT_USAGE_CEK 0x1004u

/* Algorithms (the SEV format's codes). */
#define SEVMIG_CERT_ALGO_RSA_SHA256   0x0001u
#define SEVMIG_CERT_ALGO_ECDSA_SHA256 0x0002u
#define SEVMIG_CERT_ALGO_ECDH_SHA256  0x0003u
#define SEVMIG_CERT_ALGO_RSA_SHA384   0x0101u
#define SEVMIG_CERT_ALGO_ECDSA_SHA384 0x0102u
#define SEVMIG_CERT_ALGO_ECDH_SHA384  0x0103u

/* Key kinds. */
enum sevmig_cert_key {
	SEVMIG_CERT_KEY_RSA = 1,
	SEVMIG_CERT_KEY_ECDSA = 2,
	SEVMIG_CERT_KEY_ECDH = 3,
};

/* Curves (the SEV format's codes). */
#define SEVMIG_CERT_CURVE_P256 1u
#define SEVMIG_CERT_CURVE_P384 2u

/**
 * struct sevmig_cert_info - what one certificate says about itself.
 *
 * @size:          in: sizeof(); out: bytes written.
 * @type:          SEVMIG_CERT_SEV or SEVMIG_CERT_AMD.
 * @version:       format version (1).
 * @usage:         SEVMIG_CERT_USAGE_*.
 * @algo:          SEV: SEVMIG_CERT_ALGO_*; AMD: 0 (the format has none).
 * @key_type:      SEVMIG_CERT_KEY_*.
 * @curve:         SEVMIG_CERT_CURVE_* for EC keys, else 0.
 * @key_bits:      EC: 256 or 384; RSA: modulus bits.
 * @pub_exp_bits:  RSA: size of the public exponent field in bits, else 0.
 * @api_major, @api_minor: SEV: firmware API that made the certificate (the
 *                 PEK's is what a target's version is judged by); AMD: 0.
 * @sig1_usage, @sig1_algo, @sig2_usage, @sig2_algo: SEV: who signed it
 *                 (usage and algorithm of each signature area; usage
 *                 SEVMIG_CERT_USAGE_NONE = unused); AMD: 0.
 * @sig_bytes:     AMD: signature bytes; SEV: significant (non-zero-padded)
 *                 bytes in signature area 1.
 * @length:        bytes the certificate occupies (2084 for SEV).
 * @key_id, @certifying_id: AMD only: the key's id and its signer's id (an
 *                 ARK has both equal). The SEV format carries no key ids:
 *                 zero there.
 */
struct sevmig_cert_info {
	uint32_t size;
	uint32_t type;
	uint32_t version;
	uint32_t usage;
	uint32_t algo;
	uint32_t key_type;
	uint32_t curve;
	uint32_t key_bits;
	uint32_t pub_exp_bits;
	uint32_t api_major;
	uint32_t api_minor;
	uint32_t sig1_usage;
	uint32_t sig1_algo;
	uint32_t sig2_usage;
	uint32_t sig2_algo;
	uint32_t sig_bytes;
	uint32_t length;
	uint32_t reserved0;
	uint8_t key_id[16];
	uint8_t certifying_id[16];
};
#define SEVMIG_CERT_INFO_SIZE_VER0 104u

/**
 * sevmig_cert_parse() - parse and structurally check one certificate.
 *
 * Accepts exactly one SEV certificate (2084 B) or one AMD certificate (64-B
 * header, public exponent, modulus, signature of 256 or 512 B). Checks the
 * version, the usage, the algorithm against the usage (a PDH is ECDH, a
 * signing key ECDSA or RSA), curve and key size, zero padding in the key and
 * signature areas, and that signature areas name plausible signers. Does
 * not verify signatures (no cryptography in libsevmig).
 *
 * @ctx:      optional context; the reason for a rejection is logged there.
 * @buf, @len: the certificate bytes.
 * @ret_info: record to fill; set ->size first.
 * @flags:    must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @buf or @ret_info, flags, record size), -E2BIG
 *         (newer record with non-zero tail), -EBADMSG (not a well-formed
 *         certificate; the log says which field).
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_cert_parse(struct sevmig_ctx *ctx,
					 const void *buf, size_t len,
					 struct sevmig_cert_info *ret_info,
					 uint32_t flags);

/**
 * struct sevmig_target_certs - a migration target's certificates.
 *
 * @size:  sizeof().
 * @flags: must be 0.
 * @pdh, @pdh_len:               target PDH (2084 B).
 * @plat_chain, @plat_chain_len: target PEK || OCA || CEK (6252 B).
 * @amd_chain, @amd_chain_len:   ASK || ARK, or NULL and 0 when not given.
 */
struct sevmig_target_certs {
	uint32_t size;
	uint32_t flags;
	const void *pdh;
	size_t pdh_len;
	const void *plat_chain;
	size_t plat_chain_len;
	const void *amd_chain;
	size_t amd_chain_len;
};
#define SEVMIG_TARGET_CERTS_SIZE_VER0 56u

/**
 * sevmig_cert_check_target() - may these certificates be given to
 * SEND_START for a guest with this policy?
 *
 * Structural checks only: sizes; each certificate well formed; usages
 * (PDH, PEK, OCA, CEK; ASK, ARK); the PDH is ECDH; each signature area names
 * the expected signer with an algorithm matching the signer's key (PDH by
 * PEK; PEK by OCA and CEK; OCA by itself; CEK by the ASK, whose modulus size
 * must match the CEK's signature); the PDH is not older than the PEK that
 * signed it; the AMD chain links (ASK.certifying_id == ARK.key_id, ARK
 * self-certified, sizes from the moduli); and the target PEK's API version
 * against the policy's minimum. The SEV format has no key ids, so a
 * well-formed certificate from another platform with the same shape cannot
 * be told apart: only the firmware's signature check (SEND_START) can.
 *
 * @ctx:         optional context; each problem is logged at ERR.
 * @target:      the certificates.
 * @policy:      the guest policy (its minimum API version is checked).
 * @ret_reasons: receives 0 or SEVMIG_REASON_TARGET_* /
 *               SEVMIG_REASON_POLICY_API_VERSION bits.
 * @return 0 (whatever the verdict) or a negative errno.
 *
 * Errors: -EINVAL (NULL @target or @ret_reasons, flags, size), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_cert_check_target(struct sevmig_ctx *ctx,
						const struct sevmig_target_certs *target,
						uint32_t policy,
						uint64_t *ret_reasons);

/* ---- guest policy ---- */

/* Guest policy bits (SEV API, 32-bit policy). */
#define SEVMIG_GUEST_POLICY_NODBG    (1u << 0)
#define SEVMIG_GUEST_POLICY_NOKS     (1u << 1)
#define SEVMIG_GUEST_POLICY_ES       (1u << 2)
#define SEVMIG_GUEST_POLICY_NOSEND   (1u << 3)
#define SEVMIG_GUEST_POLICY_DOMAIN   (1u << 4)
#define SEVMIG_GUEST_POLICY_SEV      (1u << 5)
#define SEVMIG_GUEST_POLICY_RESERVED 0x0000ffc0u  /* bits 6-15: must be 0 */

/**
 * struct sevmig_policy_info - a decoded guest policy.
 *
 * @size:      in: sizeof(); out: bytes written.
 * @policy:    the raw policy.
 * @flags:     the SEVMIG_GUEST_POLICY_* bits 0-5 that are set.
 * @reserved:  reserved bits 6-15 that are set (non-zero: invalid policy).
 * @api_major, @api_minor: minimum firmware API of any platform running it.
 */
struct sevmig_policy_info {
	uint32_t size;
	uint32_t policy;
	uint32_t flags;
	uint32_t reserved;
	uint32_t api_major;
	uint32_t api_minor;
};
#define SEVMIG_POLICY_INFO_SIZE_VER0 24u

/**
 * sevmig_policy_decode() - split a guest policy into its fields.
 *
 * @policy:   the 32-bit SEV guest policy.
 * @ret_info: record to fill; set ->size first.
 * @return 0 or a negative errno. A policy with reserved bits set decodes
 *         fine; ret_info->reserved then says which (the firmware refuses it).
 *
 * Errors: -EINVAL (NULL, size), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_policy_decode(uint32_t policy,
					    struct sevmig_policy_info *ret_info);

/**
 * sevmig_policy_bit_name() - short name of one policy bit.
 *
 * @bit: exactly one of SEVMIG_GUEST_POLICY_NODBG ... _SEV.
 * @return "NODBG", "NOKS", "ES", "NOSEND", "DOMAIN" or "SEV"; NULL for
 *         anything else (reserved bits are not named).
 *
 * Errors: none. Firmware: not reached. Context: any thread; no blocking.
 */
const char *sevmig_policy_bit_name(uint32_t bit);

/**
 * sevmig_policy_bit_describe() - one sentence on what a policy bit does.
 *
 * @bit: one bit (any of bits 0-15).
 * @return a static sentence, never NULL ("reserved: must be zero" for
 *         bits 6-15, "not a single policy bit" otherwise).
 *
 * Errors: none. Firmware: not reached. Context: any thread; no blocking.
 */
const char *sevmig_policy_bit_describe(uint32_t bit);

/**
 * struct sevmig_preflight_args - "may this guest go to that target?"
 *
 * @size:          sizeof().
 * @flags:         must be 0.
 * @policy:        the guest's policy (GUEST_STATUS reports it).
 * @guest_es:      non-zero if the guest is SEV-ES (also implied by the
 *                 policy's ES bit).
 * @our_oca, @our_oca_len: this platform's OCA (2084 B; the second
 *                 certificate of our PDH_CERT_EXPORT chain), needed when the
 *                 policy has DOMAIN; NULL and 0 otherwise.
 * @target:        the target's certificates (->size set).
 * @target_api_major, @target_api_minor: the target firmware's API version
 *                 if known (its PLATFORM_STATUS); both 0: judged by the
 *                 target PEK's version.
 */
struct sevmig_preflight_args {
	uint32_t size;
	uint32_t flags;
	uint32_t policy;
	uint32_t guest_es;
	const void *our_oca;
	size_t our_oca_len;
	const struct sevmig_target_certs *target;
	uint32_t target_api_major;
	uint32_t target_api_minor;
};
#define SEVMIG_PREFLIGHT_ARGS_SIZE_VER0 48u

/**
 * sevmig_preflight() - every reason this guest may not be sent to a target.
 *
 * Checks, without reaching the firmware, what SEND_START and RECEIVE_START
 * would refuse and what upstream KVM cannot do: NOSEND; DOMAIN needs the
 * target's OCA byte-identical to ours; SEV needs an AMD chain; SEV-ES cannot
 * cross hosts on upstream KVM (SEND/RECEIVE_UPDATE_VMSA do not exist);
 * the target's firmware API older than the policy's minimum; reserved
 * policy bits; and every certificate problem of sevmig_cert_check_target().
 *
 * @ctx:         optional context; each reason is logged at ERR.
 * @args:        policy, our OCA, target certificates.
 * @ret_reasons: receives 0 (may go) or SEVMIG_REASON_* bits, each described
 *               by sevmig_reason_string().
 * @return 0 (whatever the verdict) or a negative errno.
 *
 * Errors: -EINVAL (NULL @args, @ret_reasons or args->target, flags,
 *         sizes), -E2BIG.
 * Firmware: not reached.
 * Context: any thread; no blocking.
 */
SEVMIG_WARN_UNUSED int sevmig_preflight(struct sevmig_ctx *ctx,
					const struct sevmig_preflight_args *args,
					uint64_t *ret_reasons);

/* ======================================================================
 * VM handle, feature negotiation and exit handling
 * ====================================================================== */

/*
 * A VM handle borrows the VMM's descriptors (never closes them) and holds the
 * SEV migration state of one VM: the RAM map the VMM registers, the value of
 * MSR_KVM_MIGRATION_CONTROL, the host policy, and the page-state tracker fed
 * by KVM_HC_MAP_GPA_RANGE exits. Order of calls, on source and destination
 * alike, before the first KVM_RUN (docs/integration.md):
 *
 *   sevmig_vm_new() -> sevmig_vm_ram_add() per RAM region
 *   -> sevmig_vm_enable_exits() -> sevmig_vm_set_msr_filter()
 *   -> sevmig_vm_cpuid_apply() on the CPUID table, then KVM_SET_CPUID2
 *   -> run vCPUs, forwarding exits to sevmig_vm_handle_exit().
 */

/** A VM's SEV migration state. Opaque. */
struct sevmig_vm;

/* Reasons sevmig_vm_readiness() gives (with SEVMIG_REASON_POLICY_NOSEND). */
#define SEVMIG_REASON_NOT_NEGOTIATED   (UINT64_C(1) << 32)
#define SEVMIG_REASON_HOST_POLICY_DENY (UINT64_C(1) << 33)
#define SEVMIG_REASON_GUEST_NOT_READY  (UINT64_C(1) << 34)
#define SEVMIG_REASON_TRACKING_LOST    (UINT64_C(1) << 35)

/* Host (operator) policy: the host userspace's say in the negotiation. */
enum sevmig_host_policy {
	/* Offer the features; migrate once the guest writes READY. */
	SEVMIG_HOST_POLICY_ALLOW = 1,
	/* Do not offer the features: the guest never sees them; no migration. */
	SEVMIG_HOST_POLICY_DENY = 2,
	/*
	 * Offer the features and treat the guest as ready even if it never
	 * writes READY. For EFI-booted Linux guests with upstream OVMF, which
	 * never sets the UEFI variable the guest waits for. Safe only when the
	 * guest reports every shared page through KVM_HC_MAP_GPA_RANGE (Linux
	 * does, from early boot, whenever CPUID bit 17 is set) - see
	 * docs/integration.md.
	 */
	SEVMIG_HOST_POLICY_OVERRIDE_READY = 3,
};

/**
 * struct sevmig_vm_opts - how a VM handle is built.
 *
 * @size:        sizeof(struct sevmig_vm_opts).
 * @flags:       must be 0.
 * @vm_fd:       the VM's descriptor (borrowed).
 * @phys_bits:   guest physical address width in bits (CPUID 0x80000008
 *               EAX[7:0] minus the C-bit reduction); 0 means 52. Bounds the
 *               page-state tracker.
 * @host_policy: SEVMIG_HOST_POLICY_*; 0 means ALLOW.
 * @reserved0:   must be 0.
 */
struct sevmig_vm_opts {
	uint32_t size;
	uint32_t flags;
	int32_t vm_fd;
	uint32_t phys_bits;
	uint32_t host_policy;
	uint32_t reserved0;
};
#define SEVMIG_VM_OPTS_SIZE_VER0 24u

/**
 * sevmig_vm_new() - create the handle for one VM.
 *
 * @ctx:    the context; must outlive the VM handle.
 * @opts:   options (required: vm_fd).
 * @ret_vm: receives the handle.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, negative vm_fd, phys_bits outside
 *         32..52, unknown host policy), -E2BIG (newer record with non-zero
 *         tail), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread. The handle may then be used from many threads as
 *          each function documents.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_new(struct sevmig_ctx *ctx,
				     const struct sevmig_vm_opts *opts,
				     struct sevmig_vm **ret_vm);

/**
 * sevmig_vm_free() - free a VM handle. NULL is ignored. Closes nothing.
 *
 * @vm: the handle.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @vm during or after the call.
 */
void sevmig_vm_free(struct sevmig_vm *vm);

/**
 * sevmig_vm_tracker() - the VM's page-state tracker.
 *
 * The tracker the hypercall exits feed (sevmig_tracker_*): the migration
 * loop reads it run by run, syncs the changed ranges and encodes it for the
 * stream; a destination decodes the source's set into it. It belongs to the
 * VM handle: do not free it.
 *
 * @vm: the handle.
 * @return the tracker, or NULL when @vm is NULL.
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; the tracker itself is thread-safe.
 */
struct sevmig_tracker *sevmig_vm_tracker(struct sevmig_vm *vm);

/**
 * sevmig_vm_ram_add() - register a guest RAM region.
 *
 * Hypercall ranges are applied only where they cover registered RAM (guest
 * firmware reports MMIO too). Call as memslots are created.
 *
 * @vm:    the handle.
 * @gpa:   guest physical start, 4 KiB aligned.
 * @size:  bytes, a non-zero multiple of 4 KiB.
 * @hva:   where the VMM maps the region (used to send and receive pages);
 *         may be NULL for a region the VMM never migrates through us.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (alignment, zero size, flags, beyond phys_bits, wrap),
 *         -EEXIST (overlaps a registered region), -ENOSPC (more than 4096
 *         regions).
 * Firmware: not reached.
 * Context: any thread; serialised against exit handling by an internal
 *          lock held for O(regions).
 */
SEVMIG_WARN_UNUSED int sevmig_vm_ram_add(struct sevmig_vm *vm, uint64_t gpa,
					 uint64_t size, void *hva,
					 uint32_t flags);

/**
 * sevmig_vm_ram_remove() - unregister a RAM region added before.
 *
 * @vm:    the handle.
 * @gpa:   the region's start, exactly as added.
 * @size:  the region's size, exactly as added.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags), -ENOENT (no region with that start and size).
 * Firmware: not reached.
 * Context: any thread; as sevmig_vm_ram_add().
 */
SEVMIG_WARN_UNUSED int sevmig_vm_ram_remove(struct sevmig_vm *vm, uint64_t gpa,
					    uint64_t size, uint32_t flags);

/**
 * sevmig_vm_enable_exits() - make KVM forward what the migration needs.
 *
 * Enables KVM_CAP_EXIT_HYPERCALL with the KVM_HC_MAP_GPA_RANGE bit and
 * KVM_CAP_X86_USER_SPACE_MSR with the FILTER reason. Both ioctls replace the
 * VM's previous value, so pass the bits the VMM enables itself: they are
 * merged in. Call before the first KVM_RUN, on source and destination.
 *
 * @vm:                 the handle.
 * @vmm_hypercall_mask: hypercall exit bits the VMM wants too (usually 0).
 * @vmm_msr_reasons:    KVM_MSR_EXIT_REASON_* bits the VMM wants too.
 * @flags:              must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags; or the kernel rejected a bit), -EOPNOTSUPP (the
 *         kernel lacks the capability: see sevmig_host_probe()), other
 *         errno from KVM_ENABLE_CAP. On failure the features are not offered.
 * Firmware: not reached.
 * Context: the VMM's setup thread, before vCPUs run.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_enable_exits(struct sevmig_vm *vm,
					      uint64_t vmm_hypercall_mask,
					      uint32_t vmm_msr_reasons,
					      uint32_t flags);

/**
 * sevmig_vm_set_msr_filter() - install the VM's MSR filter with our range.
 *
 * A VM has one MSR filter, replaced whole by each KVM_X86_SET_MSR_FILTER.
 * With @vmm_filter NULL the filter holds only our range (one MSR,
 * 0x4b564d08, READ and WRITE routed to userspace) and allows everything
 * else. Otherwise @vmm_filter points to the VMM's filter in the kernel's
 * struct kvm_msr_filter layout (392 bytes: u32 flags, u32 pad, 16 ranges of
 * {u32 flags, u32 nmsrs, u32 base, u32 pad, u8 *bitmap}); our range is added
 * in the first free slot and the result installed. The VMM's struct is not
 * modified. Requires sevmig_vm_enable_exits() first (the FILTER exit reason
 * must be on before a filter is installed).
 *
 * @vm:         the handle.
 * @vmm_filter: the VMM's filter, or NULL.
 * @flags:      must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags; a VMM range already covering 0x4b564d08 with the
 *         access allowed, or with zero flags), -ENOSPC (all 16 ranges used),
 *         -EPROTO (sevmig_vm_enable_exits() not done), errno from the ioctl.
 * Firmware: not reached.
 * Context: the VMM's setup thread. Call again whenever the VMM changes its
 *          filter, passing its new filter.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_set_msr_filter(struct sevmig_vm *vm,
						const void *vmm_filter,
						uint32_t flags);

/**
 * sevmig_vm_cpuid_apply() - set or clear the migration feature bits.
 *
 * @kvm_cpuid2 points to the VMM's CPUID table in the kernel's struct
 * kvm_cpuid2 layout (u32 nent, u32 padding, then nent entries of 40 bytes:
 * function, index, flags, eax, ebx, ecx, edx, padding[3]), as it will be
 * passed to KVM_SET_CPUID2. Every KVM leaf (a base 0x40000000 + k*0x100
 * whose EBX:ECX:EDX read "KVMKVMKVM") gets EAX bits 16
 * (KVM_FEATURE_HC_MAP_GPA_RANGE) and 17 (KVM_FEATURE_MIGRATION_CONTROL) in
 * its features leaf set only when the hypercall exit and the MSR filter are
 * really in place on this VM and the host policy is not DENY; otherwise both
 * bits are cleared. The handle records whether the features were offered:
 * exits for a feature not offered are refused as the guest ABI says.
 *
 * @vm:         the handle.
 * @kvm_cpuid2: the table, modified in place.
 * @flags:      must be 0.
 * @return 1 if the features are offered, 0 if cleared, or a negative errno.
 *
 * Errors: -EINVAL (NULL, flags, nent above 256), -ENOENT (no KVM signature
 *         leaf or no features leaf: the guest cannot see KVM features).
 * Firmware: not reached.
 * Context: the VMM's setup thread, before KVM_SET_CPUID2 on each vCPU.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_cpuid_apply(struct sevmig_vm *vm,
					     void *kvm_cpuid2, uint32_t flags);

/* Results of sevmig_vm_handle_exit(). */
enum sevmig_exit_result {
	SEVMIG_EXIT_HANDLED = 1,	/* answered in kvm_run: re-enter */
	SEVMIG_EXIT_NOT_OURS = 2,	/* the VMM handles this exit */
};

/**
 * sevmig_vm_handle_exit() - handle a vCPU exit if it belongs to migration.
 *
 * Takes the vCPU's mmap'ed struct kvm_run after KVM_RUN returned. Handles:
 * KVM_EXIT_X86_RDMSR/WRMSR on MSR_KVM_MIGRATION_CONTROL (READY bit 0;
 * reserved bits or any access while the feature was not offered inject #GP
 * through msr.error) and KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE (see
 * sevmig_vm_map_gpa_range(); hypercall.ret is always written). Everything
 * else is SEVMIG_EXIT_NOT_OURS, untouched.
 *
 * @vm:      the handle.
 * @kvm_run: the vCPU's struct kvm_run (2352 bytes, kernel layout).
 * @flags:   must be 0.
 * @return SEVMIG_EXIT_HANDLED, SEVMIG_EXIT_NOT_OURS, or a negative errno
 *         (-EINVAL for NULL or flags; guest errors are answered to the guest
 *         and are not errors of this call).
 *
 * Firmware: not reached.
 * Context: any vCPU thread, many at once. Never blocks for long: updates are
 *          O(log n) under the tracker's lock.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_handle_exit(struct sevmig_vm *vm,
					     void *kvm_run, uint32_t flags);

/* sevmig_vm_map_gpa_range() flags. */
#define SEVMIG_MAP_GPA_F_LONG_MODE 0x1u  /* a 64-bit call (hypercall.flags bit 0) */

/**
 * sevmig_vm_map_gpa_range() - apply one KVM_HC_MAP_GPA_RANGE call.
 *
 * For VMMs that receive the hypercall some other way (an SEV-ES GHCB
 * handler, a test). Validates what KVM does not: attribute bits 63:5 zero,
 * page-size code 0..2 (only a preference: @npages always counts 4 KiB
 * pages), npages >= 1, @gpa page-aligned, no overflow of gfn + npages or of
 * npages << 12; a call without SEVMIG_MAP_GPA_F_LONG_MODE has its arguments
 * truncated to 32 bits first, as the CPU would. Then applies the range to
 * the page-state tracker: bit 4 of @attrs set means encrypted (private),
 * clear means shared. Only the parts that cover registered RAM are applied;
 * the rest (firmware reports MMIO) is ignored without failing the guest.
 *
 * @vm:      the handle.
 * @gpa:     hypercall argument a0.
 * @npages:  a1.
 * @attrs:   a2.
 * @flags:   SEVMIG_MAP_GPA_F_*.
 * @ret_hc:  receives the value for the guest's RAX (hypercall.ret): 0,
 *           (uint64_t)-22 (KVM_EINVAL) for invalid arguments, or
 *           (uint64_t)-1000 (KVM_ENOSYS) when the feature was not offered
 *           (nothing is recorded then).
 * @return 0 (the guest's answer is in *ret_hc) or a negative errno:
 *         -EINVAL (NULL @vm/@ret_hc, unknown flags), or the tracker's error
 *         (-ENOMEM): the guest is then answered KVM_EINVAL and the VM is
 *         marked SEVMIG_REASON_TRACKING_LOST for good, because a page
 *         state it failed to record would migrate wrongly.
 *
 * Firmware: not reached.
 * Context: any vCPU thread, many at once.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_map_gpa_range(struct sevmig_vm *vm,
					       uint64_t gpa, uint64_t npages,
					       uint64_t attrs, uint32_t flags,
					       uint64_t *ret_hc);

/* MSR_KVM_MIGRATION_CONTROL bits. */
#define SEVMIG_MIGRATION_CONTROL_READY 0x1u

/**
 * sevmig_vm_migration_control() - read the guest's MSR_KVM_MIGRATION_CONTROL.
 *
 * @vm:      the handle.
 * @ret_val: receives the value (0 or SEVMIG_MIGRATION_CONTROL_READY).
 * @return 0 or -EINVAL (NULL argument).
 *
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_migration_control(struct sevmig_vm *vm,
						   uint64_t *ret_val);

/**
 * sevmig_vm_set_migration_control() - restore the MSR value on a destination.
 *
 * The value is VM state that migrates with the guest; the destination
 * restores it before the first KVM_RUN.
 *
 * @vm:    the handle.
 * @val:   0 or SEVMIG_MIGRATION_CONTROL_READY.
 * @flags: must be 0.
 * @return 0 or -EINVAL (flags, reserved bits in @val).
 *
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_set_migration_control(struct sevmig_vm *vm,
						       uint64_t val,
						       uint32_t flags);

/**
 * sevmig_vm_firmware_shared_add() - declare a range that stays shared on reset.
 *
 * Some ranges are shared by the platform itself, not by the guest (e.g. a
 * firmware area the VMM sets up shared): they survive sevmig_vm_reset().
 *
 * @vm:    the handle.
 * @gpa:   start, 4 KiB aligned.
 * @size:  bytes, a non-zero multiple of 4 KiB.
 * @flags: must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (alignment, size, flags), -ENOSPC (more than 64 ranges).
 * Firmware: not reached.
 * Context: the VMM's setup thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_firmware_shared_add(struct sevmig_vm *vm,
						     uint64_t gpa, uint64_t size,
						     uint32_t flags);

/**
 * sevmig_vm_reset() - the VM was reset (not kexec: that has no reset).
 *
 * MSR_KVM_MIGRATION_CONTROL returns to 0 (migration blocked until the guest
 * says READY again) and the page state to all-private, except the ranges
 * declared with sevmig_vm_firmware_shared_add(). Call while the vCPUs are
 * stopped, before the reset VM runs again.
 *
 * @vm:    the handle.
 * @flags: must be 0.
 * @return 0 or -EINVAL.
 *
 * Firmware: not reached.
 * Context: any thread, with the vCPUs stopped.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_reset(struct sevmig_vm *vm, uint32_t flags);

/**
 * sevmig_vm_set_guest_policy() - tell the handle the guest's SEV policy.
 *
 * Used by sevmig_vm_readiness() (NOSEND forbids migration). The policy is
 * what LAUNCH_START was given, or what GUEST_STATUS reports.
 *
 * @vm:     the handle.
 * @policy: the 32-bit SEV guest policy.
 * @flags:  must be 0.
 * @return 0 or -EINVAL.
 *
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_set_guest_policy(struct sevmig_vm *vm,
						  uint32_t policy,
						  uint32_t flags);

/**
 * sevmig_vm_readiness() - may this VM migrate now?
 *
 * @vm:          the handle.
 * @ret_reasons: receives 0 (yes) or SEVMIG_REASON_* bits: the features were
 *               not negotiated (kernel capability missing or plumbing not
 *               done), the host policy denies, the guest has not written
 *               READY (or wrote 0 again on reboot, kexec or CPU offline),
 *               the guest policy forbids sending (NOSEND).
 * @flags:       must be 0.
 * @return 0 or -EINVAL.
 *
 * Firmware: not reached.
 * Context: any thread; the answer can change as soon as a vCPU runs.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_readiness(struct sevmig_vm *vm,
					   uint64_t *ret_reasons,
					   uint32_t flags);

/**
 * sevmig_vcpu_complete_pending() - finish an exit the kernel still holds.
 *
 * KVM completes a hypercall or MSR exit only at the next KVM_RUN; the
 * pending state is invisible and would be lost (or the VMMCALL replayed on
 * the destination) if vCPU state were saved now. This re-enters the vCPU
 * with immediate_exit = 1: KVM completes the exit (writing hypercall.ret or
 * the RDMSR data into the guest) and returns -EINTR without running guest
 * code. Call on every stopped vCPU before saving its state.
 *
 * @ctx:     the context.
 * @vcpu_fd: the vCPU's descriptor (borrowed).
 * @kvm_run: its mmap'ed struct kvm_run; immediate_exit is restored to 0.
 * @flags:   must be 0.
 * @return 0 or a negative errno from KVM_RUN other than EINTR.
 *
 * Errors: -EINVAL (NULL, flags, negative fd), -EIO (the VM is dead), other
 *         errno from KVM_RUN.
 * Firmware: not reached.
 * Context: the vCPU's own thread (or any thread while it is stopped).
 */
SEVMIG_WARN_UNUSED int sevmig_vcpu_complete_pending(struct sevmig_ctx *ctx,
						    int vcpu_fd, void *kvm_run,
						    uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_SEVMIG_H */
