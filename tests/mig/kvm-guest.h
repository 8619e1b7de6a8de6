/* SPDX-License-Identifier: MIT */
/*
 * A tiny real-mode guest that keeps writing to 16 pages, on a VM created
 * through a syscall table (the simulator's in KVM mode): it makes KVM's
 * dirty log move while a migration pass runs. Kept apart from the other
 * test helpers because it needs the system's <linux/kvm.h>.
 */
#ifndef SEVMIG_KVM_GUEST_H
#define SEVMIG_KVM_GUEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

/* The pages the guest writes: [KG_DATA_PAGE, KG_DATA_PAGE + 16). */
#define KG_DATA_PAGE 0x20u
#define KG_CODE 0x1000u

struct kg {
	const struct sevmig_sys_ops *ops;
	int vm, vcpu;
	void *run;
	size_t run_size;
	pthread_t thread;
	volatile int stop;
	int error;
	unsigned long runs;
};

/*
 * Register @mem (@size bytes at guest address 0) as slot 0 with dirty
 * logging, write the guest's code into it, and create vCPU 0 in real mode.
 * Returns 0 or a negative errno.
 */
int kg_create(struct kg *g, const struct sevmig_sys_ops *ops, int kvm_fd,
	      int vm_fd, void *mem, size_t size);
/* Run the vCPU on a thread until kg_stop(). */
int kg_start(struct kg *g);
/* Make KVM_RUN return (immediate_exit and a signal), join the thread. */
int kg_stop(struct kg *g);
void kg_destroy(struct kg *g);

#endif /* SEVMIG_KVM_GUEST_H */
