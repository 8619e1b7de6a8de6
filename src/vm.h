/* SPDX-License-Identifier: MIT */
/* Private: the body of struct sevmig_vm, shared by vm.c, negotiate.c, exits.c. */
#ifndef SEVMIG_VM_H
#define SEVMIG_VM_H

#include <pthread.h>

#include "internal.h"

#define SEVMIG_VM_MAX_RAM     4096u
#define SEVMIG_VM_MAX_FW_SHARED 64u

struct vm_ram {
	uint64_t gfn;		/* first frame */
	uint64_t npages;
	void *hva;
};

struct vm_range {
	uint64_t gfn;
	uint64_t npages;
};

struct sevmig_vm {
	struct sevmig_ctx *ctx;
	int vm_fd;			/* borrowed */
	uint32_t phys_bits;
	uint64_t max_gfn;		/* exclusive */
	uint32_t host_policy;
	uint32_t guest_policy;
	bool guest_policy_known;

	/* Negotiation: what is really in place on this VM. */
	bool exits_enabled;		/* EXIT_HYPERCALL + USER_SPACE_MSR(FILTER) */
	bool filter_installed;
	int offered;			/* CPUID bits set; read by vCPU threads */

	/* MSR_KVM_MIGRATION_CONTROL, per VM; atomically accessed. */
	uint64_t migration_control;
	int tracking_lost;		/* sticky; atomic */

	/* RAM map (sorted by gfn) and firmware-shared ranges, under lock. */
	pthread_rwlock_t lock;
	struct vm_ram *ram;
	uint32_t nram;
	struct vm_range fw_shared[SEVMIG_VM_MAX_FW_SHARED];
	uint32_t nfw_shared;

	void *pages;			/* page-state tracker (vm-pages.c) */
};

/* vm-pages.c: the only code that talks to the page-state tracker. */
int sevmig_vm_pages_new(struct sevmig_vm *vm);
void sevmig_vm_pages_free(struct sevmig_vm *vm);
int sevmig_vm_pages_set(struct sevmig_vm *vm, uint64_t gfn, uint64_t npages,
			bool shared);
int sevmig_vm_pages_reset(struct sevmig_vm *vm);
uint64_t sevmig_vm_pages_shared_count(struct sevmig_vm *vm);

static inline bool sevmig_vm_offered(const struct sevmig_vm *vm)
{
	return __atomic_load_n(&vm->offered, __ATOMIC_ACQUIRE) != 0;
}

#endif /* SEVMIG_VM_H */
