// SPDX-License-Identifier: MIT
/*
 * Feature negotiation, host side: make KVM forward the hypercall and the MSR,
 * install the MSR filter, and advertise CPUID bits 16/17 only when all of
 * that is really in place (a Linux guest ignores hypercall errors, so an
 * advertised feature with broken plumbing loses shared pages silently).
 */
#include <errno.h>
#include <string.h>

#include "uapi/kvm-abi.h"
#include "vm-priv.h"

#define KVM_CPUID_MAX_ENTRIES 256u

static int enable_cap(struct sevmig_vm *vm, uint32_t cap, uint64_t arg0)
{
	struct kvm_enable_cap ec;

	memset(&ec, 0, sizeof(ec));
	ec.cap = cap;
	ec.args[0] = arg0;
	return sevmig_sys_ioctl(vm->ctx, vm->vm_fd, KVM_ENABLE_CAP, &ec);
}

/*
 * A piece of the plumbing is being (re)done: until that succeeds it is not
 * in place. If the guest was already offered the features, an operator must
 * hear that migration now depends on this call succeeding.
 */
static void plumbing_lost(struct sevmig_vm *vm, int *flag, const char *what)
{
	if (sevmig_vm_flag(flag) && sevmig_vm_flag(&vm->offered))
		sevmig_log(vm->ctx, SEVMIG_LOG_DEBUG,
			   "VM fd %d: reinstalling %s the guest was offered",
			   vm->vm_fd, what);
	sevmig_vm_set_flag(flag, false);
}

/* Called on failure after plumbing_lost(): say what the guest now lacks. */
static int plumbing_failed(struct sevmig_vm *vm, int ret, const char *what)
{
	if (sevmig_vm_flag(&vm->offered))
		sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
			   "VM fd %d: the guest was offered migration, but %s failed: migration is refused until it succeeds (sevmig_vm_readiness() names it)",
			   vm->vm_fd, what);
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_enable_exits(struct sevmig_vm *vm,
					 uint64_t vmm_hypercall_mask,
					 uint32_t vmm_msr_reasons,
					 uint32_t flags)
{
	int ret;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	plumbing_lost(vm, &vm->exits_enabled, "the exits");
	ret = enable_cap(vm, KVM_CAP_EXIT_HYPERCALL,
			 vmm_hypercall_mask | KVM_EXIT_HYPERCALL_VALID_MASK);
	if (ret < 0)
		return plumbing_failed(vm, sevmig_err(vm->ctx, ret == -EINVAL && !vmm_hypercall_mask ?
				  -EOPNOTSUPP : ret,
				  "KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL, 0x%llx): %s%s",
				  (unsigned long long)(vmm_hypercall_mask |
						       KVM_EXIT_HYPERCALL_VALID_MASK),
				  sevmig_strerror(ret),
				  ret == -EINVAL ? " (the kernel cannot forward KVM_HC_MAP_GPA_RANGE, or rejects a VMM bit)" : ""),
				       "enabling the exits");
	ret = enable_cap(vm, KVM_CAP_X86_USER_SPACE_MSR,
			 vmm_msr_reasons | KVM_MSR_EXIT_REASON_FILTER);
	if (ret < 0)
		return plumbing_failed(vm, sevmig_err(vm->ctx, ret == -EINVAL && !vmm_msr_reasons ?
				  -EOPNOTSUPP : ret,
				  "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR, 0x%x): %s",
				  vmm_msr_reasons | KVM_MSR_EXIT_REASON_FILTER,
				  sevmig_strerror(ret)), "enabling the exits");
	sevmig_vm_set_flag(&vm->exits_enabled, true);
	return 0;
}

/* Does a range route both reads and writes of our MSR to userspace? */
static int check_vmm_range(const struct kvm_msr_filter_range *r,
			   bool *covers)
{
	uint32_t bit;

	*covers = false;
	if (!r->nmsrs)
		return 0;
	if (!r->flags)
		return -EINVAL;	/* the kernel refuses it anyway */
	if (MSR_KVM_MIGRATION_CONTROL < r->base ||
	    MSR_KVM_MIGRATION_CONTROL - r->base >= r->nmsrs)
		return 0;
	if (!r->bitmap)
		return -EINVAL;
	bit = MSR_KVM_MIGRATION_CONTROL - r->base;
	/* Bit 1 allows the access in-kernel: we would never see it. */
	if (r->bitmap[bit / 8] & (1u << (bit % 8)))
		return -EINVAL;
	*covers = true;
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_set_msr_filter(struct sevmig_vm *vm,
					   const void *vmm_filter,
					   uint32_t flags)
{
	/* KVM copies BITS_TO_LONGS(nmsrs) * 8 bytes: one MSR needs 8 bytes. */
	static const uint8_t deny_one[8] = { 0 };
	struct kvm_msr_filter f;
	uint32_t free_slot = KVM_MSR_FILTER_MAX_RANGES;
	uint32_t access = 0;
	int ret;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	const char *what = "installing the MSR filter";

	plumbing_lost(vm, &vm->filter_installed, "the MSR filter");
	if (!sevmig_vm_flag(&vm->exits_enabled))
		return plumbing_failed(vm, sevmig_err(vm->ctx, -EPROTO,
				  "%s: call sevmig_vm_enable_exits() first (FILTER exits must be on before a filter is installed)",
				  __func__), what);
	memset(&f, 0, sizeof(f));
	if (vmm_filter)
		memcpy(&f, vmm_filter, sizeof(f));

	for (uint32_t i = 0; i < KVM_MSR_FILTER_MAX_RANGES; i++) {
		bool covers;

		if (!f.ranges[i].nmsrs) {
			if (free_slot == KVM_MSR_FILTER_MAX_RANGES)
				free_slot = i;
			continue;
		}
		ret = check_vmm_range(&f.ranges[i], &covers);
		if (ret)
			return plumbing_failed(vm, sevmig_arg_invalid(vm->ctx, __func__,
					  "the VMM's range %u (base 0x%x, %u MSRs) lets the guest reach MSR 0x%x in-kernel or is malformed",
					  i, f.ranges[i].base, f.ranges[i].nmsrs,
					  MSR_KVM_MIGRATION_CONTROL), what);
		if (covers)
			access |= f.ranges[i].flags;
	}
	/*
	 * KVM applies the first range that covers an MSR for each access kind.
	 * If the VMM's ranges already deny both, nothing to add; otherwise our
	 * range must come first for the kinds not yet denied. Simplest correct
	 * rule: add ours unless both kinds are already denied.
	 */
	if ((access & (KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE)) !=
	    (KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE)) {
		if (access)
			return plumbing_failed(vm, sevmig_arg_invalid(vm->ctx, __func__,
					  "the VMM's filter covers MSR 0x%x for only some accesses; route both READ and WRITE to userspace or leave it out",
					  MSR_KVM_MIGRATION_CONTROL), what);
		if (free_slot == KVM_MSR_FILTER_MAX_RANGES)
			return plumbing_failed(vm, sevmig_err(vm->ctx, -ENOSPC,
					  "%s: the VMM's filter uses all %u ranges",
					  __func__, KVM_MSR_FILTER_MAX_RANGES), what);
		f.ranges[free_slot].flags = KVM_MSR_FILTER_READ |
					    KVM_MSR_FILTER_WRITE;
		f.ranges[free_slot].nmsrs = 1;
		f.ranges[free_slot].base = MSR_KVM_MIGRATION_CONTROL;
		f.ranges[free_slot].bitmap = (uint8_t *)(uintptr_t)deny_one;
	}
	ret = sevmig_sys_ioctl(vm->ctx, vm->vm_fd, KVM_X86_SET_MSR_FILTER,
			       &f);
	if (ret < 0)
		return plumbing_failed(vm, sevmig_err(vm->ctx, ret,
				  "KVM_X86_SET_MSR_FILTER: %s", sevmig_strerror(ret)),
				       what);
	sevmig_vm_set_flag(&vm->filter_installed, true);
	return 0;
}

static bool is_kvm_signature(const struct kvm_cpuid_entry2 *e)
{
	/* "KVMKVMKVM\0\0\0" in EBX, ECX, EDX. */
	return e->ebx == 0x4b4d564bu && e->ecx == 0x564b4d56u &&
	       e->edx == 0x0000004du;
}

SEVMIG_EXPORT int sevmig_vm_cpuid_apply(struct sevmig_vm *vm, void *kvm_cpuid2,
					uint32_t flags)
{
	const uint32_t bits = (1u << KVM_FEATURE_HC_MAP_GPA_RANGE) |
			      (1u << KVM_FEATURE_MIGRATION_CONTROL);
	struct kvm_cpuid2 *table = kvm_cpuid2;
	struct kvm_cpuid_entry2 *e;
	uint32_t nent, found = 0;
	bool exits, filter, offer;

	if (!vm)
		return -EINVAL;
	if (!kvm_cpuid2)
		return sevmig_arg_null(vm->ctx, __func__, "the CPUID table");
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	nent = table->nent;
	if (nent > KVM_CPUID_MAX_ENTRIES)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "%u entries (KVM takes at most %u)", nent,
					  KVM_CPUID_MAX_ENTRIES);
	e = table->entries;
	exits = sevmig_vm_flag(&vm->exits_enabled);
	filter = sevmig_vm_flag(&vm->filter_installed);
	offer = exits && filter && vm->host_policy != SEVMIG_HOST_POLICY_DENY;

	for (uint32_t i = 0; i < nent; i++) {
		uint32_t base = e[i].function;

		if (base < KVM_CPUID_SIGNATURE || base > 0x4000ff00u ||
		    (base & 0xffu) || !is_kvm_signature(&e[i]))
			continue;
		/* EAX of the signature leaf is the highest PV leaf. */
		if (e[i].eax != 0 && e[i].eax < base + 1)
			continue;
		for (uint32_t j = 0; j < nent; j++) {
			if (e[j].function != base + 1)
				continue;
			if (offer)
				e[j].eax |= bits;
			else
				e[j].eax &= ~bits;
			found++;
		}
	}
	if (!found) {
		sevmig_vm_set_flag(&vm->offered, false);
		return sevmig_err(vm->ctx, -ENOENT,
				  "%s: the CPUID table has no KVM features leaf (no \"KVMKVMKVM\" signature at 0x400000xx00 with leaf +1), so the guest cannot be offered migration",
				  __func__);
	}
	sevmig_vm_set_flag(&vm->offered, offer);
	/* A veto is something an operator must see: WARNING, not INFO. */
	if (!offer)
		sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
			   "VM fd %d: migration features not offered to the guest: %s; this VM cannot migrate",
			   vm->vm_fd,
			   vm->host_policy == SEVMIG_HOST_POLICY_DENY ?
			   "the host policy denies migration" :
			   !exits ? "the exits are not enabled (sevmig_vm_enable_exits() not done or failed)" :
			   "the MSR filter is not installed (sevmig_vm_set_msr_filter() not done or failed)");
	return offer ? 1 : 0;
}
