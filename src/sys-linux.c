// SPDX-License-Identifier: MIT
/*
 * The default syscall backend: the real kernel. This is the only file of the
 * library that calls ioctl(), open(), close() or mmap(); every call converts
 * -1/errno into -errno at once so errno never leaks into the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

static const struct sevmig_sys_ops linux_ops = {
	.size = sizeof(struct sevmig_sys_ops),
	.flags = 0,
	.opaque = NULL,
	.open = linux_open,
	.close = linux_close,
	.ioctl = linux_ioctl,
	.mmap = linux_mmap,
	.munmap = linux_munmap,
};

SEVMIG_EXPORT const struct sevmig_sys_ops *sevmig_sys_default(void)
{
	return &linux_ops;
}
