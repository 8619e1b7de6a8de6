// SPDX-License-Identifier: MIT
//! Safe Rust wrapper of libsevmig, for VMMs written in Rust (crosvm,
//! cloud-hypervisor and the like): what such a VMM calls first.
//!
//! ```no_run
//! use libsevmig::{Context, HostPolicy, Vm, VmOptions, ExitResult};
//! # fn vm_fd() -> i32 { 3 }
//! # fn run_buffer() -> &'static mut [u8] { unimplemented!() }
//! let ctx = Context::new()?;
//! let caps = ctx.host_probe()?;
//! println!("cross-host SEV migration: {}", caps.cross_host());
//!
//! let vm = Vm::new(&ctx, &VmOptions { vm_fd: vm_fd(), phys_bits: 48,
//!                                      host_policy: HostPolicy::Allow })?;
//! vm.ram_add(0, 1 << 30)?;
//! vm.enable_exits(0, 0)?;
//! vm.set_msr_filter()?;
//! // vm.cpuid_apply(&mut cpuid2_bytes)? before KVM_SET_CPUID2, then per exit:
//! let run: &mut [u8] = run_buffer();
//! if vm.handle_exit(run)? == ExitResult::NotOurs { /* the VMM's own */ }
//! # Ok::<(), libsevmig::Error>(())
//! ```
//!
//! Errors are [`Error`]: the negative errno the C call returned and
//! `sevmig_strerror()`'s text; the detail goes to the log callback
//! ([`ContextBuilder::log`]). The raw API is re-exported as [`sys`].

pub use libsevmig_sys as sys;

mod ctx;
mod error;
mod probe;
mod reasons;
mod tracker;
mod vm;

pub use ctx::{Context, ContextBuilder, LogLevel};
pub use error::{fw_strerror, Error, Result};
pub use probe::HostCaps;
pub use reasons::{reason_string, Reasons};
pub use tracker::{PageState, RecordKind, Runs, SyncInfo, Tracker};
pub use vm::{
    ExitResult, HostPolicy, Vm, VmOptions, VmState, KVM_CPUID2_HEADER_SIZE,
    KVM_CPUID_ENTRY2_SIZE, KVM_RUN_SIZE,
};

/// Version of the loaded library, (major << 16) | (minor << 8) | micro.
pub fn version() -> u32 {
    unsafe { sys::sevmig_version() }
}

/// Version of the loaded library as text, e.g. "0.1.0".
pub fn version_string() -> &'static str {
    // SAFETY: a static string.
    unsafe { error::static_str(sys::sevmig_version_string()) }
}
