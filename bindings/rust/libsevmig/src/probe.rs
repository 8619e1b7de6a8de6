// SPDX-License-Identifier: MIT
//! The host probe's findings.

use std::ops::Deref;

use libsevmig_sys as sys;

use crate::error::{Error, Result};
use crate::reasons::Reasons;

/// What this host offers (`struct sevmig_host_caps`). The raw fields are
/// reachable through `Deref`; the verdicts have typed accessors.
#[derive(Clone, Copy, Debug)]
pub struct HostCaps(sys::sevmig_host_caps);

fn status(s: i32) -> Result<()> {
    if s < 0 {
        Err(Error::from_code(s))
    } else {
        Ok(())
    }
}

impl HostCaps {
    pub(crate) fn from_raw(raw: sys::sevmig_host_caps) -> HostCaps {
        HostCaps(raw)
    }

    /// Whether a SEVMIG_HOST_* flag is set.
    pub fn has(&self, flag: u32) -> bool {
        flag != 0 && self.0.flags & flag == flag
    }

    /// Opening /dev/kvm.
    pub fn kvm_status(&self) -> Result<()> {
        status(self.0.kvm_status)
    }

    /// Opening /dev/sev read-write.
    pub fn sev_device_status(&self) -> Result<()> {
        status(self.0.sev_dev_status)
    }

    /// Plain-SEV migration to another host.
    pub fn cross_host(&self) -> Reasons {
        Reasons(self.0.cross_host_reasons)
    }

    /// Moving an encryption context to another VM of this host.
    pub fn intra_host(&self) -> Reasons {
        Reasons(self.0.intra_host_reasons)
    }

    /// Mirror VMs.
    pub fn mirror(&self) -> Reasons {
        Reasons(self.0.mirror_reasons)
    }

    /// SEV-ES migration to another host (never possible on upstream KVM).
    pub fn es_cross_host(&self) -> Reasons {
        Reasons(self.0.es_cross_host_reasons)
    }
}

impl Deref for HostCaps {
    type Target = sys::sevmig_host_caps;
    fn deref(&self) -> &sys::sevmig_host_caps {
        &self.0
    }
}
