// SPDX-License-Identifier: MIT
/*
 * The runner of the documented-error cases (doc-errors.h): registration,
 * the per-case log, cleanup, allocation failure, and the small helpers the
 * cases share.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "doc-errors.h"
#include "uapi/kvm-abi.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define DOC_SANITIZED 1
#endif
#endif

/* ---- allocation failure (this thread, inside DOC_CALL only) ---- */

static __thread int nomem_armed;	/* doc_nomem() was called */
static __thread int nomem_active;	/* ... and the call runs */
static __thread unsigned long nomem_refused;

#ifndef DOC_SANITIZED
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t sz);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
	if (nomem_active) {
		nomem_refused++;
		return NULL;
	}
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t sz)
{
	if (nomem_active) {
		nomem_refused++;
		return NULL;
	}
	return __libc_calloc(n, sz);
}

void *realloc(void *p, size_t n)
{
	if (nomem_active) {
		nomem_refused++;
		return NULL;
	}
	return __libc_realloc(p, n);
}

int posix_memalign(void **ret, size_t align, size_t n)
{
	void *p;

	if (nomem_active) {
		nomem_refused++;
		return ENOMEM;
	}
	p = __libc_memalign(align, n);
	if (!p)
		return ENOMEM;
	*ret = p;
	return 0;
}

void free(void *p)
{
	__libc_free(p);
}
#endif

/* ---- thread creation failure (this thread, inside DOC_CALL only) ---- */

static __thread int nothreads_armed, nothreads_active;
static __thread unsigned long threads_refused;

#ifndef DOC_SANITIZED
typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *,
				 void *(*)(void *), void *);

int pthread_create(pthread_t *th, const pthread_attr_t *attr,
		   void *(*fn)(void *), void *arg)
{
	static pthread_create_fn real;

	if (nothreads_active) {
		threads_refused++;
		return EAGAIN;
	}
	if (!real)
		real = (pthread_create_fn)(uintptr_t)dlsym(RTLD_NEXT,
							   "pthread_create");
	if (!real)
		return ENOSYS;
	return real(th, attr, fn, arg);
}
#endif

void doc_nothreads(void)
{
#ifdef DOC_SANITIZED
	skip();
#else
	nothreads_armed = 1;
#endif
}

void doc_nomem(void)
{
#ifdef DOC_SANITIZED
	skip();
#else
	nomem_armed = 1;
#endif
}

/* ---- the per-case state ---- */

#define MAX_DEFER 64
#define LOG_MAX 8192

struct deferred {
	void (*fn)(void *);
	void *arg;
};

static struct {
	const struct doc_case *c;
	struct deferred defer[MAX_DEFER];
	unsigned int ndefer;
	const char *no_log;
	const struct sevmig_ctx *primary;
	bool called;
	/* ERR lines of the primary context since the call began */
	pthread_mutex_t lock;
	char log[LOG_MAX];
	unsigned int lines;
	unsigned int ctx_count;
} cur = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Log opaques: which context logged (set once the context exists). */
struct doc_ctx_tag {
	const struct sevmig_ctx *ctx;
};

static struct doc_case *cases;
static size_t ncases;

void doc_register(struct doc_case *c)
{
	c->next = cases;
	cases = c;
	ncases++;
}

void doc_log(void *opaque, uint32_t level, const char *msg)
{
	const struct doc_ctx_tag *tag = opaque;
	size_t n;

	if (level != SEVMIG_LOG_ERR)
		return;
	pthread_mutex_lock(&cur.lock);
	/* Before the context is known (inside sevmig_ctx_new) it counts. */
	if (!tag || !tag->ctx || !cur.primary || tag->ctx == cur.primary) {
		n = strlen(cur.log);
		if (n + 2 < LOG_MAX)
			snprintf(cur.log + n, LOG_MAX - n, "%s\n", msg);
		cur.lines++;
	}
	pthread_mutex_unlock(&cur.lock);
	if (getenv("DOC_VERBOSE"))
		fprintf(stderr, "  log: %s\n", msg);
}

void doc_call_begin(void)
{
	pthread_mutex_lock(&cur.lock);
	cur.log[0] = 0;
	cur.lines = 0;
	pthread_mutex_unlock(&cur.lock);
	cur.called = true;
	nomem_refused = 0;
	threads_refused = 0;
	nomem_active = nomem_armed;
	nothreads_active = nothreads_armed;
}

int doc_call_end(int ret)
{
	nomem_active = 0;
	nothreads_active = 0;
	if (nomem_armed && !nomem_refused)
		fail_msg("%s: doc_nomem() armed, but the call allocated nothing",
			 cur.c->fn);
	if (nothreads_armed && !threads_refused)
		fail_msg("%s: doc_nothreads() armed, but the call started no thread",
			 cur.c->fn);
	nomem_armed = 0;
	nothreads_armed = 0;
	return ret;
}

void doc_no_log(const char *why)
{
	cur.no_log = why;
}

void doc_primary(const struct sevmig_ctx *ctx)
{
	cur.primary = ctx;
}

bool doc_log_has(const char *text)
{
	bool found;

	pthread_mutex_lock(&cur.lock);
	found = strstr(cur.log, text) != NULL;
	pthread_mutex_unlock(&cur.lock);
	return found;
}

void doc_defer(void (*fn)(void *), void *arg)
{
	if (cur.ndefer == MAX_DEFER)
		fail_msg("too many deferred cleanups");
	cur.defer[cur.ndefer++] = (struct deferred){ fn, arg };
}

void doc_forget(const void *arg)
{
	for (unsigned int i = 0; i < cur.ndefer; i++)
		if (cur.defer[i].arg == arg)
			cur.defer[i].fn = NULL;
}

static void run_deferred(void)
{
	while (cur.ndefer) {
		struct deferred d = cur.defer[--cur.ndefer];

		if (d.fn)
			d.fn(d.arg);
	}
}

/* ---- the runner ---- */

static void run_case(void **state)
{
	const struct doc_case *c = *state;
	int ret;

	cur.c = c;
	cur.ndefer = 0;
	cur.no_log = NULL;
	cur.primary = NULL;
	cur.called = false;
	cur.log[0] = 0;
	cur.lines = 0;
	cur.ctx_count = 0;
	nomem_armed = 0;
	nothreads_armed = 0;

	ret = c->run();
	if (ret != -c->err)
		fail_msg("%s:%d: %s returned %d (%s), documented -%s (%d)",
			 c->file, c->line, c->fn, ret, sevmig_strerror(ret),
			 c->err_name, -c->err);
	if (!cur.called)
		fail_msg("%s:%d: the case did not mark its call with DOC_CALL()",
			 c->file, c->line);
	pthread_mutex_lock(&cur.lock);
	if (!cur.no_log && !cur.lines) {
		pthread_mutex_unlock(&cur.lock);
		fail_msg("%s:%d: %s returned -%s without logging why",
			 c->file, c->line, c->fn, c->err_name);
	}
	if (cur.no_log)
		printf("  %s -%s: not logged (%s)\n", c->fn, c->err_name,
		       cur.no_log);
	else
		printf("  %s -%s: %.*s\n", c->fn, c->err_name,
		       (int)strcspn(cur.log, "\n"), cur.log);
	pthread_mutex_unlock(&cur.lock);
}

static int teardown_case(void **state)
{
	(void)state;
	run_deferred();
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct CMUnitTest *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int doc_run_all(const char *group)
{
	struct CMUnitTest *tests = calloc(ncases, sizeof(*tests));
	char **names = calloc(ncases, sizeof(*names));
	struct doc_case *c = cases;
	int ret;

	if (!tests || !names)
		return 1;
	for (size_t i = 0; i < ncases; i++, c = c->next) {
		size_t len = strlen(c->fn) + strlen(c->err_name) + 32;

		names[i] = malloc(len);
		if (!names[i])
			return 1;
		snprintf(names[i], len, "%s -%s (line %d)", c->fn, c->err_name,
			 c->line);
		tests[i] = (struct CMUnitTest){
			.name = names[i], .test_func = run_case,
			.teardown_func = teardown_case, .initial_state = c,
		};
	}
	qsort(tests, ncases, sizeof(*tests), by_name);
	printf("%zu documented-error cases\n", ncases);
	ret = _cmocka_run_group_tests(group, tests, ncases, NULL, NULL);
	for (size_t i = 0; i < ncases; i++)
		free(names[i]);
	free(names);
	free(tests);
	return ret;
}

/* ---- helpers ---- */

static void fake_done(void *fs)
{
	fake_sys_done(fs);
}

struct fake_sys *doc_fake(const struct fake_call *script, size_t n)
{
	struct fake_sys *fs = fake_sys_new(script, n);

	doc_defer(fake_done, fs);
	return fs;
}

struct fake_sys *doc_fake_none(void)
{
	return doc_fake(NULL, 0);
}

struct sevmig_ctx_opts doc_ctx_opts(const struct sevmig_sys_ops *sys)
{
	struct doc_ctx_tag *tag = calloc(1, sizeof(*tag));
	struct sevmig_ctx_opts o = {
		.size = sizeof(o), .sys = sys, .log = doc_log,
		.log_opaque = tag, .log_level = SEVMIG_LOG_DEBUG,
	};

	if (!tag)
		abort();	/* the test itself ran out of memory */
	doc_defer(free, tag);
	return o;
}

static void ctx_free(void *ctx)
{
	sevmig_ctx_free(ctx);
}

struct sevmig_ctx *doc_ctx_ops(const struct sevmig_sys_ops *ops)
{
	struct sevmig_ctx_opts o = doc_ctx_opts(ops);
	struct sevmig_ctx *ctx = NULL;

	assert_int_equal(sevmig_ctx_new(&o, &ctx), 0);
	((struct doc_ctx_tag *)o.log_opaque)->ctx = ctx;
	doc_defer(ctx_free, ctx);
	if (!cur.primary)
		cur.primary = ctx;
	return ctx;
}

struct sevmig_ctx *doc_ctx(struct fake_sys *fs)
{
	struct sevmig_sys_ops ops;

	fake_sys_ops(fs, &ops);
	return doc_ctx_ops(&ops);
}

static void platform_free(void *p)
{
	sevmig_platform_free(p);
}

struct sevmig_platform *doc_platform(struct sevmig_ctx *ctx)
{
	struct sevmig_platform *p = NULL;

	assert_int_equal(sevmig_platform_from_fd(ctx, DOC_SEV_FD, 0, &p), 0);
	doc_defer(platform_free, p);
	return p;
}

static void vm_free(void *vm)
{
	sevmig_vm_free(vm);
}

struct sevmig_vm *doc_vm(struct sevmig_ctx *ctx, struct sevmig_platform *p)
{
	struct sevmig_vm_opts o = { .size = sizeof(o), .vm_fd = DOC_VM_FD,
				    .phys_bits = 40, .platform = p };
	struct sevmig_vm *vm = NULL;

	assert_int_equal(sevmig_vm_new(ctx, &o, &vm), 0);
	doc_defer(vm_free, vm);
	return vm;
}

struct doc_cpuid {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

void doc_vm_negotiate(struct sevmig_vm *vm)
{
	struct doc_cpuid c;

	assert_int_equal(sevmig_vm_enable_exits(vm, 0, 0, 0), 0);
	assert_int_equal(sevmig_vm_set_msr_filter(vm, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	assert_int_equal(sevmig_vm_cpuid_apply(vm, &c, 0), 1);
	assert_int_equal(sevmig_vm_set_migration_control(vm, 1, 0), 0);
}

struct ram {
	void *p;
	size_t len;
};

static void ram_free(void *arg)
{
	struct ram *r = arg;

	munmap(r->p, r->len);
	free(r);
}

void *doc_vm_ram(struct sevmig_vm *vm, size_t pages)
{
	struct ram *r = calloc(1, sizeof(*r));

	if (!r)
		abort();	/* the test itself ran out of memory */
	r->len = pages * 4096;
	r->p = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r->p != MAP_FAILED);
	doc_defer(ram_free, r);
	assert_int_equal(sevmig_vm_ram_add(vm, 0, r->len, r->p, 0), 0);
	return r->p;
}

int doc_fw_hook(const struct fake_call *c, void *arg)
{
	uint64_t data = (uint64_t)(uintptr_t)c->hook_data;
	uint32_t fw = (uint32_t)data, want = (uint32_t)(data >> 32);

	if (c->req == SEV_ISSUE_CMD) {
		struct sev_issue_cmd *cmd = arg;

		if (want && cmd->cmd != want - 1)
			fail_msg("/dev/sev command %u, expected %s", cmd->cmd,
				 c->what);
		cmd->error = fw;
	} else {
		struct kvm_sev_cmd *cmd = arg;

		if (want && cmd->id != want - 1)
			fail_msg("KVM SEV command %u, expected %s", cmd->id,
				 c->what);
		cmd->error = fw;
	}
	return c->ret;
}

/* ---- a channel over bytes ---- */

struct bytes_ch {
	const unsigned char *p;
	size_t len, pos;
};

static int bytes_read(void *opaque, void *buf, size_t len)
{
	struct bytes_ch *b = opaque;

	if (b->pos == b->len)
		return -ENODATA;
	if (len > b->len - b->pos) {
		b->pos = b->len;
		return -EPIPE;
	}
	memcpy(buf, b->p + b->pos, len);
	b->pos += len;
	return 0;
}

static int bytes_writev(void *opaque, const struct sevmig_iovec *iov,
			uint32_t iovcnt)
{
	(void)opaque;
	(void)iov;
	(void)iovcnt;
	return 0;
}

static void channel_free(void *ch)
{
	sevmig_channel_free(ch);
}

struct sevmig_channel *doc_channel_bytes(struct sevmig_ctx *ctx,
					 const void *buf, size_t len,
					 bool can_write)
{
	struct bytes_ch *b = calloc(1, sizeof(*b));
	struct sevmig_channel_ops ops = { .size = sizeof(ops) };
	struct sevmig_channel *ch = NULL;

	if (!b)
		abort();	/* the test itself ran out of memory */
	doc_defer(free, b);
	b->p = buf;
	b->len = len;
	ops.opaque = b;
	ops.read = bytes_read;
	if (can_write)
		ops.writev = bytes_writev;
	assert_int_equal(sevmig_channel_new(ctx, &ops, 0, &ch), 0);
	doc_defer(channel_free, ch);
	return ch;
}
