// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake-sys.h"

struct fake_sys {
	struct fake_call *script;
	size_t n, next;
	struct sevmig_ctx *ctx;
	char last_error[512];
};

static const char *op_name(enum fake_op op)
{
	switch (op) {
	case FAKE_OP_OPEN: return "open";
	case FAKE_OP_CLOSE: return "close";
	case FAKE_OP_IOCTL: return "ioctl";
	case FAKE_OP_MMAP: return "mmap";
	case FAKE_OP_MUNMAP: return "munmap";
	}
	return "?";
}

static const struct fake_call *next_call(struct fake_sys *fs, enum fake_op op)
{
	const struct fake_call *c;

	if (fs->next >= fs->n)
		fail_msg("unexpected %s: the script (%zu calls) is used up", op_name(op),
			 fs->n);
	c = &fs->script[fs->next++];
	if (c->op != op)
		fail_msg("call %zu: expected %s (%s), got %s", fs->next - 1,
			 op_name(c->op), c->what ? c->what : "", op_name(op));
	return c;
}

static void check_fd(const struct fake_sys *fs, const struct fake_call *c, int fd)
{
	if (c->fd != FAKE_ANY_FD && c->fd != fd)
		fail_msg("call %zu (%s): expected fd %d, got %d", fs->next - 1,
			 c->what ? c->what : "", c->fd, fd);
}

static void check_bytes(const struct fake_sys *fs, const struct fake_call *c,
			const char *label, const void *got, const void *want,
			const void *mask, size_t len)
{
	const unsigned char *g = got, *w = want, *m = mask;

	for (size_t i = 0; i < len; i++) {
		if (m && !m[i])
			continue;
		if (g[i] != w[i])
			fail_msg("call %zu (%s): %s byte %zu is 0x%02x, expected 0x%02x",
				 fs->next - 1, c->what ? c->what : "", label, i,
				 g[i], w[i]);
	}
}

static int fake_open(void *opaque, const char *path, int oflags)
{
	struct fake_sys *fs = opaque;
	const struct fake_call *c = next_call(fs, FAKE_OP_OPEN);

	if (c->path && strcmp(c->path, path))
		fail_msg("call %zu: expected open(\"%s\"), got open(\"%s\")",
			 fs->next - 1, c->path, path);
	if ((oflags & c->oflags_mask) != c->oflags_mask)
		fail_msg("call %zu: open(\"%s\") flags 0x%x lack 0x%x", fs->next - 1,
			 path, oflags, c->oflags_mask);
	return c->ret;
}

static int fake_close(void *opaque, int fd)
{
	struct fake_sys *fs = opaque;
	const struct fake_call *c = next_call(fs, FAKE_OP_CLOSE);

	check_fd(fs, c, fd);
	return c->ret;
}

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct fake_sys *fs = opaque;
	const struct fake_call *c = next_call(fs, FAKE_OP_IOCTL);
	void *nested = NULL;
	uint64_t ptr;

	check_fd(fs, c, fd);
	if (c->req != req)
		fail_msg("call %zu (%s): expected ioctl 0x%lx, got 0x%lx",
			 fs->next - 1, c->what ? c->what : "", c->req, req);
	if (c->arg_is_value && (uintptr_t)arg != c->arg_value)
		fail_msg("call %zu (%s): expected argument %lu, got %lu",
			 fs->next - 1, c->what ? c->what : "",
			 (unsigned long)c->arg_value, (unsigned long)(uintptr_t)arg);
	if (c->arg_null && arg)
		fail_msg("call %zu (%s): expected a NULL argument", fs->next - 1,
			 c->what ? c->what : "");
	if (c->in)
		check_bytes(fs, c, "argument", arg, c->in, c->in_mask, c->in_len);
	if (c->nested_off != FAKE_NO_NESTED) {
		memcpy(&ptr, (const char *)arg + c->nested_off, sizeof(ptr));
		nested = (void *)(uintptr_t)ptr;
		if ((c->nested_in || c->nested_out) && !nested)
			fail_msg("call %zu (%s): nested pointer is NULL", fs->next - 1,
				 c->what ? c->what : "");
		if (c->nested_in)
			check_bytes(fs, c, "nested data", nested, c->nested_in,
				    NULL, c->nested_in_len);
	}
	if (c->out)
		memcpy(arg, c->out, c->out_len);
	if (c->nested_out)
		memcpy(nested, c->nested_out, c->nested_out_len);
	if (c->hook)
		return c->hook(c, arg);
	return c->ret;
}

static int fake_mmap(void *opaque, void *addr, size_t length, int prot,
		     int mflags, int fd, int64_t offset, void **ret_addr)
{
	struct fake_sys *fs = opaque;
	const struct fake_call *c = next_call(fs, FAKE_OP_MMAP);

	(void)addr; (void)prot; (void)mflags; (void)offset;
	check_fd(fs, c, fd);
	if (c->mmap_len && c->mmap_len != length)
		fail_msg("call %zu: mmap length %zu, expected %zu", fs->next - 1,
			 length, c->mmap_len);
	if (c->ret == 0)
		*ret_addr = c->mmap_addr;
	return c->ret;
}

static int fake_munmap(void *opaque, void *addr, size_t length)
{
	struct fake_sys *fs = opaque;
	const struct fake_call *c = next_call(fs, FAKE_OP_MUNMAP);

	if (c->mmap_addr && c->mmap_addr != addr)
		fail_msg("call %zu: munmap of an unexpected address", fs->next - 1);
	if (c->mmap_len && c->mmap_len != length)
		fail_msg("call %zu: munmap length %zu, expected %zu", fs->next - 1,
			 length, c->mmap_len);
	return c->ret;
}

struct fake_sys *fake_sys_new(const struct fake_call *script, size_t n)
{
	struct fake_sys *fs = calloc(1, sizeof(*fs));

	assert_non_null(fs);
	if (n) {
		fs->script = calloc(n, sizeof(*script));
		assert_non_null(fs->script);
		memcpy(fs->script, script, n * sizeof(*script));
	}
	fs->n = n;
	return fs;
}

void fake_sys_ops(struct fake_sys *fs, struct sevmig_sys_ops *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->size = sizeof(*ops);
	ops->opaque = fs;
	ops->open = fake_open;
	ops->close = fake_close;
	ops->ioctl = fake_ioctl;
	ops->mmap = fake_mmap;
	ops->munmap = fake_munmap;
}

static void fake_log(void *opaque, uint32_t level, const char *msg)
{
	struct fake_sys *fs = opaque;

	if (level == SEVMIG_LOG_ERR)
		snprintf(fs->last_error, sizeof(fs->last_error), "%s", msg);
}

struct sevmig_ctx *fake_sys_ctx(struct fake_sys *fs)
{
	struct sevmig_sys_ops ops;
	struct sevmig_ctx_opts opts = {
		.size = sizeof(opts),
		.sys = &ops,
		.log = fake_log,
		.log_opaque = fs,
		.log_level = SEVMIG_LOG_DEBUG,
	};

	if (!fs->ctx) {
		fake_sys_ops(fs, &ops);
		assert_int_equal(sevmig_ctx_new(&opts, &fs->ctx), 0);
	}
	return fs->ctx;
}

size_t fake_sys_calls(const struct fake_sys *fs)
{
	return fs->next;
}

const char *fake_sys_last_error(const struct fake_sys *fs)
{
	return fs->last_error;
}

void fake_sys_done(struct fake_sys *fs)
{
	size_t left;

	if (!fs)
		return;
	left = fs->n - fs->next;
	sevmig_ctx_free(fs->ctx);
	if (left) {
		const struct fake_call *c = &fs->script[fs->next];
		char msg[256];

		snprintf(msg, sizeof(msg),
			 "%zu scripted call(s) never made; first: %s (%s)", left,
			 op_name(c->op), c->what ? c->what : "");
		free(fs->script);
		free(fs);
		fail_msg("%s", msg);
	}
	free(fs->script);
	free(fs);
}
