//! Progress bars on a terminal (files, bytes, rate, ETA); nothing when piped or with --json.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use strata_core::Progress;

pub struct Bars {
    enabled: bool,
    quiet: bool,
    bar: Mutex<Option<ProgressBar>>,
    files: AtomicU64,
    total_files: AtomicU64,
}

impl Bars {
    pub fn new(enabled: bool, quiet: bool) -> Self {
        Bars {
            enabled,
            quiet,
            bar: Mutex::new(None),
            files: AtomicU64::new(0),
            total_files: AtomicU64::new(0),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.bar.lock() {
            if let Some(b) = guard.as_ref() {
                f(b);
            }
        }
    }
}

impl Progress for Bars {
    fn begin(&self, phase: &str, files: u64, bytes: u64) {
        if !self.enabled {
            return;
        }
        self.files.store(0, Ordering::Relaxed);
        self.total_files.store(files, Ordering::Relaxed);
        let bar = if bytes > 0 {
            let b = ProgressBar::new(bytes);
            b.set_style(
                ProgressStyle::with_template(
                    "{msg:>9} [{bar:30.cyan/blue}] {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} ETA {eta} · {prefix} files",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        } else {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} {prefix}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b
        };
        b_init(&bar, phase);
        if let Ok(mut g) = self.bar.lock() {
            if let Some(old) = g.take() {
                old.finish_and_clear();
            }
            *g = Some(bar);
        }
    }

    fn advance(&self, files: u64, bytes: u64) {
        if !self.enabled {
            return;
        }
        let done = self.files.fetch_add(files, Ordering::Relaxed) + files;
        let total = self.total_files.load(Ordering::Relaxed);
        self.with_bar(|b| {
            b.inc(bytes);
            if total > 0 {
                b.set_prefix(format!("{done}/{total}"));
            } else {
                b.set_prefix(format!("{done}"));
            }
        });
    }

    fn end(&self) {
        if let Ok(mut g) = self.bar.lock() {
            if let Some(b) = g.take() {
                b.finish_and_clear();
            }
        }
    }

    fn warn(&self, message: &str) {
        if self.quiet {
            return;
        }
        let mut shown = false;
        self.with_bar(|b| {
            b.suspend(|| eprintln!("warning: {message}"));
            shown = true;
        });
        if !shown {
            eprintln!("warning: {message}");
        }
    }
}

fn b_init(b: &ProgressBar, phase: &str) {
    b.set_message(phase.to_string());
    b.enable_steady_tick(Duration::from_millis(120));
}
