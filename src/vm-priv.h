/* SPDX-License-Identifier: MIT */
/* Private: the body of struct sevmig_vm, shared by the vm-* files. */
#ifndef SEVMIG_VM_PRIV_H
#define SEVMIG_VM_PRIV_H

#include <pthread.h>

#include "internal.h"

#define SEVMIG_VM_MAX_RAM     4096u
#define SEVMIG_VM_MAX_FW_SHARED 64u
#define SEVMIG_VM_MAX_VCPUS   1024u

struct vm_vcpu {
	int fd;			/* borrowed */
	void *run;		/* its kvm_run */
};

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
	struct sevmig_platform *platform; /* borrowed; may be NULL */
	uint32_t phys_bits;
	uint64_t max_gfn;		/* exclusive */
	uint32_t host_policy;
	uint32_t guest_policy;
	bool guest_policy_known;
	uint32_t state;			/* SEVMIG_VM_*; atomic */

	/*
	 * Negotiation: what is really in place on this VM. Written on the
	 * VMM's setup thread, read by readiness and vCPU threads: atomic.
	 */
	int exits_enabled;		/* EXIT_HYPERCALL + USER_SPACE_MSR(FILTER) */
	int filter_installed;
	int offered;			/* CPUID bits set */

	/* MSR_KVM_MIGRATION_CONTROL, per VM; atomically accessed. */
	uint64_t migration_control;
	int tracking_lost;		/* sticky; atomic */

	/* RAM map (sorted by gfn) and firmware-shared ranges, under lock. */
	pthread_rwlock_t lock;
	struct vm_ram *ram;
	uint32_t nram;
	struct vm_range fw_shared[SEVMIG_VM_MAX_FW_SHARED];
	uint32_t nfw_shared;

	struct sevmig_tracker *tracker;	/* fed by hypercall exits */

	/* vCPUs and the paused mark, under vcpu_lock. */
	pthread_mutex_t vcpu_lock;
	struct vm_vcpu *vcpus;
	uint32_t nvcpus;
	int paused;			/* atomic reads from other threads */
};

static inline bool sevmig_vm_flag(const int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

/* __atomic_store_n() writes through @flag, which cannot be const. */
/* NOLINTNEXTLINE(readability-non-const-parameter) */
static inline void sevmig_vm_set_flag(int *flag, bool on)
{
	__atomic_store_n(flag, on ? 1 : 0, __ATOMIC_RELEASE);
}

static inline uint32_t sevmig_vm_get_state(const struct sevmig_vm *vm)
{
	return __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE);
}

/*
 * Move the lifecycle from @from to @to; fails with -ESTALE (logged with both
 * states and @why) when another state was current.
 */
int sevmig_vm_transition(struct sevmig_vm *vm, uint32_t from, uint32_t to,
			 const char *why);

/* 0 when the VM's vCPUs may enter KVM_RUN, else -ESTALE (logged for @fn). */
int sevmig_vm_check_runnable(const struct sevmig_vm *vm, const char *fn);

#endif /* SEVMIG_VM_PRIV_H */
