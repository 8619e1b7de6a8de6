// SPDX-License-Identifier: MIT
//! Test helpers: a simulated SEV host (libsevmig-sim in memory mode, which
//! answers the KVM ioctls of a VM without /dev/kvm), a fabricated kvm_run
//! and a CPUID table in the kernel's layouts.
#![allow(dead_code)]

use std::ffi::CString;
use std::ptr;

use libsevmig::sys;
use sevmig_sim_sys as sim;

pub const KVM_CREATE_VM: u64 = 0xae01;

/// One simulated world with one host; freed on drop (after every context
/// that uses its ops table, so declare it first).
pub struct SimHost {
    world: *mut sim::sevmig_sim,
    pub ops: sys::sevmig_sys_ops,
}

impl SimHost {
    pub fn memory() -> SimHost {
        let opts = sim::sevmig_sim_opts {
            size: std::mem::size_of::<sim::sevmig_sim_opts>() as u32,
            mode: sim::SEVMIG_SIM_MODE_MEMORY,
            ..Default::default()
        };
        let (mut w, mut h) = (ptr::null_mut(), ptr::null_mut());
        let mut ops = sys::sevmig_sys_ops {
            size: std::mem::size_of::<sys::sevmig_sys_ops>() as u32,
            ..Default::default()
        };
        unsafe {
            assert_eq!(sim::sevmig_sim_new(&opts, &mut w), 0);
            assert_eq!(sim::sevmig_sim_mode(w), sim::SEVMIG_SIM_MODE_MEMORY);
            assert_eq!(sim::sevmig_sim_host_new(w, ptr::null(), &mut h), 0);
            assert_eq!(sim::sevmig_sim_host_sys_ops(h, &mut ops), 0);
        }
        SimHost { world: w, ops }
    }

    pub fn open(&self, path: &str) -> i32 {
        let p = CString::new(path).unwrap();
        unsafe { (self.ops.open.unwrap())(self.ops.opaque, p.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) }
    }

    pub fn ioctl(&self, fd: i32, request: u64, arg: usize) -> i32 {
        unsafe { (self.ops.ioctl.unwrap())(self.ops.opaque, fd, request as _, arg as *mut _) }
    }

    pub fn close(&self, fd: i32) {
        assert_eq!(unsafe { (self.ops.close.unwrap())(self.ops.opaque, fd) }, 0);
    }
}

impl Drop for SimHost {
    fn drop(&mut self) {
        unsafe { sim::sevmig_sim_free(self.world) }
    }
}

pub fn put32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
}
pub fn get32(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes(b[off..off + 4].try_into().unwrap())
}
pub fn put64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_ne_bytes());
}
pub fn get64(b: &[u8], off: usize) -> u64 {
    u64::from_ne_bytes(b[off..off + 8].try_into().unwrap())
}

/// A struct kvm_run as the kernel lays it out, 8-byte aligned like its mmap.
#[repr(C, align(8))]
pub struct KvmRun(pub [u8; libsevmig::KVM_RUN_SIZE]);

pub const KVM_EXIT_IO: u32 = 2;
pub const KVM_EXIT_HYPERCALL: u32 = 3;
pub const KVM_EXIT_X86_RDMSR: u32 = 29;
pub const KVM_EXIT_X86_WRMSR: u32 = 30;
pub const KVM_HC_MAP_GPA_RANGE: u64 = 12;
pub const MSR_KVM_MIGRATION_CONTROL: u32 = 0x4b56_4d08;
pub const KVM_MSR_EXIT_REASON_FILTER: u32 = 1 << 2;

// Offsets in struct kvm_run: exit_reason at 8, the exit union at 32.
pub const RUN_EXIT_REASON: usize = 8;
pub const RUN_EXIT: usize = 32;
// struct kvm_run.hypercall: nr, args[6], ret, flags (bit 0: long mode).
pub const HC_NR: usize = RUN_EXIT;
pub const HC_ARGS: usize = RUN_EXIT + 8;
pub const HC_RET: usize = RUN_EXIT + 56;
pub const HC_FLAGS: usize = RUN_EXIT + 64;
// struct kvm_run.msr: u8 error, pad[7], u32 reason, u32 index, u64 data.
pub const MSR_ERROR: usize = RUN_EXIT;
pub const MSR_REASON: usize = RUN_EXIT + 8;
pub const MSR_INDEX: usize = RUN_EXIT + 12;
pub const MSR_DATA: usize = RUN_EXIT + 16;

impl KvmRun {
    pub fn new() -> Box<KvmRun> {
        Box::new(KvmRun([0; libsevmig::KVM_RUN_SIZE]))
    }

    /// A KVM_HC_MAP_GPA_RANGE exit from a 64-bit guest; ret poisoned so a
    /// missing answer shows.
    pub fn map_gpa_range(&mut self, gpa: u64, npages: u64, attrs: u64) {
        self.0.fill(0);
        put32(&mut self.0, RUN_EXIT_REASON, KVM_EXIT_HYPERCALL);
        put64(&mut self.0, HC_NR, KVM_HC_MAP_GPA_RANGE);
        put64(&mut self.0, HC_ARGS, gpa);
        put64(&mut self.0, HC_ARGS + 8, npages);
        put64(&mut self.0, HC_ARGS + 16, attrs);
        put64(&mut self.0, HC_RET, 0xdead_beef);
        put64(&mut self.0, HC_FLAGS, 1);
    }

    pub fn msr(&mut self, write: bool, index: u32, data: u64) {
        self.0.fill(0);
        let reason = if write { KVM_EXIT_X86_WRMSR } else { KVM_EXIT_X86_RDMSR };
        put32(&mut self.0, RUN_EXIT_REASON, reason);
        self.0[MSR_ERROR] = 0xff;
        put32(&mut self.0, MSR_REASON, KVM_MSR_EXIT_REASON_FILTER);
        put32(&mut self.0, MSR_INDEX, index);
        put64(&mut self.0, MSR_DATA, data);
    }

    pub fn hc_ret(&self) -> u64 {
        get64(&self.0, HC_RET)
    }
}

/// A struct kvm_cpuid2 with the KVM signature leaf and its features leaf.
#[repr(C, align(8))]
pub struct Cpuid(pub [u8; 8 + 2 * 40]);

pub const KVM_FEATURE_BITS: u32 = (1 << 16) | (1 << 17);

impl Cpuid {
    pub fn kvm(features_eax: u32) -> Cpuid {
        let mut c = Cpuid([0; 88]);
        let b = &mut c.0;
        put32(b, 0, 2);
        let e0 = 8;
        put32(b, e0, 0x4000_0000);
        put32(b, e0 + 12, 0x4000_0001); // eax: highest leaf
        put32(b, e0 + 16, u32::from_le_bytes(*b"KVMK"));
        put32(b, e0 + 20, u32::from_le_bytes(*b"VMKV"));
        put32(b, e0 + 24, u32::from_le_bytes(*b"M\0\0\0"));
        let e1 = 8 + 40;
        put32(b, e1, 0x4000_0001);
        put32(b, e1 + 12, features_eax);
        c
    }

    pub fn features_eax(&self) -> u32 {
        get32(&self.0, 8 + 40 + 12)
    }
}
