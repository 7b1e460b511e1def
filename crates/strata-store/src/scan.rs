//! Walking a folder (or taking one file) into a list of sources with their stat, ready for
//! ingest. Symlinks are followed; a loop, an unreadable entry or a non-UTF-8 name stops the scan
//! with an error naming the path, before anything is written.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

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
    let mut walker = walkdir::WalkDir::new(&root).follow_links(true).min_depth(1);
    if !opts.recursive {
        walker = walker.max_depth(1);
    }
    let mut files = Vec::new();
    for item in walker {
        let item = item.map_err(|e| walk_error(e, &root))?;
        let ft = item.file_type();
        if ft.is_dir() {
            continue;
        }
        let rel_path = item.path().strip_prefix(&root).unwrap_or(item.path());
        let rel = utf8_rel(rel_path, item.path())?;
        if !ft.is_file() {
            progress.warn(&format!("skipped '{rel}': not a regular file"));
            continue;
        }
        if let Some(f) = opts.filter {
            if !f.matches(&rel) {
                continue;
            }
        }
        let meta = item.metadata().map_err(|e| walk_error(e, &root))?;
        files.push(Source {
            dataset_path: join(opts.prefix, &rel),
            rel,
            abs: item.into_path(),
            stat: stat_of(&meta),
        });
        if files.len() % 4096 == 0 {
            progress.advance(4096, 0);
        }
    }
    progress.end();
    Ok(Scan {
        root,
        files,
        complete: opts.filter.is_none() && opts.recursive,
        started_ns,
    })
}

fn walk_error(e: walkdir::Error, root: &Path) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    if e.loop_ancestor().is_some() {
        return Error::invalid(format!("symlink loop at '{}'", path.display()));
    }
    match e.into_io_error() {
        Some(io) => Error::Io {
            action: "read",
            path,
            source: io,
        },
        None => Error::invalid(format!("cannot walk '{}'", path.display())),
    }
}

pub fn stat_of(meta: &std::fs::Metadata) -> Stat {
    Stat {
        size: meta.len(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
        ino: meta.ino(),
    }
}

fn utf8_name(p: &Path) -> Result<String> {
    let name = p
        .file_name()
        .ok_or_else(|| Error::invalid(format!("'{}' has no file name", p.display())))?;
    name.to_str()
        .map(str::to_string)
        .ok_or_else(|| Error::invalid(format!("file name is not valid UTF-8: '{}'", p.display())))
}

fn utf8_rel(rel: &Path, full: &Path) -> Result<String> {
    let s = rel.to_str().ok_or_else(|| {
        Error::invalid(format!(
            "file name is not valid UTF-8: '{}'",
            full.display()
        ))
    })?;
    Ok(s.replace(std::path::MAIN_SEPARATOR, "/"))
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
