// SPDX-License-Identifier: MIT
//! The host probe on this machine, the context's log callback and the error
//! type, against the library just built.

use std::ffi::CStr;
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::{Arc, Mutex};

use libsevmig::{sys, Context, LogLevel, Vm, VmOptions};

#[test]
fn runs_against_the_library_of_this_header() {
    let header = CStr::from_bytes_with_nul(sys::SEVMIG_VERSION_STRING).unwrap();
    assert_eq!(libsevmig::version_string(), header.to_str().unwrap());
    assert_eq!(libsevmig::version(), sys::SEVMIG_VERSION_NUMBER);
}

#[test]
fn probe_matches_this_machine() {
    let ctx = Context::new().unwrap();
    let caps = ctx.host_probe().unwrap();
    let kvm_opens = OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok();

    if kvm_opens {
        assert!(caps.has(sys::SEVMIG_HOST_KVM), "flags {:#x}", caps.flags);
        caps.kvm_status().unwrap();
        assert_eq!(caps.kvm_api_version, 12);
        assert!(!caps.cross_host().contains(sys::SEVMIG_REASON_NO_KVM));
    } else {
        assert!(!caps.has(sys::SEVMIG_HOST_KVM));
        assert!(caps.kvm_status().is_err());
        assert!(caps.cross_host().contains(sys::SEVMIG_REASON_NO_KVM));
    }
    if !Path::new("/dev/sev").exists() {
        let e = caps.sev_device_status().unwrap_err();
        assert_eq!(e.code(), -libc::ENOENT);
        assert!(caps.cross_host().contains(sys::SEVMIG_REASON_NO_SEV_DEVICE));
    }
    // Upstream KVM cannot migrate SEV-ES guests across hosts.
    assert!(!caps.es_cross_host().is_empty());
    for (bit, text) in caps.cross_host().iter().chain(caps.es_cross_host().iter()) {
        assert_ne!(text, "unknown reason", "bit {:#x}", bit);
    }
    let shown = caps.es_cross_host().to_string();
    assert!(shown.starts_with("no: "), "{}", shown);
}

#[test]
fn errors_carry_errno_and_strerror_and_are_logged() {
    let log: Arc<Mutex<Vec<(LogLevel, String)>>> = Arc::default();
    let sink = Arc::clone(&log);
    let ctx = Context::builder()
        .log(move |level, msg| sink.lock().unwrap().push((level, msg.to_string())))
        .log_level(LogLevel::Debug)
        .build()
        .unwrap();

    let e = Vm::new(&ctx, &VmOptions::new(-1)).err().expect("vm_fd -1 is refused");
    assert_eq!(e.code(), -libc::EINVAL);
    assert_eq!(e.errno(), libc::EINVAL);
    let c = unsafe { CStr::from_ptr(sys::sevmig_strerror(-libc::EINVAL)) };
    assert_eq!(e.message(), c.to_str().unwrap());
    assert_eq!(e.to_string(), format!("{} (errno 22)", e.message()));
    let io: std::io::Error = e.into();
    assert_eq!(io.raw_os_error(), Some(libc::EINVAL));

    let log = log.lock().unwrap();
    assert!(
        log.iter().any(|(l, m)| *l == LogLevel::Err && m.contains("vm_fd -1")),
        "no error logged: {:?}",
        *log
    );
}

#[test]
fn a_panicking_log_callback_does_not_unwind_into_c() {
    let ctx = Context::builder().log(|_, _| panic!("log callback panics")).build().unwrap();
    let e = Vm::new(&ctx, &VmOptions::new(-1)).err().unwrap();
    assert_eq!(e.code(), -libc::EINVAL);
}

#[test]
fn libsevmig_specific_errors_are_described_in_its_terms() {
    let e = libsevmig::Error::from_code(-libc::E2BIG);
    assert!(e.message().contains("newer"), "{}", e.message());
    assert_eq!(libsevmig::Error::from_code(libc::E2BIG), e);
    assert!(libsevmig::fw_strerror(4).starts_with("INVALID_LEN"));
}
