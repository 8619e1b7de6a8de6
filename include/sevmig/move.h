/* SPDX-License-Identifier: MIT */
/*
 * libsevmig intra-host moves, mirror VMs and source teardown, on VM handles
 * (<sevmig/vm.h>). Conventions: <sevmig/common.h>. Guide: docs/move.md.
 */
#ifndef SEVMIG_MOVE_H
#define SEVMIG_MOVE_H

#include <stdint.h>

#include <sevmig/common.h>
#include <sevmig/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Intra-host move. KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM hands a running SEV or
 * SEV-ES guest's encryption context (ASID, firmware handle, pinned regions,
 * for SEV-ES every vCPU's encrypted state) from one VM to another VM of the
 * same host, without a firmware command: the only way to migrate an SEV-ES
 * guest on upstream KVM, used for VMM upgrades. KVM then considers the
 * source dead: every later ioctl on it (and its vCPUs) answers EIO on
 * kernels up to about 6.16, and on later kernels the source can at least
 * never enter its guest again. libsevmig does not rely on either: the
 * source handle goes to SEVMIG_VM_MOVED and refuses to run.
 *
 * What KVM does not move is libsevmig's to carry: the destination handle
 * takes the source's page-state tracker (the object itself changes hands,
 * see sevmig_vm_move_from()), its MSR_KVM_MIGRATION_CONTROL value and its
 * guest policy. What the VMM must carry itself: memslots, CPUID, the MSR
 * filter and exits of the destination (configure it as the source was,
 * docs/integration.md), and for plain SEV the vCPU registers, which it must
 * read from the source BEFORE the move (afterwards the source answers EIO).
 */

/**
 * sevmig_vm_move_check() - may @src's encryption context move into @dst now?
 *
 * The verdict sevmig_vm_move_from() applies before it asks KVM; every rule
 * broken has its own reason bit (SEVMIG_REASON_*), in KVM's order first:
 * SAME_VM (the two handles are one VM), DEST_NOT_LIVE and SOURCE_NOT_LIVE
 * (a handle is sent, moved, dead, or in a cross-host migration), IS_MIRROR
 * (either VM is a mirror) and HAS_MIRRORS (the source has mirrors), SNP
 * (either VM is SEV-SNP: KVM would not carry its context), VM_TYPE_MISMATCH
 * (both vm_types known and different), DEST_HAS_CONTEXT (the destination
 * already has an SEV context), SOURCE_NOT_SEV (the source has none),
 * SEV_TYPE_UNKNOWN (the library cannot tell SEV, SEV-ES and SNP apart for
 * the source), PHYS_BITS_MISMATCH (the tracker cannot be handed over),
 * VCPUS_RUNNING (a handle with registered vCPUs is not paused) and
 * ES_VCPU_COUNT (an SEV-ES source with registered vCPUs and a destination
 * with another number registered).
 *
 * What a handle is (SEV, SEV-ES, SNP, or no context) comes from
 * sevmig_vm_opts.sev_type, from an earlier move or mirror, or, when none of
 * those said it, from GUEST_STATUS through the handle's platform: policy
 * bit ES tells SEV-ES from SEV, ENOTTY means no context, EPERM means SNP,
 * and EBADF or INVALID_GUEST mean a context without a launched guest
 * (whose kind only sevmig_vm_opts.vm_type can tell; asked again next time).
 * A known answer is remembered.
 *
 * @dst:         the destination handle (a VM created for the purpose, with
 *               no SEV setup of its own).
 * @src:         the source handle.
 * @ret_reasons: receives 0 (yes) or SEVMIG_REASON_* bits.
 * @flags:       must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, handles of different contexts).
 * Firmware: GUEST_STATUS on a handle whose context is not known yet (its
 *         errors are logged, not returned: the type stays unknown).
 * Context: any thread; the answer can change as soon as another thread
 *          acts on either VM.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_move_check(struct sevmig_vm *dst,
					    struct sevmig_vm *src,
					    uint64_t *ret_reasons,
					    uint32_t flags);

/**
 * sevmig_vm_move_from() - move @src's encryption context into @dst.
 *
 * Checks sevmig_vm_move_check()'s rules first and refuses with the first
 * broken one in KVM's order (logged in words; the errno below; every broken
 * rule's bit in *refused_reasons), then issues KVM_ENABLE_CAP(
 * KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM) on @dst's descriptor with @src's.
 *
 * Contention: KVM answers a move that meets another move or mirror of
 * either VM with EBUSY (its migration_in_progress guard, which also keeps
 * A->B and B->A from deadlocking) and a fatal signal while it takes the
 * VM and vCPU locks with EINTR; it does not wait. libsevmig treats both,
 * and a handle held by another thread's move, mirror or teardown, as
 * contention and retries: up to 64 attempts, sleeping between them from
 * 20 us doubling up to 5 ms with jitter (about 0.3 s in all), then gives up
 * with -EBUSY and SEVMIG_REASON_CONTENDED. Many moves between many pairs
 * from many threads are safe; two threads moving the same source see one
 * success and one -ESTALE.
 *
 * On success: @src is SEVMIG_VM_MOVED (never runs again; only teardown is
 * left), @dst stays SEVMIG_VM_LIVE and holds the source's page-state
 * tracker object (sevmig_vm_tracker() of each handle changes at the move:
 * take the destination's tracker after it), tracking-lost mark,
 * MSR_KVM_MIGRATION_CONTROL value, guest policy and SEV type. Paused marks
 * are kept: resume the destination with sevmig_vm_resume() before its
 * vCPUs run. Upstream KVM does not give the destination the source's
 * /dev/sev descriptor, so firmware commands on it (GUEST_STATUS, a later
 * cross-host send) fail with -EBADF; and with SEVMIG_VM_TYPE_SEV or
 * SEV_ES VMs it may leave the destination unable to enter KVM_RUN
 * (need_init): prefer SEVMIG_VM_TYPE_DEFAULT VMs (docs/move.md).
 *
 * @dst:         the destination handle.
 * @src:         the source handle.
 * @flags:       must be 0.
 * @refused_reasons: optional; written when the call fails after its
 *               arguments were accepted: the SEVMIG_REASON_* bits that
 *               explain the refusal (KERNEL_REFUSED or ES_VMSA when KVM
 *               refused a rule the library could not check), or 0 when
 *               only the errno does (-EBADF, -EIO, ...). Not a ret_*
 *               output: it describes a failure, and is left untouched on
 *               success and on argument errors.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, handles of different contexts;
 *         SAME_VM, IS_MIRROR, VM_TYPE_MISMATCH, DEST_HAS_CONTEXT,
 *         SOURCE_NOT_SEV, PHYS_BITS_MISMATCH, ES_VCPU_COUNT; KVM's own
 *         EINVAL, with KERNEL_REFUSED or ES_VMSA), -ESTALE (a handle is
 *         SENT, MOVED or DEAD), -EBUSY (a handle is SENDING or INCOMING,
 *         HAS_MIRRORS, VCPUS_RUNNING, or CONTENDED after the retries),
 *         -EOPNOTSUPP (SNP), -ENODATA (SEV_TYPE_UNKNOWN), -EBADF (KVM does
 *         not see @src's descriptor as a VM), -EIO (KVM considers @dst
 *         dead), other errno from KVM_ENABLE_CAP.
 * Firmware: none for the move itself; GUEST_STATUS when a handle's type is
 *         not known (see sevmig_vm_move_check()).
 * Context: any thread, with every vCPU of both VMs stopped (pause them);
 *          blocks for the retries at most.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_move_from(struct sevmig_vm *dst,
					   struct sevmig_vm *src,
					   uint32_t flags,
					   uint64_t *refused_reasons);

/*
 * Mirror VMs. KVM_CAP_VM_COPY_ENC_CONTEXT_FROM makes a second VM share a
 * primary's encryption context (same ASID and firmware handle), so a
 * migration helper can run inside the guest's context on vCPUs of its own
 * while the primary runs. KVM's rules, checked first and named: the mirror
 * has no SEV context and no vCPUs yet (create its vCPUs afterwards), the
 * primary has one and is not a mirror itself. libsevmig's rules on top: a
 * mirror runs no SEV command of its own except those KVM allows a mirror
 * (LAUNCH_UPDATE_VMSA, GUEST_STATUS, DBG_DECRYPT, DBG_ENCRYPT), is never
 * moved, mirrored or migrated, a primary is not moved while it has mirrors,
 * and a primary is torn down only after its mirrors (they share its
 * context; KVM keeps it until the last mirror closes). A mirror may run
 * while its primary may (LIVE, SENDING, INCOMING) and never after.
 */

/* Roles of a VM handle. */
enum sevmig_vm_role {
	SEVMIG_VM_ROLE_OWNER = 1,	/* owns its context, or has none */
	SEVMIG_VM_ROLE_MIRROR = 2,	/* shares a primary's context */
};

/**
 * sevmig_vm_mirror_check() - may @mirror become a mirror of @primary now?
 *
 * Reasons, in KVM's order first: SAME_VM, DEST_NOT_LIVE (the mirror's
 * handle is not LIVE), SOURCE_NOT_LIVE (the primary is SENT, MOVED or
 * DEAD), IS_MIRROR (the mirror handle already is one, or the primary is
 * one), SNP, DEST_HAS_CONTEXT, SOURCE_NOT_SEV, SEV_TYPE_UNKNOWN,
 * MIRROR_HAS_VCPUS (vCPUs registered on the mirror handle).
 *
 * @mirror:      the handle of the VM to become the mirror.
 * @primary:     the primary's handle.
 * @ret_reasons: receives 0 (yes) or SEVMIG_REASON_* bits.
 * @flags:       must be 0.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, handles of different contexts).
 * Firmware: GUEST_STATUS as for sevmig_vm_move_check().
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_mirror_check(struct sevmig_vm *mirror,
					      struct sevmig_vm *primary,
					      uint64_t *ret_reasons,
					      uint32_t flags);

/**
 * sevmig_vm_mirror_from() - make @mirror a mirror of @primary.
 *
 * Checks sevmig_vm_mirror_check()'s rules, then issues KVM_ENABLE_CAP(
 * KVM_CAP_VM_COPY_ENC_CONTEXT_FROM) on @mirror's descriptor with
 * @primary's, retrying contention as sevmig_vm_move_from() does. The
 * primary may keep running (KVM takes no vCPU lock for a copy). On success
 * @mirror has role SEVMIG_VM_ROLE_MIRROR and @primary's SEV type.
 *
 * @mirror:      the handle of a VM with no SEV setup and no vCPUs.
 * @primary:     the primary's handle.
 * @flags:       must be 0.
 * @refused_reasons: optional; as for sevmig_vm_move_from().
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL argument, flags, different contexts; SAME_VM,
 *         IS_MIRROR, DEST_HAS_CONTEXT, SOURCE_NOT_SEV, MIRROR_HAS_VCPUS,
 *         KERNEL_REFUSED), -ESTALE (a handle SENT, MOVED or DEAD), -EBUSY
 *         (the mirror handle is SENDING or INCOMING; CONTENDED),
 *         -EOPNOTSUPP (SNP), -ENODATA (SEV_TYPE_UNKNOWN), -EBADF, -EIO,
 *         other errno from KVM_ENABLE_CAP.
 * Firmware: none for the copy; GUEST_STATUS when a type is not known.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_mirror_from(struct sevmig_vm *mirror,
					     struct sevmig_vm *primary,
					     uint32_t flags,
					     uint64_t *refused_reasons);

/**
 * sevmig_vm_mirror_create() - create a new VM as a mirror of @primary.
 *
 * Creates a VM (KVM_CREATE_VM, type 0, on @kvm_fd) and a handle for it
 * that owns the new descriptor (closed by sevmig_vm_teardown() or
 * sevmig_vm_free()), then sevmig_vm_mirror_from(). The mirror handle takes
 * @primary's platform, phys_bits and host policy. The VMM then creates the
 * mirror's memslots and vCPUs on sevmig_vm_fd() of it; a mirror made this
 * way cannot have had vCPUs before the copy. On any failure nothing is
 * left: the descriptor is closed and no handle is returned.
 *
 * @primary:     the primary's handle.
 * @kvm_fd:      an open /dev/kvm descriptor (borrowed).
 * @flags:       must be 0.
 * @ret_mirror:  receives the mirror's handle.
 * @refused_reasons: optional; as for sevmig_vm_move_from().
 * @return 0 or a negative errno.
 *
 * Errors: those of sevmig_vm_mirror_from(); -EINVAL also for a negative
 *         @kvm_fd; KVM_CREATE_VM's errno; -ENOMEM.
 * Firmware: as sevmig_vm_mirror_from().
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_mirror_create(struct sevmig_vm *primary,
					       int kvm_fd, uint32_t flags,
					       struct sevmig_vm **ret_mirror,
					       uint64_t *refused_reasons);

/**
 * sevmig_vm_role() - a handle's role and its number of mirrors.
 *
 * @vm:          the handle.
 * @ret_role:    receives SEVMIG_VM_ROLE_*.
 * @ret_mirrors: optional; receives the number of mirrors attached to it
 *               (torn-down mirrors do not count).
 * @return 0 or -EINVAL (NULL argument).
 *
 * Errors: -EINVAL. Firmware: not reached. Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_role(struct sevmig_vm *vm,
				      uint32_t *ret_role,
				      uint32_t *ret_mirrors);

/**
 * sevmig_vm_sev_type() - what the handle knows of the VM's SEV context.
 *
 * Asks the firmware (GUEST_STATUS through the handle's platform) when the
 * handle was not told (sevmig_vm_opts.sev_type) and has not learnt it from
 * a move or a mirror, and remembers the answer.
 *
 * @vm:           the handle.
 * @ret_type:     receives SEVMIG_SEV_TYPE_*, or 0 when it cannot be told
 *                (no platform, or the firmware could not say).
 * @ret_fw_error: optional; firmware status when GUEST_STATUS was refused.
 * @return 0 or -EINVAL (NULL argument).
 *
 * Errors: -EINVAL. GUEST_STATUS errors are logged, not returned.
 * Firmware: GUEST_STATUS at most once per handle.
 * Context: any thread.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_sev_type(struct sevmig_vm *vm,
					  uint32_t *ret_type,
					  uint32_t *ret_fw_error);

/**
 * sevmig_vm_fd() - the VM descriptor of a handle.
 *
 * @vm: the handle.
 * @return the descriptor (borrowed from the VMM, or owned by the handle
 *         for a mirror made by sevmig_vm_mirror_create(): do not close
 *         it), or -EINVAL for a NULL @vm.
 *
 * Errors: -EINVAL. Firmware: not reached. Context: any thread.
 */
int sevmig_vm_fd(const struct sevmig_vm *vm);

/*
 * Source teardown. A VM that was sent (SEND_FINISH), moved away or torn
 * down never runs again; its VMM still has to take its devices and memory
 * down. After a move KVM answers EIO to every such ioctl, and a VMM that
 * treats that as a failure fails its migration at the very end or leaks.
 * sevmig_vm_teardown_ioctl() is the wrapper a VMM routes those ioctls
 * through; the allow-list and the reason each entry is safe are in
 * docs/move.md and beside each entry in src/vm-teardown.c.
 */

/**
 * sevmig_vm_teardown_ioctl() - issue a teardown ioctl on a VM or its vCPUs.
 *
 * On a LIVE, SENDING or INCOMING VM: a plain pass-through (through the
 * context's syscall backend). On a SENT, MOVED or DEAD VM:
 *  - KVM_RUN is refused with -ESTALE and never reaches the kernel;
 *  - the request is issued; if it fails with EIO (KVM considers the VM
 *    dead) and it is on the allow-list, it is treated as done: 0, logged
 *    at DEBUG. The allow-list (requests on the VM's own descriptor):
 *    KVM_IOEVENTFD with KVM_IOEVENTFD_FLAG_DEASSIGN, KVM_IRQFD with
 *    KVM_IRQFD_FLAG_DEASSIGN, KVM_SET_USER_MEMORY_REGION and
 *    KVM_SET_USER_MEMORY_REGION2 with memory_size 0 (deleting a slot),
 *    KVM_UNREGISTER_COALESCED_MMIO, KVM_MEMORY_ENCRYPT_UNREG_REGION: each
 *    releases something KVM releases anyway when the VM's last descriptor
 *    closes, and which a VM that never runs again cannot use meanwhile.
 *  - any other failure stays the kernel's error, logged with the reason it
 *    is not treated as done.
 * A SENT source is not dead to the kernel (SEND_FINISH changes only the
 * firmware's state): its ioctls succeed and their results pass through.
 *
 * @vm:      the VM's handle.
 * @fd:      the VM's descriptor, or one of its vCPUs' (borrowed).
 * @request: the ioctl request.
 * @arg:     its argument, as for ioctl(2).
 * @flags:   must be 0.
 * @return the ioctl's non-negative result, 0 for a request treated as
 *         done, or a negative errno.
 *
 * Errors: -EINVAL (NULL @vm, flags, negative @fd), -ESTALE (KVM_RUN on a
 *         VM that must not run), and the request's own errors.
 * Firmware: not reached (KVM_MEMORY_ENCRYPT_OP passes through untouched).
 * Context: any thread; as the request itself.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_teardown_ioctl(struct sevmig_vm *vm, int fd,
						unsigned long request,
						void *arg, uint32_t flags);

/* sevmig_vm_teardown() flags. */
#define SEVMIG_TEARDOWN_MIRRORS 0x1u	/* tear the VM's mirrors down first */

/**
 * sevmig_vm_teardown() - end a VM's life in libsevmig, in order.
 *
 * In this order: the VM's mirrors (with SEVMIG_TEARDOWN_MIRRORS each
 * mirror handle is torn down as below, first; without it a VM with mirrors
 * is refused), the link to its primary if it is a mirror, the RAM regions,
 * firmware-shared ranges and vCPUs it knew, the VM descriptor if libsevmig
 * created it (sevmig_vm_mirror_create()), and finally its state, which
 * becomes SEVMIG_VM_DEAD (the handle then refuses to run, pause or resume;
 * sevmig_vm_teardown_ioctl() still serves the VMM's own teardown). Issues
 * no ioctl, so what the kernel thinks of the VM cannot make it fail; a
 * failing close() of an owned descriptor is logged and the teardown goes
 * on. Never closes a borrowed descriptor (VM, vCPUs, platform). Tearing
 * down a DEAD handle again is a no-op. Free the handle with
 * sevmig_vm_free() afterwards (mirror handles torn down with a primary
 * too).
 *
 * @vm:    the handle.
 * @flags: 0 or SEVMIG_TEARDOWN_MIRRORS.
 * @return 0 or a negative errno.
 *
 * Errors: -EINVAL (NULL @vm, unknown flags), -EBUSY (mirrors attached and
 *         no SEVMIG_TEARDOWN_MIRRORS: SEVMIG_REASON_HAS_MIRRORS, logged;
 *         or another thread's move or mirror holds the handle).
 * Firmware: not reached.
 * Context: any thread; the VM's vCPU threads must have stopped.
 */
SEVMIG_WARN_UNUSED int sevmig_vm_teardown(struct sevmig_vm *vm,
					  uint32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* SEVMIG_MOVE_H */
