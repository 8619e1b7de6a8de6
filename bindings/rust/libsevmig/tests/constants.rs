// SPDX-License-Identifier: MIT
//! Every 64-bit constant of the header arrives 64-bit in Rust: bindgen
//! would type `(1ULL << 0)` as u32 by its value; build.rs types every ULL
//! macro u64. A reason bit above 31 and the tracker's maximum frame are
//! checked against the library itself.

use std::mem::size_of_val;

use libsevmig::{reason_string, sys, Reasons, Tracker};

#[test]
fn reason_bits_are_u64_low_and_high() {
    // Low bits too: a mask built from them must not be truncated.
    assert_eq!(size_of_val(&sys::SEVMIG_REASON_NO_KVM), 8);
    assert_eq!(size_of_val(&sys::SEVMIG_REASON_TARGET_CERT_LINK), 8);
    assert_eq!(size_of_val(&sys::SEVMIG_REASON_EXITS_NOT_ENABLED), 8);
    assert_eq!(size_of_val(&sys::SEVMIG_REASON_VM_NOT_LIVE), 8);
    assert_eq!(sys::SEVMIG_REASON_VM_NOT_LIVE, 1u64 << 38);
    assert_eq!(sys::SEVMIG_REASON_EXITS_NOT_ENABLED, 1u64 << 32);
    let mask: u64 = sys::SEVMIG_REASON_NO_KVM | sys::SEVMIG_REASON_VM_NOT_LIVE;
    assert_eq!(Reasons(mask).iter().count(), 2);
}

#[test]
fn high_reason_bit_is_known_to_the_library() {
    let s = reason_string(sys::SEVMIG_REASON_VM_NOT_LIVE);
    assert_ne!(s, "unknown reason");
    assert_ne!(s, reason_string(sys::SEVMIG_REASON_VM_NOT_LIVE >> 32));
    // The same bit cut to 32 bits is no reason at all.
    assert_eq!(reason_string((sys::SEVMIG_REASON_VM_NOT_LIVE as u32) as u64), "unknown reason");
}

#[test]
fn tracker_max_gfn_is_u64_and_accepted() {
    assert_eq!(size_of_val(&sys::SEVMIG_TRACKER_MAX_GFN), 8);
    assert_eq!(sys::SEVMIG_TRACKER_MAX_GFN, 1u64 << 40);
    let t = Tracker::new(None, sys::SEVMIG_TRACKER_MAX_GFN).expect("MAX_GFN accepted");
    let last = sys::SEVMIG_TRACKER_MAX_GFN - 1;
    t.set_shared(last, 1).unwrap();
    assert_eq!(t.stats().unwrap().max_gfn, 1u64 << 40);
    assert_eq!(t.shared_pages().unwrap(), 1);
    let e = Tracker::new(None, sys::SEVMIG_TRACKER_MAX_GFN + 1).err().unwrap();
    assert_eq!(e.code(), -libc::EINVAL);
}

#[test]
fn flags_and_enums_stay_32_bit() {
    assert_eq!(size_of_val(&sys::SEVMIG_HOST_KVM), 4);
    assert_eq!(size_of_val(&sys::SEVMIG_VM_LIVE), 4);
}
