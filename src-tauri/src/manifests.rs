//! The manifests the window is looking at, decoded once and shared by the commands that read
//! them: opening a version of a million entries asks at once for its files, its local content
//! and its changes against its parent, and each decoding that manifest anew would cost half a
//! second of a core and 100+ MB apiece.

use std::sync::{Arc, Mutex, MutexGuard};

use strata_core::{Entry, Hash, Manifest, PathFilter, Result, Version};
use strata_engine::Engine;

/// How many decoded manifests stay: a version and the one it is compared with.
const KEEP: usize = 2;

#[derive(Default)]
pub(crate) struct Manifests {
    /// Least recently used first.
    kept: Mutex<Vec<(Hash, Arc<Manifest>)>>,
    /// Held while decoding: commands that ask for the same manifest at once wait for one
    /// decoding instead of each doing its own.
    decoding: Mutex<()>,
    /// The last listing asked for, so that scrolling decodes and filters once, not per page.
    listing: Mutex<Option<Listing>>,
}

/// A version's entries that match a filter.
#[derive(Clone)]
pub(crate) struct Listing {
    manifest: Hash,
    filter: String,
    entries: Arc<Manifest>,
    /// Positions in `entries` of those that match; `None` without a filter (all of them).
    matching: Option<Arc<Vec<u32>>>,
}

impl Listing {
    pub fn total(&self) -> usize {
        self.matching
            .as_ref()
            .map_or(self.entries.len(), |m| m.len())
    }

    /// Up to `limit` entries from the `offset`-th match.
    pub fn page(&self, offset: usize, limit: usize) -> Vec<Entry> {
        let all = self.entries.entries();
        match &self.matching {
            None => all.iter().skip(offset).take(limit).cloned().collect(),
            Some(m) => m
                .iter()
                .skip(offset)
                .take(limit)
                .map(|&i| all[i as usize].clone())
                .collect(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A command that panicked holding it left a cache, not a half-done change: keep using it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Manifests {
    /// The decoded manifest of `v`.
    pub fn of(&self, engine: &Engine, v: &Version) -> Result<Arc<Manifest>> {
        if let Some(m) = self.kept(&v.manifest) {
            return Ok(m);
        }
        let _one = lock(&self.decoding);
        if let Some(m) = self.kept(&v.manifest) {
            return Ok(m);
        }
        let m = Arc::new(engine.manifest_of(v)?);
        let mut kept = lock(&self.kept);
        kept.push((v.manifest, m.clone()));
        if kept.len() > KEEP {
            kept.remove(0);
        }
        Ok(m)
    }

    fn kept(&self, h: &Hash) -> Option<Arc<Manifest>> {
        let mut kept = lock(&self.kept);
        let i = kept.iter().position(|(k, _)| k == h)?;
        let hit = kept.remove(i);
        let m = hit.1.clone();
        kept.push(hit);
        Some(m)
    }

    /// `v`'s entries matching `globs` (all of them when there is none).
    pub fn listing(&self, engine: &Engine, v: &Version, globs: &[String]) -> Result<Listing> {
        let key = globs.join("\n");
        if let Some(l) = lock(&self.listing)
            .as_ref()
            .filter(|l| l.manifest == v.manifest && l.filter == key)
        {
            return Ok(l.clone());
        }
        let filter = PathFilter::new(globs)?;
        let entries = self.of(engine, v)?;
        let matching = (!filter.is_empty()).then(|| {
            Arc::new(
                entries
                    .entries()
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| filter.matches(&e.path))
                    .map(|(i, _)| i as u32)
                    .collect(),
            )
        });
        let l = Listing {
            manifest: v.manifest,
            filter: key,
            entries,
            matching,
        };
        *lock(&self.listing) = Some(l.clone());
        Ok(l)
    }
}
