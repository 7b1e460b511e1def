//! `gc`: remove content no version needs, from the local store or from a remote's bucket.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use strata_core::{Error, Hash, Progress, Result};
use strata_remote::log::{Entry, Holes, Refused, RemoteVersion};
use strata_remote::object_store::{ObjectStore, ObjectStoreExt};
use strata_remote::{log, Layout, Locator, Place};
use strata_store::gc;
use strata_store::gc::GcReport;

use crate::runtime::block_on;
use crate::Engine;

#[derive(Clone, Debug, Default, Serialize)]
pub struct RemoteGcReport {
    pub remote: String,
    pub live_versions: u64,
    pub objects_removed: u64,
    pub bytes_removed: u64,
    /// Unreferenced objects kept because they are younger than the grace period.
    pub kept_young: u64,
    pub dry_run: bool,
    /// Log entries that could not be read; whatever they name was kept.
    pub refused: Vec<Refused>,
    /// Why more than usual was kept, one line each.
    pub warnings: Vec<String>,
}

/// Locators are read for live versions (named `project/name@x.y.z`) and for hashes refused
/// entries mention (named `log entry N`); only the former must be readable.
fn live_owner(owner: &str) -> bool {
    !owner.starts_with("log entry ")
}

/// The versions the whole log leaves alive, and the entries it refused. Entries past a hole
/// count: the hole may be an entry someone removed, and what follows it may be someone's work.
async fn whole_log(c: &strata_remote::Connected) -> Result<(Vec<RemoteVersion>, Vec<Refused>)> {
    let mut live = log::Live::default();
    let mut refused = Vec::new();
    let mut after = 0;
    loop {
        let batch = log::read_batch(c, after, Holes::Skip).await?;
        for e in batch.entries {
            match e {
                Entry::Event(r) => live.apply(&r),
                Entry::Refused(r) => refused.push(r),
            }
        }
        match batch.resume {
            Some(next) if batch.more && next > after => after = next,
            _ => break,
        }
    }
    Ok((live.into_versions(), refused))
}

/// Milliseconds since the epoch before which unreferenced objects may go.
fn chrono_cutoff(grace: Duration) -> i64 {
    strata_core::time::now_ms() - grace.as_millis() as i64
}

impl Engine {
    /// Removes content no version refers to, and cached copies of deleted versions.
    #[tracing::instrument(skip_all)]
    pub fn gc(&mut self, dry_run: bool, progress: &dyn Progress) -> Result<GcReport> {
        let _guard = self.store.gc_guard()?;
        let versions = self.catalog.all_versions()?;
        let mut live = HashSet::new();
        let mut manifests = HashSet::new();
        for v in &versions {
            manifests.insert(v.manifest);
            for e in self.manifest_of(v)?.entries() {
                // The whole file's hash names its read-only copy in the pool; its objects (the
                // file, or its pieces) are what the store keeps.
                live.insert(e.hash);
                live.extend(e.objects().map(|(h, _)| h));
            }
        }
        self.finish_trash();
        let ids: HashSet<&str> = versions.iter().map(|v| v.id.as_str()).collect();
        let mut report = GcReport::default();
        for c in self.cache_list()?.copies {
            if !ids.contains(c.meta.version_id.as_str()) {
                if !dry_run {
                    self.drop_cached_copies(&c.meta.version_id)?;
                }
                report.cache_files_removed += c.meta.files;
            }
        }
        let r = gc::collect(
            &self.store,
            &live,
            &manifests,
            &self.pool_dir(),
            dry_run,
            progress,
        )?;
        Ok(GcReport {
            cache_files_removed: report.cache_files_removed + r.cache_files_removed,
            ..r
        })
    }

    /// Removes from a remote what no version in its log refers to and is older than `grace`.
    ///
    /// When in doubt it keeps: a refused log entry may still describe a version someone relies
    /// on, so whatever content it names stays; entries past a hole in the log count like any
    /// other; and when a live version's locator cannot be read, no pack or object is removed.
    #[tracing::instrument(skip_all, fields(remote = ?remote))]
    pub fn gc_remote(
        &mut self,
        remote: Option<&str>,
        dry_run: bool,
        grace: Duration,
        progress: &dyn Progress,
    ) -> Result<RemoteGcReport> {
        let c = self.connect_writable(remote, None)?;
        block_on(async {
            self.pull_from(&c, progress).await?;
            let (live, refused) = whole_log(&c).await?;
            let layout = Layout::new(&c.prefix);
            let mut keep: HashSet<String> = HashSet::new();
            let mut report = RemoteGcReport {
                remote: c.name.clone(),
                live_versions: live.len() as u64,
                dry_run,
                ..Default::default()
            };
            // Locators to read: every live version's, and any a refused entry names.
            let mut locators: BTreeMap<Hash, String> = BTreeMap::new();
            for v in &live {
                keep.insert(layout.manifest(&v.manifest).to_string());
                keep.insert(layout.locator(&v.locator).to_string());
                locators.insert(v.locator, format!("{}@{}", v.dataset, v.semver));
            }
            for r in &refused {
                for h in &r.names {
                    keep.insert(layout.manifest(h).to_string());
                    keep.insert(layout.locator(h).to_string());
                    locators
                        .entry(*h)
                        .or_insert_with(|| format!("log entry {}", r.seq));
                }
            }
            progress.begin("reading locators", locators.len() as u64, 0);
            let read: Vec<(String, Option<Result<Locator>>)> =
                futures::stream::iter(locators.into_iter().map(|(h, owner)| {
                    let (c, layout) = (&c, &layout);
                    async move {
                        let got = c.get_bytes(&layout.locator(&h)).await;
                        progress.advance(1, 0);
                        let decoded = match got {
                            Ok(b) => Some(Locator::decode(&b)),
                            // Nothing there: nothing of it to keep.
                            Err(Error::NotFound { .. }) => None,
                            Err(e @ Error::Corrupt { .. }) => Some(Err(e)),
                            Err(e) => return Err(e),
                        };
                        Ok::<_, Error>((owner, decoded))
                    }
                }))
                .buffer_unordered(16)
                .try_collect()
                .await?;
            progress.end();
            let mut keep_all_content = false;
            for (owner, decoded) in read {
                match decoded {
                    Some(Ok(l)) => {
                        for (h, p) in &l.places {
                            keep.insert(match p {
                                Place::Packed { pack, .. } => layout.pack(pack).to_string(),
                                Place::Loose { .. } => layout.object(h).to_string(),
                            });
                        }
                    }
                    Some(Err(e)) if live_owner(&owner) => {
                        keep_all_content = true;
                        report.warnings.push(format!(
                            "kept every pack and object: the locator of {owner} cannot be read ({e})"
                        ));
                    }
                    // A refused entry's hash that names no readable locator: nothing to keep.
                    _ => {}
                }
            }
            for r in &refused {
                report.warnings.push(format!(
                    "kept whatever log entry {} names, since it cannot be read ({})",
                    r.seq, r.reason
                ));
            }
            for w in &report.warnings {
                self.warn(Some(progress), w.clone());
            }
            report.refused = refused;
            let cutoff = chrono_cutoff(grace);
            let store: &dyn ObjectStore = c.store.as_ref();
            for dir in ["packs", "objects", "manifests", "locators", "probe"] {
                if keep_all_content && matches!(dir, "packs" | "objects") {
                    continue;
                }
                let listed: Vec<_> = store
                    .list(Some(&layout.dir(dir)))
                    .map_err(|e| c.err(e))
                    .try_collect()
                    .await?;
                for m in listed {
                    if keep.contains(m.location.as_ref()) {
                        continue;
                    }
                    if m.last_modified.timestamp_millis() > cutoff {
                        report.kept_young += 1;
                        continue;
                    }
                    if !dry_run {
                        match store.delete(&m.location).await {
                            Ok(()) | Err(strata_remote::object_store::Error::NotFound { .. }) => {}
                            Err(e) => return Err(c.err(e)),
                        }
                        if dir == "packs" {
                            if let Some(name) = m.location.filename() {
                                self.store.forget_remote_pack(&c.name, name)?;
                            }
                        } else if dir == "objects" {
                            if let Some(h) =
                                m.location.filename().and_then(|n| Hash::from_hex(n).ok())
                            {
                                self.store.forget_remote_object(&c.name, &h)?;
                            }
                        }
                    }
                    report.objects_removed += 1;
                    report.bytes_removed += m.size;
                }
            }
            Ok(report)
        })?
    }
}
