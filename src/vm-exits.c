// SPDX-License-Identifier: MIT
/*
 * Exit handling for the migration features, on vCPU threads: the guest's
 * MSR_KVM_MIGRATION_CONTROL accesses and its KVM_HC_MAP_GPA_RANGE calls.
 * Every guest input is validated here; the guest always gets an answer.
 */
#include <errno.h>
#include <string.h>

#include "uapi/kvm-abi.h"
#include "vm-priv.h"

/* Frames in a 64-bit physical address space: 2^64 bytes / 4 KiB. */
#define MAX_GUEST_FRAMES (UINT64_C(1) << (64 - GUEST_PAGE_SHIFT))

static struct kvm_run_hdr *run_hdr(void *run)
{
	return run;
}

static void *run_exit(void *run)
{
	return (char *)run + KVM_RUN_EXIT_OFFSET;
}

static int handle_msr(struct sevmig_vm *vm, struct kvm_run_msr *msr,
		      bool write)
{
	if (msr->index != MSR_KVM_MIGRATION_CONTROL)
		return SEVMIG_EXIT_NOT_OURS;
	msr->error = 0;
	if (!sevmig_vm_flag(&vm->offered)) {
		/* The MSR exists only when CPUID advertises it. */
		msr->error = 1;
		sevmig_log(vm->ctx, SEVMIG_LOG_DEBUG,
			   "guest %s MSR_KVM_MIGRATION_CONTROL without the feature: #GP",
			   write ? "wrote" : "read");
		return SEVMIG_EXIT_HANDLED;
	}
	if (!write) {
		msr->data = __atomic_load_n(&vm->migration_control,
					    __ATOMIC_ACQUIRE);
		return SEVMIG_EXIT_HANDLED;
	}
	if (msr->data & ~(uint64_t)SEVMIG_MIGRATION_CONTROL_READY) {
		msr->error = 1;
		sevmig_log(vm->ctx, SEVMIG_LOG_DEBUG,
			   "guest wrote reserved bits 0x%llx to MSR_KVM_MIGRATION_CONTROL: #GP",
			   (unsigned long long)msr->data);
		return SEVMIG_EXIT_HANDLED;
	}
	__atomic_store_n(&vm->migration_control, msr->data, __ATOMIC_RELEASE);
	sevmig_log(vm->ctx, SEVMIG_LOG_INFO, "guest migration %s",
		   msr->data ? "READY" : "not ready (reboot, kexec or CPU offline)");
	return SEVMIG_EXIT_HANDLED;
}

/* Apply [gfn, gfn+npages) to the tracker where it covers registered RAM. */
static int apply_to_ram(struct sevmig_vm *vm, uint64_t gfn, uint64_t npages,
			bool shared)
{
	uint64_t end = gfn + npages, applied = 0;
	uint32_t lo = 0, hi;
	int ret = 0;

	pthread_rwlock_rdlock(&vm->lock);
	/* First region whose end is above gfn (binary search). */
	hi = vm->nram;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (vm->ram[mid].gfn + vm->ram[mid].npages <= gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < vm->nram && vm->ram[i].gfn < end; i++) {
		uint64_t s = vm->ram[i].gfn > gfn ? vm->ram[i].gfn : gfn;
		uint64_t e = vm->ram[i].gfn + vm->ram[i].npages;

		if (e > end)
			e = end;
		ret = shared ? sevmig_tracker_set_shared(vm->tracker, s, e - s) :
			       sevmig_tracker_set_private(vm->tracker, s, e - s);
		if (ret)
			break;
		applied += e - s;
	}
	pthread_rwlock_unlock(&vm->lock);
	if (!ret && applied != npages)
		sevmig_log(vm->ctx, SEVMIG_LOG_DEBUG,
			   "MAP_GPA_RANGE gfn 0x%llx +%llu: %llu pages outside RAM ignored",
			   (unsigned long long)gfn, (unsigned long long)npages,
			   (unsigned long long)(npages - applied));
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_map_gpa_range(struct sevmig_vm *vm, uint64_t gpa,
					  uint64_t npages, uint64_t attrs,
					  uint32_t flags, uint64_t *ret_hc)
{
	const uint64_t einval = (uint64_t)-(int64_t)KVM_EINVAL;
	uint64_t gfn;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!ret_hc)
		return sevmig_arg_null(vm->ctx, __func__, "ret_hc");
	if (flags & ~SEVMIG_MAP_GPA_F_LONG_MODE)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "unknown flags 0x%x", flags);
	if (!sevmig_vm_flag(&vm->offered)) {
		*ret_hc = (uint64_t)-(int64_t)KVM_ENOSYS;
		return 0;
	}
	if (!(flags & SEVMIG_MAP_GPA_F_LONG_MODE)) {
		/* A 32-bit caller can only pass 32-bit values. */
		gpa &= UINT32_MAX;
		npages &= UINT32_MAX;
		attrs &= UINT32_MAX;
	}
	/*
	 * KVM checks only that gfn + npages does not wrap in frame space; a
	 * range whose end in bytes passes 2^64 (gfn + npages > 2^52) is still
	 * forwarded and must be refused here, not clipped: clipping would apply
	 * it to every RAM page above @gpa.
	 */
	gfn = gpa >> GUEST_PAGE_SHIFT;
	if ((attrs & KVM_MAP_GPA_RANGE_RESERVED) ||
	    (attrs & KVM_MAP_GPA_RANGE_PAGE_SZ_MASK) > 2 || !npages ||
	    (gpa & (GUEST_PAGE_SIZE - 1)) ||
	    npages > MAX_GUEST_FRAMES - gfn) {
		*ret_hc = einval;
		return 0;
	}
	/* Beyond the guest's address width there is no RAM: clip. */
	if (gfn >= vm->max_gfn) {
		*ret_hc = 0;
		return 0;
	}
	if (npages > vm->max_gfn - gfn)
		npages = vm->max_gfn - gfn;
	ret = apply_to_ram(vm, gfn, npages,
			   !(attrs & KVM_MAP_GPA_RANGE_ENCRYPTED));
	if (ret) {
		__atomic_store_n(&vm->tracking_lost, 1, __ATOMIC_RELEASE);
		*ret_hc = einval;
		return sevmig_err(vm->ctx, ret,
				  "MAP_GPA_RANGE gfn 0x%llx +%llu could not be recorded (%s): this VM can no longer migrate",
				  (unsigned long long)gfn,
				  (unsigned long long)npages,
				  ret == -ENOMEM ? "the page-state tracker is out of memory" :
				  sevmig_strerror(ret));
	}
	*ret_hc = 0;
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_handle_exit(struct sevmig_vm *vm, void *kvm_run,
					uint32_t flags)
{
	struct kvm_run_hypercall *hc;
	uint64_t answer = 0;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!kvm_run)
		return sevmig_arg_null(vm->ctx, __func__, "kvm_run");
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	switch (run_hdr(kvm_run)->exit_reason) {
	case KVM_EXIT_X86_RDMSR:
		return handle_msr(vm, run_exit(kvm_run), false);
	case KVM_EXIT_X86_WRMSR:
		return handle_msr(vm, run_exit(kvm_run), true);
	case KVM_EXIT_HYPERCALL:
		break;
	default:
		return SEVMIG_EXIT_NOT_OURS;
	}
	hc = run_exit(kvm_run);
	if (hc->nr != KVM_HC_MAP_GPA_RANGE)
		return SEVMIG_EXIT_NOT_OURS;
	ret = sevmig_vm_map_gpa_range(vm, hc->args[0], hc->args[1], hc->args[2],
				      (hc->flags & KVM_EXIT_HYPERCALL_LONG_MODE) ?
				      SEVMIG_MAP_GPA_F_LONG_MODE : 0, &answer);
	/* Always answer the guest, even when recording failed. */
	hc->ret = answer;
	return ret ? ret : SEVMIG_EXIT_HANDLED;
}

SEVMIG_EXPORT int sevmig_vm_complete_pending(struct sevmig_vm *vm, int vcpu_fd,
					     void *kvm_run, uint32_t flags)
{
	struct kvm_run_hdr *hdr = kvm_run;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!kvm_run)
		return sevmig_arg_null(vm->ctx, __func__, "kvm_run");
	if ((ret = sevmig_arg_flags(vm->ctx, __func__, flags)))
		return ret;
	if (vcpu_fd < 0)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "vcpu_fd %d is not a descriptor", vcpu_fd);
	ret = sevmig_vm_check_runnable(vm, __func__);
	if (ret)
		return ret;
	__atomic_store_n(&hdr->immediate_exit, 1, __ATOMIC_RELEASE);
	ret = sevmig_sys_ioctl_val(vm->ctx, vcpu_fd, KVM_RUN, 0);
	__atomic_store_n(&hdr->immediate_exit, 0, __ATOMIC_RELEASE);
	if (ret == -EINTR || ret >= 0)
		return 0;
	return sevmig_err(vm->ctx, ret, "KVM_RUN with immediate_exit: %s",
			  sevmig_strerror(ret));
}
