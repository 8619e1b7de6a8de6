// SPDX-License-Identifier: MIT
/*
 * The simulator's knobs: fail the Nth command (of a kind) with an errno or
 * a firmware status, the PSP timeout after which everything is EBUSY, the
 * latency model (one PSP per host, commands serialised), the counters, and
 * the argument checks of the public API. Also shows libsevmig seeing an
 * injected firmware status through its own probe.
 */
#include <errno.h>
#include <fcntl.h>
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

static int setup(void **state)
{
	(void)state;
	th_open(&H, world, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	th_close(&H);
	return 0;
}

static int status(uint32_t *err)
{
	struct sev_user_data_status st;

	return th_sev(&H, H.sev, SEV_PLATFORM_STATUS, &st, err);
}

static int inject(uint32_t kind, uint32_t cmd, uint32_t nth, int32_t err,
		  uint32_t fw)
{
	struct sevmig_sim_fault f = { .size = sizeof(f), .kind = kind,
				      .cmd = cmd, .nth = nth, .err = err,
				      .fw_status = fw };

	return sevmig_sim_host_inject_fault(H.host, &f);
}

static uint64_t commands(void)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };

	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	return st.psp_commands;
}

static void test_fault_nth_of_kind_fw_status(void **state)
{
	struct sev_user_data_get_id2 g = { 0 };
	uint32_t err = 0;

	(void)state;
	assert_int_equal(inject(SEVMIG_SIM_FAULT_PLATFORM,
				SEV_PLATFORM_STATUS, 2, 0,
				SEV_RET_HWSEV_RET_UNSAFE), 0);
	assert_int_equal(status(&err), 0);
	/* Other commands do not count. */
	assert_int_equal(th_sev(&H, H.sev, SEV_GET_ID2, &g, &err), -EIO);
	assert_int_equal(err, SEV_RET_INVALID_LEN);
	assert_int_equal(status(&err), -EIO);
	assert_int_equal(err, SEV_RET_HWSEV_RET_UNSAFE);
	/* One shot. */
	assert_int_equal(status(&err), 0);
	assert_int_equal(err, 0);
}

static void test_fault_any_errno(void **state)
{
	uint32_t err = 0;
	uint64_t before = commands();

	(void)state;
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, -ENOMEM, 0), 0);
	assert_int_equal(status(&err), -ENOMEM);
	assert_int_equal(status(&err), 0);
	assert_int_equal(commands(), before + 2);
	/* nth 0 removes a pending fault. */
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, -ENOMEM, 0), 0);
	assert_int_equal(inject(0, 0, 0, 0, 0), 0);
	assert_int_equal(status(&err), 0);
}

static void test_fault_guest_command(void **state)
{
	uint8_t pdh[SEVMIG_SEV_CERT_LEN], chain[SEVMIG_PLAT_CHAIN_LEN];
	uint8_t session[SEVMIG_SESSION_LEN];
	uint8_t *mem = th_pages(1);
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	th_launch(&H, vm, 0, mem, 4096);
	th_export(&H, pdh, chain);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_GUEST, KVM_SEV_SEND_START,
				1, -EIO, 0x17u /* RESOURCE_LIMIT */), 0);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), -EIO);
	assert_int_equal(err, 0x17u /* RESOURCE_LIMIT */);
	assert_int_equal(th_state(&H, vm), SEV_GSTATE_RUNNING);
	assert_int_equal(th_send_start(&H, vm, pdh, chain, chain, 1664, session,
				       &err), 0);
	H.ops.close(H.ops.opaque, vm);
	th_free_pages(mem, 1);
}

static void test_psp_timeout_then_ebusy(void **state)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };
	struct kvm_sev_launch_start ls = { 0 };
	uint32_t err = 0;
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);

	(void)state;
	assert_int_equal(th_op(&H, vm, KVM_SEV_INIT, NULL, NULL), 0);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, -ETIMEDOUT, 0), 0);
	assert_int_equal(status(&err), -ETIMEDOUT);
	assert_int_equal(status(&err), -EBUSY);
	assert_int_equal(th_op(&H, vm, KVM_SEV_LAUNCH_START, &ls, &err),
			 -EBUSY);
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.psp_dead, 1);
	/* Kernel-side checks still answer first. */
	assert_int_equal(th_op_fd(&H, vm, KVM_SEV_LAUNCH_START, &ls,
				  H.kvm, &err), -EBADF);
	H.ops.close(H.ops.opaque, vm);
}

struct caller {
	struct th *h;
	int n;
};

static void *caller_thread(void *arg)
{
	struct caller *c = arg;
	struct sev_user_data_status st;

	for (int i = 0; i < c->n; i++)
		th_sev(c->h, c->h->sev, SEV_PLATFORM_STATUS, &st, NULL);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One PSP per host: 2 threads x 5 commands x 20 ms take >= 200 ms. */
static void test_latency_serialised(void **state)
{
	struct caller c = { &H, 5 };
	pthread_t t[2];
	double t0;

	(void)state;
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 20000), 0);
	t0 = now();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, caller_thread, &c),
				 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true(now() - t0 >= 0.2);
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 0), 0);
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 20000000),
			 -EINVAL);
}

/*
 * The latency model is a timeline, not a sleep per command: while one
 * thread waits on the PSP, the next command queued behind it starts when
 * the first one's slot ends, whatever time the first thread wakes up. Two
 * threads issuing N commands each keep the PSP busy: about 2*N*L in all.
 * A sleep per command under the PSP mutex would add each thread's wake-up
 * delay (about 20 us here, 70 us with the default timer slack) to every
 * command: 1.2x at this L, against 1.01x measured for the timeline. L is
 * small so that difference stands out; the bound leaves room for load.
 */
#define TIMELINE_N 200
#define TIMELINE_L_US 100u

static double timeline_run(void)
{
	struct caller c = { &H, TIMELINE_N };
	pthread_t t[2];
	double t0;

	t0 = now();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, caller_thread, &c),
				 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return now() - t0;
}

static void test_latency_timeline_no_drift(void **state)
{
	const double ideal = 2.0 * TIMELINE_N * TIMELINE_L_US / 1e6;
	double took, best = 1e9;

	(void)state;
	assert_int_equal(sevmig_sim_host_set_latency(H.host, TIMELINE_L_US),
			 0);
	/* Best of three: a loaded machine may take both threads off the CPU
	 * at once, which empties the queue; that is not drift. */
	for (int i = 0; i < 3 && best >= ideal * 1.15; i++) {
		took = timeline_run();
		assert_true(took >= ideal * 0.99); /* never faster than the PSP */
		if (took < best)
			best = took;
	}
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 0), 0);
	print_message("2 x %d commands at %u us: %.1f ms (ideal %.1f ms)\n",
		      TIMELINE_N, TIMELINE_L_US, best * 1e3, ideal * 1e3);
	assert_true(best < ideal * 1.15);
}

/* A serial caller (PSP, then something else, then PSP) gets no time back
 * for the PSP's idle gap: every command takes its full latency. */
static void test_latency_serial_gap_not_banked(void **state)
{
	struct sev_user_data_status st;
	const struct timespec gap = { 0, 2 * TIMELINE_L_US * 1000 };
	double t0, took;

	(void)state;
	assert_int_equal(sevmig_sim_host_set_latency(H.host, TIMELINE_L_US),
			 0);
	for (int i = 0; i < 10; i++) {
		nanosleep(&gap, NULL);
		t0 = now();
		assert_int_equal(th_sev(&H, H.sev, SEV_PLATFORM_STATUS, &st,
					NULL), 0);
		took = now() - t0;
		assert_true(took >= TIMELINE_L_US / 1e6 * 0.99);
	}
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 0), 0);
}

/* Hosts are independent PSPs: host B is not slowed by host A. */
static void test_latency_per_host(void **state)
{
	struct th b;
	uint32_t err;
	double t0;

	(void)state;
	th_open(&b, world, NULL);
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 200000), 0);
	t0 = now();
	assert_int_equal(th_sev(&b, b.sev, SEV_PLATFORM_STATUS,
				&(struct sev_user_data_status){ 0 },
				&err), 0);
	assert_true(now() - t0 < 0.15);
	assert_int_equal(sevmig_sim_host_set_latency(H.host, 0), 0);
	th_close(&b);
}

static void test_api_argument_checks(void **state)
{
	struct sevmig_sim_opts o = { .size = sizeof(o), .mode = 9 };
	struct sevmig_sim_host_opts ho = { .size = sizeof(ho), .build = 256 };
	struct sevmig_sim_host *h = NULL;
	struct sevmig_sim *s = NULL;
	struct sevmig_sys_ops ops;
	uint8_t big[64] = { 0 };

	(void)state;
	assert_int_equal(sevmig_sim_new(&o, &s), -EINVAL);
	o.mode = 0;
	o.flags = 1;
	assert_int_equal(sevmig_sim_new(&o, &s), -EINVAL);
	o.size = 8;
	assert_int_equal(sevmig_sim_new(&o, &s), -EINVAL);
	assert_int_equal(sevmig_sim_new(NULL, NULL), -EINVAL);
	assert_int_equal(sevmig_sim_host_new(world, &ho, &h), -EINVAL);
	ho.build = 0;
	ho.state = SEVMIG_PLATFORM_WORKING;
	assert_int_equal(sevmig_sim_host_new(world, &ho, &h), -EINVAL);
	ho.state = 0;
	ho.config = 2;
	assert_int_equal(sevmig_sim_host_new(world, &ho, &h), -EINVAL);
	/* A newer, larger record with a non-zero tail. */
	memcpy(big, &ho, sizeof(ho));
	((struct sevmig_sim_host_opts *)(void *)big)->size = sizeof(big);
	((struct sevmig_sim_host_opts *)(void *)big)->config = 0;
	big[40] = 1;
	assert_int_equal(sevmig_sim_host_new(world, (void *)big, &h), -E2BIG);
	memset(&ops, 0, sizeof(ops));
	ops.size = 8;
	assert_int_equal(sevmig_sim_host_sys_ops(H.host, &ops), -EINVAL);
	/* Bad faults. */
	assert_int_equal(inject(7, 0, 1, -EIO, 0), -EINVAL);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 3, 1, -EIO, 0), -EINVAL);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, 5, 0), -EINVAL);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, 0, 0), -EINVAL);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, -ENOMEM, 4),
			 -EINVAL);
	assert_int_equal(inject(SEVMIG_SIM_FAULT_ANY, 0, 1, 0, 0x10000),
			 -EINVAL);
	assert_int_equal(sevmig_sim_mode(NULL), 0);
	sevmig_sim_free(NULL);
	sevmig_sim_host_free(NULL);
}

/* libsevmig's probe reports an injected PLATFORM_STATUS failure. */
static void test_probe_sees_fault(void **state)
{
	struct sevmig_ctx_opts o = { .size = sizeof(o), .sys = &H.ops };
	struct sevmig_host_caps caps = { .size = sizeof(caps) };
	struct sevmig_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(inject(SEVMIG_SIM_FAULT_PLATFORM,
				SEV_PLATFORM_STATUS, 1, 0,
				SEV_RET_HWSEV_RET_UNSAFE), 0);
	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	assert_int_equal(sevmig_host_probe(ctx, &caps, 0), 0);
	assert_int_equal(caps.sev_platform_status, -EIO);
	assert_int_equal(caps.sev_fw_error, SEV_RET_HWSEV_RET_UNSAFE);
	assert_true(caps.cross_host_reasons & SEVMIG_REASON_SEV_STATUS_FAILED);
	sevmig_ctx_free(ctx);
}

/* Memory mode answers /dev/kvm itself; fds it hands out are real. */
static void test_fds_are_real_and_released(void **state)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };
	int vm = th_vm(&H, KVM_X86_DEFAULT_VM);
	int v = th_vcpu(&H, vm, 0);
	void *p = NULL;

	(void)state;
	assert_true(fcntl(vm, F_GETFD) >= 0);
	assert_true(fcntl(H.sev, F_GETFD) >= 0);
	assert_int_equal(H.ops.mmap(H.ops.opaque, NULL, 4096, 3, 1, H.sev, 0,
				    &p), -ENODEV);
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.vm_count, 1);
	H.ops.close(H.ops.opaque, vm);
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.vm_count, 1); /* the vCPU fd holds the VM */
	H.ops.close(H.ops.opaque, v);
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.vm_count, 0);
	assert_true(fcntl(vm, F_GETFD) < 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fault_nth_of_kind_fw_status,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_any_errno, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_guest_command, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_psp_timeout_then_ebusy,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_serialised, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_latency_per_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_latency_timeline_no_drift,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_serial_gap_not_banked,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_argument_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe_sees_fault, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fds_are_real_and_released,
						setup, teardown),
	};
	int ret;

	mode = th_mode_from_args(argc, argv);
	world = th_world(mode);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	sevmig_sim_free(world);
	return ret;
}
