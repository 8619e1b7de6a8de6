// SPDX-License-Identifier: MIT
/*
 * Source teardown on the scripted fake backend: the teardown-ioctl wrapper
 * as a plain pass-through on a live VM, and on a sent, moved or dead VM
 * with KVM_RUN refused, every allow-listed removal's EIO treated as done,
 * and every other failure (additions, other requests, other descriptors, no
 * argument, other errnos) kept; sevmig_vm_teardown()'s order, refusal with
 * mirrors, closing only what libsevmig opened, and its idempotence.
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

enum { KVM_FD = 8, VM_FD = 20, VCPU_FD = 30, M_FD = 22 };

/* Any request the allow-list does not know: KVM_GET_REGS. */
#define KVM_GET_REGS_REQ UAPI_IOR(KVMIO, 0x81, 144u)

static char log_text[16384];

static void record_log(void *opaque, uint32_t level, const char *msg)
{
	size_t n = strlen(log_text);

	(void)opaque;
	snprintf(log_text + n, sizeof(log_text) - n, "[%u] %s\n", level, msg);
}

static struct sevmig_ctx *logging_ctx(struct fake_sys *fs)
{
	struct sevmig_sys_ops ops;
	struct sevmig_ctx_opts o = { .size = sizeof(o), .log = record_log,
				     .log_level = SEVMIG_LOG_DEBUG };
	struct sevmig_ctx *ctx = NULL;

	fake_sys_ops(fs, &ops);
	o.sys = &ops;
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	log_text[0] = 0;
	return ctx;
}

static struct sevmig_vm *mk(struct sevmig_ctx *ctx, int fd, uint32_t sev_type)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = fd,
				    .phys_bits = 40,
				    .vm_type = SEVMIG_VM_TYPE_DEFAULT,
				    .sev_type = sev_type };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	return vm;
}

/* The arguments a VMM's shutdown passes. */
static struct kvm_ioeventfd ioev_del = { .addr = 0x1000, .len = 4, .fd = 50,
					 .flags = KVM_IOEVENTFD_FLAG_DEASSIGN };
static struct kvm_ioeventfd ioev_add = { .addr = 0x1000, .len = 4, .fd = 50 };
static struct kvm_irqfd irq_del = { .fd = 51, .gsi = 5,
				    .flags = KVM_IRQFD_FLAG_DEASSIGN };
static struct kvm_irqfd irq_add = { .fd = 51, .gsi = 5 };
static struct kvm_userspace_memory_region slot_del = { .slot = 1,
						       .guest_phys_addr = 0x100000 };
static struct kvm_userspace_memory_region slot_add = { .slot = 1,
						       .memory_size = 0x1000 };
static struct kvm_userspace_memory_region2 slot2_del = { .slot = 2 };
static struct kvm_userspace_memory_region2 slot2_add = { .slot = 2,
							 .memory_size = 0x2000 };
static struct kvm_coalesced_mmio_zone zone = { .addr = 0xfe000000, .size = 4096 };
static struct kvm_enc_region region = { .addr = 0x7f0000000000ull,
					.size = 0x100000 };

static int td(struct sevmig_vm *vm, int fd, unsigned long req, void *arg)
{
	return sevmig_vm_teardown_ioctl(vm, fd, req, arg, 0);
}

static void test_args(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_vm *vm = mk(fake_sys_ctx(fs), VM_FD, 0);

	(void)state;
	assert_int_equal(sevmig_vm_teardown_ioctl(NULL, VM_FD, KVM_IRQFD,
						  &irq_del, 0), -EINVAL);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, VM_FD, KVM_IRQFD,
						  &irq_del, 1), -EINVAL);
	assert_int_equal(sevmig_vm_teardown_ioctl(vm, -1, KVM_IRQFD,
						  &irq_del, 0), -EINVAL);
	assert_non_null(strstr(fake_sys_last_error(fs), "not a descriptor"));
	assert_int_equal(sevmig_vm_teardown(NULL, 0), -EINVAL);
	assert_int_equal(sevmig_vm_teardown(vm, 2), -EINVAL);
	assert_int_equal(sevmig_vm_teardown(vm, 0x80000000u), -EINVAL);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

/* A live VM: every result as the kernel gave it, EIO included. */
static void test_live_pass_through(void **state)
{
	struct fake_call script[] = {
		FAKE_IOCTL_ANY(VM_FD, KVM_IOEVENTFD, -EIO),
		FAKE_IOCTL_ANY(VM_FD, KVM_SET_USER_MEMORY_REGION, 0),
		FAKE_IOCTL_ANY(VM_FD, KVM_GET_REGS_REQ, 7),
		FAKE_IOCTL_VAL(VCPU_FD, KVM_RUN, 0, -EINTR),
		FAKE_IOCTL_ANY(VM_FD, KVM_IRQFD, -EIO),	/* SENDING */
		FAKE_IOCTL_VAL(VCPU_FD, KVM_RUN, 0, 0),	/* INCOMING */
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_vm *vm = mk(fake_sys_ctx(fs), VM_FD, 0);

	(void)state;
	assert_int_equal(td(vm, VM_FD, KVM_IOEVENTFD, &ioev_del), -EIO);
	assert_int_equal(td(vm, VM_FD, KVM_SET_USER_MEMORY_REGION, &slot_del), 0);
	assert_int_equal(td(vm, VM_FD, KVM_GET_REGS_REQ, NULL), 7);
	assert_int_equal(td(vm, VCPU_FD, KVM_RUN, NULL), -EINTR);
	vm->state = SEVMIG_VM_SENDING;
	assert_int_equal(td(vm, VM_FD, KVM_IRQFD, &irq_del), -EIO);
	vm->state = SEVMIG_VM_INCOMING;
	assert_int_equal(td(vm, VCPU_FD, KVM_RUN, NULL), 0);
	sevmig_vm_free(vm);
	fake_sys_done(fs);
}

struct td_case {
	int fd;
	unsigned long req;
	void *arg;
	int kernel;	/* what the backend answers */
	int want;	/* what the wrapper returns */
	const char *log;	/* expected in the log */
};

/* The caller's own argument reaches the kernel. */
static int same_arg(const struct fake_call *c, void *arg)
{
	assert_ptr_equal(arg, c->hook_data);
	return c->ret;
}

static void run_cases(uint32_t st)
{
	const struct td_case cases[] = {
		/* The allow-list: EIO from a removal is done. */
		{ VM_FD, KVM_IOEVENTFD, &ioev_del, -EIO, 0, "KVM_IOEVENTFD (deassign)" },
		{ VM_FD, KVM_IRQFD, &irq_del, -EIO, 0, "KVM_IRQFD (deassign)" },
		{ VM_FD, KVM_SET_USER_MEMORY_REGION, &slot_del, -EIO, 0, "pins no memory" },
		{ VM_FD, KVM_SET_USER_MEMORY_REGION2, &slot2_del, -EIO, 0, "guest_memfd" },
		{ VM_FD, KVM_UNREGISTER_COALESCED_MMIO, &zone, -EIO, 0, "coalesced MMIO" },
		{ VM_FD, KVM_MEMORY_ENCRYPT_UNREG_REGION, &region, -EIO, 0, "unpins" },
		/* Success passes through. */
		{ VM_FD, KVM_IOEVENTFD, &ioev_del, 0, 0, NULL },
		{ VM_FD, KVM_GET_REGS_REQ, NULL, 3, 3, NULL },
		/* Additions stay errors. */
		{ VM_FD, KVM_IOEVENTFD, &ioev_add, -EIO, -EIO, "adds rather than removes" },
		{ VM_FD, KVM_IRQFD, &irq_add, -EIO, -EIO, "adds rather than removes" },
		{ VM_FD, KVM_SET_USER_MEMORY_REGION, &slot_add, -EIO, -EIO, "adds rather" },
		{ VM_FD, KVM_SET_USER_MEMORY_REGION2, &slot2_add, -EIO, -EIO, "adds rather" },
		{ VM_FD, KVM_REGISTER_COALESCED_MMIO, &zone, -EIO, -EIO, "not a teardown on the allow-list" },
		{ VM_FD, KVM_MEMORY_ENCRYPT_REG_REGION, &region, -EIO, -EIO, "allow-list" },
		/* Requests that read state, or anything else. */
		{ VM_FD, KVM_GET_REGS_REQ, NULL, -EIO, -EIO, "allow-list" },
		{ VCPU_FD, KVM_GET_REGS_REQ, NULL, -EIO, -EIO, "allow-list" },
		{ VM_FD, KVM_MEMORY_ENCRYPT_OP, NULL, -EIO, -EIO, "allow-list" },
		/* A removal on another descriptor, or without its argument. */
		{ VCPU_FD, KVM_IRQFD, &irq_del, -EIO, -EIO, "another descriptor" },
		{ VM_FD, KVM_IOEVENTFD, NULL, -EIO, -EIO, "no argument" },
		/* Another errno is the kernel's answer, not a dead VM. */
		{ VM_FD, KVM_SET_USER_MEMORY_REGION, &slot_del, -EINVAL, -EINVAL, "invalid argument" },
		{ VM_FD, KVM_IRQFD, &irq_del, -EBADF, -EBADF, "bad file descriptor" },
	};
	struct fake_call script[ARRAY_LEN(cases)];
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fake_call c = FAKE_IOCTL_ANY(cases[i].fd, cases[i].req,
						    cases[i].kernel);

		/* The wrapper passes the caller's argument itself. */
		if (!cases[i].arg)
			c.arg_null = true;
		c.hook = same_arg;
		c.hook_data = cases[i].arg;
		script[i] = c;
	}
	fs = fake_sys_new(script, ARRAY_LEN(script));
	ctx = logging_ctx(fs);
	vm = mk(ctx, VM_FD, SEVMIG_SEV_TYPE_SEV);
	vm->state = st;
	/* KVM_RUN never reaches the kernel. */
	assert_int_equal(td(vm, VCPU_FD, KVM_RUN, NULL), -ESTALE);
	assert_non_null(strstr(log_text, "must never run again"));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		log_text[0] = 0;
		assert_int_equal(td(vm, cases[i].fd, cases[i].req, cases[i].arg),
				 cases[i].want);
		if (cases[i].log && !strstr(log_text, cases[i].log))
			fail_msg("case %zu: log \"%s\" lacks \"%s\"", i,
				 log_text, cases[i].log);
		/* Done: DEBUG; kept: ERR. */
		if (cases[i].kernel == -EIO && !cases[i].want)
			assert_non_null(strstr(log_text, "[4]"));
		if (cases[i].want < 0)
			assert_non_null(strstr(log_text, "[1]"));
	}
	sevmig_vm_free(vm);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

static void test_moved(void **state)
{
	(void)state;
	run_cases(SEVMIG_VM_MOVED);
}

static void test_sent(void **state)
{
	(void)state;
	run_cases(SEVMIG_VM_SENT);
}

static void test_dead(void **state)
{
	(void)state;
	run_cases(SEVMIG_VM_DEAD);
}

/* A mirror of a sent primary must not run either. */
static struct kvm_enable_cap copy_cap = {
	.cap = KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, .args = { VM_FD } };

static void test_mirror_of_sent(void **state)
{
	struct fake_call script[] = {
		FAKE_IOCTL_ANY(M_FD, KVM_ENABLE_CAP, 0),
		FAKE_IOCTL_ANY(M_FD, KVM_IRQFD, -EIO),
	};
	struct fake_sys *fs;
	struct sevmig_ctx *ctx;
	struct sevmig_vm *p, *m;

	(void)state;
	script[0].in = &copy_cap;
	script[0].in_len = sizeof(copy_cap);
	fs = fake_sys_new(script, ARRAY_LEN(script));
	ctx = fake_sys_ctx(fs);
	p = mk(ctx, VM_FD, SEVMIG_SEV_TYPE_SEV);
	m = mk(ctx, M_FD, SEVMIG_SEV_TYPE_NONE);
	assert_int_equal(sevmig_vm_mirror_from(m, p, 0, NULL), 0);
	p->state = SEVMIG_VM_SENT;
	assert_int_equal(td(m, VCPU_FD, KVM_RUN, NULL), -ESTALE);
	assert_int_equal(td(m, M_FD, KVM_IRQFD, &irq_del), 0);
	sevmig_vm_free(m);
	sevmig_vm_free(p);
	fake_sys_done(fs);
}

static _Alignas(64) uint8_t run0[KVM_RUN_SIZE];

static void test_teardown_plain(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = logging_ctx(fs);
	struct sevmig_vm *vm = mk(ctx, VM_FD, SEVMIG_SEV_TYPE_SEV);
	uint32_t n = 9;

	(void)state;
	assert_int_equal(sevmig_vm_ram_add(vm, 0, 1 << 20, NULL, 0), 0);
	assert_int_equal(sevmig_vm_firmware_shared_add(vm, 0x1000, 0x1000, 0), 0);
	assert_int_equal(sevmig_vm_pause(vm, 0), 0);
	assert_int_equal(sevmig_vm_vcpu_add(vm, VCPU_FD, run0, 0), 0);
	vm->state = SEVMIG_VM_MOVED;
	assert_int_equal(sevmig_vm_teardown(vm, 0), 0);	/* no syscall */
	assert_non_null(strstr(log_text, "moved -> dead (torn down)"));
	assert_int_equal(sevmig_vm_get_state(vm), SEVMIG_VM_DEAD);
	assert_int_equal(sevmig_vm_vcpu_count(vm, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sevmig_vm_ram_remove(vm, 0, 1 << 20, 0), -ENOENT);
	assert_int_equal(vm->nfw_shared, 0);
	assert_int_equal(sevmig_vm_resume(vm, 0), -ESTALE);
	assert_int_equal(sevmig_vm_pause(vm, 0), -ESTALE);
	/* Again: nothing left to do. */
	log_text[0] = 0;
	assert_int_equal(sevmig_vm_teardown(vm, 0), 0);
	assert_null(strstr(log_text, "-> dead"));
	sevmig_vm_free(vm);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

/* A teardown during a migration ends it, and says so. */
static void test_teardown_sending(void **state)
{
	struct fake_sys *fs = fake_sys_new(NULL, 0);
	struct sevmig_ctx *ctx = logging_ctx(fs);
	struct sevmig_vm *vm = mk(ctx, VM_FD, SEVMIG_SEV_TYPE_SEV);

	(void)state;
	vm->state = SEVMIG_VM_SENDING;
	assert_int_equal(sevmig_vm_teardown(vm, 0), 0);
	assert_non_null(strstr(log_text, "[2] VM fd 20 torn down while sending"));
	sevmig_vm_free(vm);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

/* Mirrors first; only the descriptor libsevmig created is closed. */
static void test_teardown_mirrors(void **state)
{
	struct fake_call script[] = {
		FAKE_IOCTL_VAL(KVM_FD, KVM_CREATE_VM, 0, M_FD),
		FAKE_IOCTL_ANY(M_FD, KVM_ENABLE_CAP, 0),
		FAKE_IOCTL_ANY(M_FD + 1, KVM_ENABLE_CAP, 0),
		FAKE_CLOSE(M_FD, -EINTR),	/* a failing close goes on */
	};
	struct fake_sys *fs = fake_sys_new(script, ARRAY_LEN(script));
	struct sevmig_ctx *ctx = logging_ctx(fs);
	struct sevmig_vm *p = mk(ctx, VM_FD, SEVMIG_SEV_TYPE_SEV_ES);
	struct sevmig_vm *m = NULL, *m2 = mk(ctx, M_FD + 1, SEVMIG_SEV_TYPE_NONE);
	uint32_t role, n = 0;

	(void)state;
	assert_int_equal(sevmig_vm_mirror_create(p, KVM_FD, 0, &m, NULL), 0);
	assert_int_equal(sevmig_vm_mirror_from(m2, p, 0, NULL), 0);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 2);
	/* Refused while mirrors are attached, and nothing changed. */
	assert_int_equal(sevmig_vm_teardown(p, 0), -EBUSY);
	assert_non_null(strstr(log_text, "has 2 mirror(s)"));
	assert_non_null(strstr(log_text, "SEVMIG_TEARDOWN_MIRRORS"));
	assert_int_equal(sevmig_vm_get_state(p), SEVMIG_VM_LIVE);
	/* A mirror torn down alone leaves its primary. */
	assert_int_equal(sevmig_vm_teardown(m2, 0), 0);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 1);
	/* With the flag: the mirror first (its own fd closed), then p. */
	log_text[0] = 0;
	assert_int_equal(sevmig_vm_teardown(p, SEVMIG_TEARDOWN_MIRRORS), 0);
	{
		const char *a = strstr(log_text, "VM fd 22: live -> dead");
		const char *b = strstr(log_text, "VM fd 20: live -> dead");

		assert_non_null(a);
		assert_non_null(b);
		assert_true(a < b);
	}
	assert_non_null(strstr(log_text, "closing VM fd 22"));
	assert_int_equal(sevmig_vm_get_state(m), SEVMIG_VM_DEAD);
	assert_int_equal(sevmig_vm_get_state(p), SEVMIG_VM_DEAD);
	assert_int_equal(sevmig_vm_role(p, &role, &n), 0);
	assert_int_equal(n, 0);
	/* Freeing closes nothing more (the script has one close). */
	sevmig_vm_free(m);
	sevmig_vm_free(m2);
	sevmig_vm_free(p);
	sevmig_ctx_free(ctx);
	fake_sys_done(fs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_live_pass_through),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_sent),
		cmocka_unit_test(test_dead),
		cmocka_unit_test(test_mirror_of_sent),
		cmocka_unit_test(test_teardown_plain),
		cmocka_unit_test(test_teardown_sending),
		cmocka_unit_test(test_teardown_mirrors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
