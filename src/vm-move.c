// SPDX-License-Identifier: MIT
/*
 * Intra-host moves and mirror VMs (KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM and
 * KVM_CAP_VM_COPY_ENC_CONTEXT_FROM): what a handle knows of its encryption
 * context, the rules KVM and libsevmig apply, checked before the ioctl and
 * named when broken, the bounded retry of KVM's contention answers, and the
 * hand-over of what KVM does not move (page-state tracker, MSR value, guest
 * policy). The guide is docs/move.md.
 *
 * Lock order: a handle's busy claim (never waited for while holding a lock)
 * -> vcpu_lock (two handles: lower address first) -> vm->lock (likewise)
 * -> a link's lock (a leaf).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "psp-platform.h"
#include "uapi/kvm-abi.h"
#include "vm-priv.h"

/*
 * A primary and its mirrors share one link. The primary handle and every
 * mirror handle that ever attached hold a reference, so whichever handle
 * is freed first leaves the others a valid object; no state is global.
 */
struct vm_link {
	pthread_mutex_t lock;
	unsigned int refs;
	struct sevmig_vm *primary;	/* NULL once the primary handle is freed */
	struct sevmig_vm *mirrors;	/* attached mirrors, through link_next */
	uint32_t nmirrors;
};

/* Contention: attempts and the sleep between them (see move.h). */
#define CTX_TRIES 64u
#define CTX_BACKOFF_MIN_US 20u
#define CTX_BACKOFF_MAX_US 5000u

static void backoff(unsigned int attempt, uint64_t *seed)
{
	uint64_t us = (uint64_t)CTX_BACKOFF_MIN_US << (attempt < 9 ? attempt : 9);
	struct timespec ts;

	if (us > CTX_BACKOFF_MAX_US)
		us = CTX_BACKOFF_MAX_US;
	/* Jitter, so threads that collided do not collide again in step. */
	*seed ^= *seed << 13;
	*seed ^= *seed >> 7;
	*seed ^= *seed << 17;
	us = us / 2 + *seed % (us / 2 + 1);
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(us * 1000u);
	while (nanosleep(&ts, &ts) == -1)
		;
}

static uint64_t seed_init(const void *a, const void *b)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull) ^
	       (uint64_t)(uintptr_t)b ^ (uint64_t)ts.tv_nsec ^ 1u;
}

static bool try_claim(struct sevmig_vm *vm)
{
	int zero = 0;

	return __atomic_compare_exchange_n(&vm->busy, &zero, 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void sevmig_vm_unclaim(struct sevmig_vm *vm)
{
	__atomic_store_n(&vm->busy, 0, __ATOMIC_RELEASE);
}

int sevmig_vm_claim(struct sevmig_vm *vm, const char *fn)
{
	uint64_t seed = seed_init(vm, fn);

	for (unsigned int i = 0; i < CTX_TRIES; i++) {
		if (try_claim(vm))
			return 0;
		backoff(i, &seed);
	}
	return sevmig_err(vm->ctx, -EBUSY,
			  "%s: VM fd %d stayed held by another thread's move, mirror or teardown: %s",
			  fn, vm->vm_fd,
			  sevmig_reason_string(SEVMIG_REASON_CONTENDED));
}

/* ---------------------------------------------------------------- links */

static struct vm_link *link_of(const struct sevmig_vm *vm)
{
	return __atomic_load_n(&vm->link, __ATOMIC_ACQUIRE);
}

/* The link @vm is the primary of, created on first use (@vm claimed). */
static struct vm_link *primary_link(struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);

	if (l)
		return l;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (pthread_mutex_init(&l->lock, NULL)) {
		free(l);
		return NULL;
	}
	l->refs = 1;
	l->primary = vm;
	__atomic_store_n(&vm->link, l, __ATOMIC_RELEASE);
	return l;
}

static void link_put_locked(struct vm_link *l, bool *last)
{
	*last = --l->refs == 0;
}

static void link_free(struct vm_link *l)
{
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Attach @m (claimed, no link yet) to primary @p's link. */
static int link_attach(struct sevmig_vm *m, struct sevmig_vm *p)
{
	struct vm_link *l = primary_link(p);

	if (!l)
		return -ENOMEM;
	pthread_mutex_lock(&l->lock);
	m->link_next = l->mirrors;
	l->mirrors = m;
	l->nmirrors++;
	l->refs++;
	pthread_mutex_unlock(&l->lock);
	__atomic_store_n(&m->link, l, __ATOMIC_RELEASE);
	return 0;
}

static void unlink_locked(struct vm_link *l, struct sevmig_vm *m)
{
	for (struct sevmig_vm **pp = &l->mirrors; *pp; pp = &(*pp)->link_next) {
		if (*pp == m) {
			*pp = m->link_next;
			m->link_next = NULL;
			l->nmirrors--;
			return;
		}
	}
}

void sevmig_vm_link_detach(struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->primary != vm)
		unlink_locked(l, vm);
	pthread_mutex_unlock(&l->lock);
}

struct sevmig_vm *sevmig_vm_link_pop_mirror(struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);
	struct sevmig_vm *m = NULL;

	if (!l)
		return NULL;
	pthread_mutex_lock(&l->lock);
	if (l->primary == vm && l->mirrors) {
		m = l->mirrors;
		l->mirrors = m->link_next;
		m->link_next = NULL;
		l->nmirrors--;
	}
	pthread_mutex_unlock(&l->lock);
	return m;
}

uint32_t sevmig_vm_mirror_count(const struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);
	uint32_t n = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (l->primary == vm)
		n = l->nmirrors;
	pthread_mutex_unlock(&l->lock);
	return n;
}

uint32_t sevmig_vm_primary_state(const struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);
	uint32_t s = 0;

	if (!l)
		return 0;
	pthread_mutex_lock(&l->lock);
	if (l->primary != vm)	/* a freed primary counts as torn down */
		s = l->primary ? sevmig_vm_get_state(l->primary) :
				 SEVMIG_VM_DEAD;
	pthread_mutex_unlock(&l->lock);
	return s;
}

void sevmig_vm_link_release(struct sevmig_vm *vm)
{
	struct vm_link *l = link_of(vm);
	uint32_t orphans = 0;
	bool last;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->primary == vm) {
		orphans = l->nmirrors;
		l->primary = NULL;
	} else {
		unlink_locked(l, vm);
	}
	link_put_locked(l, &last);
	pthread_mutex_unlock(&l->lock);
	if (orphans)
		sevmig_log(vm->ctx, SEVMIG_LOG_WARNING,
			   "VM fd %d freed with %u mirror(s) attached: they may no longer run, and KVM keeps the shared context until they are closed; tear mirrors down first (sevmig_vm_teardown)",
			   vm->vm_fd, orphans);
	if (last)
		link_free(l);
}

static bool runnable_state(uint32_t s)
{
	return s == SEVMIG_VM_LIVE || s == SEVMIG_VM_SENDING ||
	       s == SEVMIG_VM_INCOMING;
}

bool sevmig_vm_never_runs(const struct sevmig_vm *vm)
{
	uint32_t p;

	if (!runnable_state(sevmig_vm_get_state(vm)))
		return true;
	p = sevmig_vm_primary_state(vm);
	return p && !runnable_state(p);
}

int sevmig_vm_check_fw(const struct sevmig_vm *vm, uint32_t id,
		       const char *fn)
{
	if (__atomic_load_n(&vm->role, __ATOMIC_ACQUIRE) != SEVMIG_VM_ROLE_MIRROR)
		return 0;
	if (id == KVM_SEV_LAUNCH_UPDATE_VMSA || id == KVM_SEV_GUEST_STATUS ||
	    id == KVM_SEV_DBG_DECRYPT || id == KVM_SEV_DBG_ENCRYPT)
		return 0;
	return sevmig_err(vm->ctx, -EINVAL,
			  "%s: VM fd %d is a mirror and may not issue %s: KVM lets a mirror issue only LAUNCH_UPDATE_VMSA, GUEST_STATUS, DBG_DECRYPT and DBG_ENCRYPT (%s)",
			  fn, vm->vm_fd, sevmig_kvm_sev_cmd_name(id),
			  sevmig_reason_string(SEVMIG_REASON_IS_MIRROR));
}

/* -------------------------------------------------------- the SEV type */

static const char *sev_type_name(uint32_t t)
{
	switch (t) {
	case SEVMIG_SEV_TYPE_NONE: return "no SEV context";
	case SEVMIG_SEV_TYPE_SEV: return "SEV";
	case SEVMIG_SEV_TYPE_SEV_ES: return "SEV-ES";
	case SEVMIG_SEV_TYPE_SNP: return "SEV-SNP";
	case VM_SEV_ANY: return "an SEV context of unknown kind";
	default: return "not known";
	}
}

/* What a VM type says of a context that exists. */
static uint32_t type_of_vm_type(uint32_t vm_type)
{
	switch (vm_type) {
	case SEVMIG_VM_TYPE_SEV: return SEVMIG_SEV_TYPE_SEV;
	case SEVMIG_VM_TYPE_SEV_ES: return SEVMIG_SEV_TYPE_SEV_ES;
	case SEVMIG_VM_TYPE_SNP: return SEVMIG_SEV_TYPE_SNP;
	default: return VM_SEV_ANY;
	}
}

static uint32_t load_type(const struct sevmig_vm *vm)
{
	return __atomic_load_n(&vm->sev_type, __ATOMIC_ACQUIRE);
}

/*
 * The handle's SEV type, asking GUEST_STATUS when it is not known: success
 * gives SEV or SEV-ES by the policy's ES bit; ENOTTY means no SEV context
 * (KVM checks that before anything else); EPERM an SNP VM (KVM refuses
 * every pre-SNP command there); EBADF a context without a launch or receive
 * yet (KVM then has no /dev/sev descriptor stored for the VM: INIT alone,
 * or a moved-into VM), and INVALID_GUEST a context without a guest: the VM
 * type tells its kind, if anything does. Anything else leaves it unknown.
 */
static uint32_t learn_type(struct sevmig_vm *vm, uint32_t *ret_fw)
{
	struct sevmig_guest_status st = { .size = sizeof(st) };
	uint32_t t = load_type(vm), fw = 0, s;
	int ret;

	if ((t && t != VM_SEV_ANY) || !vm->platform)
		return t;
	s = sevmig_vm_get_state(vm);
	if (s == SEVMIG_VM_MOVED || s == SEVMIG_VM_DEAD)
		return t;
	ret = sevmig_psp_guest_status(vm->platform, vm->vm_fd, &st, &fw);
	if (!ret) {
		t = (st.policy & SEVMIG_GUEST_POLICY_ES) ? SEVMIG_SEV_TYPE_SEV_ES :
							 SEVMIG_SEV_TYPE_SEV;
		pthread_rwlock_wrlock(&vm->lock);
		if (!vm->guest_policy_known) {
			vm->guest_policy = st.policy;
			vm->guest_policy_known = true;
		}
		pthread_rwlock_unlock(&vm->lock);
	} else if (ret == -ENOTTY) {
		t = SEVMIG_SEV_TYPE_NONE;
	} else if (ret == -EPERM) {
		t = SEVMIG_SEV_TYPE_SNP;
	} else if (ret == -EBADF ||
		   (ret == -EIO && fw == SEV_RET_INVALID_GUEST)) {
		t = type_of_vm_type(vm->vm_type);
	} else {
		if (ret_fw && fw)
			*ret_fw = fw;
		sevmig_log(vm->ctx, SEVMIG_LOG_INFO,
			   "VM fd %d: GUEST_STATUS could not tell its SEV type (%s)",
			   vm->vm_fd, sevmig_strerror(ret));
		return t;
	}
	sevmig_log(vm->ctx, SEVMIG_LOG_INFO,
		   "VM fd %d: SEV type from GUEST_STATUS: %s%s", vm->vm_fd,
		   sev_type_name(t),
		   ret == -ENOTTY ? " (KVM's ENOTTY answer, logged above, is how a VM without a context answers)" :
		   ret == -EBADF ? " (KVM's EBADF answer, logged above, is how a context without a launch answers)" : "");
	{
		uint32_t cur = load_type(vm);

		/* Keep what another thread learnt or a move set meanwhile. */
		while ((!cur || cur == VM_SEV_ANY) &&
		       !__atomic_compare_exchange_n(&vm->sev_type, &cur, t,
						    false, __ATOMIC_ACQ_REL,
						    __ATOMIC_ACQUIRE))
			;
	}
	return load_type(vm);
}

/* ------------------------------------------------------------ the rules */

/* One handle as the rules see it. */
struct side {
	const struct sevmig_vm *vm;
	uint32_t state, role, sev_type, vm_type, phys_bits, nvcpus, nmirrors;
	bool paused;
};

static void snapshot(struct sevmig_vm *vm, struct side *s, bool vcpu_locked)
{
	s->vm = vm;
	s->state = sevmig_vm_get_state(vm);
	s->role = __atomic_load_n(&vm->role, __ATOMIC_ACQUIRE);
	s->sev_type = load_type(vm);
	s->vm_type = vm->vm_type;
	s->phys_bits = vm->phys_bits;
	s->nmirrors = sevmig_vm_mirror_count(vm);
	if (!vcpu_locked)
		pthread_mutex_lock(&vm->vcpu_lock);
	s->nvcpus = vm->nvcpus;
	s->paused = sevmig_vm_flag(&vm->paused);
	if (!vcpu_locked)
		pthread_mutex_unlock(&vm->vcpu_lock);
}

struct verdict {
	uint64_t reasons;
	int err;		/* errno of the first rule broken */
	char first[320];	/* that rule, in words */
};

static void refuse(struct verdict *v, uint64_t reason, int err,
		   const char *fmt, ...) SEVMIG_PRINTF(4, 5);

static void refuse(struct verdict *v, uint64_t reason, int err,
		   const char *fmt, ...)
{
	va_list ap;

	if (!v->reasons) {
		v->err = err;
		va_start(ap, fmt);
		/* va_start is right above; the analyzer loses it (x86-64 va_list is an array). */
		// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
		(void)vsnprintf(v->first, sizeof(v->first), fmt, ap);
		va_end(ap);
	}
	v->reasons |= reason;
}

static bool stale_state(uint32_t s)
{
	return s == SEVMIG_VM_SENT || s == SEVMIG_VM_MOVED ||
	       s == SEVMIG_VM_DEAD;
}

static const char *state_why(uint32_t s)
{
	switch (s) {
	case SEVMIG_VM_SENT: return "it was sent to another host (SEND_FINISH)";
	case SEVMIG_VM_MOVED: return "its context moved to another VM";
	case SEVMIG_VM_DEAD: return "it was torn down";
	case SEVMIG_VM_SENDING: return "a cross-host send of it is in progress";
	case SEVMIG_VM_INCOMING: return "it is being received";
	default: return "it is not live";
	}
}

/* LIVE is required of a move's two VMs and of a new mirror. */
static void rule_live(struct verdict *v, const struct side *s, uint64_t reason,
		      const char *who)
{
	if (s->state == SEVMIG_VM_LIVE)
		return;
	refuse(v, reason, stale_state(s->state) ? -ESTALE : -EBUSY,
	       "the %s, VM fd %d, is %s: %s", who, s->vm->vm_fd,
	       sevmig_vm_state_name(s->state), state_why(s->state));
}

static bool is_snp(const struct side *s)
{
	return s->vm_type == SEVMIG_VM_TYPE_SNP ||
	       s->sev_type == SEVMIG_SEV_TYPE_SNP;
}

static bool has_context(uint32_t t)
{
	return t && t != SEVMIG_SEV_TYPE_NONE;
}

/* The source's kind must be known: SNP must be refused, ES has rules. */
static void rule_source_kind(struct verdict *v, const struct side *s,
			     const char *who)
{
	if (s->sev_type == SEVMIG_SEV_TYPE_NONE)
		refuse(v, SEVMIG_REASON_SOURCE_NOT_SEV, -EINVAL,
		       "the %s, VM fd %d, has no SEV encryption context", who,
		       s->vm->vm_fd);
	else if (!s->sev_type || s->sev_type == VM_SEV_ANY)
		refuse(v, SEVMIG_REASON_SEV_TYPE_UNKNOWN, -ENODATA,
		       "the %s, VM fd %d (%s): %s", who, s->vm->vm_fd,
		       s->sev_type ? "an SEV context of unknown kind" :
				     "SEV type not known",
		       sevmig_reason_string(SEVMIG_REASON_SEV_TYPE_UNKNOWN));
}

static void rule_dest_empty(struct verdict *v, const struct side *d,
			    const char *who)
{
	if (has_context(d->sev_type))
		refuse(v, SEVMIG_REASON_DEST_HAS_CONTEXT, -EINVAL,
		       "the %s, VM fd %d, already has %s: create it without any SEV setup (no KVM_SEV_INIT or INIT2)",
		       who, d->vm->vm_fd, sev_type_name(d->sev_type));
}

static void rule_snp(struct verdict *v, const struct side *a,
		     const struct side *b)
{
	const struct side *s = is_snp(a) ? a : is_snp(b) ? b : NULL;

	if (s)
		refuse(v, SEVMIG_REASON_SNP, -EOPNOTSUPP,
		       "VM fd %d is SEV-SNP: %s", s->vm->vm_fd,
		       sevmig_reason_string(SEVMIG_REASON_SNP));
}

static void rule_paused(struct verdict *v, const struct side *s,
			const char *who)
{
	if (s->nvcpus && !s->paused)
		refuse(v, SEVMIG_REASON_VCPUS_RUNNING, -EBUSY,
		       "the %s, VM fd %d, has %u registered vCPU(s) and is not paused: stop its vCPU threads and call sevmig_vm_pause() first",
		       who, s->vm->vm_fd, s->nvcpus);
}

/* KVM's order (sev_vm_move_enc_context_from), then libsevmig's own. */
static void move_rules(struct verdict *v, const struct side *d,
		       const struct side *s)
{
	rule_live(v, d, SEVMIG_REASON_DEST_NOT_LIVE, "destination");
	rule_live(v, s, SEVMIG_REASON_SOURCE_NOT_LIVE, "source");
	if (d->role == SEVMIG_VM_ROLE_MIRROR || s->role == SEVMIG_VM_ROLE_MIRROR)
		refuse(v, SEVMIG_REASON_IS_MIRROR, -EINVAL,
		       "VM fd %d is a mirror: a mirror is never moved and never takes a moved context",
		       (s->role == SEVMIG_VM_ROLE_MIRROR ? s : d)->vm->vm_fd);
	if (s->nmirrors)
		refuse(v, SEVMIG_REASON_HAS_MIRRORS, -EBUSY,
		       "the source, VM fd %d, has %u mirror(s): tear them down before moving it",
		       s->vm->vm_fd, s->nmirrors);
	rule_snp(v, d, s);
	if (d->vm_type && s->vm_type && d->vm_type != s->vm_type)
		refuse(v, SEVMIG_REASON_VM_TYPE_MISMATCH, -EINVAL,
		       "the VMs were created with different KVM VM types (destination %u, source %u in SEVMIG_VM_TYPE_* terms), which KVM refuses",
		       d->vm_type, s->vm_type);
	rule_dest_empty(v, d, "destination");
	rule_source_kind(v, s, "source");
	if (d->phys_bits != s->phys_bits)
		refuse(v, SEVMIG_REASON_PHYS_BITS_MISMATCH, -EINVAL,
		       "the destination handle has %u guest physical address bits, the source %u: the page-state tracker cannot be handed over",
		       d->phys_bits, s->phys_bits);
	rule_paused(v, s, "source");
	rule_paused(v, d, "destination");
	if (s->sev_type == SEVMIG_SEV_TYPE_SEV_ES && s->nvcpus &&
	    d->nvcpus != s->nvcpus)
		refuse(v, SEVMIG_REASON_ES_VCPU_COUNT, -EINVAL,
		       "SEV-ES: the source has %u registered vCPUs, the destination %u; KVM moves an SEV-ES guest only into a VM with as many vCPUs",
		       s->nvcpus, d->nvcpus);
}

/* KVM's order (sev_vm_copy_enc_context_from), then libsevmig's own. */
static void mirror_rules(struct verdict *v, const struct side *m,
			 const struct side *p)
{
	rule_live(v, m, SEVMIG_REASON_DEST_NOT_LIVE, "mirror");
	if (stale_state(p->state))
		refuse(v, SEVMIG_REASON_SOURCE_NOT_LIVE, -ESTALE,
		       "the primary, VM fd %d, is %s: %s", p->vm->vm_fd,
		       sevmig_vm_state_name(p->state), state_why(p->state));
	if (m->role == SEVMIG_VM_ROLE_MIRROR)
		refuse(v, SEVMIG_REASON_IS_MIRROR, -EINVAL,
		       "VM fd %d already is a mirror", m->vm->vm_fd);
	if (p->role == SEVMIG_VM_ROLE_MIRROR)
		refuse(v, SEVMIG_REASON_IS_MIRROR, -EINVAL,
		       "the primary, VM fd %d, is itself a mirror: KVM makes no mirror of a mirror",
		       p->vm->vm_fd);
	rule_snp(v, m, p);
	rule_dest_empty(v, m, "mirror");
	rule_source_kind(v, p, "primary");
	if (m->nvcpus)
		refuse(v, SEVMIG_REASON_MIRROR_HAS_VCPUS, -EINVAL,
		       "the mirror, VM fd %d, has %u registered vCPU(s): %s",
		       m->vm->vm_fd, m->nvcpus,
		       sevmig_reason_string(SEVMIG_REASON_MIRROR_HAS_VCPUS));
}

/* Log a refusal: the first rule in words, the others by their sentence. */
static int report(const struct sevmig_vm *vm, const char *fn,
		  const struct verdict *v, uint64_t *refused_reasons)
{
	uint64_t rest = v->reasons;
	int first = __builtin_ctzll(v->reasons);

	rest &= ~(UINT64_C(1) << first);
	while (rest) {
		uint64_t bit = rest & -rest;

		sevmig_log(vm->ctx, SEVMIG_LOG_INFO, "%s: also refused: %s", fn,
			   sevmig_reason_string(bit));
		rest &= ~bit;
	}
	if (refused_reasons)
		*refused_reasons = v->reasons;
	return sevmig_err(vm->ctx, v->err, "%s: refused: %s", fn, v->first);
}

static int common_args(struct sevmig_vm *a, struct sevmig_vm *b,
		       const char *fn, uint32_t flags)
{
	int ret;

	if (!a || !b)
		return a ? sevmig_arg_null(a->ctx, fn, "a VM handle") :
			   b ? sevmig_arg_null(b->ctx, fn, "a VM handle") :
			       -EINVAL;
	if ((ret = sevmig_arg_flags(a->ctx, fn, flags)))
		return ret;
	if (a->ctx != b->ctx)
		return sevmig_arg_invalid(a->ctx, fn,
					  "the two VM handles belong to different contexts");
	return 0;
}

static bool same_vm(const struct sevmig_vm *a, const struct sevmig_vm *b)
{
	return a == b || a->vm_fd == b->vm_fd;
}

static void lock_two(pthread_mutex_t *a, pthread_mutex_t *b)
{
	if ((uintptr_t)a > (uintptr_t)b) {
		pthread_mutex_t *t = a;

		a = b;
		b = t;
	}
	pthread_mutex_lock(a);
	pthread_mutex_lock(b);
}

static void wrlock_two(pthread_rwlock_t *a, pthread_rwlock_t *b)
{
	if ((uintptr_t)a > (uintptr_t)b) {
		pthread_rwlock_t *t = a;

		a = b;
		b = t;
	}
	pthread_rwlock_wrlock(a);
	pthread_rwlock_wrlock(b);
}

SEVMIG_EXPORT int sevmig_vm_move_check(struct sevmig_vm *dst,
				       struct sevmig_vm *src,
				       uint64_t *ret_reasons, uint32_t flags)
{
	struct verdict v = { 0 };
	struct side d, s;
	int ret;

	if ((ret = common_args(dst, src, __func__, flags)))
		return ret;
	if (!ret_reasons)
		return sevmig_arg_null(dst->ctx, __func__, "ret_reasons");
	if (same_vm(dst, src)) {
		*ret_reasons = SEVMIG_REASON_SAME_VM;
		return 0;
	}
	learn_type(dst, NULL);
	learn_type(src, NULL);
	snapshot(dst, &d, false);
	snapshot(src, &s, false);
	move_rules(&v, &d, &s);
	*ret_reasons = v.reasons;
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_mirror_check(struct sevmig_vm *mirror,
					 struct sevmig_vm *primary,
					 uint64_t *ret_reasons, uint32_t flags)
{
	struct verdict v = { 0 };
	struct side m, p;
	int ret;

	if ((ret = common_args(mirror, primary, __func__, flags)))
		return ret;
	if (!ret_reasons)
		return sevmig_arg_null(mirror->ctx, __func__, "ret_reasons");
	if (same_vm(mirror, primary)) {
		*ret_reasons = SEVMIG_REASON_SAME_VM;
		return 0;
	}
	learn_type(mirror, NULL);
	learn_type(primary, NULL);
	snapshot(mirror, &m, false);
	snapshot(primary, &p, false);
	mirror_rules(&v, &m, &p);
	*ret_reasons = v.reasons;
	return 0;
}

/* KVM_ENABLE_CAP(@cap) on @dst with @src's descriptor. */
static int enable_cap_from(struct sevmig_vm *dst, struct sevmig_vm *src,
			   uint32_t cap)
{
	struct kvm_enable_cap c;

	memset(&c, 0, sizeof(c));
	c.cap = cap;
	c.args[0] = (uint64_t)(uint32_t)src->vm_fd;
	return sevmig_sys_ioctl(dst->ctx, dst->vm_fd, KVM_ENABLE_CAP, &c);
}

/*
 * KVM refused with EINVAL after our rules passed: name what we could not
 * check. @d and @s are the snapshots the rules saw.
 */
static int kernel_einval(const struct sevmig_vm *vm, const char *fn,
			 bool move, const struct side *d, const struct side *s,
			 uint64_t *refused_reasons)
{
	char unknown[256] = "";
	size_t n = 0;
	uint64_t reason = SEVMIG_REASON_KERNEL_REFUSED;

#define UNKNOWN(cond, text)						\
	do {								\
		if ((cond) && n < sizeof(unknown))			\
			n += (size_t)snprintf(unknown + n,		\
					      sizeof(unknown) - n,	\
					      "%s%s", n ? ", " : "", text); \
	} while (0)
	UNKNOWN(move && (!d->vm_type || !s->vm_type), "the two VMs' KVM types");
	UNKNOWN(!d->sev_type, move ? "whether the destination has an SEV context" :
				     "whether the mirror has an SEV context");
	UNKNOWN(!move, "whether the mirror VM has vCPUs the handle does not know of");
	UNKNOWN(move && s->sev_type == SEVMIG_SEV_TYPE_SEV_ES && !s->nvcpus,
		"the SEV-ES vCPU counts (no vCPUs registered)");
#undef UNKNOWN
	if (move && s->sev_type == SEVMIG_SEV_TYPE_SEV_ES && !n)
		reason = SEVMIG_REASON_ES_VMSA;
	if (refused_reasons)
		*refused_reasons = reason;
	if (reason == SEVMIG_REASON_ES_VMSA)
		return sevmig_err(vm->ctx, -EINVAL, "%s: KVM refused (EINVAL): %s",
				  fn, sevmig_reason_string(reason));
	return sevmig_err(vm->ctx, -EINVAL,
			  "%s: KVM refused (EINVAL) for a rule the library could not check%s%s%s",
			  fn, n ? "; not known beforehand: " : "", unknown,
			  move && s->sev_type == SEVMIG_SEV_TYPE_SEV_ES ?
			  "; or a source vCPU without LAUNCH_UPDATE_VMSA" : "");
}

static int kernel_other(const struct sevmig_vm *dst, const struct sevmig_vm *src,
			const char *fn, int ret, uint64_t *refused_reasons)
{
	if (refused_reasons)
		*refused_reasons = 0;
	if (ret == -EBADF)
		return sevmig_err(dst->ctx, ret,
				  "%s: KVM does not see fd %d as a VM descriptor of this process (closed, or not a KVM VM)",
				  fn, src->vm_fd);
	if (ret == -EIO)
		return sevmig_err(dst->ctx, ret,
				  "%s: KVM answered EIO on VM fd %d: it considers that VM dead, or it belongs to another process",
				  fn, dst->vm_fd);
	return sevmig_err(dst->ctx, ret, "%s: KVM_ENABLE_CAP: %s", fn,
			  sevmig_strerror(ret));
}

static int contended(const struct sevmig_vm *vm, const char *fn, int last,
		     uint64_t *refused_reasons)
{
	if (refused_reasons)
		*refused_reasons = SEVMIG_REASON_CONTENDED;
	return sevmig_err(vm->ctx, -EBUSY,
			  "%s: gave up after %u attempts (last answer: %s): %s",
			  fn, CTX_TRIES,
			  last ? sevmig_strerror(last) :
				 "a handle held by another thread",
			  sevmig_reason_string(SEVMIG_REASON_CONTENDED));
}

/* What KVM does not move, under both handles' locks. */
static void hand_over(struct sevmig_vm *dst, struct sevmig_vm *src)
{
	struct sevmig_tracker *t;
	int lost;

	wrlock_two(&dst->lock, &src->lock);
	t = dst->tracker;
	dst->tracker = src->tracker;
	src->tracker = t;
	if (src->guest_policy_known) {
		dst->guest_policy = src->guest_policy;
		dst->guest_policy_known = true;
	}
	pthread_rwlock_unlock(&src->lock);
	pthread_rwlock_unlock(&dst->lock);
	/* The tracking-lost mark describes the tracker: it goes with it. */
	lost = __atomic_load_n(&src->tracking_lost, __ATOMIC_ACQUIRE);
	__atomic_store_n(&src->tracking_lost,
			 __atomic_load_n(&dst->tracking_lost, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&dst->tracking_lost, lost, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->migration_control,
			 __atomic_load_n(&src->migration_control,
					 __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
	__atomic_store_n(&dst->sev_type, load_type(src), __ATOMIC_RELEASE);
	__atomic_store_n(&src->sev_type, SEVMIG_SEV_TYPE_NONE, __ATOMIC_RELEASE);
	__atomic_store_n(&dst->moved_in, true, __ATOMIC_RELEASE);
}

SEVMIG_EXPORT int sevmig_vm_move_from(struct sevmig_vm *dst,
				      struct sevmig_vm *src, uint32_t flags,
				      uint64_t *refused_reasons)
{
	uint64_t seed;
	int ret, last = 0;

	if ((ret = common_args(dst, src, __func__, flags)))
		return ret;
	if (same_vm(dst, src)) {
		struct verdict v = { 0 };

		refuse(&v, SEVMIG_REASON_SAME_VM, -EINVAL,
		       "VM fd %d is both the source and the destination",
		       dst->vm_fd);
		return report(dst, __func__, &v, refused_reasons);
	}
	seed = seed_init(dst, src);
	for (unsigned int attempt = 0; attempt < CTX_TRIES; attempt++) {
		struct verdict v = { 0 };
		struct side d, s;
		uint32_t live = SEVMIG_VM_LIVE;

		if (attempt)
			backoff(attempt - 1, &seed);
		if (!try_claim(dst))
			continue;
		if (!try_claim(src)) {
			sevmig_vm_unclaim(dst);
			continue;
		}
		learn_type(dst, NULL);
		learn_type(src, NULL);
		/* Held until the source is MOVED: no resume can slip in. */
		lock_two(&dst->vcpu_lock, &src->vcpu_lock);
		snapshot(dst, &d, true);
		snapshot(src, &s, true);
		move_rules(&v, &d, &s);
		/* Claimed for the move: a racing state change shows here. */
		if (!v.reasons &&
		    !__atomic_compare_exchange_n(&src->state, &live,
						 SEVMIG_VM_MOVED, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			s.state = live;
			rule_live(&v, &s, SEVMIG_REASON_SOURCE_NOT_LIVE, "source");
		}
		if (v.reasons) {
			pthread_mutex_unlock(&src->vcpu_lock);
			pthread_mutex_unlock(&dst->vcpu_lock);
			sevmig_vm_unclaim(src);
			sevmig_vm_unclaim(dst);
			return report(dst, __func__, &v, refused_reasons);
		}
		if (d.vm_type != SEVMIG_VM_TYPE_DEFAULT && d.vm_type)
			sevmig_log(dst->ctx, SEVMIG_LOG_WARNING,
				   "%s: VM fd %d was created with an SEV VM type: upstream KVM may leave it unable to enter KVM_RUN after the move (need_init); type-0 VMs are the tested path",
				   __func__, dst->vm_fd);
		ret = enable_cap_from(dst, src, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM);
		if (!ret) {
			hand_over(dst, src);
			pthread_mutex_unlock(&src->vcpu_lock);
			pthread_mutex_unlock(&dst->vcpu_lock);
			sevmig_vm_unclaim(src);
			sevmig_vm_unclaim(dst);
			sevmig_log(dst->ctx, SEVMIG_LOG_INFO,
				   "VM fd %d: live -> moved (its %s context moved to VM fd %d, which carries its page state on)",
				   src->vm_fd, sev_type_name(s.sev_type),
				   dst->vm_fd);
			return 0;
		}
		__atomic_store_n(&src->state, SEVMIG_VM_LIVE, __ATOMIC_RELEASE);
		pthread_mutex_unlock(&src->vcpu_lock);
		pthread_mutex_unlock(&dst->vcpu_lock);
		sevmig_vm_unclaim(src);
		sevmig_vm_unclaim(dst);
		if (ret == -EBUSY || ret == -EINTR) {
			last = ret;
			sevmig_log(dst->ctx, SEVMIG_LOG_DEBUG,
				   "%s: KVM answered %s (attempt %u): retrying",
				   __func__, ret == -EBUSY ? "EBUSY" : "EINTR",
				   attempt + 1);
			continue;
		}
		if (ret == -EINVAL)
			return kernel_einval(dst, __func__, true, &d, &s,
					     refused_reasons);
		return kernel_other(dst, src, __func__, ret, refused_reasons);
	}
	return contended(dst, __func__, last, refused_reasons);
}

SEVMIG_EXPORT int sevmig_vm_mirror_from(struct sevmig_vm *mirror,
					struct sevmig_vm *primary,
					uint32_t flags, uint64_t *refused_reasons)
{
	uint64_t seed;
	int ret, last = 0;

	if ((ret = common_args(mirror, primary, __func__, flags)))
		return ret;
	if (same_vm(mirror, primary)) {
		struct verdict v = { 0 };

		refuse(&v, SEVMIG_REASON_SAME_VM, -EINVAL,
		       "VM fd %d cannot mirror itself", mirror->vm_fd);
		return report(mirror, __func__, &v, refused_reasons);
	}
	seed = seed_init(mirror, primary);
	for (unsigned int attempt = 0; attempt < CTX_TRIES; attempt++) {
		struct verdict v = { 0 };
		struct side m, p;

		if (attempt)
			backoff(attempt - 1, &seed);
		if (!try_claim(mirror))
			continue;
		if (!try_claim(primary)) {
			sevmig_vm_unclaim(mirror);
			continue;
		}
		learn_type(mirror, NULL);
		learn_type(primary, NULL);
		/* No vCPU may be registered on the mirror until it is one. */
		pthread_mutex_lock(&mirror->vcpu_lock);
		snapshot(mirror, &m, true);
		snapshot(primary, &p, false);
		mirror_rules(&v, &m, &p);
		if (v.reasons) {
			pthread_mutex_unlock(&mirror->vcpu_lock);
			sevmig_vm_unclaim(primary);
			sevmig_vm_unclaim(mirror);
			return report(mirror, __func__, &v, refused_reasons);
		}
		ret = enable_cap_from(mirror, primary,
				      KVM_CAP_VM_COPY_ENC_CONTEXT_FROM);
		if (!ret) {
			ret = link_attach(mirror, primary);
			if (!ret) {
				__atomic_store_n(&mirror->sev_type, p.sev_type,
						 __ATOMIC_RELEASE);
				__atomic_store_n(&mirror->role,
						 SEVMIG_VM_ROLE_MIRROR,
						 __ATOMIC_RELEASE);
			}
		}
		pthread_mutex_unlock(&mirror->vcpu_lock);
		sevmig_vm_unclaim(primary);
		sevmig_vm_unclaim(mirror);
		if (!ret) {
			sevmig_log(mirror->ctx, SEVMIG_LOG_INFO,
				   "VM fd %d is now a mirror of VM fd %d (%s)",
				   mirror->vm_fd, primary->vm_fd,
				   sev_type_name(p.sev_type));
			return 0;
		}
		if (ret == -ENOMEM) {
			/*
			 * KVM made the mirror but we cannot record it: the
			 * handle must not pass for an owner of a context.
			 */
			__atomic_store_n(&mirror->role, SEVMIG_VM_ROLE_MIRROR,
					 __ATOMIC_RELEASE);
			__atomic_store_n(&mirror->sev_type, p.sev_type,
					 __ATOMIC_RELEASE);
			if (refused_reasons)
				*refused_reasons = 0;
			return sevmig_err(mirror->ctx, ret,
					  "%s: VM fd %d became a mirror, but the link to its primary could not be recorded (out of memory): tear it down",
					  __func__, mirror->vm_fd);
		}
		if (ret == -EBUSY || ret == -EINTR) {
			last = ret;
			sevmig_log(mirror->ctx, SEVMIG_LOG_DEBUG,
				   "%s: KVM answered %s (attempt %u): retrying",
				   __func__, ret == -EBUSY ? "EBUSY" : "EINTR",
				   attempt + 1);
			continue;
		}
		if (ret == -EINVAL)
			return kernel_einval(mirror, __func__, false, &m, &p,
					     refused_reasons);
		return kernel_other(mirror, primary, __func__, ret,
				    refused_reasons);
	}
	return contended(mirror, __func__, last, refused_reasons);
}

SEVMIG_EXPORT int sevmig_vm_mirror_create(struct sevmig_vm *primary,
					  int kvm_fd, uint32_t flags,
					  struct sevmig_vm **ret_mirror,
					  uint64_t *refused_reasons)
{
	struct sevmig_vm_opts o;
	struct sevmig_vm *m = NULL;
	int fd, ret;

	if (!primary)
		return -EINVAL;
	if (!ret_mirror)
		return sevmig_arg_null(primary->ctx, __func__, "ret_mirror");
	if ((ret = sevmig_arg_flags(primary->ctx, __func__, flags)))
		return ret;
	if (kvm_fd < 0)
		return sevmig_arg_invalid(primary->ctx, __func__,
					  "kvm_fd %d is not a descriptor", kvm_fd);
	fd = sevmig_sys_ioctl_val(primary->ctx, kvm_fd, KVM_CREATE_VM,
				  KVM_X86_DEFAULT_VM);
	if (fd < 0 && refused_reasons)
		*refused_reasons = 0;
	if (fd < 0)
		return sevmig_err(primary->ctx, fd,
				  "%s: KVM_CREATE_VM on fd %d: %s", __func__,
				  kvm_fd, sevmig_strerror(fd));
	memset(&o, 0, sizeof(o));
	o.size = sizeof(o);
	o.vm_fd = fd;
	o.phys_bits = primary->phys_bits;
	o.host_policy = primary->host_policy;
	o.platform = primary->platform;
	o.vm_type = SEVMIG_VM_TYPE_DEFAULT;
	o.sev_type = SEVMIG_SEV_TYPE_NONE;
	ret = sevmig_vm_new(primary->ctx, &o, &m);
	if (ret) {
		(void)sevmig_sys_close(primary->ctx, fd);
		if (refused_reasons)
			*refused_reasons = 0;
		return ret;
	}
	m->owns_fd = true;
	ret = sevmig_vm_mirror_from(m, primary, 0, refused_reasons);
	if (ret) {
		sevmig_vm_free(m);	/* closes the descriptor it owns */
		return ret;
	}
	*ret_mirror = m;
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_role(struct sevmig_vm *vm, uint32_t *ret_role,
				 uint32_t *ret_mirrors)
{
	if (!vm)
		return -EINVAL;
	if (!ret_role)
		return sevmig_arg_null(vm->ctx, __func__, "ret_role");
	*ret_role = __atomic_load_n(&vm->role, __ATOMIC_ACQUIRE);
	if (ret_mirrors)
		*ret_mirrors = sevmig_vm_mirror_count(vm);
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_sev_type(struct sevmig_vm *vm, uint32_t *ret_type,
				     uint32_t *ret_fw_error)
{
	uint32_t t;

	if (!vm)
		return -EINVAL;
	if (!ret_type)
		return sevmig_arg_null(vm->ctx, __func__, "ret_type");
	t = learn_type(vm, ret_fw_error);
	*ret_type = t == VM_SEV_ANY ? 0 : t;
	return 0;
}

SEVMIG_EXPORT int sevmig_vm_fd(const struct sevmig_vm *vm)
{
	return vm ? vm->vm_fd : -EINVAL;
}
