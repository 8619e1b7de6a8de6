// SPDX-License-Identifier: MIT
//! The library context: syscall backend, log callback.

use std::ffi::{c_void, CStr};
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};

use libsevmig_sys as sys;

use crate::error::{check, Result};
use crate::probe::HostCaps;

/// Log levels of the context's callback (`enum sevmig_log_level`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum LogLevel {
    /// Every error the library returns is logged at this level first.
    Err = 1,
    Warning = 2,
    Info = 3,
    Debug = 4,
}

impl LogLevel {
    fn from_raw(level: u32) -> LogLevel {
        match level {
            sys::SEVMIG_LOG_ERR => LogLevel::Err,
            sys::SEVMIG_LOG_WARNING => LogLevel::Warning,
            sys::SEVMIG_LOG_INFO => LogLevel::Info,
            // A level added later is at least as chatty as DEBUG.
            _ => LogLevel::Debug,
        }
    }
}

type LogFn = dyn Fn(LogLevel, &str) + Send + Sync + 'static;

/// A libsevmig context (`struct sevmig_ctx`).
///
/// Safe to share between threads, as the C API documents; every object made
/// from it borrows it, so it outlives them.
pub struct Context {
    raw: NonNull<sys::sevmig_ctx>,
    // The callback the C side calls through a pointer to this box: it must
    // keep its address, and live, until sevmig_ctx_free().
    _log: Option<Box<Box<LogFn>>>,
}

// SAFETY: a context is safe to use from many threads at once (common.h,
// "Context:" of sevmig_ctx_new); the log callback is Send + Sync.
unsafe impl Send for Context {}
unsafe impl Sync for Context {}

/// Builds a [`Context`] with a log callback, a level or a syscall backend.
#[derive(Default)]
pub struct ContextBuilder {
    log: Option<Box<LogFn>>,
    level: Option<LogLevel>,
    sys: Option<sys::sevmig_sys_ops>,
}

extern "C" fn log_trampoline(opaque: *mut c_void, level: u32, msg: *const c_char) {
    if opaque.is_null() {
        return;
    }
    // SAFETY: opaque is the Box<LogFn> the Context owns; the library calls
    // this only while the context lives. msg is valid during the call.
    let f = unsafe { &*(opaque as *const Box<LogFn>) };
    let text = if msg.is_null() {
        "".into()
    } else {
        unsafe { CStr::from_ptr(msg) }.to_string_lossy()
    };
    // A panic must never unwind into C: it is dropped here.
    let _ = catch_unwind(AssertUnwindSafe(|| f(LogLevel::from_raw(level), &text)));
}

impl ContextBuilder {
    /// Receive the library's log messages. Every error a call returns was
    /// first logged at [`LogLevel::Err`] with its detail. Called from
    /// whichever thread hit the event.
    pub fn log<F>(mut self, f: F) -> Self
    where
        F: Fn(LogLevel, &str) + Send + Sync + 'static,
    {
        self.log = Some(Box::new(f));
        self
    }

    /// Highest level delivered (default: [`LogLevel::Warning`]).
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.level = Some(level);
        self
    }

    /// Route the library's system calls through `ops` (a broker, a sandbox,
    /// the simulator). The table is copied.
    ///
    /// # Safety
    /// `ops.opaque` and every function in `ops` must stay valid until the
    /// context is dropped, and the functions must be callable from several
    /// threads at once, as `struct sevmig_sys_ops` requires.
    pub unsafe fn sys_ops(mut self, ops: &sys::sevmig_sys_ops) -> Self {
        self.sys = Some(*ops);
        self
    }

    /// Create the context (`sevmig_ctx_new`).
    pub fn build(self) -> Result<Context> {
        let log: Option<Box<Box<LogFn>>> = self.log.map(Box::new);
        let opts = sys::sevmig_ctx_opts {
            size: std::mem::size_of::<sys::sevmig_ctx_opts>() as u32,
            sys: self
                .sys
                .as_ref()
                .map_or(ptr::null(), |s| s as *const sys::sevmig_sys_ops),
            log: log.as_ref().map(|_| log_trampoline as _),
            log_opaque: log
                .as_ref()
                .map_or(ptr::null_mut(), |b| &**b as *const Box<LogFn> as *mut c_void),
            log_level: self.level.map_or(0, |l| l as u32),
            ..Default::default()
        };
        let mut raw = ptr::null_mut();
        // SAFETY: opts is a valid record of the size we state; the sys
        // table is copied by the call; the log box outlives the context.
        check(unsafe { sys::sevmig_ctx_new(&opts, &mut raw) })?;
        Ok(Context {
            raw: NonNull::new(raw).expect("sevmig_ctx_new returned 0 and NULL"),
            _log: log,
        })
    }
}

impl Context {
    /// A context on the real kernel that logs nothing.
    pub fn new() -> Result<Context> {
        ContextBuilder::default().build()
    }

    /// Start building a context with options.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// The C handle, for calls this crate does not wrap.
    pub fn as_ptr(&self) -> *mut sys::sevmig_ctx {
        self.raw.as_ptr()
    }

    /// What this host offers for SEV live migration (`sevmig_host_probe`).
    /// Missing devices are findings in the result, not errors.
    pub fn host_probe(&self) -> Result<HostCaps> {
        let mut caps = sys::sevmig_host_caps {
            size: std::mem::size_of::<sys::sevmig_host_caps>() as u32,
            ..Default::default()
        };
        // SAFETY: valid context and record.
        check(unsafe { sys::sevmig_host_probe(self.as_ptr(), &mut caps, 0) })?;
        Ok(HostCaps::from_raw(caps))
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: every object made from the context borrows it, so none is
        // left; the log box is dropped after this call.
        unsafe { sys::sevmig_ctx_free(self.raw.as_ptr()) }
    }
}
