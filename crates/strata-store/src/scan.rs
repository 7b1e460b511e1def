//! Walking a folder (or taking one file) into a list of sources with their stat, ready for
//! ingest. Symlinks are followed; a loop, an unreadable entry, a non-UTF-8 name or one no
//! manifest may hold stops the scan with an error naming the path, before anything is written.
//!
//! A folder's scan leaves out what [`Ignores`] names: built-in noise ([`NOISE`]) and the patterns
//! of the folder's `.strataignore`. A file given by name is taken whatever its name: the user
//! asked for it.

use std::io::Read;
use std::ops::Range;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use rayon::slice::ParallelSliceMut;
use strata_core::{Error, IoContext, PathFilter, Progress, Result};

use crate::fsutil::{self, Listed, Listing};
use crate::statcache::Stat;

/// One file to bring into a version. Only its path relative to the root is kept: a scan of a
/// million files holds a million of these, and its absolute path and dataset path are both
/// this one with a common part put before it ([`Scan::abs`], [`Scan::dataset_path`]).
#[derive(Clone, Debug)]
pub struct Source {
    /// Path relative to the scanned root: the stat cache key.
    pub rel: String,
    pub stat: Stat,
}

pub struct Scan {
    /// The scanned root, absolute.
    pub root: PathBuf,
    /// Dataset folder the files go under (`--to`), normalized; empty for the top.
    pub prefix: String,
    /// Sorted by `rel` (so by dataset path too: the prefix is common to all).
    pub files: Vec<Source>,
    /// True when every file under the root was taken (no filter, recursive; ignored files are
    /// never taken): the stat cache can then forget files that are gone.
    pub complete: bool,
    pub started_ns: i64,
}

impl Scan {
    /// Where the file is on disk.
    pub fn abs(&self, f: &Source) -> PathBuf {
        self.root.join(&f.rel)
    }

    /// Where the file goes in the dataset.
    pub fn dataset_path<'a>(&self, f: &'a Source) -> std::borrow::Cow<'a, str> {
        if self.prefix.is_empty() {
            std::borrow::Cow::Borrowed(&f.rel)
        } else {
            std::borrow::Cow::Owned(join(&self.prefix, &f.rel))
        }
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.stat.size).sum()
    }

    /// Frees a large scan on a thread of its own: a million paths take about a tenth of a
    /// second to free, time that would come after the answer they gave is ready (a no-change
    /// snapshot's, a status's). A process that exits first, as the CLI does, just ends it.
    pub fn drop_aside(self) {
        if self.files.len() < 1 << 16 {
            return; // freed here: quicker than starting a thread
        }
        // Should the thread not start, the scan is freed here all the same.
        let _ = std::thread::Builder::new()
            .name("free-scan".into())
            .spawn(move || drop(self));
    }
}

/// The file of ignore patterns at the top of a scanned folder.
pub const IGNORE_FILE: &str = ".strataignore";

/// A larger `.strataignore` is refused: it is read whole on every scan, and no real list of
/// patterns comes near this.
pub const IGNORE_FILE_MAX: u64 = 1 << 20;

/// Files that programs leave beside the ones a person works on: never data, and they come and
/// go on their own, so a watched folder would otherwise make versions nobody asked for. Matched
/// like lines at the top of a `.strataignore` (on the name alone, at any depth), so a `!` line
/// there takes one back in.
pub const NOISE: &[&str] = &[
    // macOS Finder's view settings, written into every folder it shows.
    ".DS_Store",
    // Windows Explorer's thumbnail cache.
    "Thumbs.db",
    // Vim's swap file, there while a file is open in it.
    "*.swp",
    // Backup copies written on save by Emacs, gedit, nano and others.
    "*~",
    // LibreOffice's lock file, there while a document is open.
    ".~lock.*",
    // Partial output that programs write while saving, then rename or delete.
    "*.tmp",
    // Emacs's lock file (a dangling symlink) while a buffer has unsaved changes.
    ".#*",
];

/// Whether a name is one of [`NOISE`]'s, by hand: every entry of a scan is asked, and three
/// of those patterns make a glob matcher run a regular expression per name (with the rest of
/// the matching, 7 % of a no-change snapshot's CPU time on a million files).
/// `noise_names_are_the_patterns` holds the two to the same answers.
fn is_noise(name: &[u8]) -> bool {
    name == b".DS_Store"
        || name == b"Thumbs.db"
        || name.ends_with(b".swp")
        || name.ends_with(b"~")
        || name.starts_with(b".~lock.")
        || name.ends_with(b".tmp")
        || name.starts_with(b".#")
}

/// What a folder's scan leaves out: [`NOISE`], then the patterns of `<root>/.strataignore`
/// (git's syntax and rules, matched by the `ignore` crate relative to the root: `!` negation,
/// `dir/`, anchored `/x`, `**`). An ignored folder is not walked at all.
///
/// Only the `.strataignore` at the top of the scanned folder is read. One in a subfolder is
/// not (the `ignore` crate matches one file at a time; layering nested files is its walker's
/// job, which the scan does not use): the scan warns about it, and its patterns belong in the
/// top file, prefixed with the subfolder.
///
/// No `.strataignore` ever enters a version: it is configuration, not data, and kept in versions
/// every edit to it would show as a change in the dataset's lineage diffs.
///
/// A watcher can load one for its folder and drop events for ignored paths without scanning;
/// it should load it again when `.strataignore` itself changes.
#[derive(Clone, Debug)]
pub struct Ignores {
    root: PathBuf,
    /// The `.strataignore`'s patterns only; [`NOISE`] is matched by [`is_noise`], as if its
    /// lines came first (so the file's patterns, later, win).
    matcher: Gitignore,
}

impl Ignores {
    /// The built-in noise plus `<root>/.strataignore`, if there is one. The file is user data:
    /// a line that is not a valid pattern, a file over [`IGNORE_FILE_MAX`], a symlink (it could
    /// name a file outside the folder) or anything but a regular file is an `Invalid` error
    /// naming it.
    pub fn load(root: &Path) -> Result<Ignores> {
        let path = root.join(IGNORE_FILE);
        let mut builder = GitignoreBuilder::new(root);
        if let Some(bytes) = read_ignore_file(&path)? {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes); // a BOM from Notepad
            for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
                let at = || format!("{} line {}", path.display(), i + 1);
                let line = std::str::from_utf8(line)
                    .map_err(|_| Error::invalid(format!("{}: not valid UTF-8", at())))?;
                builder
                    .add_line(Some(path.clone()), line)
                    .map_err(|e| Error::invalid(format!("{}: {e}", at())))?;
            }
        }
        let matcher = builder
            .build()
            .map_err(|e| Error::invalid(format!("{}: {e}", path.display())))?;
        Ok(Ignores {
            root: root.to_path_buf(),
            matcher,
        })
    }

    /// True when a scan of the root leaves `rel_path` out: it, or a folder it is in, is ignored.
    /// `rel_path` is relative to the root (an absolute path under the root as given to
    /// [`load`](Ignores::load) is taken too);
    /// `is_dir` says whether it is a folder, since a pattern ending in `/` matches only folders.
    /// A path outside the root, or with `..` in it, is not the scan's to ignore: false.
    pub fn is_ignored(&self, rel_path: &Path, is_dir: bool) -> bool {
        let rel = if rel_path.is_absolute() {
            match rel_path.strip_prefix(&self.root) {
                Ok(r) => r,
                Err(_) => return false,
            }
        } else {
            rel_path
        };
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(p) => parts.push(p),
                Component::CurDir => {}
                _ => return false,
            }
        }
        let mut at = PathBuf::new();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            // Each folder on the way is checked as the walk would meet it.
            let last = i + 1 == parts.len();
            if self.matches(&at, !last || is_dir) {
                return true;
            }
        }
        false
    }

    /// Whether the entry itself is left out; the walk has already checked its folders.
    fn matches(&self, rel: &Path, is_dir: bool) -> bool {
        let name = rel
            .file_name()
            .map(|n| n.as_encoded_bytes())
            .unwrap_or_default();
        if !is_dir && name == IGNORE_FILE.as_bytes() {
            return true;
        }
        // Git's rule: the last pattern that matches decides, and the noise comes first.
        match self.matcher.matched(rel, is_dir) {
            Match::Ignore(_) => true,
            Match::Whitelist(_) => false,
            Match::None => is_noise(name),
        }
    }
}

/// The bytes of a `.strataignore`, or `None` when there is none. Never follows a symlink and
/// never blocks on a fifo.
fn read_ignore_file(path: &Path) -> Result<Option<Vec<u8>>> {
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Error::invalid(format!(
            "'{}' is a symlink: ignore patterns are read only from a regular file in the folder",
            path.display()
        )))
        }
        Err(e) => return Err(e).ctx("read", path),
    };
    let meta = file.metadata().ctx("read", path)?;
    if !meta.is_file() {
        return Err(Error::invalid(format!(
            "'{}' is not a regular file: it must hold ignore patterns, one a line",
            path.display()
        )));
    }
    let too_big = || {
        Error::invalid(format!(
            "'{}' is larger than {} KiB: too large for a list of ignore patterns",
            path.display(),
            IGNORE_FILE_MAX >> 10
        ))
    };
    if meta.len() > IGNORE_FILE_MAX {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // Bounded again while reading: the file can grow after the stat.
    file.take(IGNORE_FILE_MAX + 1)
        .read_to_end(&mut bytes)
        .ctx("read", path)?;
    if bytes.len() as u64 > IGNORE_FILE_MAX {
        return Err(too_big());
    }
    Ok(Some(bytes))
}

pub struct ScanOptions<'a> {
    /// Only files whose path relative to the root matches.
    pub filter: Option<&'a PathFilter>,
    pub recursive: bool,
    /// Dataset folder to place files under (`--to`), already normalized.
    pub prefix: &'a str,
    /// When false, a file path is rejected (sync and snapshot need folders).
    pub allow_file: bool,
    /// Leave out what [`Ignores`] names (the default). Off only to compare a folder with a
    /// version exactly: a version can hold such files, added by name.
    pub ignores: bool,
}

impl Default for ScanOptions<'_> {
    fn default() -> Self {
        ScanOptions {
            filter: None,
            recursive: true,
            prefix: "",
            allow_file: false,
            ignores: true,
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
            prefix: opts.prefix.to_string(),
            files: vec![Source {
                rel: name,
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
    let ignores = opts.ignores.then(|| Ignores::load(&root)).transpose()?;
    progress.begin("scanning", 0, 0);
    let (files, unread) = walk(&root, opts, ignores.as_ref())?;
    progress.end();
    if let Some(first) = unread.first() {
        let more = match unread.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        let dir = first.strip_suffix(IGNORE_FILE).unwrap_or(first);
        progress.warn(&format!(
            "'{first}'{more} is not read: only the {IGNORE_FILE} at the top of '{}' applies \
             (write its patterns there, prefixed with '{dir}'); it is not part of the version",
            root.display()
        ));
    }
    Ok(Scan {
        root,
        prefix: opts.prefix.to_string(),
        files,
        complete: opts.filter.is_none() && opts.recursive,
        started_ns,
    })
}

/// Walks `root` with one task per folder on the thread pool. Entries are stat'ed relative to
/// their folder (no full-path lookup per file), which is most of a re-scan's cost. Returns the
/// files and the `.strataignore` files found below the root (not read).
fn walk(
    root: &Path,
    opts: &ScanOptions<'_>,
    ignores: Option<&Ignores>,
) -> Result<(Vec<Source>, Vec<String>)> {
    let root_meta = std::fs::metadata(root).ctx("read", root)?;
    let chain = vec![(root_meta.dev(), root_meta.ino())];
    let walk = Walk {
        opts,
        ignores,
        found: Mutex::new(Found::default()),
        failed: Mutex::new(None),
        unread: Mutex::new(Vec::new()),
    };
    rayon::scope(|s| walk_dir(s, root.to_path_buf(), String::new(), chain, &walk));
    if let Some(e) = walk.failed.into_inner().unwrap_or(None) {
        return Err(e);
    }
    let mut unread = walk.unread.into_inner().unwrap_or_default();
    unread.sort();
    let Found { mut files, runs } = walk.found.into_inner().unwrap_or_default();
    in_path_order(&mut files, runs);
    Ok((files, unread))
}

/// The files found so far: each folder's, sorted, appended as one run.
#[derive(Default)]
struct Found {
    files: Vec<Source>,
    runs: Vec<Range<usize>>,
}

/// Puts the files in path order, which every later step (stat cache, manifest, diff) relies
/// on to merge instead of sorting or looking up. Folders are walked in parallel, so their runs
/// come in no set order; ordered by their first paths, they nearly always follow one another
/// (they do not where a folder holds files named after one of its subfolders in byte order,
/// `a.csv`, `m/…`, `z.csv`), and are then moved into that order in place: one move per file
/// where a sort of a million paths compares each some twenty times. Otherwise, sorted whole.
fn in_path_order(files: &mut [Source], mut runs: Vec<Range<usize>>) {
    let by_path = |a: &Source, b: &Source| a.rel.cmp(&b.rel);
    runs.sort_unstable_by(|a, b| by_path(&files[a.start], &files[b.start]));
    let follow = runs
        .windows(2)
        .all(|w| files[w[0].end - 1].rel < files[w[1].start].rel);
    if !follow {
        files.par_sort_unstable_by(by_path);
        return;
    }
    if runs.windows(2).all(|w| w[0].end == w[1].start) {
        return; // already in place
    }
    // Each run's place now and where it goes, by place now.
    let mut moves: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    let mut to = 0;
    for run in &runs {
        moves.push((run.start, to));
        to += run.len();
    }
    moves.sort_unstable();
    let dest = |at: usize| {
        let (from, to) = moves[moves.partition_point(|m| m.0 <= at) - 1];
        to + (at - from)
    };
    // Each cycle of the permutation is followed once, from its first place: the file there
    // is swapped to where it belongs, which brings that place's file over, and so on. One bit
    // a file marks the places done (a table of destinations would be 4 MB at a million files,
    // and freeing a block that large makes the allocator keep later ones in its heap).
    let mut done = vec![0u64; files.len().div_ceil(64)];
    for start in 0..files.len() {
        if done[start / 64] & (1 << (start % 64)) != 0 {
            continue;
        }
        // The file at `start` came from `from`; the places of its cycle not yet visited
        // still hold their own files.
        let mut from = start;
        loop {
            let to = dest(from);
            if to == start {
                break;
            }
            files.swap(start, to);
            done[to / 64] |= 1 << (to % 64);
            from = to;
        }
        done[start / 64] |= 1 << (start % 64);
    }
}

/// What every folder's task shares.
struct Walk<'a> {
    opts: &'a ScanOptions<'a>,
    ignores: Option<&'a Ignores>,
    found: Mutex<Found>,
    failed: Mutex<Option<Error>>,
    unread: Mutex<Vec<String>>,
}

fn walk_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    chain: Vec<(u64, u64)>,
    walk: &'s Walk<'s>,
) {
    if walk.failed.lock().map(|f| f.is_some()).unwrap_or(true) {
        return; // another folder failed: the scan is over
    }
    match read_dir(scope, &dir, &rel, &chain, walk) {
        Ok(mut local) => {
            if let (false, Ok(mut f)) = (local.is_empty(), walk.found.lock()) {
                let at = f.files.len();
                f.files.append(&mut local);
                let end = f.files.len();
                f.runs.push(at..end);
            }
        }
        Err(e) => {
            if let Ok(mut f) = walk.failed.lock() {
                f.get_or_insert(e);
            }
        }
    }
}

thread_local! {
    /// A walking thread's listing, reused folder after folder: its buffers are made once per
    /// thread, not once per folder among the paths the scan keeps.
    static LISTING: std::cell::Cell<Listing> = std::cell::Cell::new(Listing::default());
}

/// The files of one folder, sorted by path; subfolders are handed to new tasks.
fn read_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: &Path,
    rel: &str,
    chain: &[(u64, u64)],
    walk: &'s Walk<'s>,
) -> Result<Vec<Source>> {
    let mut listing = LISTING.take();
    let files = read_listed(scope, &mut listing, dir, rel, chain, walk);
    // The pool's threads outlive the scan: the buffers of a folder of a million entries
    // (some 20 MB) are not kept for the next scan.
    if listing.capacity() <= 1 << 16 {
        LISTING.set(listing);
    }
    files
}

fn read_listed<'s>(
    scope: &rayon::Scope<'s>,
    listing: &mut Listing,
    dir: &Path,
    rel: &str,
    chain: &[(u64, u64)],
    walk: &'s Walk<'s>,
) -> Result<Vec<Source>> {
    let opts = walk.opts;
    let dir_file = listing.read(dir).ctx("read", dir)?;
    // In name order, the folder's files come out in path order, and their paths are allocated
    // in that order: read back later one after the other, not from all over the heap.
    listing.sort_by_name();
    let mut local = Vec::with_capacity(listing.len());
    for (name, listed) in listing.iter() {
        let name_bytes = name.to_bytes();
        let entry_path = || dir.join(std::ffi::OsStr::from_bytes(name_bytes));
        // The path relative to the root, built once: the ignore rules, the checks and the
        // stat cache all take it. A non-UTF-8 name is an error below unless it is ignored.
        let utf8 = std::str::from_utf8(name_bytes).ok();
        let child_rel = match utf8 {
            Some(n) if rel.is_empty() => n.to_string(),
            Some(n) => format!("{rel}/{n}"),
            None => String::new(),
        };
        // A listing that does not say what the entry is: asked of the entry.
        let mut stat = None;
        let listed = match listed {
            Listed::Unknown => {
                let (st, mode) = fsutil::try_stat_at(&dir_file, name).ctx("read", &entry_path())?;
                stat = Some(st);
                fsutil::kind_of_mode(mode)
            }
            k => k,
        };
        // Decided before anything else about the entry: an ignored one may be unreadable, a
        // dangling link (Emacs's `.#` locks), oddly named or a folder of a million files.
        // A symlink's kind is unknown until followed: skipped here only if ignored either way.
        if let Some(ig) = walk.ignores {
            let lossy;
            let rel_path = if utf8.is_none() {
                lossy = Path::new(rel).join(std::ffi::OsStr::from_bytes(name_bytes));
                lossy.as_path()
            } else {
                Path::new(&child_rel)
            };
            let skip = if listed == Listed::Symlink {
                ig.matches(rel_path, false) && ig.matches(rel_path, true)
            } else {
                ig.matches(rel_path, listed == Listed::Folder)
            };
            if skip {
                if !rel.is_empty() && listed == Listed::File && name_bytes == IGNORE_FILE.as_bytes()
                {
                    if let Ok(mut u) = walk.unread.lock() {
                        u.push(rel_path.to_string_lossy().into_owned());
                    }
                }
                continue;
            }
        }
        if utf8.is_none() {
            return Err(Error::invalid(format!(
                "file name is not valid UTF-8: '{}'",
                entry_path().display()
            )));
        }
        // A name no manifest may hold (a control character, a backslash) stops the scan here,
        // like a non-UTF-8 one: stored, it would make the version unreadable.
        if let Some(why) = strata_core::manifest::path_problem(&child_rel) {
            return Err(Error::invalid(format!(
                "'{}' cannot be versioned ({why}): rename it, move it out of the folder or \
                 name it in {IGNORE_FILE}",
                entry_path().display().to_string().escape_debug()
            )));
        }
        let stat = match listed {
            Listed::Folder => {
                if opts.recursive {
                    spawn_dir(scope, entry_path(), child_rel, chain, None, walk);
                }
                continue;
            }
            Listed::Symlink => {
                // Followed: the target is stat'ed by full path (rare, so the cost is fine).
                let path = entry_path();
                let meta = std::fs::metadata(&path).ctx("read", &path)?;
                if let Some(ig) = walk.ignores {
                    if ig.matches(Path::new(&child_rel), meta.is_dir()) {
                        continue;
                    }
                }
                if meta.is_dir() {
                    if opts.recursive {
                        let id = (meta.dev(), meta.ino());
                        if chain.contains(&id) {
                            return Err(Error::invalid(format!(
                                "symlink loop at '{}'",
                                path.display()
                            )));
                        }
                        spawn_dir(scope, path, child_rel, chain, Some(id), walk);
                    }
                    continue;
                }
                if !meta.is_file() {
                    continue;
                }
                stat_of(&meta)
            }
            // Sockets, fifos, devices: not dataset content.
            Listed::Other => continue,
            Listed::File | Listed::Unknown => match stat {
                Some(st) => st,
                // Relative to the open folder (fstatat), not by full path.
                None => {
                    let (st, mode) =
                        fsutil::try_stat_at(&dir_file, name).ctx("read", &entry_path())?;
                    if fsutil::kind_of_mode(mode) != Listed::File {
                        continue; // replaced since the listing: taken as it is next time
                    }
                    st
                }
            },
        };
        if let Some(f) = opts.filter {
            if !f.matches(&child_rel) {
                continue;
            }
        }
        local.push(Source {
            rel: child_rel,
            stat,
        });
    }
    Ok(local)
}

fn spawn_dir<'s>(
    scope: &rayon::Scope<'s>,
    dir: PathBuf,
    rel: String,
    chain: &[(u64, u64)],
    id: Option<(u64, u64)>,
    walk: &'s Walk<'s>,
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
    scope.spawn(move |s| walk_dir(s, dir, rel, chain, walk));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(paths: &[&str]) -> Vec<Source> {
        paths
            .iter()
            .map(|p| Source {
                rel: p.to_string(),
                stat: Stat {
                    size: p.len() as u64,
                    mtime_ns: 0,
                    ctime_ns: 0,
                    ino: 0,
                },
            })
            .collect()
    }

    fn rels(files: &[Source]) -> Vec<&str> {
        files.iter().map(|f| f.rel.as_str()).collect()
    }

    /// Folders' runs in the order threads finished them come out in path order, each file with
    /// its own stat, whether the runs follow one another or interleave.
    #[test]
    fn runs_of_folders_are_put_in_path_order() {
        // Runs as a walk appends them: `b/`'s, the top's, `a/`'s, `a/c/`'s.
        let cases: [(&[&str], &[usize]); 3] = [
            (
                &["b/1", "b/2", "top.csv", "a/x", "a/y", "a/z", "a/c/1"],
                &[2, 1, 3, 1],
            ),
            // `m/` sorts between the top's two files: the runs interleave.
            (&["m/1", "m/2", "a.csv", "z.csv"], &[2, 2]),
            // Already in order, and a single run.
            (&["a/1", "b/1", "b/2"], &[1, 2]),
        ];
        for (paths, lens) in cases {
            let mut files = sources(paths);
            let mut runs = Vec::new();
            let mut at = 0;
            for len in lens {
                runs.push(at..at + len);
                at += len;
            }
            in_path_order(&mut files, runs);
            let mut want = paths.to_vec();
            want.sort();
            assert_eq!(rels(&files), want);
            assert!(files.iter().all(|f| f.stat.size == f.rel.len() as u64));
        }
        // Many runs of unequal lengths in a scrambled order, as from a wide tree.
        let mut names = Vec::new();
        let mut folders: Vec<Range<usize>> = Vec::new();
        for d in 0..200 {
            let at = names.len();
            for f in 0..(d * 7 % 11 + 1) {
                names.push(format!("d{d:03}/f{f:02}"));
            }
            folders.push(at..names.len());
        }
        let mut seed = 7u64;
        for i in (1..folders.len()).rev() {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            folders.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut files = Vec::new();
        let mut runs = Vec::new();
        for f in &folders {
            let at = files.len();
            let paths: Vec<&str> = names[f.clone()].iter().map(String::as_str).collect();
            files.extend(sources(&paths));
            runs.push(at..files.len());
        }
        in_path_order(&mut files, runs);
        assert_eq!(
            rels(&files),
            names.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(files.iter().all(|f| f.stat.size == f.rel.len() as u64));
    }

    /// The hand-written [`is_noise`] answers as git's matcher does for [`NOISE`]'s lines, on
    /// names that hit, miss and nearly hit each pattern.
    #[test]
    fn noise_names_are_the_patterns() {
        let mut builder = GitignoreBuilder::new("/root");
        for line in NOISE {
            builder.add_line(None, line).expect("a built-in pattern");
        }
        let matcher = builder.build().expect("the built-in patterns");
        let names = [
            ".DS_Store",
            ".ds_store",
            "x.DS_Store",
            ".DS_Store2",
            "Thumbs.db",
            "thumbs.db",
            "Thumbs.db.bak",
            "a.swp",
            ".swp",
            "a.swp.jpg",
            "aswp",
            "notes~",
            "~",
            "~notes",
            ".~lock.report.odt#",
            ".~lock",
            ".~lockx",
            "a.tmp",
            ".tmp",
            "a.tmp.png",
            "atmp",
            ".#notes.txt",
            ".#",
            "#.x",
            "x.#y",
            "cat.jpg",
            "labels.csv",
            ".strataignore",
            "data.TMP",
            "a.SWP",
        ];
        for name in names {
            for rel in [name.to_string(), format!("deep/er/{name}")] {
                for is_dir in [false, true] {
                    let want = matcher.matched(Path::new(&rel), is_dir).is_ignore();
                    assert_eq!(is_noise(name.as_bytes()), want, "{rel} (folder: {is_dir})");
                }
            }
        }
    }
}
