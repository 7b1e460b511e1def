//! How long to wait, and what to ignore.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use strata_core::{Error, Result};

/// Says whether a path, relative to the watched folder (`train/cat.jpg`, `cache`), is ignored.
/// It must also answer `true` for paths under an ignored folder (as `PathFilter::matches` does
/// for a name pattern). It runs on the notify thread for every event, so it must be quick.
pub type Ignore = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// When the handler is called. [`Default`] suits a person's folder; tests shorten the windows.
#[derive(Clone)]
pub struct WatchConfig {
    /// Take a version once no event has arrived for this long (default 60 s): a labelling tool
    /// writes in bursts, and one version per burst is what a person expects.
    pub quiet_for: Duration,
    /// Take a version anyway once this long has passed since the first change not yet handled
    /// (default 10 min), so a folder that is written to without pause still gets versions.
    pub max_wait: Duration,
    /// Call the handler this often even without events (default 1 h): a safety net for changes
    /// no event reported (network filesystems, events lost before a restart).
    pub rescan_every: Duration,
    /// Poll the folder at this interval instead of using the native watcher (network shares,
    /// where inotify sees only local writes). `None` (the default) polls only as a fallback,
    /// every 2 s. Polling walks the whole tree each interval, and notify's poller keeps one entry
    /// per file and compares modification times in whole seconds: a rewrite within the second
    /// it last saw may wait for the next change or the periodic rescan.
    pub poll: Option<Duration>,
    /// Events whose every path is ignored never wake the watcher (the engine passes its
    /// `.strataignore` matcher). Ignored folders are still watched by the kernel: notify has no
    /// way to leave a subtree out.
    pub ignore: Option<Ignore>,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            quiet_for: Duration::from_secs(60),
            max_wait: Duration::from_secs(10 * 60),
            rescan_every: Duration::from_secs(60 * 60),
            poll: None,
            ignore: None,
        }
    }
}

impl WatchConfig {
    /// The same configuration, with events on paths `ignore` accepts dropped.
    pub fn with_ignore(mut self, ignore: impl Fn(&Path) -> bool + Send + Sync + 'static) -> Self {
        self.ignore = Some(Arc::new(ignore));
        self
    }

    /// A zero period would call the handler (or poll the disk) without pause.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.rescan_every.is_zero() {
            return Err(Error::invalid(
                "the periodic rescan interval must be longer than zero",
            ));
        }
        if self.poll.is_some_and(|p| p.is_zero()) {
            return Err(Error::invalid(
                "the polling interval must be longer than zero",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for WatchConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchConfig")
            .field("quiet_for", &self.quiet_for)
            .field("max_wait", &self.max_wait)
            .field("rescan_every", &self.rescan_every)
            .field("poll", &self.poll)
            .field("ignore", &self.ignore.as_ref().map(|_| "<predicate>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_periods_are_refused() {
        let config = WatchConfig {
            rescan_every: Duration::ZERO,
            ..WatchConfig::default()
        };
        assert!(config.validate().is_err());
        let config = WatchConfig {
            poll: Some(Duration::ZERO),
            ..WatchConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(WatchConfig::default().validate().is_ok());
    }
}
