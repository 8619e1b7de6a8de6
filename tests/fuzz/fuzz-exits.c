// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the exit handler on hostile guest exits. An input is a
 * sequence of exits, 80 bytes each: exit_reason (u32), 4 bytes ignored,
 * then the 72 bytes of the exit's union (hypercall or MSR access), handed
 * one after another to sevmig_vm_handle_exit() on one VM handle (the
 * simulator in memory mode; RAM at 0 and at 4 GiB, the features offered).
 *
 * Oracles besides the sanitizers: the call answers HANDLED or NOT_OURS
 * (or a tracker resource error, which must then mark tracking lost); a
 * HANDLED hypercall always carries an answer; a successful
 * KVM_HC_MAP_GPA_RANGE leaves the first and last page of the range it
 * touched in RAM in the state asked for; the MSR reads back what the guest
 * last wrote successfully. Seeds are written into the corpus folder named
 * on the command line when the target starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sevmig/sevmig.h>
#include <sevmig/sim.h>

#include "uapi/kvm-abi.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ITEM 80u
#define LOW_PAGES 256u			/* RAM [0, 1 MiB) */
#define HIGH_GFN 0x100000ull		/* RAM [4 GiB, 4 GiB + 2 MiB) */
#define HIGH_PAGES 512u

#define die(...)							\
	do {								\
		fprintf(stderr, "fuzz-exits: " __VA_ARGS__);		\
		fprintf(stderr, "\n");					\
		abort();						\
	} while (0)

static struct {
	struct sevmig_sim *sim;
	struct sevmig_sim_host *host;
	struct sevmig_sys_ops ops;
	int kvm;
	struct sevmig_ctx *ctx;
	unsigned char *ram;
} F;

struct cpuid_table {
	uint32_t nent, pad;
	struct kvm_cpuid_entry2 e[2];
};

static struct sevmig_vm *vm_open(int *ret_fd)
{
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .phys_bits = 40 };
	struct cpuid_table c;
	struct sevmig_vm *vm = NULL;
	int fd = F.ops.ioctl(F.ops.opaque, F.kvm, KVM_CREATE_VM, NULL);

	if (fd < 0)
		die("KVM_CREATE_VM: %d", fd);
	vo.vm_fd = fd;
	memset(&c, 0, sizeof(c));
	c.nent = 2;
	c.e[0].function = 0x40000000;
	c.e[0].eax = 0x40000001;
	c.e[0].ebx = 0x4b4d564bu;
	c.e[0].ecx = 0x564b4d56u;
	c.e[0].edx = 0x4du;
	c.e[1].function = 0x40000001;
	if (sevmig_vm_new(F.ctx, &vo, &vm) ||
	    sevmig_vm_ram_add(vm, 0, LOW_PAGES * 4096ull, F.ram, 0) ||
	    sevmig_vm_ram_add(vm, HIGH_GFN * 4096, HIGH_PAGES * 4096ull,
			      F.ram + LOW_PAGES * 4096ull, 0) ||
	    sevmig_vm_enable_exits(vm, 0, 0, 0) ||
	    sevmig_vm_set_msr_filter(vm, NULL, 0) ||
	    sevmig_vm_cpuid_apply(vm, &c, 0) != 1)
		die("cannot set up a VM");
	*ret_fd = fd;
	return vm;
}

static uint32_t state_of(struct sevmig_vm *vm, uint64_t gfn)
{
	uint32_t st = 0;

	if (sevmig_tracker_state(sevmig_vm_tracker(vm), gfn, &st))
		die("tracker state of 0x%llx", (unsigned long long)gfn);
	return st;
}

/* The part of [gfn, gfn + n) in one RAM region: its first and last page. */
static void check_range(struct sevmig_vm *vm, uint64_t gfn, uint64_t n,
			uint64_t rs, uint64_t rn, uint32_t want)
{
	uint64_t s = gfn > rs ? gfn : rs;
	uint64_t e = gfn + n < rs + rn ? gfn + n : rs + rn;

	if (gfn + n < gfn || s >= e)
		return;
	if (state_of(vm, s) != want || state_of(vm, e - 1) != want)
		die("MAP_GPA_RANGE 0x%llx +%llu answered 0 but did not apply",
		    (unsigned long long)gfn, (unsigned long long)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char run[KVM_RUN_SIZE];
	struct sevmig_vm *vm;
	uint64_t msr = 0, v = 0;
	int fd;

	if (size > 64 * ITEM)
		size = 64 * ITEM;
	vm = vm_open(&fd);
	for (size_t off = 0; off + ITEM <= size; off += ITEM) {
		struct kvm_run_hdr *h = (struct kvm_run_hdr *)run;
		struct kvm_run_hypercall *hc = (void *)(run + KVM_RUN_EXIT_OFFSET);
		struct kvm_run_msr *m = (void *)(run + KVM_RUN_EXIT_OFFSET);
		struct kvm_run_hypercall in;
		int ret;

		memset(run, 0, sizeof(run));
		memcpy(&h->exit_reason, data + off, 4);
		memcpy(run + KVM_RUN_EXIT_OFFSET, data + off + 8, 72);
		memcpy(&in, hc, sizeof(in));
		hc->ret = 0x5a5a5a5a5a5a5a5aull;
		ret = sevmig_vm_handle_exit(vm, run, 0);
		if (ret == -ENOMEM || ret == -ENOSPC) {
			/* Recording failed: the VM must say it cannot migrate. */
			uint64_t reasons = 0;

			if (sevmig_vm_readiness(vm, &reasons, 0) ||
			    !(reasons & SEVMIG_REASON_TRACKING_LOST))
				die("a failed update left tracking intact");
			break;
		}
		if (ret != SEVMIG_EXIT_HANDLED && ret != SEVMIG_EXIT_NOT_OURS)
			die("sevmig_vm_handle_exit: %d", ret);
		if (ret == SEVMIG_EXIT_NOT_OURS)
			continue;
		if (h->exit_reason == KVM_EXIT_HYPERCALL) {
			bool lm = in.flags & KVM_EXIT_HYPERCALL_LONG_MODE;
			uint64_t gpa = lm ? in.args[0] : in.args[0] & UINT32_MAX;
			uint64_t n = lm ? in.args[1] : in.args[1] & UINT32_MAX;
			uint64_t attrs = lm ? in.args[2] : in.args[2] & UINT32_MAX;

			if (hc->ret == 0x5a5a5a5a5a5a5a5aull)
				die("a handled hypercall got no answer");
			if (!hc->ret) {
				uint32_t want = attrs & (1u << 4) ?
						SEVMIG_PAGE_PRIVATE :
						SEVMIG_PAGE_SHARED;

				check_range(vm, gpa >> 12, n, 0, LOW_PAGES, want);
				check_range(vm, gpa >> 12, n, HIGH_GFN, HIGH_PAGES,
					    want);
			}
		} else if (h->exit_reason == KVM_EXIT_X86_WRMSR && !m->error) {
			msr = m->data;
		} else if (h->exit_reason == KVM_EXIT_X86_RDMSR && !m->error) {
			if (m->data != msr)
				die("the MSR reads 0x%llx after a write of 0x%llx",
				    (unsigned long long)m->data,
				    (unsigned long long)msr);
		}
	}
	if (sevmig_vm_migration_control(vm, &v) || v != msr)
		die("the handle's MSR value differs from what the guest wrote");
	sevmig_vm_free(vm);
	F.ops.close(F.ops.opaque, fd);
	return 0;
}

static void put_item(FILE *f, uint32_t reason, const uint64_t *u, size_t n)
{
	unsigned char item[ITEM];

	memset(item, 0, sizeof(item));
	memcpy(item, &reason, 4);
	memcpy(item + 8, u, n * 8);
	fwrite(item, 1, sizeof(item), f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sevmig_sim_opts so = { .size = sizeof(so),
				      .mode = SEVMIG_SIM_MODE_MEMORY };
	struct sevmig_ctx_opts co = { .size = sizeof(co) };
	const char *dir = NULL;

	if (sevmig_sim_new(&so, &F.sim) || sevmig_sim_host_new(F.sim, NULL, &F.host))
		die("no simulated host");
	F.ops.size = sizeof(F.ops);
	if (sevmig_sim_host_sys_ops(F.host, &F.ops))
		die("no ops");
	F.kvm = F.ops.open(F.ops.opaque, "/dev/kvm", O_RDWR | O_CLOEXEC);
	co.sys = &F.ops;
	if (F.kvm < 0 || sevmig_ctx_new(&co, &F.ctx))
		die("no /dev/kvm");
	F.ram = mmap(NULL, (LOW_PAGES + HIGH_PAGES) * 4096ull,
		     PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (F.ram == MAP_FAILED)
		die("no RAM");
	for (int i = 1; i < *argc; i++)
		if ((*argv)[i][0] != '-') {
			dir = (*argv)[i];
			break;
		}
	if (dir) {
		/* Ready; share 16 pages at 0x10000 and 3 at 4 GiB (long mode);
		 * a 32-bit call; read the MSR; make 2 private again. */
		const uint64_t rd[9] = { 0, 0, MSR_KVM_MIGRATION_CONTROL, 0 };
		const uint64_t sh[9] = { KVM_HC_MAP_GPA_RANGE, 0x10000, 16, 0,
					 0, 0, 0, 0, 1 };
		const uint64_t hi[9] = { KVM_HC_MAP_GPA_RANGE, HIGH_GFN << 12, 3,
					 0, 0, 0, 0, 0, 1 };
		const uint64_t w32[9] = { KVM_HC_MAP_GPA_RANGE, 0x20000, 4, 0 };
		const uint64_t pv[9] = { KVM_HC_MAP_GPA_RANGE, 0x11000, 2, 0x10,
					 0, 0, 0, 0, 1 };
		char path[4096];
		uint64_t m[3];
		FILE *f;

		mkdir(dir, 0755);
		snprintf(path, sizeof(path), "%s/seed-exits", dir);
		f = fopen(path, "wb");
		if (!f)
			die("cannot write %s", path);
		/* MSR items: error/pad, reason, index, data as in kvm_run. */
		m[0] = 0;
		m[1] = (uint64_t)MSR_KVM_MIGRATION_CONTROL << 32;
		m[2] = 1;
		put_item(f, KVM_EXIT_X86_WRMSR, m, 3);
		put_item(f, KVM_EXIT_HYPERCALL, sh, 9);
		put_item(f, KVM_EXIT_HYPERCALL, hi, 9);
		put_item(f, KVM_EXIT_HYPERCALL, w32, 9);
		m[2] = 0;
		put_item(f, KVM_EXIT_X86_RDMSR, m, 3);
		put_item(f, KVM_EXIT_HYPERCALL, pv, 9);
		put_item(f, KVM_EXIT_INTR, rd, 9);
		if (fclose(f))
			die("cannot write %s", path);
	}
	return 0;
}
