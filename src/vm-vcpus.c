// SPDX-License-Identifier: MIT
/*
 * The VM's vCPUs as the VMM registers them, and the paused mark: the final
 * pass of a migration and a context move happen only while no vCPU can be
 * inside KVM_RUN, and a guest that must never run again is refused resume.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm-priv.h"

static int find_locked(const struct sevmig_vm *vm, int fd)
{
	for (uint32_t i = 0; i < vm->nvcpus; i++)
		if (vm->vcpus[i].fd == fd)
			return (int)i;
	return -1;
}

SEVMIG_EXPORT int sevmig_vm_vcpu_add(struct sevmig_vm *vm, int vcpu_fd,
				     void *kvm_run, uint32_t flags)
{
	struct vm_vcpu *n;
	int ret = 0;

	if (!vm)
		return -EINVAL;
	if (!kvm_run)
		return sevmig_arg_null(vm->ctx, __func__, "kvm_run");
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	if (vcpu_fd < 0)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "vcpu_fd %d is not a descriptor", vcpu_fd);
	pthread_mutex_lock(&vm->vcpu_lock);
	if (find_locked(vm, vcpu_fd) >= 0) {
		ret = -EEXIST;
	} else if (vm->nvcpus == SEVMIG_VM_MAX_VCPUS) {
		ret = -ENOSPC;
	} else {
		n = realloc(vm->vcpus, (vm->nvcpus + 1) * sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
		} else {
			vm->vcpus = n;
			n[vm->nvcpus++] = (struct vm_vcpu){ .fd = vcpu_fd,
							    .run = kvm_run };
		}
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	if (ret == -EEXIST)
		return sevmig_err(vm->ctx, ret, "%s: vCPU fd %d is already registered",
				  __func__, vcpu_fd);
	if (ret == -ENOSPC)
		return sevmig_err(vm->ctx, ret, "%s: more than %u vCPUs", __func__,
				  SEVMIG_VM_MAX_VCPUS);
	if (ret)
		return sevmig_err(vm->ctx, ret, "%s: out of memory", __func__);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_vcpu_remove(struct sevmig_vm *vm, int vcpu_fd,
					uint32_t flags)
{
	int i;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	pthread_mutex_lock(&vm->vcpu_lock);
	i = find_locked(vm, vcpu_fd);
	if (i >= 0) {
		memmove(&vm->vcpus[i], &vm->vcpus[i + 1],
			(vm->nvcpus - (uint32_t)i - 1) * sizeof(vm->vcpus[0]));
		vm->nvcpus--;
	}
	pthread_mutex_unlock(&vm->vcpu_lock);
	if (i < 0)
		return sevmig_err(vm->ctx, -ENOENT, "%s: vCPU fd %d is not registered",
				  __func__, vcpu_fd);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_vcpu_count(struct sevmig_vm *vm,
				       uint32_t *ret_count)
{
	if (!vm)
		return -EINVAL;
	if (!ret_count)
		return sevmig_arg_null(vm->ctx, __func__, "ret_count");
	pthread_mutex_lock(&vm->vcpu_lock);
	*ret_count = vm->nvcpus;
	pthread_mutex_unlock(&vm->vcpu_lock);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_pause(struct sevmig_vm *vm, uint32_t flags)
{
	int ret;

	if (!vm)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(vm->ctx, __func__, flags)) ||
	    (ret = sevmig_vm_check_runnable(vm, __func__)))
		return ret;
	pthread_mutex_lock(&vm->vcpu_lock);
	for (uint32_t i = 0; !ret && !vm->paused && i < vm->nvcpus; i++)
		ret = sevmig_vm_complete_pending(vm, vm->vcpus[i].fd,
						 vm->vcpus[i].run, 0);
	if (!ret)
		sevmig_vm_set_flag(&vm->paused, true);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_resume(struct sevmig_vm *vm, uint32_t flags)
{
	uint32_t s;
	int ret;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	/*
	 * Decided under the vCPU lock: a move holds it from its paused check
	 * to the source's MOVED state, so a resume either comes first (and
	 * the move refuses) or sees MOVED.
	 */
	pthread_mutex_lock(&vm->vcpu_lock);
	s = sevmig_vm_get_state(vm);
	if (s == SEVMIG_VM_INCOMING)
		ret = sevmig_err(vm->ctx, -EBUSY,
				 "%s: VM fd %d is being received: it may run only after the migration committed",
				 __func__, vm->vm_fd);
	else
		ret = sevmig_vm_check_runnable(vm, __func__);
	if (!ret && sevmig_vm_flag(&vm->resume_blocked))
		ret = sevmig_err(vm->ctx, -EBUSY,
				 "%s: VM fd %d is in the final phase of a migration: it may run again only if the migration is cancelled",
				 __func__, vm->vm_fd);
	if (!ret)
		sevmig_vm_set_flag(&vm->paused, false);
	pthread_mutex_unlock(&vm->vcpu_lock);
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_paused(struct sevmig_vm *vm, uint32_t *ret_paused)
{
	if (!vm)
		return -EINVAL;
	if (!ret_paused)
		return sevmig_arg_null(vm->ctx, __func__, "ret_paused");
	*ret_paused = sevmig_vm_flag(&vm->paused) ? 1u : 0u;
	return 0;
}
