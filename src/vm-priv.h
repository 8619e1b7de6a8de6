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
	/* A session's RECEIVE_START on platform, counted there until the
	 * handle is freed (stays with the handle on a move); else NULL. */
	struct sevmig_platform_uses *received;
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

	/*
	 * Migration sessions: at most one at a time (atomic flag); while a
	 * send session commits, resume is refused; the last session's id and
	 * verdict answer a destination left in doubt (under lock).
	 */
	int session_busy;
	int resume_blocked;
	bool last_session_valid;
	uint8_t last_session_id[16];

	/* vCPUs and the paused mark, under vcpu_lock. */
	pthread_mutex_t vcpu_lock;
	struct vm_vcpu *vcpus;
	uint32_t nvcpus;
	int paused;			/* atomic reads from other threads */

	/* The encryption context, moves and mirrors (vm-move.c). */
	uint32_t vm_type;		/* SEVMIG_VM_TYPE_*, 0 when not said */
	uint32_t sev_type;		/* SEVMIG_SEV_TYPE_* or VM_SEV_ANY, 0
					   unknown; atomic */
	uint32_t role;			/* SEVMIG_VM_ROLE_*; atomic */
	int busy;			/* atomic: a move, mirror or teardown
					   holds the handle */
	bool owns_fd;			/* vm_fd created by libsevmig: closed at
					   teardown or free */
	bool moved_in;			/* took its context by a move (KVM keeps
					   no /dev/sev fd for it) */
	struct vm_link *link;		/* shared with a primary or its mirrors;
					   atomic pointer, set once */
	struct sevmig_vm *link_next;	/* a mirror: next in its link's list */
	bool torn_down;			/* sevmig_vm_teardown() done (busy held) */
};

/* sev_type of a VM with a context whose kind is not known (internal). */
#define VM_SEV_ANY 0x100u

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

/*
 * 0 when the VM's vCPUs may enter KVM_RUN, else -ESTALE (logged for @fn).
 * A mirror may run only while its primary may.
 */
int sevmig_vm_check_runnable(const struct sevmig_vm *vm, const char *fn);

/* ---- vm-move.c ---- */
/*
 * 0 when a handle-level call may issue KVM SEV command @id on @vm; a mirror
 * may issue only what KVM allows a mirror (LAUNCH_UPDATE_VMSA, GUEST_STATUS,
 * DBG_DECRYPT, DBG_ENCRYPT): anything else is -EINVAL, logged for @fn with
 * SEVMIG_REASON_IS_MIRROR's sentence. Migration sessions call this before
 * each firmware command they issue through a handle.
 */
int sevmig_vm_check_fw(const struct sevmig_vm *vm, uint32_t id,
		       const char *fn);
/*
 * The state of @vm's primary when @vm is an attached mirror, else 0. Takes
 * the link's lock (a leaf lock).
 */
uint32_t sevmig_vm_primary_state(const struct sevmig_vm *vm);
/* Detach @vm from its primary or mirrors before it is freed. */
void sevmig_vm_link_release(struct sevmig_vm *vm);
/* Mirrors attached to @vm when it is a primary, else 0. */
uint32_t sevmig_vm_mirror_count(const struct sevmig_vm *vm);
/* Detach one mirror from primary @vm and return it; NULL when none is left. */
struct sevmig_vm *sevmig_vm_link_pop_mirror(struct sevmig_vm *vm);
/* Detach mirror @vm from its primary's list (its link stays until free). */
void sevmig_vm_link_detach(struct sevmig_vm *vm);
/*
 * Hold @vm against other moves, mirrors and teardowns: 0, or -EBUSY after
 * the bounded retries (logged for @fn). sevmig_vm_unclaim() releases it.
 */
int sevmig_vm_claim(struct sevmig_vm *vm, const char *fn);
void sevmig_vm_unclaim(struct sevmig_vm *vm);
/* True when @vm's guest must never run again (itself or its primary). */
bool sevmig_vm_never_runs(const struct sevmig_vm *vm);

#endif /* SEVMIG_VM_PRIV_H */
