// SPDX-License-Identifier: MIT
/*
 * The demo guest's kernel (ring 0): per-vCPU descriptor tables, the SEV
 * live-migration negotiation a real guest kernel does at boot (find the KVM
 * CPUID leaf, read feature bits 16 and 17, write READY to
 * MSR_KVM_MIGRATION_CONTROL), and the privileged half of a page-state
 * change (the C-bit in the page tables, then the hypercall).
 */
#include "guest.h"

#define KSTACK_SIZE (1u << 13)
#define USTACK_SIZE (1u << 14)

/* Stacks: entry.S computes the kernel stack from the vCPU number. */
__attribute__((aligned(4096))) char kstacks[DEMO_MAX_VCPUS][KSTACK_SIZE];
__attribute__((aligned(4096))) static char ustacks[DEMO_MAX_VCPUS][USTACK_SIZE];

/*
 * One TSS per vCPU. Its I/O bitmap lets user mode reach the demo's ports
 * (0xe0-0xe7) and nothing else; the byte after the bitmap must be 0xff.
 */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap;
	uint8_t bitmap[32];	/* ports 0-255 */
	uint8_t end;		/* 0xff */
} __attribute__((packed));

static struct tss tss[DEMO_MAX_VCPUS] __attribute__((aligned(64)));

/* One GDT per vCPU (each holds its own TSS descriptor, which goes busy). */
static uint64_t gdt[DEMO_MAX_VCPUS][8] __attribute__((aligned(64)));
static uint64_t idt[256 * 2] __attribute__((aligned(4096)));

struct demo_cpu_boot demo_boot[DEMO_MAX_VCPUS];
static const struct demo_boot_info *boot_info;

extern char isr_svc[];
extern char exc0[], exc1[], exc2[], exc3[], exc4[], exc5[], exc6[], exc7[],
	exc8[], exc9[], exc10[], exc11[], exc12[], exc13[], exc14[], exc15[],
	exc16[], exc17[], exc18[], exc19[], exc20[], exc21[];
static char *const exc_entry[22] = {
	exc0, exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9, exc10,
	exc11, exc12, exc13, exc14, exc15, exc16, exc17, exc18, exc19, exc20,
	exc21,
};

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint64_t base;
};

static void set_gate(unsigned vec, const void *fn, unsigned dpl)
{
	uint64_t a = (uint64_t)fn;

	/* 64-bit interrupt gate, kernel code selector 0x08. */
	idt[vec * 2] = (a & 0xffff) | (0x08ull << 16) |
		       ((0x8eull | (uint64_t)dpl << 5) << 40) |
		       ((a >> 16) & 0xffff) << 48;
	idt[vec * 2 + 1] = a >> 32;
}

static void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void tables_init(uint64_t id)
{
	struct tss *t = &tss[id];
	uint64_t b = (uint64_t)t, l = sizeof(*t) - 1;
	struct dtr gdtr = { sizeof(gdt[0]) - 1, (uint64_t)gdt[id] };
	struct dtr idtr = { sizeof(idt) - 1, (uint64_t)idt };
	uint64_t *g = gdt[id];

	t->rsp[0] = (uint64_t)kstacks[id + 1];	/* top of this vCPU's stack */
	t->iomap = offsetof(struct tss, bitmap);
	for (unsigned i = 0; i < sizeof(t->bitmap); i++)
		t->bitmap[i] = 0xff;
	t->bitmap[0xe0 / 8] = 0;		/* ports 0xe0-0xe7 allowed */
	t->end = 0xff;

	g[0] = 0;
	g[1] = 0x00af9a000000ffffull;	/* 0x08 kernel code, 64-bit */
	g[2] = 0x00cf92000000ffffull;	/* 0x10 kernel data */
	g[3] = 0x00affa000000ffffull;	/* 0x18 user code, 64-bit, DPL 3 */
	g[4] = 0x00cff2000000ffffull;	/* 0x20 user data, DPL 3 */
	g[5] = (l & 0xffff) | (b & 0xffffff) << 16 | 0x89ull << 40 |
	       ((l >> 16) & 0xf) << 48 | ((b >> 24) & 0xff) << 56;
	g[6] = b >> 32;			/* 0x28: the TSS (16 bytes) */
	g[7] = 0;

	/* Every vCPU writes the same shared IDT: no ordering between them. */
	for (unsigned v = 0; v < 22; v++)
		set_gate(v, exc_entry[v], 0);
	set_gate(0x80, isr_svc, 3);	/* user mode may call it */
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	__asm__ volatile("mov %0, %%ds; mov %0, %%es; mov %0, %%ss"
			 : : "r"(0x10) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(0x28));
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/*
 * The negotiation, as a Linux SEV guest does it: the KVM leaf is found by
 * its signature (it moves to 0x40000100 with Hyper-V enlightenments), the
 * features leaf follows it, and READY is written only when bit 17 says the
 * host handles MSR_KVM_MIGRATION_CONTROL (writing it otherwise is #GP).
 */
static void negotiate(uint64_t id)
{
	struct demo_cpu_boot *b = &demo_boot[id];
	uint32_t r[4];

	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		cpuid(base, r);
		if (r[1] == 0x4b4d564b && r[2] == 0x564b4d56 &&
		    r[3] == 0x0000004d) {	/* "KVMKVMKVM\0\0\0" */
			b->kvm_base = base;
			b->flags |= DEMO_BOOT_F_KVM;
			break;
		}
	}
	if (b->flags & DEMO_BOOT_F_KVM) {
		cpuid(b->kvm_base + 1, r);
		b->features = r[0];
		if (r[0] & (1u << DEMO_KVM_FEATURE_HC_MAP_GPA_RANGE))
			b->flags |= DEMO_BOOT_F_MAP_GPA;
		if (r[0] & (1u << DEMO_KVM_FEATURE_MIGRATION_CONTROL))
			b->flags |= DEMO_BOOT_F_MIGCTL;
	}
	if (boot_info->c_bit)
		b->flags |= DEMO_BOOT_F_CBIT;
	/* The MSR is one per VM: the boot vCPU writes it. */
	if (id == 0 && (b->flags & DEMO_BOOT_F_MIGCTL)) {
		wrmsr(DEMO_MSR_KVM_MIGRATION_CONTROL, 1);
		if (rdmsr(DEMO_MSR_KVM_MIGRATION_CONTROL) == 1)
			b->flags |= DEMO_BOOT_F_READY;
	}
}

uint64_t kmain(uint64_t id, const struct demo_boot_info *bi)
{
	boot_info = bi;
	tables_init(id);
	negotiate(id);
	return (uint64_t)ustacks[id + 1] - 8;
}

/*
 * Change the state of @npages pages at @gpa, then tell the host. With
 * memory encryption the page tables' C-bit decides how the CPU accesses a
 * page: flush the old form from the caches, flip the bit, drop the TLB
 * entry. Then the hypercall (or, where the kernel cannot forward it, the
 * doorbell) records the new state in the VMM.
 */
static int64_t map_gpa(uint64_t gpa, uint64_t npages, uint64_t attrs)
{
	const struct demo_boot_info *bi = boot_info;

	if (bi->c_bit) {
		volatile uint64_t *pte = (volatile uint64_t *)bi->pte_gpa;

		for (uint64_t p = 0; p < npages; p++) {
			uint64_t va = gpa + p * DEMO_PAGE;

			for (uint64_t l = 0; l < DEMO_PAGE; l += 64)
				__asm__ volatile("clflush (%0)"
						 : : "r"(va + l) : "memory");
			if (attrs & DEMO_MAP_GPA_ENCRYPTED)
				pte[va / DEMO_PAGE] |= bi->c_bit;
			else
				pte[va / DEMO_PAGE] &= ~bi->c_bit;
			__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
		}
	}
	if (bi->hc_mode == DEMO_HC_VMMCALL)
		return demo_vmmcall(gpa, npages, attrs);
	return demo_doorbell(gpa, npages, attrs);
}

int64_t ksvc(uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2)
{
	if (op == DEMO_SVC_MAP_GPA)
		return map_gpa(a0, a1, a2);
	return -38;	/* ENOSYS */
}
