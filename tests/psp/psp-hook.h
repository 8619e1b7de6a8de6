/* SPDX-License-Identifier: MIT */
/*
 * A fake-sys hook for PSP commands: checks the command word, that `error`
 * was zeroed, the sev_fd passed, and the nested struct byte by byte (built
 * by the test from the offsets of the kernel's own headers, not from our
 * structs); then writes the kernel's answer and the firmware status.
 */
#ifndef SEVMIG_TEST_PSP_HOOK_H
#define SEVMIG_TEST_PSP_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fake-sys.h"
#include "uapi/kvm-abi.h"

struct psp_expect {
	uint32_t cmd;		/* SEV command or KVM SEV id */
	int sev_fd;		/* KVM only: expected sev_fd, or -1 to skip */
	bool null_data;		/* data must be 0 */
	const void *in;		/* expected bytes behind data (NULL: skip) */
	size_t in_len;
	const void *out;	/* bytes the "kernel" copies back */
	size_t out_len;
	uint32_t fw;		/* firmware status written to `error` */
};

int psp_sev_hook(const struct fake_call *c, void *arg);
int psp_kvm_hook(const struct fake_call *c, void *arg);

#define SEV_EXPECT(f, r, e) \
	{ .op = FAKE_OP_IOCTL, .fd = (f), .req = SEV_ISSUE_CMD, \
	  .nested_off = FAKE_NO_NESTED, .hook = psp_sev_hook, \
	  .hook_data = (void *)(e), .ret = (r), .what = "SEV_ISSUE_CMD" }
#define KVM_EXPECT(f, r, e) \
	{ .op = FAKE_OP_IOCTL, .fd = (f), .req = KVM_MEMORY_ENCRYPT_OP, \
	  .nested_off = FAKE_NO_NESTED, .hook = psp_kvm_hook, \
	  .hook_data = (void *)(e), .ret = (r), .what = "KVM_MEMORY_ENCRYPT_OP" }

/* Little-endian stores for building expected structs from offsets. */
void put32(uint8_t *b, size_t off, uint32_t v);
void put64(uint8_t *b, size_t off, uint64_t v);
void put_ptr(uint8_t *b, size_t off, const void *p);

#endif
