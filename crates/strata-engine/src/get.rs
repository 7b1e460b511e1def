//! `get`: a version's files on disk, whole or as a reproducible subset. Without a target the copy
//! lives in the read-only cache (hard links into a pool of extracted objects); with one it is
//! built in a staging folder beside the target and renamed into place, so it appears whole or
//! not at all. Asking twice for the same thing returns the existing copy. A mutable copy asked
//! into a folder holding another version is switched in place: only the files that differ are
//! written (each atomically), so moving between versions 1 % apart costs 1 % of a copy.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strata_core::error::Remedy;
use strata_core::manifest::sample;
use strata_core::{Cancel, Entry, Error, IoContext, Progress, Result, Selection, Version};
use strata_store::materialize::{Mode, Target};
use strata_store::scan::{now_ns, scan_folder, stat_of, ScanOptions};
use strata_store::{ingest, materialize, Scan, Source, StatCache};

use crate::Engine;

/// What `get` makes: the CLI maps its flags to this, the app receives it as it is (`CopyRequest`
/// in the UI's bindings).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[cfg_attr(feature = "bindings", derive(ts_rs::TS), ts(rename = "CopyRequest"))]
pub struct GetRequest {
    /// Target folder; none (or empty) for the read-only cache.
    #[cfg_attr(feature = "bindings", ts(type = "string | null"))]
    pub to: Option<PathBuf>,
    /// Replace a non-empty target folder.
    pub overwrite: bool,
    /// Independent writable files (needs a target folder).
    pub mutable: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Keep this fraction of the selected files, chosen reproducibly by `seed`.
    pub fraction: Option<f64>,
    #[cfg_attr(feature = "bindings", ts(type = "number"))]
    pub seed: u64,
    /// Parallel writers [default: 8; file creation, not CPU, is the limit].
    #[cfg_attr(feature = "bindings", ts(optional, type = "number"))]
    pub jobs: Option<usize>,
}

impl GetRequest {
    fn is_subset(&self) -> bool {
        !self.include.is_empty() || !self.exclude.is_empty() || self.fraction.is_some()
    }

    /// Names the selection, so equal requests share one cached copy.
    fn selection_key(&self) -> String {
        let mut h = blake3::Hasher::new();
        for p in &self.include {
            h.update(b"+");
            h.update(p.as_bytes());
        }
        for p in &self.exclude {
            h.update(b"-");
            h.update(p.as_bytes());
        }
        if let Some(f) = self.fraction {
            h.update(&f.to_le_bytes());
            h.update(&self.seed.to_le_bytes());
        }
        h.finalize().to_hex()[..12].to_string()
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct GetOutcome {
    pub path: PathBuf,
    pub version: String,
    pub id: String,
    pub files: u64,
    pub bytes: u64,
    pub mutable: bool,
    /// True when an existing copy already matched and nothing was written.
    pub reused: bool,
    /// Files of an existing read-only copy that had been edited (or made writable) and were
    /// restored before the copy was handed out.
    pub healed: u64,
    /// Objects and bytes fetched from a remote for this copy.
    pub fetched_objects: u64,
    pub fetched_bytes: u64,
    /// Files written by this `get`: all of them for a new copy, only those that differed when a
    /// mutable copy was switched in place, none when an existing copy was reused.
    pub written: u64,
    /// Files deleted from the target by an in-place switch because the version does not have
    /// them. (A folder replaced whole is moved aside at once; its files are not counted.)
    pub removed: u64,
    /// Files of the target already right and left alone (not even their times change).
    pub unchanged: u64,
    /// Paths of the target whose content no version holds and that were replaced or deleted
    /// (`overwrite`): local edits now gone. At most [`crate::STATUS_PATHS`]; the warning says
    /// how many there were.
    pub discarded: Vec<String>,
}

/// The description of a read-only copy, beside it in `cache/views/`: which version and
/// selection it holds, and (by its mtime) when it was last used.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ViewMeta {
    pub key: String,
    pub version_id: String,
    pub label: String,
    pub files: u64,
    pub bytes: u64,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub fraction: Option<f64>,
    pub seed: Option<u64>,
}

impl ViewMeta {
    pub fn new(key: &str, v: &Version, o: &GetRequest, files: u64, bytes: u64) -> Self {
        ViewMeta {
            key: key.into(),
            version_id: v.id.clone(),
            label: v.label(),
            files,
            bytes,
            include: o.include.clone(),
            exclude: o.exclude.clone(),
            fraction: o.fraction,
            seed: o.fraction.map(|_| o.seed),
        }
    }

    /// Writes (or touches) the description; its mtime is the last use.
    pub fn save(&self, views: &Path) -> Result<()> {
        let p = views.join(format!("{}.json", self.key));
        let body = serde_json::to_vec_pretty(self)
            .map_err(|e| strata_core::Error::Internal(e.to_string()))?;
        let tmp = views.join(format!(".{}.json.{}", self.key, std::process::id()));
        fs::write(&tmp, body).ctx("write", &tmp)?;
        fs::rename(&tmp, &p).ctx("rename into place", &p)
    }

    /// Marks an existing copy as just used: its description's mtime moves, nothing is rewritten
    /// (this is on the path of every repeated `get`). Writes the description if it is missing.
    pub fn touch(&self, views: &Path) -> Result<()> {
        let p = views.join(format!("{}.json", self.key));
        match fs::File::options().write(true).open(&p) {
            Ok(f) => f
                .set_modified(std::time::SystemTime::now())
                .ctx("touch", &p),
            Err(_) => self.save(views),
        }
    }
}

impl Engine {
    /// The entries a `get` with these options selects.
    pub fn select(
        &self,
        reference: &str,
        opts: &GetRequest,
    ) -> Result<(strata_core::Version, Vec<Entry>)> {
        let v = self.resolve(reference)?;
        let sel = Selection::new(&opts.include, &opts.exclude)?;
        let mut entries: Vec<Entry> = self
            .manifest_of(&v)?
            .into_entries()
            .into_iter()
            .filter(|e| sel.matches(&e.path))
            .collect();
        if let Some(f) = opts.fraction {
            entries = sample(entries, f, opts.seed)?;
        }
        Ok((v, entries))
    }

    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn get(
        &mut self,
        reference: &str,
        opts: &GetRequest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<GetOutcome> {
        // An empty target (a cleared text field) means the cache, as no target does.
        let cleared;
        let opts = if opts.to.as_ref().is_some_and(|t| t.as_os_str().is_empty()) {
            cleared = GetRequest {
                to: None,
                ..opts.clone()
            };
            &cleared
        } else {
            opts
        };
        if opts.mutable && opts.to.is_none() {
            return Err(Error::invalid("a mutable copy needs a target folder")
                .with_remedy(Remedy::ChooseFolder));
        }
        if opts.overwrite && opts.to.is_none() {
            return Err(Error::invalid("only a target folder can be replaced")
                .with_remedy(Remedy::ChooseFolder));
        }
        let (v, entries) = match self.select(reference, opts) {
            // Not known here (or only drafts, or no version with the tag): perhaps a team member
            // shared it since the last pull.
            Err(e)
                if matches!(e.inner(), Error::NotFound { .. } | Error::NoMatch(_))
                    && !self.offline
                    && self.remote(None).is_ok() =>
            {
                if let Err(pull) = self.pull(None, progress) {
                    self.warn(
                        Some(progress),
                        format!("could not look for it on the remote: {pull}"),
                    );
                    return Err(e);
                }
                self.select(reference, opts)?
            }
            r => r?,
        };
        let whole = !opts.is_subset();
        let files = entries.len() as u64;
        let bytes = entries.iter().map(|e| e.size).sum();
        let outcome = |path: PathBuf, reused: bool| GetOutcome {
            path,
            version: v.label(),
            id: v.id.clone(),
            files,
            bytes,
            mutable: opts.mutable,
            reused,
            healed: 0,
            fetched_objects: 0,
            fetched_bytes: 0,
            written: if reused { 0 } else { files },
            removed: 0,
            unchanged: if reused { files } else { 0 },
            discarded: Vec::new(),
        };
        let _guard = self.store.writer_guard()?;
        match &opts.to {
            None => {
                let key = view_key(&v, opts);
                strata_core::names::validate_file_key(&key)?;
                let views = self.cache_dir().join("views");
                let dest = views.join(&key);
                let meta = ViewMeta::new(&key, &v, opts, files, bytes);
                self.finish_trash();
                if dest.is_dir() {
                    // Another copy (or this one) may have been edited since: never hand out a
                    // file that is not the pool's intact one. Stats only, no reading.
                    let stale = materialize::stale_files(&self.pool_dir(), &dest, &entries)?;
                    let healed = if stale.is_empty() {
                        0
                    } else {
                        let stale: Vec<Entry> = stale.into_iter().cloned().collect();
                        self.fetch_missing(&v, &stale, false, progress, cancel)?;
                        let refs: Vec<&Entry> = stale.iter().collect();
                        let n = materialize::heal(&self.store, &self.pool_dir(), &dest, &refs)?;
                        self.warn(
                            Some(progress),
                            format!(
                                "restored {n} edited file(s) in the cached copy of {}",
                                v.label()
                            ),
                        );
                        n
                    };
                    meta.touch(&views)?;
                    return Ok(GetOutcome {
                        healed,
                        written: healed,
                        unchanged: files - healed,
                        ..outcome(dest, healed == 0)
                    });
                }
                let fetched = self.fetch_missing(&v, &entries, whole, progress, cancel)?;
                let tmp = self.cache_dir().join("tmp");
                fs::create_dir_all(&tmp).ctx("create", &tmp)?;
                fs::create_dir_all(&views).ctx("create", &views)?;
                sweep_stale(&tmp, "g-");
                let staged = tmp.join(strata_store::unique_name("g-"));
                fs::create_dir(&staged).ctx("create", &staged)?;
                let written = materialize::write_tree(
                    &self.store,
                    &entries,
                    &Target {
                        dest: &staged,
                        mode: Mode::ReadOnly,
                        pool: &self.pool_dir(),
                        jobs: opts.jobs,
                    },
                    progress,
                    cancel,
                );
                if let Err(e) = written {
                    let _ = fs::remove_dir_all(&staged);
                    return Err(e);
                }
                if let Err(e) = fs::rename(&staged, &dest) {
                    let _ = fs::remove_dir_all(&staged);
                    // Another process finished the same copy first: use it.
                    if !dest.is_dir() {
                        return Err(e).ctx("rename into place", &dest);
                    }
                }
                meta.save(&views)?;
                Ok(with_fetched(outcome(dest, false), fetched))
            }
            Some(to) => {
                let dest = std::path::absolute(to).ctx("resolve", to)?;
                if let Some(parent) = dest.parent() {
                    materialize::sweep_staging(parent);
                }
                if dest.is_dir() && !materialize::is_empty_dir(&dest)? {
                    if opts.mutable {
                        let base = outcome(dest.clone(), false);
                        let switched =
                            self.switch_in_place(&v, &entries, opts, base, progress, cancel)?;
                        if let Some(o) = switched {
                            self.note_placed(&dest, &entries);
                            return Ok(o);
                        }
                        // Not switchable file by file: replaced whole below.
                    } else {
                        if self.folder_matches(&dest, &entries)? {
                            return Ok(outcome(dest, true));
                        }
                        if !opts.overwrite {
                            return Err(not_empty(&dest));
                        }
                    }
                } else if dest.exists() && !dest.is_dir() {
                    return Err(Error::Conflict(format!(
                        "'{}' is a file; give a folder",
                        dest.display()
                    )));
                }
                let fetched = self.fetch_missing(&v, &entries, whole, progress, cancel)?;
                let staging = materialize::staging_for(&dest)?;
                let staged = staging.path();
                let mode = if opts.mutable {
                    Mode::Mutable
                } else {
                    Mode::ReadOnly
                };
                let written = materialize::write_tree(
                    &self.store,
                    &entries,
                    &Target {
                        dest: staged,
                        mode,
                        pool: &self.pool_dir(),
                        jobs: opts.jobs,
                    },
                    progress,
                    cancel,
                )
                .and_then(|_| materialize::place(staged, &dest, opts.overwrite));
                if let Err(e) = written {
                    let _ = fs::remove_dir_all(staged);
                    return Err(e);
                }
                drop(staging);
                self.remember_folder(&dest, &entries);
                if opts.mutable {
                    self.note_placed(&dest, &entries);
                }
                Ok(with_fetched(outcome(dest, false), fetched))
            }
        }
    }

    /// True when `dir` holds exactly `entries` (same paths, same content). Uses the stat cache,
    /// so checking a copy we wrote reads no file.
    pub(crate) fn folder_matches(&self, dir: &Path, entries: &[Entry]) -> Result<bool> {
        // Ignoring nothing: a version can hold what a scan leaves out (a file added by name).
        let exact = ScanOptions {
            ignores: false,
            ..ScanOptions::default()
        };
        let scan = scan_folder(dir, &exact, &strata_core::NoProgress)?;
        if scan.files.len() != entries.len() {
            return Ok(false);
        }
        let cache = StatCache::load(self.store.root(), &scan.root);
        // The scan is sorted by path, like the entries.
        for (f, e) in scan.files.iter().zip(entries) {
            if scan.dataset_path(f) != e.path.as_str() || f.stat.size != e.size {
                return Ok(false);
            }
            let h = match cache.lookup(&f.rel, &f.stat) {
                Some(h) => h,
                None => strata_store::verify::hash_file(&scan.abs(f))?,
            };
            if h != e.hash {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Switches the mutable copy at `base.path` to `entries` by touching only what differs:
    /// files already right are left alone (same inode, same times), the others are written in a
    /// staging folder beside the target and renamed over their paths, and files the version lacks
    /// are deleted. The folder is read like `status` reads one, so a switch between versions
    /// 1 % apart reads only what the stat cache cannot vouch for.
    ///
    /// Local edits: a file that would be replaced or deleted and whose content the store does not
    /// hold is in no version (nor draft), so the switch would lose it. As before, any difference
    /// needs `overwrite`; with it, such files are named in a warning and in `discarded`. Files
    /// whose content the store holds (an older version's, an interrupted switch's) are replaced
    /// without a word: nothing is lost. No record of earlier copies is kept, in the folder or in
    /// the home: the store alone says what would be lost.
    ///
    /// `None` when the folder cannot be switched file by file (a name no manifest may hold, a
    /// symlinked folder on the way to a file to change): the caller replaces it whole.
    fn switch_in_place(
        &mut self,
        v: &Version,
        entries: &[Entry],
        opts: &GetRequest,
        base: GetOutcome,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Option<GetOutcome>> {
        let dest = base.path.clone();
        let mut read = match self.read_folder(&dest, progress, cancel) {
            Ok(r) => r,
            // A name no manifest may hold, a symlink loop: the scan refuses the folder.
            Err(e) if matches!(e.inner(), Error::Invalid(_)) => {
                if !opts.overwrite {
                    return Err(not_empty(&dest));
                }
                self.warn(
                    Some(progress),
                    format!(
                        "'{}' cannot be compared file by file ({e}); replacing it whole",
                        dest.display()
                    ),
                );
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let want: HashMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
        // Entries the scan did not list: new to the folder, or there but left out by the scan (a
        // name the scan skips that the version holds, added by name). Those found are read too,
        // or a copy holding one would never be found equal.
        let listed: HashSet<&str> = read
            .hashed
            .entries
            .iter()
            .map(|e| e.path.as_str())
            .collect();
        let unlisted: Vec<Source> = entries
            .iter()
            .filter(|e| !listed.contains(e.path.as_str()))
            .filter_map(|e| {
                let abs = materialize::safe_join(&dest, &e.path).ok()?;
                let m = fs::metadata(&abs).ok().filter(|m| m.is_file())?;
                Some(Source {
                    rel: e.path.clone(),
                    stat: stat_of(&m),
                })
            })
            .collect();
        let unlisted = Scan {
            root: read.scan.root.clone(),
            prefix: String::new(),
            files: unlisted,
            complete: false,
            started_ns: now_ns(),
        };
        let found = ingest::hash_only(&unlisted, &mut read.cache, progress, cancel)?;

        let mut write: Vec<Entry> = Vec::new();
        let mut remove: Vec<String> = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        // (the version's entry, the file already holding its content)
        let mut same: Vec<(&Entry, PathBuf)> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::with_capacity(entries.len());
        let held = (read.hashed.entries.iter().zip(&read.scan.files))
            .chain(found.entries.iter().zip(&unlisted.files));
        for (have, file) in held {
            seen.insert(have.path.as_str());
            match want.get(have.path.as_str()) {
                Some(w) if w.hash == have.hash && w.size == have.size => {
                    // Both scans are of the same root.
                    same.push((w, read.scan.abs(file)));
                    continue;
                }
                Some(w) => write.push((*w).clone()),
                None => remove.push(have.path.clone()),
            }
            // Content freed here is on a remote: not a local edit, and not lost.
            if self.store.locate(&have.hash, have.size)?.is_none()
                && !self.store.on_some_remote(&have.hash)?
            {
                lost.push(have.path.clone());
            }
        }
        write.extend(
            entries
                .iter()
                .filter(|e| !seen.contains(e.path.as_str()))
                .cloned(),
        );
        // Any content to change, before the rewrites below that change none.
        let differs = !write.is_empty() || !remove.is_empty();
        // Right content is not enough for a mutable copy: a file linked into the read-only pool
        // (the folder was a read-only copy), or one shared with another name, or read-only, is
        // written again as an independent file. Its content does not change.
        let shared: Vec<Entry> = same
            .par_iter()
            .filter(|(_, abs)| {
                !fs::symlink_metadata(abs).is_ok_and(|m| {
                    m.file_type().is_file() && m.nlink() == 1 && m.mode() & 0o200 != 0
                })
            })
            .map(|(w, _)| (*w).clone())
            .collect();
        write.extend(shared);
        if write.is_empty() && remove.is_empty() {
            read.save_cache();
            return Ok(Some(GetOutcome {
                reused: true,
                written: 0,
                unchanged: base.files,
                ..base
            }));
        }
        if differs && !opts.overwrite {
            read.save_cache();
            return Err(not_empty(&dest));
        }
        let touched = write
            .iter()
            .map(|e| e.path.as_str())
            .chain(remove.iter().map(String::as_str));
        let whole = materialize::crosses_symlink(&dest, touched)?;
        if whole && !opts.overwrite {
            return Err(not_empty(&dest));
        }
        lost.sort();
        if !lost.is_empty() {
            let more = if lost.len() > NAMED {
                format!(" and {} more", lost.len() - NAMED)
            } else {
                String::new()
            };
            self.warn(
                Some(progress),
                format!(
                    "discarded {} local change(s) in '{}' that no version holds: {}{more}",
                    lost.len(),
                    dest.display(),
                    lost[..lost.len().min(NAMED)].join(", ")
                ),
            );
        }
        if whole {
            return Ok(None);
        }
        // By folder, so the writers rarely share a directory (see `write_tree`).
        write.sort_by(|a, b| a.path.cmp(&b.path));
        let fetched = self.fetch_missing(v, &write, false, progress, cancel)?;
        let staging = materialize::staging_for(&dest)?;
        let staged = staging.path();
        let switched = materialize::write_tree(
            &self.store,
            &write,
            &Target {
                dest: staged,
                mode: Mode::Mutable,
                pool: &self.pool_dir(),
                jobs: opts.jobs,
            },
            progress,
            cancel,
        )
        .and_then(|_| materialize::move_over(staged, &dest, &write, &remove));
        // After the moves only empty folders are left in it; after a failure, unused files.
        let _ = fs::remove_dir_all(staged);
        drop(staging);
        switched?;
        for p in &remove {
            read.cache.forget(p);
        }
        // What we just wrote is known: the next switch or status need not read it.
        for e in &write {
            if let Ok(m) = fs::metadata(dest.join(&e.path)) {
                read.cache.record(&e.path, stat_of(&m), e.hash, i64::MAX);
            }
        }
        read.save_cache();
        lost.truncate(crate::STATUS_PATHS);
        Ok(Some(with_fetched(
            GetOutcome {
                written: write.len() as u64,
                removed: remove.len() as u64,
                unchanged: base.files - write.len() as u64,
                discarded: lost,
                ..base
            },
            fetched,
        )))
    }

    /// Records the stat of files we just wrote, so the next `get` into the same folder can tell
    /// they are unchanged without reading them. Best effort: a failure only costs a re-hash later.
    pub(crate) fn remember_folder(&self, dir: &Path, entries: &[Entry]) {
        let mut cache = StatCache::load(self.store.root(), dir);
        for e in entries {
            if let Ok(m) = fs::metadata(dir.join(&e.path)) {
                cache.record(&e.path, stat_of(&m), e.hash, i64::MAX);
            }
        }
        let _ = cache.save(true);
    }
}

/// A non-empty target that is not the version asked for, and no permission to replace it.
fn not_empty(dest: &Path) -> Error {
    Error::Conflict(format!("'{}' exists and is not empty", dest.display()))
        .with_remedy(Remedy::Overwrite)
}

/// How many discarded paths a warning names before it says "and N more".
const NAMED: usize = 10;

/// The name of a read-only cached copy. A draft's content can change under the same id: its
/// copies are keyed by content too.
pub(crate) fn view_key(v: &strata_core::Version, opts: &GetRequest) -> String {
    let mut key = v.id.clone();
    if v.state == strata_core::State::Draft {
        key = format!("{key}-{}", &v.manifest.to_hex()[..12]);
    }
    if opts.is_subset() {
        key = format!("{key}-{}", opts.selection_key());
    }
    key
}

fn with_fetched(o: GetOutcome, (objects, bytes): (u64, u64)) -> GetOutcome {
    GetOutcome {
        fetched_objects: objects,
        fetched_bytes: bytes,
        ..o
    }
}

/// Removes staging folders left by killed processes (`<prefix><pid>-...`).
fn sweep_stale(dir: &Path, prefix: &str) {
    let Ok(items) = fs::read_dir(dir) else { return };
    for item in items.flatten() {
        let name = item.file_name().to_string_lossy().to_string();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !strata_core::lock::pid_alive(pid) {
                let _ = fs::remove_dir_all(item.path());
            }
        }
    }
}
