/* SPDX-License-Identifier: MIT */
/*
 * The public API on whatever C library it is built with: scripts/
 * quality-musl.sh builds it with glibc and with musl and compares the two
 * outputs line by line. It uses only the installed header: a context whose
 * syscall backend answers every VM ioctl with success, a VM handle through
 * negotiation and fabricated exits (kernel kvm_run layout), the tracker
 * with its stream codec, and the error and reason texts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sevmig/sevmig.h>

static int fail(const char *what, int ret)
{
	printf("FAIL %s: %d (%s)\n", what, ret, sevmig_strerror(ret));
	exit(1);
}

#define CHECK(call) do { int r_ = (call); if (r_ < 0) fail(#call, r_); } while (0)

static int ok_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	(void)opaque; (void)fd; (void)req; (void)arg;
	return 0;
}

static void put32(unsigned char *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(unsigned char *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }
static uint64_t get64(const unsigned char *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, 8);
	return v;
}

static void logger(void *opaque, uint32_t level, const char *msg)
{
	(void)opaque;
	printf("log %u: %s\n", level, msg);
}

int main(void)
{
	struct sevmig_sys_ops ops = { .size = sizeof(ops), .ioctl = ok_ioctl };
	struct sevmig_ctx_opts co = { .size = sizeof(co), .sys = &ops,
				      .log = logger, .log_level = SEVMIG_LOG_ERR };
	struct sevmig_vm_opts vo = { .size = sizeof(vo), .vm_fd = 7,
				     .phys_bits = 40 };
	static union { uint64_t align; unsigned char b[2352]; } run;
	static union { uint32_t align; unsigned char b[8 + 2 * 40]; } cpuid;
	struct sevmig_tracker *t, *t2;
	unsigned char rec[256];
	struct sevmig_ctx *ctx;
	struct sevmig_vm *vm;
	uint64_t reasons, n, next;
	size_t len;
	int rc;

	printf("libsevmig %s\n", sevmig_version_string());
	for (int e = 1; e <= 135; e++)
		printf("strerror %d: %s\n", -e, sevmig_strerror(-e));
	for (int b = 0; b < 64; b++)
		printf("reason %d: %s\n", b, sevmig_reason_string(1ULL << b));
	for (uint32_t s = 0; s < 0x40; s++)
		printf("fw %u: %s\n", s, sevmig_fw_strerror(s));

	CHECK(sevmig_ctx_new(&co, &ctx));
	CHECK(sevmig_vm_new(ctx, &vo, &vm));
	CHECK(sevmig_vm_ram_add(vm, 0, 1ULL << 30, NULL, 0));
	printf("ram_add overlap: %d\n", sevmig_vm_ram_add(vm, 4096, 4096, NULL, 0));
	CHECK(sevmig_vm_enable_exits(vm, 0, 0, 0));
	CHECK(sevmig_vm_set_msr_filter(vm, NULL, 0));
	put32(cpuid.b, 0, 2);
	put32(cpuid.b, 8, 0x40000000);
	memcpy(cpuid.b + 8 + 16, "KVMKVMKVM\0\0\0", 12);
	put32(cpuid.b, 48, 0x40000001);
	printf("cpuid offered: %d\n", sevmig_vm_cpuid_apply(vm, cpuid.b, 0));

	/* KVM_EXIT_HYPERCALL (3) at offset 8, KVM_HC_MAP_GPA_RANGE (12). */
	put32(run.b, 8, 3);
	put64(run.b, 32, 12);
	put64(run.b, 40, 0x100000);
	put64(run.b, 48, 16);
	put64(run.b, 56, 0);
	put64(run.b, 96, 1);
	rc = sevmig_vm_handle_exit(vm, run.b, 0);
	printf("hypercall: %d ret %lld\n", rc, (long long)get64(run.b, 88));
	put64(run.b, 56, 1ULL << 63);
	rc = sevmig_vm_handle_exit(vm, run.b, 0);
	printf("bad hypercall: %d ret %lld\n", rc, (long long)get64(run.b, 88));
	/* KVM_EXIT_X86_WRMSR (30) of MSR_KVM_MIGRATION_CONTROL = READY. */
	memset(run.b, 0, sizeof(run.b));
	put32(run.b, 8, 30);
	put32(run.b, 44, 0x4b564d08);
	put64(run.b, 48, 1);
	rc = sevmig_vm_handle_exit(vm, run.b, 0);
	printf("wrmsr: %d error %u\n", rc, run.b[32]);
	CHECK(sevmig_vm_readiness(vm, &reasons, 0));
	printf("readiness: 0x%llx\n", (unsigned long long)reasons);
	CHECK(sevmig_tracker_shared_pages(sevmig_vm_tracker(vm), &n));
	printf("shared pages: %llu\n", (unsigned long long)n);

	CHECK(sevmig_tracker_new(NULL, 1ULL << 30, 0, &t));
	CHECK(sevmig_tracker_new(NULL, 1ULL << 30, 0, &t2));
	for (uint64_t i = 0; i < 1000; i++)
		CHECK(sevmig_tracker_set_shared(t, i * 977 % (1ULL << 30), 1 + i % 7));
	CHECK(sevmig_tracker_set_private(t, 5000, 300000));
	for (uint64_t g = 0; g < (1ULL << 30); g = next) {
		CHECK(sevmig_tracker_encode(t, SEVMIG_TRACKER_RECORD_FULL, g,
					    1ULL << 30, rec, sizeof(rec), &len,
					    &next, 0));
		CHECK(sevmig_tracker_decode(t2, rec, len, NULL, NULL, 0));
	}
	CHECK(sevmig_tracker_shared_pages(t, &n));
	printf("tracker: %llu shared", (unsigned long long)n);
	CHECK(sevmig_tracker_shared_pages(t2, &n));
	printf(", %llu after the round trip\n", (unsigned long long)n);
	rec[0] ^= 1;
	printf("hostile record: %d\n", sevmig_tracker_decode(t2, rec, len, NULL, NULL, 0));
	sevmig_tracker_free(t2);
	sevmig_tracker_free(t);
	sevmig_vm_free(vm);
	sevmig_ctx_free(ctx);
	return 0;
}
