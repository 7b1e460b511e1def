//! What a folder scan leaves out, on real files: built-in noise, the folder's `.strataignore`
//! (git's syntax), never the `.strataignore` itself, never a file given by name; a bad
//! `.strataignore` is refused with its name and line.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use strata_core::{Error, NoProgress, Progress};
use strata_store::scan::{scan_folder, Ignores, ScanOptions, IGNORE_FILE_MAX};

fn write(root: &Path, rel: &str, body: &[u8]) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
    p
}

/// The dataset paths a scan of `root` takes, sorted.
fn scanned(root: &Path) -> Vec<String> {
    scanned_with(root, &ScanOptions::default())
}

fn scanned_with(root: &Path, opts: &ScanOptions<'_>) -> Vec<String> {
    let scan = scan_folder(root, opts, &NoProgress).unwrap_or_else(|e| panic!("scan failed: {e}"));
    let mut paths: Vec<String> = scan
        .files
        .iter()
        .map(|f| scan.dataset_path(f).into_owned())
        .collect();
    paths.sort();
    paths
}

fn scan_error(root: &Path) -> Error {
    match scan_folder(root, &ScanOptions::default(), &NoProgress) {
        Ok(s) => panic!(
            "the scan should have failed, it took {:?}",
            s.files.iter().map(|f| &f.rel).collect::<Vec<_>>()
        ),
        Err(e) => e,
    }
}

/// Makes `dir` fail any walk into it, as root too (where `chmod 000` stops nothing): it is
/// unreadable, and holds a dangling symlink and a name that is not UTF-8.
fn poison(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    write(dir, "inside.bin", b"never read");
    symlink("/nonexistent/target", dir.join("dangling")).unwrap();
    std::fs::write(dir.join(std::ffi::OsStr::from_bytes(b"bad\xffname")), b"x").unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o000)).unwrap();
}

fn unpoison(dir: &Path) {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn built_in_noise_is_left_out_at_any_depth() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for rel in ["data.csv", "sub/img.png", "sub/deeper/labels.json"] {
        write(root, rel, b"data");
    }
    for rel in [
        ".DS_Store",
        "Thumbs.db",
        "notes.swp",
        "labels.json~",
        ".~lock.table.ods#",
        "export.tmp",
        "sub/.DS_Store",
        "sub/deeper/Thumbs.db",
        "sub/deeper/.img.png.swp",
    ] {
        write(root, rel, b"noise");
    }
    // Emacs's lock file is a dangling symlink: it must not even be followed.
    symlink("user@host.1234:1700000000", root.join(".#data.csv")).unwrap();
    assert_eq!(
        scanned(root),
        ["data.csv", "sub/deeper/labels.json", "sub/img.png"]
    );
}

#[test]
fn strataignore_patterns_follow_gitignore_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        ".strataignore",
        b"# logs, but one\n\
          *.log\n\
          !keep.log\n\
          \n\
          # a folder anywhere, not a file of that name\n\
          cache/\n\
          # only at the top\n\
          /top.csv\n\
          raw/**/*.bak\n",
    );
    for rel in [
        "keep.log",
        "sub/top.csv",
        "files/cache",
        "raw/keep.txt",
        "data.csv",
    ] {
        write(root, rel, b"kept");
    }
    for rel in [
        "a.log",
        "sub/b.log",
        "sub/cache/y.bin",
        "top.csv",
        "raw/c.bak",
        "raw/a/b/c.bak",
    ] {
        write(root, rel, b"ignored");
    }
    poison(&root.join("cache"));
    let got = std::panic::catch_unwind(|| scanned(root));
    // The control: walked, the poisoned folder fails the scan.
    let everything = ScanOptions {
        ignores: false,
        ..ScanOptions::default()
    };
    let walked = scan_folder(root, &everything, &NoProgress);
    unpoison(&root.join("cache"));
    assert!(walked.is_err(), "the poisoned folder fails a walk into it");
    assert_eq!(
        got.expect("an ignored folder must not be walked"),
        [
            "data.csv",
            "files/cache",
            "keep.log",
            "raw/keep.txt",
            "sub/top.csv"
        ],
        "the .strataignore itself is never part of a version"
    );
}

#[test]
fn an_ignored_folder_is_not_walked_when_it_is_a_symlink_either() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    write(&root, "a.txt", b"a");
    write(&root, ".strataignore", b"node_modules/\n");
    let elsewhere = dir.path().join("elsewhere");
    poison(&elsewhere);
    symlink(&elsewhere, root.join("node_modules")).unwrap();
    let got = std::panic::catch_unwind(|| scanned(&root));
    std::fs::remove_file(root.join(".strataignore")).unwrap();
    let walked = scan_folder(&root, &ScanOptions::default(), &NoProgress);
    unpoison(&elsewhere);
    assert!(walked.is_err(), "the poisoned folder fails a walk into it");
    assert_eq!(
        got.expect("the linked folder must not be walked"),
        ["a.txt"]
    );
}

#[test]
fn a_negation_takes_back_a_built_in_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".strataignore", b"!calibration.tmp\n");
    write(root, "calibration.tmp", b"wanted");
    write(root, "other.tmp", b"noise");
    assert_eq!(scanned(root), ["calibration.tmp"]);
}

#[test]
fn a_file_named_by_the_user_is_taken_whatever_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".strataignore", b"*.csv\n");
    write(root, "export.tmp", b"e");
    write(root, "table.csv", b"t");
    for rel in ["export.tmp", "table.csv", ".strataignore"] {
        let opts = ScanOptions {
            allow_file: true,
            ..ScanOptions::default()
        };
        let scan = scan_folder(&root.join(rel), &opts, &NoProgress).unwrap();
        let names: Vec<&str> = scan.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(names, [rel], "{rel} was given by name");
    }
}

#[test]
fn without_ignores_a_scan_takes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".strataignore", b"*.csv\n");
    write(root, "table.csv", b"t");
    write(root, ".DS_Store", b"d");
    let opts = ScanOptions {
        ignores: false,
        ..ScanOptions::default()
    };
    assert_eq!(
        scanned_with(root, &opts),
        [".DS_Store", ".strataignore", "table.csv"]
    );
}

#[derive(Default)]
struct Warnings(Mutex<Vec<String>>);

impl Progress for Warnings {
    fn warn(&self, message: &str) {
        self.0.lock().unwrap().push(message.to_string());
    }
}

#[test]
fn a_strataignore_in_a_subfolder_is_not_read_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "sub/.strataignore", b"*.csv\n");
    write(root, "sub/a.csv", b"a");
    write(root, "b.csv", b"b");
    let warnings = Warnings::default();
    let scan = scan_folder(root, &ScanOptions::default(), &warnings).unwrap();
    let mut paths: Vec<&str> = scan.files.iter().map(|f| f.rel.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["b.csv", "sub/a.csv"]);
    let warnings = warnings.0.into_inner().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("'sub/.strataignore'") && warnings[0].contains("prefixed with 'sub/'"),
        "{}",
        warnings[0]
    );
    // A root without nested files warns about nothing.
    let quiet = Warnings::default();
    std::fs::remove_file(root.join("sub/.strataignore")).unwrap();
    scan_folder(root, &ScanOptions::default(), &quiet).unwrap();
    assert!(quiet.0.into_inner().unwrap().is_empty());
}

#[test]
fn a_malformed_line_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "a.txt", b"a");
    write(root, ".strataignore", b"*.log\n# fine so far\n[z-a].csv\n");
    let err = scan_error(root);
    let msg = err.to_string();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let expected = format!("{}/.strataignore line 3: ", root.display());
    assert!(msg.starts_with(&expected), "{msg}");
    assert!(msg.contains("[z-a].csv"), "{msg}");
    assert_eq!(msg.lines().count(), 1, "one line: {msg}");
}

#[test]
fn a_line_that_is_not_utf8_is_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".strataignore", b"*.log\nbad\xff\n");
    let msg = scan_error(root).to_string();
    assert_eq!(
        msg,
        format!("{}/.strataignore line 2: not valid UTF-8", root.display())
    );
}

#[test]
fn a_huge_strataignore_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let huge = "# padding\n".repeat(IGNORE_FILE_MAX as usize / 10 + 1);
    write(root, ".strataignore", huge.as_bytes());
    let err = scan_error(root);
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    // Just under the bound is fine.
    write(
        root,
        ".strataignore",
        &huge.as_bytes()[..IGNORE_FILE_MAX as usize],
    );
    scanned(root);
}

#[test]
fn a_strataignore_never_reads_or_reaches_outside_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("data");
    write(&root, "data.csv", b"d");
    write(&root, "inner/x.csv", b"x");
    // A symlink could point anywhere: refused, not followed.
    let outside = write(dir.path(), "outside.txt", b"*.csv\n");
    symlink(&outside, root.join(".strataignore")).unwrap();
    let msg = scan_error(&root).to_string();
    assert!(msg.contains("is a symlink"), "{msg}");
    // Patterns climbing out match nothing and open nothing.
    std::fs::remove_file(root.join(".strataignore")).unwrap();
    write(
        &root,
        ".strataignore",
        b"../outside.txt\n/../data.csv\n!../../etc/passwd\n../*\n",
    );
    assert_eq!(scanned(&root), ["data.csv", "inner/x.csv"]);
}

#[test]
fn a_strataignore_that_is_not_a_regular_file_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fifo = std::ffi::CString::new(root.join(".strataignore").as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let msg = scan_error(root).to_string();
    assert!(msg.contains("not a regular file"), "{msg}");
}

#[test]
fn is_ignored_answers_for_paths_a_watcher_sees() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        ".strataignore",
        b"*.log\n!keep.log\ncache/\n/top.csv\n",
    );
    let ig = Ignores::load(root).unwrap();
    let yes = |p: &str, is_dir: bool| ig.is_ignored(Path::new(p), is_dir);
    // Patterns and noise.
    assert!(yes("a.log", false));
    assert!(!yes("keep.log", false));
    assert!(yes("sub/.DS_Store", false));
    assert!(yes("top.csv", false));
    assert!(!yes("sub/top.csv", false));
    // A folder pattern matches the folder and everything in it, not a file of that name.
    assert!(yes("cache", true));
    assert!(yes("cache/deep/file.bin", false));
    assert!(yes("sub/cache/file.bin", false));
    assert!(!yes("cache", false));
    // The ignore file itself never enters a version.
    assert!(yes(".strataignore", false));
    // Absolute paths under the root are taken; others are not ours.
    assert!(ig.is_ignored(&root.join("a.log"), false));
    assert!(!ig.is_ignored(&root.join("data.csv"), false));
    assert!(!ig.is_ignored(Path::new("/elsewhere/a.log"), false));
    assert!(!yes("../a.log", false));
    assert!(!yes("", true));
    assert!(!yes("data.csv", false));
}

#[test]
fn without_a_strataignore_only_the_noise_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let ig = Ignores::load(dir.path()).unwrap();
    assert!(ig.is_ignored(Path::new("x/Thumbs.db"), false));
    assert!(!ig.is_ignored(Path::new("x/a.log"), false));
}
