/* SPDX-License-Identifier: MIT */
/*
 * The contract between the demo VMM and its guest: where things are in guest
 * memory, the boot information block, and the I/O ports. Included by the
 * freestanding guest and by the VMM, so it uses only <stdint.h>.
 *
 * Everything the VMM learns from the guest travels in registers on an I/O
 * exit, never through guest memory: on an SEV host the VMM cannot read the
 * guest's private memory (plain SEV leaves the registers readable).
 */
#ifndef DEMO_ABI_H
#define DEMO_ABI_H

/* The port numbers and the hypercall number are used by entry.S too. */
#define DEMO_KVM_HC_MAP_GPA_RANGE	12
#define DEMO_PORT_DOORBELL	0xe0
#define DEMO_PORT_REPORT	0xe1
#define DEMO_PORT_IDLE		0xe2
#define DEMO_PORT_GEN		0xe3
#define DEMO_PORT_PANIC		0xe4

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Guest physical layout (identity-mapped by the page tables). */
#define DEMO_BOOT_INFO_GPA	0x1000ull	/* struct demo_boot_info */
#define DEMO_IMAGE_GPA		0x100000ull	/* the guest image (1 MiB) */
#define DEMO_IMAGE_MAX		0x100000ull	/* image + bss must fit */
#define DEMO_PT_GPA		0x200000ull	/* page tables built by the VMM */
#define DEMO_MAX_VCPUS		8u
#define DEMO_PAGE		4096ull

#define DEMO_BOOT_MAGIC		0x4f4d4544474d5653ull	/* "SVMGDEMO" */
#define DEMO_BOOT_VERSION	1u

/* How the guest reaches KVM_HC_MAP_GPA_RANGE (boot info hc_mode). */
#define DEMO_HC_DOORBELL	1u	/* the fallback I/O port below */
#define DEMO_HC_VMMCALL		2u	/* the real hypercall, from ring 0 */

/* KVM hypercall number and attributes (the guest ABI of the kernel). */
#define DEMO_MAP_GPA_ENCRYPTED		(1ull << 4)
#define DEMO_MSR_KVM_MIGRATION_CONTROL	0x4b564d08u
#define DEMO_KVM_FEATURE_HC_MAP_GPA_RANGE	16
#define DEMO_KVM_FEATURE_MIGRATION_CONTROL	17

/*
 * I/O ports. The guest's user mode reaches them through its TSS I/O bitmap.
 *
 * DOORBELL (the fallback for KVM_HC_MAP_GPA_RANGE where the kernel does not
 *   forward the hypercall to userspace): OUT with EAX = 12 (the hypercall
 *   number), RBX = a0 (gpa), RCX = a1 (npages), RDX = a2 (attributes), the
 *   registers of the hypercall itself; the VMM makes exactly the library
 *   call the hypercall exit would (sevmig_vm_map_gpa_range()). Then IN
 *   returns that call's answer for the guest's RAX as a sign-extended
 *   32-bit value (0, -22 KVM_EINVAL, -1000 KVM_ENOSYS). The answer is
 *   per-vCPU device state and migrates with the vCPU.
 * REPORT: OUT with EAX = DEMO_REP_*, payload in RSI, RDX, RCX, R8, R9 (the
 *   C calling convention's argument registers after RDI).
 * IDLE: OUT with EAX = microseconds the guest has nothing to do (the VMM
 *   sleeps at most that long; a stop request ends the sleep early).
 * GEN: IN returns the migration generation: 0 where the guest booted, +1
 *   on every destination that resumed it.
 * PANIC: OUT from the guest's exception handler: EAX = vector, RSI = RIP,
 *   RDX = error code, RCX = CR2. The vCPU then halts.
 */

/*
 * Reports. The first payload register (RSI) is always vcpu | seq << 8: seq
 * counts every report of that vCPU from 1 and must grow by exactly one,
 * wherever the guest runs; a gap or a repeat means the guest lost state or
 * ran twice.
 */
#define DEMO_REP_BOOT		1u /* RDX features EAX, RCX KVM base leaf,
				      R8 DEMO_BOOT_F_* */
#define DEMO_REP_HEARTBEAT	2u /* RDX writes, RCX max gap us, R8 page
				      conversions, R9 pages shared now */
#define DEMO_REP_CHECK		3u /* RDX pages checked, RCX DEMO_CHECK_*
				      failures (0: all intact), R8 gap us
				      around the resume, R9 generation */
#define DEMO_REP_ERROR		4u /* RDX DEMO_ERR_*, RCX detail */

#define DEMO_BOOT_F_READY	(1u << 0) /* READY written and read back */
#define DEMO_BOOT_F_MAP_GPA	(1u << 1) /* CPUID bit 16 seen */
#define DEMO_BOOT_F_MIGCTL	(1u << 2) /* CPUID bit 17 seen */
#define DEMO_BOOT_F_CBIT	(1u << 3) /* memory encryption in use */
#define DEMO_BOOT_F_KVM		(1u << 4) /* the KVM leaf was found */

/* CHECK failure counts are packed in RCX: 16 bits each. */
#define DEMO_CHECK_BAD_PAGES(x)	((x) & 0xffff)		/* checksum/version */
#define DEMO_CHECK_LOST(x)	(((x) >> 16) & 0xffff)	/* lost writes */
#define DEMO_CHECK_IMAGE(x)	(((x) >> 32) & 0xffff)	/* code changed */

#define DEMO_ERR_MAP_GPA	1u /* the doorbell or hypercall refused */

/* One vCPU's working memory: data pages and their checksum table. */
struct demo_region {
	uint64_t data_gpa;	/* first data page */
	uint64_t npages;	/* data pages */
	uint64_t table_gpa;	/* npages entries of struct demo_page_sum */
	uint64_t reserved;
};

/* Boot information, written by the VMM at DEMO_BOOT_INFO_GPA. */
struct demo_boot_info {
	uint64_t magic;
	uint32_t version;
	uint32_t nr_vcpus;
	uint64_t ram_size;
	uint64_t tsc_khz;	/* to turn TSC ticks into time */
	uint64_t c_bit;		/* page-table C-bit mask; 0 without SEV */
	uint64_t pte_gpa;	/* PTE of page n at pte_gpa + 8 n */
	uint32_t hc_mode;	/* DEMO_HC_* */
	uint32_t tick_us;	/* one work iteration, idle included */
	uint32_t dirty_rate;	/* pages each vCPU rewrites per second */
	uint32_t report_ms;	/* heartbeat period */
	uint32_t shared_pages;	/* pages each vCPU keeps shared at a time */
	uint32_t shared_ms;	/* how long before it moves them */
	struct demo_region region[DEMO_MAX_VCPUS];
};

/* The guest's record of one data page. */
struct demo_page_sum {
	uint64_t version;	/* how many times the page was written */
	uint64_t sum;		/* checksum of its 4096 bytes */
};

#endif /* !__ASSEMBLER__ */
#endif /* DEMO_ABI_H */
