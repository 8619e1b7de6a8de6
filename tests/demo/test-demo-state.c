// SPDX-License-Identifier: MIT
/*
 * The demo VMM's own state, within one process and without a migration
 * session: a running guest is stopped, its memory copied and its VMM records
 * (vCPU registers, devices) loaded into a second VM, which runs on.
 *  - round trip: the guest notices the new generation, checks all its
 *    pages, its write count and its code, and continues: all intact;
 *  - stale memory: memory copied earlier than the registers were saved,
 *    as a migration that lost its last pass would deliver; the guest's
 *    write count (a register) no longer matches its pages: it says so;
 *  - hostile records: wrong sizes, versions, vCPU numbers, order,
 *    duplicates and registers the kernel refuses are all refused with a
 *    reason, before anything would run.
 * Skips (77) without a usable /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "vmm.h"

static const struct demo_config cfg = {
	.mem_mib = 32, .vcpus = 2, .dirty_rate = 4000, .tick_us = 1000,
	.report_ms = 20, .shared_pages = 8, .shared_ms = 30, .policy = 0x3,
	.host_policy = SEVMIG_HOST_POLICY_ALLOW, .sev = DEMO_SEV_SIM,
	.hypercall = DEMO_HC_DOORBELL,
};

struct rec {
	uint32_t type;
	size_t len;
	void *buf;
};

struct recs {
	struct rec r[16];
	unsigned n;
};

static int collect(void *opaque, uint32_t type, const void *buf, size_t len)
{
	struct recs *rs = opaque;
	struct rec *r = &rs->r[rs->n++];

	assert_true(rs->n <= 16);
	r->type = type;
	r->len = len;
	r->buf = malloc(len);
	assert_non_null(r->buf);
	memcpy(r->buf, buf, len);
	return 0;
}

static void recs_free(struct recs *rs)
{
	for (unsigned i = 0; i < rs->n; i++)
		free(rs->r[i].buf);
	rs->n = 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool checked(struct vmm *v, void *arg)
{
	uint64_t gen = *(uint64_t *)arg;
	bool ok = true;

	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		const struct guest_view *g = &v->vcpus[i].gv;

		if (g->crashed)
			fail_msg("vCPU %u crashed: %s", i, g->crash);
		if (!g->have_check || g->check_gen != gen ||
		    g->heartbeats_after_check < 2)
			ok = false;
	}
	pthread_mutex_unlock(&v->lock);
	return ok;
}

static struct vmm *source_running(void)
{
	struct vmm *v = calloc(1, sizeof(*v));
	uint64_t gen = 0;

	assert_non_null(v);
	assert_int_equal(vmm_create(v, &cfg, false, NULL), 0);
	v->hc_mode = cfg.hypercall;
	assert_int_equal(vmm_boot(v), 0);
	assert_int_equal(vmm_start(v), 0);
	assert_true(vmm_wait(v, checked, &gen, 20000));
	for (unsigned i = 0; i < v->nr_vcpus; i++)
		assert_int_equal(v->vcpus[i].gv.check_failures, 0);
	return v;
}

static struct vmm *destination(void)
{
	struct vmm *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	assert_int_equal(vmm_create(v, &cfg, true, NULL), 0);
	return v;
}

/* Load @rs into @dst as the record callback would, then run it. */
static void load_and_run(struct vmm *dst, struct recs *rs, uint64_t *ret_gen)
{
	struct demo_incoming_state *st = state_incoming_new();
	char why[256] = "";

	assert_non_null(st);
	for (unsigned i = 0; i < rs->n; i++)
		if (state_record(st, dst, rs->r[i].type, rs->r[i].buf,
				 rs->r[i].len, why, sizeof(why)))
			fail_msg("record %u refused: %s", i, why);
	assert_int_equal(state_complete(st, dst, why, sizeof(why)), 0);
	assert_int_equal(state_apply(dst, st), 0);
	state_incoming_free(st);
	assert_int_equal(vmm_resume(dst), 0);
	assert_int_equal(vmm_start(dst), 0);
	*ret_gen = dst->gen;
}

static void destroy(struct vmm *v)
{
	vmm_destroy(v);
	free(v);
}

static void test_roundtrip(void **state)
{
	struct vmm *src = source_running(), *dst;
	struct recs rs = { .n = 0 };
	uint64_t gen, last[DEMO_MAX_VCPUS];

	(void)state;
	sleep_ms(200);
	assert_int_equal(vmm_stop(src), 0);
	assert_int_equal(state_save(src, collect, &rs), 0);
	assert_int_equal(rs.n, 2 + cfg.vcpus);	/* config, vCPUs, devices */
	for (unsigned i = 0; i < cfg.vcpus; i++)
		last[i] = src->vcpus[i].gv.seq;

	dst = destination();
	memcpy(dst->ram, src->ram, src->lay.ram_size);
	load_and_run(dst, &rs, &gen);
	assert_int_equal(gen, 1);
	assert_true(vmm_wait(dst, checked, &gen, 20000));
	for (unsigned i = 0; i < cfg.vcpus; i++) {
		const struct guest_view *g = &dst->vcpus[i].gv;

		assert_int_equal(g->check_failures, 0);
		assert_int_equal(g->seq_errors, 0);
		/* Reports continue exactly where the source stopped. */
		assert_int_equal(g->seq_first, last[i] + 1);
		assert_true(g->check_pages > 3000);
	}
	recs_free(&rs);
	destroy(dst);
	destroy(src);
}

static void test_stale_memory(void **state)
{
	struct vmm *src = source_running(), *dst;
	struct recs rs = { .n = 0 };
	uint64_t gen, lost = 0;

	(void)state;
	dst = destination();
	/* Memory as of now ... */
	assert_int_equal(vmm_stop(src), 0);
	memcpy(dst->ram, src->ram, src->lay.ram_size);
	assert_int_equal(vmm_resume(src), 0);
	/* ... registers as of 300 ms later. */
	sleep_ms(300);
	assert_int_equal(vmm_stop(src), 0);
	assert_int_equal(state_save(src, collect, &rs), 0);

	load_and_run(dst, &rs, &gen);
	assert_true(vmm_wait(dst, checked, &gen, 20000));
	for (unsigned i = 0; i < cfg.vcpus; i++)
		lost += DEMO_CHECK_LOST(dst->vcpus[i].gv.check_failures);
	assert_true(lost > 0);
	recs_free(&rs);
	destroy(dst);
	destroy(src);
}

/* Records a destination must refuse, each with its reason. */
static void refused(struct vmm *dst, struct recs *rs, unsigned upto,
		    uint32_t type, const void *buf, size_t len,
		    const char *reason)
{
	struct demo_incoming_state *st = state_incoming_new();
	char why[256] = "";

	assert_non_null(st);
	for (unsigned i = 0; i < upto; i++)
		assert_int_equal(state_record(st, dst, rs->r[i].type,
					      rs->r[i].buf, rs->r[i].len, why,
					      sizeof(why)), 0);
	assert_int_equal(state_record(st, dst, type, buf, len, why,
				      sizeof(why)), -EPROTO);
	if (!strstr(why, reason))
		fail_msg("refused for \"%s\", expected \"%s\"", why, reason);
	state_incoming_free(st);
}

static void test_hostile_records(void **state)
{
	struct vmm *src = source_running(), *dst;
	struct recs rs = { .n = 0 };
	const struct rec *cfg_rec, *vcpu0, *dev;
	uint8_t *bad;

	(void)state;
	assert_int_equal(vmm_stop(src), 0);
	assert_int_equal(state_save(src, collect, &rs), 0);
	cfg_rec = &rs.r[0];
	vcpu0 = &rs.r[1];
	dev = &rs.r[rs.n - 1];
	assert_int_equal(cfg_rec->type, DEMO_REC_CONFIG);
	assert_int_equal(vcpu0->type, DEMO_REC_VCPU);
	assert_int_equal(dev->type, DEMO_REC_DEVICES);
	dst = destination();
	bad = malloc(vcpu0->len + 8);
	assert_non_null(bad);

	refused(dst, &rs, 0, 0x1234, "x", 1, "unknown VMM record type");
	refused(dst, &rs, 0, DEMO_REC_CONFIG, cfg_rec->buf, cfg_rec->len - 1,
		"config record");
	refused(dst, &rs, 0, DEMO_REC_VCPU, vcpu0->buf, vcpu0->len,
		"before the config record");
	refused(dst, &rs, 1, DEMO_REC_CONFIG, cfg_rec->buf, cfg_rec->len,
		"config record twice");
	/* Another guest size. */
	memcpy(bad, cfg_rec->buf, cfg_rec->len);
	memcpy(bad + 4, &(uint32_t){ 64 }, 4);		/* mem_mib */
	refused(dst, &rs, 0, DEMO_REC_CONFIG, bad, cfg_rec->len, "32 MiB");
	/* A vCPU that does not exist, and one sent twice. */
	memcpy(bad, vcpu0->buf, vcpu0->len);
	memcpy(bad + 4, &(uint32_t){ 7 }, 4);		/* id */
	refused(dst, &rs, 1, DEMO_REC_VCPU, bad, vcpu0->len, "vCPU 7 of 2");
	refused(dst, &rs, 2, DEMO_REC_VCPU, vcpu0->buf, vcpu0->len,
		"sent twice");
	refused(dst, &rs, 1, DEMO_REC_VCPU, vcpu0->buf, vcpu0->len + 8,
		"vCPU record");
	/* Registers the kernel refuses: CR0.PG without CR0.PE. The record
	 * is state.c's: 16 bytes of header, kvm_regs, then kvm_sregs. */
	memcpy(bad, vcpu0->buf, vcpu0->len);
	memcpy(bad + 16 + sizeof(struct kvm_regs) +
	       offsetof(struct kvm_sregs, cr0), &(uint64_t){ 0x80000000 }, 8);
	refused(dst, &rs, 1, DEMO_REC_VCPU, bad, vcpu0->len, "KVM_SET_SREGS");
	/* The devices record before every vCPU arrived. */
	refused(dst, &rs, 2, DEMO_REC_DEVICES, dev->buf, dev->len,
		"incomplete");
	free(bad);
	recs_free(&rs);
	destroy(dst);
	destroy(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_stale_memory),
		cmocka_unit_test(test_hostile_records),
	};
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	close(fd);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
