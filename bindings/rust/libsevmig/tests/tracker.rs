// SPDX-License-Identifier: MIT
//! The page-state tracker through the safe wrapper.

use libsevmig::{sys, PageState, RecordKind, Tracker};

const MAX: u64 = 1 << 20;

#[test]
fn states_runs_and_counts() {
    let t = Tracker::new(None, MAX).unwrap();
    assert_eq!(t.state(0).unwrap(), PageState::Private);
    t.set_shared(10, 5).unwrap();
    t.set_shared(100, 50).unwrap();
    t.set_private(120, 10).unwrap();
    assert_eq!(t.shared_pages().unwrap(), 5 + 40);
    assert_eq!(t.state(12).unwrap(), PageState::Shared);
    assert_eq!(t.state(125).unwrap(), PageState::Private);
    assert_eq!(t.run_end(0).unwrap(), (10, PageState::Private));
    assert_eq!(t.run_end(10).unwrap(), (15, PageState::Shared));

    let mut ends = [0u64; 3];
    let r = t.runs(0, 200, &mut ends).unwrap();
    assert_eq!(r.count, 3);
    assert_eq!(r.first_state, PageState::Private);
    assert_eq!(ends, [10, 15, 100]);
    // Continue where the batch stopped.
    let r2 = t.runs(ends[2], 200, &mut ends).unwrap();
    assert_eq!(r2.first_state, PageState::Shared);
    assert_eq!(&ends[..r2.count], &[120, 130, 150, 200][..r2.count]);
    assert_eq!(r2.seq, r.seq);
}

#[test]
fn errors_are_the_documented_errno() {
    let t = Tracker::new(None, MAX).unwrap();
    assert_eq!(t.set_shared(0, 0).unwrap_err().code(), -libc::EINVAL);
    assert_eq!(t.set_shared(MAX - 1, 2).unwrap_err().code(), -libc::ERANGE);
    assert_eq!(t.state(MAX).unwrap_err().code(), -libc::ERANGE);
    let mut none: [u64; 0] = [];
    assert_eq!(t.runs(0, 10, &mut none).unwrap_err().code(), -libc::EINVAL);
    assert_eq!(t.shared_pages().unwrap(), 0, "nothing changed on error");
}

#[test]
fn sync_rounds() {
    let t = Tracker::new(None, MAX).unwrap();
    let mut ranges = [0u64; 2];
    // Sync refuses to run before the log is on (docs/tracker.md).
    assert_eq!(t.sync(&mut ranges).unwrap_err().code(), -libc::EPROTO);
    t.set_shared(1000, 1).unwrap();
    t.log_start().unwrap();
    let a = t.sync(&mut ranges).unwrap();
    assert_eq!((a.generation, a.nr_ranges, a.more), (1, 0, false), "flips before the log are not in it");
    t.set_shared(10, 5).unwrap();
    t.set_shared(40, 1).unwrap();
    // One pair per call: drain the round while MORE is set.
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let r = t.sync(&mut ranges).unwrap();
        assert_eq!(r.generation, 2);
        assert!(r.nr_ranges <= 1);
        if r.nr_ranges == 1 {
            got.push((ranges[0], ranges[1]));
        }
        pages += r.pages;
        if !r.more {
            break;
        }
        assert!(got.len() <= 2, "MORE never clears");
    }
    assert_eq!(got, [(10, 15), (40, 41)]);
    assert_eq!(pages, 6);
    let d = t.sync(&mut ranges).unwrap();
    assert_eq!((d.generation, d.nr_ranges), (3, 0));
    t.log_stop().unwrap();
    assert_eq!(t.sync(&mut ranges).unwrap_err().code(), -libc::EPROTO);
}

#[test]
fn decode_limit() {
    let src = Tracker::new(None, MAX).unwrap();
    src.set_shared(100, 10).unwrap();
    let mut buf = vec![0u8; 4096];
    let (len, _) = src.encode(RecordKind::Full, 0, MAX, &mut buf).unwrap();
    let dst = Tracker::new(None, MAX).unwrap();
    dst.set_limit(&[0, 50]).unwrap();
    assert_eq!(dst.decode(&buf[..len]).unwrap_err().code(), -libc::ERANGE, "outside the limit");
    assert_eq!(dst.shared_pages().unwrap(), 0, "refused whole");
    assert_eq!(dst.set_limit(&[0]).unwrap_err().code(), -libc::EINVAL, "odd length");
    assert_eq!(dst.set_limit(&[50, 10]).unwrap_err().code(), -libc::EINVAL, "empty range");
    dst.set_limit(&[0, 200]).unwrap();
    dst.decode(&buf[..len]).unwrap();
    assert_eq!(dst.shared_pages().unwrap(), 10);
    dst.set_limit(&[]).unwrap();
}

#[test]
fn encode_decode_round_trip_and_hostile_input() {
    let src = Tracker::new(None, MAX).unwrap();
    for i in 0..100u64 {
        src.set_shared(i * 7, 3).unwrap();
    }
    let dst = Tracker::new(None, MAX).unwrap();
    dst.set_shared(5000, 10).unwrap(); // overwritten by the full set
    let mut buf = vec![0u8; sys::SEVMIG_TRACKER_RECORD_MIN as usize];
    let mut gfn = 0;
    let mut records = 0;
    while gfn < MAX {
        let (len, next) = src.encode(RecordKind::Full, gfn, MAX, &mut buf).unwrap();
        assert!(next > gfn);
        let (used, kind) = dst.decode(&buf[..len]).unwrap();
        assert_eq!((used, kind), (len, RecordKind::Full));
        gfn = next;
        records += 1;
    }
    assert!(records > 1, "a 64-byte buffer needs several records");
    assert_eq!(dst.shared_pages().unwrap(), src.shared_pages().unwrap());
    assert_eq!(dst.state(5000).unwrap(), PageState::Private);
    assert_eq!(dst.state(7 * 99 + 2).unwrap(), PageState::Shared);

    let mut junk = buf.clone();
    junk[0] ^= 0xff;
    assert_eq!(dst.decode(&junk).unwrap_err().code(), -libc::EBADMSG);
    assert_eq!(dst.decode(&[]).unwrap_err().code(), -libc::EBADMSG);
    let other = Tracker::new(None, MAX * 2).unwrap();
    let (len, _) = src.encode(RecordKind::Delta, 0, 64, &mut buf).unwrap();
    assert_eq!(other.decode(&buf[..len]).unwrap_err().code(), -libc::EINVAL);
    let mut small = [0u8; 16];
    assert_eq!(src.encode(RecordKind::Full, 0, 1, &mut small).unwrap_err().code(), -libc::ENOSPC);
}

#[test]
fn shared_between_threads() {
    let t = Tracker::new(None, MAX).unwrap();
    std::thread::scope(|s| {
        for k in 0..4u64 {
            let t = &t;
            s.spawn(move || {
                for i in 0..256u64 {
                    t.set_shared(k * 4096 + i * 2, 1).unwrap();
                }
            });
        }
    });
    assert_eq!(t.shared_pages().unwrap(), 4 * 256);
}
