//! Writing a version's files to disk: read-only copies made of hard links into a pool of
//! extracted objects (see [`crate::pool`]: a pool file edited through a copy is never linked
//! again, and store objects are never linked out), and mutable copies made of fresh files. Both fill a folder the caller then renames into place, so a copy appears whole
//! or not at all. Many small files are written by several threads at once: on these machines
//! file creation, not bandwidth, is the bottleneck. A mutable copy can also be switched to other
//! content in place ([`move_over`]): only the files that differ are replaced, one rename each.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use strata_core::{Cancel, Entry, Error, Hash, IoContext, Progress, Result};

use crate::pool::{BuildHashPrefix, Pool, Records};
use crate::statcache::Stat;
use crate::{fsutil, Location, Store};

const WRITERS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Hard links to read-only objects (copies where linking is impossible).
    ReadOnly,
    /// Independent writable files.
    Mutable,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Written {
    pub files: u64,
    pub bytes: u64,
}

/// Where each entry's content is; fails on the first entry the store lacks.
pub fn plan<'a>(store: &Store, entries: &'a [Entry]) -> Result<Vec<(&'a Entry, Location)>> {
    let small = |e: &Entry| e.chunks.is_none() && e.size < crate::LOOSE_MIN;
    // The small whole objects looked up in one index transaction (a query each took a lock
    // each, a visible part of writing 200,000 small files), answered in the order asked, absent
    // ones left out: matched to the entries in order, with no map of a million locations.
    let mut packed = store
        .index
        .get_many(entries.iter().filter(|e| small(e)).map(|e| &e.hash))?
        .into_iter()
        .peekable();
    entries
        .iter()
        .map(|e| {
            let found = if small(e) {
                // An absent content is absent for every entry that has it (one transaction),
                // so the next answer is this entry's exactly when its hash is this one's.
                packed
                    .next_if(|(h, ..)| *h == e.hash)
                    .map(|(_, pack, offset, len)| Location::Packed { pack, offset, len })
            } else {
                store.locate_entry(e)?
            };
            // Linked files are fetched into the store (and checked) before a copy is written.
            match found {
                Some(loc) => Ok((e, loc)),
                None => Err(Error::Corrupt {
                    what: "store".into(),
                    detail: format!(
                        "content of '{}' ({}) is missing",
                        e.path,
                        &e.hash.to_hex()[..12]
                    ),
                }
                .with_remedy(strata_core::error::Remedy::Verify)),
            }
        })
        .collect()
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

/// Joins a dataset path under `root`, refusing anything that could leave it.
pub fn safe_join(root: &Path, dataset_path: &str) -> Result<PathBuf> {
    let rel = Path::new(dataset_path);
    let ok =
        !dataset_path.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !ok {
        return Err(Error::invalid(format!(
            "unsafe dataset path '{dataset_path}' refused"
        )));
    }
    Ok(root.join(rel))
}

pub use crate::pool::pool_path;

/// How and where [`write_tree`] writes.
pub struct Target<'a> {
    /// A fresh, empty folder.
    pub dest: &'a Path,
    pub mode: Mode,
    /// The pool of extracted objects read-only copies link to.
    pub pool: &'a Path,
    /// Parallel writers [default: 8].
    pub jobs: Option<usize>,
}

/// Fills `target.dest` with `entries`.
pub fn write_tree(
    store: &Store,
    entries: &[Entry],
    target: &Target<'_>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Written> {
    let Target {
        dest,
        mode,
        pool,
        jobs,
    } = *target;
    let planned = plan(store, entries)?;
    let mut dirs = BTreeSet::new();
    for (e, _) in &planned {
        let p = safe_join(dest, &e.path)?;
        if let Some(parent) = p.parent() {
            dirs.insert(parent.to_path_buf());
        }
    }
    for d in &dirs {
        fs::create_dir_all(d).ctx("create", d)?;
    }
    let total: u64 = planned.iter().map(|(e, _)| e.size).sum();
    progress.begin("writing", planned.len() as u64, total);
    let workers = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(WRITERS).clamp(1, 64))
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let written = match mode {
        Mode::ReadOnly => {
            let pool = Pool::open(pool)?;
            link_all(
                store, &pool, dest, &planned, false, &workers, progress, cancel,
            )?;
            planned.len() as u64
        }
        Mode::Mutable => {
            workers.install(|| {
                groups(&planned)
                    .par_iter()
                    .try_for_each(|group| -> Result<()> {
                        for (e, loc) in group.iter() {
                            cancel.check()?;
                            let target = dest.join(&e.path);
                            match loc {
                                // A file of its own (editing it must not reach the store):
                                // a reflink where the filesystem has them, else one copy
                                // made by the kernel, never read through this process.
                                Location::Loose(p) => crate::pool::clone_or_copy(p, &target)?,
                                Location::Packed { .. } => {
                                    write_new(&target, &store.read(loc)?, 0o644)?
                                }
                                Location::Chunked(_) => store.assemble(e, loc, &target, 0o644)?,
                            }
                            progress.advance(1, e.size);
                        }
                        Ok(())
                    })
            })?;
            planned.len() as u64
        }
    };
    progress.end();
    Ok(Written {
        files: written,
        bytes: total,
    })
}

/// One group per folder: threads then rarely contend for the same directory's lock, which on
/// ext4 costs more than the writes themselves. A huge folder still spreads over threads, in
/// large slices, and so does a folder of large files (by bytes: eight 128 MB shards in one
/// folder are assembled by every writer, not one after the other by a single thread).
fn groups<'p, 'e>(planned: &'p [(&'e Entry, Location)]) -> Vec<&'p [(&'e Entry, Location)]> {
    const GROUP_BYTES: u64 = 32 << 20;
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0u64;
    for i in 1..=planned.len() {
        bytes += planned[i - 1].0.size;
        let split = i == planned.len()
            || parent_of(&planned[i].0.path) != parent_of(&planned[start].0.path);
        if split || i - start >= 1024 || bytes >= GROUP_BYTES {
            out.push(&planned[start..i]);
            start = i;
            bytes = 0;
        }
    }
    out
}

/// Pool files' stats recorded in one transaction while a read-only copy is made.
const RECORD_BATCH: usize = 65_536;

/// Makes every planned entry under `dest` a link to its intact pool file. With `replace`, an
/// existing file is swapped for the link atomically (healing an edited copy); otherwise the
/// targets must not exist yet.
#[allow(clippy::too_many_arguments)]
fn link_all(
    store: &Store,
    pool: &Pool,
    dest: &Path,
    planned: &[(&Entry, Location)],
    replace: bool,
    workers: &rayon::ThreadPool,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<()> {
    let records = pool.records()?;
    // Contents several files share, found by sorting the hashes (a map counting the uses of a
    // million contents took 80 MB): usually none.
    let shared_contents: HashSet<Hash, BuildHashPrefix> = {
        let mut all: Vec<Hash> = planned.iter().map(|(e, _)| e.hash).collect();
        all.sort_unstable();
        all.windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect()
    };
    let shared = |h: &Hash| shared_contents.contains(h);
    // Contents used once (nearly all, usually): each extracted and linked in one go, by folder,
    // and its stat taken from the open file (see `Pool::link_once`).
    let fresh: std::sync::Mutex<Vec<(Hash, Stat)>> = std::sync::Mutex::new(Vec::new());
    let once = workers.install(|| {
        groups(planned)
            .par_iter()
            .try_for_each(|group| -> Result<()> {
                let mut mine = Vec::with_capacity(group.len());
                let linked = link_group(
                    store, pool, &records, dest, group, replace, &shared, &mut mine, progress,
                    cancel,
                );
                // Recorded a batch at a time as the groups finish, not all at the end: a copy
                // of a million files would hold a million stats (64 MB) until then.
                let batch = fresh.lock().ok().and_then(|mut all| {
                    all.append(&mut mine);
                    (all.len() >= RECORD_BATCH).then(|| std::mem::take(&mut *all))
                });
                let recorded = batch.map_or(Ok(()), |b| pool.record(&b));
                linked.and(recorded)
            })
    });
    // Contents several files share: first each extracted once (so two paths with equal content
    // never race to extract it), then the links, then their stat.
    let mut twice = Ok(());
    if once.is_ok() {
        let mut unique: HashMap<Hash, (&Entry, &Location)> = HashMap::new();
        for (e, loc) in planned.iter().filter(|(e, _)| shared(&e.hash)) {
            unique.entry(e.hash).or_insert((e, loc));
        }
        let unique: Vec<(Hash, (&Entry, &Location))> = unique.into_iter().collect();
        let ensured: Result<HashMap<Hash, Stat>> = workers.install(|| {
            unique
                .par_iter()
                .map(|(h, (e, loc))| {
                    cancel.check()?;
                    Ok((*h, pool.ensure(store, &records, e, loc)?))
                })
                .collect()
        });
        twice = ensured.and_then(|ensured| {
            let linked = workers.install(|| {
                groups(planned).par_iter().try_for_each(|group| {
                    in_folder(dest, group, shared, |e, _, dir, name, target| {
                        cancel.check()?;
                        pool.link_pooled(&e.hash, dir, name, target, replace)?;
                        progress.advance(1, e.size);
                        Ok(())
                    })
                })
            });
            // Links moved the pool files' ctime: their stat is taken after, even after a
            // failure part way.
            let refreshed = pool.refresh(&ensured);
            linked.and(refreshed)
        });
    }
    // Recorded even after a failure part way, so the files linked so far are not taken for
    // edited ones.
    let fresh = fresh
        .into_inner()
        .map_err(|_| Error::Internal("pool records poisoned".into()))?;
    let recorded = pool.record(&fresh);
    once?;
    twice?;
    recorded
}

/// [`link_all`] for the files of one group (one folder) whose content no other file of the
/// copy has; the stats to record go to `fresh`.
#[allow(clippy::too_many_arguments)]
fn link_group(
    store: &Store,
    pool: &Pool,
    records: &Records,
    dest: &Path,
    group: &[(&Entry, Location)],
    replace: bool,
    shared: &dyn Fn(&Hash) -> bool,
    fresh: &mut Vec<(Hash, Stat)>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<()> {
    in_folder(
        dest,
        group,
        |h| !shared(h),
        |e, loc, dir, name, target| {
            cancel.check()?;
            if let Some(st) = pool.link_once(store, records, e, loc, dir, name, target, replace)? {
                fresh.push((e.hash, st));
            }
            progress.advance(1, e.size);
            Ok(())
        },
    )
}

/// Calls `each` for the entries of `group` (one folder of the copy at `dest`) whose content
/// `wanted` picks, with the folder opened once and each file's name in it and its path: linked
/// relative to the open folder, a file costs less than resolving its full path again.
fn in_folder(
    dest: &Path,
    group: &[(&Entry, Location)],
    wanted: impl Fn(&Hash) -> bool,
    mut each: impl FnMut(&Entry, &Location, &fs::File, &std::ffi::CStr, &Path) -> Result<()>,
) -> Result<()> {
    let Some((first, _)) = group.iter().find(|(e, _)| wanted(&e.hash)) else {
        return Ok(());
    };
    let folder = parent_of(&first.path);
    let dir_path = if folder.is_empty() {
        dest.to_path_buf()
    } else {
        safe_join(dest, folder)?
    };
    let dir = fs::File::open(&dir_path).ctx("read", &dir_path)?;
    for (e, loc) in group.iter().filter(|(e, _)| wanted(&e.hash)) {
        let base = e.path.rsplit('/').next().unwrap_or(&e.path);
        let name = std::ffi::CString::new(base)
            .map_err(|_| Error::invalid(format!("unsafe dataset path '{}' refused", e.path)))?;
        each(e, loc, &dir, &name, &dir_path.join(base))?;
    }
    Ok(())
}

/// Files of a read-only copy at `dest` that are not the intact pool file of their content:
/// edited through this or another copy, made writable, replaced or missing. Only stats are
/// compared, so checking a copy of 20,000 files before handing it out costs milliseconds.
pub fn stale_files<'e>(
    pool_dir: &Path,
    dest: &Path,
    entries: &'e [Entry],
) -> Result<Vec<&'e Entry>> {
    let pool = Pool::open(pool_dir)?;
    let records = pool.records()?;
    let planned: Vec<(&Entry, Location)> = entries
        .iter()
        .map(|e| (e, Location::Loose(PathBuf::new())))
        .collect();
    // Stat'ed relative to each folder, opened once: resolving 20,000 full paths would cost
    // more than the stats themselves on this path of every repeated `get`.
    let stale: Vec<Vec<&'e Entry>> = groups(&planned)
        .par_iter()
        .map(|group| {
            let Some((first, _)) = group.first() else {
                return Vec::new();
            };
            let folder = parent_of(&first.path);
            let dir = if folder.is_empty() {
                Ok(dest.to_path_buf())
            } else {
                safe_join(dest, folder)
            };
            let dir = dir.and_then(|d| fs::File::open(&d).ctx("read", &d));
            group
                .iter()
                .filter(|(e, _)| {
                    let Ok(dir) = &dir else { return true };
                    let name = e.path.rsplit('/').next().unwrap_or(&e.path);
                    let Ok(name) = std::ffi::CString::new(name) else {
                        return true;
                    };
                    !fsutil::stat_at(dir, &name)
                        .is_some_and(|(st, mode)| records.intact_stat(&e.hash, &st, mode))
                })
                .map(|(e, _)| *e)
                .collect()
        })
        .collect();
    Ok(stale.into_iter().flatten().collect())
}

/// Puts back the intact content of `stale` files of the read-only copy at `dest` (see
/// [`stale_files`]), re-extracting pool files that were edited. Returns how many were restored.
pub fn heal(store: &Store, pool_dir: &Path, dest: &Path, stale: &[&Entry]) -> Result<u64> {
    if stale.is_empty() {
        return Ok(0);
    }
    let entries: Vec<Entry> = stale.iter().map(|e| (*e).clone()).collect();
    let planned = plan(store, &entries)?;
    for (e, _) in &planned {
        if let Some(parent) = safe_join(dest, &e.path)?.parent() {
            fs::create_dir_all(parent).ctx("create", parent)?;
        }
    }
    let pool = Pool::open(pool_dir)?;
    let workers = rayon::ThreadPoolBuilder::new()
        .num_threads(WRITERS)
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    link_all(
        store,
        &pool,
        dest,
        &planned,
        true,
        &workers,
        &strata_core::NoProgress,
        &Cancel::new(),
    )?;
    Ok(planned.len() as u64)
}

fn write_new(target: &Path, data: &[u8], mode: u32) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(target)
        .ctx("create", target)?;
    f.write_all(data).ctx("write", target)
}

/// Puts a fully written `staged` folder at `dest`. An existing non-empty `dest` is replaced only
/// with `overwrite`; the old content is moved aside first and removed last, so at every instant
/// `dest` holds either the old or the new copy.
pub fn place(staged: &Path, dest: &Path, overwrite: bool) -> Result<()> {
    match fs::symlink_metadata(dest) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).ctx("read", dest),
        Ok(m) if m.is_dir() && is_empty_dir(dest)? => {
            fs::remove_dir(dest).ctx("replace", dest)?;
        }
        Ok(_) if overwrite => {
            let aside = dest.with_file_name(format!(
                ".{}.strata-old-{}",
                dest.file_name().and_then(|n| n.to_str()).unwrap_or("copy"),
                std::process::id()
            ));
            fs::rename(dest, &aside).ctx("move aside", dest)?;
            fs::rename(staged, dest).ctx("rename into place", dest)?;
            if aside.is_dir() {
                fsutil::remove_tree(&aside)?;
            } else {
                let _ = fs::remove_file(&aside);
            }
            return Ok(());
        }
        Ok(_) => {
            return Err(
                Error::Conflict(format!("'{}' exists and is not empty", dest.display()))
                    .with_remedy(strata_core::error::Remedy::Overwrite),
            )
        }
    }
    fs::rename(staged, dest).ctx("rename into place", dest)
}

/// True when a path of `paths` under `dest` goes through a symlinked folder: writing or deleting
/// through it would change files outside `dest`, so such a folder is not switched in place.
pub fn crosses_symlink<'a>(dest: &Path, paths: impl IntoIterator<Item = &'a str>) -> Result<bool> {
    let mut checked: HashSet<&str> = HashSet::new();
    for p in paths {
        let mut folder = parent_of(p);
        // A folder checked before had its parents checked too.
        while !folder.is_empty() && checked.insert(folder) {
            let path = safe_join(dest, folder)?;
            match fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => return Ok(true),
                Ok(_) => {}
                // Missing: the switch creates it, as a real folder.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).ctx("read", &path),
            }
            folder = parent_of(folder);
        }
    }
    Ok(false)
}

/// Switches the folder `dest` in place: deletes the files `remove` names (and the folders that
/// leaves empty), then renames each file of `write`, fully written beforehand under `staged`
/// (beside `dest`, so on the same filesystem), over its path. Every file is at each instant its
/// old or its new content, and a file named in neither list is not touched at all: same inode,
/// same times. Whatever fails first stops the switch; running it again finishes it.
pub fn move_over(staged: &Path, dest: &Path, write: &[Entry], remove: &[String]) -> Result<()> {
    let mut emptied: BTreeSet<&str> = BTreeSet::new();
    for p in remove {
        let target = safe_join(dest, p)?;
        match fs::remove_file(&target) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).ctx("remove", &target),
        }
        let mut folder = parent_of(p);
        while !folder.is_empty() && emptied.insert(folder) {
            folder = parent_of(folder);
        }
    }
    // Deepest first, so a folder holding only emptied folders goes too. A fresh copy has no empty
    // folders; one still holding anything (the user's own empty folder, say) is refused by
    // `remove_dir` and stays, which is all that is wanted: the errors are not failures.
    let mut folders: Vec<&str> = emptied.into_iter().collect();
    folders.sort_by_key(|f| std::cmp::Reverse(f.matches('/').count()));
    for f in folders {
        let _ = fs::remove_dir(dest.join(f));
    }
    let mut made: HashSet<PathBuf> = HashSet::new();
    for e in write {
        let from = safe_join(staged, &e.path)?;
        let to = safe_join(dest, &e.path)?;
        if let Some(parent) = to.parent() {
            if !made.contains(parent) {
                fs::create_dir_all(parent).ctx("create", parent)?;
                made.insert(parent.to_path_buf());
            }
        }
        replace_file(&from, &to)?;
    }
    Ok(())
}

/// Puts `from` at `to` atomically, replacing whatever file is there.
fn replace_file(from: &Path, to: &Path) -> Result<()> {
    let err = match fs::rename(from, to) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    // A folder mounted inside the target: the bytes are copied to a temporary file beside the
    // file, then renamed, which is atomic again.
    if err.raw_os_error() == Some(libc::EXDEV) {
        let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let tmp = to.with_file_name(format!(".{name}.strata-switch-{}", fsutil::unique_name("")));
        let placed = fs::copy(from, &tmp)
            .ctx("copy to", &tmp)
            .and_then(|_| fs::rename(&tmp, to).ctx("rename into place", to));
        if placed.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        return placed;
    }
    // An empty folder where the version has a file (a non-empty one stays an error).
    if to.is_dir() && fs::remove_dir(to).is_ok() {
        return fs::rename(from, to).ctx("rename into place", to);
    }
    Err(err).ctx("rename into place", to)
}

pub fn is_empty_dir(p: &Path) -> Result<bool> {
    Ok(fs::read_dir(p).ctx("read", p)?.next().is_none())
}

/// A staging folder beside a `--to` target (same filesystem, so the final rename is atomic),
/// named `.<name>.strata-tmp-<token>` with a random token, and proven ours by a lock file beside
/// it, `<staging>.lock`, that holds the same token and stays locked while this process lives. A
/// folder is only ever swept (see [`sweep_staging`]) with all three: the exact name, the lock
/// file naming its token, and no live process holding that lock. A user's folder that merely
/// looks alike is never touched.
pub struct Staging {
    dir: PathBuf,
    lock_path: PathBuf,
    _lock: fsutil::FileLock,
}

const STAGING_INFIX: &str = ".strata-tmp-";

impl Staging {
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Staging {
    /// The folder was placed or removed by then; the lock file goes with the lock.
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.lock_path);
    }
}

fn staging_marker(token: &str) -> String {
    format!("strata staging {token}\n")
}

pub fn staging_for(dest: &Path) -> Result<Staging> {
    let parent = fsutil::ensure_parent(dest)?;
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("copy");
    let token = fsutil::random_token();
    let dir = parent.join(format!(".{name}{STAGING_INFIX}{token}"));
    let lock_path = parent.join(format!(".{name}{STAGING_INFIX}{token}.lock"));
    // The lock file appears marked and locked at once, before the folder exists: a sweeper can
    // never see the folder, or the marked lock file, without the proof that it is ours and
    // alive, and a kill leaves no empty lock file behind.
    let lock = fsutil::FileLock::create_marked(&lock_path, staging_marker(&token).as_bytes())?;
    let staging = Staging {
        dir,
        lock_path,
        _lock: lock,
    };
    fs::create_dir(&staging.dir).ctx("create", &staging.dir)?;
    Ok(staging)
}

/// Removes staging folders in `parent` left by killed processes (see [`Staging`]).
pub fn sweep_staging(parent: &Path) {
    let Ok(items) = fs::read_dir(parent) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(stem) = name.strip_suffix(".lock") {
            sweep_orphan_lock(parent, stem);
            continue;
        }
        let Some(token) = staging_token(name) else {
            continue;
        };
        let dir = item.path();
        let lock_path = parent.join(format!("{name}.lock"));
        let is_dir = fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir());
        let ours = fs::read_to_string(&lock_path).is_ok_and(|m| m == staging_marker(token));
        if !is_dir || !ours {
            continue;
        }
        // A live process holds the lock: its copy is still being written.
        let Ok(_lock) = fsutil::FileLock::exclusive(&lock_path) else {
            continue;
        };
        if fsutil::remove_tree(&dir).is_ok() {
            let _ = fs::remove_file(&lock_path);
        }
    }
}

/// A staging lock file whose folder is gone (its process was killed after placing the copy, or
/// before making the folder): removed when it is exactly ours and nobody holds it. An empty one
/// counts as ours once it is a minute old: its process was killed between taking the lock and
/// marking the file (a live one is between creating the file and locking it for microseconds;
/// the age keeps a sweeper out of that window).
fn sweep_orphan_lock(parent: &Path, stem: &str) {
    let Some(token) = staging_token(stem) else {
        return;
    };
    let lock_path = parent.join(format!("{stem}.lock"));
    if fs::symlink_metadata(parent.join(stem)).is_ok()
        || !fs::read_to_string(&lock_path)
            .is_ok_and(|m| m == staging_marker(token) || (m.is_empty() && aged(&lock_path)))
    {
        return;
    }
    if let Ok(_lock) = fsutil::FileLock::exclusive(&lock_path) {
        let _ = fs::remove_file(&lock_path);
    }
}

/// Whether a file was last changed more than a minute ago.
fn aged(path: &Path) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(60))
}

/// The token of a name of the exact form `.<name>.strata-tmp-<32 hex digits>`.
fn staging_token(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?;
    let (target, token) = rest.rsplit_once(STAGING_INFIX)?;
    let hex = token.len() == 32
        && token
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (!target.is_empty() && hex).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_staging_names_have_a_token() {
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(staging_token(&format!(".data.strata-tmp-{t}")), Some(t));
        assert_eq!(staging_token(".data.strata-tmp-12345"), None);
        assert_eq!(staging_token("mine.strata-tmp-1"), None);
        assert_eq!(staging_token(&format!("data.strata-tmp-{t}")), None);
        assert_eq!(staging_token(&format!(".data.strata-tmp-{t}.lock")), None);
        assert_eq!(
            staging_token(&format!(".data.strata-tmp-{}", t.to_uppercase())),
            None
        );
    }
}
