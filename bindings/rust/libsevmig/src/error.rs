// SPDX-License-Identifier: MIT
//! Errors: the negative errno a libsevmig call returned, with its text.

use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};

use libsevmig_sys as sys;

/// An error returned by libsevmig: a negative errno value.
///
/// [`Error::message`] is `sevmig_strerror()`'s text, which describes errors
/// with a meaning particular to libsevmig in its own terms. The detail (which
/// argument, which device) went to the context's log callback when the call
/// failed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    code: i32,
}

/// The result of a libsevmig call.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error from a return value or errno; either sign is accepted and
    /// stored negative, as the C API returns it. 0 becomes -EINVAL: it is
    /// not an error, and a caller that builds one from 0 has a bug.
    pub fn from_code(code: i32) -> Error {
        let code = match code {
            0 => -libc::EINVAL,
            c if c > 0 => -c,
            c => c,
        };
        Error { code }
    }

    /// The negative errno, as the C function returned it (e.g. -22).
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The positive errno (e.g. 22 for EINVAL).
    pub fn errno(&self) -> i32 {
        -self.code
    }

    /// `sevmig_strerror()` of the code: a static sentence, never empty.
    pub fn message(&self) -> &'static str {
        // SAFETY: sevmig_strerror accepts any int and returns a static
        // NUL-terminated string, never NULL.
        unsafe { static_str(sys::sevmig_strerror(self.code)) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (errno {})", self.message(), self.errno())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("code", &self.code)
            .field("message", &self.message())
            .finish()
    }
}

impl std::error::Error for Error {}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> std::io::Error {
        std::io::Error::from_raw_os_error(e.errno())
    }
}

/// A C return value: negative is an error, anything else is the result.
pub(crate) fn check(ret: c_int) -> Result<c_int> {
    if ret < 0 {
        Err(Error::from_code(ret))
    } else {
        Ok(ret)
    }
}

/// An argument the C function would read out of bounds: refused here.
pub(crate) fn einval<T>() -> Result<T> {
    Err(Error::from_code(-libc::EINVAL))
}

/// A static C string from the library as &'static str.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that lives for the
/// whole program (the library's static tables).
pub(crate) unsafe fn static_str(p: *const c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    CStr::from_ptr(p).to_str().unwrap_or("(message is not UTF-8)")
}

/// `sevmig_fw_strerror()`: "NAME: explanation" for an SEV firmware status.
pub fn fw_strerror(status: u32) -> &'static str {
    // SAFETY: any value is accepted; the result is static, never NULL.
    unsafe { static_str(sys::sevmig_fw_strerror(status)) }
}
