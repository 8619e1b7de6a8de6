// SPDX-License-Identifier: MIT
//! The VM handle and exit handling against fabricated kvm_run exits: on a VM
//! of the simulator (memory mode: runs anywhere) and, where /dev/kvm opens,
//! on a real KVM VM.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use libsevmig::{sys, Context, ExitResult, HostPolicy, LogLevel, PageState, Vm, VmOptions, VmState};

const KVM_EINVAL: u64 = (-22i64) as u64;
const KVM_ENOSYS: u64 = (-1000i64) as u64;
const GIB: u64 = 1 << 30;

/// The whole setup and exit sequence a VMM goes through on one VM.
fn exercise(ctx: &Context, vm_fd: i32) {
    let vm = Vm::new(
        ctx,
        &VmOptions {
            vm_fd,
            phys_bits: 40,
            host_policy: HostPolicy::Allow,
        },
    )
    .unwrap();
    let mut run = KvmRun::new();
    let tracker = vm.tracker();
    assert_eq!(vm.state().unwrap(), VmState::Live);
    assert_eq!(VmState::Live.name(), "live");

    // Nothing in place yet: each missing piece has its reason.
    let r = vm.readiness().unwrap();
    for bit in [
        sys::SEVMIG_REASON_EXITS_NOT_ENABLED,
        sys::SEVMIG_REASON_MSR_FILTER_MISSING,
        sys::SEVMIG_REASON_CPUID_NOT_OFFERED,
        sys::SEVMIG_REASON_GUEST_NOT_READY,
    ] {
        assert!(r.contains(bit), "{:#x} lacks {:#x}", r.bits(), bit);
    }
    // Before the features are offered the guest gets KVM_ENOSYS.
    run.map_gpa_range(0x10_0000, 16, 0);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.hc_ret(), KVM_ENOSYS);

    vm.ram_add(0, GIB).unwrap();
    assert_eq!(vm.ram_add(GIB / 2, 4096).unwrap_err().code(), -libc::EEXIST);
    assert_eq!(vm.ram_add(GIB + 1, 4096).unwrap_err().code(), -libc::EINVAL);
    vm.enable_exits(0, 0).unwrap();
    vm.set_msr_filter().unwrap();
    let mut cpuid = Cpuid::kvm(0);
    assert!(vm.cpuid_apply(&mut cpuid.0).unwrap(), "features offered");
    assert_eq!(cpuid.features_eax() & KVM_FEATURE_BITS, KVM_FEATURE_BITS);
    assert_eq!(vm.cpuid_apply(&mut cpuid.0[..40]).unwrap_err().code(), -libc::EINVAL);

    // A 64-bit guest shares 16 pages at 1 MiB, then re-encrypts 8 of them.
    run.map_gpa_range(0x10_0000, 16, 0);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.hc_ret(), 0);
    assert_eq!(tracker.shared_pages().unwrap(), 16);
    assert_eq!(tracker.state(0x100).unwrap(), PageState::Shared);
    run.map_gpa_range(0x10_8000, 8, 1 << 4);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.hc_ret(), 0);
    assert_eq!(tracker.shared_pages().unwrap(), 8);

    // Hostile arguments are answered KVM_EINVAL and change nothing.
    for (gpa, npages, attrs) in [(0x10_0000, 4, 1u64 << 63), (0x10_0001, 4, 0), (0, 0, 0), (0, 4, 3)] {
        run.map_gpa_range(gpa, npages, attrs);
        assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
        assert_eq!(run.hc_ret(), KVM_EINVAL, "{:#x} {} {:#x}", gpa, npages, attrs);
    }
    // Beyond registered RAM (firmware reports MMIO): answered 0, ignored.
    run.map_gpa_range(2 * GIB, 4, 0);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.hc_ret(), 0);
    assert_eq!(tracker.shared_pages().unwrap(), 8);

    // The guest says READY; reading the MSR back gives it.
    run.msr(true, MSR_KVM_MIGRATION_CONTROL, 1);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.0[MSR_ERROR], 0);
    assert_eq!(vm.migration_control().unwrap(), 1);
    run.msr(false, MSR_KVM_MIGRATION_CONTROL, 0);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(get64(&run.0, MSR_DATA), 1);
    // Reserved bits inject #GP.
    run.msr(true, MSR_KVM_MIGRATION_CONTROL, 2);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::Handled);
    assert_eq!(run.0[MSR_ERROR], 1);
    assert_eq!(vm.migration_control().unwrap(), 1);
    assert!(vm.readiness().unwrap().is_empty(), "{}", vm.readiness().unwrap());

    // Exits that are not ours are left untouched.
    run.msr(true, 0x10, 5);
    let before = run.0;
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::NotOurs);
    assert!(before[..] == run.0[..]);
    run.map_gpa_range(0, 1, 0);
    put64(&mut run.0, HC_NR, 5);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::NotOurs);
    run.0.fill(0);
    put32(&mut run.0, RUN_EXIT_REASON, KVM_EXIT_IO);
    assert_eq!(vm.handle_exit(&mut run.0).unwrap(), ExitResult::NotOurs);

    // A buffer that is not a whole, aligned kvm_run is refused, unread.
    assert_eq!(vm.handle_exit(&mut run.0[..2351]).unwrap_err().code(), -libc::EINVAL);
    let mut big = vec![0u64; 300];
    let bytes = unsafe { std::slice::from_raw_parts_mut(big.as_mut_ptr().cast::<u8>(), 2400) };
    assert_eq!(vm.handle_exit(&mut bytes[1..2353]).unwrap_err().code(), -libc::EINVAL);

    // Pause and resume with no vCPU registered.
    assert_eq!(vm.vcpu_count().unwrap(), 0);
    assert!(!vm.paused().unwrap());
    vm.pause().unwrap();
    assert!(vm.paused().unwrap());
    vm.resume().unwrap();
    assert!(!vm.paused().unwrap());

    // Reset: the guest must say READY again, pages are private again.
    vm.reset().unwrap();
    assert_eq!(vm.migration_control().unwrap(), 0);
    assert_eq!(tracker.shared_pages().unwrap(), 0);
    assert!(vm.readiness().unwrap().contains(sys::SEVMIG_REASON_GUEST_NOT_READY));
}

fn logging_ctx(ops: Option<&sys::sevmig_sys_ops>) -> (Context, Arc<Mutex<Vec<String>>>) {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&log);
    let mut b = Context::builder()
        .log(move |_, m| sink.lock().unwrap().push(m.to_string()))
        .log_level(LogLevel::Err);
    if let Some(ops) = ops {
        // SAFETY: the simulator outlives the context (declared first).
        b = unsafe { b.sys_ops(ops) };
    }
    (b.build().unwrap(), log)
}

#[test]
fn exits_on_a_simulated_vm() {
    let sim = SimHost::memory();
    let (ctx, log) = logging_ctx(Some(&sim.ops));
    let kvm = sim.open("/dev/kvm");
    assert!(kvm >= 0, "open /dev/kvm (simulated): {}", kvm);
    let vm_fd = sim.ioctl(kvm, KVM_CREATE_VM, 0);
    assert!(vm_fd >= 0, "KVM_CREATE_VM (simulated): {}", vm_fd);
    exercise(&ctx, vm_fd);
    // The refused ram_add calls were logged with their detail.
    assert!(log.lock().unwrap().len() >= 2, "{:?}", log.lock().unwrap());
    sim.close(vm_fd);
    sim.close(kvm);
}

#[test]
fn exits_on_a_real_kvm_vm() {
    let kvm = unsafe { libc::open(b"/dev/kvm\0".as_ptr().cast(), libc::O_RDWR | libc::O_CLOEXEC) };
    if kvm < 0 {
        eprintln!("skipped: /dev/kvm does not open here");
        return;
    }
    let vm_fd = unsafe { libc::ioctl(kvm, KVM_CREATE_VM as _, 0) };
    assert!(vm_fd >= 0, "KVM_CREATE_VM failed");
    let (ctx, _log) = logging_ctx(None);
    let caps = ctx.host_probe().unwrap();
    if caps.cross_host().contains(sys::SEVMIG_REASON_NO_EXIT_HYPERCALL)
        || caps.cross_host().contains(sys::SEVMIG_REASON_NO_MSR_FILTER)
    {
        eprintln!("skipped: this KVM cannot forward the migration exits");
    } else {
        exercise(&ctx, vm_fd);
    }
    drop(ctx);
    unsafe {
        libc::close(vm_fd);
        libc::close(kvm);
    }
}

#[test]
fn deny_policy_never_offers() {
    let sim = SimHost::memory();
    let (ctx, _log) = logging_ctx(Some(&sim.ops));
    let kvm = sim.open("/dev/kvm");
    let vm_fd = sim.ioctl(kvm, KVM_CREATE_VM, 0);
    {
        let vm = Vm::new(
            &ctx,
            &VmOptions {
                host_policy: HostPolicy::Deny,
                ..VmOptions::new(vm_fd)
            },
        )
        .unwrap();
        vm.enable_exits(0, 0).unwrap();
        vm.set_msr_filter().unwrap();
        let mut cpuid = Cpuid::kvm(KVM_FEATURE_BITS);
        assert!(!vm.cpuid_apply(&mut cpuid.0).unwrap());
        assert_eq!(cpuid.features_eax() & KVM_FEATURE_BITS, 0, "bits cleared");
        assert!(vm.readiness().unwrap().contains(sys::SEVMIG_REASON_HOST_POLICY_DENY));
    }
    sim.close(vm_fd);
    sim.close(kvm);
}
