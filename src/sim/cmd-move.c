// SPDX-License-Identifier: MIT
/*
 * The KVM-side encryption context of a VM, which no firmware command
 * touches: KVM_MEMORY_ENCRYPT_(UN)REG_REGION, and KVM_ENABLE_CAP with
 * KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM (a move: the source VM dies) or
 * KVM_CAP_VM_COPY_ENC_CONTEXT_FROM (a mirror), as sev_vm_move_enc_context_from
 * and sev_vm_copy_enc_context_from in arch/x86/kvm/svm/sev.c do them.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim-internal.h"

int sim_reg_region(struct sim_vm *vm, unsigned long req,
		   const struct kvm_enc_region *r)
{
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->sev_active) {
		ret = -ENOTTY;
	} else if (sim_vm_owner(vm)) {
		ret = -EINVAL;
	} else if (req == KVM_MEMORY_ENCRYPT_REG_REGION) {
		struct sim_region *n;

		if (!r->size || r->addr + r->size < r->addr) {
			ret = -EINVAL;
		} else {
			n = realloc(vm->regions,
				    (vm->nregions + 1) * sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
			} else {
				vm->regions = n;
				n[vm->nregions].addr = r->addr;
				n[vm->nregions++].size = r->size;
			}
		}
	} else {
		ret = -EINVAL;
		for (size_t i = 0; i < vm->nregions; i++) {
			if (vm->regions[i].addr == r->addr &&
			    vm->regions[i].size == r->size) {
				vm->regions[i] = vm->regions[--vm->nregions];
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static void lock_two(struct sim_vm *a, struct sim_vm *b)
{
	if ((uintptr_t)a > (uintptr_t)b) {
		struct sim_vm *t = a;

		a = b;
		b = t;
	}
	pthread_mutex_lock(&a->lock);
	pthread_mutex_lock(&b->lock);
}

/* Both VM locks held. */
static int do_move(struct sim_vm *dst, struct sim_vm *src)
{
	struct sevmig_sim *sim = dst->host->sim;

	if (dst->type != src->type || dst->sev_active || !src->sev_active)
		return -EINVAL;
	if (src->es_active && (dst->nr_vcpus != src->nr_vcpus ||
			       src->nr_vmsa != src->nr_vcpus))
		return -EINVAL;
	dst->sev_active = true;
	dst->es_active = src->es_active;
	dst->handle = src->handle;
	dst->nr_vmsa = src->es_active ? dst->nr_vcpus : 0;
	free(dst->regions);
	dst->regions = src->regions;
	dst->nregions = src->nregions;
	/* The kernel copies neither sev->fd nor clears need_init
	 * (docs/simulator.md, assumptions). */
	pthread_mutex_lock(&sim->lock);
	sim_vm_set_owner(dst, sim_vm_owner(src));
	sim_vm_set_owner(src, NULL);
	for (struct sim_vm *m = sim->vms; m; m = m->next) {
		if (sim_vm_owner(m) == src) { /* re-parent mirrors */
			sim_vm_set_owner(m, dst);
			dst->refs++;
			src->refs--; /* never 0: the caller holds a reference */
		}
	}
	pthread_mutex_unlock(&sim->lock);
	src->sev_active = false;
	src->es_active = false;
	src->handle = 0;
	src->nr_vmsa = 0;
	src->regions = NULL;
	src->nregions = 0;
	/* kvm_vm_dead(src): every later ioctl on it and its vCPUs is -EIO. */
	__atomic_store_n(&src->dead, true, __ATOMIC_RELEASE);
	return 0;
}

/* Both VM locks held. */
static int do_copy(struct sim_vm *dst, struct sim_vm *src)
{
	if (dst->sev_active || !src->sev_active || sim_vm_owner(src) ||
	    dst->nr_vcpus)
		return -EINVAL;
	dst->sev_active = true;
	dst->es_active = src->es_active;
	dst->handle = src->handle;
	dst->sev_fd = src->sev_fd;
	dst->need_init = false;
	sim_vm_get(src); /* the mirror keeps its owner */
	sim_vm_set_owner(dst, src);
	return 0;
}

int sim_enc_context_from(struct sim_vm *dst, const struct kvm_enable_cap *cap)
{
	struct sim_vm *src;
	int zero = 0, ret;

	src = cap->args[0] > INT32_MAX ? NULL :
		sim_vm_get_fd(dst->host->sim, (int)cap->args[0]);
	if (src && src->host != dst->host) {
		sim_vm_put(src); /* another simulated machine's VM */
		src = NULL;
	}
	if (!src)
		return -EBADF;
	if (src == dst) {
		sim_vm_put(src);
		return -EINVAL;
	}
	if (!__atomic_compare_exchange_n(&dst->migrating, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		sim_vm_put(src);
		return -EBUSY;
	}
	zero = 0;
	if (!__atomic_compare_exchange_n(&src->migrating, &zero, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		__atomic_store_n(&dst->migrating, 0, __ATOMIC_RELEASE);
		sim_vm_put(src);
		return -EBUSY;
	}
	/* The latency model: taking every vCPU lock takes time. */
	sim_psp_wait(sim_latency_deadline(dst->host));
	lock_two(dst, src);
	if (cap->cap == KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM)
		ret = do_move(dst, src);
	else
		ret = do_copy(dst, src);
	pthread_mutex_unlock(&src->lock);
	pthread_mutex_unlock(&dst->lock);
	__atomic_store_n(&src->migrating, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->migrating, 0, __ATOMIC_RELEASE);
	sim_vm_put(src);
	return ret;
}
