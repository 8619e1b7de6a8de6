// SPDX-License-Identifier: MIT
/*
 * Our own copy of the kernel ABI against the system's headers, wherever the
 * system (Debian 12: Linux 6.1) has the name. Compile-time checks; the test
 * program only reports that it was built.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/kvm_para.h>
#include <linux/psp-sev.h>
#include <stddef.h>
#include <stdio.h>

#include "uapi/kvm-abi.h"

#define SAME(ours, theirs) _Static_assert((ours) == (theirs), #ours)

SAME(SEVMIG_KVM_GET_API_VERSION, KVM_GET_API_VERSION);
SAME(SEVMIG_KVM_CREATE_VM, KVM_CREATE_VM);
SAME(SEVMIG_KVM_CHECK_EXTENSION, KVM_CHECK_EXTENSION);
SAME(SEVMIG_KVM_GET_VCPU_MMAP_SIZE, KVM_GET_VCPU_MMAP_SIZE);
SAME(SEVMIG_KVM_CREATE_VCPU, KVM_CREATE_VCPU);
SAME(SEVMIG_KVM_RUN, KVM_RUN);
SAME(SEVMIG_KVM_ENABLE_CAP, KVM_ENABLE_CAP);
SAME(SEVMIG_KVM_SET_CPUID2, KVM_SET_CPUID2);
SAME(SEVMIG_KVM_X86_SET_MSR_FILTER, KVM_X86_SET_MSR_FILTER);
SAME(SEVMIG_KVM_MEMORY_ENCRYPT_OP, KVM_MEMORY_ENCRYPT_OP);
SAME(SEVMIG_KVM_MEMORY_ENCRYPT_REG_REGION, KVM_MEMORY_ENCRYPT_REG_REGION);
SAME(SEVMIG_KVM_MEMORY_ENCRYPT_UNREG_REGION, KVM_MEMORY_ENCRYPT_UNREG_REGION);
SAME(SEVMIG_SEV_ISSUE_CMD, SEV_ISSUE_CMD);

SAME(SEVMIG_KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_USER_SPACE_MSR);
SAME(SEVMIG_KVM_CAP_X86_MSR_FILTER, KVM_CAP_X86_MSR_FILTER);
SAME(SEVMIG_KVM_CAP_VM_COPY_ENC_CONTEXT_FROM, KVM_CAP_VM_COPY_ENC_CONTEXT_FROM);
SAME(SEVMIG_KVM_CAP_EXIT_HYPERCALL, KVM_CAP_EXIT_HYPERCALL);
SAME(SEVMIG_KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM, KVM_CAP_VM_MOVE_ENC_CONTEXT_FROM);

SAME(SEVMIG_KVM_EXIT_HYPERCALL, KVM_EXIT_HYPERCALL);
SAME(SEVMIG_KVM_EXIT_INTR, KVM_EXIT_INTR);
SAME(SEVMIG_KVM_EXIT_X86_RDMSR, KVM_EXIT_X86_RDMSR);
SAME(SEVMIG_KVM_EXIT_X86_WRMSR, KVM_EXIT_X86_WRMSR);
SAME(SEVMIG_KVM_MSR_EXIT_REASON_INVAL, KVM_MSR_EXIT_REASON_INVAL);
SAME(SEVMIG_KVM_MSR_EXIT_REASON_UNKNOWN, KVM_MSR_EXIT_REASON_UNKNOWN);
SAME(SEVMIG_KVM_MSR_EXIT_REASON_FILTER, KVM_MSR_EXIT_REASON_FILTER);
SAME(SEVMIG_KVM_MSR_FILTER_READ, KVM_MSR_FILTER_READ);
SAME(SEVMIG_KVM_MSR_FILTER_WRITE, KVM_MSR_FILTER_WRITE);
SAME(SEVMIG_KVM_MSR_FILTER_DEFAULT_DENY, KVM_MSR_FILTER_DEFAULT_DENY);
SAME(SEVMIG_KVM_MSR_FILTER_MAX_RANGES, KVM_MSR_FILTER_MAX_RANGES);
SAME(SEVMIG_KVM_MSR_FILTER_MAX_BITMAP_SIZE, KVM_MSR_FILTER_MAX_BITMAP_SIZE);
SAME(SEVMIG_KVM_HC_MAP_GPA_RANGE, KVM_HC_MAP_GPA_RANGE);
SAME(SEVMIG_KVM_ENOSYS, KVM_ENOSYS);
SAME(SEVMIG_KVM_EINVAL, KVM_EINVAL);
SAME(SEVMIG_MSR_KVM_MIGRATION_CONTROL, MSR_KVM_MIGRATION_CONTROL);
SAME(SEVMIG_KVM_MIGRATION_READY, KVM_MIGRATION_READY);
SAME(SEVMIG_KVM_FEATURE_HC_MAP_GPA_RANGE, KVM_FEATURE_HC_MAP_GPA_RANGE);
SAME(SEVMIG_KVM_FEATURE_MIGRATION_CONTROL, KVM_FEATURE_MIGRATION_CONTROL);
SAME(SEVMIG_KVM_CPUID_SIGNATURE, KVM_CPUID_SIGNATURE);
SAME(SEVMIG_KVM_CPUID_FEATURES, KVM_CPUID_FEATURES);
SAME(SEVMIG_KVM_MAP_GPA_RANGE_ENCRYPTED, KVM_MAP_GPA_RANGE_ENCRYPTED);

SAME(SEVMIG_KVM_SEV_INIT, KVM_SEV_INIT);
SAME(SEVMIG_KVM_SEV_LAUNCH_START, KVM_SEV_LAUNCH_START);
SAME(SEVMIG_KVM_SEV_SEND_START, KVM_SEV_SEND_START);
SAME(SEVMIG_KVM_SEV_SEND_UPDATE_DATA, KVM_SEV_SEND_UPDATE_DATA);
SAME(SEVMIG_KVM_SEV_SEND_UPDATE_VMSA, KVM_SEV_SEND_UPDATE_VMSA);
SAME(SEVMIG_KVM_SEV_SEND_FINISH, KVM_SEV_SEND_FINISH);
SAME(SEVMIG_KVM_SEV_RECEIVE_START, KVM_SEV_RECEIVE_START);
SAME(SEVMIG_KVM_SEV_RECEIVE_UPDATE_DATA, KVM_SEV_RECEIVE_UPDATE_DATA);
SAME(SEVMIG_KVM_SEV_RECEIVE_UPDATE_VMSA, KVM_SEV_RECEIVE_UPDATE_VMSA);
SAME(SEVMIG_KVM_SEV_RECEIVE_FINISH, KVM_SEV_RECEIVE_FINISH);
SAME(SEVMIG_KVM_SEV_GUEST_STATUS, KVM_SEV_GUEST_STATUS);
SAME(SEVMIG_KVM_SEV_SEND_CANCEL, KVM_SEV_SEND_CANCEL);

SAME(SEVMIG_SEV_PLATFORM_STATUS, SEV_PLATFORM_STATUS);
SAME(SEVMIG_SEV_PDH_CERT_EXPORT, SEV_PDH_CERT_EXPORT);
SAME(SEVMIG_SEV_GET_ID2, SEV_GET_ID2);

SAME(sizeof(struct sevmig_kvm_sev_cmd), sizeof(struct kvm_sev_cmd));
SAME(sizeof(struct sevmig_kvm_sev_send_start), sizeof(struct kvm_sev_send_start));
SAME(offsetof(struct sevmig_kvm_sev_send_start, session_len),
     offsetof(struct kvm_sev_send_start, session_len));
SAME(sizeof(struct sevmig_kvm_sev_send_update_data),
     sizeof(struct kvm_sev_send_update_data));
SAME(sizeof(struct sevmig_kvm_sev_receive_start),
     sizeof(struct kvm_sev_receive_start));
SAME(sizeof(struct sevmig_kvm_sev_guest_status), sizeof(struct kvm_sev_guest_status));
SAME(sizeof(struct sevmig_kvm_sev_launch_start), sizeof(struct kvm_sev_launch_start));
SAME(sizeof(struct sevmig_kvm_msr_filter), sizeof(struct kvm_msr_filter));
SAME(sizeof(struct sevmig_kvm_enable_cap), sizeof(struct kvm_enable_cap));
SAME(sizeof(struct sevmig_kvm_cpuid_entry2), sizeof(struct kvm_cpuid_entry2));
SAME(sizeof(struct sevmig_sev_issue_cmd), sizeof(struct sev_issue_cmd));
SAME(sizeof(struct sevmig_sev_user_data_status), sizeof(struct sev_user_data_status));
SAME(sizeof(struct sevmig_sev_user_data_pdh_cert_export),
     sizeof(struct sev_user_data_pdh_cert_export));
SAME(sizeof(struct sevmig_sev_user_data_get_id2), sizeof(struct sev_user_data_get_id2));
SAME(sizeof(struct sevmig_kvm_run_hdr), offsetof(struct kvm_run, hypercall));
SAME(SEVMIG_KVM_RUN_EXIT_OFFSET, offsetof(struct kvm_run, hypercall));
SAME(SEVMIG_KVM_RUN_EXIT_OFFSET + offsetof(struct sevmig_kvm_run_hypercall, ret),
     offsetof(struct kvm_run, hypercall.ret));
SAME(SEVMIG_KVM_RUN_EXIT_OFFSET + offsetof(struct sevmig_kvm_run_hypercall, flags),
     offsetof(struct kvm_run, hypercall.longmode));
SAME(SEVMIG_KVM_RUN_EXIT_OFFSET + offsetof(struct sevmig_kvm_run_msr, data),
     offsetof(struct kvm_run, msr.data));
SAME(SEVMIG_KVM_RUN_EXIT_OFFSET + offsetof(struct sevmig_kvm_run_msr, reason),
     offsetof(struct kvm_run, msr.reason));
SAME(SEVMIG_KVM_RUN_SIZE, sizeof(struct kvm_run));
SAME(offsetof(struct sevmig_kvm_run_hdr, immediate_exit),
     offsetof(struct kvm_run, immediate_exit));

int main(void)
{
	/* Everything above is checked at compile time. */
	printf("kernel ABI definitions match <linux/kvm.h> and <linux/psp-sev.h>\n");
	return 0;
}
