// SPDX-License-Identifier: MIT
/*
 * The VM layer on the scripted fake: capability enabling and merging, the MSR
 * filter (ours alone and merged into the VMM's), CPUID, both exit kinds with
 * every validation branch, reset, readiness, and concurrent exits.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"
#include "test-util.h"
#include "uapi/kvm-abi.h"
#include "vm-priv.h"

enum { VM_FD = 20 };

/* ---- helpers ------------------------------------------------------------ */

static struct kvm_enable_cap cap_exit_hc, cap_user_msr;

static struct fake_call enable_cap_call(struct kvm_enable_cap *want,
					uint32_t cap, uint64_t arg, int ret)
{
	struct fake_call c = FAKE_IOCTL_ANY(VM_FD, KVM_ENABLE_CAP, ret);

	memset(want, 0, sizeof(*want));
	want->cap = cap;
	want->args[0] = arg;
	c.in = want;
	c.in_len = sizeof(*want);
	return c;
}

/* Captures the filter the library installs. */
static struct kvm_msr_filter installed;
static int capture_filter(const struct fake_call *c, void *arg)
{
	memcpy(&installed, arg, sizeof(installed));
	return c->ret;
}

static struct fake_call filter_call(int ret)
{
	struct fake_call c = FAKE_IOCTL_ANY(VM_FD, KVM_X86_SET_MSR_FILTER, ret);

	c.hook = capture_filter;
	return c;
}

static uint64_t shared_count(struct sevmig_vm *vm)
{
	uint64_t n = UINT64_MAX;

	assert_int_equal(sevmig_tracker_shared_pages(sevmig_vm_tracker(vm), &n), 0);
	return n;
}

static struct sevmig_vm *new_vm(struct sevmig_ctx *ctx, uint32_t policy)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = VM_FD,
				    .phys_bits = 40, .host_policy = policy };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	return vm;
}

/* A CPUID table with a KVM leaf at @base and one unrelated leaf. */
struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[4];
};

static void make_cpuid(struct cpuid_table *t, uint32_t base, uint32_t eax)
{
	memset(t, 0, sizeof(*t));
	t->nent = 3;
	t->e[0].function = 0x1;
	t->e[0].eax = 0xffffffffu;
	t->e[1].function = base;
	t->e[1].eax = base + 1;
	t->e[1].ebx = 0x4b4d564bu;
	t->e[1].ecx = 0x564b4d56u;
	t->e[1].edx = 0x4du;
	t->e[2].function = base + 1;
	t->e[2].eax = eax;
}

/* A fully negotiated VM on the fake, ready for exits. */
struct setup {
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
};

static struct fake_call neg_script[4];

static void negotiate(struct setup *s, uint32_t policy)
{
	struct cpuid_table t;

	neg_script[0] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL,
					0x1000, 0);
	neg_script[1] = enable_cap_call(&cap_user_msr,
					KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
	neg_script[2] = filter_call(0);
	s->fs = fake_sys_new(neg_script, 3);
	s->ctx = fake_sys_ctx(s->fs);
	s->vm = new_vm(s->ctx, policy);
	assert_int_equal(sevmig_vm_ram_add(s->vm, 0, 0xa0000, NULL, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(s->vm, 0x100000, 0x7ff00000, NULL, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(s->vm, 0x100000000ull, 0x40000000ull,
					   NULL, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(s->vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(s->vm, NULL, 0), 0);
	make_cpuid(&t, 0x40000000, 0x01007efb);
	assert_int_equal(sevmig_vm_cpuid_apply(s->vm, &t, 0),
			 policy == SEVMIG_HOST_POLICY_DENY ? 0 : 1);
}

static void finish(struct setup *s)
{
	sevmig_vm_free(s->vm);
	fake_sys_done(s->fs);
}

static _Alignas(64) uint8_t run_buf[KVM_RUN_SIZE];

/* An MSR exit in @buf (KVM_RUN_SIZE bytes): each vCPU thread has its own. */
static void *msr_exit_in(uint8_t *buf, uint32_t reason, uint32_t index,
			 uint64_t data)
{
	struct kvm_run_hdr *h = (void *)buf;
	struct kvm_run_msr *m = (void *)(buf + KVM_RUN_EXIT_OFFSET);

	memset(buf, 0xcc, KVM_RUN_SIZE);
	h->exit_reason = reason;
	memset(m, 0, sizeof(*m));
	m->reason = KVM_MSR_EXIT_REASON_FILTER;
	m->index = index;
	m->data = data;
	m->error = 0xaa;	/* must be overwritten */
	return buf;
}

static void *msr_exit(uint32_t reason, uint32_t index, uint64_t data)
{
	return msr_exit_in(run_buf, reason, index, data);
}

static struct kvm_run_msr *msr_of(void *run)
{
	return (void *)((uint8_t *)run + KVM_RUN_EXIT_OFFSET);
}

static void *hc_exit(uint8_t *buf, uint64_t nr, uint64_t gpa, uint64_t npages,
		     uint64_t attrs, uint64_t hflags)
{
	struct kvm_run_hdr *h = (void *)buf;
	struct kvm_run_hypercall *hc =
		(void *)(buf + KVM_RUN_EXIT_OFFSET);

	memset(buf, 0, KVM_RUN_SIZE);
	h->exit_reason = KVM_EXIT_HYPERCALL;
	hc->nr = nr;
	hc->args[0] = gpa;
	hc->args[1] = npages;
	hc->args[2] = attrs;
	hc->ret = 0x5a5a5a5a;	/* stale data old kernels leave: must be overwritten */
	hc->flags = hflags;
	return buf;
}

static uint64_t hc_ret(void *run)
{
	uint64_t ret;

	memcpy(&ret, (uint8_t *)run + KVM_RUN_EXIT_OFFSET +
	       offsetof(struct kvm_run_hypercall, ret), sizeof(ret));
	return ret;
}

#define KVM_EINVAL_RET ((uint64_t)-22)
#define KVM_ENOSYS_RET ((uint64_t)-1000)
#define ENC 0x10u

/* ---- negotiation --------------------------------------------------------- */

static void test_enable_exits_merges_vmm_bits(void **state)
{
	struct fake_call script[2];
	struct fake_sys *fs;
	struct sevmig_vm *vm;

	(void)state;
	script[0] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL,
				    0x1000 | 0x4, 0);
	script[1] = enable_cap_call(&cap_user_msr, KVM_CAP_X86_USER_SPACE_MSR,
				    0x4 | 0x1, 0);
	fs = fake_sys_new(script, 2);
	vm = new_vm(fake_sys_ctx(fs), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0x4, 0x1, 0), 0);
	assert_true(vm->exits_enabled);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_enable_exits_failures(void **state)
{
	struct fake_call script[3];
	struct fake_sys *fs;
	struct sevmig_vm *vm;
	uint64_t why;

	(void)state;
	/* Kernel without the MAP_GPA_RANGE exit. */
	script[0] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL,
				    0x1000, -EINVAL);
	/* Then: hypercall ok, user-space MSR refused. */
	script[1] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL,
				    0x1000, 0);
	script[2] = enable_cap_call(&cap_user_msr, KVM_CAP_X86_USER_SPACE_MSR,
				    0x4, -EINVAL);
	fs = fake_sys_new(script, 3);
	vm = new_vm(fake_sys_ctx(fs), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), -EOPNOTSUPP);
	assert_non_null(strstr(fake_sys_last_error(fs), "KVM_CAP_EXIT_HYPERCALL"));
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), -EOPNOTSUPP);
	assert_non_null(strstr(fake_sys_last_error(fs), "USER_SPACE_MSR"));
	assert_false(vm->exits_enabled);
	/* Filter refused before exits; CPUID then clears the bits. */
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), -EPROTO);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 1), -EINVAL);
	assert_int_equal(sevmig_vm_readiness(vm, &why, 0), 0);
	assert_true(why & SEVMIG_REASON_EXITS_NOT_ENABLED);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_filter_ours_alone(void **state)
{
	struct setup s;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	assert_int_equal(installed.flags, 0);	/* default allow */
	assert_int_equal(installed.ranges[0].base, MSR_KVM_MIGRATION_CONTROL);
	assert_int_equal(installed.ranges[0].nmsrs, 1);
	assert_int_equal(installed.ranges[0].flags,
			 KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE);
	assert_int_equal(installed.ranges[0].bitmap[0] & 1, 0);	/* deny */
	for (int i = 1; i < 16; i++)
		assert_int_equal(installed.ranges[i].nmsrs, 0);
	finish(&s);
}

static void test_filter_merged_into_vmm(void **state)
{
	static uint8_t vmm_bm[8] = { 0xff };
	static uint8_t vmm_cover_deny[8] = { 0 };
	static uint8_t vmm_cover_allow[8] = { 0xff };
	struct kvm_msr_filter vmm, copy;
	struct fake_call script[4];
	struct fake_sys *fs;
	struct sevmig_vm *vm;

	(void)state;
	script[0] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, 0);
	script[1] = enable_cap_call(&cap_user_msr, KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
	script[2] = filter_call(0);
	script[3] = filter_call(0);
	fs = fake_sys_new(script, 4);
	vm = new_vm(fake_sys_ctx(fs), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);

	memset(&vmm, 0, sizeof(vmm));
	vmm.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	vmm.ranges[0] = (struct kvm_msr_filter_range){
		.flags = 3, .nmsrs = 8, .base = 0x10, .bitmap = vmm_bm };
	copy = vmm;
	assert_int_equal(sevmig_vm_set_msr_filter(vm, &vmm, 0), 0);
	assert_memory_equal(&vmm, &copy, sizeof(vmm));	/* VMM's struct untouched */
	assert_int_equal(installed.flags, KVM_MSR_FILTER_DEFAULT_DENY);
	assert_int_equal(installed.ranges[0].base, 0x10);
	assert_int_equal(installed.ranges[1].base, MSR_KVM_MIGRATION_CONTROL);

	/* The VMM already routes our MSR to userspace: nothing added. */
	vmm.ranges[1] = (struct kvm_msr_filter_range){
		.flags = 3, .nmsrs = 1, .base = MSR_KVM_MIGRATION_CONTROL,
		.bitmap = vmm_cover_deny };
	assert_int_equal(sevmig_vm_set_msr_filter(vm, &vmm, 0), 0);
	assert_int_equal(installed.ranges[2].nmsrs, 0);

	/* The VMM lets the guest reach it in-kernel: refused, no ioctl. */
	vmm.ranges[1].bitmap = vmm_cover_allow;
	assert_int_equal(sevmig_vm_set_msr_filter(vm, &vmm, 0), -EINVAL);
	/* Only writes routed: refused. */
	vmm.ranges[1].bitmap = vmm_cover_deny;
	vmm.ranges[1].flags = KVM_MSR_FILTER_WRITE;
	assert_int_equal(sevmig_vm_set_msr_filter(vm, &vmm, 0), -EINVAL);
	/* All 16 ranges in use. */
	for (int i = 0; i < 16; i++)
		vmm.ranges[i] = (struct kvm_msr_filter_range){
			.flags = 3, .nmsrs = 1, .base = 0x100u + (uint32_t)i,
			.bitmap = vmm_bm };
	assert_int_equal(sevmig_vm_set_msr_filter(vm, &vmm, 0), -ENOSPC);
	assert_false(vm->filter_installed);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_filter_ioctl_fails_no_offer(void **state)
{
	struct fake_call script[3];
	struct cpuid_table t;
	struct fake_sys *fs;
	struct sevmig_vm *vm;

	(void)state;
	script[0] = enable_cap_call(&cap_exit_hc, KVM_CAP_EXIT_HYPERCALL, 0x1000, 0);
	script[1] = enable_cap_call(&cap_user_msr, KVM_CAP_X86_USER_SPACE_MSR, 0x4, 0);
	script[2] = filter_call(-EINVAL);
	fs = fake_sys_new(script, 3);
	vm = new_vm(fake_sys_ctx(fs), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), -EINVAL);
	/* Plumbing failed: the bits must be cleared even if the VMM set them. */
	make_cpuid(&t, 0x40000000, 0x01007efb | (3u << 16));
	assert_int_equal(sevmig_vm_cpuid_apply(vm, &t, 0), 0);
	assert_int_equal(t.e[2].eax & (3u << 16), 0);
	assert_int_equal(t.e[2].eax, 0x01007efb);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_cpuid(void **state)
{
	struct cpuid_table t;
	struct setup s;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	/* The KVM leaf moved by Hyper-V enlightenments: found by signature. */
	make_cpuid(&t, 0x40000100, 0x01007efb);
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 0), 1);
	assert_int_equal(t.e[2].eax, 0x01007efb | (3u << 16));
	assert_int_equal(t.e[0].eax, 0xffffffffu);	/* other leaves untouched */
	/* A Hyper-V-looking leaf without the signature is not ours. */
	make_cpuid(&t, 0x40000000, 0);
	t.e[1].ebx = 0x7263694d;
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 0), -ENOENT);
	assert_false(sevmig_vm_flag(&s.vm->offered));
	/* No features leaf. */
	make_cpuid(&t, 0x40000000, 0);
	t.nent = 2;
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 0), -ENOENT);
	/* Too many entries. */
	t.nent = 257;
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 0), -EINVAL);
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 1), -EINVAL);
	finish(&s);

	/* Host policy DENY: cleared although the plumbing is there. */
	negotiate(&s, SEVMIG_HOST_POLICY_DENY);
	make_cpuid(&t, 0x40000000, 0x01007efb | (3u << 16));
	assert_int_equal(sevmig_vm_cpuid_apply(s.vm, &t, 0), 0);
	assert_int_equal(t.e[2].eax, 0x01007efb);
	finish(&s);
}

/* ---- MSR exits ------------------------------------------------------------ */

static void test_msr_exits(void **state)
{
	struct setup s;
	uint64_t v, why;
	void *run;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, SEVMIG_REASON_GUEST_NOT_READY);

	run = msr_exit(KVM_EXIT_X86_RDMSR, MSR_KVM_MIGRATION_CONTROL, 77);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(msr_of(run)->error, 0);
	assert_int_equal(msr_of(run)->data, 0);

	run = msr_exit(KVM_EXIT_X86_WRMSR, MSR_KVM_MIGRATION_CONTROL, 1);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(msr_of(run)->error, 0);
	assert_int_equal(sevmig_vm_migration_control(s.vm, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, 0);

	run = msr_exit(KVM_EXIT_X86_RDMSR, MSR_KVM_MIGRATION_CONTROL, 0);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(msr_of(run)->data, 1);

	/* Reserved bits: #GP, value unchanged. */
	for (int b = 1; b < 64; b += 7) {
		run = msr_exit(KVM_EXIT_X86_WRMSR,
			       MSR_KVM_MIGRATION_CONTROL, 1ull << b | 1);
		assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0),
				 SEVMIG_EXIT_HANDLED);
		assert_int_equal(msr_of(run)->error, 1);
	}
	assert_int_equal(sevmig_vm_migration_control(s.vm, &v), 0);
	assert_int_equal(v, 1);

	/* The guest writes 0 on reboot/kexec/CPU offline: blocked again. */
	run = msr_exit(KVM_EXIT_X86_WRMSR, MSR_KVM_MIGRATION_CONTROL, 0);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, SEVMIG_REASON_GUEST_NOT_READY);

	/* Other MSRs and other exits are the VMM's, untouched. */
	run = msr_exit(KVM_EXIT_X86_WRMSR, 0x10, 5);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_NOT_OURS);
	assert_int_equal(msr_of(run)->error, 0xaa);
	run = msr_exit(2 /* KVM_EXIT_IO */, MSR_KVM_MIGRATION_CONTROL, 5);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_NOT_OURS);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 4), -EINVAL);

	/* Migration state: the destination restores it. */
	assert_int_equal(sevmig_vm_set_migration_control(s.vm, 2, 0), -EINVAL);
	assert_int_equal(sevmig_vm_set_migration_control(s.vm, 1, 0), 0);
	assert_int_equal(sevmig_vm_migration_control(s.vm, &v), 0);
	assert_int_equal(v, 1);
	finish(&s);
}

static void test_msr_not_offered_gp(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs), 0);
	uint64_t v;
	void *run;

	(void)state;
	run = msr_exit(KVM_EXIT_X86_WRMSR, MSR_KVM_MIGRATION_CONTROL, 1);
	assert_int_equal(sevmig_vm_handle_exit(vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(msr_of(run)->error, 1);
	assert_int_equal(sevmig_vm_migration_control(vm, &v), 0);
	assert_int_equal(v, 0);
	run = msr_exit(KVM_EXIT_X86_RDMSR, MSR_KVM_MIGRATION_CONTROL, 0);
	assert_int_equal(sevmig_vm_handle_exit(vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(msr_of(run)->error, 1);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* ---- hypercall exits --------------------------------------------------------- */

static void test_hypercall_validation(void **state)
{
	static _Alignas(64) uint8_t buf[KVM_RUN_SIZE];
	struct {
		uint64_t gpa, npages, attrs, hflags, want;
	} cases[] = {
		{ 0x1000, 1, ENC, 1, 0 },
		{ 0x1000, 1, 0, 1, 0 },			/* decrypt */
		{ 0x1000, 1, ENC | 1, 1, 0 },		/* 2M preference */
		{ 0x1000, 1, ENC | 2, 1, 0 },		/* 1G preference */
		{ 0x1000, 1, ENC | 3, 1, KVM_EINVAL_RET },	/* page size 3 */
		{ 0x1000, 1, ENC | 0xf, 1, KVM_EINVAL_RET },
		{ 0x1000, 1, 0x20, 1, KVM_EINVAL_RET },	/* bit 5 reserved */
		{ 0x1000, 1, 1ull << 63, 1, KVM_EINVAL_RET },
		{ 0x1000, 0, ENC, 1, KVM_EINVAL_RET },	/* npages 0 */
		{ 0x1001, 1, ENC, 1, KVM_EINVAL_RET },	/* unaligned */
		{ 0x1800, 1, ENC, 1, KVM_EINVAL_RET },
		/* An end past 2^64 in bytes is refused, never clipped. */
		{ 0xfffffffffffff000ull, 2, ENC, 1, KVM_EINVAL_RET },
		/* Ending exactly at 2^64, beyond the address width: ignored. */
		{ 0xfffffffffffff000ull, 1, ENC, 1, 0 },
		{ 0, 1ull << 52, ENC, 1, 0 },		/* all of [0, 2^64) */
		{ 0, (1ull << 52) + 1, ENC, 1, KVM_EINVAL_RET },	/* past 2^64 */
		{ 0, UINT64_MAX, ENC, 1, KVM_EINVAL_RET },
		/* 32-bit caller: the upper halves vanish, as on the CPU. */
		{ 0x1234500001000ull, 1, ENC, 0, 0 },
		{ 0x1000, 0x100000000ull, ENC, 0, KVM_EINVAL_RET },	/* npages -> 0 */
		{ 0x1000, 1, (1ull << 40) | ENC, 0, 0 },	/* reserved bit dropped */
		{ 0x1000, 1, (1ull << 40) | ENC, 1, KVM_EINVAL_RET },
		/* Outside RAM (MMIO, beyond phys_bits): ignored, guest not failed. */
		{ 0xfee00000ull, 1, 0, 1, 0 },
		{ 1ull << 45, 16, 0, 1, 0 },
		{ 0xff000000000ull, 1ull << 30, ENC, 1, 0 },
	};
	struct setup s;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		void *run = hc_exit(buf, KVM_HC_MAP_GPA_RANGE, cases[i].gpa,
				    cases[i].npages, cases[i].attrs, cases[i].hflags);
		uint64_t direct = 0xdead;

		assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0),
				 SEVMIG_EXIT_HANDLED);
		if (hc_ret(run) != cases[i].want)
			fail_msg("case %zu: ret 0x%llx, want 0x%llx", i,
				 (unsigned long long)hc_ret(run),
				 (unsigned long long)cases[i].want);
		/* The decoded entry agrees. */
		assert_int_equal(sevmig_vm_map_gpa_range(s.vm, cases[i].gpa,
							 cases[i].npages,
							 cases[i].attrs,
							 (uint32_t)cases[i].hflags,
							 &direct), 0);
		assert_int_equal(direct, cases[i].want);
	}
	/* Another hypercall number is not ours and untouched. */
	void *run = hc_exit(buf, 5, 0x1000, 1, ENC, 1);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, run, 0), SEVMIG_EXIT_NOT_OURS);
	assert_int_equal(hc_ret(run), 0x5a5a5a5a);
	assert_int_equal(sevmig_vm_map_gpa_range(s.vm, 0, 1, 0, 2, &(uint64_t){ 0 }),
			 -EINVAL);
	assert_int_equal(sevmig_vm_map_gpa_range(s.vm, 0, 1, 0, 0, NULL), -EINVAL);
	finish(&s);
}

static void test_hypercall_not_offered(void **state)
{
	static _Alignas(64) uint8_t buf[KVM_RUN_SIZE];
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs), 0);
	void *run;

	(void)state;
	assert_int_equal(sevmig_vm_ram_add(vm, 0, 1 << 20, NULL, 0), 0);
	run = hc_exit(buf, KVM_HC_MAP_GPA_RANGE, 0x1000, 1, 0, 1);
	assert_int_equal(sevmig_vm_handle_exit(vm, run, 0), SEVMIG_EXIT_HANDLED);
	assert_int_equal(hc_ret(run), KVM_ENOSYS_RET);
	/* Nothing recorded. */
	assert_int_equal(shared_count(vm), 0);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* ---- RAM map, reset, readiness -------------------------------------------- */

static void test_ram_map(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = new_vm(fake_sys_ctx(fs), 0);

	(void)state;
	assert_int_equal(sevmig_vm_ram_add(vm, 0x100000, 0x100000, NULL, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x1ff000, 0x2000, NULL, 0), -EEXIST);
	assert_int_equal(sevmig_vm_ram_add(vm, 0xff000, 0x2000, NULL, 0), -EEXIST);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x0, 0x100000, NULL, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x200000, 0x1000, NULL, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x300001, 0x1000, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x300000, 0, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x300000, 0x1000, NULL, 1), -EINVAL);
	assert_int_equal(sevmig_vm_ram_add(vm, 1ull << 40, 0x1000, NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_ram_add(vm, (1ull << 40) - 0x1000, 0x2000, NULL, 0),
			 -EINVAL);
	assert_int_equal(sevmig_vm_ram_remove(vm, 0x100000, 0x1000, 0), -ENOENT);
	assert_int_equal(sevmig_vm_ram_remove(vm, 0x100000, 0x100000, 0), 0);
	assert_int_equal(sevmig_vm_ram_add(vm, 0x100000, 0x100000, NULL, 0), 0);
	assert_int_equal(vm->nram, 3);
	for (uint32_t i = 1; i < vm->nram; i++)
		assert_true(vm->ram[i - 1].gfn < vm->ram[i].gfn);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

static void test_reset_keeps_firmware_shared(void **state)
{
	static _Alignas(64) uint8_t buf[KVM_RUN_SIZE];
	struct setup s;
	uint64_t v, why;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	assert_int_equal(sevmig_vm_firmware_shared_add(s.vm, 0x80000, 0x2000, 0), 0);
	assert_int_equal(sevmig_vm_firmware_shared_add(s.vm, 0x80001, 0x2000, 0),
			 -EINVAL);
	/* Guest shares 16 pages at 1 MiB, says READY. */
	assert_int_equal(sevmig_vm_handle_exit(s.vm, hc_exit(buf, 12, 0x100000, 16, 0, 1), 0),
			 SEVMIG_EXIT_HANDLED);
	/* 16 from the guest, 2 firmware-shared since they were added. */
	assert_int_equal(shared_count(s.vm), 18);
	assert_int_equal(sevmig_vm_handle_exit(s.vm, msr_exit(KVM_EXIT_X86_WRMSR,
					     MSR_KVM_MIGRATION_CONTROL, 1), 0),
			 SEVMIG_EXIT_HANDLED);
	assert_int_equal(sevmig_vm_reset(s.vm, 0), 0);
	assert_int_equal(sevmig_vm_migration_control(s.vm, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(shared_count(s.vm), 2);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, SEVMIG_REASON_GUEST_NOT_READY);
	assert_int_equal(sevmig_vm_reset(s.vm, 1), -EINVAL);
	finish(&s);
}

static void test_readiness(void **state)
{
	struct setup s;
	uint64_t why;

	(void)state;
	negotiate(&s, SEVMIG_HOST_POLICY_OVERRIDE_READY);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, 0);	/* operator override */
	assert_int_equal(sevmig_vm_set_guest_policy(s.vm, 0x8 /* NOSEND */, 0), 0);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_int_equal(why, SEVMIG_REASON_POLICY_NOSEND);
	assert_int_equal(sevmig_vm_readiness(s.vm, NULL, 0), -EINVAL);
	finish(&s);

	negotiate(&s, SEVMIG_HOST_POLICY_DENY);
	assert_int_equal(sevmig_vm_readiness(s.vm, &why, 0), 0);
	assert_true(why & SEVMIG_REASON_HOST_POLICY_DENY);
	assert_true(why & SEVMIG_REASON_GUEST_NOT_READY);
	for (uint64_t b = 1; b; b <<= 1)
		if (why & b)
			assert_string_not_equal(sevmig_reason_string(b), "unknown reason");
	finish(&s);
}

static void test_vm_new_args(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = 3 };
	struct sevmig_vm *vm = (void *)1;

	(void)state;
	assert_int_equal(sevmig_vm_new(NULL, &o, &vm), -EINVAL);
	assert_int_equal(sevmig_vm_new(ctx, NULL, &vm), -EINVAL);
	assert_int_equal(sevmig_vm_new(ctx, &o, NULL), -EINVAL);
	o.vm_fd = -1;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	o.vm_fd = 3;
	o.phys_bits = 31;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	o.phys_bits = 53;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	o.phys_bits = 0;
	o.host_policy = 4;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	o.host_policy = 0;
	o.flags = 1;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	o.flags = 0;
	o.size = 8;
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), -EINVAL);
	assert_ptr_equal(vm, (void *)1);
	o.size = sizeof(o);
	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	assert_int_equal(vm->max_gfn, 1ull << 40);
	sevmig_vm_free(vm);
	sevmig_vm_free(NULL);
	fake_sys_done(fs);
}

/* ---- pending exits ---------------------------------------------------------- */

static int check_immediate(const struct fake_call *c, void *arg)
{
	(void)arg;
	assert_int_equal(run_buf[1], 1);	/* immediate_exit set during KVM_RUN */
	return c->ret;
}

static void test_complete_pending(void **state)
{
	struct fake_call script[2] = {
		FAKE_IOCTL_VAL(30, KVM_RUN, 0, -EINTR),
		FAKE_IOCTL_VAL(30, KVM_RUN, 0, -EIO),
	};
	struct fake_sys *fs;
	struct sevmig_vm *vm;

	(void)state;
	script[0].hook = check_immediate;
	fs = fake_sys_new(script, 2);
	vm = new_vm(fake_sys_ctx(fs), 0);
	memset(run_buf, 0, sizeof(run_buf));
	assert_int_equal(sevmig_vm_complete_pending(vm, 30, run_buf, 0), 0);
	assert_int_equal(run_buf[1], 0);	/* restored */
	assert_int_equal(sevmig_vm_complete_pending(vm, 30, run_buf, 0), -EIO);
	assert_int_equal(run_buf[1], 0);
	assert_int_equal(sevmig_vm_complete_pending(vm, -1, run_buf, 0), -EINVAL);
	/* A VM that must never run again is refused before KVM_RUN. */
	vm->state = SEVMIG_VM_SENT;
	assert_int_equal(sevmig_vm_complete_pending(vm, 30, run_buf, 0), -ESTALE);
	assert_non_null(strstr(fake_sys_last_error(fs), "must never run again"));
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* ---- concurrency ------------------------------------------------------------- */

struct worker {
	struct sevmig_vm *vm;
	unsigned int id;
	_Alignas(64) uint8_t buf[KVM_RUN_SIZE];
	int bad;
};

static void *vcpu_thread(void *p)
{
	struct worker *w = p;

	for (unsigned int i = 0; i < 20000; i++) {
		/* Each thread owns its own 4 KiB pages: toggle them. */
		uint64_t gpa = 0x100000ull + ((uint64_t)(w->id * 64 + i % 64) << 12);
		void *run = hc_exit(w->buf, 12, gpa, 1, (i & 64) ? ENC : 0, 1);

		if (sevmig_vm_handle_exit(w->vm, run, 0) != SEVMIG_EXIT_HANDLED ||
		    hc_ret(run) != 0)
			w->bad++;
		/* The guest enables migration and reads it back, racing. */
		run = msr_exit_in(w->buf, KVM_EXIT_X86_WRMSR,
				  MSR_KVM_MIGRATION_CONTROL, 1);
		if (sevmig_vm_handle_exit(w->vm, run, 0) != SEVMIG_EXIT_HANDLED ||
		    msr_of(run)->error != 0)
			w->bad++;
		run = msr_exit_in(w->buf, KVM_EXIT_X86_RDMSR,
				  MSR_KVM_MIGRATION_CONTROL, 0);
		if (sevmig_vm_handle_exit(w->vm, run, 0) != SEVMIG_EXIT_HANDLED ||
		    msr_of(run)->error != 0 || msr_of(run)->data != 1)
			w->bad++;
	}
	return NULL;
}

static void test_concurrent_exits(void **state)
{
	/* _Alignas(64) members: calloc() promises only 16-byte alignment. */
	struct worker *w = aligned_alloc(64, 8 * sizeof(*w));
	pthread_t t[8];
	struct setup s;
	uint64_t v = 0;

	(void)state;
	assert_non_null(w);
	memset(w, 0, 8 * sizeof(*w));
	negotiate(&s, SEVMIG_HOST_POLICY_ALLOW);
	for (unsigned int i = 0; i < 8; i++) {
		w[i].vm = s.vm;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, vcpu_thread, &w[i]), 0);
	}
	for (unsigned int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	/* 20000 % 128 = 32: each thread's last pass left pages 32..63 shared. */
	assert_int_equal(shared_count(s.vm), 8 * 32);
	assert_int_equal(sevmig_vm_migration_control(s.vm, &v), 0);
	assert_int_equal(v, 1);
	free(w);
	finish(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_new_args),
		cmocka_unit_test(test_enable_exits_merges_vmm_bits),
		cmocka_unit_test(test_enable_exits_failures),
		cmocka_unit_test(test_filter_ours_alone),
		cmocka_unit_test(test_filter_merged_into_vmm),
		cmocka_unit_test(test_filter_ioctl_fails_no_offer),
		cmocka_unit_test(test_cpuid),
		cmocka_unit_test(test_msr_exits),
		cmocka_unit_test(test_msr_not_offered_gp),
		cmocka_unit_test(test_hypercall_validation),
		cmocka_unit_test(test_hypercall_not_offered),
		cmocka_unit_test(test_ram_map),
		cmocka_unit_test(test_reset_keeps_firmware_shared),
		cmocka_unit_test(test_readiness),
		cmocka_unit_test(test_complete_pending),
		cmocka_unit_test(test_concurrent_exits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
