// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "mig-test.h"
#include "test-util.h"

static void side_log(void *opaque, uint32_t level, const char *msg)
{
	struct mt_side *s = opaque;
	size_t n;

	pthread_mutex_lock(&s->log_lock);
	n = strlen(s->log);
	if (n + 200 >= sizeof(s->log))	/* keep the newest lines */
		s->log[n = 0] = 0;
	snprintf(s->log + n, sizeof(s->log) - n, "[%u] %s\n", level, msg);
	pthread_mutex_unlock(&s->log_lock);
	if (getenv("MT_VERBOSE"))
		fprintf(stderr, "%s [%u] %s\n", s->h.host ? "sim" : "?", level, msg);
}

bool mt_log_has(struct mt_side *s, const char *text)
{
	bool found;

	pthread_mutex_lock(&s->log_lock);
	found = strstr(s->log, text) != NULL;
	pthread_mutex_unlock(&s->log_lock);
	return found;
}

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

static void side_setup(struct mt *t, struct mt_side *s, size_t pages)
{
	struct sevmig_ctx_opts co = { .size = sizeof(co), .log = side_log,
				      .log_opaque = s,
				      .log_level = SEVMIG_LOG_DEBUG };
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .phys_bits = 40 };
	struct cpuid_table c;

	pthread_mutex_init(&s->log_lock, NULL);
	th_open(&s->h, t->sim, NULL);
	co.sys = &s->h.ops;
	assert_int_equal(sevmig_ctx_new(&co, &s->ctx), 0);
	assert_int_equal(sevmig_platform_from_fd(s->ctx, s->h.sev, 0, &s->p), 0);
	s->vm_fd = th_vm(&s->h, 0);
	s->pages = pages;
	s->mem = th_pages(pages);
	vo.vm_fd = s->vm_fd;
	vo.platform = s->p;
	assert_int_equal(sevmig_vm_new(s->ctx, &vo, &s->vm), 0);
	assert_int_equal(sevmig_vm_ram_add(s->vm, 0, pages * 4096, s->mem, 0), 0);
	assert_int_equal(sevmig_vm_enable_exits(s->vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(s->vm, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	assert_int_equal(sevmig_vm_cpuid_apply(s->vm, &c, 0), 1);
	for (uint32_t i = 0; i < MT_MAX_CH; i++)
		s->fd[i] = -1;
}

void mt_setup(struct mt *t, uint32_t mode, size_t pages, uint32_t nch)
{
	memset(t, 0, sizeof(*t));
	t->sim = th_world(mode);
	t->nch = nch;
	side_setup(t, &t->src, pages);
	side_setup(t, &t->dst, pages);
	assert_int_equal(sevmig_sim_amd_chain(t->sim, t->amd, sizeof(t->amd),
					      &t->amd_len), 0);
	/* The simulator's root is not AMD's: the source's operator adds it. */
	assert_int_equal(sevmig_ctx_add_ark(t->src.ctx, t->amd + t->amd_len / 2,
					    t->amd_len / 2, 0), 0);
	/* A launched guest on the source that says READY. */
	th_launch(&t->src.h, t->src.vm_fd, t->policy, NULL, 0);
	assert_int_equal(sevmig_vm_set_migration_control(t->src.vm, 1, 0), 0);
	for (uint32_t i = 0; i < nch; i++) {
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, sv), 0);
		t->src.fd[i] = sv[0];
		t->dst.fd[i] = sv[1];
		assert_int_equal(sevmig_channel_from_fds(t->src.ctx, sv[0], sv[0],
							 0, &t->src.ch[i]), 0);
		assert_int_equal(sevmig_channel_from_fds(t->dst.ctx, sv[1], sv[1],
							 0, &t->dst.ch[i]), 0);
	}
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void mt_fill(struct mt *t, uint64_t seed)
{
	uint64_t hc = 0;

	for (size_t i = 0; i < t->src.pages * 4096 / 8; i++) {
		uint64_t v = mix(seed ^ i);

		memcpy(t->src.mem + 8 * i, &v, 8);
	}
	/* Every 7th page shared, in runs of 1..3. */
	for (size_t p = 3; p < t->src.pages; p += 7) {
		size_t n = 1 + p % 3;

		if (p + n > t->src.pages)
			n = t->src.pages - p;
		assert_int_equal(sevmig_vm_map_gpa_range(t->src.vm, p * 4096, n, 0,
							 SEVMIG_MAP_GPA_F_LONG_MODE,
							 &hc), 0);
		assert_int_equal(hc, 0);
	}
}

uint32_t mt_state(struct mt_side *s, uint64_t gfn)
{
	uint32_t st = 0;

	assert_int_equal(sevmig_tracker_state(sevmig_vm_tracker(s->vm), gfn, &st), 0);
	return st;
}

static void *recv_main(void *arg)
{
	struct mt *t = arg;

	t->recv_ret = sevmig_receive_run(t->recv, &t->recv_fw);
	return NULL;
}

void mt_receive_start(struct mt *t, const struct sevmig_receive_opts *extra)
{
	struct sevmig_receive_opts o = { .size = sizeof(o) };

	if (extra)
		o = *extra;
	o.size = sizeof(o);
	o.channels = t->dst.ch;
	o.nr_channels = t->nch;
	o.amd_chain = t->amd;
	o.amd_chain_len = t->amd_len;
	assert_int_equal(sevmig_receive_new(t->dst.vm, &o, &t->recv), 0);
	assert_int_equal(pthread_create(&t->recv_thread, NULL, recv_main, t), 0);
}

int mt_receive_join(struct mt *t)
{
	pthread_join(t->recv_thread, NULL);
	return t->recv_ret;
}

void mt_assert_equal(struct mt *t)
{
	uint64_t a = 0, b = 0;

	assert_memory_equal(t->src.mem, t->dst.mem, t->src.pages * 4096);
	for (uint64_t g = 0; g < t->src.pages; g++)
		if (mt_state(&t->src, g) != mt_state(&t->dst, g))
			fail_msg("frame 0x%llx: source %u, destination %u",
				 (unsigned long long)g, mt_state(&t->src, g),
				 mt_state(&t->dst, g));
	assert_int_equal(sevmig_vm_migration_control(t->src.vm, &a), 0);
	assert_int_equal(sevmig_vm_migration_control(t->dst.vm, &b), 0);
	assert_int_equal(a, b);
}

void mt_close_side(struct mt_side *s, uint32_t nch)
{
	for (uint32_t i = 0; i < nch; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}

static void side_teardown(struct mt_side *s, uint32_t nch)
{
	for (uint32_t i = 0; i < nch; i++)
		sevmig_channel_free(s->ch[i]);
	mt_close_side(s, nch);
	sevmig_vm_free(s->vm);
	th_free_pages(s->mem, s->pages);
	s->h.ops.close(s->h.ops.opaque, s->vm_fd);
	sevmig_platform_free(s->p);
	sevmig_ctx_free(s->ctx);
	th_close(&s->h);
	pthread_mutex_destroy(&s->log_lock);
}

void mt_teardown(struct mt *t)
{
	if (t->recv)
		sevmig_receive_free(t->recv);
	side_teardown(&t->src, t->nch);
	side_teardown(&t->dst, t->nch);
	sevmig_sim_free(t->sim);
}
