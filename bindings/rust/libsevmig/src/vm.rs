// SPDX-License-Identifier: MIT
//! The VM handle: negotiation, exit handling, lifecycle.

use std::convert::TryFrom;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::os::unix::io::RawFd;
use std::ptr::{self, NonNull};

use libsevmig_sys as sys;

use crate::ctx::Context;
use crate::error::{check, einval, static_str, Error, Result};
use crate::reasons::Reasons;
use crate::tracker::Tracker;

/// Size of the kernel's `struct kvm_run` that [`Vm::handle_exit`] reads.
pub const KVM_RUN_SIZE: usize = 2352;
/// Size of one `struct kvm_cpuid_entry2`.
pub const KVM_CPUID_ENTRY2_SIZE: usize = 40;
/// Offset of the entries in `struct kvm_cpuid2` (after nent and padding).
pub const KVM_CPUID2_HEADER_SIZE: usize = 8;

/// The host (operator) policy (`enum sevmig_host_policy`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum HostPolicy {
    /// Offer the features; migrate once the guest writes READY.
    Allow = 1,
    /// Do not offer the features: no migration.
    Deny = 2,
    /// Offer them and treat the guest as ready without READY (see
    /// docs/integration.md before using it).
    OverrideReady = 3,
}

/// A VM's lifecycle state (`enum sevmig_vm_state`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum VmState {
    Live = 1,
    Sending = 2,
    Sent = 3,
    Moved = 4,
    Dead = 5,
    Incoming = 6,
}

impl VmState {
    /// `sevmig_vm_state_name()`: "live", "sent", ...
    pub fn name(self) -> &'static str {
        // SAFETY: any value is accepted; the result is static.
        unsafe { static_str(sys::sevmig_vm_state_name(self as u32)) }
    }
}

impl TryFrom<u32> for VmState {
    type Error = Error;
    fn try_from(v: u32) -> Result<VmState> {
        Ok(match v {
            sys::SEVMIG_VM_LIVE => VmState::Live,
            sys::SEVMIG_VM_SENDING => VmState::Sending,
            sys::SEVMIG_VM_SENT => VmState::Sent,
            sys::SEVMIG_VM_MOVED => VmState::Moved,
            sys::SEVMIG_VM_DEAD => VmState::Dead,
            sys::SEVMIG_VM_INCOMING => VmState::Incoming,
            _ => return Err(Error::from_code(-libc::EPROTO)),
        })
    }
}

/// What [`Vm::handle_exit`] did with an exit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ExitResult {
    /// Answered in kvm_run: re-enter the vCPU.
    Handled,
    /// Not a migration exit: the VMM handles it.
    NotOurs,
}

/// How a VM handle is built (`struct sevmig_vm_opts`, without a platform:
/// negotiation and page tracking need none).
#[derive(Clone, Copy, Debug)]
pub struct VmOptions {
    /// The VM's descriptor, borrowed: never closed by libsevmig.
    pub vm_fd: RawFd,
    /// Guest physical address width in bits; 0 means 52.
    pub phys_bits: u32,
    pub host_policy: HostPolicy,
}

impl VmOptions {
    /// Options for `vm_fd` with 52-bit addresses and the ALLOW policy.
    pub fn new(vm_fd: RawFd) -> VmOptions {
        VmOptions {
            vm_fd,
            phys_bits: 0,
            host_policy: HostPolicy::Allow,
        }
    }
}

/// One VM's SEV migration state (`struct sevmig_vm`). Thread-safe as the C
/// API documents; exit handling runs on many vCPU threads at once.
pub struct Vm<'ctx> {
    raw: NonNull<sys::sevmig_vm>,
    _ctx: PhantomData<&'ctx Context>,
}

// SAFETY: the handle may be used from many threads (vm.h, "Context:").
unsafe impl Send for Vm<'_> {}
unsafe impl Sync for Vm<'_> {}

fn is_aligned(p: *const u8, align: usize) -> bool {
    p as usize % align == 0
}

impl<'ctx> Vm<'ctx> {
    /// Create the handle (`sevmig_vm_new`).
    pub fn new(ctx: &'ctx Context, opts: &VmOptions) -> Result<Vm<'ctx>> {
        let o = sys::sevmig_vm_opts {
            size: std::mem::size_of::<sys::sevmig_vm_opts>() as u32,
            vm_fd: opts.vm_fd,
            phys_bits: opts.phys_bits,
            host_policy: opts.host_policy as u32,
            ..Default::default()
        };
        let mut raw = ptr::null_mut();
        // SAFETY: valid context (outlives 'ctx) and record.
        check(unsafe { sys::sevmig_vm_new(ctx.as_ptr(), &o, &mut raw) })?;
        Ok(Vm {
            raw: NonNull::new(raw).expect("sevmig_vm_new returned 0 and NULL"),
            _ctx: PhantomData,
        })
    }

    /// The C handle, for calls this crate does not wrap.
    pub fn as_ptr(&self) -> *mut sys::sevmig_vm {
        self.raw.as_ptr()
    }

    /// The tracker the hypercall exits feed; it belongs to the handle.
    pub fn tracker(&self) -> Tracker<'_> {
        // SAFETY: non-NULL handle, so the tracker is non-NULL and lives as
        // long as the handle, which the returned borrow cannot outlive.
        let t = unsafe { sys::sevmig_vm_tracker(self.as_ptr()) };
        Tracker::borrowed(NonNull::new(t).expect("a VM handle without a tracker"))
    }

    /// Register a guest RAM region the VMM never migrates through libsevmig
    /// (no host mapping given).
    pub fn ram_add(&self, gpa: u64, size: u64) -> Result<()> {
        // SAFETY: a NULL mapping is never dereferenced.
        unsafe { self.ram_add_mapped(gpa, size, ptr::null_mut()) }
    }

    /// Register a guest RAM region with the VMM's mapping of it.
    ///
    /// # Safety
    /// `hva` must be NULL or map `size` bytes that stay mapped until the
    /// region is removed or the handle dropped: the migration layers read
    /// and write guest pages there.
    pub unsafe fn ram_add_mapped(&self, gpa: u64, size: u64, hva: *mut c_void) -> Result<()> {
        check(sys::sevmig_vm_ram_add(self.as_ptr(), gpa, size, hva, 0))?;
        Ok(())
    }

    /// Unregister a region exactly as added.
    pub fn ram_remove(&self, gpa: u64, size: u64) -> Result<()> {
        check(unsafe { sys::sevmig_vm_ram_remove(self.as_ptr(), gpa, size, 0) })?;
        Ok(())
    }

    /// Make KVM forward the migration's exits, merged with the hypercall
    /// and MSR exit bits the VMM enables itself. Before the first KVM_RUN.
    pub fn enable_exits(&self, vmm_hypercall_mask: u64, vmm_msr_reasons: u32) -> Result<()> {
        check(unsafe {
            sys::sevmig_vm_enable_exits(self.as_ptr(), vmm_hypercall_mask, vmm_msr_reasons, 0)
        })?;
        Ok(())
    }

    /// Install an MSR filter holding only libsevmig's MSR.
    pub fn set_msr_filter(&self) -> Result<()> {
        // SAFETY: NULL means "no VMM filter".
        unsafe { self.set_msr_filter_merged(ptr::null()) }
    }

    /// Merge libsevmig's MSR into the VMM's filter and install the result.
    ///
    /// # Safety
    /// `vmm_filter` must be NULL or point to a `struct kvm_msr_filter`
    /// (392 bytes) whose range bitmaps are valid for their `nmsrs` bits.
    pub unsafe fn set_msr_filter_merged(&self, vmm_filter: *const c_void) -> Result<()> {
        check(sys::sevmig_vm_set_msr_filter(self.as_ptr(), vmm_filter, 0))?;
        Ok(())
    }

    /// Set or clear the migration feature bits in the VMM's CPUID table
    /// (`struct kvm_cpuid2` bytes: u32 nent, u32 padding, nent entries of
    /// 40 bytes; 4-byte aligned). Returns whether the features are offered.
    pub fn cpuid_apply(&self, kvm_cpuid2: &mut [u8]) -> Result<bool> {
        if kvm_cpuid2.len() < KVM_CPUID2_HEADER_SIZE || !is_aligned(kvm_cpuid2.as_ptr(), 4) {
            return einval();
        }
        let nent = u32::from_ne_bytes(kvm_cpuid2[..4].try_into().unwrap()) as usize;
        // The library refuses more than 256 entries before reading them;
        // below that, the slice must hold every entry it will read.
        if nent <= 256 && kvm_cpuid2.len() < KVM_CPUID2_HEADER_SIZE + nent * KVM_CPUID_ENTRY2_SIZE {
            return einval();
        }
        // SAFETY: the slice covers the table the library reads and writes.
        let r = check(unsafe {
            sys::sevmig_vm_cpuid_apply(self.as_ptr(), kvm_cpuid2.as_mut_ptr().cast(), 0)
        })?;
        Ok(r == 1)
    }

    /// Handle a vCPU exit if it belongs to migration. `kvm_run` is the vCPU's
    /// `struct kvm_run` (at least [`KVM_RUN_SIZE`] bytes, 8-byte aligned, as
    /// its mmap is); a handled exit is answered in it.
    pub fn handle_exit(&self, kvm_run: &mut [u8]) -> Result<ExitResult> {
        if kvm_run.len() < KVM_RUN_SIZE || !is_aligned(kvm_run.as_ptr(), 8) {
            return einval();
        }
        // SAFETY: the slice is a whole, aligned kvm_run we may write.
        let r = check(unsafe {
            sys::sevmig_vm_handle_exit(self.as_ptr(), kvm_run.as_mut_ptr().cast(), 0)
        })? as u32;
        match r {
            sys::SEVMIG_EXIT_HANDLED => Ok(ExitResult::Handled),
            sys::SEVMIG_EXIT_NOT_OURS => Ok(ExitResult::NotOurs),
            _ => Err(Error::from_code(-libc::EPROTO)),
        }
    }

    /// Apply one KVM_HC_MAP_GPA_RANGE call received some other way (an
    /// SEV-ES GHCB handler). Returns the value for the guest's RAX.
    pub fn map_gpa_range(&self, gpa: u64, npages: u64, attrs: u64, long_mode: bool) -> Result<u64> {
        let mut hc = 0;
        let flags = if long_mode { sys::SEVMIG_MAP_GPA_F_LONG_MODE } else { 0 };
        check(unsafe {
            sys::sevmig_vm_map_gpa_range(self.as_ptr(), gpa, npages, attrs, flags, &mut hc)
        })?;
        Ok(hc)
    }

    /// The guest's MSR_KVM_MIGRATION_CONTROL.
    pub fn migration_control(&self) -> Result<u64> {
        let mut v = 0;
        check(unsafe { sys::sevmig_vm_migration_control(self.as_ptr(), &mut v) })?;
        Ok(v)
    }

    /// Restore MSR_KVM_MIGRATION_CONTROL on a destination.
    pub fn set_migration_control(&self, val: u64) -> Result<()> {
        check(unsafe { sys::sevmig_vm_set_migration_control(self.as_ptr(), val, 0) })?;
        Ok(())
    }

    /// Declare a range the platform keeps shared across resets.
    pub fn firmware_shared_add(&self, gpa: u64, size: u64) -> Result<()> {
        check(unsafe { sys::sevmig_vm_firmware_shared_add(self.as_ptr(), gpa, size, 0) })?;
        Ok(())
    }

    /// The VM was reset (vCPUs stopped).
    pub fn reset(&self) -> Result<()> {
        check(unsafe { sys::sevmig_vm_reset(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// The guest's 32-bit SEV policy, for the readiness verdict.
    pub fn set_guest_policy(&self, policy: u32) -> Result<()> {
        check(unsafe { sys::sevmig_vm_set_guest_policy(self.as_ptr(), policy, 0) })?;
        Ok(())
    }

    /// May this VM migrate now? Empty reasons mean yes.
    pub fn readiness(&self) -> Result<Reasons> {
        let mut r = 0;
        check(unsafe { sys::sevmig_vm_readiness(self.as_ptr(), &mut r, 0) })?;
        Ok(Reasons(r))
    }

    /// The lifecycle state.
    pub fn state(&self) -> Result<VmState> {
        let mut s = 0;
        check(unsafe { sys::sevmig_vm_state(self.as_ptr(), &mut s) })?;
        VmState::try_from(s)
    }

    /// Register a vCPU (after KVM_CREATE_VCPU and mmap of its kvm_run).
    ///
    /// # Safety
    /// `kvm_run` must be the vCPU's mapped `struct kvm_run` and stay mapped
    /// until [`Vm::vcpu_remove`] or the handle is dropped: pausing writes
    /// to it and re-enters the vCPU.
    pub unsafe fn vcpu_add(&self, vcpu_fd: RawFd, kvm_run: *mut c_void) -> Result<()> {
        check(sys::sevmig_vm_vcpu_add(self.as_ptr(), vcpu_fd, kvm_run, 0))?;
        Ok(())
    }

    /// Forget a vCPU (hot-unplug).
    pub fn vcpu_remove(&self, vcpu_fd: RawFd) -> Result<()> {
        check(unsafe { sys::sevmig_vm_vcpu_remove(self.as_ptr(), vcpu_fd, 0) })?;
        Ok(())
    }

    /// Number of registered vCPUs.
    pub fn vcpu_count(&self) -> Result<u32> {
        let mut n = 0;
        check(unsafe { sys::sevmig_vm_vcpu_count(self.as_ptr(), &mut n) })?;
        Ok(n)
    }

    /// Finish an exit the kernel still holds, before saving vCPU state.
    ///
    /// # Safety
    /// `vcpu_fd` must be a vCPU of this VM that no thread runs, and
    /// `kvm_run` its mapped `struct kvm_run`.
    pub unsafe fn complete_pending(&self, vcpu_fd: RawFd, kvm_run: *mut c_void) -> Result<()> {
        check(sys::sevmig_vm_complete_pending(self.as_ptr(), vcpu_fd, kvm_run, 0))?;
        Ok(())
    }

    /// Every vCPU thread has stopped: complete their pending exits and mark
    /// the handle paused.
    pub fn pause(&self) -> Result<()> {
        check(unsafe { sys::sevmig_vm_pause(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// May the vCPUs run again? An error means they must not.
    pub fn resume(&self) -> Result<()> {
        check(unsafe { sys::sevmig_vm_resume(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// Whether the handle is marked paused.
    pub fn paused(&self) -> Result<bool> {
        let mut p = 0;
        check(unsafe { sys::sevmig_vm_paused(self.as_ptr(), &mut p) })?;
        Ok(p != 0)
    }
}

impl Drop for Vm<'_> {
    fn drop(&mut self) {
        // SAFETY: the tracker borrows from &self cannot outlive us.
        unsafe { sys::sevmig_vm_free(self.raw.as_ptr()) }
    }
}
