// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-guest.h"

/*
 *	mov ax, 0x2000     ; data segment: guest physical 0x20000
 *	mov ds, ax
 *	xor bx, bx
 * l:	inc byte [bx]
 *	add bx, 0x1000     ; next page, wrapping at 64 KiB: 16 pages
 *	jmp l
 */
static const uint8_t code[] = {
	0xb8, 0x00, 0x20, 0x8e, 0xd8, 0x31, 0xdb,
	0xfe, 0x07, 0x81, 0xc3, 0x00, 0x10, 0xeb, 0xf8,
};

static int io(const struct kg *g, int fd, unsigned long req, void *arg)
{
	return g->ops->ioctl(g->ops->opaque, fd, req, arg);
}

static void on_signal(int sig)
{
	(void)sig;
}

int kg_create(struct kg *g, const struct sevmig_sys_ops *ops, int kvm_fd,
	      int vm_fd, void *mem, size_t size)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .flags = KVM_MEM_LOG_DIRTY_PAGES,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	memset(g, 0, sizeof(*g));
	g->ops = ops;
	g->vm = vm_fd;
	memcpy((uint8_t *)mem + KG_CODE, code, sizeof(code));
	ret = io(g, vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
	if (ret < 0)
		return ret;
	g->vcpu = io(g, vm_fd, KVM_CREATE_VCPU, 0);
	if (g->vcpu < 0)
		return g->vcpu;
	ret = io(g, kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0)
		return ret ? ret : -EINVAL;
	g->run_size = (size_t)ret;
	ret = ops->mmap(ops->opaque, NULL, g->run_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, g->vcpu, 0, &g->run);
	if (ret)
		return ret;
	if ((ret = io(g, g->vcpu, KVM_GET_SREGS, &sregs)) < 0)
		return ret;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if ((ret = io(g, g->vcpu, KVM_SET_SREGS, &sregs)) < 0)
		return ret;
	memset(&regs, 0, sizeof(regs));
	regs.rip = KG_CODE;
	regs.rflags = 2;
	return io(g, g->vcpu, KVM_SET_REGS, &regs) < 0 ? -EIO : 0;
}

static void *runner(void *arg)
{
	struct kg *g = arg;
	struct kvm_run *run = g->run;

	while (!g->stop) {
		int r = io(g, g->vcpu, KVM_RUN, 0);

		g->runs++;
		if (r == -EINTR)
			continue;
		if (r < 0) {
			g->error = r;
			break;
		}
		if (run->exit_reason != KVM_EXIT_INTR) {
			g->error = -(int)run->exit_reason - 1000;
			break;
		}
	}
	return NULL;
}

int kg_start(struct kg *g)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	g->stop = 0;
	return -pthread_create(&g->thread, NULL, runner, g);
}

int kg_stop(struct kg *g)
{
	struct kvm_run *run = g->run;

	g->stop = 1;
	__atomic_store_n(&run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(g->thread, SIGUSR1);
	pthread_join(g->thread, NULL);
	__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELEASE);
	return g->error;
}

void kg_destroy(struct kg *g)
{
	if (g->run)
		g->ops->munmap(g->ops->opaque, g->run, g->run_size);
	if (g->vcpu > 0)
		g->ops->close(g->ops->opaque, g->vcpu);
}
