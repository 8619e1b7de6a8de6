/* SPDX-License-Identifier: MIT */
/* Private to libsevmig: the context body and helpers shared by every layer. */
#ifndef SEVMIG_INTERNAL_H
#define SEVMIG_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

#define SEVMIG_EXPORT __attribute__((visibility("default")))
#define SEVMIG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Guest frames are 4 KiB whatever the host or guest page size. */
#define GUEST_PAGE_SHIFT 12
#define GUEST_PAGE_SIZE 4096u

struct sevmig_ctx {
	struct sevmig_sys_ops sys;      /* every member non-NULL */
	void (*log)(void *opaque, uint32_t level, const char *msg);
	void *log_opaque;
	uint32_t log_level;
	/*
	 * Set once a PSP command timed out: the kernel driver then answers
	 * EBUSY forever, and we say why instead of "busy". Atomic because
	 * any thread may issue PSP commands.
	 */
	int psp_dead;
	/* Signature verifier from the options, or NULL (psp-roots.c). */
	int (*verify)(void *opaque, const void *cert, size_t cert_len,
		      const void *signer, size_t signer_len);
	void *verify_opaque;
	/*
	 * AMD roots the operator added. Slots below nr_arks never change once
	 * published (release store), so checks read them without the lock;
	 * adders serialise on arks_lock.
	 */
	pthread_mutex_t arks_lock;
	uint32_t nr_arks;
	struct sevmig_ark_id {
		uint8_t key_id[16];
		uint8_t fingerprint[32];
	} arks[SEVMIG_MAX_ADDED_ARKS];
};

/* ---- logging (log.c) ---- */
void sevmig_log(const struct sevmig_ctx *ctx, uint32_t level, const char *fmt,
		...) SEVMIG_PRINTF(3, 4);
/* Logs at ERR and returns @err: use sevmig_err(). */
int sevmig_err_log(const struct sevmig_ctx *ctx, int err, const char *fmt, ...)
	SEVMIG_PRINTF(3, 4);
/*
 * An error path must not report success: a non-negative @err (a caller's
 * bug) becomes -EIO. Inline, so callers and their analyzers see that the
 * result is always negative.
 */
static inline int sevmig_err_ret(int err)
{
	return err < 0 ? err : -EIO;
}
/* Logs at ERR and returns @err (< 0): error paths read "return sevmig_err(...)". */
#define sevmig_err(ctx, err, ...) \
	sevmig_err_ret(sevmig_err_log((ctx), (err), __VA_ARGS__))

/* ---- sized records (sized.c: libc only, shared with libsevmig-sim) ---- */
/*
 * Copy a caller's sized record into @dst (our @ksize bytes) following the
 * kernel's copy_struct_from_user rules. A NULL @src (the caller passed no
 * record; callers decide whether that is allowed) zeroes @dst. On success
 * dst's size field equals @ksize.
 */
int sevmig_struct_in(void *dst, size_t ksize, const void *src,
		     size_t min_size);
/*
 * Validate a caller's output record header: size >= @min_size and any bytes
 * past @ksize zero. Returns the number of bytes to write, or -errno.
 */
int sevmig_struct_out_len(const void *user, size_t ksize, size_t min_size);
/* Write @kern into @user's first @len bytes and set user->size = @len. */
void sevmig_struct_out(void *user, const void *kern, size_t len);

/*
 * A public record's first published size is where its first version's last
 * field ends; checked at compile time so the constant cannot drift.
 */
#define SEVMIG_RECORD_VER0(type, size_ver0, last_field)                       \
	_Static_assert((size_ver0) == offsetof(type, last_field) +          \
				      sizeof(((type *)0)->last_field),          \
		       #size_ver0 " is where " #last_field " ends")

/* ---- argument checks (args.c): every refusal is logged with its reason ---- */
/* A required pointer argument is NULL: logs "@fn: @what is required". */
int sevmig_arg_null_log(const struct sevmig_ctx *ctx, const char *fn,
			const char *what);
#define sevmig_arg_null(ctx, fn, what) \
	sevmig_err_ret(sevmig_arg_null_log((ctx), (fn), (what)))
/* Flags must be 0: returns 0, or -EINVAL logged. */
int sevmig_arg_flags(const struct sevmig_ctx *ctx, const char *fn,
		     uint32_t flags);
/* Any other invalid argument: logs "@fn: <message>" and returns -EINVAL. */
int sevmig_arg_invalid_log(const struct sevmig_ctx *ctx, const char *fn,
			   const char *fmt, ...) SEVMIG_PRINTF(3, 4);
#define sevmig_arg_invalid(ctx, fn, ...) \
	sevmig_err_ret(sevmig_arg_invalid_log((ctx), (fn), __VA_ARGS__))
/* sevmig_struct_in() for a public entry point; a refusal is logged. */
int sevmig_arg_in(const struct sevmig_ctx *ctx, const char *fn,
		  const char *what, void *dst, size_t ksize, const void *src,
		  size_t min_size);
/* sevmig_struct_out_len() for a public entry point; a refusal is logged. */
int sevmig_arg_out(const struct sevmig_ctx *ctx, const char *fn,
		   const char *what, const void *user, size_t ksize,
		   size_t min_size);

/* ---- CRC32C (crc32c.c) ---- */
/*
 * CRC32C of @len bytes continuing @crc (0 to start): standard CRC32C, so
 * sevmig_crc32c(0, "123456789", 9) == 0xe3069283. The _soft variant is the
 * table path, for tests that compare the two.
 */
uint32_t sevmig_crc32c(uint32_t crc, const void *buf, size_t len);
uint32_t sevmig_crc32c_soft(uint32_t crc, const void *buf, size_t len);

/* Store a firmware status for the caller when there is one to report. */
static inline void sevmig_put_fw(uint32_t *ret_fw_error, uint32_t fw)
{
	if (fw && ret_fw_error)
		*ret_fw_error = fw;
}

/* ---- syscall seam (sys.c): the only way out of the library ---- */
int sevmig_sys_open(const struct sevmig_ctx *ctx, const char *path, int oflags);
int sevmig_sys_close(const struct sevmig_ctx *ctx, int fd);
int sevmig_sys_ioctl(const struct sevmig_ctx *ctx, int fd, unsigned long req,
		     void *arg);
/* For ioctls whose argument is an integer (KVM_CHECK_EXTENSION, ...). */
int sevmig_sys_ioctl_val(const struct sevmig_ctx *ctx, int fd,
			 unsigned long req, unsigned long val);
int sevmig_sys_read(const struct sevmig_ctx *ctx, int fd, void *buf,
		    size_t len);
int sevmig_sys_writev(const struct sevmig_ctx *ctx, int fd,
		      const struct sevmig_iovec *iov, uint32_t iovcnt);
int sevmig_sys_poll(const struct sevmig_ctx *ctx, int fd, uint32_t events,
		    int timeout_ms);
int sevmig_sys_fsync(const struct sevmig_ctx *ctx, int fd);

/* ---- PSP choke point (psp.c) ---- */
/*
 * Issue one /dev/sev platform command. Zeroes the error field first, reads it
 * only on EIO; *fw is always written (0 when the firmware said nothing).
 * Tracks a dead PSP (ETIMEDOUT, then EBUSY forever).
 */
int sevmig_psp_platform_cmd(struct sevmig_ctx *ctx, int sev_fd, uint32_t cmd,
			    void *data, uint32_t *fw);
/* Same for a KVM_MEMORY_ENCRYPT_OP guest command on @vm_fd. */
int sevmig_psp_guest_cmd(struct sevmig_ctx *ctx, int vm_fd, int sev_fd,
			 uint32_t id, void *data, uint32_t *fw);
/* True when a length query came back as the firmware's INVALID_LEN answer. */
static inline bool sevmig_psp_is_len_answer(int rc, uint32_t fw)
{
	return rc == -5 /* EIO */ && fw == 0x04u /* INVALID_LEN */;
}
/*
 * The answer to a length query (a command sent with zero lengths): 0 when the
 * firmware answered INVALID_LEN, which is how it reports the lengths it
 * needs; -EPROTO (logged) when the command succeeded instead; otherwise the
 * command's own error, with its status stored through @ret_fw_error.
 */
int sevmig_psp_query_answer(const struct sevmig_ctx *ctx, const char *what,
			    int rc, uint32_t fw, uint32_t *ret_fw_error);
bool sevmig_psp_is_dead(const struct sevmig_ctx *ctx);
const char *sevmig_sev_cmd_name(uint32_t cmd);
const char *sevmig_kvm_sev_cmd_name(uint32_t id);

static inline uint64_t sevmig_ptr_u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

#endif /* SEVMIG_INTERNAL_H */
