//! Walking a folder (or taking one file) into a list of sources with their stat, ready for
//! ingest. Symlinks are followed; a loop, an unreadable entry, a non-UTF-8 name or one no
//! manifest may hold stops the scan with an error naming the path, before anything is written.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use strata_core::{Error, IoContext, PathFilter, Progress, Result};

use crate::statcache::Stat;

/// One file to bring into a version.
#[derive(Clone, Debug)]
pub struct Source {
    /// Path relative to the scanned root: the stat cache key.
    pub rel: String,
    /// Where the file goes in the dataset.
    pub dataset_path: String,
    pub abs: PathBuf,
    pub stat: Stat,
}

pub struct Scan {
    /// The scanned root, absolute.
    pub root: PathBuf,
    pub files: Vec<Source>,
    /// True when every file under the root was taken (no filter, recursive): the stat cache can
    /// then forget files that are gone.
    pub complete: bool,
    pub started_ns: i64,
}

impl Scan {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.stat.size).sum()
    }
}

pub struct ScanOptions<'a> {
    /// Only files whose path relative to the root matches.
    pub filter: Option<&'a PathFilter>,
    pub recursive: bool,
    /// Dataset folder to place files under (`--to`), already normalized.
    pub prefix: &'a str,
    /// When false, a file path is rejected (sync and snapshot need folders).
    pub allow_file: bool,
}

impl Default for ScanOptions<'_> {
    fn default() -> Self {
        ScanOptions {
            filter: None,
            recursive: true,
            prefix: "",
            allow_file: false,
        }
    }
}

pub fn scan_folder(path: &Path, opts: &ScanOptions<'_>, progress: &dyn Progress) -> Result<Scan> {
    let started_ns = now_ns();
    let meta = std::fs::metadata(path).ctx("read", path)?;
    let root = std::path::absolute(path).ctx("resolve", path)?;
    if meta.is_file() {
        if !opts.allow_file {
            return Err(Error::invalid(format!(
                "'{}' is a file; give a folder",
                path.display()
            )));
        }
        let name = utf8_name(&root)?;
        let parent = root.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok(Scan {
            root: parent,
            files: vec![Source {
                dataset_path: join(opts.prefix, &name),
                rel: name,
                abs: root.clone(),
                stat: stat_of(&meta),
            }],
            complete: false,
            started_ns,
        });
    }
    if !meta.is_dir() {
        return Err(Error::invalid(format!(
            "'{}' is neither a file nor a folder",
            path.display()
        )));
    }
    progress.begin("scanning", 0, 0);
    let files = walk(&root, opts)?;
    progress.end();
    Ok(Scan {
        root,
        files,
        complete: opts.filter.is_none() && opts.recursive,
        started_ns,
    })
}

/// Walks `root` with one task per folder on the thread pool. Entries are stat'ed relative to
/// their folder (no full-path lookup per file), which is most of a re-scan's cost.
fn walk(root: &Path, opts: &ScanOptions<'_>) -> Result<Vec<Source>> {
    let found = Mutex::new(Vec::new());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    let root_meta = std::fs::metadata(root).ctx("read", root)?;
    let chain = vec![(root_meta.dev(), root_meta.ino())];
    rayon::scope(|s| {
        walk_dir(
            s,
            root.to_path_buf(),
            String::new(),
            chain,
            opts,
            &found,
            &failed,
        );
    });
    if let Some(e) = failed.into_inner().unwrap_or(None) {
        return Err(e);
    }
    Ok(found.into_inner().unwrap_or_default())
}

fn walk_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    chain: Vec<(u64, u64)>,
    opts: &'s ScanOptions<'s>,
    found: &'s Mutex<Vec<Source>>,
    failed: &'s Mutex<Option<Error>>,
) {
    if failed.lock().map(|f| f.is_some()).unwrap_or(true) {
        return; // another folder failed: the scan is over
    }
    match read_dir(scope, &dir, &rel, &chain, opts, found, failed) {
        Ok(mut local) => {
            if let Ok(mut f) = found.lock() {
                f.append(&mut local);
            }
        }
        Err(e) => {
            if let Ok(mut f) = failed.lock() {
                f.get_or_insert(e);
            }
        }
    }
}

/// The files of one folder; subfolders are handed to new tasks.
#[allow(clippy::too_many_arguments)]
fn read_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: &Path,
    rel: &str,
    chain: &[(u64, u64)],
    opts: &'s ScanOptions<'s>,
    found: &'s Mutex<Vec<Source>>,
    failed: &'s Mutex<Option<Error>>,
) -> Result<Vec<Source>> {
    let mut local = Vec::new();
    for item in std::fs::read_dir(dir).ctx("read", dir)? {
        let item = item.ctx("read", dir)?;
        let path = item.path();
        let name = item.file_name();
        let name = name.to_str().ok_or_else(|| {
            Error::invalid(format!(
                "file name is not valid UTF-8: '{}'",
                path.display()
            ))
        })?;
        let child_rel = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        // A name no manifest may hold (a control character, a backslash) stops the scan here,
        // like a non-UTF-8 one: stored, it would make the version unreadable.
        if let Some(why) = strata_core::manifest::path_problem(&child_rel) {
            return Err(Error::invalid(format!(
                "'{}' cannot be versioned ({why}): rename it or move it out of the folder",
                path.display().to_string().escape_debug()
            )));
        }
        let ft = item.file_type().ctx("read", &path)?;
        // Symlinks are followed: stat the target by full path (rare, so the cost is fine).
        let (meta, is_link) = if ft.is_symlink() {
            (std::fs::metadata(&path).ctx("read", &path)?, true)
        } else if ft.is_dir() {
            if opts.recursive {
                spawn_dir(scope, path, child_rel, chain, None, opts, found, failed);
            }
            continue;
        } else {
            (item.metadata().ctx("read", &path)?, false)
        };
        if meta.is_dir() {
            if opts.recursive {
                let id = (meta.dev(), meta.ino());
                if is_link && chain.contains(&id) {
                    return Err(Error::invalid(format!(
                        "symlink loop at '{}'",
                        path.display()
                    )));
                }
                spawn_dir(scope, path, child_rel, chain, Some(id), opts, found, failed);
            }
            continue;
        }
        if !meta.is_file() {
            continue; // sockets, fifos, devices: not dataset content
        }
        if let Some(f) = opts.filter {
            if !f.matches(&child_rel) {
                continue;
            }
        }
        local.push(Source {
            dataset_path: join(opts.prefix, &child_rel),
            rel: child_rel,
            abs: path,
            stat: stat_of(&meta),
        });
    }
    Ok(local)
}

#[allow(clippy::too_many_arguments)]
fn spawn_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    chain: &[(u64, u64)],
    id: Option<(u64, u64)>,
    opts: &'s ScanOptions<'s>,
    found: &'s Mutex<Vec<Source>>,
    failed: &'s Mutex<Option<Error>>,
) {
    let id = match id {
        Some(i) => i,
        None => match std::fs::symlink_metadata(&dir) {
            Ok(m) => (m.dev(), m.ino()),
            Err(_) => (0, 0),
        },
    };
    let mut chain = chain.to_vec();
    chain.push(id);
    scope.spawn(move |s| walk_dir(s, dir, rel, chain, opts, found, failed));
}

pub fn stat_of(meta: &std::fs::Metadata) -> Stat {
    Stat {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
        ino: meta.ino(),
    }
}

fn utf8_name(p: &Path) -> Result<String> {
    let name = p
        .file_name()
        .ok_or_else(|| Error::invalid(format!("'{}' has no file name", p.display())))?;
    let name = name.to_str().ok_or_else(|| {
        Error::invalid(format!("file name is not valid UTF-8: '{}'", p.display()))
    })?;
    if let Some(why) = strata_core::manifest::path_problem(name) {
        return Err(Error::invalid(format!(
            "'{}' cannot be versioned ({why}): rename it",
            p.display().to_string().escape_debug()
        )));
    }
    Ok(name.to_string())
}

fn join(prefix: &str, rel: &str) -> String {
    if prefix.is_empty() {
        rel.to_string()
    } else {
        format!("{prefix}/{rel}")
    }
}

/// Normalizes a dataset folder given by a user (`--to`): no leading or trailing `/`, no `.` or
/// `..` segments, so nothing can point outside the dataset.
pub fn dataset_dir(s: &str) -> Result<String> {
    let parts: Vec<&str> = s
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(Error::invalid(format!(
            "dataset folder '{s}' must not contain '..'"
        )));
    }
    Ok(parts.join("/"))
}

pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
