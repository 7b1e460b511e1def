//! A folder's scan on real files: every file once, in path order (what every later step merges
//! on), each with its own stat, whatever order the folders were read in.

use std::os::unix::fs::{symlink, MetadataExt};
use std::path::Path;

use strata_core::NoProgress;
use strata_store::scan::{scan_folder, ScanOptions};

fn write(root: &Path, rel: &str, body: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, body).unwrap();
}

#[test]
fn a_scan_lists_every_file_in_path_order_with_its_own_stat() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    let mut want = Vec::new();
    // Wide folders of many files, read by several threads at once.
    for d in 0..40 {
        for f in 0..(d % 7 * 9 + 1) {
            let rel = format!("class{d:02}/img{f:03}.jpg");
            write(&root, &rel, rel.as_bytes());
            want.push(rel);
        }
    }
    // Names that sort between, before and after a folder's files by bytes: `d0/…` comes after
    // `d0-y` and `d0.x` ('/' is 0x2F) and before `d00`; the top's files straddle folders.
    for rel in [
        "a.csv", "m.csv", "z.csv", "d0/x", "d0/y/z", "d0.x", "d0-y", "d00", "d0/y.txt", "d0/y0",
    ] {
        write(&root, rel, rel.as_bytes());
        want.push(rel.to_string());
    }
    // A link to a file and one to a folder are followed: their content is listed under the
    // link's name.
    write(tmp.path(), "outside/real.bin", b"real");
    symlink(tmp.path().join("outside/real.bin"), root.join("linked.bin")).unwrap();
    symlink(tmp.path().join("outside"), root.join("linked")).unwrap();
    want.extend(["linked.bin".to_string(), "linked/real.bin".to_string()]);
    want.sort();

    for _ in 0..5 {
        let scan = scan_folder(&root, &ScanOptions::default(), &NoProgress).unwrap();
        let got: Vec<&str> = scan.files.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(got, want);
        for f in &scan.files {
            let meta = std::fs::metadata(root.join(&f.rel)).unwrap();
            assert_eq!(f.stat.size, meta.len(), "{}", f.rel);
            assert_eq!(f.stat.ino, meta.ino(), "{}", f.rel);
            assert_eq!(
                f.stat.mtime_ns,
                meta.mtime() * 1_000_000_000 + meta.mtime_nsec()
            );
        }
    }
}

/// What is not a file is not taken and never blocks the scan (a fifo opened for reading would);
/// what cannot be read stops it with an error naming the entry; a name no version may hold
/// stops it before anything is read.
#[test]
fn a_scan_skips_what_is_not_a_file_and_names_what_it_cannot_read() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("data");
    write(&root, "kept.txt", b"kept");
    let fifo = std::ffi::CString::new(root.join("pipe").as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let scan = scan_folder(&root, &ScanOptions::default(), &NoProgress).unwrap();
    let got: Vec<&str> = scan.files.iter().map(|f| f.rel.as_str()).collect();
    assert_eq!(got, ["kept.txt"]);

    std::fs::create_dir_all(root.join("sub")).unwrap();
    symlink("/nonexistent/target", root.join("sub/dangling")).unwrap();
    let err = scan_folder(&root, &ScanOptions::default(), &NoProgress)
        .err()
        .expect("a dangling link is an error")
        .to_string();
    assert!(err.contains("sub/dangling"), "{err}");
    std::fs::remove_file(root.join("sub/dangling")).unwrap();

    write(&root, "sub/tab\there.txt", b"x");
    let err = scan_folder(&root, &ScanOptions::default(), &NoProgress)
        .err()
        .expect("a control character in a name is refused")
        .to_string();
    assert!(
        err.contains("tab\\there.txt") && err.contains("control character"),
        "{err}"
    );
}
