// SPDX-License-Identifier: MIT
/*
 * Our copy of the kernel ABI (src/uapi/) against the system's headers,
 * wherever the system (Debian 12: Linux 6.1) has the name. The copy uses the
 * kernel's names, so one list (uapi-list.h) is compiled here against ours
 * and in uapi-system.c against the system's, and the values compared.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "uapi/kvm-abi.h"
#include "uapi-table.h"

#define V(n) { #n, (uint64_t)(n) },
#define S(t) { "sizeof(" #t ")", sizeof(t) },
#define O(t, f) { "offsetof(" #t ", " #f ")", offsetof(t, f) },
static const struct uapi_entry ours[] = {
#include "uapi-list.h"
	{ "kvm_run exit union", KVM_RUN_EXIT_OFFSET },
	{ "kvm_run hypercall.ret",
	  KVM_RUN_EXIT_OFFSET + offsetof(struct kvm_run_hypercall, ret) },
	{ "kvm_run hypercall.flags",
	  KVM_RUN_EXIT_OFFSET + offsetof(struct kvm_run_hypercall, flags) },
	{ "kvm_run msr.reason",
	  KVM_RUN_EXIT_OFFSET + offsetof(struct kvm_run_msr, reason) },
	{ "kvm_run msr.data",
	  KVM_RUN_EXIT_OFFSET + offsetof(struct kvm_run_msr, data) },
	{ "kvm_run immediate_exit", offsetof(struct kvm_run_hdr, immediate_exit) },
	{ "sizeof(struct kvm_run)", KVM_RUN_SIZE },
};

int main(void)
{
	size_t n = sizeof(ours) / sizeof(ours[0]), bad = 0;

	if (n != uapi_system_len) {
		printf("table lengths differ: %zu and %zu\n", n, uapi_system_len);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ours[i].name, uapi_system[i].name) ||
		    ours[i].value != uapi_system[i].value) {
			printf("MISMATCH %s: ours 0x%llx, system 0x%llx\n",
			       ours[i].name, (unsigned long long)ours[i].value,
			       (unsigned long long)uapi_system[i].value);
			bad++;
		}
	}
	printf("%zu kernel ABI values compared with <linux/kvm.h> and <linux/psp-sev.h>: %zu differ\n",
	       n, bad);
	return bad ? 1 : 0;
}
