// SPDX-License-Identifier: MIT
/*
 * The default syscall backend: the real kernel. This is the only file of the
 * library that makes system calls (ioctl, open, close, mmap, and the reads
 * and writes of migration channels on plain descriptors); every call
 * converts -1/errno into -errno at once so errno never leaks into the
 * contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static int linux_open(void *opaque, const char *path, int oflags)
{
	int fd;

	(void)opaque;
	do {
		fd = open(path, oflags);
	} while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static int linux_close(void *opaque, int fd)
{
	(void)opaque;
	/* Never retry close on EINTR: on Linux the fd is gone either way. */
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static int linux_ioctl(void *opaque, int fd, unsigned long request, void *arg)
{
	int ret;

	(void)opaque;
	ret = ioctl(fd, request, arg);
	return ret < 0 ? -errno : ret;
}

static int linux_mmap(void *opaque, void *addr, size_t length, int prot,
		      int mflags, int fd, int64_t offset, void **ret_addr)
{
	void *p;

	(void)opaque;
	p = mmap(addr, length, prot, mflags, fd, (off_t)offset);
	if (p == MAP_FAILED)
		return -errno;
	*ret_addr = p;
	return 0;
}

static int linux_munmap(void *opaque, void *addr, size_t length)
{
	(void)opaque;
	return munmap(addr, length) < 0 ? -errno : 0;
}

static int linux_read(void *opaque, int fd, void *buf, size_t len)
{
	ssize_t n;

	(void)opaque;
	if (len > INT_MAX)
		len = INT_MAX;
	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (int)n;
}

#define IOV_BATCH 64

/*
 * A closed peer must be an error, not a signal that kills the VMM: sockets
 * get MSG_NOSIGNAL; for pipes SIGPIPE is blocked in this thread for the
 * call and a signal it raised is consumed before unblocking.
 */
static int linux_writev(void *opaque, int fd, const struct sevmig_iovec *iov,
			uint32_t iovcnt)
{
	struct iovec v[IOV_BATCH];
	struct msghdr msg = { .msg_iov = v };
	sigset_t pipe_set, old;
	size_t total = 0;
	ssize_t n;
	int err;

	(void)opaque;
	if (iovcnt > IOV_BATCH)
		iovcnt = IOV_BATCH;	/* a partial write: the caller loops */
	for (uint32_t i = 0; i < iovcnt; i++) {
		v[i].iov_base = (void *)(uintptr_t)iov[i].base;
		v[i].iov_len = iov[i].len;
		total += iov[i].len;
		if (total > INT_MAX) {	/* keep the result an int */
			v[i].iov_len -= total - INT_MAX;
			iovcnt = i + 1;
			break;
		}
	}
	msg.msg_iovlen = iovcnt;
	do {
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n >= 0 || errno != ENOTSOCK)
		return n < 0 ? -errno : (int)n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	do {
		n = writev(fd, v, (int)iovcnt);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : 0;
	if (err == EPIPE && !sigismember(&old, SIGPIPE)) {
		static const struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err ? -err : (int)n;
}

static int linux_poll(void *opaque, int fd, uint32_t events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = (short)events };
	int n;

	(void)opaque;
	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n ? (int)(unsigned short)p.revents : 0;
}

static int linux_fsync(void *opaque, int fd)
{
	(void)opaque;
	return fsync(fd) < 0 ? -errno : 0;
}

_Static_assert(SEVMIG_POLL_IN == POLLIN && SEVMIG_POLL_OUT == POLLOUT &&
	       SEVMIG_POLL_ERR == POLLERR && SEVMIG_POLL_HUP == POLLHUP,
	       "SEVMIG_POLL_* are the kernel's values");

static const struct sevmig_sys_ops linux_ops = {
	.size = sizeof(struct sevmig_sys_ops),
	.flags = 0,
	.opaque = NULL,
	.open = linux_open,
	.close = linux_close,
	.ioctl = linux_ioctl,
	.mmap = linux_mmap,
	.munmap = linux_munmap,
	.read = linux_read,
	.writev = linux_writev,
	.poll = linux_poll,
	.fsync = linux_fsync,
};

SEVMIG_EXPORT const struct sevmig_sys_ops *sevmig_sys_default(void)
{
	return &linux_ops;
}
