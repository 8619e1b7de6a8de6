// SPDX-License-Identifier: MIT
/* The kernel ABI as the system's headers define it (see uapi-list.h). */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/psp-sev.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi-table.h"

#define V(n) { #n, (uint64_t)(n) },
#define S(t) { "sizeof(" #t ")", sizeof(t) },
#define O(t, f) { "offsetof(" #t ", " #f ")", offsetof(t, f) },
const struct uapi_entry uapi_system[] = {
#include "uapi-list.h"
	/* struct kvm_run is only partly copied: check the parts we use. */
	{ "kvm_run exit union", offsetof(struct kvm_run, hypercall) },
	{ "kvm_run hypercall.ret", offsetof(struct kvm_run, hypercall.ret) },
	{ "kvm_run hypercall.flags", offsetof(struct kvm_run, hypercall.longmode) },
	{ "kvm_run msr.reason", offsetof(struct kvm_run, msr.reason) },
	{ "kvm_run msr.data", offsetof(struct kvm_run, msr.data) },
	{ "kvm_run immediate_exit", offsetof(struct kvm_run, immediate_exit) },
	{ "sizeof(struct kvm_run)", sizeof(struct kvm_run) },
};
const size_t uapi_system_len = sizeof(uapi_system) / sizeof(uapi_system[0]);
