//! The watcher against real filesystem events, written by the test and by child processes into
//! temporary folders, with short windows (quiet 300 ms, max wait 2 s). Timing assertions check
//! counts and order with generous bounds: the machine running them may be loaded.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use strata_core::error::Kind;
use strata_core::{Cancel, Error};
use strata_watch::{Outcome, Wake, WatchConfig, WatchState};
use support::{sh, short, write_slowly, Watching, MS};

const SILENCE: Duration = Duration::from_millis(1500);
const SOON: Duration = Duration::from_secs(5);

#[test]
fn the_start_call_catches_up_and_its_own_reads_wake_nothing() {
    let w = Watching::start(short());
    let start = w.started();
    assert!(start.folder_existed);
    // The handler read every file; reads are not changes.
    w.assert_no_call(SILENCE, "the handler's own scan woke the watcher");
    let states = w.states();
    assert_eq!(
        states.first(),
        Some(&WatchState::Versioning { wake: Wake::Start })
    );
    assert_eq!(states.last(), Some(&WatchState::Idle), "{states:?}");
    assert!(w.stop() < 200 * MS);
}

#[test]
fn a_slow_writer_gives_one_quiet_call_after_it_stops() {
    let w = Watching::start(short());
    w.started();
    // A file every 100 ms for 1.5 s.
    let (longest_pause, stopped) = write_slowly(&w.dir, "slow", 16, 100 * MS);
    let calls = w.calls_until_silent(SILENCE);
    assert!(calls.iter().all(|c| c.wake == Wake::Quiet), "{calls:?}");
    if longest_pause < 250 * MS {
        assert_eq!(
            calls.len(),
            1,
            "one call for the whole run, not one per file: {calls:?}"
        );
    } else {
        // The machine stalled the writer longer than the quiet window: a call per stall at most.
        assert!(!calls.is_empty() && calls.len() <= 4, "{calls:?}");
    }
    let last = calls.last().expect("a call after the writer stopped");
    assert!(
        last.at >= stopped + 200 * MS,
        "the call came before the folder was quiet"
    );
    // Pending was shown while the writer wrote.
    assert!(w
        .states()
        .iter()
        .any(|s| matches!(s, WatchState::Pending { events, .. } if *events > 0)));
}

#[test]
fn a_burst_from_another_process_is_one_call() {
    // 2,000 files from a shell take about 2 s on a loaded machine: a longer max wait keeps this
    // about the burst, not the cut (tested below).
    let config = WatchConfig {
        max_wait: Duration::from_secs(20),
        ..short()
    };
    let w = Watching::start(config);
    w.started();
    sh(
        &w.dir,
        "mkdir -p burst/a/b && i=0; while [ $i -lt 2000 ]; do echo $i > burst/a/b/f$i; i=$((i+1)); done",
    );
    let calls = w.calls_until_silent(SILENCE);
    assert_eq!(calls.len(), 1, "{calls:?}");
    // An overflow of the kernel's queue would make it a rescan; either is one call.
    assert!(
        matches!(calls[0].wake, Wake::Quiet | Wake::Rescan),
        "{calls:?}"
    );
}

#[test]
fn an_editors_atomic_save_is_one_call() {
    let w = Watching::start(short());
    w.started();
    let tmp = w.dir.join(".labels.csv.swp");
    std::fs::write(&tmp, "id,label\n1,cat\n").expect("write the temporary");
    std::fs::rename(&tmp, w.dir.join("labels.csv")).expect("rename over the file");
    let calls = w.calls_until_silent(SILENCE);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].wake, Wake::Quiet);
}

#[test]
fn writing_without_pause_is_cut_at_max_wait() {
    let w = Watching::start(short());
    w.started();
    let began = Instant::now();
    // A file every 50 ms for 3.5 s, longer than the 2 s max wait.
    let (longest_pause, stopped) = write_slowly(&w.dir, "busy", 70, 50 * MS);
    let calls = w.calls_until_silent(SILENCE);
    let first = calls.first().expect("calls");
    assert_eq!(first.wake, Wake::MaxWait, "{calls:?}");
    assert!(
        first.at < stopped,
        "the max-wait call came only after writing stopped"
    );
    assert!(
        first.at >= began + 1900 * MS,
        "cut before max wait: {:?}",
        first.at - began
    );
    let last = calls.last().expect("calls");
    assert_eq!(last.wake, Wake::Quiet, "{calls:?}");
    assert!(last.at > stopped);
    if longest_pause < 250 * MS {
        assert_eq!(calls.len(), 2, "{calls:?}");
    }
}

#[test]
fn ignored_names_never_wake() {
    let ignore = |p: &Path| p.starts_with("cache") || p.extension().is_some_and(|e| e == "tmp");
    let w = Watching::start(short().with_ignore(ignore));
    w.started();
    std::fs::create_dir_all(w.dir.join("cache/deep")).expect("mkdir");
    for i in 0..50 {
        std::fs::write(w.dir.join(format!("cache/deep/{i}")), "x").expect("write");
        std::fs::write(w.dir.join(format!("part{i}.tmp")), "x").expect("write");
    }
    std::fs::rename(w.dir.join("part0.tmp"), w.dir.join("part1.tmp")).expect("rename");
    std::fs::remove_file(w.dir.join("cache/deep/0")).expect("remove");
    w.assert_no_call(SILENCE, "only ignored paths changed");
    // Still watching: a real change wakes it once.
    std::fs::write(w.dir.join("train/cat3.jpg"), "meow").expect("write");
    let calls = w.calls_until_silent(SILENCE);
    assert_eq!(calls.len(), 1, "{calls:?}");
}

#[test]
fn a_new_nested_folder_is_watched_at_once() {
    let w = Watching::start(short());
    w.started();
    sh(&w.dir, "mkdir -p a/b/c && echo x > a/b/c/f");
    let calls = w.calls_until_silent(SILENCE);
    assert_eq!(calls.len(), 1, "{calls:?}");
    // Only a watch on the new folder can see this write.
    std::fs::write(w.dir.join("a/b/c/g"), "y").expect("write");
    let call = w.expect_call(SOON, "a write in the new nested folder");
    assert_eq!(call.wake, Wake::Quiet);
}

#[test]
fn unstable_files_are_looked_at_again_without_events() {
    let w = Watching::start_with(short(), |_, n| {
        Ok(if n == 0 {
            Outcome::Unstable {
                retry_after: 500 * MS,
            }
        } else {
            Outcome::Done
        })
    });
    let start = w.started();
    let retry = w.expect_call(SOON, "a retry after the unstable outcome");
    assert_eq!(retry.wake, Wake::Retry);
    assert!(retry.at >= start.at + 450 * MS, "retried too early");
    w.assert_no_call(SILENCE, "the retry succeeded");
    let states = w.states();
    assert!(
        states.contains(&WatchState::Waiting {
            reason: "some files were still changing".into(),
            retry_in: 500 * MS
        }),
        "{states:?}"
    );
    assert_eq!(states.last(), Some(&WatchState::Idle));
}

#[test]
fn a_failing_handler_is_retried_with_backoff_and_shown() {
    let w = Watching::start_with(short(), |_, n| {
        if n < 2 {
            Err(Error::Unavailable("the catalog is busy".into()))
        } else {
            Ok(Outcome::Done)
        }
    });
    let start = w.started();
    let first = w.expect_call(Duration::from_secs(8), "the first retry");
    assert_eq!(first.wake, Wake::Retry);
    assert!(first.at >= start.at + 1900 * MS, "first retry after 2 s");
    let second = w.expect_call(Duration::from_secs(12), "the second retry");
    assert_eq!(second.wake, Wake::Retry);
    assert!(second.at >= first.at + 3900 * MS, "second retry after 4 s");
    w.assert_no_call(SILENCE, "the third call succeeded");
    let failures: Vec<Duration> = w
        .states()
        .iter()
        .filter_map(|s| match s {
            WatchState::Failed {
                reason,
                kind,
                retry_in,
            } => {
                assert_eq!(reason, "the catalog is busy");
                assert_eq!(*kind, Kind::Unavailable);
                assert!(s.is_error());
                Some(*retry_in)
            }
            _ => None,
        })
        .collect();
    assert_eq!(failures, [2000 * MS, 4000 * MS]);
    assert_eq!(w.states().last(), Some(&WatchState::Idle));
}

#[test]
fn events_replace_a_pending_retry() {
    let w = Watching::start_with(short(), |_, n| {
        if n == 0 {
            Err(Error::Unavailable("offline".into()))
        } else {
            Ok(Outcome::Done)
        }
    });
    let start = w.started();
    std::fs::write(w.dir.join("new.txt"), "x").expect("write");
    let call = w.expect_call(SOON, "a call after the write");
    assert_eq!(
        call.wake,
        Wake::Quiet,
        "the quiet window took over from the 2 s retry"
    );
    assert!(call.at < start.at + 1900 * MS);
    w.assert_no_call(
        Duration::from_millis(2500),
        "the call succeeded; no retry is left",
    );
}

#[test]
fn a_deleted_folder_is_waited_for_and_watched_again() {
    let w = Watching::start(short());
    w.started();
    std::fs::remove_dir_all(&w.dir).expect("delete the watched folder");
    let missing = w
        .wait_for_state(SOON, |s| matches!(s, WatchState::Missing { .. }))
        .expect("the missing folder is reported");
    assert!(missing.is_error());
    w.assert_no_call(Duration::from_secs(2), "the folder is missing");

    std::fs::create_dir(&w.dir).expect("recreate the folder");
    std::fs::write(w.dir.join("back.txt"), "x").expect("write");
    let call = w.expect_call(Duration::from_secs(15), "a rescan once the folder is back");
    assert_eq!(call.wake, Wake::Rescan);
    assert!(call.folder_existed);
    w.assert_no_call(SILENCE, "one rescan");
    // The new folder is watched.
    std::fs::write(w.dir.join("later.txt"), "x").expect("write");
    let call = w.expect_call(SOON, "a change in the recreated folder");
    assert_eq!(call.wake, Wake::Quiet);
}

#[test]
fn a_folder_replaced_at_once_is_watched_anew() {
    let w = Watching::start(short());
    w.started();
    // Another folder renamed over the (emptied) watched one: the old watches die with the old
    // folder, and the new one is there before any check could find the name missing.
    let incoming = w.parent().join("incoming");
    std::fs::create_dir(&incoming).expect("mkdir");
    std::fs::write(incoming.join("new.csv"), "x").expect("write");
    std::fs::remove_dir_all(w.dir.join("train")).expect("empty the folder");
    std::fs::remove_file(w.dir.join("labels.csv")).expect("empty the folder");
    std::fs::rename(&incoming, &w.dir).expect("rename over the watched folder");
    let call = w.expect_call(SOON, "a rescan of the new folder");
    assert_eq!(call.wake, Wake::Rescan, "{:?}", w.states());
    assert!(call.folder_existed);
    w.assert_no_call(SILENCE, "one rescan");
    assert!(
        !w.states().iter().any(WatchState::is_error),
        "{:?}",
        w.states()
    );
    // Only a watch on the new folder sees this.
    std::fs::write(w.dir.join("later.txt"), "x").expect("write");
    let call = w.expect_call(SOON, "a change in the new folder");
    assert_eq!(call.wake, Wake::Quiet);
}

#[test]
fn a_folder_moved_away_is_missing_until_it_returns() {
    let w = Watching::start(short());
    w.started();
    let away = w.parent().join("away");
    std::fs::rename(&w.dir, &away).expect("move the folder away");
    w.wait_for_state(SOON, |s| matches!(s, WatchState::Missing { .. }))
        .expect("the moved folder is reported missing");
    // Writes in the moved folder are not the watched folder's.
    std::fs::write(away.join("elsewhere.txt"), "x").expect("write");
    w.assert_no_call(Duration::from_secs(1), "the folder is away");
    std::fs::rename(&away, &w.dir).expect("move it back");
    let call = w.expect_call(Duration::from_secs(15), "a rescan once it is back");
    assert_eq!(call.wake, Wake::Rescan);
    assert!(call.folder_existed);
}

#[test]
fn polling_sees_a_change() {
    let config = WatchConfig {
        poll: Some(200 * MS),
        ..short()
    };
    let w = Watching::start(config);
    w.started();
    assert!(matches!(
        w.states().first(),
        Some(WatchState::Polling { interval, .. }) if *interval == 200 * MS
    ));
    w.assert_no_call(Duration::from_secs(1), "nothing changed");
    std::fs::write(w.dir.join("polled.txt"), "x").expect("write");
    let call = w.expect_call(SOON, "the poller sees the new file");
    assert_eq!(call.wake, Wake::Quiet);
    w.assert_no_call(SILENCE, "one call");
}

#[test]
fn a_quiet_folder_is_rescanned_periodically() {
    let config = WatchConfig {
        rescan_every: 700 * MS,
        ..short()
    };
    let w = Watching::start(config);
    let start = w.started();
    let one = w.expect_call(SOON, "a periodic rescan");
    let two = w.expect_call(SOON, "another periodic rescan");
    assert_eq!((one.wake, two.wake), (Wake::Periodic, Wake::Periodic));
    assert!(one.at >= start.at + 650 * MS && two.at >= one.at + 650 * MS);
}

#[test]
fn cancel_returns_promptly_when_idle() {
    let w = Watching::start(short());
    w.started();
    std::thread::sleep(300 * MS);
    let took = w.stop();
    assert!(took < 200 * MS, "took {took:?}");
}

#[test]
fn cancel_returns_promptly_while_changes_are_pending() {
    let config = WatchConfig {
        quiet_for: Duration::from_secs(30),
        ..short()
    };
    let w = Watching::start(config);
    w.started();
    std::fs::write(w.dir.join("pending.txt"), "x").expect("write");
    w.wait_for_state(SOON, |s| matches!(s, WatchState::Pending { .. }))
        .expect("pending shown");
    let took = w.stop();
    assert!(took < 200 * MS, "took {took:?}");
}

#[test]
fn cancel_returns_promptly_while_the_folder_is_missing() {
    let w = Watching::start(short());
    w.started();
    std::fs::remove_dir_all(&w.dir).expect("delete");
    w.wait_for_state(SOON, |s| matches!(s, WatchState::Missing { .. }))
        .expect("missing shown");
    let took = w.stop();
    assert!(took < 200 * MS, "took {took:?}");
}

#[test]
fn a_folder_that_is_not_there_is_refused_at_start() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut handler = |_: Wake| -> strata_core::Result<Outcome> { panic!("never called") };
    let result = strata_watch::run(
        &tmp.path().join("nope"),
        &short(),
        &Cancel::new(),
        &mut |_| {},
        &mut handler,
    );
    let error = result.expect_err("a missing folder is refused");
    assert_eq!(error.kind(), Kind::NotFound, "{error}");
}
