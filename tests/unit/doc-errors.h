/* SPDX-License-Identifier: MIT */
/*
 * Documented errors, one forced case each.
 *
 * Every public function's doc comment lists the errors it returns under
 * "Errors:". A case forces exactly one of them and returns the call's
 * result:
 *
 *	DOC_CASE(sevmig_platform_status, EBADF)
 *	{
 *		const struct fake_call script[] = {
 *			DOC_SEV(SEV_PLATFORM_STATUS, -EBADF, 0),
 *		};
 *		struct sevmig_ctx *ctx = doc_ctx(DOC_FAKE(script));
 *		struct sevmig_platform *p = doc_platform(ctx);
 *		struct sevmig_platform_status st = { .size = sizeof(st) };
 *
 *		return DOC_CALL(sevmig_platform_status(p, &st, NULL));
 *	}
 *
 * Each case registers itself; doc_run_all() runs every registered case as
 * a CMocka test and checks that it returned -EBADF and that the context
 * under test logged an error line while the call ran (DOC_CALL() marks the
 * call; the log before it does not count). A function that has no context
 * to log through (a NULL handle) says so with doc_no_log().
 * tests/abi/check-errors.py reads the DOC_CASE(fn, E) pairs of the test
 * sources and the "Errors:" lists of the headers: a documented error with
 * no case, or a case whose error is not documented, fails it.
 *
 * Everything a case creates through the doc_* helpers is released after
 * it, in reverse order; a scripted fake must have been used up. Cases for
 * ENOTSUPP are written DOC_CASE(fn, ENOTSUPP) (524, defined below).
 */
#ifndef SEVMIG_TEST_DOC_ERRORS_H
#define SEVMIG_TEST_DOC_ERRORS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

#include "fake-sys.h"
#include "uapi/kvm-abi.h"

/* The kernel's "operation not supported" (not in <errno.h>). */
#ifndef ENOTSUPP
#define ENOTSUPP 524
#endif

struct doc_case {
	const char *fn;		/* the public function, by name */
	const char *err_name;	/* "EBADF" */
	int err;		/* EBADF */
	const char *file;
	int line;
	int (*run)(void);
	struct doc_case *next;
};

void doc_register(struct doc_case *c);

#define DOC_CAT_(a, b) a##b
#define DOC_CAT(a, b) DOC_CAT_(a, b)
/*
 * (void (*)(void))func makes the compiler check that @func names a declared
 * function; the line number keeps two cases of one pair apart.
 */
#define DOC_CASE(func, E)							\
	static int DOC_CAT(doc_run_##func##_##E##_, __LINE__)(void);	\
	static struct doc_case DOC_CAT(doc_case_##func##_##E##_, __LINE__) = { \
		.fn = #func, .err_name = #E, .err = (E),			\
		.file = __FILE__, .line = __LINE__,			\
		.run = DOC_CAT(doc_run_##func##_##E##_, __LINE__),	\
	};								\
	__attribute__((constructor)) static void			\
	DOC_CAT(doc_reg_##func##_##E##_, __LINE__)(void)			\
	{								\
		(void)(void (*)(void))func;				\
		doc_register(&DOC_CAT(doc_case_##func##_##E##_, __LINE__)); \
	}								\
	static int DOC_CAT(doc_run_##func##_##E##_, __LINE__)(void)

/* Run every registered case; returns the CMocka result for main(). */
int doc_run_all(const char *group);

/*
 * The call under test: the log is cleared before it, and an armed
 * doc_nomem() applies to it alone. Evaluates to the call's result.
 */
void doc_call_begin(void);
int doc_call_end(int ret);
#define DOC_CALL(call) (doc_call_begin(), doc_call_end(call))

/* The function has no context to log through for this error: @why. */
void doc_no_log(const char *why);
/* Check the log of this context (default: the first one the case made). */
void doc_primary(const struct sevmig_ctx *ctx);
/* Did the context under test log @text at ERR since DOC_CALL() began? */
bool doc_log_has(const char *text);

/*
 * Every allocation of the calling thread fails inside the next DOC_CALL()
 * (malloc, calloc, realloc, posix_memalign). Skips the case under a
 * sanitizer, which owns malloc: call it before a scripted fake has calls
 * left to make, which the skip would leave unused.
 */
void doc_nomem(void);
/* Thread creation fails (EAGAIN) inside the next DOC_CALL(), likewise. */
void doc_nothreads(void);

/* Run @fn(@arg) when the case ends (after the cases' own objects). */
void doc_defer(void (*fn)(void *), void *arg);
/* The case freed @arg itself: drop its deferred cleanup. */
void doc_forget(const void *arg);

/* A scripted fake backend, checked used up when the case ends. */
struct fake_sys *doc_fake(const struct fake_call *script, size_t n);
#define DOC_FAKE(script) doc_fake((script), sizeof(script) / sizeof((script)[0]))
/* A fake with an empty script: any system call fails the case. */
struct fake_sys *doc_fake_none(void);

/* The log callback of case contexts; @opaque as doc_ctx_opts() sets it. */
void doc_log(void *opaque, uint32_t level, const char *msg);
/* Context options logging to the case (level DEBUG); @sys may be NULL. */
struct sevmig_ctx_opts doc_ctx_opts(const struct sevmig_sys_ops *sys);
/* A context on @ops (NULL: real system calls), freed when the case ends. */
struct sevmig_ctx *doc_ctx_ops(const struct sevmig_sys_ops *ops);
/* A context on the fake. */
struct sevmig_ctx *doc_ctx(struct fake_sys *fs);
/* A platform object on /dev/sev fd @fd (borrowed), freed at the end. */
#define DOC_SEV_FD 5
#define DOC_VM_FD 7
#define DOC_VCPU_FD 9
#define DOC_KVM_FD 11	/* the VMM's /dev/kvm, for calls that create VMs */
struct sevmig_platform *doc_platform(struct sevmig_ctx *ctx);
/* A VM handle on DOC_VM_FD with @p (may be NULL), freed at the end. */
struct sevmig_vm *doc_vm(struct sevmig_ctx *ctx, struct sevmig_platform *p);
/*
 * The fake calls sevmig_vm_enable_exits() and sevmig_vm_set_msr_filter()
 * make on DOC_VM_FD, for scripts.
 */
#define DOC_SCRIPT_EXITS						\
	FAKE_IOCTL_ANY(DOC_VM_FD, KVM_ENABLE_CAP, 0),			\
	FAKE_IOCTL_ANY(DOC_VM_FD, KVM_ENABLE_CAP, 0)
#define DOC_SCRIPT_FILTER FAKE_IOCTL_ANY(DOC_VM_FD, KVM_X86_SET_MSR_FILTER, 0)
/*
 * Negotiation done on @vm as the guest saw it: exits, filter (the script
 * holds DOC_SCRIPT_EXITS, DOC_SCRIPT_FILTER), the CPUID offer, READY.
 */
void doc_vm_negotiate(struct sevmig_vm *vm);
/* @pages of RAM at gpa 0 with a host mapping (freed at the end). */
void *doc_vm_ram(struct sevmig_vm *vm, size_t pages);

/*
 * A PSP command the fake answers with @r and firmware status @fw (the
 * command's "error" field); the command word must be @cmd (SEV_* on
 * /dev/sev DOC_SEV_FD, KVM_SEV_* on DOC_VM_FD).
 */
int doc_fw_hook(const struct fake_call *c, void *arg);
#define DOC_FW_DATA(cmd, fw) \
	((void *)(uintptr_t)(((uint64_t)(cmd) + 1) << 32 | (uint32_t)(fw)))
#define DOC_SEV(cmd, r, fw)						\
	{ .op = FAKE_OP_IOCTL, .fd = DOC_SEV_FD, .req = SEV_ISSUE_CMD,	\
	  .nested_off = FAKE_NO_NESTED, .hook = doc_fw_hook,		\
	  .hook_data = DOC_FW_DATA(cmd, fw), .ret = (r), .what = #cmd }
#define DOC_KVM(cmd, r, fw)						\
	{ .op = FAKE_OP_IOCTL, .fd = DOC_VM_FD,			\
	  .req = KVM_MEMORY_ENCRYPT_OP, .nested_off = FAKE_NO_NESTED,	\
	  .hook = doc_fw_hook, .hook_data = DOC_FW_DATA(cmd, fw),	\
	  .ret = (r), .what = #cmd }
/* The same, also writing @len bytes of @out behind the command's data. */
#define DOC_SEV_OUT(cmd, r, fw, o, len)				\
	{ .op = FAKE_OP_IOCTL, .fd = DOC_SEV_FD, .req = SEV_ISSUE_CMD,	\
	  .nested_off = offsetof(struct sev_issue_cmd, data),		\
	  .nested_out = (o), .nested_out_len = (len),			\
	  .hook = doc_fw_hook, .hook_data = DOC_FW_DATA(cmd, fw),	\
	  .ret = (r), .what = #cmd }
#define DOC_KVM_OUT(cmd, r, fw, o, len)				\
	{ .op = FAKE_OP_IOCTL, .fd = DOC_VM_FD,			\
	  .req = KVM_MEMORY_ENCRYPT_OP,					\
	  .nested_off = offsetof(struct kvm_sev_cmd, data),		\
	  .nested_out = (o), .nested_out_len = (len),			\
	  .hook = doc_fw_hook, .hook_data = DOC_FW_DATA(cmd, fw),	\
	  .ret = (r), .what = #cmd }

/* A channel on callbacks that read @len bytes of @buf, then end. */
struct sevmig_channel *doc_channel_bytes(struct sevmig_ctx *ctx,
					 const void *buf, size_t len,
					 bool can_write);

#endif /* SEVMIG_TEST_DOC_ERRORS_H */
