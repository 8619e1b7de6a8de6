// SPDX-License-Identifier: MIT
/*
 * Intra-host moves and mirrors on the scripted fake backend: every rule
 * refused before KVM is asked (with its errno, its reason bit and no ioctl),
 * learning the SEV type from GUEST_STATUS, KVM's answers (contention retried
 * then given up, EINVAL named, EBADF, EIO), what the destination takes over,
 * the mirror role and its restrictions, and the argument errors of each call.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"
#include "vm-priv.h"

enum { SEV_FD = 9, KVM_FD = 8, SRC_FD = 20, DST_FD = 21, M_FD = 22,
       M2_FD = 23 };

#define NONE SEVMIG_SEV_TYPE_NONE
#define SEV SEVMIG_SEV_TYPE_SEV
#define ES SEVMIG_SEV_TYPE_SEV_ES

static struct sevmig_vm *mk_full(struct sevmig_ctx *ctx, int fd,
				 uint32_t vm_type, uint32_t sev_type,
				 struct sevmig_platform *p, uint32_t bits)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = fd,
				    .phys_bits = bits, .vm_type = vm_type,
				    .sev_type = sev_type, .platform = p };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	return vm;
}

static struct sevmig_vm *mk(struct sevmig_ctx *ctx, int fd, uint32_t sev_type)
{
	return mk_full(ctx, fd, SEVMIG_VM_TYPE_DEFAULT, sev_type, NULL, 40);
}

/* ---- scripted KVM_ENABLE_CAP(MOVE/COPY) ---- */

static struct kvm_enable_cap caps[8];
static unsigned int ncaps;

static struct fake_call cap_call(int dst, uint32_t cap, int src, int ret)
{
	struct fake_call c = FAKE_IOCTL_ANY(dst, KVM_ENABLE_CAP, ret);
	struct kvm_enable_cap *w = &caps[ncaps++ % ARRAY_LEN(caps)];

	memset(w, 0, sizeof(*w));
	w->cap = cap;
	w->args[0] = (uint64_t)src;
	c.in = w;
	c.in_len = sizeof(*w);
	return c;
}

static struct fake_call move_call(int dst, int src, int ret)
{
	return cap_call(dst, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, src, ret);
}

static struct fake_call copy_call(int dst, int src, int ret)
{
	return cap_call(dst, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, src, ret);
}

/* ---- scripted GUEST_STATUS ---- */

struct status_answer {
	int ret;
	uint32_t fw;
	uint32_t policy;
};

static int status_hook(const struct fake_call *c, void *arg)
{
	const struct status_answer *a = c->hook_data;
	struct kvm_sev_cmd *cmd = arg;
	struct kvm_sev_guest_status st = { .handle = 7, .policy = a->policy,
					   .state = SEV_GSTATE_RUNNING };

	assert_int_equal(cmd->id, KVM_SEV_GUEST_STATUS);
	if (!a->ret)
		memcpy((void *)(uintptr_t)cmd->data, &st, sizeof(st));
	cmd->error = a->fw;
	return a->ret;
}

static struct fake_call status_call(int vm, const struct status_answer *a)
{
	struct fake_call c = FAKE_IOCTL_ANY(vm, KVM_MEMORY_ENCRYPT_OP, 0);

	c.hook = status_hook;
	c.hook_data = (void *)a;
	return c;
}

static uint64_t move_check(struct sevmig_vm *d, struct sevmig_vm *s)
{
	uint64_t r = 0;

	assert_int_equal(sevmig_vm_move_check(d, s, &r, 0), 0);
	return r;
}

static uint64_t mirror_check(struct sevmig_vm *m, struct sevmig_vm *p)
{
	uint64_t r = 0;

	assert_int_equal(sevmig_vm_mirror_check(m, p, &r, 0), 0);
	return r;
}

static uint32_t vm_state(struct sevmig_vm *vm)
{
	uint32_t s = 0;

	assert_int_equal(sevmig_vm_state(vm, &s), 0);
	return s;
}

static _Alignas(64) uint8_t run0[KVM_RUN_SIZE], run1[KVM_RUN_SIZE];

/* Pause first, then register: no KVM_RUN goes to the fake. */
static void paused_with_vcpus(struct sevmig_vm *vm, int first_fd, unsigned n)
{
	assert_int_equal(sevmig_vm_pause(vm, 0), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sevmig_vm_vcpu_add(vm, first_fd + (int)i,
						    i ? run1 : run0, 0), 0);
}

/* ------------------------------------------------------------ arguments */

static void test_args(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0), *fs2 = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *a = mk(ctx, DST_FD, NONE), *b = mk(ctx, SRC_FD, SEV);
	struct sevmig_vm *other = mk(fake_sys_ctx(fs2), M_FD, NONE), *m = NULL;
	uint64_t r = 0x55;
	uint32_t u = 0;

	(void)state;
	assert_int_equal(sevmig_vm_move_check(NULL, b, &r, 0), -EINVAL);
	assert_int_equal(sevmig_vm_move_check(a, NULL, &r, 0), -EINVAL);
	assert_int_equal(sevmig_vm_move_check(NULL, NULL, &r, 0), -EINVAL);
	assert_int_equal(sevmig_vm_move_check(a, b, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_move_check(a, b, &r, 1), -EINVAL);
	assert_int_equal(sevmig_vm_move_check(other, b, &r, 0), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs2), "different contexts"));
	assert_int_equal(sevmig_vm_move_from(NULL, b, 0, &r), -EINVAL);
	assert_int_equal(sevmig_vm_move_from(a, b, 2, &r), -EINVAL);
	assert_int_equal(sevmig_vm_move_from(a, other, 0, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_check(a, b, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_check(a, NULL, &r, 0), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_from(a, b, 4, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_from(a, other, 0, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_create(NULL, KVM_FD, 0, &m, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_create(b, KVM_FD, 0, NULL, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_create(b, KVM_FD, 1, &m, &r), -EINVAL);
	assert_int_equal(sevmig_vm_mirror_create(b, -1, 0, &m, &r), -EINVAL);
	assert_null(m);
	assert_int_equal(r, 0x55);	/* argument errors leave it alone */
	assert_int_equal(sevmig_vm_role(NULL, &u, NULL), -EINVAL);
	assert_int_equal(sevmig_vm_role(a, NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_vm_sev_type(NULL, &u, NULL), -EINVAL);
	assert_int_equal(sevmig_vm_sev_type(a, NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_vm_fd(NULL), -EINVAL);
	assert_int_equal(sevmig_vm_fd(a), DST_FD);
	assert_int_equal(sevmig_vm_role(a, &u, NULL), 0);
	assert_int_equal(u, SEVMIG_VM_ROLE_OWNER);
	sevmig_vm_free(a);
	sevmig_vm_free(b);
	sevmig_vm_free(other);
	fake_sys_done(fs);
	fake_sys_done(fs2);
}

/* The options that tell a handle its VM type and SEV type. */
static void test_opts(void **state)
{
	static const struct { uint32_t vm_type, sev_type; int ok; } cases[] = {
		{ 0, 0, 1 }, { 1, 1, 1 }, { 1, 2, 1 }, { 1, 3, 1 }, { 1, 4, 0 },
		{ 2, 1, 1 }, { 2, 2, 1 }, { 2, 3, 0 }, { 3, 3, 1 }, { 3, 2, 0 },
		{ 4, 4, 1 }, { 4, 2, 0 }, { 0, 4, 1 }, { 5, 0, 0 }, { 0, 5, 0 },
	};
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = 3,
					    .vm_type = cases[i].vm_type,
					    .sev_type = cases[i].sev_type };
		struct sevmig_vm *vm = NULL;
		uint32_t t = 99;

		assert_int_equal(sevmig_vm_new(ctx, &o, &vm),
				 cases[i].ok ? 0 : -EINVAL);
		if (!vm)
			continue;
		/* Told types are kept; no platform means none is learnt. */
		assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
		assert_int_equal(t, cases[i].sev_type);
		sevmig_vm_free(vm);
	}
	{	/* A record of the first published size is still accepted. */
		struct sevmig_vm_opts o = { .size = SEVMIG_VM_OPTS_SIZE_VER0,
					    .vm_fd = 3 };
		struct sevmig_vm *vm = NULL;

		assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
		sevmig_vm_free(vm);
		o.size = SEVMIG_VM_OPTS_SIZE_VER0 - 8;
		assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	}
	fake_sys_done(fs);
}

/* --------------------------------------------------------------- rules */

/* Every rule alone: the verdict bit, and move_from's errno with no ioctl. */
static void test_move_rules(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *d, *s, *m;
	uint64_t r;

	(void)state;
	/* SAME_VM: one handle, and two handles of one descriptor. */
	s = mk(ctx, SRC_FD, SEV);
	d = mk(ctx, SRC_FD, NONE);
	assert_int_equal(move_check(s, s), SEVMIG_REASON_SAME_VM);
	assert_int_equal(move_check(d, s), SEVMIG_REASON_SAME_VM);
	r = 0;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_SAME_VM);
	assert_non_null(strstr(fake_sys_last_error(fs), "both the source and"));
	sevmig_vm_free(d);

	d = mk(ctx, DST_FD, NONE);
	assert_int_equal(move_check(d, s), 0);

	/* Not live: SENT/MOVED/DEAD -ESTALE, SENDING/INCOMING -EBUSY. */
	static const struct { uint32_t st; int err; } states[] = {
		{ SEVMIG_VM_SENT, -ESTALE }, { SEVMIG_VM_MOVED, -ESTALE },
		{ SEVMIG_VM_DEAD, -ESTALE }, { SEVMIG_VM_SENDING, -EBUSY },
		{ SEVMIG_VM_INCOMING, -EBUSY },
	};
	for (size_t i = 0; i < ARRAY_LEN(states); i++) {
		s->state = states[i].st;
		assert_int_equal(move_check(d, s), SEVMIG_REASON_SOURCE_NOT_LIVE);
		r = 0;
		assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), states[i].err);
		assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_LIVE);
		assert_int_equal(s->state, states[i].st);
		s->state = SEVMIG_VM_LIVE;
		d->state = states[i].st;
		assert_int_equal(move_check(d, s), SEVMIG_REASON_DEST_NOT_LIVE);
		assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), states[i].err);
		assert_int_equal(r, SEVMIG_REASON_DEST_NOT_LIVE);
		d->state = SEVMIG_VM_LIVE;
	}
	assert_non_null(strstr(fake_sys_last_error(fs), "being received"));

	/* SNP, by type or by context; -EOPNOTSUPP. */
	m = mk_full(ctx, M_FD, SEVMIG_VM_TYPE_SNP, SEVMIG_SEV_TYPE_SNP, NULL, 40);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_SNP |
					   SEVMIG_REASON_VM_TYPE_MISMATCH);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EOPNOTSUPP);
	assert_int_equal(r, SEVMIG_REASON_SNP | SEVMIG_REASON_VM_TYPE_MISMATCH);
	sevmig_vm_free(m);
	m = mk_full(ctx, M_FD, 0, SEVMIG_SEV_TYPE_SNP, NULL, 40);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_SNP);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EOPNOTSUPP);
	assert_int_equal(r, SEVMIG_REASON_SNP);
	sevmig_vm_free(m);

	/* VM types known and different. */
	m = mk_full(ctx, M_FD, SEVMIG_VM_TYPE_SEV, SEV, NULL, 40);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_VM_TYPE_MISMATCH);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_VM_TYPE_MISMATCH);
	sevmig_vm_free(m);
	/* One type not said: left to KVM. */
	m = mk_full(ctx, M_FD, 0, SEV, NULL, 40);
	assert_int_equal(move_check(d, m), 0);
	sevmig_vm_free(m);

	/* The destination already has a context. */
	m = mk(ctx, M_FD, SEV);
	assert_int_equal(move_check(m, s), SEVMIG_REASON_DEST_HAS_CONTEXT);
	assert_int_equal(sevmig_vm_move_from(m, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_DEST_HAS_CONTEXT);
	sevmig_vm_free(m);

	/* The source has none, or the library cannot tell what it has. */
	m = mk(ctx, M_FD, NONE);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_SOURCE_NOT_SEV);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_SEV);
	sevmig_vm_free(m);
	m = mk(ctx, M_FD, 0);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_SEV_TYPE_UNKNOWN);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -ENODATA);
	assert_int_equal(r, SEVMIG_REASON_SEV_TYPE_UNKNOWN);
	assert_non_null(strstr(fake_sys_last_error(fs), "sev_type"));
	sevmig_vm_free(m);

	/* Different address widths: the tracker cannot change hands. */
	m = mk_full(ctx, M_FD, SEVMIG_VM_TYPE_DEFAULT, SEV, NULL, 48);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_PHYS_BITS_MISMATCH);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EINVAL);
	sevmig_vm_free(m);

	/* Registered vCPUs not paused, on either side: -EBUSY. */
	assert_int_equal(sevmig_vm_vcpu_add(s, 40, run0, 0), 0);
	assert_int_equal(move_check(d, s), SEVMIG_REASON_VCPUS_RUNNING);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_VCPUS_RUNNING);
	assert_non_null(strstr(fake_sys_last_error(fs), "sevmig_vm_pause"));
	assert_int_equal(sevmig_vm_vcpu_remove(s, 40, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_add(d, 41, run1, 0), 0);
	assert_int_equal(move_check(d, s), SEVMIG_REASON_VCPUS_RUNNING);
	assert_int_equal(sevmig_vm_vcpu_remove(d, 41, 0), 0);

	/* Several at once: all bits, errno of the first in KVM's order. */
	s->state = SEVMIG_VM_SENT;
	m = mk(ctx, M_FD, SEV);
	r = 0;
	assert_int_equal(sevmig_vm_move_from(m, s, 0, &r), -ESTALE);
	assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_LIVE |
			    SEVMIG_REASON_DEST_HAS_CONTEXT);
	sevmig_vm_free(m);
	s->state = SEVMIG_VM_LIVE;
	/* Without refused_reasons it refuses all the same. */
	assert_int_equal(sevmig_vm_move_from(s, s, 0, NULL), -EINVAL);

	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);	/* no ioctl was made */
}

/* SEV-ES: the registered vCPU counts must match. */
static void test_move_es_counts(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *s = mk(ctx, SRC_FD, ES), *d = mk(ctx, DST_FD, NONE);
	uint64_t r = 0;

	(void)state;
	paused_with_vcpus(s, 40, 2);
	paused_with_vcpus(d, 50, 1);
	assert_int_equal(move_check(d, s), SEVMIG_REASON_ES_VCPU_COUNT);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_ES_VCPU_COUNT);
	assert_non_null(strstr(fake_sys_last_error(fs), "2 registered vCPUs"));
	/* Plain SEV: counts may differ. */
	s->sev_type = SEV;
	assert_int_equal(move_check(d, s), 0);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

/* ------------------------------------------------------- learning types */

static void test_learn_type(void **state)
{
	static const struct status_answer es = { .policy = SEVMIG_GUEST_POLICY_ES | 1 };
	static const struct status_answer sev = { .policy = 0x1 };
	static const struct status_answer notty = { .ret = -ENOTTY };
	static const struct status_answer perm = { .ret = -EPERM };
	static const struct status_answer inval_guest = { .ret = -EIO,
							  .fw = SEV_RET_INVALID_GUEST };
	static const struct status_answer badf = { .ret = -EBADF };
	static const struct status_answer fwerr = { .ret = -EIO, .fw = 0x14 };
	struct fake_call script[] = {
		status_call(SRC_FD, &es),	/* move_check: src */
		status_call(DST_FD, &notty),	/* ... dst */
		status_call(M_FD, &perm),
		status_call(M2_FD, &inval_guest),
		status_call(30, &inval_guest),
		status_call(30, &inval_guest),	/* a context of unknown kind */
		status_call(30, &inval_guest),	/* is asked again each time */
		status_call(31, &badf),	/* INIT, no launch: a context */
		status_call(31, &badf),
		status_call(32, &fwerr),
		status_call(33, &sev),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_platform *p = NULL;
	struct sevmig_vm *s, *d, *vm;
	uint32_t t = 99, fw = 0, policy;

	(void)state;
	assert_int_equal(sevmig_platform_from_fd(ctx, SEV_FD, 0, &p), 0);
	d = mk_full(ctx, DST_FD, SEVMIG_VM_TYPE_DEFAULT, 0, p, 40);
	s = mk_full(ctx, SRC_FD, SEVMIG_VM_TYPE_DEFAULT, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(s, &t, NULL), 0);
	assert_int_equal(t, ES);
	/* The policy was unknown: GUEST_STATUS's is kept. */
	pthread_rwlock_rdlock(&s->lock);
	policy = s->guest_policy;
	pthread_rwlock_unlock(&s->lock);
	assert_int_equal(policy, SEVMIG_GUEST_POLICY_ES | 1);
	assert_int_equal(sevmig_vm_sev_type(d, &t, NULL), 0);
	assert_int_equal(t, NONE);
	/* Remembered: no second GUEST_STATUS (the script would fail). */
	assert_int_equal(move_check(d, s), 0);

	vm = mk_full(ctx, M_FD, 0, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
	assert_int_equal(t, SEVMIG_SEV_TYPE_SNP);
	assert_int_equal(move_check(d, vm), SEVMIG_REASON_SNP);
	sevmig_vm_free(vm);
	/* A context without a guest: the VM type tells its kind ... */
	vm = mk_full(ctx, M2_FD, SEVMIG_VM_TYPE_SEV_ES, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
	assert_int_equal(t, ES);
	sevmig_vm_free(vm);
	/* ... or nothing tells it (type 0), though a context exists. */
	vm = mk_full(ctx, 30, SEVMIG_VM_TYPE_DEFAULT, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
	assert_int_equal(t, 0);
	assert_int_equal(move_check(vm, s), SEVMIG_REASON_DEST_HAS_CONTEXT);
	assert_int_equal(move_check(d, vm), SEVMIG_REASON_SEV_TYPE_UNKNOWN);
	sevmig_vm_free(vm);
	/* EBADF: KVM has a context but no /dev/sev fd for it (no launch). */
	vm = mk_full(ctx, 31, 0, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, &fw), 0);
	assert_int_equal(t, 0);
	assert_int_equal(fw, 0);
	assert_int_equal(move_check(vm, s), SEVMIG_REASON_DEST_HAS_CONTEXT);
	sevmig_vm_free(vm);
	/* Other errors leave it unknown; a firmware status is reported. */
	vm = mk_full(ctx, 32, 0, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, &fw), 0);
	assert_int_equal(t, 0);
	assert_int_equal(fw, 0x14);
	sevmig_vm_free(vm);
	vm = mk_full(ctx, 33, 0, 0, p, 40);
	assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
	assert_int_equal(t, SEV);
	/* A moved or dead handle is not asked. */
	sevmig_vm_free(vm);
	vm = mk_full(ctx, 34, 0, 0, p, 40);
	vm->state = SEVMIG_VM_MOVED;
	assert_int_equal(sevmig_vm_sev_type(vm, &t, NULL), 0);
	assert_int_equal(t, 0);
	sevmig_vm_free(vm);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	sevmig_platform_free(p);
	fake_sys_done(fs);
}

/* ---------------------------------------------------------------- moves */

static void test_move_success(void **state)
{
	struct fake_call script[] = { move_call(DST_FD, SRC_FD, 0) };
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *s = mk(ctx, SRC_FD, ES), *d = mk(ctx, DST_FD, NONE);
	struct sevmig_tracker *ts, *td;
	uint64_t r = 0x77, v = 0, shared = 0;
	uint32_t t = 0, ps = 0;

	(void)state;
	assert_int_equal(sevmig_vm_ram_add(s, 0, 1 << 20, NULL, 0), 0);
	assert_int_equal(sevmig_tracker_set_shared(sevmig_vm_tracker(s), 16, 4), 0);
	assert_int_equal(sevmig_vm_set_migration_control(s, 1, 0), 0);
	assert_int_equal(sevmig_vm_set_guest_policy(s, 0x5, 0), 0);
	s->tracking_lost = 1;
	paused_with_vcpus(s, 40, 2);
	paused_with_vcpus(d, 50, 2);
	ts = sevmig_vm_tracker(s);
	td = sevmig_vm_tracker(d);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), 0);
	assert_int_equal(r, 0x77);	/* untouched on success */
	assert_int_equal(vm_state(s), SEVMIG_VM_MOVED);
	assert_int_equal(vm_state(d), SEVMIG_VM_LIVE);
	/* The tracker object changed hands, with what goes with it. */
	assert_ptr_equal(sevmig_vm_tracker(d), ts);
	assert_ptr_equal(sevmig_vm_tracker(s), td);
	assert_int_equal(sevmig_tracker_shared_pages(sevmig_vm_tracker(d), &shared), 0);
	assert_int_equal(shared, 4);
	assert_int_equal(sevmig_tracker_state(sevmig_vm_tracker(d), 17, &ps), 0);
	assert_int_equal(ps, SEVMIG_PAGE_SHARED);
	assert_int_equal(sevmig_vm_migration_control(d, &v), 0);
	assert_int_equal(v, 1);
	assert_true(d->guest_policy_known);
	assert_int_equal(d->guest_policy, 0x5);
	assert_int_equal(d->tracking_lost, 1);
	assert_int_equal(s->tracking_lost, 0);
	assert_int_equal(sevmig_vm_sev_type(d, &t, NULL), 0);
	assert_int_equal(t, ES);
	assert_int_equal(sevmig_vm_sev_type(s, &t, NULL), 0);
	assert_int_equal(t, NONE);
	assert_true(d->moved_in);
	/* The source never runs again; the destination resumes. */
	assert_int_equal(sevmig_vm_resume(s, 0), -ESTALE);
	assert_int_equal(sevmig_vm_pause(s, 0), -ESTALE);
	assert_int_equal(sevmig_vm_complete_pending(s, 40, run0, 0), -ESTALE);
	assert_int_equal(sevmig_vm_resume(d, 0), 0);
	/* Moving the moved source again is refused before KVM. */
	assert_int_equal(move_check(d, s) & SEVMIG_REASON_SOURCE_NOT_LIVE,
			 SEVMIG_REASON_SOURCE_NOT_LIVE);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

/* During KVM's move the source is claimed as MOVED. */
static struct sevmig_vm *hook_vm;

static int expect_claimed_source(const struct fake_call *c, void *arg)
{
	(void)arg;
	assert_int_equal(sevmig_vm_get_state(hook_vm), SEVMIG_VM_MOVED);
	return c->ret;
}

/* EBUSY and EINTR are retried. */

static void test_move_retry(void **state)
{
	struct fake_call script[] = {
		move_call(DST_FD, SRC_FD, -EBUSY),
		move_call(DST_FD, SRC_FD, -EINTR),
		move_call(DST_FD, SRC_FD, -EBUSY),
		move_call(DST_FD, SRC_FD, 0),
	};
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *s, *d;

	(void)state;
	fs = fake_sys_new(script, ARRAY_LEN(script));
	ctx = fake_sys_ctx(fs);
	s = mk(ctx, SRC_FD, SEV);
	d = mk(ctx, DST_FD, NONE);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, NULL), 0);
	assert_int_equal(fake_sys_calls(fs), 4);
	assert_int_equal(vm_state(s), SEVMIG_VM_MOVED);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

static void test_move_contended(void **state)
{
	struct fake_call script[64];
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *s, *d;
	uint64_t r = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(script); i++)
		script[i] = move_call(DST_FD, SRC_FD, i & 1 ? -EINTR : -EBUSY);
	script[1].hook = expect_claimed_source;
	fs = fake_sys_new(script, ARRAY_LEN(script));
	ctx = fake_sys_ctx(fs);
	s = mk(ctx, SRC_FD, SEV);
	d = mk(ctx, DST_FD, NONE);
	hook_vm = s;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_CONTENDED);
	assert_non_null(strstr(fake_sys_last_error(fs), "64 attempts"));
	/* A failed move gives the source back. */
	assert_int_equal(vm_state(s), SEVMIG_VM_LIVE);
	assert_int_equal(vm_state(d), SEVMIG_VM_LIVE);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

/* A handle another thread holds is contention too. */
static void test_move_claimed(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *s = mk(ctx, SRC_FD, SEV), *d = mk(ctx, DST_FD, NONE);
	struct sevmig_vm *m = mk(ctx, M_FD, NONE);
	uint64_t r = 0;

	(void)state;
	s->busy = 1;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_CONTENDED);
	assert_int_equal(sevmig_vm_mirror_from(m, s, 0, &r), -EBUSY);
	assert_int_equal(sevmig_vm_teardown(s, 0), -EBUSY);
	s->busy = 0;
	d->busy = 1;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EBUSY);
	assert_int_equal(s->busy, 0);	/* the source was given back */
	d->busy = 0;
	sevmig_vm_free(m);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

static void test_move_kernel_errors(void **state)
{
	struct fake_call script[] = {
		move_call(DST_FD, SRC_FD, -EINVAL),	/* SEV, all known */
		move_call(DST_FD, SRC_FD, -EINVAL),	/* types not said */
		move_call(DST_FD, SRC_FD, -EINVAL),	/* ES, all known */
		move_call(DST_FD, SRC_FD, -EINVAL),	/* ES, no vCPUs */
		move_call(DST_FD, SRC_FD, -EBADF),
		move_call(DST_FD, SRC_FD, -EIO),
		move_call(DST_FD, SRC_FD, -ENOMEM),
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *s = mk(ctx, SRC_FD, SEV), *d = mk(ctx, DST_FD, NONE);
	uint64_t r = 0;

	(void)state;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(fake_sys_last_error(fs), "could not check"));
	d->vm_type = 0;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(fake_sys_last_error(fs), "KVM types"));
	d->vm_type = SEVMIG_VM_TYPE_DEFAULT;
	s->sev_type = ES;
	paused_with_vcpus(s, 40, 1);
	paused_with_vcpus(d, 50, 1);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_ES_VMSA);
	assert_non_null(strstr(fake_sys_last_error(fs), "LAUNCH_UPDATE_VMSA"));
	assert_int_equal(sevmig_vm_vcpu_remove(s, 40, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_remove(d, 50, 0), 0);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EBADF);
	assert_int_equal(r, 0);
	assert_non_null(strstr(fake_sys_last_error(fs), "not see fd 20"));
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -EIO);
	assert_non_null(strstr(fake_sys_last_error(fs), "dead"));
	assert_int_equal(sevmig_vm_move_from(d, s, 0, &r), -ENOMEM);
	/* None of them moved anything. */
	assert_int_equal(vm_state(s), SEVMIG_VM_LIVE);
	assert_int_equal(s->sev_type, ES);
	assert_int_equal(d->sev_type, NONE);
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	fake_sys_done(fs);
}

/* A move into a VM of an SEV VM type warns about need_init. */
static char warn[512];
static void warn_log(void *opaque, uint32_t level, const char *msg)
{
	(void)opaque;
	if (level == SEVMIG_LOG_WARNING)
		snprintf(warn, sizeof(warn), "%s", msg);
}

static void test_move_typed_warns(void **state)
{
	struct fake_call script[] = { move_call(DST_FD, SRC_FD, 0) };
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_sys_ops ops;
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = warn_log };
	struct sevmig_ctx *ctx = NULL;
	struct sevmig_vm *s, *d;

	(void)state;
	fake_sys_ops(fs, &ops);
	o.sys = &ops;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	s = mk_full(ctx, SRC_FD, SEVMIG_VM_TYPE_SEV, SEV, NULL, 40);
	d = mk_full(ctx, DST_FD, SEVMIG_VM_TYPE_SEV, NONE, NULL, 40);
	warn[0] = 0;
	assert_int_equal(sevmig_vm_move_from(d, s, 0, NULL), 0);
	assert_non_null(strstr(warn, "need_init"));
	sevmig_vm_free(d);
	sevmig_vm_free(s);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

/* -------------------------------------------------------------- mirrors */

static void test_mirror_rules(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *p = mk(ctx, SRC_FD, SEV), *m = mk(ctx, M_FD, NONE);
	struct sevmig_vm *x;
	uint64_t r = 0;

	(void)state;
	assert_int_equal(mirror_check(m, p), 0);
	assert_int_equal(mirror_check(p, p), SEVMIG_REASON_SAME_VM);
	assert_int_equal(sevmig_vm_mirror_from(p, p, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_SAME_VM);
	/* The mirror handle must be LIVE; the primary may run. */
	m->state = SEVMIG_VM_DEAD;
	assert_int_equal(mirror_check(m, p), SEVMIG_REASON_DEST_NOT_LIVE);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -ESTALE);
	m->state = SEVMIG_VM_LIVE;
	p->state = SEVMIG_VM_SENDING;	/* a helper runs during a send */
	assert_int_equal(mirror_check(m, p), 0);
	p->state = SEVMIG_VM_INCOMING;
	assert_int_equal(mirror_check(m, p), 0);
	p->state = SEVMIG_VM_SENT;
	assert_int_equal(mirror_check(m, p), SEVMIG_REASON_SOURCE_NOT_LIVE);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -ESTALE);
	assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_LIVE);
	p->state = SEVMIG_VM_LIVE;
	/* Contexts. */
	x = mk(ctx, M2_FD, SEV);
	assert_int_equal(mirror_check(x, p), SEVMIG_REASON_DEST_HAS_CONTEXT);
	assert_int_equal(sevmig_vm_mirror_from(x, p, 0, &r), -EINVAL);
	assert_int_equal(mirror_check(m, x), 0);
	x->sev_type = NONE;
	assert_int_equal(mirror_check(m, x), SEVMIG_REASON_SOURCE_NOT_SEV);
	assert_int_equal(sevmig_vm_mirror_from(m, x, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_SOURCE_NOT_SEV);
	x->sev_type = 0;
	assert_int_equal(mirror_check(m, x), SEVMIG_REASON_SEV_TYPE_UNKNOWN);
	assert_int_equal(sevmig_vm_mirror_from(m, x, 0, &r), -ENODATA);
	x->sev_type = SEVMIG_SEV_TYPE_SNP;
	assert_int_equal(mirror_check(m, x), SEVMIG_REASON_SNP);
	assert_int_equal(sevmig_vm_mirror_from(m, x, 0, &r), -EOPNOTSUPP);
	sevmig_vm_free(x);
	/* A mirror with vCPUs already. */
	assert_int_equal(sevmig_vm_vcpu_add(m, 60, run0, 0), 0);
	assert_int_equal(mirror_check(m, p), SEVMIG_REASON_MIRROR_HAS_VCPUS);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_MIRROR_HAS_VCPUS);
	assert_non_null(strstr(fake_sys_last_error(fs), "before it has vCPUs"));
	sevmig_vm_free(m);
	sevmig_vm_free(p);
	fake_sys_done(fs);
}

static void test_mirror_life(void **state)
{
	static const struct status_answer ok = { .policy = 1 };
	struct fake_call script[] = {
		copy_call(M_FD, SRC_FD, -EBUSY),
		copy_call(M_FD, SRC_FD, 0),
		status_call(M_FD, &ok),		/* GUEST_STATUS is allowed */
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_platform *plat = NULL;
	struct sevmig_vm *p, *m, *m2, *d;
	struct sevmig_guest_status st = { .size = sizeof(st) };
	uint32_t role = 0, n = 9, t = 0;
	uint64_t r = 0;

	(void)state;
	assert_int_equal(sevmig_platform_from_fd(ctx, SEV_FD, 0, &plat), 0);
	p = mk_full(ctx, SRC_FD, SEVMIG_VM_TYPE_DEFAULT, ES, plat, 40);
	m = mk_full(ctx, M_FD, SEVMIG_VM_TYPE_DEFAULT, NONE, plat, 40);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), 0);
	assert_int_equal(sevmig_vm_role(m, &role, &n), 0);
	assert_int_equal(role, SEVMIG_VM_ROLE_MIRROR);
	assert_int_equal(n, 0);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(role, SEVMIG_VM_ROLE_OWNER);
	assert_int_equal(n, 1);
	assert_int_equal(sevmig_vm_sev_type(m, &t, NULL), 0);
	assert_int_equal(t, ES);
	/* Firmware commands a mirror may and may not issue. */
	assert_int_equal(sevmig_vm_guest_status(m, &st, NULL), 0);
	assert_int_equal(sevmig_vm_check_fw(m, KVM_SEV_DBG_DECRYPT, "t"), 0);
	assert_int_equal(sevmig_vm_check_fw(m, KVM_SEV_LAUNCH_UPDATE_VMSA, "t"), 0);
	assert_int_equal(sevmig_vm_check_fw(m, KVM_SEV_SEND_START, "t"), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs), "SEND_START"));
	assert_int_equal(sevmig_vm_check_fw(m, KVM_SEV_RECEIVE_START, "t"), -EINVAL);
	assert_int_equal(sevmig_vm_check_fw(p, KVM_SEV_SEND_START, "t"), 0);
	/* A mirror never migrates; its readiness says so. */
	assert_true(sevmig_vm_readiness(m, &r, 0) == 0 &&
		    (r & SEVMIG_REASON_IS_MIRROR));
	assert_int_equal(sevmig_vm_readiness(p, &r, 0), 0);
	assert_false(r & SEVMIG_REASON_IS_MIRROR);
	/* No mirror of a mirror, no second copy into it. */
	m2 = mk(ctx, M2_FD, NONE);
	assert_int_equal(mirror_check(m2, m), SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(sevmig_vm_mirror_from(m2, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(mirror_check(m, p), SEVMIG_REASON_IS_MIRROR |
					     SEVMIG_REASON_DEST_HAS_CONTEXT);
	/* A mirror is never moved; a primary with mirrors is not moved. */
	d = mk(ctx, DST_FD, NONE);
	assert_int_equal(move_check(d, m), SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(sevmig_vm_move_from(d, m, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(move_check(m, p) & SEVMIG_REASON_IS_MIRROR,
			 SEVMIG_REASON_IS_MIRROR);
	assert_int_equal(move_check(d, p), SEVMIG_REASON_HAS_MIRRORS);
	assert_int_equal(sevmig_vm_move_from(d, p, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_HAS_MIRRORS);
	/* The mirror runs while its primary may, and never after. */
	assert_int_equal(sevmig_vm_resume(m, 0), 0);
	p->state = SEVMIG_VM_SENDING;
	assert_int_equal(sevmig_vm_resume(m, 0), 0);
	p->state = SEVMIG_VM_SENT;
	assert_int_equal(sevmig_vm_resume(m, 0), -ESTALE);
	assert_non_null(strstr(fake_sys_last_error(fs), "mirror of a VM that is sent"));
	assert_int_equal(sevmig_vm_pause(m, 0), -ESTALE);
	p->state = SEVMIG_VM_LIVE;
	/* Freeing the primary first leaves the mirror unable to run. */
	sevmig_vm_free(p);
	assert_int_equal(sevmig_vm_resume(m, 0), -ESTALE);
	assert_non_null(strstr(fake_sys_last_error(fs), "dead"));
	sevmig_vm_free(m);
	sevmig_vm_free(m2);
	sevmig_vm_free(d);
	sevmig_platform_free(plat);
	fake_sys_done(fs);
}

static void test_mirror_kernel_errors(void **state)
{
	struct fake_call script[] = {
		copy_call(M_FD, SRC_FD, -EINVAL),
		copy_call(M_FD, SRC_FD, -EBADF),
		copy_call(M_FD, SRC_FD, -EIO),
	};
	struct fake_call busy[64];
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *p = mk(ctx, SRC_FD, SEV), *m = mk(ctx, M_FD, NONE);
	uint32_t role = 0;
	uint64_t r = 0;

	(void)state;
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EINVAL);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(fake_sys_last_error(fs), "vCPUs the handle does not know"));
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EBADF);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EIO);
	assert_int_equal(sevmig_vm_role(m, &role, NULL), 0);
	assert_int_equal(role, SEVMIG_VM_ROLE_OWNER);
	sevmig_vm_free(m);
	sevmig_vm_free(p);
	fake_sys_done(fs);

	for (size_t i = 0; i < ARRAY_LEN(busy); i++)
		busy[i] = copy_call(M_FD, SRC_FD, -EBUSY);
	fs = fake_sys_new(busy, ARRAY_LEN(busy));
	ctx = fake_sys_ctx(fs);
	p = mk(ctx, SRC_FD, SEV);
	m = mk(ctx, M_FD, NONE);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, &r), -EBUSY);
	assert_int_equal(r, SEVMIG_REASON_CONTENDED);
	sevmig_vm_free(m);
	sevmig_vm_free(p);
	fake_sys_done(fs);
}

static void test_mirror_create(void **state)
{
	struct fake_call script[] = {
		FAKE_IOCTL_VAL(KVM_FD, KVM_CREATE_VM, 0, -EMFILE),
		FAKE_IOCTL_VAL(KVM_FD, KVM_CREATE_VM, 0, M_FD),
		copy_call(M_FD, SRC_FD, -EINVAL),
		FAKE_CLOSE(M_FD, 0),		/* the failed mirror's own fd */
		FAKE_IOCTL_VAL(KVM_FD, KVM_CREATE_VM, 0, M_FD),
		copy_call(M_FD, SRC_FD, 0),
		FAKE_CLOSE(M_FD, 0),		/* freed: its own fd closed */
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm *p = mk(ctx, SRC_FD, SEV), *m = NULL;
	uint32_t role = 0;
	uint64_t r = 0;

	(void)state;
	r = 0x99;
	assert_int_equal(sevmig_vm_mirror_create(p, KVM_FD, 0, &m, &r), -EMFILE);
	assert_null(m);
	assert_int_equal(r, 0);
	assert_int_equal(sevmig_vm_mirror_create(p, KVM_FD, 0, &m, &r), -EINVAL);
	assert_null(m);
	assert_int_equal(r, SEVMIG_REASON_KERNEL_REFUSED);
	assert_int_equal(sevmig_vm_mirror_create(p, KVM_FD, 0, &m, &r), 0);
	assert_non_null(m);
	assert_int_equal(sevmig_vm_fd(m), M_FD);
	assert_int_equal(sevmig_vm_role(m, &role, NULL), 0);
	assert_int_equal(role, SEVMIG_VM_ROLE_MIRROR);
	assert_int_equal(m->phys_bits, p->phys_bits);
	sevmig_vm_free(m);
	sevmig_vm_free(p);
	fake_sys_done(fs);
}

/* Reason sentences exist for every new bit. */
static void test_reason_texts(void **state)
{
	(void)state;
	for (unsigned b = 39; b <= 55; b++) {
		const char *s = sevmig_reason_string(UINT64_C(1) << b);

		assert_string_not_equal(s, "unknown reason");
		assert_true(strlen(s) > 30);
	}
	assert_string_equal(sevmig_reason_string(UINT64_C(1) << 56),
			    "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_move_rules),
		cmocka_unit_test(test_move_es_counts),
		cmocka_unit_test(test_learn_type),
		cmocka_unit_test(test_move_success),
		cmocka_unit_test(test_move_retry),
		cmocka_unit_test(test_move_contended),
		cmocka_unit_test(test_move_claimed),
		cmocka_unit_test(test_move_kernel_errors),
		cmocka_unit_test(test_move_typed_warns),
		cmocka_unit_test(test_mirror_rules),
		cmocka_unit_test(test_mirror_life),
		cmocka_unit_test(test_mirror_kernel_errors),
		cmocka_unit_test(test_mirror_create),
		cmocka_unit_test(test_reason_texts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
