//! When the next call is due: pure timing over counters and instants, no I/O, so every rule is
//! tested here with made-up clocks.

use std::time::{Duration, Instant};

use crate::config::WatchConfig;
use crate::state::Wake;

/// The first retry after a failure, doubling up to [`RETRY_MAX`]: quick enough for a passing
/// hiccup (a busy catalog), slow enough not to hammer a remote that is down.
pub(crate) const RETRY_FIRST: Duration = Duration::from_secs(2);
pub(crate) const RETRY_MAX: Duration = Duration::from_secs(60);

/// The delay before attempt `failures + 1`, after `failures` (≥ 1) failures in a row.
pub(crate) fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    RETRY_FIRST.saturating_mul(1 << doublings).min(RETRY_MAX)
}

/// `t + d`, or `None` when that is beyond what an `Instant` can hold (a period of years means
/// "never").
fn after(t: Instant, d: Duration) -> Option<Instant> {
    t.checked_add(d)
}

/// Changes seen and not yet handed to the handler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Batch {
    pub events: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    pub lost: bool,
}

#[derive(Debug)]
pub(crate) struct Schedule {
    quiet_for: Duration,
    max_wait: Duration,
    rescan_every: Duration,
    batch: Batch,
    /// A call asked for by the last outcome (unstable files, a failure).
    retry: Option<Instant>,
    failures: u32,
    /// When the last call ended: the periodic rescan counts from there.
    last_call: Instant,
}

impl Schedule {
    pub fn new(config: &WatchConfig, now: Instant) -> Self {
        Schedule {
            quiet_for: config.quiet_for,
            max_wait: config.max_wait,
            rescan_every: config.rescan_every,
            batch: Batch::default(),
            retry: None,
            failures: 0,
            last_call: now,
        }
    }

    /// Adds changes seen between `first` and `last`. New changes replace a pending retry: the
    /// quiet window decides the next call, as the handler would see the same files still moving.
    pub fn add(&mut self, events: u64, first: Instant, last: Instant, lost: bool) {
        let b = &mut self.batch;
        b.events += events;
        b.first = Some(b.first.map_or(first, |f| f.min(first)));
        b.last = Some(b.last.map_or(last, |l| l.max(last)));
        b.lost |= lost;
        self.retry = None;
    }

    /// Events may have been lost at `now` (the folder came back, the backend changed): a rescan
    /// once the folder is quiet.
    pub fn lost(&mut self, now: Instant) {
        self.add(0, now, now, true);
    }

    /// Forgets the batch (the folder is gone; what it held no longer matters).
    pub fn forget(&mut self) {
        self.batch = Batch::default();
        self.retry = None;
    }

    pub fn pending(&self) -> Option<(Instant, u64)> {
        self.batch.first.map(|f| (f, self.batch.events))
    }

    pub fn retrying(&self) -> bool {
        self.retry.is_some()
    }

    /// The call due at `now`, if one is.
    pub fn due(&self, now: Instant) -> Option<Wake> {
        let b = &self.batch;
        if let (Some(first), Some(last)) = (b.first, b.last) {
            let quiet = after(last, self.quiet_for).is_some_and(|t| now >= t);
            let waited = after(first, self.max_wait).is_some_and(|t| now >= t);
            return match (quiet || waited, b.lost, quiet) {
                (false, _, _) => None,
                (true, true, _) => Some(Wake::Rescan),
                (true, false, true) => Some(Wake::Quiet),
                (true, false, false) => Some(Wake::MaxWait),
            };
        }
        if let Some(retry) = self.retry {
            return (now >= retry).then_some(Wake::Retry);
        }
        after(self.last_call, self.rescan_every)
            .is_some_and(|t| now >= t)
            .then_some(Wake::Periodic)
    }

    /// The earliest instant at which [`Schedule::due`] may answer differently without new
    /// events; `None` for never.
    pub fn next_deadline(&self) -> Option<Instant> {
        let b = &self.batch;
        if let (Some(first), Some(last)) = (b.first, b.last) {
            let quiet = after(last, self.quiet_for);
            let waited = after(first, self.max_wait);
            return match (quiet, waited) {
                (Some(q), Some(w)) => Some(q.min(w)),
                (q, w) => q.or(w),
            };
        }
        self.retry
            .or_else(|| after(self.last_call, self.rescan_every))
    }

    /// A call starts: the batch is handed over.
    pub fn take(&mut self) -> Batch {
        self.retry = None;
        std::mem::take(&mut self.batch)
    }

    /// The call ended at `now` and succeeded.
    pub fn done(&mut self, now: Instant) {
        self.last_call = now;
        self.failures = 0;
    }

    /// The call ended at `now` with files still changing: call again after `retry_after`.
    pub fn unstable(&mut self, now: Instant, retry_after: Duration) {
        self.last_call = now;
        self.failures = 0;
        // A delay too long to represent means "no retry"; the periodic rescan still applies.
        self.retry = after(now, retry_after);
    }

    /// The call ended at `now` with an error: retry with backoff. The failure count survives
    /// new events (a call they cause and that fails again waits longer) and resets on success.
    pub fn failed(&mut self, now: Instant) -> Duration {
        self.last_call = now;
        self.failures = self.failures.saturating_add(1);
        let delay = backoff(self.failures);
        self.retry = Some(after(now, delay).unwrap_or(now));
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn config() -> WatchConfig {
        WatchConfig {
            quiet_for: 300 * MS,
            max_wait: 2000 * MS,
            rescan_every: 10_000 * MS,
            ..WatchConfig::default()
        }
    }

    #[test]
    fn backoff_doubles_from_two_seconds_up_to_a_minute() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(u32::MAX), RETRY_MAX);
    }

    #[test]
    fn a_slow_writer_gets_one_quiet_call_after_it_stops() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        let mut calls = Vec::new();
        // A file every 100 ms for 1.5 s, the loop looking every 50 ms until 3 s.
        for tick in 0..60u32 {
            let now = t0 + tick * 50 * MS;
            if tick % 2 == 0 && tick <= 30 {
                s.add(1, now, now, false);
            }
            if let Some(wake) = s.due(now) {
                s.take();
                s.done(now);
                calls.push((wake, now - t0));
            }
        }
        assert_eq!(calls, [(Wake::Quiet, 1800 * MS)]);
    }

    #[test]
    fn writing_without_pause_is_cut_at_max_wait() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        let mut calls = Vec::new();
        for tick in 0..100u32 {
            let now = t0 + tick * 50 * MS;
            if tick < 70 {
                s.add(1, now, now, false);
            }
            if let Some(wake) = s.due(now) {
                s.take();
                s.done(now);
                calls.push((wake, now - t0));
            }
        }
        assert_eq!(
            calls,
            [
                (Wake::MaxWait, 2000 * MS),
                // The next batch starts with the write at 2.05 s and would be cut at 4.05 s,
                // but writing stops at 3.45 s: quiet at 3.75 s.
                (Wake::Quiet, 3750 * MS),
            ]
        );
    }

    #[test]
    fn lost_events_rescan_after_the_quiet_window() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        s.add(5, t0, t0, false);
        s.lost(t0 + 100 * MS);
        assert_eq!(s.due(t0 + 300 * MS), None);
        assert_eq!(s.due(t0 + 400 * MS), Some(Wake::Rescan));
        assert_eq!(s.take().events, 5);
        assert_eq!(s.due(t0 + 400 * MS), None);
    }

    #[test]
    fn a_failure_retries_with_backoff_until_events_take_over() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        assert_eq!(s.failed(t0), 2000 * MS);
        assert_eq!(s.next_deadline(), Some(t0 + 2000 * MS));
        assert_eq!(s.due(t0 + 1999 * MS), None);
        assert_eq!(s.due(t0 + 2000 * MS), Some(Wake::Retry));
        s.take();
        let t1 = t0 + 2000 * MS;
        assert_eq!(s.failed(t1), 4000 * MS);
        // Events arrive: the quiet window decides, not the retry.
        s.add(1, t1 + 100 * MS, t1 + 100 * MS, false);
        assert!(!s.retrying());
        assert_eq!(s.due(t1 + 400 * MS), Some(Wake::Quiet));
        s.take();
        // That call fails too: the backoff goes on from where it was.
        assert_eq!(s.failed(t1 + 500 * MS), 8000 * MS);
        s.take();
        s.done(t1 + 9000 * MS);
        assert_eq!(s.failed(t1 + 9500 * MS), 2000 * MS);
    }

    #[test]
    fn unstable_files_are_looked_at_again_without_events() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        s.unstable(t0, 500 * MS);
        assert_eq!(s.due(t0 + 499 * MS), None);
        assert_eq!(s.due(t0 + 500 * MS), Some(Wake::Retry));
    }

    #[test]
    fn a_quiet_folder_is_rescanned_periodically() {
        let t0 = Instant::now();
        let mut s = Schedule::new(&config(), t0);
        assert_eq!(s.next_deadline(), Some(t0 + 10_000 * MS));
        assert_eq!(s.due(t0 + 9_999 * MS), None);
        assert_eq!(s.due(t0 + 10_000 * MS), Some(Wake::Periodic));
        s.take();
        s.done(t0 + 10_500 * MS);
        assert_eq!(s.due(t0 + 20_000 * MS), None);
        assert_eq!(s.due(t0 + 20_500 * MS), Some(Wake::Periodic));
    }

    #[test]
    fn huge_periods_mean_never() {
        let t0 = Instant::now();
        let never = WatchConfig {
            quiet_for: Duration::MAX,
            max_wait: Duration::MAX,
            rescan_every: Duration::MAX,
            ..WatchConfig::default()
        };
        let mut s = Schedule::new(&never, t0);
        assert_eq!(s.due(t0 + 1_000_000 * MS), None);
        assert_eq!(s.next_deadline(), None);
        s.add(1, t0, t0, false);
        assert_eq!(s.due(t0 + 1_000_000 * MS), None);
        s.take();
        s.unstable(t0, Duration::MAX);
        assert_eq!(s.due(t0 + 1_000_000 * MS), None);
    }
}
