//! `free`: dropping the local content of versions a remote safely holds, so a small disk keeps
//! only what it uses. The versions stay listed; `get` fetches their content back (hash-checked,
//! through the same fetch as a version pulled from a remote).
//!
//! "Safely" is checked, never assumed from the catalog: every object the version stores must be
//! known to be on its remote, and every pack or large object holding them must be there now, at
//! least as long as the ranges read from it. Content that any other version also holds (a
//! local-only version, a draft, a version not asked to be freed) stays: `free` never drops the
//! only copy of anything. Read-only cached copies of a freed version go too (they hold the same
//! bytes); folders written with `get --to` are the user's and are left alone.
//!
//! Crash safety: the remote is checked first and nothing local changes until then; the local
//! drop runs under the store's exclusive lock and rewrites packs the way `gc` does (new packs in
//! place, then the index, then old files), so a kill leaves each version whole or fetchable.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use strata_core::error::{Kind, Remedy};
use strata_core::{Cancel, Error, Hash, Progress, Result, State, UploadState, Version};
use strata_remote::{Connected, Layout};

use crate::runtime::block_on;
use crate::Engine;

const CHECKS_IN_FLIGHT: usize = 16;

/// A version whose local content was dropped.
#[derive(Clone, Debug, Serialize)]
pub struct FreedVersion {
    pub version: String,
    pub id: String,
    pub remote: String,
    pub files: u64,
    /// The version's size: what a later `get` fetches back.
    pub bytes: u64,
    /// Bytes of its content kept because another version that stays local holds them too.
    pub shared_kept_bytes: u64,
}

/// A version asked for and not freed, with why.
#[derive(Clone, Debug, Serialize)]
pub struct KeptVersion {
    pub version: String,
    pub id: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct FreeReport {
    pub freed: Vec<FreedVersion>,
    pub kept: Vec<KeptVersion>,
    /// Disk space given back: store objects and read-only cached copies.
    pub freed_bytes: u64,
    pub store_bytes: u64,
    pub cache_bytes: u64,
    pub objects: u64,
    /// Read-only cached copies removed (their keys under `cache/views/`).
    pub copies_removed: Vec<String>,
}

/// How much of a version's stored content is in the local store.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Holdings {
    /// `complete`, `partial` or `none` (freed, or pulled and never fetched).
    pub local: String,
    pub files: u64,
    pub bytes: u64,
    pub local_files: u64,
    pub local_bytes: u64,
}

/// True when some of `v`'s content may be on its remote only: pulled and not fetched, or
/// uploaded and since freed here. Such content is fetched when it is needed.
pub(crate) fn may_be_elsewhere(v: &Version) -> bool {
    v.remote.is_some() && matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote)
}

impl Holdings {
    /// Counts the stored entries of `m`, and those whose every object (the file, or each of its
    /// pieces) `is_here` says the store holds.
    pub(crate) fn count(m: &strata_core::Manifest, is_here: impl Fn(&Hash) -> bool) -> Holdings {
        let mut h = Holdings::default();
        for e in m.entries().iter().filter(|e| e.link.is_none()) {
            h.add(e.size, e.objects().all(|(o, _)| is_here(&o)));
        }
        h.finish()
    }

    /// [`Holdings::count`] of an encoded manifest, read one entry at a time.
    pub(crate) fn count_encoded(bytes: &[u8], is_here: impl Fn(&Hash) -> bool) -> Result<Holdings> {
        let mut h = Holdings::default();
        let mut entries = strata_core::manifest::EncodedEntries::new(bytes)?;
        while let Some(e) = entries.next_entry()? {
            if e.link.is_none() {
                h.add(e.size, e.objects().all(|(o, _)| is_here(&o)));
            }
        }
        Ok(h.finish())
    }

    fn add(&mut self, size: u64, here: bool) {
        self.files += 1;
        self.bytes += size;
        if here {
            self.local_files += 1;
            self.local_bytes += size;
        }
    }

    fn finish(mut self) -> Holdings {
        self.local = if self.local_files == self.files {
            "complete"
        } else if self.local_files == 0 {
            "none"
        } else {
            "partial"
        }
        .into();
        self
    }
}

/// Sorts `objects` by hash and keeps each once: the list [`strata_store::Store::holds_each`] is
/// asked about and [`held_among`] searches.
pub(crate) fn once_each(objects: &mut Vec<(Hash, u64)>) {
    objects.sort_unstable_by_key(|o| o.0);
    objects.dedup_by_key(|o| o.0);
}

/// Whether the store holds a hash, from [`strata_store::Store::holds_each`]'s answers `held` for
/// `objects` (sorted by hash, once each).
pub(crate) fn held_among<'a>(
    objects: &'a [(Hash, u64)],
    held: &'a [bool],
) -> impl Fn(&Hash) -> bool + 'a {
    |h| {
        objects
            .binary_search_by_key(h, |o| o.0)
            .is_ok_and(|i| held.get(i).copied().unwrap_or(false))
    }
}

/// One version that passed the local checks, with what the remote must hold for it.
struct Candidate {
    v: Version,
    remote: String,
    objects: BTreeMap<Hash, u64>,
}

impl Engine {
    /// How much of `v`'s stored content (links left out: they are not stored) is here.
    pub fn holdings(&self, v: &Version) -> Result<Holdings> {
        self.holdings_in(&self.manifest_of(v)?)
    }

    /// [`holdings`](Engine::holdings) of a manifest already decoded. Each object is looked up
    /// once, however many entries hold it.
    pub fn holdings_in(&self, m: &strata_core::Manifest) -> Result<Holdings> {
        let mut objects: Vec<(Hash, u64)> = m.entries().iter().flat_map(|e| e.objects()).collect();
        once_each(&mut objects);
        let held = self.store.holds_each(&objects)?;
        Ok(Holdings::count(m, held_among(&objects, &held)))
    }

    /// Drops the local content of the versions `references` name, when their remote holds it.
    #[tracing::instrument(skip_all)]
    pub fn free(
        &mut self,
        references: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<FreeReport> {
        let mut asked: Vec<Version> = Vec::new();
        for r in references {
            let v = self.resolve(r)?;
            if !asked.iter().any(|a| a.id == v.id) {
                asked.push(v);
            }
        }
        self.online("freeing local content (the remote is checked first)")?;
        let mut report = FreeReport::default();
        let mut candidates = Vec::new();
        let pinned = self.catalog.pinned()?;
        for v in asked {
            let kept = |reason: String| KeptVersion {
                version: v.label(),
                id: v.id.clone(),
                reason,
            };
            let on_remote = matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote);
            match (&v.remote, v.state) {
                (_, State::Draft) => report.kept.push(kept(
                    "a draft: its content is only here (finalize and upload it first)".into(),
                )),
                // Pinning asks for the version to stay here (for offline use): that wins until
                // it is unpinned.
                _ if pinned.contains(&v.id) => report.kept.push(kept(format!(
                    "pinned in the cache, kept for use offline (strata cache unpin {} first)",
                    v.label()
                ))),
                (Some(remote), _) if on_remote => {
                    let objects = self
                        .manifest_of(&v)?
                        .entries()
                        .iter()
                        .flat_map(|e| e.objects())
                        .collect();
                    candidates.push(Candidate {
                        remote: remote.clone(),
                        v,
                        objects,
                    });
                }
                _ if matches!(
                    v.upload_state,
                    UploadState::Pending | UploadState::Uploading
                ) =>
                {
                    report.kept.push(kept(
                        "not uploaded yet (waiting): this is the only copy (push it first)".into(),
                    ))
                }
                _ => report.kept.push(kept(format!(
                    "not uploaded: this is the only copy (upload it first: strata upload {})",
                    v.label()
                ))),
            }
        }
        // One connection and one check per pack or object, whichever versions share them.
        let mut by_remote: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
        for c in candidates {
            by_remote.entry(c.remote.clone()).or_default().push(c);
        }
        let mut safe: Vec<(Candidate, Hash)> = Vec::new();
        // The first remote found lacking content, for the error when nothing could be freed.
        let mut lacking: Option<String> = None;
        for (remote, list) in by_remote {
            let conn = self.connect_to(Some(&remote), None)?;
            for (c, reason) in block_on(self.check_remote_holds(&conn, list, cancel))?? {
                match reason {
                    None => {
                        let manifest = c.v.manifest;
                        safe.push((c, manifest));
                    }
                    Some(reason) => {
                        lacking.get_or_insert_with(|| remote.clone());
                        report.kept.push(KeptVersion {
                            version: c.v.label(),
                            id: c.v.id.clone(),
                            reason,
                        })
                    }
                }
            }
        }
        if safe.is_empty() {
            return Err(refusal(&report.kept, lacking.as_deref()));
        }
        cancel.check()?;

        // From here on, local changes: under the exclusive lock, with the catalog read again
        // so a version made meanwhile counts among those whose content stays.
        let _guard = self.store.gc_guard().map_err(|e| match e {
            Error::Locked(_) => Error::Locked(
                "another strata process is writing to the store; run free when it is done".into(),
            ),
            e => e,
        })?;
        let all = self.catalog.all_versions()?;
        let freeing: HashSet<&str> = safe
            .iter()
            .filter(|(c, manifest)| {
                all.iter()
                    .any(|v| v.id == c.v.id && v.manifest == *manifest)
            })
            .map(|(c, _)| c.v.id.as_str())
            .collect();
        let mut keep: HashSet<Hash> = HashSet::new();
        for v in all.iter().filter(|v| !freeing.contains(v.id.as_str())) {
            keep.extend(
                self.manifest_of(v)?
                    .entries()
                    .iter()
                    .flat_map(|e| e.objects().map(|(h, _)| h)),
            );
        }
        let mut doomed: HashSet<(Hash, u64)> = HashSet::new();
        for (c, _) in safe
            .iter()
            .filter(|(c, _)| freeing.contains(c.v.id.as_str()))
        {
            let here = self
                .store
                .locate_all(c.objects.iter().map(|(h, s)| (h, *s)))?;
            let mut shared = 0;
            for (h, size) in &c.objects {
                if !here.contains_key(h) {
                    continue;
                }
                if keep.contains(h) {
                    shared += size;
                } else {
                    doomed.insert((*h, *size));
                }
            }
            report.freed.push(FreedVersion {
                version: c.v.label(),
                id: c.v.id.clone(),
                remote: c.remote.clone(),
                files: c.v.file_count,
                bytes: c.v.total_bytes,
                shared_kept_bytes: shared,
            });
        }
        // Cached copies first: a kill after this leaves the store whole, and `get` rebuilds them.
        let pool_before = self.pool_bytes();
        for copy in self.cache_list()?.copies {
            if freeing.contains(copy.meta.version_id.as_str()) {
                self.remove_view(&copy.meta.key)?;
                report.copies_removed.push(copy.meta.key);
            }
        }
        self.release_unlinked_pool()?;
        report.cache_bytes = pool_before.saturating_sub(self.pool_bytes());
        let dropped = strata_store::free::drop_objects(&self.store, &doomed, progress)?;
        report.store_bytes = dropped.bytes;
        report.objects = dropped.objects;
        report.freed_bytes = report.store_bytes + report.cache_bytes;
        for k in &report.kept {
            self.warn(Some(progress), format!("kept {}: {}", k.version, k.reason));
        }
        Ok(report)
    }

    /// For each candidate, `None` when the remote holds all of its content now, or why not.
    async fn check_remote_holds(
        &self,
        conn: &Connected,
        list: Vec<Candidate>,
        cancel: &Cancel,
    ) -> Result<Vec<(Candidate, Option<String>)>> {
        let layout = Layout::new(&conn.prefix);
        let mut places = Vec::with_capacity(list.len());
        // What must be there: each pack at least as long as its furthest range, each large
        // object exactly its size.
        let mut packs: HashMap<String, u64> = HashMap::new();
        let mut loose: HashMap<Hash, u64> = HashMap::new();
        for c in &list {
            let p = self
                .store
                .remote_places(&conn.name, c.objects.keys().copied())?;
            for (h, place) in &p {
                match &place.pack {
                    Some(name) => {
                        let end = place.offset.saturating_add(place.len);
                        let e = packs.entry(name.clone()).or_default();
                        *e = (*e).max(end);
                    }
                    None => {
                        loose.insert(*h, place.len);
                    }
                }
            }
            places.push(p);
        }
        let keys = packs
            .iter()
            .map(|(name, need)| (layout.pack(name), *need, false))
            .chain(loose.iter().map(|(h, len)| (layout.object(h), *len, true)));
        let problems: HashMap<String, String> =
            futures::stream::iter(keys.map(|(key, need, exact)| async move {
                cancel.check()?;
                let got = conn.size_of(&key).await?;
                let problem = match got {
                    None => Some("is missing".to_string()),
                    Some(n) if (exact && n != need) || n < need => {
                        Some(format!("has {n} bytes where {need} are needed"))
                    }
                    Some(_) => None,
                };
                Ok::<_, Error>(problem.map(|p| (key.to_string(), p)))
            }))
            .buffer_unordered(CHECKS_IN_FLIGHT)
            .try_filter_map(|p| async move { Ok(p) })
            .try_collect()
            .await?;
        let mut out = Vec::with_capacity(list.len());
        for (c, p) in list.into_iter().zip(places) {
            let reason = if p.len() != c.objects.len() {
                Some(format!(
                    "{} of its objects are not known to be on remote '{}' (upload it again, or \
                     pull)",
                    c.objects.len() - p.len(),
                    conn.name
                ))
            } else if let Some((h, place)) = p
                .iter()
                .find(|(h, place)| c.objects.get(h) != Some(&place.len))
            {
                Some(format!(
                    "remote '{}' records object {h} at {} bytes, not the {} its manifest says",
                    conn.name,
                    place.len,
                    c.objects.get(h).copied().unwrap_or_default()
                ))
            } else {
                let mut bad: Vec<String> = p
                    .iter()
                    .filter_map(|(h, place)| {
                        let key = match &place.pack {
                            Some(name) => layout.pack(name),
                            None => layout.object(h),
                        };
                        let key = key.to_string();
                        problems.get(&key).map(|why| format!("{key} {why}"))
                    })
                    .collect();
                bad.sort();
                bad.dedup();
                (!bad.is_empty()).then(|| {
                    format!(
                        "remote '{}' does not hold all of it: {}{}",
                        conn.name,
                        bad[..bad.len().min(3)].join("; "),
                        if bad.len() > 3 {
                            format!(" and {} more", bad.len() - 3)
                        } else {
                            String::new()
                        }
                    )
                })
            };
            out.push((c, reason));
        }
        Ok(out)
    }
}

/// Nothing could be freed: the reasons, as one error. A remote that lacks content is a
/// `not_found` on it (`verify --remote` names what is missing); a version only here is refused
/// as `invalid`, with `push` as the remedy when it is already queued.
fn refusal(kept: &[KeptVersion], lacking: Option<&str>) -> Error {
    let text = kept
        .iter()
        .map(|k| format!("{}: {}", k.version, k.reason))
        .collect::<Vec<_>>()
        .join("; ");
    let msg = format!("nothing freed; {text}");
    if let Some(remote) = lacking {
        return Error::remote_failure(remote, Kind::NotFound, msg).with_remedy(Remedy::Verify);
    }
    let err = Error::invalid(msg);
    if kept.iter().all(|k| k.reason.starts_with("a draft")) {
        err.with_remedy(Remedy::Finalize)
    } else if kept.iter().all(|k| k.reason.contains("(push it first)")) {
        err.with_remedy(Remedy::Push)
    } else {
        err
    }
}
