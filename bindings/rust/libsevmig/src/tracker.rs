// SPDX-License-Identifier: MIT
//! The page-state tracker: shared frames, changes since the last sync, and
//! their stream encoding.

use std::convert::TryFrom;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};

use libsevmig_sys as sys;

use crate::ctx::Context;
use crate::error::{check, Error, Result};

/// The state of a guest frame (`enum sevmig_page_state`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PageState {
    Private = 1,
    Shared = 2,
}

impl TryFrom<u32> for PageState {
    type Error = Error;
    fn try_from(v: u32) -> Result<PageState> {
        match v {
            sys::SEVMIG_PAGE_PRIVATE => Ok(PageState::Private),
            sys::SEVMIG_PAGE_SHARED => Ok(PageState::Shared),
            _ => Err(Error::from_code(-libc::EPROTO)),
        }
    }
}

/// The kind of an encoded record (SEVMIG_TRACKER_RECORD_*).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RecordKind {
    /// Part of the full set.
    Full = 1,
    /// A changed range from a sync.
    Delta = 2,
}

impl TryFrom<u32> for RecordKind {
    type Error = Error;
    fn try_from(v: u32) -> Result<RecordKind> {
        match v {
            sys::SEVMIG_TRACKER_RECORD_FULL => Ok(RecordKind::Full),
            sys::SEVMIG_TRACKER_RECORD_DELTA => Ok(RecordKind::Delta),
            _ => Err(Error::from_code(-libc::EPROTO)),
        }
    }
}

/// One batch of [`Tracker::runs`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Runs {
    /// Run ends written to the caller's slice.
    pub count: usize,
    /// State of the first run; states alternate after it.
    pub first_state: PageState,
    /// Update sequence number of the snapshot.
    pub seq: u64,
}

/// The result of one [`Tracker::sync`] call.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SyncInfo {
    /// The round has ranges left: call again.
    pub more: bool,
    /// The round's generation (1 for the first sync).
    pub generation: u64,
    /// [start, end) pairs written to the caller's slice.
    pub nr_ranges: usize,
    /// Frames in those ranges.
    pub pages: u64,
}

/// A page-state tracker (`struct sevmig_tracker`). Thread-safe: every method
/// takes `&self`. Either owned (made by [`Tracker::new`]) or the one a VM
/// handle holds ([`crate::Vm::tracker`]).
pub struct Tracker<'a> {
    raw: NonNull<sys::sevmig_tracker>,
    owned: bool,
    _life: PhantomData<&'a ()>,
}

// SAFETY: every tracker function may be called from any thread (tracker.h).
unsafe impl Send for Tracker<'_> {}
unsafe impl Sync for Tracker<'_> {}

fn clamp_len(n: usize, max: usize) -> u32 {
    n.min(max) as u32
}

impl<'a> Tracker<'a> {
    /// A tracker with every page private, for frames below `max_gfn`
    /// (at most `SEVMIG_TRACKER_MAX_GFN`). Errors are logged to `ctx`.
    pub fn new(ctx: Option<&'a Context>, max_gfn: u64) -> Result<Tracker<'a>> {
        let mut raw = ptr::null_mut();
        let c = ctx.map_or(ptr::null_mut(), |c| c.as_ptr());
        // SAFETY: the context (if any) outlives the tracker ('a).
        check(unsafe { sys::sevmig_tracker_new(c, max_gfn, 0, &mut raw) })?;
        Ok(Tracker {
            raw: NonNull::new(raw).expect("sevmig_tracker_new returned 0 and NULL"),
            owned: true,
            _life: PhantomData,
        })
    }

    /// A tracker owned by someone else (a VM handle), valid for 'a.
    pub(crate) fn borrowed(raw: NonNull<sys::sevmig_tracker>) -> Tracker<'a> {
        Tracker {
            raw,
            owned: false,
            _life: PhantomData,
        }
    }

    /// The C handle, for calls this crate does not wrap.
    pub fn as_ptr(&self) -> *mut sys::sevmig_tracker {
        self.raw.as_ptr()
    }

    /// Mark [gfn, gfn + npages) shared.
    pub fn set_shared(&self, gfn: u64, npages: u64) -> Result<()> {
        check(unsafe { sys::sevmig_tracker_set_shared(self.as_ptr(), gfn, npages) })?;
        Ok(())
    }

    /// Mark [gfn, gfn + npages) private.
    pub fn set_private(&self, gfn: u64, npages: u64) -> Result<()> {
        check(unsafe { sys::sevmig_tracker_set_private(self.as_ptr(), gfn, npages) })?;
        Ok(())
    }

    /// Mark every page private (VM reset).
    pub fn reset(&self) -> Result<()> {
        check(unsafe { sys::sevmig_tracker_reset(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// The state of one frame.
    pub fn state(&self, gfn: u64) -> Result<PageState> {
        let mut s = 0;
        check(unsafe { sys::sevmig_tracker_state(self.as_ptr(), gfn, &mut s) })?;
        PageState::try_from(s)
    }

    /// The end of the run of equal state starting at `gfn`, and its state.
    pub fn run_end(&self, gfn: u64) -> Result<(u64, PageState)> {
        let (mut end, mut s) = (0, 0);
        check(unsafe { sys::sevmig_tracker_run_end(self.as_ptr(), gfn, &mut end, &mut s) })?;
        Ok((end, PageState::try_from(s)?))
    }

    /// Classify [gfn, end) into maximal runs: `ends[i]` is the end of run
    /// `i`. Continue from `ends[count - 1]` while it is below `end`.
    pub fn runs(&self, gfn: u64, end: u64, ends: &mut [u64]) -> Result<Runs> {
        let (mut first, mut seq) = (0, 0);
        let max = clamp_len(ends.len(), i32::MAX as usize);
        let n = check(unsafe {
            sys::sevmig_tracker_runs(
                self.as_ptr(),
                gfn,
                end,
                ends.as_mut_ptr(),
                max,
                &mut first,
                &mut seq,
            )
        })?;
        Ok(Runs {
            count: n as usize,
            first_state: PageState::try_from(first)?,
            seq,
        })
    }

    /// Number of shared frames.
    pub fn shared_pages(&self) -> Result<u64> {
        let mut n = 0;
        check(unsafe { sys::sevmig_tracker_shared_pages(self.as_ptr(), &mut n) })?;
        Ok(n)
    }

    /// Start (or restart) the changed-since-sync log: flips from now on
    /// are returned by [`Tracker::sync`], which refuses to run before this.
    pub fn log_start(&self) -> Result<()> {
        check(unsafe { sys::sevmig_tracker_log_start(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// Stop the log and free what it holds.
    pub fn log_stop(&self) -> Result<()> {
        check(unsafe { sys::sevmig_tracker_log_stop(self.as_ptr(), 0) })?;
        Ok(())
    }

    /// Bound what decoded records may make shared to `ranges`, pairs of
    /// [start, end) GFNs (ascending, not overlapping); empty removes it.
    pub fn set_limit(&self, ranges: &[u64]) -> Result<()> {
        if ranges.len() % 2 != 0 || ranges.len() / 2 > u32::MAX as usize {
            return Err(Error::from_code(-libc::EINVAL));
        }
        let ptr = if ranges.is_empty() { std::ptr::null() } else { ranges.as_ptr() };
        check(unsafe {
            sys::sevmig_tracker_set_limit(self.as_ptr(), ptr, (ranges.len() / 2) as u32, 0)
        })?;
        Ok(())
    }

    /// The frames that flipped since the last round, as [start, end) pairs
    /// in `ranges` (`ranges.len() / 2` pairs at most). While
    /// [`SyncInfo::more`] is set, call again to continue the round.
    pub fn sync(&self, ranges: &mut [u64]) -> Result<SyncInfo> {
        let mut info = sys::sevmig_tracker_sync_info {
            size: std::mem::size_of::<sys::sevmig_tracker_sync_info>() as u32,
            ..Default::default()
        };
        let max = clamp_len(ranges.len() / 2, i32::MAX as usize / 2);
        check(unsafe {
            sys::sevmig_tracker_sync(self.as_ptr(), ranges.as_mut_ptr(), max, &mut info, 0)
        })?;
        Ok(SyncInfo {
            more: info.flags & sys::SEVMIG_TRACKER_SYNC_MORE != 0,
            generation: info.generation,
            nr_ranges: info.nr_ranges as usize,
            pages: info.pages,
        })
    }

    /// The tracker's counters.
    pub fn stats(&self) -> Result<sys::sevmig_tracker_stats> {
        let mut st = sys::sevmig_tracker_stats {
            size: std::mem::size_of::<sys::sevmig_tracker_stats>() as u32,
            ..Default::default()
        };
        check(unsafe { sys::sevmig_tracker_stats(self.as_ptr(), &mut st) })?;
        Ok(st)
    }

    /// Encode the state of [gfn, end) into `buf` (at least
    /// `SEVMIG_TRACKER_RECORD_MIN` bytes). Returns the record's length and
    /// where the encoded window stops (`end` when done).
    pub fn encode(&self, kind: RecordKind, gfn: u64, end: u64, buf: &mut [u8]) -> Result<(usize, u64)> {
        let (mut len, mut next) = (0usize, 0u64);
        check(unsafe {
            sys::sevmig_tracker_encode(
                self.as_ptr(),
                kind as u32,
                gfn,
                end,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut len,
                &mut next,
                0,
            )
        })?;
        Ok((len, next))
    }

    /// Apply one record (untrusted input: validated whole first). Returns the
    /// bytes it used (records may be concatenated) and its kind.
    pub fn decode(&self, buf: &[u8]) -> Result<(usize, RecordKind)> {
        let (mut used, mut kind) = (0usize, 0u32);
        check(unsafe {
            sys::sevmig_tracker_decode(
                self.as_ptr(),
                buf.as_ptr().cast(),
                buf.len(),
                &mut used,
                &mut kind,
                0,
            )
        })?;
        Ok((used, RecordKind::try_from(kind)?))
    }
}

impl Drop for Tracker<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: we made it and nobody else holds it.
            unsafe { sys::sevmig_tracker_free(self.raw.as_ptr()) }
        }
    }
}
