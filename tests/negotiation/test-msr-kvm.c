// SPDX-License-Identifier: MIT
/*
 * The negotiation against the real kernel with a tiny real-mode guest
 * (dev-machines.md): the guest reads CPUID on the KVM leaf, writes READY to
 * MSR_KVM_MIGRATION_CONTROL, reads it back, then writes a reserved bit. With
 * libsevmig's capabilities, filter and CPUID in place, the READY write is
 * recorded, the RDMSR is answered in EDX:EAX, and the reserved write gets
 * #GP through the guest's IVT. With the feature not offered, the first WRMSR
 * already gets #GP. Skips (77) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include <sevmig/sevmig.h>

#include "test-util.h"

#define MEM_SIZE (1u << 20)
#define CODE 0x1000u
#define GP_HANDLER 0x1100u
#define OUT_CPUID 0x500u
#define OUT_RDMSR 0x504u
#define OUT_GP 0x508u

static const uint8_t guest_code[] = {
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x40,	/* mov eax, 0x40000001 */
	0x0f, 0xa2,				/* cpuid */
	0x66, 0xa3, 0x00, 0x05,			/* mov [0x500], eax */
	0x66, 0xb9, 0x08, 0x4d, 0x56, 0x4b,	/* mov ecx, 0x4b564d08 */
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov eax, 1 (READY) */
	0x66, 0x31, 0xd2,			/* xor edx, edx */
	0x0f, 0x30,				/* wrmsr */
	0x66, 0x31, 0xc0,			/* xor eax, eax */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0xa3, 0x04, 0x05,			/* mov [0x504], eax */
	0x66, 0xb8, 0x03, 0x00, 0x00, 0x00,	/* mov eax, 3 (reserved bit 1) */
	0x0f, 0x30,				/* wrmsr: #GP */
	0xf4,					/* hlt (not reached) */
};
static const uint8_t gp_handler[] = {
	0xc6, 0x06, 0x08, 0x05, 0x01,		/* mov byte [0x508], 1 */
	0xf4,					/* hlt */
};

static void on_alarm(int sig)
{
	(void)sig;
}

struct guest {
	int kvm, vm, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void guest_create(struct guest *g)
{
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	assert_true(g->vm >= 0);
	g->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->mem != MAP_FAILED);
	memcpy(g->mem + CODE, guest_code, sizeof(guest_code));
	memcpy(g->mem + GP_HANDLER, gp_handler, sizeof(gp_handler));
	/* IVT entry 13 (#GP): IP then CS. */
	g->mem[13 * 4] = GP_HANDLER & 0xff;
	g->mem[13 * 4 + 1] = GP_HANDLER >> 8;
	memset(&region, 0, sizeof(region));
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)g->mem;
	assert_int_equal(ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region), 0);

	g->vcpu = ioctl(g->vm, KVM_CREATE_VCPU, 0);
	assert_true(g->vcpu >= 0);
	g->run_size = (size_t)ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	g->run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu, 0);
	assert_true(g->run != MAP_FAILED);
	assert_int_equal(ioctl(g->vcpu, KVM_GET_SREGS, &sregs), 0);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	assert_int_equal(ioctl(g->vcpu, KVM_SET_SREGS, &sregs), 0);
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE;
	regs.rflags = 2;
	regs.rsp = 0x8000;
	assert_int_equal(ioctl(g->vcpu, KVM_SET_REGS, &regs), 0);
}

static void guest_set_cpuid(struct guest *g, struct sevmig_vm *vm, int want)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	assert_non_null(c);
	c->nent = 256;
	assert_int_equal(ioctl(g->kvm, KVM_GET_SUPPORTED_CPUID, c), 0);
	assert_int_equal(sevmig_vm_cpuid_apply(vm, c, 0), want);
	assert_int_equal(ioctl(g->vcpu, KVM_SET_CPUID2, c), 0);
	free(c);
}

static void guest_destroy(struct guest *g)
{
	munmap(g->run, g->run_size);
	munmap(g->mem, MEM_SIZE);
	close(g->vcpu);
	close(g->vm);
}

/* Run until HLT; every exit goes to libsevmig first. */
static void guest_run(struct guest *g, struct sevmig_vm *vm, int *msr_exits)
{
	for (int i = 0; i < 100; i++) {
		int r;

		alarm(5);
		r = ioctl(g->vcpu, KVM_RUN, 0);
		alarm(0);
		assert_int_equal(r, 0);
		if (g->run->exit_reason == KVM_EXIT_HLT)
			return;
		r = sevmig_vm_handle_exit(vm, g->run, 0);
		if (r != SEVMIG_EXIT_HANDLED)
			fail_msg("unexpected exit %u (libsevmig: %d)",
				 g->run->exit_reason, r);
		(*msr_exits)++;
	}
	fail_msg("the guest did not halt");
}

static int kvm_fd = -1;

static struct sevmig_vm *vm_for(struct sevmig_ctx *ctx, struct guest *g,
				uint32_t policy)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = g->vm,
				    .host_policy = policy };
	struct sevmig_vm *vm;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	assert_int_equal(sevmig_vm_ram_add(vm, 0, MEM_SIZE, g->mem, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), 0);
	return vm;
}

static void test_offered(void **state)
{
	struct guest g = { .kvm = kvm_fd };
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
	uint64_t v = 0, why = 1;
	uint32_t cpuid_eax;
	int exits = 0;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	guest_create(&g);
	vm = vm_for(ctx, &g, SEVMIG_HOST_POLICY_ALLOW);
	guest_set_cpuid(&g, vm, 1);
	guest_run(&g, vm, &exits);

	memcpy(&cpuid_eax, g.mem + OUT_CPUID, 4);
	assert_int_equal(cpuid_eax & (3u << 16), 3u << 16);	/* guest saw 16+17 */
	assert_int_equal(exits, 3);	/* WRMSR, RDMSR, WRMSR */
	assert_int_equal(sevmig_vm_migration_control(vm, &v), 0);
	assert_int_equal(v, 1);		/* READY recorded; the bad write ignored */
	assert_int_equal(g.mem[OUT_RDMSR], 1);	/* RDMSR answered in EAX */
	assert_int_equal(g.mem[OUT_GP], 1);	/* #GP through the IVT */
	assert_int_equal(sevmig_vm_readiness(vm, &why, 0), 0);
	assert_int_equal(why, 0);
	sevmig_vm_free(vm);
	guest_destroy(&g);
	sevmig_ctx_free(ctx);
}

static void test_not_offered(void **state)
{
	struct guest g = { .kvm = kvm_fd };
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
	uint32_t cpuid_eax;
	uint64_t v = 5, why;
	int exits = 0;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	guest_create(&g);
	vm = vm_for(ctx, &g, SEVMIG_HOST_POLICY_DENY);
	guest_set_cpuid(&g, vm, 0);
	guest_run(&g, vm, &exits);

	memcpy(&cpuid_eax, g.mem + OUT_CPUID, 4);
	assert_int_equal(cpuid_eax & (3u << 16), 0);
	assert_int_equal(exits, 1);		/* the first WRMSR, answered #GP */
	assert_int_equal(g.mem[OUT_GP], 1);
	assert_int_equal(g.mem[OUT_RDMSR], 0);	/* never got that far */
	assert_int_equal(sevmig_vm_migration_control(vm, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sevmig_vm_readiness(vm, &why, 0), 0);
	assert_true(why & SEVMIG_REASON_HOST_POLICY_DENY);
	sevmig_vm_free(vm);
	guest_destroy(&g);
	sevmig_ctx_free(ctx);
}

/* A pending MSR exit is completed by re-entering with immediate_exit. */
static void test_complete_pending(void **state)
{
	struct guest g = { .kvm = kvm_fd };
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
	struct kvm_regs regs;
	int r;

	(void)state;
	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	guest_create(&g);
	vm = vm_for(ctx, &g, SEVMIG_HOST_POLICY_ALLOW);
	guest_set_cpuid(&g, vm, 1);
	alarm(5);
	r = ioctl(g.vcpu, KVM_RUN, 0);
	alarm(0);
	assert_int_equal(r, 0);
	assert_int_equal(g.run->exit_reason, KVM_EXIT_X86_WRMSR);
	assert_int_equal(sevmig_vm_handle_exit(vm, g.run, 0), SEVMIG_EXIT_HANDLED);
	/* The WRMSR is not complete until KVM_RUN: RIP still points at it. */
	assert_int_equal(sevmig_vm_complete_pending(vm, g.vcpu, g.run, 0), 0);
	assert_int_equal(ioctl(g.vcpu, KVM_GET_REGS, &regs), 0);
	assert_int_equal(g.mem[regs.rip - 2], 0x0f);	/* just past "0f 30" */
	assert_int_equal(g.mem[regs.rip - 1], 0x30);
	assert_int_equal(g.run->immediate_exit, 0);
	sevmig_vm_free(vm);
	guest_destroy(&g);
	sevmig_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offered),
		cmocka_unit_test(test_not_offered),
		cmocka_unit_test(test_complete_pending),
	};
	struct sigaction sa;
	int ret;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return TEST_SKIP;
	}
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0 ||
	    !(ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL) & 0x1000)) {
		printf("SKIP: KVM lacks MSR filters or the hypercall exit\n");
		return TEST_SKIP;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	close(kvm_fd);
	return ret;
}
