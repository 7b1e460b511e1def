//! Making and changing versions: create, add, remove, sync, finalize, publish, snapshot, squash,
//! delete, rename, move.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;
use strata_core::names::{parse_semver, validate_project, validate_segment};
use strata_core::semver;
use strata_core::time::now_ms;
use strata_core::{
    Cancel, DatasetName, Diff, DiffTotals, Error, Manifest, NewVersion, PathFilter, Progress,
    Result, State, Version,
};
use strata_store::scan::{dataset_dir, scan_folder, ScanOptions};
use strata_store::{ingest, StatCache};

use strata_remote::log::Event;

use crate::{hashes_of, new_version_id, not_draft_error, who, Engine, Wait};

/// How `add` takes files: under which dataset folder, which ones, how deep.
#[derive(Clone, Debug)]
pub struct AddOptions {
    /// Dataset folder to put files under (`--to`).
    pub to: Option<String>,
    /// Only files matching one of these (relative to each added folder).
    pub globs: Vec<String>,
    pub recursive: bool,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            to: None,
            globs: Vec::new(),
            recursive: true,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub version: Option<String>,
    pub parents: Vec<String>,
    pub tags: Vec<String>,
    pub description: String,
}

/// The outcome of an operation that changed (or could have changed) a version's content.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub version: Version,
    /// False when nothing changed (a snapshot of an unchanged folder makes no version).
    pub created: bool,
    /// Against the version's previous content (or its parent, for new versions).
    pub changes: DiffTotals,
    pub hashed_files: u64,
    pub hashed_bytes: u64,
    pub stored_bytes: u64,
}

impl Engine {
    pub fn create(&mut self, dataset: &str, opts: &CreateOptions) -> Result<Version> {
        let d = DatasetName::parse(dataset)?;
        for t in &opts.tags {
            validate_tag(t)?;
        }
        let given = opts.version.as_deref().map(parse_semver).transpose()?;
        if given.is_none() {
            // Fails before anything is stored; the number is chosen again inside the transaction.
            next_semver(self.catalog.versions_of(&d)?.last())?;
        }
        let mut parents = Vec::new();
        let mut manifests = Vec::new();
        for r in &opts.parents {
            let p = self.resolve(r)?;
            if parents.contains(&p.id) {
                continue;
            }
            manifests.push(self.manifest_of(&p)?);
            parents.push(p.id);
        }
        let manifest = Manifest::merge(manifests.iter());
        // Held until the catalog names the manifest, so a concurrent gc cannot remove it first.
        let _guard = self.store.writer_guard()?;
        let hash = self.store.put_manifest(&manifest)?;
        let by = who();
        let id = self.catalog.write(|w| {
            // Numbered inside the write transaction: two concurrent creates get 1.0.1 and 1.0.2,
            // not one 1.0.1 and a conflict.
            let semver = match &given {
                Some(s) => s.clone(),
                None => next_semver(w.versions_of(&d)?.last())?,
            };
            let id = new_version_id(&d.to_string(), &semver);
            w.insert_version(&NewVersion {
                id: &id,
                dataset: &d,
                semver: &semver,
                parents: &parents,
                state: State::Draft,
                tags: &opts.tags,
                description: &opts.description,
                metadata: &Default::default(),
                manifest: hash,
                file_count: manifest.len() as u64,
                total_bytes: manifest.total_bytes(),
                created_at: now_ms(),
                created_by: &by,
            })?;
            Ok(id)
        })?;
        self.catalog.version(&id)
    }

    /// Adds files and folders (folder contents go under `to`); a changed file replaces its entry.
    ///
    /// Fails at once, naming the holder, when another writer has the draft: adding can take
    /// minutes, and so can the holder.
    pub fn add(
        &mut self,
        reference: &str,
        paths: &[PathBuf],
        opts: &AddOptions,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        if paths.is_empty() {
            return Err(Error::invalid("nothing to add: give at least one path"));
        }
        let prefix = dataset_dir(opts.to.as_deref().unwrap_or(""))?;
        let filter = PathFilter::new(&opts.globs)?;
        let (_lock, v) = self.lock_draft(reference, "add", Wait::No, Some(progress))?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let known = hashes_of(&old);
        // Scan everything first so a bad path fails before any content is written.
        let mut scans = Vec::new();
        for p in paths {
            let scan_opts = ScanOptions {
                filter: (!filter.is_empty()).then_some(&filter),
                recursive: opts.recursive,
                prefix: &prefix,
                allow_file: true,
            };
            scans.push(scan_folder(p, &scan_opts, progress)?);
        }
        let mut new = old.clone();
        let mut all = Vec::new();
        let mut caches = Vec::new();
        let mut stats = (0, 0, 0);
        for scan in &scans {
            cancel.check()?;
            let mut cache = StatCache::load(self.store.root(), &scan.root);
            let got = ingest::ingest(&self.store, scan, &mut cache, &known, progress, cancel);
            let mut got = match got {
                Ok(g) => g,
                Err(e) => {
                    all.into_iter().for_each(strata_store::Ingested::abort);
                    return Err(e);
                }
            };
            stats.0 += got.hashed_files;
            stats.1 += got.hashed_bytes;
            stats.2 += got.stored_bytes;
            new.upsert(std::mem::take(&mut got.entries));
            caches.push((cache, scan.complete));
            all.push(got);
        }
        self.commit_content(&v, &old, new, all, caches, stats)
    }

    /// Removes entries matching any of the patterns (dataset paths or globs). Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for another writer of the draft: it hashes nothing.
    pub fn remove(&mut self, reference: &str, patterns: &[String]) -> Result<Change> {
        if patterns.is_empty() {
            return Err(Error::invalid("nothing to remove: give paths or globs"));
        }
        let filter = PathFilter::new(patterns)?;
        let (_lock, v) = self.lock_draft(reference, "remove", Wait::Short, None)?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let mut new = old.clone();
        let exact: HashSet<&str> = patterns.iter().map(|p| p.trim_matches('/')).collect();
        let gone = new.remove_where(|e| {
            exact.contains(e.path.as_str())
                || filter.matches(&e.path)
                || exact
                    .iter()
                    .any(|p| e.path.starts_with(p) && e.path[p.len()..].starts_with('/'))
        });
        if gone.is_empty() {
            return Err(Error::not_found("entries matching", patterns.join(" ")));
        }
        self.commit_content(&v, &old, new, Vec::new(), Vec::new(), (0, 0, 0))
    }

    /// Makes the draft equal to a folder: adds new files, replaces changed ones, removes the rest.
    /// Like `add`, fails at once when another writer has the draft.
    pub fn sync(
        &mut self,
        reference: &str,
        folder: &std::path::Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        let (_lock, v) = self.lock_draft(reference, "sync", Wait::No, Some(progress))?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let (new, got, cache, complete) = self.scan_and_ingest(folder, &old, progress, cancel)?;
        let stats = (got.hashed_files, got.hashed_bytes, got.stored_bytes);
        self.commit_content(&v, &old, new, vec![got], vec![(cache, complete)], stats)
    }

    fn scan_and_ingest(
        &self,
        folder: &std::path::Path,
        base: &Manifest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Manifest, strata_store::Ingested, StatCache, bool)> {
        let scan = scan_folder(folder, &ScanOptions::default(), progress)?;
        let mut cache = StatCache::load(self.store.root(), &scan.root);
        let got = ingest::ingest(
            &self.store,
            &scan,
            &mut cache,
            &hashes_of(base),
            progress,
            cancel,
        )?;
        let mut got = got;
        let new = Manifest::from_entries(std::mem::take(&mut got.entries));
        Ok((new, got, cache, scan.complete))
    }

    /// Index the new content, store the manifest, then point the catalog at it: in that order, so
    /// the catalog never names content the store lacks.
    ///
    /// `v` is the version as read under its writer lock and `new` was computed from its manifest.
    /// The catalog is checked again inside the write: if the draft was finalized, or its content
    /// changed (a forced unlock let another writer in), nothing is written, so no one's change
    /// is silently replaced.
    pub(crate) fn commit_content(
        &mut self,
        v: &Version,
        old: &Manifest,
        new: Manifest,
        ingested: Vec<strata_store::Ingested>,
        caches: Vec<(StatCache, bool)>,
        stats: (u64, u64, u64),
    ) -> Result<Change> {
        let result = (|| {
            for g in &ingested {
                self.store.commit(g)?;
            }
            let hash = self.store.put_manifest(&new)?;
            self.catalog.write(|w| {
                let cur = w.version(&v.id)?;
                if cur.state != State::Draft {
                    return Err(not_draft_error(&cur));
                }
                if cur.manifest != v.manifest {
                    return Err(Error::Conflict(format!(
                        "{} was changed by another writer meanwhile; nothing was changed, run \
                         the command again",
                        cur.label()
                    )));
                }
                w.set_manifest(&v.id, hash, new.len() as u64, new.total_bytes())
            })
        })();
        if let Err(e) = result {
            ingested.into_iter().for_each(strata_store::Ingested::abort);
            return Err(e);
        }
        for (c, complete) in caches {
            c.save(complete)?;
        }
        let changes = Diff::between(old, &new).totals(new.len());
        Ok(Change {
            version: self.catalog.version(&v.id)?,
            created: false,
            changes,
            hashed_files: stats.0,
            hashed_bytes: stats.1,
            stored_bytes: stats.2,
        })
    }

    /// Makes a draft final (a final or published version is returned as it is). Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for a writer of the draft, so an `add` either lands
    /// before it or is refused after it.
    pub fn finalize(&mut self, reference: &str) -> Result<Version> {
        let v = self.resolve(reference)?;
        if v.state != State::Draft {
            return Ok(v);
        }
        let (_lock, v) = self.lock_version(&v.id, "finalize", Wait::Short, None)?;
        if v.state != State::Draft {
            return Ok(v);
        }
        self.catalog.write(|w| {
            if w.version(&v.id)?.state == State::Draft {
                w.set_state(&v.id, State::Final, now_ms())?;
            }
            Ok(())
        })?;
        self.catalog.version(&v.id)
    }

    pub fn publish(&mut self, reference: &str) -> Result<Version> {
        let v = self.resolve(reference)?;
        match v.state {
            State::Draft => Err(Error::Conflict(format!(
                "{} is a draft; finalize it before publishing",
                v.label()
            ))),
            State::Published => Ok(v),
            State::Final => {
                self.catalog
                    .write(|w| w.set_state(&v.id, State::Published, now_ms()))?;
                if let Some(r) = Engine::shared_on(&v) {
                    self.share(&r, Event::Publish { id: v.id.clone() })?;
                }
                self.catalog.version(&v.id)
            }
        }
    }

    /// One step: the folder becomes a final child of the dataset's latest version (or its first
    /// version). Nothing is created when the folder equals the latest version.
    pub fn snapshot(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        let d = DatasetName::parse(dataset)?;
        for t in tags {
            validate_tag(t)?;
        }
        let key = format!(
            "ds-{}",
            &blake3::hash(d.to_string().as_bytes()).to_hex()[..16]
        );
        let _lock = self.lock(&key, "snapshot", progress)?;
        let _guard = self.store.writer_guard()?;
        let latest = self.catalog.versions_of(&d)?.pop();
        let base = match &latest {
            Some(v) => self.manifest_of(v)?,
            None => Manifest::default(),
        };
        let (new, got, cache, complete) = self.scan_and_ingest(folder, &base, progress, cancel)?;
        if let Some(l) = &latest {
            if new.hash() == l.manifest {
                got.abort();
                cache.save(complete)?;
                return Ok(Change {
                    version: l.clone(),
                    created: false,
                    changes: Diff::default().totals(new.len()),
                    hashed_files: 0,
                    hashed_bytes: 0,
                    stored_bytes: 0,
                });
            }
        }
        let semver = match next_semver(latest.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                got.abort();
                return Err(e);
            }
        };
        let parents: Vec<String> = latest.iter().map(|v| v.id.clone()).collect();
        let stats = (got.hashed_files, got.hashed_bytes, got.stored_bytes);
        let id = self.insert_final(
            &d,
            &semver,
            &parents,
            tags,
            "",
            &new,
            Some(got),
            Default::default(),
        )?;
        cache.save(complete)?;
        Ok(Change {
            version: self.catalog.version(&id)?,
            created: true,
            changes: Diff::between(&base, &new).totals(new.len()),
            hashed_files: stats.0,
            hashed_bytes: stats.1,
            stored_bytes: stats.2,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_final(
        &mut self,
        d: &DatasetName,
        semver: &semver::Version,
        parents: &[String],
        tags: &[String],
        description: &str,
        manifest: &Manifest,
        ingested: Option<strata_store::Ingested>,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<String> {
        let id = new_version_id(&d.to_string(), semver);
        let by = who();
        let result = (|| {
            if let Some(g) = &ingested {
                self.store.commit(g)?;
            }
            let hash = self.store.put_manifest(manifest)?;
            self.catalog.write(|w| {
                w.insert_version(&NewVersion {
                    id: &id,
                    dataset: d,
                    semver,
                    parents,
                    state: State::Final,
                    tags,
                    description,
                    metadata: &metadata,
                    manifest: hash,
                    file_count: manifest.len() as u64,
                    total_bytes: manifest.total_bytes(),
                    created_at: now_ms(),
                    created_by: &by,
                })
            })
        })();
        if let Err(e) = result {
            if let Some(g) = ingested {
                g.abort();
            }
            return Err(e);
        }
        Ok(id)
    }

    /// A new, independent, final version of `dataset` holding the given versions' content merged
    /// in order (later ones win on the same path).
    pub fn squash(&mut self, dataset: &str, references: &[String]) -> Result<Version> {
        if references.len() < 2 {
            return Err(Error::invalid("squash needs at least two versions"));
        }
        let d = DatasetName::parse(dataset)?;
        let mut manifests = Vec::new();
        let mut labels = Vec::new();
        for r in references {
            let v = self.resolve(r)?;
            manifests.push(self.manifest_of(&v)?);
            labels.push(serde_json::Value::String(v.id.clone()));
        }
        let merged = Manifest::merge(manifests.iter());
        let _guard = self.store.writer_guard()?;
        let semver = next_semver(self.catalog.versions_of(&d)?.last())?;
        let mut meta = serde_json::Map::new();
        meta.insert("squashed_from".into(), serde_json::Value::Array(labels));
        let id = self.insert_final(&d, &semver, &[], &[], "squash", &merged, None, meta)?;
        self.catalog.version(&id)
    }

    /// Deletes a version from the catalog; its content stays in the store until `gc`. Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for a writer of the version, so a draft is never deleted
    /// under an `add` that then reports success.
    pub fn delete(&mut self, reference: &str, force: bool) -> Result<Version> {
        let v = self.resolve(reference)?;
        let (_lock, v) = self.lock_version(&v.id, "delete", Wait::Short, None)?;
        let children = self.catalog.children_of(&v.id)?;
        if !children.is_empty() && !force {
            let names: Vec<String> = children.iter().map(Version::label).collect();
            return Err(Error::Conflict(format!(
                "{} is a parent of {}; pass --force to delete it anyway",
                v.label(),
                names.join(", ")
            )));
        }
        self.catalog.write(|w| w.delete_version(&v.id))?;
        self.drop_cached_copies(&v.id)?;
        if let Some(r) = Engine::shared_on(&v) {
            self.share(&r, Event::Delete { id: v.id.clone() })?;
        }
        Ok(v)
    }

    /// Deletes a dataset and all its versions. Its drafts' writers are waited for as in
    /// [`Engine::delete`]; final versions have none.
    pub fn delete_dataset(&mut self, dataset: &str) -> Result<Vec<Version>> {
        let d = DatasetName::parse(dataset)?;
        self.catalog.require_dataset(&d)?;
        let mut held = Vec::new();
        for v in self.catalog.versions_of(&d)? {
            if v.state == State::Draft {
                held.push(self.lock_version(&v.id, "delete", Wait::Short, None)?);
            }
        }
        let versions = self.catalog.versions_of(&d)?;
        self.catalog.write(|w| w.delete_dataset(&d))?;
        for v in &versions {
            self.drop_cached_copies(&v.id)?;
        }
        for r in shared_remotes(&versions) {
            self.share(
                &r,
                Event::DeleteDataset {
                    dataset: d.to_string(),
                },
            )?;
        }
        Ok(versions)
    }

    pub fn rename(&mut self, dataset: &str, new_name: &str) -> Result<DatasetName> {
        let from = DatasetName::parse(dataset)?;
        validate_segment(new_name, "dataset name")?;
        let to = DatasetName {
            project: from.project.clone(),
            name: new_name.to_string(),
        };
        self.relocate(&from, &to)?;
        Ok(to)
    }

    pub fn move_dataset(&mut self, dataset: &str, new_project: &str) -> Result<DatasetName> {
        let from = DatasetName::parse(dataset)?;
        let project = new_project.trim_matches('/');
        validate_project(project)?;
        let to = DatasetName {
            project: project.to_string(),
            name: from.name.clone(),
        };
        self.relocate(&from, &to)?;
        Ok(to)
    }
}

impl Engine {
    /// Renames or moves a dataset here, and on every remote that has versions of it.
    fn relocate(&mut self, from: &DatasetName, to: &DatasetName) -> Result<()> {
        let versions = self.catalog.versions_of(from)?;
        self.catalog.write(|w| w.relocate_dataset(from, to))?;
        for r in shared_remotes(&versions) {
            self.share(
                &r,
                Event::Rename {
                    from: from.to_string(),
                    to: to.to_string(),
                },
            )?;
        }
        Ok(())
    }
}

/// The remotes any of `versions` is shared on.
fn shared_remotes(versions: &[Version]) -> std::collections::BTreeSet<String> {
    versions.iter().filter_map(Engine::shared_on).collect()
}

/// The patch after `latest` (1.0.0 for a dataset's first version). A patch number at its maximum
/// has no successor: saying so beats wrapping to x.y.0, which would collide with an older version.
fn next_semver(latest: Option<&Version>) -> Result<semver::Version> {
    let Some(v) = latest else {
        return Ok(semver::Version::new(1, 0, 0));
    };
    let s = v.semver();
    // Every number must stay one `parse_semver` accepts, or the new version could not be named.
    let patch = (s.patch < strata_core::names::MAX_SEMVER_PART)
        .then_some(s.patch + 1)
        .ok_or_else(|| {
            Error::Conflict(format!(
            "{} has no next patch version; give the next one with `strata create --version X.Y.Z`",
            v.label()
        ))
        })?;
    Ok(semver::Version::new(s.major, s.minor, patch))
}

pub use strata_core::names::validate_tag;
