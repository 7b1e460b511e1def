//! Writing a version's files to disk: read-only copies made of hard links into a pool of
//! extracted objects (large objects link straight to the store), and mutable copies made of
//! fresh files. Both fill a folder the caller then renames into place, so a copy appears whole
//! or not at all. Many small files are written by several threads at once: on these machines
//! file creation, not bandwidth, is the bottleneck.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;
use strata_core::{Cancel, Entry, Error, Hash, IoContext, Progress, Result};

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
    entries
        .iter()
        .map(|e| {
            // Linked files are fetched into the store (and checked) before a copy is written.
            match store.locate(&e.hash, e.size)? {
                Some(loc) => Ok((e, loc)),
                None => Err(Error::Corrupt {
                    what: "store".into(),
                    detail: format!(
                        "content of '{}' ({}) is missing; run `strata verify`",
                        e.path,
                        &e.hash.to_hex()[..12]
                    ),
                }),
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

/// The pool file of an extracted packed object.
pub fn pool_path(pool: &Path, h: &Hash) -> PathBuf {
    let hex = h.to_hex();
    pool.join(&hex[..2]).join(hex)
}

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
    if mode == Mode::ReadOnly {
        ensure_pool_dirs(pool, &planned)?;
    }
    let workers = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(WRITERS).clamp(1, 64))
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    // One task per folder: threads then rarely contend for the same directory's lock, which on
    // ext4 costs more than the writes themselves.
    let mut groups: Vec<&[(&Entry, Location)]> = Vec::new();
    let mut start = 0;
    for i in 1..=planned.len() {
        let split = i == planned.len()
            || parent_of(&planned[i].0.path) != parent_of(&planned[start].0.path);
        // A huge folder still spreads over threads, in large slices.
        if split || i - start >= 1024 {
            groups.push(&planned[start..i]);
            start = i;
        }
    }
    workers.install(|| {
        groups.par_iter().try_for_each(|group| -> Result<()> {
            for (e, loc) in group.iter() {
                cancel.check()?;
                let target = dest.join(&e.path);
                match mode {
                    Mode::ReadOnly => match loc {
                        Location::Loose(p) => link_or_copy(p, &target)?,
                        Location::Packed { .. } => {
                            let pooled = pool_path(pool, &e.hash);
                            match fs::hard_link(&pooled, &target) {
                                Ok(()) => {}
                                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                                    // First use: write the copy itself, read-only from birth, then
                                    // offer it to the pool. Only whole files are ever linked there.
                                    write_new(&target, &store.read(loc)?, 0o444)?;
                                    let _ = fs::hard_link(&target, &pooled);
                                }
                                Err(_) => link_or_copy(&pooled, &target)?,
                            }
                        }
                    },
                    Mode::Mutable => match loc {
                        Location::Loose(p) => {
                            fs::copy(p, &target).ctx("copy to", &target)?;
                            fs::set_permissions(&target, fs::Permissions::from_mode(0o644))
                                .ctx("set permissions of", &target)?;
                        }
                        Location::Packed { .. } => write_new(&target, &store.read(loc)?, 0o644)?,
                    },
                }
                progress.advance(1, e.size);
            }
            Ok(())
        })
    })?;
    progress.end();
    Ok(Written {
        files: planned.len() as u64,
        bytes: total,
    })
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

/// The pool's fan-out folders that packed entries will need (large objects link to the store).
fn ensure_pool_dirs(pool: &Path, planned: &[(&Entry, Location)]) -> Result<()> {
    let mut needed = [false; 256];
    for (e, loc) in planned {
        if matches!(loc, Location::Packed { .. }) {
            needed[e.hash.0[0] as usize] = true;
        }
    }
    for (i, _) in needed.iter().enumerate().filter(|(_, n)| **n) {
        let d = pool.join(format!("{i:02x}"));
        if !d.is_dir() {
            fs::create_dir_all(&d).ctx("create", &d)?;
        }
    }
    Ok(())
}

fn link_or_copy(src: &Path, target: &Path) -> Result<()> {
    match fs::hard_link(src, target) {
        Ok(()) => Ok(()),
        // Too many links to one inode, or another filesystem: fall back to a read-only copy.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EMLINK) | Some(libc::EXDEV)) => {
            fs::copy(src, target).ctx("copy to", target)?;
            fsutil::make_read_only(target)
        }
        Err(e) => Err(e).ctx("link", target),
    }
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
            return Err(Error::Conflict(format!(
                "'{}' exists and is not empty; pass --overwrite to replace it",
                dest.display()
            )))
        }
    }
    fs::rename(staged, dest).ctx("rename into place", dest)
}

pub fn is_empty_dir(p: &Path) -> Result<bool> {
    Ok(fs::read_dir(p).ctx("read", p)?.next().is_none())
}

/// A staging folder beside `dest` (same filesystem, so the final rename is atomic).
pub fn staging_for(dest: &Path) -> Result<PathBuf> {
    let parent = fsutil::ensure_parent(dest)?;
    let name = dest.file_name().and_then(|n| n.to_str()).unwrap_or("copy");
    let staged = parent.join(format!(".{name}.strata-tmp-{}", fsutil::unique_name("")));
    fs::create_dir(&staged).ctx("create", &staged)?;
    Ok(staged)
}
