//! The engine's progress, sent over an IPC channel at most every 100 ms (the UI redraws at that
//! pace anyway; an event per file would flood the webview).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_core::Progress;
use tauri::ipc::Channel;

use crate::dto::ProgressDto;

const EVERY: Duration = Duration::from_millis(100);

pub struct ChannelProgress {
    channel: Channel<ProgressDto>,
    phase: Mutex<(String, Instant, Instant)>,
    files: AtomicU64,
    bytes: AtomicU64,
    total_files: AtomicU64,
    total_bytes: AtomicU64,
}

impl ChannelProgress {
    pub fn new(channel: Channel<ProgressDto>) -> Self {
        let now = Instant::now();
        ChannelProgress {
            channel,
            phase: Mutex::new((String::new(), now, now)),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            total_files: AtomicU64::new(0),
            total_bytes: AtomicU64::new(0),
        }
    }

    fn send(&self, warning: Option<String>) {
        let (phase, started) = match self.phase.lock() {
            Ok(p) => (p.0.clone(), p.1),
            Err(_) => return,
        };
        let bytes = self.bytes.load(Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        let _ = self.channel.send(ProgressDto {
            phase,
            files: self.files.load(Ordering::Relaxed),
            total_files: self.total_files.load(Ordering::Relaxed),
            bytes,
            total_bytes: self.total_bytes.load(Ordering::Relaxed),
            rate: bytes as f64 / secs,
            warning,
        });
    }
}

impl Progress for ChannelProgress {
    fn begin(&self, phase: &str, files: u64, bytes: u64) {
        if let Ok(mut p) = self.phase.lock() {
            let now = Instant::now();
            *p = (phase.to_string(), now, now);
        }
        self.files.store(0, Ordering::Relaxed);
        self.bytes.store(0, Ordering::Relaxed);
        self.total_files.store(files, Ordering::Relaxed);
        self.total_bytes.store(bytes, Ordering::Relaxed);
        self.send(None);
    }

    fn advance(&self, files: u64, bytes: u64) {
        self.files.fetch_add(files, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let due = match self.phase.lock() {
            Ok(mut p) if p.2.elapsed() >= EVERY => {
                p.2 = Instant::now();
                true
            }
            _ => false,
        };
        if due {
            self.send(None);
        }
    }

    fn end(&self) {
        self.send(None);
    }

    fn warn(&self, message: &str) {
        self.send(Some(message.to_string()));
    }
}
