// SPDX-License-Identifier: MIT
/*
 * Concurrent intra-host moves between many VM pairs from several threads,
 * on the simulator (memory mode; "kvm" for real /dev/kvm VMs), as KVM's
 * selftest locks ten thousand cross-migrations. A few guests each live in a
 * slot; every thread picks a slot at random and moves its guest into a new
 * VM, racing the other threads for the same sources, while one thread in
 * eight makes and tears down mirrors of random guests. Every answer must
 * be a success or an expected refusal (the source moved meanwhile: -ESTALE;
 * it has a mirror, or stayed contended: -EBUSY); each success turns exactly
 * one live handle into a moved one. At the end every guest is alive once,
 * in its slot's latest VM, with its own page state, MSR value and policy.
 * Also run under ThreadSanitizer (suite tsan).
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim-test.h"
#include "test-util.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#define THREADS 4
#define GUESTS 3

/* A VM handle shared by the threads; the last reference frees it. */
struct ref_vm {
	struct sevmig_vm *h;
	int fd;
	int refs;	/* atomic */
};

struct slot {
	pthread_mutex_t lock;	/* guards cur */
	struct ref_vm *cur;
	uint64_t shared_gfn, shared_pages;
	uint32_t policy;
};

static struct th H;
static struct sevmig_ctx *ctx;
static struct sevmig_platform *plat;
static struct slot slots[GUESTS];
static unsigned attempts_per_thread;
static int failed;		/* atomic */
static uint64_t moves_ok, moves_stale, moves_busy;	/* atomic */
static uint64_t mirrors_ok, mirrors_refused;		/* atomic */

#define FAIL(...)							\
	do {								\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		__atomic_store_n(&failed, 1, __ATOMIC_RELAXED);		\
	} while (0)

static void put(struct ref_vm *r)
{
	if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL))
		return;
	sevmig_vm_free(r->h);
	if (H.ops.close(H.ops.opaque, r->fd))
		FAIL("close of VM fd %d failed", r->fd);
	free(r);
}

static struct ref_vm *get(struct slot *s)
{
	struct ref_vm *r;

	pthread_mutex_lock(&s->lock);
	r = s->cur;
	__atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&s->lock);
	return r;
}

static struct ref_vm *new_vm(uint32_t sev_type)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .phys_bits = 40,
				    .vm_type = SEVMIG_VM_TYPE_DEFAULT,
				    .sev_type = sev_type, .platform = plat };
	struct ref_vm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->fd = H.ops.ioctl(H.ops.opaque, H.kvm, KVM_CREATE_VM,
			    (void *)(uintptr_t)KVM_X86_DEFAULT_VM);
	if (r->fd < 0) {
		FAIL("KVM_CREATE_VM: %d", r->fd);
		free(r);
		return NULL;
	}
	o.vm_fd = r->fd;
	if (sevmig_vm_new(ctx, &o, &r->h)) {
		FAIL("sevmig_vm_new failed");
		H.ops.close(H.ops.opaque, r->fd);
		free(r);
		return NULL;
	}
	r->refs = 1;
	return r;
}

static void try_move(struct slot *s)
{
	struct ref_vm *src = get(s), *dst = new_vm(SEVMIG_SEV_TYPE_NONE);
	uint64_t why = 0;
	int ret;

	if (!dst) {
		put(src);
		return;
	}
	ret = sevmig_vm_move_from(dst->h, src->h, 0, &why);
	if (!ret) {
		struct ref_vm *old;

		pthread_mutex_lock(&s->lock);
		old = s->cur;
		s->cur = dst;	/* the slot takes our reference */
		pthread_mutex_unlock(&s->lock);
		if (old != src)
			FAIL("moved from a handle that was no longer current");
		put(old);
		__atomic_add_fetch(&moves_ok, 1, __ATOMIC_RELAXED);
	} else if (ret == -ESTALE && (why & SEVMIG_REASON_SOURCE_NOT_LIVE)) {
		/* Moved meanwhile: it also has no context any more. */
		__atomic_add_fetch(&moves_stale, 1, __ATOMIC_RELAXED);
		put(dst);
	} else if (ret == -EBUSY && (why == SEVMIG_REASON_HAS_MIRRORS ||
				     why == SEVMIG_REASON_CONTENDED)) {
		__atomic_add_fetch(&moves_busy, 1, __ATOMIC_RELAXED);
		put(dst);
	} else {
		FAIL("move: %d (%s), reasons 0x%llx", ret, sevmig_strerror(ret),
		     (unsigned long long)why);
		put(dst);
	}
	put(src);
}

static void try_mirror(struct slot *s)
{
	struct ref_vm *p = get(s);
	struct sevmig_vm *m = NULL;
	uint64_t why = 0;
	int ret;

	ret = sevmig_vm_mirror_create(p->h, H.kvm, 0, &m, &why);
	if (!ret) {
		__atomic_add_fetch(&mirrors_ok, 1, __ATOMIC_RELAXED);
		if (sevmig_vm_teardown(m, 0))
			FAIL("mirror teardown failed");
		sevmig_vm_free(m);
	} else if ((ret == -ESTALE && (why & SEVMIG_REASON_SOURCE_NOT_LIVE)) ||
		   (ret == -EBUSY && why == SEVMIG_REASON_CONTENDED)) {
		__atomic_add_fetch(&mirrors_refused, 1, __ATOMIC_RELAXED);
	} else {
		FAIL("mirror: %d (%s), reasons 0x%llx", ret,
		     sevmig_strerror(ret), (unsigned long long)why);
	}
	put(p);
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 2654435761u + 1;

	for (unsigned i = 0; i < attempts_per_thread &&
	     !__atomic_load_n(&failed, __ATOMIC_RELAXED); i++) {
		struct slot *s = &slots[rand_r(&seed) % GUESTS];

		if (rand_r(&seed) % 8 == 0)
			try_mirror(s);
		else
			try_move(s);
	}
	return NULL;
}

static void launch(struct slot *s, unsigned i, uint8_t *mem)
{
	struct ref_vm *r = new_vm(0);	/* its SEV type is learnt */

	assert_non_null(r);
	s->policy = 0x1;
	th_launch(&H, r->fd, s->policy, mem, 4096);
	s->shared_gfn = 16 + 64 * i;
	s->shared_pages = i + 1;
	assert_int_equal(sevmig_vm_ram_add(r->h, 0, 1 << 20, NULL, 0), 0);
	assert_int_equal(sevmig_tracker_set_shared(sevmig_vm_tracker(r->h),
						   s->shared_gfn,
						   s->shared_pages), 0);
	assert_int_equal(sevmig_vm_set_migration_control(r->h, 1, 0), 0);
	pthread_mutex_init(&s->lock, NULL);
	s->cur = r;
}

static void check_slot(struct slot *s)
{
	struct sevmig_vm *h = s->cur->h;
	struct sevmig_tracker *t = sevmig_vm_tracker(h);
	uint64_t n = 0, end = 0, v = 0;
	uint32_t st = 0, type = 0;

	assert_int_equal(sevmig_vm_state(h, &st), 0);
	assert_int_equal(st, SEVMIG_VM_LIVE);
	assert_int_equal(sevmig_vm_sev_type(h, &type, NULL), 0);
	assert_int_equal(type, SEVMIG_SEV_TYPE_SEV);
	assert_int_equal(sevmig_tracker_shared_pages(t, &n), 0);
	assert_int_equal(n, s->shared_pages);
	assert_int_equal(sevmig_tracker_run_end(t, s->shared_gfn, &end, &st), 0);
	assert_int_equal(st, SEVMIG_PAGE_SHARED);
	assert_int_equal(end, s->shared_gfn + s->shared_pages);
	assert_int_equal(sevmig_vm_migration_control(h, &v), 0);
	assert_int_equal(v, 1);
}

static void test_stress(void **state)
{
	struct sevmig_sim_host_stats st = { .size = sizeof(st) };
	pthread_t t[THREADS];
	uint8_t *mem = th_pages(1);

	(void)state;
	for (unsigned i = 0; i < GUESTS; i++)
		launch(&slots[i], i, mem);
	for (uintptr_t i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("moves: %llu done, %llu found the source moved, %llu busy; "
	       "mirrors: %llu made, %llu refused\n",
	       (unsigned long long)moves_ok, (unsigned long long)moves_stale,
	       (unsigned long long)moves_busy, (unsigned long long)mirrors_ok,
	       (unsigned long long)mirrors_refused);
	assert_int_equal(failed, 0);
	/* Most attempts move; the races happened. */
	assert_true(moves_ok * 2 > (uint64_t)attempts_per_thread * THREADS / 2);
	assert_true(mirrors_ok > 0);
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.guest_count, GUESTS);
	for (unsigned i = 0; i < GUESTS; i++) {
		check_slot(&slots[i]);
		put(slots[i].cur);
		pthread_mutex_destroy(&slots[i].lock);
	}
	assert_int_equal(sevmig_sim_host_stats(H.host, &st), 0);
	assert_int_equal(st.guest_count, 0);
	assert_int_equal(st.vm_count, 0);
	th_free_pages(mem, 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress),
	};
	struct sevmig_ctx_opts o = { .size = sizeof(o) };
	struct sevmig_sim *world;
	uint32_t mode = th_mode_from_args(argc, argv);
	int ret;

	/* About 10,000 moves in memory mode; real VMs and TSan cost more. */
	attempts_per_thread = mode == SEVMIG_SIM_MODE_KVM ? 100 :
			      UNDER_TSAN ? 1000 : 3000;
	world = th_world(mode);
	th_open(&H, world, NULL);
	o.sys = &H.ops;
	if (sevmig_ctx_new(&o, &ctx) ||
	    sevmig_platform_from_fd(ctx, H.sev, 0, &plat))
		return 1;
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	sevmig_platform_free(plat);
	sevmig_ctx_free(ctx);
	th_close(&H);
	sevmig_sim_free(world);
	return ret;
}
