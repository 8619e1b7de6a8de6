// SPDX-License-Identifier: MIT
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm-guest.h"

_Static_assert(sizeof(struct kvm_regs) == 144, "kvm_regs");
_Static_assert(sizeof(struct kvm_sregs) == 312, "kvm_sregs");

/*
 * Part one: read the marker, add one, store it, halt. Part two (where a
 * run resumes after the halt, on whichever VM has the context then): read
 * the stored value back and write it to KG_PORT, halt.
 */
static const uint8_t code[] = {
	0xa1, KG_MARKER & 0xff, KG_MARKER >> 8,	/* mov ax, [marker] */
	0x40,					/* inc ax */
	0xa3, KG_RESULT & 0xff, KG_RESULT >> 8,	/* mov [result], ax */
	0xf4,					/* hlt */
	0xa1, KG_RESULT & 0xff, KG_RESULT >> 8,	/* mov ax, [result] */
	0xba, KG_PORT, 0x00,			/* mov dx, port */
	0xef,					/* out dx, ax */
	0xf4,					/* hlt */
};

static void on_alarm(int sig)
{
	(void)sig;
}

void kg_program(uint8_t *mem, uint16_t marker)
{
	memcpy(mem + KG_CODE, code, sizeof(code));
	memcpy(mem + KG_MARKER, &marker, sizeof(marker));
	memset(mem + KG_RESULT, 0, 2);
}

int kg_memslot(const struct sevmig_sys_ops *ops, int vm, uint8_t *mem)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = KG_MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
	};

	return ops->ioctl(ops->opaque, vm, KVM_SET_USER_MEMORY_REGION, &r);
}

int kg_vcpu_reset(const struct sevmig_sys_ops *ops, int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int ret;

	ret = ops->ioctl(ops->opaque, vcpu, KVM_GET_SREGS, &sregs);
	if (ret)
		return ret;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	ret = ops->ioctl(ops->opaque, vcpu, KVM_SET_SREGS, &sregs);
	if (ret)
		return ret;
	memset(&regs, 0, sizeof(regs));
	regs.rip = KG_CODE;
	regs.rflags = 2;
	regs.rsp = 0x8000;
	return ops->ioctl(ops->opaque, vcpu, KVM_SET_REGS, &regs);
}

void *kg_map_run(const struct sevmig_sys_ops *ops, int kvm, int vcpu,
		 size_t *ret_size)
{
	int size = ops->ioctl(ops->opaque, kvm, KVM_GET_VCPU_MMAP_SIZE, NULL);
	void *p = NULL;

	if (size <= 0)
		return NULL;
	if (ops->mmap(ops->opaque, NULL, (size_t)size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, vcpu, 0, &p))
		return NULL;
	*ret_size = (size_t)size;
	return p;
}

int kg_run(const struct sevmig_sys_ops *ops, int vcpu, void *run_area,
	   uint16_t *ret_out)
{
	struct kvm_run *run = run_area;
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: KVM_RUN ends */
	for (int i = 0; i < 16; i++) {
		int ret;

		alarm(5);
		ret = ops->ioctl(ops->opaque, vcpu, KVM_RUN, NULL);
		alarm(0);
		if (ret < 0)
			return ret;
		if (run->exit_reason == KVM_EXIT_HLT)
			return 0;
		if (run->exit_reason == KVM_EXIT_IO &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port == KG_PORT && run->io.size == 2) {
			memcpy(ret_out, (uint8_t *)run + run->io.data_offset, 2);
			return 1;
		}
		if (run->exit_reason != KVM_EXIT_INTR)
			return -EPROTO;
	}
	return -ETIMEDOUT;
}

int kg_save(const struct sevmig_sys_ops *ops, int vcpu, struct kg_state *s)
{
	int ret = ops->ioctl(ops->opaque, vcpu, KVM_GET_REGS, s->regs);

	return ret ? ret : ops->ioctl(ops->opaque, vcpu, KVM_GET_SREGS, s->sregs);
}

int kg_restore(const struct sevmig_sys_ops *ops, int vcpu,
	       const struct kg_state *s)
{
	int ret = ops->ioctl(ops->opaque, vcpu, KVM_SET_SREGS,
			     (void *)s->sregs);

	return ret ? ret : ops->ioctl(ops->opaque, vcpu, KVM_SET_REGS,
				      (void *)s->regs);
}
