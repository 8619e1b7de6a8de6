/* SPDX-License-Identifier: MIT */
/*
 * A tiny real-mode guest for the KVM-mode simulator tests, driven through a
 * syscall backend (the simulator's ops table) as a VMM would. Kept apart
 * from sim-test.h: it uses <linux/kvm.h>, whose names clash with the
 * library's private copy of the ABI.
 */
#ifndef SEVMIG_TEST_KVM_GUEST_H
#define SEVMIG_TEST_KVM_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include <sevmig/sevmig.h>

#define KG_MEM_SIZE (1u << 20)
#define KG_CODE 0x1000u
#define KG_MARKER 0x2000u	/* u16 the guest reads */
#define KG_RESULT 0x2002u	/* u16 it writes: marker + 1 */
#define KG_PORT 0x10u		/* where the second part writes the result */

/* Saved vCPU state (struct kvm_regs and kvm_sregs), opaque to callers. */
struct kg_state {
	uint8_t regs[144];
	uint8_t sregs[312];
};

/* Put the program into @mem (KG_MEM_SIZE bytes) with @marker. */
void kg_program(uint8_t *mem, uint16_t marker);
/* Memslot 0 at GPA 0 over @mem. */
int kg_memslot(const struct sevmig_sys_ops *ops, int vm, uint8_t *mem);
/* Real mode at KG_CODE. */
int kg_vcpu_reset(const struct sevmig_sys_ops *ops, int vcpu);
/* mmap the vCPU's kvm_run (size from /dev/kvm @kvm). */
void *kg_map_run(const struct sevmig_sys_ops *ops, int kvm, int vcpu,
		 size_t *ret_size);
/*
 * KVM_RUN until the guest halts (returns 0) or writes KG_PORT (returns 1,
 * *ret_out = the value); a negative errno from KVM_RUN. Bounded by alarm().
 */
int kg_run(const struct sevmig_sys_ops *ops, int vcpu, void *run,
	   uint16_t *ret_out);
int kg_save(const struct sevmig_sys_ops *ops, int vcpu, struct kg_state *s);
int kg_restore(const struct sevmig_sys_ops *ops, int vcpu,
	       const struct kg_state *s);

#endif /* SEVMIG_TEST_KVM_GUEST_H */
