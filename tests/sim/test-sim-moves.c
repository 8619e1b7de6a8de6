// SPDX-License-Identifier: MIT
/*
 * Intra-host moves and mirrors (docs/simulator.md), after the rules
 * the kernel's sev_migrate_tests check: chains of moves, the dead source
 * (EIO), the EINVAL cases, SEV-ES vCPU rules, mirrors and what they may
 * issue, and EBUSY for concurrent moves.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

static uint32_t mode;
static struct sevmig_sim *world;
static struct th H;
static uint8_t *mem;

static int setup(void **state)
{
	struct sevmig_sim_host_opts o = { .size = sizeof(o),
					  .config = SEVMIG_SIM_CONFIG_ES };

	(void)state;
	th_open(&H, world, &o);
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

static int cap_from(int dst, uint32_t cap, int src)
{
	struct kvm_enable_cap c = { .cap = cap };

	c.args[0] = (uint64_t)src;
	return th_ioctl(&H, dst, KVM_ENABLE_CAP, &c);
}

static int move_from(int dst, int src)
{
	return cap_from(dst, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, src);
}

static int mirror_from(int dst, int src)
{
	return cap_from(dst, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, src);
}

static uint32_t guests(void)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	return st.guest_count;
}

static void xclose(int fd)
{
	assert_int_equal(H.ops.close(H.ops.opaque, fd), 0);
}

static int sev_vm(void)
{
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	th_launch(&H, vm, 0, mem, 4096);
	return vm;
}

/* test_sev_migrate_from: a chain of moves; the guest lives on. */
static void test_move_chain(void **state)
{
	int vms[4], i;

	(void)state;
	vms[0] = sev_vm();
	assert_int_equal(guests(), 1);
	for (i = 1; i < 4; i++) {
		vms[i] = th_vm(&H, KVM_X86_DEFAULT_VM);
		assert_int_equal(move_from(vms[i], vms[i - 1]), 0);
	}
	/* Closing the dead sources does not decommission the guest. */
	for (i = 0; i < 3; i++)
		xclose(vms[i]);
	assert_int_equal(guests(), 1);
	/* The new owner is an SEV VM: INIT again is refused. */
	assert_int_equal(th_op(&H, vms[3], KVM_SEV_INIT, NULL, NULL),
			 -EINVAL);
	xclose(vms[3]);
	assert_int_equal(guests(), 0);
}

/* The source is dead after a move: every ioctl is EIO. */
static void test_source_dead(void **state)
{
	struct kvm_sev_guest_status st;
	int src = sev_vm(), dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	int vcpu = th_vcpu(&H, src, 0);

	(void)state;
	assert_int_equal(move_from(dst, src), 0);
	assert_int_equal(th_op(&H, src, KVM_SEV_GUEST_STATUS, &st, NULL),
			 -EIO);
	assert_int_equal(th_ioctl(&H, src, KVM_MEMORY_ENCRYPT_OP, NULL),
			 -EIO);
	assert_int_equal(th_ioctl_val(&H, src, KVM_CREATE_VCPU, 1), -EIO);
	assert_int_equal(th_ioctl(&H, vcpu, KVM_RUN, NULL), -EIO);
	/* Moving back into the dead source: EIO. */
	assert_int_equal(move_from(src, dst), -EIO);
	xclose(vcpu);
	xclose(src);
	xclose(dst);
}

static void test_move_einval(void **state)
{
	int sev = sev_vm(), plain = th_vm(&H, KVM_X86_DEFAULT_VM);
	int plain2 = th_vm(&H, KVM_X86_DEFAULT_VM);
	int typed = th_vm(&H, KVM_X86_SEV_VM);
	int inited = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, inited, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(move_from(sev, sev), -EINVAL);          /* self */
	assert_int_equal(move_from(typed, sev), -EINVAL);        /* type */
	assert_int_equal(move_from(inited, sev), -EINVAL);       /* dst SEV */
	assert_int_equal(move_from(plain2, plain), -EINVAL);     /* src !SEV */
	assert_int_equal(move_from(plain, H.sev), -EBADF);       /* not a VM */
	assert_int_equal(move_from(plain, 100000), -EBADF);
	{
		struct kvm_enable_cap c = {
			.cap = KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM,
			.flags = 1 };

		c.args[0] = (uint64_t)sev;
		assert_int_equal(th_ioctl(&H, plain, KVM_ENABLE_CAP, &c),
				 -EINVAL);
	}
	assert_int_equal(move_from(plain, sev), 0);
	xclose(sev);
	xclose(plain);
	xclose(plain2);
	xclose(typed);
	xclose(inited);
}

/* A VM of another simulated host is not a VM of this kernel. */
static void test_move_other_host(void **state)
{
	struct th b;
	int src, dst;

	(void)state;
	th_open(&b, world, NULL);
	src = th_vm(&b, KVM_X86_DEFAULT_VM);
	th_launch(&b, src, 0, mem, 4096);
	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	assert_int_equal(move_from(dst, src), -EBADF);
	xclose(dst);
	b.ops.close(b.ops.opaque, src);
	th_close(&b);
}

/* test_sev_migrate_parameters: ES needs equal vCPUs with VMSAs done. */
static void test_move_es_rules(void **state)
{
	struct kvm_sev_launch_start ls = { .policy = SEVMIG_GUEST_POLICY_ES };
	int src = th_vm(&H, KVM_X86_DEFAULT_VM), dst, dst2, v[4];
	uint32_t err = 0;

	(void)state;
	assert_int_equal(th_op(&H, src, KVM_SEV_ES_INIT, NULL, NULL), 0);
	v[0] = th_vcpu(&H, src, 0);
	assert_int_equal(th_op(&H, src, KVM_SEV_LAUNCH_START, &ls, &err),
			 0);
	dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	v[1] = th_vcpu(&H, dst, 0);
	/* No LAUNCH_UPDATE_VMSA yet. */
	assert_int_equal(move_from(dst, src), -EINVAL);
	assert_int_equal(th_op(&H, src, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL,
			       &err), 0);
	assert_int_equal(th_op(&H, src, KVM_SEV_LAUNCH_UPDATE_VMSA, NULL,
			       &err), -EINVAL);
	/* Different vCPU counts. */
	dst2 = th_vm(&H, KVM_X86_DEFAULT_VM);
	v[2] = th_vcpu(&H, dst2, 0);
	v[3] = th_vcpu(&H, dst2, 1);
	assert_int_equal(move_from(dst2, src), -EINVAL);
	assert_int_equal(move_from(dst, src), 0);
	for (int i = 0; i < 4; i++)
		xclose(v[i]);
	xclose(src);
	xclose(dst);
	xclose(dst2);
	assert_int_equal(guests(), 0);
}

/* A plain-SEV move does not care about vCPU counts. */
static void test_move_sev_vcpus_differ(void **state)
{
	int src = sev_vm(), dst = th_vm(&H, KVM_X86_DEFAULT_VM);
	int v = th_vcpu(&H, src, 0);

	(void)state;
	assert_int_equal(move_from(dst, src), 0);
	xclose(v);
	xclose(src);
	xclose(dst);
}

/* The destination has no stored /dev/sev fd (an assumption read from
 * sev_migrate_from(), docs/simulator.md). */
static void test_move_dst_has_no_sev_fd(void **state)
{
	struct kvm_sev_guest_status st;
	int src = sev_vm(), dst = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(move_from(dst, src), 0);
	assert_int_equal(th_op(&H, dst, KVM_SEV_GUEST_STATUS, &st, NULL),
			 -EBADF);
	xclose(src);
	xclose(dst);
}

/* test_sev_mirror: what a mirror may and may not do. */
static void test_mirror(void **state)
{
	struct kvm_sev_guest_status st = { 0 };
	struct kvm_sev_launch_start ls = { 0 };
	struct kvm_enc_region r = { (uint64_t)(uintptr_t)mem, 4096 };
	uint8_t buf[128] = { 0 };
	int owner = sev_vm(), m = th_vm(&H, KVM_X86_DEFAULT_VM), v;

	(void)state;
	assert_int_equal(mirror_from(m, owner), 0);
	v = th_vcpu(&H, m, 0); /* vCPUs after mirroring are fine */
	assert_int_equal(th_op(&H, m, KVM_SEV_GUEST_STATUS, &st, NULL), 0);
	assert_int_equal(st.state, SEV_GSTATE_RUNNING);
	assert_int_equal(th_op(&H, m, KVM_SEV_LAUNCH_START, &ls, NULL),
			 -EINVAL);
	assert_int_equal(th_op(&H, m, KVM_SEV_SEND_START, buf, NULL),
			 -EINVAL);
	assert_int_equal(th_op(&H, m, KVM_SEV_INIT, NULL, NULL), -EINVAL);
	assert_int_equal(th_ioctl(&H, m, KVM_MEMORY_ENCRYPT_REG_REGION,
				  &r), -EINVAL);
	assert_int_equal(th_ioctl(&H, owner, KVM_MEMORY_ENCRYPT_REG_REGION,
				  &r), 0);
	assert_int_equal(th_ioctl(&H, owner,
				  KVM_MEMORY_ENCRYPT_UNREG_REGION, &r), 0);
	assert_int_equal(th_ioctl(&H, owner,
				  KVM_MEMORY_ENCRYPT_UNREG_REGION, &r),
			 -EINVAL);
	/* The mirror pins the owner: its guest outlives the owner's fd. */
	xclose(owner);
	assert_int_equal(guests(), 1);
	assert_int_equal(th_op(&H, m, KVM_SEV_GUEST_STATUS, &st, NULL), 0);
	xclose(v);
	xclose(m);
	assert_int_equal(guests(), 0);
}

static void test_mirror_einval(void **state)
{
	int owner = sev_vm(), m = th_vm(&H, KVM_X86_DEFAULT_VM);
	int mm = th_vm(&H, KVM_X86_DEFAULT_VM);
	int withcpu = th_vm(&H, KVM_X86_DEFAULT_VM), v;
	int plain = th_vm(&H, KVM_X86_DEFAULT_VM);
	int inited = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	v = th_vcpu(&H, withcpu, 0);
	assert_int_equal(th_op(&H, inited, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(mirror_from(m, owner), 0);
	assert_int_equal(mirror_from(mm, m), -EINVAL);         /* of a mirror */
	assert_int_equal(mirror_from(withcpu, owner), -EINVAL); /* has vCPUs */
	assert_int_equal(mirror_from(inited, owner), -EINVAL);  /* dst SEV */
	assert_int_equal(mirror_from(mm, plain), -EINVAL);      /* src !SEV */
	assert_int_equal(mirror_from(owner, owner), -EINVAL);   /* self */
	assert_int_equal(mirror_from(m, owner), -EINVAL);       /* again */
	xclose(v);
	xclose(withcpu);
	xclose(m);
	xclose(mm);
	xclose(plain);
	xclose(inited);
	xclose(owner);
	assert_int_equal(guests(), 0);
}

/* Moving an owner re-parents its mirrors; a moved mirror stays a mirror. */
static void test_move_with_mirrors(void **state)
{
	struct kvm_sev_launch_start ls = { 0 };
	struct kvm_sev_guest_status st;
	int owner = sev_vm(), m = th_vm(&H, KVM_X86_DEFAULT_VM);
	int owner2 = th_vm(&H, KVM_X86_DEFAULT_VM);
	int m2 = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(mirror_from(m, owner), 0);
	assert_int_equal(move_from(owner2, owner), 0);
	xclose(owner);
	assert_int_equal(th_op(&H, m, KVM_SEV_GUEST_STATUS, &st, NULL), 0);
	assert_int_equal(move_from(m2, m), 0);
	assert_int_equal(th_op(&H, m2, KVM_SEV_LAUNCH_START, &ls, NULL),
			 -EINVAL); /* still a mirror */
	xclose(m);
	xclose(owner2);
	assert_int_equal(guests(), 1); /* m2 pins it */
	xclose(m2);
	assert_int_equal(guests(), 0);
}

struct mover {
	int dst, src, ret;
};

static void *mover_thread(void *arg)
{
	struct mover *mv = arg;

	mv->ret = move_from(mv->dst, mv->src);
	return NULL;
}

/* Two moves of one VM at once: the second sees EBUSY. */
static void test_concurrent_move_ebusy(void **state)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	struct mover mv;
	pthread_t t;
	int src = sev_vm(), dst1 = th_vm(&H, KVM_X86_DEFAULT_VM);
	int dst2 = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 300 * 1000), 0);
	mv = (struct mover){ dst1, src, 1 };
	assert_int_equal(pthread_create(&t, NULL, mover_thread, &mv), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(move_from(dst2, src), -EBUSY);
	assert_int_equal(move_from(dst1, dst2), -EBUSY); /* dst1 busy too */
	pthread_join(t, NULL);
	assert_int_equal(mv.ret, 0);
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 0), 0);
	xclose(src);
	xclose(dst1);
	xclose(dst2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_other_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move_es_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move_sev_vcpus_differ, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move_dst_has_no_sev_fd,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mirror_einval, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move_with_mirrors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_move_ebusy, setup,
						teardown),
	};
	int ret;

	mode = th_mode_from_args(argc, argv);
	world = th_world(mode);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	sevmig_sim_free(world);
	return ret;
}
