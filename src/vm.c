// SPDX-License-Identifier: MIT
/*
 * The VM handle: borrowed descriptors and platform, the lifecycle state, the
 * RAM map, the MSR value, host and guest policy, the page-state tracker,
 * reset and the readiness verdict.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "psp-platform.h"
#include "uapi/kvm-abi.h"
#include "vm-priv.h"

static const char *const state_names[] = {
	[SEVMIG_VM_LIVE] = "live",
	[SEVMIG_VM_SENDING] = "sending",
	[SEVMIG_VM_SENT] = "sent",
	[SEVMIG_VM_MOVED] = "moved",
	[SEVMIG_VM_DEAD] = "dead",
	[SEVMIG_VM_INCOMING] = "incoming",
};

/*
 * Why the page-state tracker failed: it fails only for memory, and
 * sevmig_strerror()'s ENOMEM text is about the kernel pinning pages.
 */
static const char *tracker_why(int err)
{
	return err == -ENOMEM ? "out of memory" : sevmig_strerror(err);
}

SEVMIG_EXPORT const char *sevmig_vm_state_name(uint32_t state)
{
	if (state < ARRAY_SIZE(state_names) && state_names[state])
		return state_names[state];
	return "unknown";
}

SEVMIG_EXPORT int sevmig_vm_new(struct sevmig_ctx *ctx,
				const struct sevmig_vm_opts *opts,
				struct sevmig_vm **ret_vm)
{
	struct sevmig_vm_opts o;
	struct sevmig_vm *vm;
	int ret;

	if (!ctx)
		return -EINVAL;
	if (!opts || !ret_vm)
		return sevmig_arg_null(ctx, __func__, opts ? "ret_vm" : "opts");
	ret = sevmig_arg_in(ctx, __func__, "opts", &o, sizeof(o), opts,
			    SEVMIG_VM_OPTS_SIZE_VER0);
	if (ret || (ret = sevmig_arg_flags(ctx, __func__, o.flags)))
		return ret;
	if (o.reserved0)
		return sevmig_arg_invalid(ctx, __func__,
					  "opts->reserved0 must be 0");
	if (o.vm_fd < 0)
		return sevmig_arg_invalid(ctx, __func__,
					  "vm_fd %d is not a descriptor", o.vm_fd);
	if (!o.phys_bits)
		o.phys_bits = 52;
	if (o.phys_bits < 32 || o.phys_bits > 52)
		return sevmig_arg_invalid(ctx, __func__,
					  "phys_bits %u outside 32..52", o.phys_bits);
	if (!o.host_policy)
		o.host_policy = SEVMIG_HOST_POLICY_ALLOW;
	if (o.host_policy > SEVMIG_HOST_POLICY_OVERRIDE_READY)
		return sevmig_arg_invalid(ctx, __func__,
					  "unknown host policy %u", o.host_policy);
	if (o.platform && o.platform->ctx != ctx)
		return sevmig_arg_invalid(ctx, __func__,
					  "the platform object belongs to another context");
	if (o.vm_type > SEVMIG_VM_TYPE_SNP || o.sev_type > SEVMIG_SEV_TYPE_SNP)
		return sevmig_arg_invalid(ctx, __func__,
					  "unknown vm_type %u or sev_type %u",
					  o.vm_type, o.sev_type);
	/* A typed VM can only ever hold its own kind of context. */
	if (o.sev_type > SEVMIG_SEV_TYPE_NONE &&
	    ((o.vm_type > SEVMIG_VM_TYPE_DEFAULT && o.sev_type != o.vm_type) ||
	     (o.vm_type == SEVMIG_VM_TYPE_DEFAULT &&
	      o.sev_type == SEVMIG_SEV_TYPE_SNP)))
		return sevmig_arg_invalid(ctx, __func__,
					  "sev_type %u cannot live in a VM of vm_type %u",
					  o.sev_type, o.vm_type);

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return sevmig_err(ctx, -ENOMEM, "%s: out of memory", __func__);
	vm->ctx = ctx;
	vm->vm_fd = o.vm_fd;
	vm->platform = o.platform;
	vm->phys_bits = o.phys_bits;
	vm->max_gfn = UINT64_C(1) << (o.phys_bits - GUEST_PAGE_SHIFT);
	vm->host_policy = o.host_policy;
	vm->state = SEVMIG_VM_LIVE;
	vm->vm_type = o.vm_type;
	vm->sev_type = o.sev_type;
	vm->role = SEVMIG_VM_ROLE_OWNER;
	if (pthread_rwlock_init(&vm->lock, NULL)) {
		free(vm);
		return sevmig_err(ctx, -ENOMEM, "%s: cannot create a lock", __func__);
	}
	if (pthread_mutex_init(&vm->vcpu_lock, NULL)) {
		pthread_rwlock_destroy(&vm->lock);
		free(vm);
		return sevmig_err(ctx, -ENOMEM, "%s: cannot create a lock", __func__);
	}
	ret = sevmig_tracker_new(ctx, vm->max_gfn, 0, &vm->tracker);
	if (ret) {
		pthread_mutex_destroy(&vm->vcpu_lock);
		pthread_rwlock_destroy(&vm->lock);
		free(vm);
		return sevmig_err(ctx, ret, "%s: cannot create the page-state tracker: %s",
				  __func__, tracker_why(ret));
	}
	*ret_vm = vm;
	return 0;
}

SEVMIG_EXPORT void sevmig_vm_free(struct sevmig_vm *vm)
{
	if (!vm)
		return;
	sevmig_vm_link_release(vm);
	if (vm->received)
		sevmig_platform_vm_released(vm->received);
	if (vm->owns_fd)
		(void)sevmig_sys_close(vm->ctx, vm->vm_fd);
	sevmig_tracker_free(vm->tracker);
	pthread_mutex_destroy(&vm->vcpu_lock);
	pthread_rwlock_destroy(&vm->lock);
	free(vm->vcpus);
	free(vm->ram);
	free(vm);
}

SEVMIG_EXPORT struct sevmig_tracker *sevmig_vm_tracker(struct sevmig_vm *vm)
{
	struct sevmig_tracker *t;

	if (!vm)
		return NULL;
	/* A move hands the object to another handle under this lock. */
	pthread_rwlock_rdlock(&vm->lock);
	t = vm->tracker;
	pthread_rwlock_unlock(&vm->lock);
	return t;
}

SEVMIG_EXPORT int sevmig_vm_state(struct sevmig_vm *vm, uint32_t *ret_state)
{
	if (!vm)
		return -EINVAL;
	if (!ret_state)
		return sevmig_arg_null(vm->ctx, __func__, "ret_state");
	*ret_state = sevmig_vm_get_state(vm);
	return 0;
}

int sevmig_vm_transition(struct sevmig_vm *vm, uint32_t from, uint32_t to,
			 const char *why)
{
	uint32_t cur = from;

	if (__atomic_compare_exchange_n(&vm->state, &cur, to, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		sevmig_log(vm->ctx, SEVMIG_LOG_INFO, "VM fd %d: %s -> %s (%s)",
			   vm->vm_fd, sevmig_vm_state_name(from),
			   sevmig_vm_state_name(to), why);
		return 0;
	}
	return sevmig_err(vm->ctx, -ESTALE,
			  "VM fd %d: cannot go %s -> %s (%s): the VM is %s",
			  vm->vm_fd, sevmig_vm_state_name(from),
			  sevmig_vm_state_name(to), why,
			  sevmig_vm_state_name(cur));
}

static bool runnable_state(uint32_t s)
{
	return s == SEVMIG_VM_LIVE || s == SEVMIG_VM_SENDING ||
	       s == SEVMIG_VM_INCOMING;
}

int sevmig_vm_check_runnable(const struct sevmig_vm *vm, const char *fn)
{
	uint32_t s = sevmig_vm_get_state(vm), p;

	if (runnable_state(s)) {
		/* A mirror runs in its primary's context: only while it may. */
		p = sevmig_vm_primary_state(vm);
		if (!p || runnable_state(p))
			return 0;
		return sevmig_err(vm->ctx, -ESTALE,
				  "%s: VM fd %d is a mirror of a VM that is %s: the guest context it shares must not run again",
				  fn, vm->vm_fd, sevmig_vm_state_name(p));
	}
	return sevmig_err(vm->ctx, -ESTALE,
			  "%s: VM fd %d is %s: %s", fn, vm->vm_fd,
			  sevmig_vm_state_name(s),
			  s == SEVMIG_VM_SENT ?
			  "it was migrated (SEND_FINISH) and must never run again; the guest runs on the destination" :
			  s == SEVMIG_VM_MOVED ?
			  "its encryption context moved to another VM, which runs the guest now" :
			  "it was torn down");
}

SEVMIG_EXPORT int sevmig_vm_guest_status(struct sevmig_vm *vm,
					 struct sevmig_guest_status *ret_status,
					 uint32_t *ret_fw_error)
{
	uint32_t s;
	int ret;

	if (!vm)
		return -EINVAL;
	if (!ret_status)
		return sevmig_arg_null(vm->ctx, __func__, "the status record");
	if (!vm->platform)
		return sevmig_err(vm->ctx, -ENODEV,
				  "%s: the VM handle was created without a platform (sevmig_vm_opts.platform): it cannot reach the firmware",
				  __func__);
	s = sevmig_vm_get_state(vm);
	if (s == SEVMIG_VM_MOVED || s == SEVMIG_VM_DEAD)
		return sevmig_err(vm->ctx, -ESTALE,
				  "%s: VM fd %d is %s: it has no guest any more",
				  __func__, vm->vm_fd, sevmig_vm_state_name(s));
	ret = sevmig_vm_check_fw(vm, KVM_SEV_GUEST_STATUS, __func__);
	if (ret)
		return ret;
	ret = sevmig_psp_guest_status(vm->platform, vm->vm_fd, ret_status,
				      ret_fw_error);
	if (ret == -EBADF && __atomic_load_n(&vm->moved_in, __ATOMIC_ACQUIRE))
		sevmig_log(vm->ctx, SEVMIG_LOG_ERR,
			   "%s: VM fd %d took its context by an intra-host move, and KVM does not give a moved-into VM the /dev/sev descriptor its firmware commands need",
			   __func__, vm->vm_fd);
	return ret;
}

/* Validate a byte range and convert it to frames. */
static int range_to_frames(const struct sevmig_vm *vm, const char *fn,
			   uint64_t gpa, uint64_t size, uint64_t *gfn,
			   uint64_t *npages)
{
	if ((gpa | size) & (GUEST_PAGE_SIZE - 1) || !size)
		return sevmig_arg_invalid(vm->ctx, fn,
					  "[0x%llx, +0x%llx) is not a non-empty 4 KiB-aligned range",
					  (unsigned long long)gpa,
					  (unsigned long long)size);
	*gfn = gpa >> GUEST_PAGE_SHIFT;
	*npages = size >> GUEST_PAGE_SHIFT;
	if (*gfn >= vm->max_gfn || *npages > vm->max_gfn - *gfn)
		return sevmig_arg_invalid(vm->ctx, fn,
					  "[0x%llx, +0x%llx) lies beyond the guest's %u physical address bits",
					  (unsigned long long)gpa,
					  (unsigned long long)size, vm->phys_bits);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_ram_add(struct sevmig_vm *vm, uint64_t gpa,
				    uint64_t size, void *hva, uint32_t flags)
{
	uint64_t gfn, npages;
	uint32_t i;
	int ret;

	if (!vm)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(vm->ctx, __func__, flags)) ||
	    (ret = range_to_frames(vm, __func__, gpa, size, &gfn, &npages)))
		return ret;
	if (sevmig_vm_flag(&vm->session_busy))
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: a migration session is open on this VM: its RAM map cannot change",
				  __func__);
	pthread_rwlock_wrlock(&vm->lock);
	/* gfn is set: the arg helpers return negative errno, never 0. */
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
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
				  "%s: [0x%llx, +0x%llx) overlaps a registered RAM region",
				  __func__, (unsigned long long)gpa,
				  (unsigned long long)size);
	if (ret == -ENOSPC)
		return sevmig_err(vm->ctx, ret, "%s: more than %u RAM regions",
				  __func__, SEVMIG_VM_MAX_RAM);
	if (ret)
		return sevmig_err(vm->ctx, ret, "%s: out of memory", __func__);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_ram_remove(struct sevmig_vm *vm, uint64_t gpa,
				       uint64_t size, uint32_t flags)
{
	int ret = -ENOENT;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	if (sevmig_vm_flag(&vm->session_busy))
		return sevmig_err(vm->ctx, -EBUSY,
				  "%s: a migration session is open on this VM: its RAM map cannot change",
				  __func__);
	pthread_rwlock_wrlock(&vm->lock);
	for (uint32_t i = 0; i < vm->nram; i++) {
		if (vm->ram[i].gfn << GUEST_PAGE_SHIFT == gpa &&
		    vm->ram[i].npages << GUEST_PAGE_SHIFT == size) {
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
				  "%s: no RAM region [0x%llx, +0x%llx)", __func__,
				  (unsigned long long)gpa, (unsigned long long)size);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_migration_control(struct sevmig_vm *vm,
					      uint64_t *ret_val)
{
	if (!vm)
		return -EINVAL;
	if (!ret_val)
		return sevmig_arg_null(vm->ctx, __func__, "ret_val");
	*ret_val = __atomic_load_n(&vm->migration_control, __ATOMIC_ACQUIRE);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_set_migration_control(struct sevmig_vm *vm,
						  uint64_t val, uint32_t flags)
{
	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	if (val & ~(uint64_t)SEVMIG_MIGRATION_CONTROL_READY)
		return sevmig_arg_invalid(vm->ctx, __func__,
					  "0x%llx sets reserved bits",
					  (unsigned long long)val);
	__atomic_store_n(&vm->migration_control, val, __ATOMIC_RELEASE);
	return 0;
}

/* The page state after a reset: all private but the firmware-shared ranges. */
static int mark_fw_shared_locked(struct sevmig_vm *vm, uint32_t from)
{
	int ret = 0;

	for (uint32_t i = from; !ret && i < vm->nfw_shared; i++)
		ret = sevmig_tracker_set_shared(vm->tracker, vm->fw_shared[i].gfn,
						vm->fw_shared[i].npages);
	return ret;
}

SEVMIG_EXPORT int sevmig_vm_firmware_shared_add(struct sevmig_vm *vm,
						uint64_t gpa, uint64_t size,
						uint32_t flags)
{
	uint64_t gfn, npages;
	int ret;

	if (!vm)
		return -EINVAL;
	if ((ret = sevmig_arg_flags(vm->ctx, __func__, flags)) ||
	    (ret = range_to_frames(vm, __func__, gpa, size, &gfn, &npages)))
		return ret;
	pthread_rwlock_wrlock(&vm->lock);
	if (vm->nfw_shared == SEVMIG_VM_MAX_FW_SHARED) {
		ret = -ENOSPC;
	} else {
		/*
		 * Shared from now on, as after every reset: a fresh VM and a
		 * reset VM must agree on the page state.
		 */
		vm->fw_shared[vm->nfw_shared++] =
			(struct vm_range){ .gfn = gfn, .npages = npages };
		ret = mark_fw_shared_locked(vm, vm->nfw_shared - 1);
		if (ret)
			vm->nfw_shared--;
	}
	pthread_rwlock_unlock(&vm->lock);
	if (ret == -ENOSPC)
		return sevmig_err(vm->ctx, ret, "%s: more than %u ranges",
				  __func__, SEVMIG_VM_MAX_FW_SHARED);
	if (ret)
		return sevmig_err(vm->ctx, ret,
				  "%s: the page-state tracker could not record the range: %s",
				  __func__, tracker_why(ret));
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_reset(struct sevmig_vm *vm, uint32_t flags)
{
	int ret;

	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	__atomic_store_n(&vm->migration_control, 0, __ATOMIC_RELEASE);
	pthread_rwlock_rdlock(&vm->lock);
	ret = sevmig_tracker_reset(vm->tracker, 0);
	if (!ret)
		ret = mark_fw_shared_locked(vm, 0);
	pthread_rwlock_unlock(&vm->lock);
	if (ret) {
		sevmig_vm_set_flag(&vm->tracking_lost, true);
		return sevmig_err(vm->ctx, ret,
				  "%s: the page-state tracker could not be reset (%s): this VM can no longer migrate",
				  __func__, tracker_why(ret));
	}
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_set_guest_policy(struct sevmig_vm *vm,
					     uint32_t policy, uint32_t flags)
{
	if (!vm)
		return -EINVAL;
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
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

	if (!vm)
		return -EINVAL;
	if (!ret_reasons)
		return sevmig_arg_null(vm->ctx, __func__, "ret_reasons");
	if (sevmig_arg_flags(vm->ctx, __func__, flags))
		return -EINVAL;
	if (vm->host_policy == SEVMIG_HOST_POLICY_DENY) {
		r |= SEVMIG_REASON_HOST_POLICY_DENY;
	} else {
		/* Each missing piece of the plumbing by name. */
		if (!sevmig_vm_flag(&vm->exits_enabled))
			r |= SEVMIG_REASON_EXITS_NOT_ENABLED;
		if (!sevmig_vm_flag(&vm->filter_installed))
			r |= SEVMIG_REASON_MSR_FILTER_MISSING;
		if (!sevmig_vm_flag(&vm->offered))
			r |= SEVMIG_REASON_CPUID_NOT_OFFERED;
	}
	if (vm->host_policy != SEVMIG_HOST_POLICY_OVERRIDE_READY &&
	    !(__atomic_load_n(&vm->migration_control, __ATOMIC_ACQUIRE) &
	      SEVMIG_MIGRATION_CONTROL_READY))
		r |= SEVMIG_REASON_GUEST_NOT_READY;
	pthread_rwlock_rdlock(&vm->lock);
	if (vm->guest_policy_known &&
	    (vm->guest_policy & SEVMIG_GUEST_POLICY_NOSEND))
		r |= SEVMIG_REASON_POLICY_NOSEND;
	pthread_rwlock_unlock(&vm->lock);
	if (sevmig_vm_flag(&vm->tracking_lost))
		r |= SEVMIG_REASON_TRACKING_LOST;
	if (sevmig_vm_get_state(vm) != SEVMIG_VM_LIVE)
		r |= SEVMIG_REASON_VM_NOT_LIVE;
	if (__atomic_load_n(&vm->role, __ATOMIC_ACQUIRE) == SEVMIG_VM_ROLE_MIRROR)
		r |= SEVMIG_REASON_IS_MIRROR;
	*ret_reasons = r;
	return 0;
}
