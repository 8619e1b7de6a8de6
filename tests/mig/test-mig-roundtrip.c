// SPDX-License-Identifier: MIT
/*
 * Migration sessions end to end on the simulator (memory mode, and KVM mode
 * with "kvm"): a source VM's memory, page-state map and MSR value arrive
 * equal on the destination; pages dirtied or converted between passes, and
 * while a pass runs on other threads, arrive in their last form; VMM
 * records pass through in order; the handles end SENT and LIVE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig-test.h"
#include "test-util.h"

static uint32_t mode = SEVMIG_SIM_MODE_MEMORY;

static struct sevmig_send *send_new(struct mt *t)
{
	struct sevmig_send_opts o = { .size = sizeof(o), .channels = t->src.ch,
				      .nr_channels = t->nch };
	struct sevmig_send *s = NULL;
	uint64_t why = 0;

	assert_int_equal(sevmig_send_new(t->src.vm, &o, &s, &why), 0);
	assert_int_equal(why, 0);
	return s;
}

static void finish_ok(struct mt *t, struct sevmig_send *s)
{
	struct sevmig_mig_stats st = { .size = sizeof(st) };
	uint32_t fw = 0, state = 0;

	assert_int_equal(sevmig_vm_pause(t->src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, &fw), 0);
	assert_int_equal(mt_receive_join(t), 0);
	assert_int_equal(sevmig_send_stats(s, &st), 0);
	assert_int_equal(st.phase, SEVMIG_MIG_COMMITTED);
	assert_true(st.downtime_ns > 0);
	assert_true(st.psp_commands > 0 && st.psp_ns_p99 >= st.psp_ns_min &&
		    st.psp_ns_p99 <= st.psp_ns_max);
	mt_assert_equal(t);
	assert_int_equal(sevmig_vm_state(t->src.vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_SENT);
	assert_int_equal(sevmig_vm_state(t->dst.vm, &state), 0);
	assert_int_equal(state, SEVMIG_VM_LIVE);
	assert_int_equal(th_state(&t->src.h, t->src.vm_fd), SEV_GSTATE_SENT);
	assert_int_equal(th_state(&t->dst.h, t->dst.vm_fd), SEV_GSTATE_RUNNING);
	/* The source refuses to run again; the destination runs. */
	assert_int_equal(sevmig_vm_resume(t->src.vm, 0), -ESTALE);
	assert_int_equal(sevmig_vm_resume(t->dst.vm, 0), 0);
	assert_int_equal(sevmig_receive_stats(t->recv, &st), 0);
	assert_int_equal(st.phase, SEVMIG_MIG_COMMITTED);
	sevmig_send_free(s);
}

static void test_basic(void **state)
{
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_send *s;
	struct mt t;
	uint64_t why = 0;

	(void)state;
	mt_setup(&t, mode, 300, 1);
	mt_fill(&t, 1);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, &why, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pass, 1);
	assert_int_equal(pi.pages_private + pi.pages_shared, 300);
	assert_true(pi.pages_shared > 0 && pi.pages_private > 0);
	finish_ok(&t, s);
	/* Freed in vm.h's order: the platform has no VM left to warn about. */
	sevmig_receive_free(t.recv);
	t.recv = NULL;
	mt_vm_close(&t.dst);
	sevmig_platform_free(t.dst.p);
	t.dst.p = NULL;
	assert_false(mt_log_has(&t.dst, "may still exist"));
	mt_teardown(&t);
}

/* The platform freed while the received VM's handle lives: a warning, and
 * the handle freed later is still safe (ASan runs this). */
static void test_platform_freed_first(void **state)
{
	struct sevmig_send *s;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 64, 1);
	mt_fill(&t, 3);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	finish_ok(&t, s);
	sevmig_receive_free(t.recv);
	t.recv = NULL;
	sevmig_platform_free(t.dst.p);
	t.dst.p = NULL;
	assert_true(mt_log_has(&t.dst, "while 1 VM(s) received with it may still exist"));
	mt_vm_close(&t.dst);
	mt_teardown(&t);
}

static void test_dirty_and_converted(void **state)
{
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_send *s;
	uint8_t bitmap[64];
	uint64_t hc;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 512, 3);
	mt_fill(&t, 2);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	/* Nothing reports on RAM yet: all of it counts as still to send. */
	assert_int_equal(pi.remaining_pages, 512);
	/* The guest writes pages 10..13 and converts 100 (private->shared)
	 * and 3 (shared->private) between passes. */
	memset(t.src.mem + 10 * 4096, 0xab, 4 * 4096);
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[1] = 0x3c;	/* pages 10-13 */
	assert_int_equal(sevmig_send_mark_dirty(s, 0, 512 * 4096, bitmap, 0), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(t.src.vm, 100 * 4096, 1, 0,
						 SEVMIG_MAP_GPA_F_LONG_MODE, &hc), 0);
	assert_int_equal(sevmig_vm_map_gpa_range(t.src.vm, 3 * 4096, 1, 0x10,
						 SEVMIG_MAP_GPA_F_LONG_MODE, &hc), 0);
	memset(t.src.mem + 100 * 4096, 0x5a, 4096);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	/* Exactly the dirtied and converted pages went again; 10 and 11 are
	 * shared (mt_fill), 100 now is. */
	assert_int_equal(pi.pages_private + pi.pages_shared, 6);
	assert_int_equal(pi.pages_shared, 3);
	/* mark_dirty made the region tracked, and nothing changed since. */
	assert_int_equal(pi.remaining_pages, 0);
	finish_ok(&t, s);
	assert_int_equal(mt_state(&t.dst, 100), SEVMIG_PAGE_SHARED);
	assert_int_equal(mt_state(&t.dst, 3), SEVMIG_PAGE_PRIVATE);
	mt_teardown(&t);
}

/* An all-zero report makes RAM tracked: later passes send only reports. */
static void test_tracked_from_zero_report(void **state)
{
	struct sevmig_pass_info pi = { .size = sizeof(pi) };
	struct sevmig_send *s;
	uint8_t zero[8] = { 0 }, one[8] = { 0x01 };
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 64, 1);
	mt_fill(&t, 4);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_mark_dirty(s, 0, 64 * 4096, zero, 0), 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pages_private + pi.pages_shared, 64);
	assert_int_equal(pi.remaining_pages, 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pages_private + pi.pages_shared, 0);
	memset(t.src.mem, 0x77, 4096);
	assert_int_equal(sevmig_send_mark_dirty(s, 0, 64 * 4096, one, 0), 0);
	assert_int_equal(sevmig_send_pass(s, &pi, 0), 0);
	assert_int_equal(pi.pages_private + pi.pages_shared, 1);
	finish_ok(&t, s);
	mt_teardown(&t);
}

/* A "vCPU" converting and writing pages while passes run. */
struct churn {
	struct mt *t;
	struct sevmig_send *s;
	int stop;		/* atomic */
	uint64_t flips;
};

/*
 * A guest write. The guest's writes race with the library's copies by
 * design (the dirty log makes the next pass send the page again); a real
 * guest writes from outside the VMM's memory model, so it is not
 * instrumented here either.
 */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GUEST_WRITE __attribute__((no_sanitize("thread")))
#endif
#endif
#ifndef GUEST_WRITE
#define GUEST_WRITE
#endif
GUEST_WRITE static void guest_write(unsigned char *p)
{
	*p ^= 0xff;
}

/* The stop flag, behind two accessors that name the one cross-thread
 * access (scripts/quality-valgrind.supp). */
static bool churn_stopped(const struct churn *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

static void churn_stop(struct churn *c)
{
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
}

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	uint64_t x = 12345, hc;

	while (!churn_stopped(c)) {
		uint64_t page, attrs;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		page = (x >> 33) % c->t->src.pages;
		attrs = (x >> 20) & 1 ? 0x10 : 0;
		guest_write(&c->t->src.mem[page * 4096 + (x >> 40) % 4096]);
		if (sevmig_send_mark_dirty(c->s, page * 4096, 4096, NULL, 0))
			break;
		if (sevmig_vm_map_gpa_range(c->t->src.vm, page * 4096, 1, attrs,
					    SEVMIG_MAP_GPA_F_LONG_MODE, &hc))
			break;
		c->flips++;
	}
	return NULL;
}

static void test_concurrent_churn(void **state)
{
	struct churn c = { 0 };
	pthread_t th;
	struct sevmig_send *s;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 1024, 2);
	mt_fill(&t, 3);
	mt_receive_start(&t, NULL);
	s = send_new(&t);
	c.t = &t;
	c.s = s;
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	churn_stop(&c);
	pthread_join(th, NULL);
	assert_true(c.flips > 0);
	finish_ok(&t, s);
	mt_teardown(&t);
}

/* VMM records arrive in order, unchanged. */
struct vmm_seen {
	uint32_t n;
	uint32_t types[4];
	size_t lens[4];
	unsigned char first[16];
};

static int on_record(void *opaque, uint32_t type, const void *buf, size_t len)
{
	struct vmm_seen *v = opaque;

	if (v->n < 4) {
		v->types[v->n] = type;
		v->lens[v->n] = len;
		if (!v->n && len >= 16)
			memcpy(v->first, buf, 16);
	}
	v->n++;
	return 0;
}

static void test_vmm_records(void **state)
{
	struct sevmig_receive_opts ro = { .size = sizeof(ro) };
	struct vmm_seen seen = { 0 };
	static unsigned char big[1 << 20];
	struct sevmig_send *s;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 64, 1);
	mt_fill(&t, 4);
	ro.record = on_record;
	ro.record_opaque = &seen;
	mt_receive_start(&t, &ro);
	s = send_new(&t);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_record(s, 0x1000, "0123456789abcdef", 16, 0), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_send_record(s, 0x0fff, "x", 1, 0), -EINVAL);
	memset(big, 0x77, sizeof(big));
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_record(s, 0x2000, big, sizeof(big), 0), 0);
	assert_int_equal(sevmig_send_record(s, 0xffff, NULL, 0, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(mt_receive_join(&t), 0);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.types[0], 0x1000);
	assert_int_equal(seen.types[1], 0x2000);
	assert_int_equal(seen.types[2], 0xffff);
	assert_int_equal(seen.lens[1], sizeof(big));
	assert_memory_equal(seen.first, "0123456789abcdef", 16);
	mt_assert_equal(&t);
	sevmig_send_free(s);
	mt_teardown(&t);
}

static void test_refused_not_ready(void **state)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_send *s = NULL;
	uint64_t why = 0;
	struct mt t;

	(void)state;
	mt_setup(&t, mode, 16, 1);
	assert_int_equal(sevmig_vm_set_migration_control(t.src.vm, 0, 0), 0);
	o.channels = t.src.ch;
	o.nr_channels = 1;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, &why), -EPERM);
	assert_int_equal(why, SEVMIG_REASON_GUEST_NOT_READY);
	assert_null(s);
	mt_teardown(&t);
}

/* To a file: no ACK can come back; the file is the guest once flushed. */
static void test_file_mode(void **state)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct sevmig_receive_opts ro = { .size = sizeof(ro) };
	struct sevmig_channel *wch = NULL, *rch = NULL;
	struct sevmig_receive *r = NULL;
	struct sevmig_send *s = NULL;
	unsigned char *hello;
	size_t hello_len = 0;
	char path[] = "/tmp/sevmig-stream-XXXXXX";
	uint32_t st = 0;
	struct mt t;
	int fd;

	(void)state;
	mt_setup(&t, mode, 200, 1);
	mt_fill(&t, 5);
	/* The target's HELLO, exported ahead of time. */
	assert_int_equal(sevmig_hello_export(t.dst.p, t.amd, t.amd_len, NULL, 0,
					     &hello_len, NULL), 0);
	hello = malloc(hello_len);
	assert_non_null(hello);
	assert_int_equal(sevmig_hello_export(t.dst.p, t.amd, t.amd_len, hello, 10,
					     &hello_len, NULL), -ENOSPC);
	assert_int_equal(sevmig_hello_export(t.dst.p, t.amd, t.amd_len, hello,
					     hello_len, &hello_len, NULL), 0);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(sevmig_channel_from_fds(t.src.ctx, -1, fd, 0, &wch), 0);
	o.channels = &wch;
	o.nr_channels = 1;
	o.commit = SEVMIG_COMMIT_FLUSH;
	/* FLUSH needs the target's HELLO. */
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, NULL), -EINVAL);
	o.target_hello = hello;
	o.target_hello_len = hello_len;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, NULL), 0);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(sevmig_vm_state(t.src.vm, &st), 0);
	assert_int_equal(st, SEVMIG_VM_SENT);
	sevmig_send_free(s);

	/* The destination reads the file: nothing to answer. */
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	assert_int_equal(sevmig_channel_from_fds(t.dst.ctx, fd, -1, 0, &rch), 0);
	ro.channels = &rch;
	ro.nr_channels = 1;
	ro.amd_chain = t.amd;
	ro.amd_chain_len = t.amd_len;
	assert_int_equal(sevmig_receive_new(t.dst.vm, &ro, &r), 0);
	assert_int_equal(sevmig_receive_run(r, NULL), 0);
	mt_assert_equal(&t);
	sevmig_receive_free(r);
	sevmig_channel_free(wch);
	sevmig_channel_free(rch);
	close(fd);
	free(hello);
	mt_teardown(&t);
}

/* The progress callback sees every phase, in order, on the caller's thread. */
struct progress_seen {
	uint32_t phases[16];
	uint32_t n;
	uint64_t calls;
	pthread_t thread;
	bool wrong_thread;
};

static void on_progress(void *opaque, const struct sevmig_mig_stats *st)
{
	struct progress_seen *p = opaque;

	if (!pthread_equal(pthread_self(), p->thread))
		p->wrong_thread = true;
	p->calls++;
	if (!p->n || p->phases[p->n - 1] != st->phase)
		if (p->n < 16)
			p->phases[p->n++] = st->phase;
}

static void test_progress(void **state)
{
	struct sevmig_send_opts o = { .size = sizeof(o) };
	struct progress_seen seen = { .thread = pthread_self() };
	struct sevmig_send *s = NULL;
	struct mt t;
	static const uint32_t want[] = {
		SEVMIG_MIG_HANDSHAKE, SEVMIG_MIG_PRECOPY, SEVMIG_MIG_FINAL,
		SEVMIG_MIG_AWAIT_COMMIT, SEVMIG_MIG_COMMITTED,
	};

	(void)state;
	mt_setup(&t, mode, 2048, 2);
	mt_fill(&t, 6);
	mt_receive_start(&t, NULL);
	o.channels = t.src.ch;
	o.nr_channels = 2;
	o.progress = on_progress;
	o.progress_opaque = &seen;
	assert_int_equal(sevmig_send_new(t.src.vm, &o, &s, NULL), 0);
	assert_int_equal(sevmig_send_begin(s, NULL, NULL), 0);
	assert_int_equal(sevmig_send_pass(s, NULL, 0), 0);
	assert_int_equal(sevmig_vm_pause(t.src.vm, 0), 0);
	assert_int_equal(sevmig_send_commit(s, NULL), 0);
	assert_int_equal(mt_receive_join(&t), 0);
	assert_false(seen.wrong_thread);
	assert_true(seen.calls > ARRAY_LEN(want));
	assert_int_equal(seen.n, ARRAY_LEN(want));
	assert_memory_equal(seen.phases, want, sizeof(want));
	sevmig_send_free(s);
	mt_teardown(&t);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_platform_freed_first),
		cmocka_unit_test(test_dirty_and_converted),
		cmocka_unit_test(test_tracked_from_zero_report),
		cmocka_unit_test(test_concurrent_churn),
		cmocka_unit_test(test_vmm_records),
		cmocka_unit_test(test_refused_not_ready),
		cmocka_unit_test(test_file_mode),
		cmocka_unit_test(test_progress),
	};

	mode = th_mode_from_args(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
