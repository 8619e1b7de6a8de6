// SPDX-License-Identifier: MIT
/*
 * sevmig_host_probe() against the real kernel. The expected values come from
 * raw ioctls made here, independently of the library, so the test holds on
 * any host: our software-KVM machines (no SEV, no /dev/sev) and a real SEV
 * host alike. Skips (77) without /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include <sevmig/sevmig.h>

#include "test-util.h"

#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif

static int kvm_fd = -1;

static int raw_check(int cap)
{
	int r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static int raw_sev_enabled(void)
{
	int vm = ioctl(kvm_fd, KVM_CREATE_VM, 0), r;

	if (vm < 0)
		return -errno;
	r = ioctl(vm, KVM_MEMORY_ENCRYPT_OP, NULL);
	r = r < 0 ? -errno : 0;
	close(vm);
	return r;
}

static void probe(struct sevmig_host_caps *c)
{
	struct sevmig_ctx *ctx;

	assert_int_equal(sevmig_ctx_new(NULL, &ctx), 0);
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	assert_int_equal(sevmig_host_probe(ctx, c, 0), 0);
	sevmig_ctx_free(ctx);
}

static void test_kvm_facts_match_raw_ioctls(void **state)
{
	struct sevmig_host_caps c;

	(void)state;
	probe(&c);
	assert_true(c.flags & SEVMIG_HOST_KVM);
	assert_int_equal(c.kvm_status, 0);
	assert_int_equal(c.kvm_api_version, ioctl(kvm_fd, KVM_GET_API_VERSION, 0));
	assert_int_equal(c.exit_hypercall_mask,
			 (uint32_t)raw_check(KVM_CAP_EXIT_HYPERCALL));
	assert_int_equal(!!(c.flags & SEVMIG_HOST_EXIT_HC_MAP_GPA),
			 !!(raw_check(KVM_CAP_EXIT_HYPERCALL) & 0x1000));
	assert_int_equal(!!(c.flags & SEVMIG_HOST_USER_SPACE_MSR),
			 raw_check(KVM_CAP_X86_USER_SPACE_MSR) > 0);
	assert_int_equal(!!(c.flags & SEVMIG_HOST_MSR_FILTER),
			 raw_check(KVM_CAP_X86_MSR_FILTER) > 0);
	assert_int_equal(!!(c.flags & SEVMIG_HOST_MOVE_ENC_CONTEXT),
			 raw_check(KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM) > 0);
	assert_int_equal(!!(c.flags & SEVMIG_HOST_COPY_ENC_CONTEXT),
			 raw_check(KVM_CAP_VM_COPY_ENC_CONTEXT_FROM) > 0);
	if (raw_check(KVM_CAP_VM_TYPES) > 0)
		assert_int_equal(c.vm_types, (uint32_t)raw_check(KVM_CAP_VM_TYPES));
	assert_int_equal(c.kvm_sev_status, raw_sev_enabled());
	assert_int_equal(!!(c.flags & SEVMIG_HOST_KVM_SEV), raw_sev_enabled() == 0);
}

static void test_sev_device_matches(void **state)
{
	struct sevmig_host_caps c;
	int fd;

	(void)state;
	probe(&c);
	fd = open("/dev/sev", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		assert_int_equal(c.sev_dev_status, -errno);
		assert_false(c.flags & SEVMIG_HOST_SEV_DEVICE);
		assert_true(c.cross_host_reasons &
			    (SEVMIG_REASON_NO_SEV_DEVICE |
			     SEVMIG_REASON_SEV_DEVICE_ACCESS));
	} else {
		close(fd);
		assert_int_equal(c.sev_dev_status, 0);
		assert_true(c.flags & SEVMIG_HOST_SEV_DEVICE);
	}
}

/*
 * What our development machines must show (dev-machines.md). Applies only
 * where KVM has no SEV, which is what identifies such a machine.
 */
static void test_dev_machine_facts(void **state)
{
	struct sevmig_host_caps c;

	(void)state;
	probe(&c);
	if (c.flags & SEVMIG_HOST_KVM_SEV)
		skip();
	assert_int_equal(c.exit_hypercall_mask & 0x1000, 0x1000);
	assert_true(c.flags & SEVMIG_HOST_USER_SPACE_MSR);
	assert_true(c.flags & SEVMIG_HOST_MSR_FILTER);
	assert_int_equal(c.kvm_sev_status, -ENOTTY);
	assert_true(c.cross_host_reasons & SEVMIG_REASON_KVM_NO_SEV);
	assert_false(c.cross_host_reasons & (SEVMIG_REASON_NO_EXIT_HYPERCALL |
					     SEVMIG_REASON_NO_USER_SPACE_MSR |
					     SEVMIG_REASON_NO_MSR_FILTER));
	assert_true(c.intra_host_reasons & SEVMIG_REASON_KVM_NO_SEV);
	assert_true(c.mirror_reasons & SEVMIG_REASON_KVM_NO_SEV);
	if (access("/dev/sev", F_OK) != 0) {
		assert_int_equal(c.sev_dev_status, -ENOENT);
		assert_true(c.cross_host_reasons & SEVMIG_REASON_NO_SEV_DEVICE);
	}
	assert_true(c.es_cross_host_reasons & SEVMIG_REASON_ES_NO_VMSA_MIGRATION);
}

/* The probe leaves nothing open behind it. */
static void test_no_fd_leak(void **state)
{
	struct sevmig_host_caps c;
	int before, after;

	(void)state;
	before = dup(0);
	close(before);
	for (int i = 0; i < 20; i++)
		probe(&c);
	after = dup(0);
	close(after);
	assert_int_equal(before, after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kvm_facts_match_raw_ioctls),
		cmocka_unit_test(test_sev_device_matches),
		cmocka_unit_test(test_dev_machine_facts),
		cmocka_unit_test(test_no_fd_leak),
	};
	int ret;

	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return TEST_SKIP;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	close(kvm_fd);
	return ret;
}
