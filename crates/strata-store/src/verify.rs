//! Re-hashing stored content, and copies of it, against the manifest.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

use rayon::prelude::*;
use serde::Serialize;
use strata_core::{Cancel, Entry, Hash, Progress, Result};

use crate::{Location, Store};

#[derive(Clone, Debug, Serialize)]
pub struct Mismatch {
    pub path: String,
    pub expected: Hash,
    /// `None` when the content is missing.
    pub actual: Option<Hash>,
    pub problem: String,
}

pub fn verify(
    store: &Store,
    entries: &[Entry],
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<Mismatch>> {
    let total = entries.iter().map(|e| e.size).sum();
    progress.begin("verifying", entries.len() as u64, total);
    let found: Result<Vec<Option<Mismatch>>> = entries
        .par_iter()
        .filter(|e| e.link.is_none())
        .map(|e| {
            cancel.check()?;
            let r = check(store, e);
            progress.advance(1, e.size);
            Ok(r)
        })
        .collect();
    progress.end();
    let mut out: Vec<Mismatch> = found?.into_iter().flatten().collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

fn check(store: &Store, e: &Entry) -> Option<Mismatch> {
    let missing = |problem: String| Mismatch {
        path: e.path.clone(),
        expected: e.hash,
        actual: None,
        problem,
    };
    let loc = match store.locate_entry(e) {
        Ok(Some(l)) => l,
        Ok(None) => return Some(missing("content is missing from the store".into())),
        Err(err) => return Some(missing(err.to_string())),
    };
    let actual = match &loc {
        Location::Packed { .. } => store.read(&loc).map(|b| Hash::of(&b)),
        Location::Loose(p) => hash_file(p),
        Location::Chunked(parts) => match check_pieces(store, e, parts) {
            Ok(h) => Ok(h),
            Err(problem) => return Some(problem),
        },
    };
    match actual {
        Ok(h) if h == e.hash => None,
        Ok(h) => Some(Mismatch {
            path: e.path.clone(),
            expected: e.hash,
            actual: Some(h),
            problem: "content does not match its hash".into(),
        }),
        Err(err) => Some(missing(err.to_string())),
    }
}

/// Re-hashes each piece of a file stored in pieces against its own hash, and the whole against
/// the entry's: a damaged piece is named by its position, and pieces that are intact but do not
/// make up the recorded content (a forged piece list) are caught too. Returns the whole's hash.
fn check_pieces(store: &Store, e: &Entry, parts: &[Location]) -> Result<Hash, Mismatch> {
    let fail = |problem: String| Mismatch {
        path: e.path.clone(),
        expected: e.hash,
        actual: None,
        problem,
    };
    let chunks = e.chunks.as_ref().map(|c| c.as_slice()).unwrap_or_default();
    let mut whole = blake3::Hasher::new();
    for (i, (part, chunk)) in parts.iter().zip(chunks).enumerate() {
        let bytes = store.read(part).map_err(|err| fail(err.to_string()))?;
        if Hash::of(&bytes) != chunk.hash {
            return Err(fail(format!(
                "piece {} of {} ({}) does not match its hash",
                i + 1,
                chunks.len(),
                &chunk.hash.to_hex()[..12]
            )));
        }
        whole.update(&bytes);
    }
    Ok(whole.finalize().into())
}

/// Re-hashes the files of a copy at `dir` against `entries`: which were edited or are missing.
/// Files sharing an inode (links into the same pool file) are read once.
pub fn verify_copy(
    dir: &Path,
    entries: &[Entry],
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Vec<Mismatch>> {
    let total = entries.iter().map(|e| e.size).sum();
    progress.begin("verifying cached copies", entries.len() as u64, total);
    let seen: Mutex<HashMap<(u64, u64), Result<Hash, String>>> = Mutex::new(HashMap::new());
    let found: Result<Vec<Option<Mismatch>>> = entries
        .par_iter()
        .map(|e| {
            cancel.check()?;
            let problem = |p: String| Mismatch {
                path: e.path.clone(),
                expected: e.hash,
                actual: None,
                problem: p,
            };
            let p = dir.join(&e.path);
            let r = match std::fs::metadata(&p) {
                Err(_) => Some(problem(format!(
                    "missing from the copy at {}",
                    dir.display()
                ))),
                Ok(m) => {
                    let id = (m.dev(), m.ino());
                    let cached = seen.lock().ok().and_then(|s| s.get(&id).cloned());
                    let h = match cached {
                        Some(h) => h,
                        None => {
                            let h = hash_file(&p).map_err(|err| err.to_string());
                            if let Ok(mut s) = seen.lock() {
                                s.insert(id, h.clone());
                            }
                            h
                        }
                    };
                    match h {
                        Ok(h) if h == e.hash => None,
                        Ok(h) => Some(Mismatch {
                            actual: Some(h),
                            ..problem(format!("edited in the copy at {}", dir.display()))
                        }),
                        Err(err) => Some(problem(err)),
                    }
                }
            };
            progress.advance(1, e.size);
            Ok(r)
        })
        .collect();
    progress.end();
    let mut out: Vec<Mismatch> = found?.into_iter().flatten().collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

pub fn hash_file(p: &std::path::Path) -> Result<Hash> {
    use strata_core::IoContext;
    let mut f = File::open(p).ctx("read", p)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).ctx("read", p)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}
