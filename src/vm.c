// SPDX-License-Identifier: MIT
/*
 * The VM handle: borrowed descriptors, the RAM map, the MSR value, host and
 * guest policy, reset and the readiness verdict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uapi/kvm-abi.h"
#include "uapi/sev-cert.h"
#include "vm.h"

#define PAGE_SHIFT 12
#define PAGE_MASK_4K 0xfffu

SEVMIG_EXPORT int sevmig_vm_new(struct sevmig_ctx *ctx,
				const struct sevmig_vm_opts *opts,
				struct sevmig_vm **ret_vm)
{
	struct sevmig_vm_opts o;
	struct sevmig_vm *vm;
	int ret;

	if (!ctx || !opts || !ret_vm)
		return -EINVAL;
	ret = sevmig_struct_in(&o, sizeof(o), opts, SEVMIG_VM_OPTS_SIZE_VER0);
	if (ret)
		return sevmig_err(ctx, ret, "sevmig_vm_new: opts->size %u is not accepted",
				  opts->size);
	if (o.flags || o.reserved0)
		return sevmig_err(ctx, -EINVAL, "sevmig_vm_new: flags and reserved fields must be 0");
	if (o.vm_fd < 0)
		return sevmig_err(ctx, -EINVAL, "sevmig_vm_new: vm_fd %d is not a descriptor",
				  o.vm_fd);
	if (!o.phys_bits)
		o.phys_bits = 52;
	if (o.phys_bits < 32 || o.phys_bits > 52)
		return sevmig_err(ctx, -EINVAL,
				  "sevmig_vm_new: phys_bits %u outside 32..52", o.phys_bits);
	if (!o.host_policy)
		o.host_policy = SEVMIG_HOST_POLICY_ALLOW;
	if (o.host_policy > SEVMIG_HOST_POLICY_OVERRIDE_READY)
		return sevmig_err(ctx, -EINVAL, "sevmig_vm_new: unknown host policy %u",
				  o.host_policy);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->ctx = ctx;
	vm->vm_fd = o.vm_fd;
	vm->phys_bits = o.phys_bits;
	vm->max_gfn = UINT64_C(1) << (o.phys_bits - PAGE_SHIFT);
	vm->host_policy = o.host_policy;
	if (pthread_rwlock_init(&vm->lock, NULL)) {
		free(vm);
		return -ENOMEM;
	}
	ret = sevmig_vm_pages_new(vm);
	if (ret) {
		pthread_rwlock_destroy(&vm->lock);
		free(vm);
		return sevmig_err(ctx, ret, "sevmig_vm_new: cannot create the page-state tracker: %s",
				  sevmig_strerror(ret));
	}
	*ret_vm = vm;
	return 0;
}

SEVMIG_EXPORT void sevmig_vm_free(struct sevmig_vm *vm)
{
	if (!vm)
		return;
	sevmig_vm_pages_free(vm);
	pthread_rwlock_destroy(&vm->lock);
	free(vm->ram);
	free(vm);
}

/* Validate a byte range and convert it to frames. */
static int range_to_frames(const struct sevmig_vm *vm, const char *what,
			   uint64_t gpa, uint64_t size, uint64_t *gfn,
			   uint64_t *npages)
{
	if ((gpa & PAGE_MASK_4K) || (size & PAGE_MASK_4K) || !size)
		return sevmig_err(vm->ctx, -EINVAL,
				  "%s: [0x%llx, +0x%llx) is not a non-empty 4 KiB-aligned range",
				  what, (unsigned long long)gpa,
				  (unsigned long long)size);
	*gfn = gpa >> PAGE_SHIFT;
	*npages = size >> PAGE_SHIFT;
	if (*gfn >= vm->max_gfn || *npages > vm->max_gfn - *gfn)
		return sevmig_err(vm->ctx, -EINVAL,
				  "%s: [0x%llx, +0x%llx) lies beyond the guest's %u physical address bits",
				  what, (unsigned long long)gpa,
				  (unsigned long long)size, vm->phys_bits);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_ram_add(struct sevmig_vm *vm, uint64_t gpa,
				    uint64_t size, void *hva, uint32_t flags)
{
	uint64_t gfn, npages;
	uint32_t i;
	int ret;

	if (!vm || flags)
		return -EINVAL;
	ret = range_to_frames(vm, "sevmig_vm_ram_add", gpa, size, &gfn, &npages);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&vm->lock);
	for (i = 0; i < vm->nram && vm->ram[i].gfn < gfn; i++)
		;
	if ((i > 0 && vm->ram[i - 1].gfn + vm->ram[i - 1].npages > gfn) ||
	    (i < vm->nram && gfn + npages > vm->ram[i].gfn)) {
		ret = -EEXIST;
	} else if (vm->nram == SEVMIG_VM_MAX_RAM) {
		ret = -ENOSPC;
	} else {
		struct vm_ram *n = realloc(vm->ram, (vm->nram + 1) * sizeof(*n));

		if (!n) {
			ret = -ENOMEM;
		} else {
			vm->ram = n;
			memmove(&n[i + 1], &n[i], (vm->nram - i) * sizeof(*n));
			n[i] = (struct vm_ram){ .gfn = gfn, .npages = npages,
						.hva = hva };
			vm->nram++;
		}
	}
	pthread_rwlock_unlock(&vm->lock);
	if (ret == -EEXIST)
		return sevmig_err(vm->ctx, ret,
				  "sevmig_vm_ram_add: [0x%llx, +0x%llx) overlaps a registered RAM region",
				  (unsigned long long)gpa, (unsigned long long)size);
	if (ret == -ENOSPC)
		return sevmig_err(vm->ctx, ret,
				  "sevmig_vm_ram_add: more than %u RAM regions",
				  SEVMIG_VM_MAX_RAM);
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_ram_remove(struct sevmig_vm *vm, uint64_t gpa,
				       uint64_t size, uint32_t flags)
{
	int ret = -ENOENT;

	if (!vm || flags)
		return -EINVAL;
	pthread_rwlock_wrlock(&vm->lock);
	for (uint32_t i = 0; i < vm->nram; i++) {
		if (vm->ram[i].gfn << PAGE_SHIFT == gpa &&
		    vm->ram[i].npages << PAGE_SHIFT == size) {
			memmove(&vm->ram[i], &vm->ram[i + 1],
				(vm->nram - i - 1) * sizeof(vm->ram[0]));
			vm->nram--;
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&vm->lock);
	if (ret)
		return sevmig_err(vm->ctx, ret,
				  "sevmig_vm_ram_remove: no RAM region [0x%llx, +0x%llx)",
				  (unsigned long long)gpa, (unsigned long long)size);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_migration_control(struct sevmig_vm *vm,
					      uint64_t *ret_val)
{
	if (!vm || !ret_val)
		return -EINVAL;
	*ret_val = __atomic_load_n(&vm->migration_control, __ATOMIC_ACQUIRE);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_set_migration_control(struct sevmig_vm *vm,
						  uint64_t val, uint32_t flags)
{
	if (!vm || flags)
		return -EINVAL;
	if (val & ~(uint64_t)SEVMIG_MIGRATION_CONTROL_READY)
		return sevmig_err(vm->ctx, -EINVAL,
				  "sevmig_vm_set_migration_control: 0x%llx sets reserved bits",
				  (unsigned long long)val);
	__atomic_store_n(&vm->migration_control, val, __ATOMIC_RELEASE);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_firmware_shared_add(struct sevmig_vm *vm,
						uint64_t gpa, uint64_t size,
						uint32_t flags)
{
	uint64_t gfn, npages;
	int ret;

	if (!vm || flags)
		return -EINVAL;
	ret = range_to_frames(vm, "sevmig_vm_firmware_shared_add", gpa, size,
			      &gfn, &npages);
	if (ret)
		return ret;
	pthread_rwlock_wrlock(&vm->lock);
	if (vm->nfw_shared == SEVMIG_VM_MAX_FW_SHARED) {
		ret = -ENOSPC;
	} else {
		vm->fw_shared[vm->nfw_shared++] =
			(struct vm_range){ .gfn = gfn, .npages = npages };
	}
	pthread_rwlock_unlock(&vm->lock);
	if (ret)
		return sevmig_err(vm->ctx, ret,
				  "sevmig_vm_firmware_shared_add: more than %u ranges",
				  SEVMIG_VM_MAX_FW_SHARED);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_reset(struct sevmig_vm *vm, uint32_t flags)
{
	int ret;

	if (!vm || flags)
		return -EINVAL;
	__atomic_store_n(&vm->migration_control, 0, __ATOMIC_RELEASE);
	pthread_rwlock_rdlock(&vm->lock);
	ret = sevmig_vm_pages_reset(vm);
	for (uint32_t i = 0; !ret && i < vm->nfw_shared; i++)
		ret = sevmig_vm_pages_set(vm, vm->fw_shared[i].gfn,
					  vm->fw_shared[i].npages, true);
	pthread_rwlock_unlock(&vm->lock);
	if (ret) {
		__atomic_store_n(&vm->tracking_lost, 1, __ATOMIC_RELEASE);
		return sevmig_err(vm->ctx, ret, "sevmig_vm_reset: page state: %s",
				  sevmig_strerror(ret));
	}
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_set_guest_policy(struct sevmig_vm *vm,
					     uint32_t policy, uint32_t flags)
{
	if (!vm || flags)
		return -EINVAL;
	pthread_rwlock_wrlock(&vm->lock);
	vm->guest_policy = policy;
	vm->guest_policy_known = true;
	pthread_rwlock_unlock(&vm->lock);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_readiness(struct sevmig_vm *vm,
				      uint64_t *ret_reasons, uint32_t flags)
{
	uint64_t r = 0;

	if (!vm || !ret_reasons || flags)
		return -EINVAL;
	if (vm->host_policy == SEVMIG_HOST_POLICY_DENY)
		r |= SEVMIG_REASON_HOST_POLICY_DENY;
	else if (!sevmig_vm_offered(vm))
		r |= SEVMIG_REASON_NOT_NEGOTIATED;
	if (vm->host_policy != SEVMIG_HOST_POLICY_OVERRIDE_READY &&
	    !(__atomic_load_n(&vm->migration_control, __ATOMIC_ACQUIRE) &
	      SEVMIG_MIGRATION_CONTROL_READY))
		r |= SEVMIG_REASON_GUEST_NOT_READY;
	pthread_rwlock_rdlock(&vm->lock);
	if (vm->guest_policy_known && (vm->guest_policy & SEVMIG_GUEST_POLICY_NOSEND))
		r |= SEVMIG_REASON_POLICY_NOSEND;
	pthread_rwlock_unlock(&vm->lock);
	if (__atomic_load_n(&vm->tracking_lost, __ATOMIC_ACQUIRE))
		r |= SEVMIG_REASON_TRACKING_LOST;
	*ret_reasons = r;
	return 0;
}
