// SPDX-License-Identifier: MIT
//! Verdicts: a mask of SEVMIG_REASON_* bits, 0 meaning "yes".

use std::fmt;

use libsevmig_sys as sys;

use crate::error::static_str;

/// The answer to "may X happen here?": empty means yes, each set bit is one
/// reason for no (`libsevmig_sys::SEVMIG_REASON_*`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct Reasons(pub u64);

impl Reasons {
    /// True when nothing stands in the way.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The raw mask.
    pub fn bits(&self) -> u64 {
        self.0
    }

    /// Whether `reason` (one SEVMIG_REASON_* bit or several) is all set.
    pub fn contains(&self, reason: u64) -> bool {
        reason != 0 && self.0 & reason == reason
    }

    /// Each set bit with its sentence, lowest bit first.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &'static str)> {
        let mask = self.0;
        (0..64)
            .map(|i| 1u64 << i)
            .filter(move |b| mask & b != 0)
            .map(|b| (b, reason_string(b)))
    }
}

/// `sevmig_reason_string()`: the sentence for one reason bit ("unknown
/// reason" unless `reason` is exactly one known bit).
pub fn reason_string(reason: u64) -> &'static str {
    // SAFETY: any value is accepted; the result is static, never NULL.
    unsafe { static_str(sys::sevmig_reason_string(reason)) }
}

impl fmt::Display for Reasons {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("yes");
        }
        f.write_str("no: ")?;
        for (i, (_, s)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}
