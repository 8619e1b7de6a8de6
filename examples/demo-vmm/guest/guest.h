/* SPDX-License-Identifier: MIT */
/*
 * The demo guest: a small freestanding x86-64 program with a kernel part
 * (ring 0: descriptor tables, the migration negotiation, page-state changes
 * where they need privilege) and a work part (ring 3: dirtying memory,
 * checksums, reports). See docs/demo.md.
 */
#ifndef DEMO_GUEST_H
#define DEMO_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "../demo-abi.h"

/* The image header at DEMO_IMAGE_GPA (entry.S). */
struct demo_image_header {
	uint64_t magic;
	uint64_t entry;
	uint64_t load_end;
	uint64_t image_end;
	uint64_t ro_end;
};

extern char __image_start[], __ro_end[];

/* entry.S */
void demo_report(uint32_t kind, uint64_t a, uint64_t b, uint64_t c,
		 uint64_t d, uint64_t e);
int64_t demo_doorbell(uint64_t gpa, uint64_t npages, uint64_t attrs);
int64_t demo_vmmcall(uint64_t gpa, uint64_t npages, uint64_t attrs);
int64_t demo_syscall(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2);

/* kernel.c (ring 0) */
uint64_t kmain(uint64_t id, const struct demo_boot_info *bi);
int64_t ksvc(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2);
#define DEMO_SVC_MAP_GPA 1u

/* What each vCPU's kernel found at boot, read by the work part. */
struct demo_cpu_boot {
	uint32_t kvm_base;
	uint32_t features;
	uint32_t flags;		/* DEMO_BOOT_F_* */
	uint32_t pad;
};
extern struct demo_cpu_boot demo_boot[DEMO_MAX_VCPUS];

/* work.c (ring 3) */
uint64_t work_init(uint64_t id, const struct demo_boot_info *bi);
uint64_t work_tick(uint64_t id, uint64_t writes);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %w1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* A 64-bit checksum of @n words (multiply-xorshift; order-sensitive). */
static inline uint64_t demo_hash(const volatile uint64_t *w, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return h;
}

#endif /* DEMO_GUEST_H */
