// SPDX-License-Identifier: MIT
/*
 * Migration channels: the VMM's transport callbacks, or plain descriptors
 * (socket, pipe, file) read and written through the syscall seam. A plain
 * descriptor channel reads ahead in 64 KiB chunks (a page record is read
 * as header then payload; the read-ahead keeps that from costing two
 * system calls), waits with poll() in short slices so that a cancel from
 * another thread is seen, and never closes the descriptors it borrows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mig-stream.h"

#define RBUF_SIZE (64u << 10)
#define POLL_SLICE_MS 100

static bool is_cancelled(const struct sevmig_channel *ch)
{
	return __atomic_load_n(&ch->cancelled, __ATOMIC_ACQUIRE) != 0;
}

static struct sevmig_channel *channel_alloc(struct sevmig_ctx *ctx,
					     const char *fn)
{
	struct sevmig_channel *ch = calloc(1, sizeof(*ch));

	if (!ch) {
		sevmig_err(ctx, -ENOMEM, "%s: out of memory", fn);
		return NULL;
	}
	ch->ctx = ctx;
	ch->rfd = -1;
	ch->wfd = -1;
	return ch;
}

SEVMIG_EXPORT int sevmig_channel_new(struct sevmig_ctx *ctx,
				     const struct sevmig_channel_ops *ops,
				     uint32_t flags,
				     struct sevmig_channel **ret_channel)
{
	struct sevmig_channel_ops o;
	struct sevmig_channel *ch = NULL;
	int ret;

	if (!ctx)
		return -EINVAL;
	if (!ops || !ret_channel)
		return sevmig_arg_null(ctx, __func__, ops ? "ret_channel" : "ops");
	if ((ret = sevmig_arg_flags(ctx, __func__, flags)) ||
	    (ret = sevmig_arg_in(ctx, __func__, "ops", &o, sizeof(o), ops,
				 SEVMIG_CHANNEL_OPS_SIZE_VER0)) ||
	    (ret = sevmig_arg_flags(ctx, __func__, o.flags)))
		return ret;
	if (!o.read && !o.writev)
		return sevmig_arg_invalid(ctx, __func__,
					  "a channel needs a read or a writev callback");
	ch = channel_alloc(ctx, __func__);
	if (!ch)
		return -ENOMEM;
	ch->ops = o;
	*ret_channel = ch;
	return 0;
}

/* ---- plain descriptors ---- */

/* Wait until @fd is ready for @events, in slices, or the channel cancelled. */
static int fd_wait(struct sevmig_channel *ch, int fd, uint32_t events)
{
	for (;;) {
		int r;

		if (is_cancelled(ch))
			return -ECANCELED;
		r = sevmig_sys_poll(ch->ctx, fd, events, POLL_SLICE_MS);
		if (r < 0)
			return r;
		if (r)
			return 0;	/* ready, or an error the I/O will report */
	}
}

static int fd_writev(void *opaque, const struct sevmig_iovec *iov,
		     uint32_t iovcnt)
{
	struct sevmig_channel *ch = opaque;
	struct sevmig_iovec v[8];

	while (iovcnt) {
		/* Work on a local copy so partial writes can advance it. */
		uint32_t n = iovcnt < 8 ? iovcnt : 8;
		int r;

		memcpy(v, iov, n * sizeof(v[0]));
		iov += n;
		iovcnt -= n;
		// cppcheck-suppress knownConditionTrueFalse ; n >= 1 here
		for (uint32_t i = 0; i < n;) {
			r = fd_wait(ch, ch->wfd, SEVMIG_POLL_OUT);
			if (!r)
				r = sevmig_sys_writev(ch->ctx, ch->wfd, v + i, n - i);
			if (r == -EAGAIN)
				continue;
			if (r < 0)
				return r;
			for (size_t done = (size_t)r; done && i < n;) {
				size_t k = done < v[i].len ? done : v[i].len;

				v[i].base = (const char *)v[i].base + k;
				v[i].len -= k;
				done -= k;
				if (!v[i].len)
					i++;
			}
			while (i < n && !v[i].len)
				i++;
		}
	}
	return 0;
}

static int fd_fill(struct sevmig_channel *ch, void *dst, size_t len)
{
	int r;

	for (;;) {
		r = fd_wait(ch, ch->rfd, SEVMIG_POLL_IN);
		if (!r)
			r = sevmig_sys_read(ch->ctx, ch->rfd, dst, len);
		if (r != -EAGAIN)
			return r;
	}
}

static int fd_read(void *opaque, void *buf, size_t len)
{
	struct sevmig_channel *ch = opaque;
	unsigned char *p = buf;
	size_t got = 0;

	while (got < len) {
		size_t avail = ch->rbuf_len - ch->rbuf_pos;
		int r;

		if (avail) {
			size_t k = avail < len - got ? avail : len - got;

			memcpy(p + got, ch->rbuf + ch->rbuf_pos, k);
			ch->rbuf_pos += k;
			got += k;
			continue;
		}
		if (len - got >= RBUF_SIZE) {
			/* Large reads go straight to the caller's buffer. */
			r = fd_fill(ch, p + got, len - got);
			if (r > 0)
				got += (size_t)r;
		} else {
			r = fd_fill(ch, ch->rbuf, RBUF_SIZE);
			if (r > 0) {
				ch->rbuf_pos = 0;
				ch->rbuf_len = (size_t)r;
			}
		}
		if (r == 0)
			return got ? -EPIPE : -ENODATA;
		if (r < 0)
			return r;
	}
	return 0;
}

static int fd_flush(void *opaque)
{
	struct sevmig_channel *ch = opaque;
	int r = sevmig_sys_fsync(ch->ctx, ch->wfd);

	/* Sockets and pipes have nothing to make durable. */
	return r == -EINVAL || r == -EROFS ? 0 : r;
}

SEVMIG_EXPORT int sevmig_channel_from_fds(struct sevmig_ctx *ctx, int read_fd,
					  int write_fd, uint32_t flags,
					  struct sevmig_channel **ret_channel)
{
	struct sevmig_channel *ch = NULL;

	if (!ctx)
		return -EINVAL;
	if (!ret_channel)
		return sevmig_arg_null(ctx, __func__, "ret_channel");
	if (sevmig_arg_flags(ctx, __func__, flags))
		return -EINVAL;
	if (read_fd < 0 && write_fd < 0)
		return sevmig_arg_invalid(ctx, __func__,
					  "give a descriptor to read, to write, or both");
	ch = channel_alloc(ctx, __func__);
	if (!ch)
		return -ENOMEM;
	ch->rfd = read_fd < 0 ? -1 : read_fd;
	ch->wfd = write_fd < 0 ? -1 : write_fd;
	ch->ops.size = sizeof(ch->ops);
	ch->ops.opaque = ch;
	if (ch->rfd >= 0) {
		ch->rbuf = malloc(RBUF_SIZE);
		if (!ch->rbuf) {
			free(ch);
			return sevmig_err(ctx, -ENOMEM, "%s: out of memory",
					  __func__);
		}
		ch->ops.read = fd_read;
	}
	if (ch->wfd >= 0) {
		ch->ops.writev = fd_writev;
		ch->ops.flush = fd_flush;
	}
	*ret_channel = ch;
	return 0;
}

SEVMIG_EXPORT void sevmig_channel_free(struct sevmig_channel *channel)
{
	if (!channel)
		return;
	free(channel->rbuf);
	free(channel);
}

/* ---- what the stream layer calls ---- */

int mig_chan_writev(struct sevmig_channel *ch, const struct sevmig_iovec *iov,
		    uint32_t iovcnt)
{
	size_t n = 0;
	int r;

	if (!ch->ops.writev)
		return sevmig_err(ch->ctx, -EBADF,
				  "migration channel: this channel cannot write");
	if (is_cancelled(ch))
		return -ECANCELED;
	r = ch->ops.writev(ch->ops.opaque, iov, iovcnt);
	if (r > 0)
		r = 0;	/* the contract is 0 or -errno; be lenient */
	if (r)
		return sevmig_err(ch->ctx, r, "migration channel: write failed: %s",
				  sevmig_strerror(r));
	for (uint32_t i = 0; i < iovcnt; i++)
		n += iov[i].len;
	__atomic_add_fetch(&ch->bytes_out, n, __ATOMIC_RELAXED);
	return 0;
}

int mig_chan_read(struct sevmig_channel *ch, void *buf, size_t len)
{
	int r;

	if (!ch->ops.read)
		return sevmig_err(ch->ctx, -EBADF,
				  "migration channel: this channel cannot read");
	if (is_cancelled(ch))
		return -ECANCELED;
	r = ch->ops.read(ch->ops.opaque, buf, len);
	if (r > 0)
		r = 0;
	if (r && r != -ENODATA && r != -EPIPE)
		return sevmig_err(ch->ctx, r, "migration channel: read failed: %s",
				  sevmig_strerror(r));
	if (!r)
		__atomic_add_fetch(&ch->bytes_in, len, __ATOMIC_RELAXED);
	return r;
}

int mig_chan_flush(struct sevmig_channel *ch)
{
	int r = ch->ops.flush ? ch->ops.flush(ch->ops.opaque) : 0;

	if (r < 0)
		return sevmig_err(ch->ctx, r,
				  "migration channel: flush (fsync) failed: %s",
				  sevmig_strerror(r));
	return 0;
}

void mig_chan_cancel(struct sevmig_channel *ch)
{
	__atomic_store_n(&ch->cancelled, 1, __ATOMIC_RELEASE);
	if (ch->ops.cancel)
		ch->ops.cancel(ch->ops.opaque);
}

/* ---- a read-only channel over bytes in memory ---- */

static int mem_read(void *opaque, void *buf, size_t len)
{
	struct mig_mem *m = opaque;

	if (m->pos == m->len && len)
		return -ENODATA;
	if (len > m->len - m->pos) {
		m->pos = m->len;
		return -EPIPE;
	}
	memcpy(buf, m->p + m->pos, len);
	m->pos += len;
	return 0;
}

void mig_chan_mem(struct sevmig_channel *ch, struct mig_mem *m,
		  struct sevmig_ctx *ctx, const void *buf, size_t len)
{
	memset(ch, 0, sizeof(*ch));
	m->p = buf;
	m->len = len;
	m->pos = 0;
	ch->ctx = ctx;
	ch->rfd = ch->wfd = -1;
	ch->ops.size = sizeof(ch->ops);
	ch->ops.opaque = m;
	ch->ops.read = mem_read;
}
