// SPDX-License-Identifier: MIT
/*
 * What the move and teardown work needs from the kernel, as the simulator
 * emulates it: after an intra-host move the source VM is dead (every ioctl
 * on its VM, vCPU and device fds answers EIO; close still works), and a
 * guest the firmware has SENT never runs again (KVM_RUN answers EIO and is
 * counted, so a test can prove a VMM never tried).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

/* VM, vCPU and device ioctls kvm-abi.h does not carry (Linux uapi). */
#define T_KVM_SET_USER_MEMORY_REGION UAPI_IOW(KVMIO, 0x46, 32u)
#define T_KVM_IRQFD                  UAPI_IOW(KVMIO, 0x76, 32u)
#define T_KVM_IOEVENTFD              UAPI_IOW(KVMIO, 0x79, 64u)
#define T_KVM_GET_REGS               UAPI_IOR(KVMIO, 0x81, 144u)
#define T_KVM_CREATE_DEVICE          UAPI_IOWR(KVMIO, 0xe0, 12u)
#define T_KVM_HAS_DEVICE_ATTR        UAPI_IOW(KVMIO, 0xe3, 24u)
#define T_KVM_DEV_TYPE_VFIO          4u
#define T_KVM_DEV_VFIO_FILE          1u
#define T_KVM_DEV_VFIO_FILE_ADD      1u
#define T_KVM_IRQFD_FLAG_DEASSIGN    (1u << 0)
#define T_KVM_IOEVENTFD_FLAG_DEASSIGN (1u << 2)

static uint32_t mode;
static struct sevmig_sim *world;
static struct th H;
static uint8_t *mem;

static int setup(void **state)
{
	(void)state;
	th_open(&H, world, NULL);
	mem = th_pages(1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_close(&H);
	th_free_pages(mem, 1);
	return 0;
}

static void xclose(int fd)
{
	assert_int_equal(H.ops.close(H.ops.opaque, fd), 0);
}

static int running_vm(void)
{
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	th_launch(&H, vm, 0, mem, 4096);
	return vm;
}

static int cap_from(int dst, uint32_t cap, int src)
{
	struct kvm_enable_cap c = { .cap = cap };

	c.args[0] = (uint64_t)src;
	return th_ioctl(&H, dst, KVM_ENABLE_CAP, &c);
}

static uint32_t guest_count(void)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	return st.guest_count;
}

static uint64_t sent_runs(void)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	return st.sent_vcpu_runs;
}

/* KVM mode: a VFIO device on @vm (the one device type the development
 * machines' KVM creates without hardware), or -1 where there is none. */
static int vfio_device(int vm)
{
	struct { uint32_t type, fd, flags; } d = { T_KVM_DEV_TYPE_VFIO, 0, 0 };

	if (mode != SEVMIG_SIM_MODE_KVM ||
	    th_ioctl(&H, vm, T_KVM_CREATE_DEVICE, &d))
		return -1;
	return (int)d.fd;
}

static int has_vfio_attr(int dev)
{
	struct { uint32_t flags, group; uint64_t attr, addr; } a = {
		0, T_KVM_DEV_VFIO_FILE, T_KVM_DEV_VFIO_FILE_ADD, 0 };

	return th_ioctl(&H, dev, T_KVM_HAS_DEVICE_ATTR, &a);
}

/* kvm_vm_ioctl(), kvm_vcpu_ioctl() and kvm_device_ioctl() all answer EIO
 * once kvm_vm_dead() ran on the source of a move. */
static void test_moved_source_every_ioctl_eio(void **state)
{
	uint8_t zero[144] = { 0 };
	struct kvm_enc_region r = { (uint64_t)(uintptr_t)mem, 4096 };
	struct kvm_enable_cap hc = { .cap = KVM_CAP_EXIT_HYPERCALL };
	struct {
		uint64_t datamatch, addr;
		uint32_t len;
		int32_t fd;
		uint32_t flags;
		uint8_t pad[36];
	} ioev = { 0, 0x1000, 4, -1, T_KVM_IOEVENTFD_FLAG_DEASSIGN, { 0 } };
	struct { uint32_t fd, gsi, flags, resamplefd; uint8_t pad[16]; } irqfd = {
		0, 5, T_KVM_IRQFD_FLAG_DEASSIGN, 0, { 0 } };
	int src = running_vm(), dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	int vcpu = th_vcpu(&H, src, 0), dev = vfio_device(src);

	(void)state;
	if (dev >= 0)
		assert_int_equal(has_vfio_attr(dev), 0);
	assert_int_equal(cap_from(dst, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, src),
			 0);
	/* The VM fd. */
	assert_int_equal(th_ioctl(&H, src, KVM_MEMORY_ENCRYPT_OP, NULL), -EIO);
	assert_int_equal(th_op(&H, src, KVM_SEV_GUEST_STATUS, zero, NULL),
			 -EIO);
	assert_int_equal(th_ioctl(&H, src, KVM_MEMORY_ENCRYPT_REG_REGION, &r),
			 -EIO);
	assert_int_equal(th_ioctl(&H, src, KVM_MEMORY_ENCRYPT_UNREG_REGION,
				  &r), -EIO);
	assert_int_equal(th_ioctl(&H, src, KVM_ENABLE_CAP, &hc), -EIO);
	assert_int_equal(th_ioctl_val(&H, src, KVM_CHECK_EXTENSION,
				      KVM_CAP_VM_TYPES), -EIO);
	assert_int_equal(th_ioctl_val(&H, src, KVM_CREATE_VCPU, 1), -EIO);
	assert_int_equal(th_ioctl(&H, src, T_KVM_SET_USER_MEMORY_REGION, zero),
			 -EIO);
	assert_int_equal(th_ioctl(&H, src, T_KVM_IOEVENTFD, &ioev), -EIO);
	assert_int_equal(th_ioctl(&H, src, T_KVM_IRQFD, &irqfd), -EIO);
	assert_int_equal(th_ioctl(&H, src, KVM_X86_SET_MSR_FILTER, zero),
			 -EIO);
	assert_int_equal(th_ioctl(&H, src, T_KVM_CREATE_DEVICE, zero), -EIO);
	assert_int_equal(cap_from(src, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, dst),
			 -EIO);
	/* Its vCPU and device fds. */
	assert_int_equal(th_ioctl(&H, vcpu, KVM_RUN, NULL), -EIO);
	assert_int_equal(th_ioctl(&H, vcpu, KVM_SET_CPUID2, zero), -EIO);
	assert_int_equal(th_ioctl(&H, vcpu, T_KVM_GET_REGS, zero), -EIO);
	if (dev >= 0) {
		assert_int_equal(has_vfio_attr(dev), -EIO);
		xclose(dev);
	} else if (mode == SEVMIG_SIM_MODE_KVM) {
		print_message("no KVM device to create here: device fds not "
			      "checked\n");
	}
	/* The destination lives on; closing everything still works. */
	assert_int_equal(th_ioctl(&H, dst, KVM_MEMORY_ENCRYPT_OP, NULL), 0);
	assert_int_equal(guest_count(), 1);
	xclose(vcpu);
	xclose(src);
	xclose(dst);
	assert_int_equal(guest_count(), 0);
}

/* SEND_START to our own PDH, then SEND_FINISH or SEND_CANCEL. */
static void send_and(int vm, uint32_t last)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint32_t err = 0;

	th_export(&H, pdh, chain);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664,
				       session, &err), 0);
	assert_int_equal(th_op(&H, vm, last, NULL, &err), 0);
}

/* Not a kernel rule: the simulator refuses to run a SENT guest. */
static void test_sent_guest_never_runs(void **state)
{
	int vm = running_vm(), mirror, before_vcpu, after_vcpu, mvcpu, moved;

	(void)state;
	before_vcpu = th_vcpu(&H, vm, 0);
	mirror = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(cap_from(mirror, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM,
				  vm), 0);
	mvcpu = th_vcpu(&H, mirror, 0);
	assert_int_equal(sent_runs(), 0);
	/* RUNNING, and again after SEND_CANCEL: not refused for this. */
	assert_int_not_equal(th_ioctl(&H, before_vcpu, KVM_RUN, NULL), -EIO);
	send_and(vm, KVM_SEV_SEND_CANCEL);
	assert_int_not_equal(th_ioctl(&H, before_vcpu, KVM_RUN, NULL), -EIO);
	assert_int_equal(sent_runs(), 0);
	send_and(vm, KVM_SEV_SEND_FINISH);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_SENT);
	/* Every vCPU bound to the SENT guest: old, new, the mirror's. */
	assert_int_equal(th_ioctl(&H, before_vcpu, KVM_RUN, NULL), -EIO);
	after_vcpu = th_vcpu(&H, vm, 1);
	assert_int_equal(th_ioctl(&H, after_vcpu, KVM_RUN, NULL), -EIO);
	assert_int_equal(th_ioctl(&H, mvcpu, KVM_RUN, NULL), -EIO);
	assert_int_equal(sent_runs(), 3);
	/* Other vCPU ioctls are not refused for this reason. */
	assert_int_not_equal(th_ioctl(&H, after_vcpu, KVM_SET_CPUID2,
				      &(struct kvm_cpuid2){ 0 }), -EIO);
	xclose(mvcpu);
	xclose(mirror);
	/* Moved to another VM, the guest is still SENT. */
	moved = th_vm(&H, KVM_X86_DEFAULT_VM);
	mvcpu = th_vcpu(&H, moved, 0);
	xclose(before_vcpu);
	xclose(after_vcpu);
	assert_int_equal(cap_from(moved, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, vm),
			 0);
	assert_int_equal(th_ioctl(&H, mvcpu, KVM_RUN, NULL), -EIO);
	assert_int_equal(sent_runs(), 4);
	xclose(mvcpu);
	xclose(vm);
	xclose(moved);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_moved_source_every_ioctl_eio,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sent_guest_never_runs,
						setup, teardown),
	};
	int ret;

	mode = th_mode_from_args(argc, argv);
	world = th_world(mode);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	sevmig_sim_free(world);
	return ret;
}
