// SPDX-License-Identifier: MIT
/*
 * Source teardown: the wrapper a VMM routes its teardown ioctls on a VM that
 * never runs again through, with the allow-list of requests whose EIO means
 * "done", and sevmig_vm_teardown(), which ends a handle's life in order.
 * docs/move.md explains the allow-list for VMM authors.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/kvm-abi.h"
#include "vm-priv.h"

/*
 * Why EIO may mean "done": once KVM has marked a VM dead (after a move, or
 * a KVM bug) every VM and vCPU ioctl answers EIO without doing anything,
 * teardown requests included. An entry below is on the list when both
 *  - what it would remove is released by KVM anyway when the VM's last
 *    descriptor is closed (kvm_vm_release() and kvm_destroy_vm() in
 *    virt/kvm/kvm_main.c, sev_vm_destroy() in arch/x86/kvm/svm/sev.c), and
 *  - until then it can have no effect, because it acts only when a vCPU of
 *    this VM runs, and this VM never runs again (libsevmig refuses it).
 * Each entry's reason is beside it. Everything else keeps its error: an
 * assignment that did not happen, or state that was not read, is not done.
 */
struct td_entry {
	unsigned long request;
	const char *name;
	/* The argument makes it a removal (NULL: every use is one). */
	bool (*removal)(const void *arg);
	const char *why;	/* logged when its EIO is treated as done */
};

static uint32_t u32_at(const void *arg, size_t off)
{
	uint32_t v;

	memcpy(&v, (const char *)arg + off, sizeof(v));
	return v;
}

static uint64_t u64_at(const void *arg, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)arg + off, sizeof(v));
	return v;
}

static bool ioeventfd_deassign(const void *arg)
{
	return u32_at(arg, offsetof(struct kvm_ioeventfd, flags)) &
	       KVM_IOEVENTFD_FLAG_DEASSIGN;
}

static bool irqfd_deassign(const void *arg)
{
	return u32_at(arg, offsetof(struct kvm_irqfd, flags)) &
	       KVM_IRQFD_FLAG_DEASSIGN;
}

static bool slot_delete(const void *arg)
{
	/* Same offset in kvm_userspace_memory_region and ..._region2. */
	return !u64_at(arg, offsetof(struct kvm_userspace_memory_region,
				     memory_size));
}

static const struct td_entry allow_list[] = {
	/*
	 * An ioeventfd is a device on the VM's PIO/MMIO bus: only a guest
	 * access by one of this VM's vCPUs signals it. KVM destroys the
	 * buses, and with them every ioeventfd and its eventfd reference,
	 * when the VM is destroyed. So the VMM may close or reuse its eventfd
	 * now.
	 */
	{ KVM_IOEVENTFD, "KVM_IOEVENTFD (deassign)", ioeventfd_deassign,
	  "an ioeventfd fires only on a guest access of this VM, and KVM frees it with the VM" },
	/*
	 * An irqfd injects into this VM's interrupt controller when its
	 * eventfd is signalled; injecting into a VM that never runs changes
	 * nothing anyone sees. KVM shuts every irqfd down when the VM
	 * descriptor is released (kvm_irqfd_release()), and an irqfd shuts
	 * itself down when its eventfd is closed. So the VMM may close its
	 * eventfd, or hand it to the new VM.
	 */
	{ KVM_IRQFD, "KVM_IRQFD (deassign)", irqfd_deassign,
	  "an irqfd only injects into this VM, which never runs, and KVM shuts it down when the VM descriptor closes" },
	/*
	 * A memslot pins no memory (KVM follows the VMM's mappings through
	 * its MMU notifier, munmap included) and is used only when this VM's
	 * vCPUs touch guest memory. KVM frees every memslot when the VM is
	 * destroyed. So the VMM may unmap or reuse the memory now.
	 */
	{ KVM_SET_USER_MEMORY_REGION, "KVM_SET_USER_MEMORY_REGION (delete)",
	  slot_delete,
	  "a memslot pins no memory and is used only by this VM's vCPUs; KVM frees it with the VM" },
	/*
	 * The same, for the version with guest_memfd: a guest_memfd slot
	 * keeps its file referenced until the VM is destroyed, so that
	 * memory is released when the VM descriptor closes, not now.
	 */
	{ KVM_SET_USER_MEMORY_REGION2, "KVM_SET_USER_MEMORY_REGION2 (delete)",
	  slot_delete,
	  "a memslot is used only by this VM's vCPUs; KVM frees it (and releases a guest_memfd) with the VM" },
	/*
	 * A coalesced MMIO zone buffers this VM's vCPUs' writes into the VM's
	 * ring: nothing writes there any more, and the zone is destroyed with
	 * the VM's MMIO bus.
	 */
	{ KVM_UNREGISTER_COALESCED_MMIO, "KVM_UNREGISTER_COALESCED_MMIO", NULL,
	  "a coalesced MMIO zone collects only this VM's guest writes, and KVM frees it with the VM" },
	/*
	 * Encrypted regions (pinned pages) belong to the encryption context:
	 * a move hands them to the destination, which now runs the guest and
	 * keeps them pinned, so the source has none left to unregister; for
	 * any other dead VM, KVM unpins every region when the VM is destroyed
	 * (sev_vm_destroy()).
	 */
	{ KVM_MEMORY_ENCRYPT_UNREG_REGION, "KVM_MEMORY_ENCRYPT_UNREG_REGION",
	  NULL,
	  "encrypted regions moved with the context, or KVM unpins them when the VM is destroyed" },
};

static const struct td_entry *find_entry(unsigned long request)
{
	for (size_t i = 0; i < ARRAY_SIZE(allow_list); i++)
		if (allow_list[i].request == request)
			return &allow_list[i];
	return NULL;
}

static const char *never_runs_why(const struct sevmig_vm *vm)
{
	switch (sevmig_vm_get_state(vm)) {
	case SEVMIG_VM_SENT:
		return "sent to another host";
	case SEVMIG_VM_MOVED:
		return "moved to another VM";
	case SEVMIG_VM_DEAD:
		return "torn down";
	default:
		return "a mirror of a VM that must not run again";
	}
}

SEVMIG_EXPORT int sevmig_vm_teardown_ioctl(struct sevmig_vm *vm, int fd,
					   unsigned long request, void *arg,
					   uint32_t flags)
{
	const struct td_entry *e;
	int ret;

	if (!vm)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(vm->ctx, __func__, flags)))
		return ret;
	if (fd < 0)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "fd %d is not a descriptor", fd);
	if (!sevmig_vm_never_runs(vm))
		return sevmig_sys_ioctl(vm->ctx, fd, request, arg);
	if (request == KVM_RUN)
		return sevmig_err(vm->ctx, -ESTALE,
				  "%s: KVM_RUN on fd %d refused: VM fd %d was %s and must never run again",
				  __func__, fd, vm->vm_fd, never_runs_why(vm));
	ret = sevmig_sys_ioctl(vm->ctx, fd, request, arg);
	if (ret >= 0)
		return ret;
	e = find_entry(request);
	if (ret == -EIO && e && fd == vm->vm_fd && arg &&
	    (!e->removal || e->removal(arg))) {
		sevmig_log(vm->ctx, SEVMIG_LOG_DEBUG,
			   "%s: %s on VM fd %d (%s) answered EIO: treated as done: %s",
			   __func__, e->name, fd, never_runs_why(vm), e->why);
		return 0;
	}
	if (ret != -EIO)
		return sevmig_err(vm->ctx, ret,
				  "%s: request 0x%lx on fd %d of VM fd %d (%s): %s",
				  __func__, request, fd, vm->vm_fd,
				  never_runs_why(vm), sevmig_strerror(ret));
	return sevmig_err(vm->ctx, ret,
			  "%s: request 0x%lx on fd %d failed with EIO: KVM considers VM fd %d (%s) dead, and %s, so it is not treated as done",
			  __func__, request, fd, vm->vm_fd, never_runs_why(vm),
			  !e ? "the request is not a teardown on the allow-list (docs/move.md)" :
			  fd != vm->vm_fd ? "it was issued on another descriptor than the VM's own" :
			  !arg ? "it has no argument to tell what it removes" :
			  "it adds rather than removes");
}

/* The handle's own part of a teardown; @vm is claimed. */
static void teardown_one(struct sevmig_vm *vm)
{
	uint32_t s;

	if (vm->torn_down)
		return;
	sevmig_vm_link_detach(vm);
	pthread_rwlock_wrlock(&vm->lock);
	free(vm->ram);
	vm->ram = NULL;
	vm->nram = 0;
	vm->nfw_shared = 0;
	pthread_rwlock_unlock(&vm->lock);
	pthread_mutex_lock(&vm->vcpu_lock);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nvcpus = 0;
	pthread_mutex_unlock(&vm->vcpu_lock);
	if (vm->owns_fd) {
		int ret = sevmig_sys_close(vm->ctx, vm->vm_fd);

		/* Linux releases the descriptor even when close() fails. */
		if (ret)
			sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
				   "closing VM fd %d, which libsevmig created: %s (the teardown goes on)",
				   vm->vm_fd, sevmig_strerror(ret));
		vm->owns_fd = false;
	}
	s = __atomic_exchange_n(&vm->state, SEVMIG_VM_DEAD, __ATOMIC_ACQ_REL);
	if (s == SEVMIG_VM_SENDING || s == SEVMIG_VM_INCOMING)
		sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
			   "VM fd %d torn down while %s: its migration ends here",
			   vm->vm_fd, sevmig_vm_state_name(s));
	sevmig_log(vm->ctx, SEVMIG_LOG_INFO, "VM fd %d: %s -> dead (torn down)",
		   vm->vm_fd, sevmig_vm_state_name(s));
	vm->torn_down = true;
}

SEVMIG_EXPORT int sevmig_vm_teardown(struct sevmig_vm *vm, uint32_t flags)
{
	struct sevmig_vm *m;
	uint32_t n;
	int ret;

	if (!vm)
		return -EINVAL;
	if (flags & ~SEVMIG_TEARDOWN_MIRRORS)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "unknown flags 0x%x", flags);
	if ((ret = sevmig_vm_claim(vm, __func__)))
		return ret;
	n = sevmig_vm_mirror_count(vm);
	if (n && !(flags & SEVMIG_TEARDOWN_MIRRORS)) {
		sevmig_vm_unclaim(vm);
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: VM fd %d has %u mirror(s): %s; tear them down first, or pass SEVMIG_TEARDOWN_MIRRORS",
				  __func__, vm->vm_fd, n,
				  sevmig_reason_string(SEVMIG_REASON_HAS_MIRRORS));
	}
	/* Mirrors first: they share this VM's context. */
	while ((m = sevmig_vm_link_pop_mirror(vm))) {
		if (sevmig_vm_claim(m, __func__)) {
			sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
				   "%s: mirror VM fd %d is held by another thread: marked dead without the rest of its teardown",
				   __func__, m->vm_fd);
			__atomic_store_n(&m->state, SEVMIG_VM_DEAD,
					 __ATOMIC_RELEASE);
			continue;
		}
		teardown_one(m);
		sevmig_vm_unclaim(m);
	}
	teardown_one(vm);
	sevmig_vm_unclaim(vm);
	return 0;
}
