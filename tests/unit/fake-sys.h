/* SPDX-License-Identifier: MIT */
/*
 * Scripted fake syscall backend for CMocka tests.
 *
 * A test lists the calls it expects, in order. Each call the library makes
 * is checked against the next entry (operation, fd, request, argument bytes,
 * and the bytes behind one nested pointer such as sev_issue_cmd.data); the
 * entry then writes its output bytes and returns its result. Any deviation,
 * an extra call, or an entry left over at fake_sys_done() fails the test.
 *
 *	static const struct fake_call script[] = {
 *		FAKE_OPEN("/dev/kvm", 10),
 *		FAKE_IOCTL_VAL(10, KVM_CHECK_EXTENSION, 201, 0x1000),
 *		FAKE_CLOSE(10, 0),
 *	};
 *	struct fake_sys *fs = fake_sys_new(script, ARRAY_SIZE(script));
 *	struct sevmig_ctx *ctx = fake_sys_ctx(fs);
 *	...
 *	fake_sys_done(fs);   // frees ctx too
 */
#ifndef SEVMIG_TEST_FAKE_SYS_H
#define SEVMIG_TEST_FAKE_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

enum fake_op {
	FAKE_OP_OPEN = 1,
	FAKE_OP_CLOSE,
	FAKE_OP_IOCTL,
	FAKE_OP_MMAP,
	FAKE_OP_MUNMAP,
};

#define FAKE_ANY_FD (-1000)	/* accept any fd */
#define FAKE_NO_NESTED SIZE_MAX

struct fake_call;
/*
 * Optional custom behaviour: called with the ioctl argument after the
 * generic checks; may check more and write outputs. Return the ioctl result
 * to use (normally c->ret). Use CMocka asserts inside.
 */
typedef int (*fake_hook_fn)(const struct fake_call *c, void *arg);

struct fake_call {
	enum fake_op op;
	const char *path;	/* OPEN: expected path */
	int oflags_mask;	/* OPEN: bits that must be set in oflags */
	int fd;			/* CLOSE/IOCTL/MMAP: expected fd, or FAKE_ANY_FD */
	unsigned long req;	/* IOCTL: expected request */
	bool arg_is_value;	/* IOCTL: the argument is an integer ... */
	uintptr_t arg_value;	/* ... equal to this */
	bool arg_null;		/* IOCTL: the argument must be NULL */
	const void *in;		/* IOCTL: expected bytes at arg (NULL: any) */
	size_t in_len;
	const void *in_mask;	/* optional: only compare bytes where mask != 0 */
	const void *out;	/* IOCTL: bytes copied to arg before returning */
	size_t out_len;
	size_t nested_off;	/* offset of a u64 pointer inside arg, or FAKE_NO_NESTED */
	const void *nested_in;	/* expected bytes behind that pointer */
	size_t nested_in_len;
	const void *nested_out;	/* bytes written behind that pointer */
	size_t nested_out_len;
	fake_hook_fn hook;
	void *hook_data;
	size_t mmap_len;	/* MMAP/MUNMAP: expected length (0: any) */
	void *mmap_addr;	/* MMAP: address returned */
	int ret;		/* result: >= 0, or -errno */
	const char *what;	/* label used in failure messages */
};

/* Designated-initializer helpers for the common shapes. */
#define FAKE_OPEN(p, r) \
	{ .op = FAKE_OP_OPEN, .path = (p), .ret = (r), .nested_off = FAKE_NO_NESTED, .what = "open " p }
#define FAKE_CLOSE(f, r) \
	{ .op = FAKE_OP_CLOSE, .fd = (f), .ret = (r), .nested_off = FAKE_NO_NESTED, .what = "close" }
#define FAKE_IOCTL_VAL(f, rq, val, r) \
	{ .op = FAKE_OP_IOCTL, .fd = (f), .req = (rq), .arg_is_value = true, \
	  .arg_value = (uintptr_t)(val), .ret = (r), .nested_off = FAKE_NO_NESTED, .what = #rq }
#define FAKE_IOCTL_NULL(f, rq, r) \
	{ .op = FAKE_OP_IOCTL, .fd = (f), .req = (rq), .arg_null = true, .ret = (r), \
	  .nested_off = FAKE_NO_NESTED, .what = #rq }
#define FAKE_IOCTL_ANY(f, rq, r) \
	{ .op = FAKE_OP_IOCTL, .fd = (f), .req = (rq), .ret = (r), \
	  .nested_off = FAKE_NO_NESTED, .what = #rq }

struct fake_sys;

/* The script is copied; entries' pointers must outlive the fake. */
struct fake_sys *fake_sys_new(const struct fake_call *script, size_t n);
/* A context wired to the fake (created on first use, freed by done()). */
struct sevmig_ctx *fake_sys_ctx(struct fake_sys *fs);
/* The ops table, for building contexts with other options. */
void fake_sys_ops(struct fake_sys *fs, struct sevmig_sys_ops *ops);
/* Fails the test unless every entry was consumed; frees everything. */
void fake_sys_done(struct fake_sys *fs);
/* Number of calls consumed so far. */
size_t fake_sys_calls(const struct fake_sys *fs);
/* Last message the context logged at ERR (empty string if none). */
const char *fake_sys_last_error(const struct fake_sys *fs);

#endif /* SEVMIG_TEST_FAKE_SYS_H */
