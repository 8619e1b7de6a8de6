// SPDX-License-Identifier: MIT
/*
 * The cost of one real exit to userspace and back, measured on /dev/kvm:
 * a tiny real-mode guest whose code is "out 0x80, al; jmp $-2", so every
 * KVM_RUN ends in KVM_EXIT_IO and the next one resumes it. This is the
 * yardstick the tracker's per-update cost is compared with: a guest's
 * page-state hypercall costs at least one such round trip. Benchmarks only
 * (not the library: it talks to the kernel directly, not through the seam).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm-exit.h"

#define MEM_SIZE (64u * 1024)
#define CODE 0x1000u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int bench_kvm_exit_ns(unsigned int exits, double *ret_ns, const char **why)
{
	static const uint8_t code[] = {
		0xe6, 0x80,	/* out 0x80, al */
		0xeb, 0xfc,	/* jmp back to the out */
	};
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_run *run = MAP_FAILED;
	uint8_t *mem = MAP_FAILED;
	int kvm, vm = -1, vcpu = -1, rc = -1;
	long run_size = 0;
	double best = 0;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		*why = "/dev/kvm cannot be opened";
		return -1;
	}
	*why = "KVM refused the tiny guest";
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		goto out;
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		goto out;
	memcpy(mem + CODE, code, sizeof(code));
	memset(&region, 0, sizeof(region));
	region.memory_size = MEM_SIZE;
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		goto out;
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		goto out;
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, KVM_GET_SREGS, &sregs))
		goto out;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) || ioctl(vcpu, KVM_SET_REGS, &regs))
		goto out;
	/*
	 * Warm up, then the best of 40 short batches: on a host shared with
	 * other work, some batches run without being preempted.
	 */
	for (int batch = -1; batch < 40; batch++) {
		unsigned int n = batch < 0 ? exits / 10 + 1 : exits / 40 + 1;
		double t0 = now(), d;

		for (unsigned int i = 0; i < n; i++) {
			if (ioctl(vcpu, KVM_RUN, 0) ||
			    run->exit_reason != KVM_EXIT_IO) {
				*why = "KVM_RUN did not exit on port I/O";
				goto out;
			}
		}
		d = (now() - t0) / n * 1e9;
		if (batch >= 0 && (best == 0 || d < best))
			best = d;
	}
	*ret_ns = best;
	*why = NULL;
	rc = 0;
out:
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu >= 0)
		close(vcpu);
	if (mem != MAP_FAILED)
		munmap(mem, MEM_SIZE);
	if (vm >= 0)
		close(vm);
	close(kvm);
	return rc;
}
