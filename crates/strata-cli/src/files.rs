//! Files the CLI writes for the user (a plot, thumbnails): whole or not at all, and never outside
//! the folder asked for.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::{Error, IoContext, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `dest` through a temporary file beside it and a rename, so a reader (an
/// image viewer refreshing, a script waiting for the file) sees the old file or the whole new
/// one, and an interrupted run leaves no half-written file under the asked name. Not synced:
/// these are outputs made again by running the command again, and a sync per thumbnail would
/// cost more than making it.
pub fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::invalid(format!("'{}' is not a file name", dest.display())))?;
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs::rename(&tmp, dest));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e).ctx("write", dest);
    }
    Ok(())
}

/// A folder files named by dataset paths are written into (`preview --out DIR`). The paths come
/// from a manifest, which may be a teammate's or a bucket's: each is checked with the store's own
/// path rule (relative, no `..`, no control characters) and every folder on the way is created
/// here or must be a real folder, never a symbolic link that would lead out of `root`.
pub struct OutFolder {
    root: PathBuf,
    /// Folders under `root` known to be real folders (checked or made by this run).
    known: HashSet<PathBuf>,
}

impl OutFolder {
    pub fn create(root: &Path) -> Result<Self> {
        fs::create_dir_all(root).ctx("create", root)?;
        let meta = fs::metadata(root).ctx("read", root)?;
        if !meta.is_dir() {
            return Err(Error::invalid(format!(
                "'{}' is not a folder",
                root.display()
            )));
        }
        Ok(Self {
            root: root.to_path_buf(),
            known: HashSet::new(),
        })
    }

    /// Where the file for dataset path `path` plus `suffix` goes, its folders made; an error
    /// naming the path when it is unsafe or a link stands in the way.
    pub fn place(&mut self, path: &str, suffix: &str) -> std::result::Result<PathBuf, String> {
        if let Some(why) = strata_core::manifest::path_problem(path) {
            return Err(format!("unsafe path refused ({why})"));
        }
        let mut at = self.root.clone();
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                return Ok(at.join(format!("{part}{suffix}")));
            }
            at.push(part);
            if self.known.contains(&at) {
                continue;
            }
            match fs::symlink_metadata(&at) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => {
                    return Err(format!(
                        "'{}' is in the way: a file or link, not a folder",
                        at.display()
                    ))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&at) {
                    Ok(()) => {}
                    // Made meanwhile by another run: checked again below.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        let real = fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir());
                        if !real {
                            return Err(format!("'{}' is in the way", at.display()));
                        }
                    }
                    Err(e) => return Err(format!("creating '{}' failed: {e}", at.display())),
                },
                Err(e) => return Err(format!("reading '{}' failed: {e}", at.display())),
            }
            self.known.insert(at.clone());
        }
        // `split` yields at least one part, so the loop returned.
        Err("empty path".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_stay_inside_the_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut out = OutFolder::create(&dir.path().join("out")).expect("create");
        let p = out.place("a/b/c.jpg", ".png").expect("placed");
        assert_eq!(p, dir.path().join("out/a/b/c.jpg.png"));
        assert!(dir.path().join("out/a/b").is_dir());
        for bad in ["../x.jpg", "/etc/x", "a/../../x", "a//b", "a\\b"] {
            assert!(out.place(bad, ".png").is_err(), "{bad}");
        }
        std::os::unix::fs::symlink(dir.path(), dir.path().join("out/link")).expect("link");
        assert!(out.place("link/x.jpg", ".png").is_err(), "through a link");
    }

    #[test]
    fn an_atomic_write_leaves_only_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("plot.svg");
        write_atomic(&p, b"<svg/>").expect("write");
        write_atomic(&p, b"<svg></svg>").expect("rewrite");
        assert_eq!(fs::read(&p).expect("read"), b"<svg></svg>");
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }
}
