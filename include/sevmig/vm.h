/* SPDX-License-Identifier: MIT */
/*
 * libsevmig VM handle: one VM's SEV migration state, feature negotiation
 * and exit handling. Conventions: <sevmig/common.h>.
 */
#ifndef SEVMIG_VM_H
#define SEVMIG_VM_H

#include <stdint.h>

#include <sevmig/common.h>
#include <sevmig/psp.h>
#include <sevmig/tracker.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A VM handle is the one identity of one VM in libsevmig. It borrows the
 * VMM's VM descriptor and, for firmware commands, its SEV platform object
 * (never closes either), and holds the SEV migration state of the VM: the
 * RAM map the VMM registers, the value of MSR_KVM_MIGRATION_CONTROL, the
 * host and guest policy, the page-state tracker fed by KVM_HC_MAP_GPA_RANGE
 * exits, and the VM's lifecycle state. Everything that acts on a VM takes
 * the handle. Order of calls, on source and destination alike, before the
 * first KVM_RUN (docs/integration.md):
 *
 *   sevmig_vm_new() -> sevmig_vm_ram_add() per RAM region
 *   -> sevmig_vm_enable_exits() -> sevmig_vm_set_msr_filter()
 *   -> sevmig_vm_cpuid_apply() on the CPUID table, then KVM_SET_CPUID2
 *   -> run vCPUs, forwarding exits to sevmig_vm_handle_exit().
 */

/** A VM's SEV migration state. Opaque. */
struct sevmig_vm;

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

/* struct sevmig_vm_opts.vm_type: the KVM_CREATE_VM type of the VM. */
enum sevmig_vm_type {
	SEVMIG_VM_TYPE_DEFAULT = 1,	/* KVM_X86_DEFAULT_VM (0): SEV set up by
					   KVM_SEV_INIT or KVM_SEV_ES_INIT */
	SEVMIG_VM_TYPE_SEV = 2,		/* KVM_X86_SEV_VM (2), KVM_SEV_INIT2 */
	SEVMIG_VM_TYPE_SEV_ES = 3,	/* KVM_X86_SEV_ES_VM (3), KVM_SEV_INIT2 */
	SEVMIG_VM_TYPE_SNP = 4,		/* KVM_X86_SNP_VM (4) */
};

/* struct sevmig_vm_opts.sev_type: the VM's SEV encryption context. */
enum sevmig_sev_type {
	SEVMIG_SEV_TYPE_NONE = 1,	/* no context (yet): no INIT was done */
	SEVMIG_SEV_TYPE_SEV = 2,	/* an SEV guest */
	SEVMIG_SEV_TYPE_SEV_ES = 3,	/* an SEV-ES guest (policy bit ES) */
	SEVMIG_SEV_TYPE_SNP = 4,	/* an SEV-SNP guest */
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
 * @platform:    the SEV platform (/dev/sev) object the VM was or will be
 *               started with (borrowed; must outlive the handle), or NULL
 *               for a handle that does no firmware commands (negotiation
 *               and page tracking work without it).
 * @vm_type:     SEVMIG_VM_TYPE_*: the type the VMM passed to KVM_CREATE_VM;
 *               0 means not said. KVM moves an encryption context only
 *               between VMs of the same type (<sevmig/move.h>).
 * @sev_type:    SEVMIG_SEV_TYPE_*: the VM's SEV encryption context as it
 *               stands now (NONE for a fresh move or mirror destination);
 *               0 means not said: the handle then asks the firmware
 *               (GUEST_STATUS through @platform) when it needs to know.
 */
struct sevmig_vm_opts {
	uint32_t size;
	uint32_t flags;
	int32_t vm_fd;
	uint32_t phys_bits;
	uint32_t host_policy;
	uint32_t reserved0;
	struct sevmig_platform *platform;
	uint32_t vm_type;
	uint32_t sev_type;
};
#define SEVMIG_VM_OPTS_SIZE_VER0 40u

/**
 * sevmig_vm_new() - create the handle for one VM.
 *
 * @ctx:    the context; must outlive the VM handle.
 * @opts:   options (required: vm_fd).
 * @ret_vm: receives the handle.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, negative vm_fd, phys_bits outside
 *         32..52, unknown host policy, unknown vm_type or sev_type, or a
 *         sev_type the vm_type cannot hold, e.g. SEV-ES on a type SEV VM),
 *         -E2BIG (newer record with non-zero tail), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread. The handle may then be used from many threads as
 *          each function documents.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_new(struct sevmig_ctx *ctx,
				     const struct sevmig_vm_opts *opts,
				     struct sevmig_vm **ret_vm);

/**
 * sevmig_vm_free() - free a VM handle. NULL is ignored.
 *
 * Closes no borrowed descriptor; only the VM descriptor of a mirror that
 * libsevmig created (sevmig_vm_mirror_create()). A primary freed with
 * mirrors attached leaves them unable to run (<sevmig/move.h>).
 *
 * @vm: the handle.
 *
 * Errors: none. Firmware: not reached.
 * Context: no other thread may use @vm during or after the call.
 */
void sevmig_vm_free(struct sevmig_vm *vm);

/*
 * Lifecycle. A handle starts LIVE. The migration layers move it on and
 * refuse what a state forbids: a guest that was sent (SEND_FINISH) or whose
 * encryption context moved to another VM must never run again, because its
 * memory would diverge from the copy that now runs elsewhere.
 *
 *   LIVE -> SENDING -> SENT            cross-host source, after SEND_FINISH
 *           SENDING -> LIVE            the migration was cancelled
 *   LIVE -> MOVED                      intra-host source, after the move
 *   INCOMING -> LIVE                   destination, after RECEIVE_FINISH
 *   any  -> DEAD                       torn down, or the kernel said so
 */
enum sevmig_vm_state {
	SEVMIG_VM_LIVE = 1,	/* may run */
	SEVMIG_VM_SENDING = 2,	/* a send session is open; runs until its end */
	SEVMIG_VM_SENT = 3,	/* SEND_FINISH done: never runs again */
	SEVMIG_VM_MOVED = 4,	/* context moved to another VM: never runs */
	SEVMIG_VM_DEAD = 5,	/* torn down: never runs */
	SEVMIG_VM_INCOMING = 6,	/* being received: runs only after the commit */
};

/**
 * sevmig_vm_state() - the VM's lifecycle state.
 *
 * @vm:        the handle.
 * @ret_state: receives SEVMIG_VM_*.
 * @return 0 or -EINVAL (NULL argument).
 *
 * Errors: -EINVAL. Firmware: not reached.
 * Context: any thread; the answer can change as soon as another thread
 *          moves the migration on.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_state(struct sevmig_vm *vm,
				       uint32_t *ret_state);

/**
 * sevmig_vm_state_name() - the name of a lifecycle state.
 *
 * @state: SEVMIG_VM_*.
 * @return a static string such as "live" or "sent", never NULL ("unknown"
 *         for a value that is not a state).
 *
 * Errors: none. Firmware: not reached.
 * Context: any thread; no blocking.
 */
const char *sevmig_vm_state_name(uint32_t state);

/**
 * sevmig_vm_guest_status() - the firmware's view of this VM's guest.
 *
 * KVM_SEV_GUEST_STATUS through the platform the handle was given: handle,
 * policy and firmware state. A source that still runs is RUNNING, a source
 * after SEND_FINISH is SENT.
 *
 * @vm:           the handle; it must have been given a platform.
 * @ret_status:   record to fill; set ->size first.
 * @ret_fw_error: optional; firmware status when it refused.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, record size), -E2BIG (newer record with
 *         a non-zero tail), -ENODEV (the handle has no platform), -ESTALE
 *         (the VM was moved away or torn down: it has no guest any more),
 *         and the common errors of the raw guest commands (psp.h).
 * Firmware: GUEST_STATUS; INVALID_GUEST when the handle KVM holds is no
 *         longer a guest of the firmware. A VM that had KVM_SEV_INIT but no
 *         guest started yet (no LAUNCH_START or RECEIVE_START) answers
 *         -EBADF: KVM has no /dev/sev descriptor for it until then; a VM
 *         that never had KVM_SEV_INIT answers -ENOTTY.
 * Context: any thread; blocks for one PSP command.
 */
SEVMIG_WARN_UNUSED int
sevmig_vm_guest_status(struct sevmig_vm *vm,
		       struct sevmig_guest_status *ret_status,
		       uint32_t *ret_fw_error);

/**
 * sevmig_vm_tracker() - the VM's page-state tracker.
 *
 * The tracker the hypercall exits feed (sevmig_tracker_*): the migration
 * loop reads it run by run, syncs the changed ranges and encodes it for the
 * stream; a destination decodes the source's set into it. It belongs to the
 * VM handle: do not free it. An intra-host move (sevmig_vm_move_from())
 * hands the source's tracker object to the destination handle: ask again
 * after a move.
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
 *         regions), -EBUSY (a migration session is open on this VM: its
 *         RAM map cannot change), -ENOMEM.
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
 * Errors: -EINVAL (flags), -ENOENT (no region with that start and size),
 *         -EBUSY (a migration session is open on this VM).
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
 * Errors: -EINVAL (NULL, flags), -ENOMEM (a MAP_GPA_RANGE the page-state
 *         tracker could not record, as for sevmig_vm_map_gpa_range(): the
 *         guest was answered, the VM is TRACKING_LOST).
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
 * Errors: -EINVAL (NULL @vm or @ret_hc, unknown flags), -ENOMEM (the
 *         page-state tracker could not record the range).
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
 * Errors: -EINVAL. Firmware: not reached.
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
 * Errors: -EINVAL. Firmware: not reached.
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
 * Errors: -EINVAL (alignment, size, flags), -ENOSPC (more than 64 ranges),
 *         -ENOMEM (the page-state tracker could not mark it shared; nothing
 *         was added).
 * Firmware: not reached.
 * Context: the VMM's setup thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_firmware_shared_add(struct sevmig_vm *vm,
						     uint64_t gpa,
						     uint64_t size,
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
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags), -ENOMEM (the page-state tracker could not be
 *         reset: the VM is marked SEVMIG_REASON_TRACKING_LOST).
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
 * Errors: -EINVAL (flags). Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_set_guest_policy(struct sevmig_vm *vm,
						  uint32_t policy,
						  uint32_t flags);

/**
 * sevmig_vm_readiness() - may this VM migrate now?
 *
 * Each piece of the negotiation that is missing has its own reason, so an
 * operator sees which one: the exits (sevmig_vm_enable_exits() not done or
 * failed: EXITS_NOT_ENABLED), the MSR filter (not installed, or its last
 * reinstall failed: MSR_FILTER_MISSING), the CPUID offer
 * (sevmig_vm_cpuid_apply() not called, or called before the plumbing was in
 * place: CPUID_NOT_OFFERED), the host policy (HOST_POLICY_DENY), the guest
 * (no READY yet, or 0 written again on reboot, kexec or CPU offline:
 * GUEST_NOT_READY), the guest policy (POLICY_NOSEND), a page-state change
 * that could not be recorded (TRACKING_LOST), a handle whose lifecycle
 * state is not LIVE (VM_NOT_LIVE), and a mirror VM (IS_MIRROR), which
 * shares its primary's context and never migrates itself.
 *
 * @vm:          the handle.
 * @ret_reasons: receives 0 (yes) or SEVMIG_REASON_* bits.
 * @flags:       must be 0.
 * @return 0 or -EINVAL (NULL argument, flags).
 *
 * Errors: -EINVAL. Firmware: not reached.
 * Context: any thread; the answer can change as soon as a vCPU runs.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_readiness(struct sevmig_vm *vm,
					   uint64_t *ret_reasons,
					   uint32_t flags);

/**
 * sevmig_vm_complete_pending() - finish an exit the kernel still holds.
 *
 * KVM completes a hypercall or MSR exit only at the next KVM_RUN; the
 * pending state is invisible and would be lost (or the VMMCALL replayed on
 * the destination) if vCPU state were saved now. This re-enters the vCPU
 * with immediate_exit = 1: KVM completes the exit (writing hypercall.ret or
 * the RDMSR data into the guest) and returns -EINTR without running guest
 * code. Call on every stopped vCPU before saving its state.
 *
 * @vm:      the handle of the vCPU's VM.
 * @vcpu_fd: the vCPU's descriptor (borrowed).
 * @kvm_run: its mmap'ed struct kvm_run; immediate_exit is restored to 0.
 * @flags:   must be 0.
 * @return 0 or a negative errno from KVM_RUN other than EINTR.
 *
 * Errors: -EINVAL (NULL, flags, negative fd), -ESTALE (the handle is
 *         SENT, MOVED or DEAD: its vCPUs must not enter KVM_RUN again),
 *         -EIO (the kernel considers the VM dead), other errno from KVM_RUN.
 * Firmware: not reached.
 * Context: the vCPU's own thread (or any thread while it is stopped).
 */
SEVMIG_WARN_UNUSED int sevmig_vm_complete_pending(struct sevmig_vm *vm,
						  int vcpu_fd, void *kvm_run,
						  uint32_t flags);

/*
 * vCPUs and pausing. The library never runs a vCPU; it must know which vCPUs
 * exist and when none of them is inside KVM_RUN: the final pass of a
 * migration and an intra-host move happen only then, and a guest that must
 * never run again is refused its resume. A VMM registers each vCPU once
 * (after KVM_CREATE_VCPU and mmap of its kvm_run), calls sevmig_vm_pause()
 * after it stopped all vCPU threads, and sevmig_vm_resume() before it lets
 * them enter KVM_RUN again.
 */

/**
 * sevmig_vm_vcpu_add() - register one vCPU of this VM.
 *
 * @vm:      the handle.
 * @vcpu_fd: the vCPU's descriptor (borrowed, never closed by libsevmig).
 * @kvm_run: its mmap'ed struct kvm_run (used to complete pending exits).
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @kvm_run, negative fd, flags), -EEXIST (already
 *         registered), -ENOSPC (more than 1024 vCPUs), -ENOMEM.
 * Firmware: not reached.
 * Context: any thread; serialized with pause and resume by the handle.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_vcpu_add(struct sevmig_vm *vm, int vcpu_fd,
					  void *kvm_run, uint32_t flags);

/**
 * sevmig_vm_vcpu_remove() - forget a vCPU registered before (hot-unplug).
 *
 * @vm:      the handle.
 * @vcpu_fd: the descriptor given to sevmig_vm_vcpu_add().
 * @flags:   must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (flags), -ENOENT (not registered).
 * Firmware: not reached.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_vcpu_remove(struct sevmig_vm *vm, int vcpu_fd,
					     uint32_t flags);

/**
 * sevmig_vm_vcpu_count() - number of registered vCPUs.
 *
 * @vm:        the handle.
 * @ret_count: receives the count.
 * @return 0 or -EINVAL (NULL argument).
 *
 * Errors: -EINVAL. Firmware: not reached. Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_vcpu_count(struct sevmig_vm *vm,
					    uint32_t *ret_count);

/**
 * sevmig_vm_pause() - the VMM has stopped every vCPU of this VM.
 *
 * Call after every vCPU thread left KVM_RUN and will not enter it again
 * until sevmig_vm_resume(). Completes each registered vCPU's pending exit
 * (sevmig_vm_complete_pending()), so no MAP_GPA_RANGE or MSR write is lost
 * or replayed, and marks the handle paused. Pausing a paused VM is a no-op.
 *
 * @vm:    the handle.
 * @flags: must be 0.
 * @return 0 or a negative errno; on error the handle is not paused.
 *
 * Errors: -EINVAL (flags), -ESTALE (the VM is sent, moved or dead: it has
 *         nothing to pause), and the errors of sevmig_vm_complete_pending().
 * Firmware: not reached.
 * Context: the VMM's control thread, with every vCPU thread stopped.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_pause(struct sevmig_vm *vm, uint32_t flags);

/**
 * sevmig_vm_resume() - may the VMM let its vCPUs run again?
 *
 * Clears the paused mark when the guest may run here. A guest that was sent
 * (SEND_FINISH), moved away or torn down must never run again, because its
 * memory would diverge from the copy that runs elsewhere; a guest being
 * received may run only after the commit. Those are refused, and the VMM
 * must then not enter KVM_RUN.
 *
 * @vm:    the handle.
 * @flags: must be 0.
 * @return 0 (run the vCPUs) or a negative errno (do not).
 *
 * Errors: -EINVAL (flags), -ESTALE (state SENT, MOVED or DEAD; the log says
 *         which), -EBUSY (state INCOMING: the migration has not committed;
 *         or sevmig_send_commit() is running: it may end in SEND_FINISH).
 * Firmware: not reached.
 * Context: the VMM's control thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_resume(struct sevmig_vm *vm, uint32_t flags);

/**
 * sevmig_vm_paused() - is the handle marked paused?
 *
 * @vm:         the handle.
 * @ret_paused: receives 1 when paused, 0 when not.
 * @return 0 or -EINVAL (NULL argument).
 *
 * Errors: -EINVAL. Firmware: not reached. Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_paused(struct sevmig_vm *vm,
					uint32_t *ret_paused);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_VM_H */
