//! Small filesystem helpers: atomic writes, unique temp names, advisory locks.

use std::ffi::{CStr, CString};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use strata_core::{Error, IoContext, Result};

use crate::statcache::Stat;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name unique across processes and threads: pid, time and a counter.
pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}{}-{t:x}-{n}", std::process::id())
}

/// 128 random bits as 32 hex digits, from the kernel; if that is unavailable, a hash of a
/// process-unique name (unique, though not secret).
pub fn random_token() -> String {
    let mut buf = [0u8; 16];
    // SAFETY: getrandom writes at most `buf.len()` bytes into a buffer we own.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n == buf.len() as isize {
        return hex::encode(buf);
    }
    let h = blake3::hash(unique_name("t").as_bytes());
    hex::encode(&h.as_bytes()[..16])
}

/// Writes via a temp file, fsync and rename, so readers see the old file or the whole new one.
/// The bytes are written as `write` makes them: a file of a million entries need not be built
/// in memory first.
pub fn write_atomic_with(
    tmp_dir: &Path,
    dest: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).ctx("create", parent)?;
    }
    let tmp = tmp_dir.join(unique_name("w-"));
    let written = (|| {
        let f = File::create(&tmp).ctx("create", &tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        write(&mut w).ctx("write", &tmp)?;
        let f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .ctx("write", &tmp)?;
        f.sync_data().ctx("sync", &tmp)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, dest).ctx("rename into place", dest)?;
    Ok(())
}

/// `chmod a-w`: content in the store and the read-only cache must not be edited in place.
pub fn make_read_only(path: &Path) -> Result<()> {
    let mut perm = fs::metadata(path).ctx("stat", path)?.permissions();
    perm.set_readonly(true);
    fs::set_permissions(path, perm).ctx("set permissions of", path)
}

/// Removes a tree, making read-only directories writable first where needed.
pub fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).ctx("remove", path),
    }
}

/// An advisory `flock` on a file, released when dropped (or when the process dies).
pub struct FileLock {
    _file: File,
}

impl FileLock {
    pub fn shared(path: &Path) -> Result<Self> {
        Self::take(path, libc::LOCK_SH)
    }

    pub fn exclusive(path: &Path) -> Result<Self> {
        Self::take(path, libc::LOCK_EX | libc::LOCK_NB)
    }

    /// Creates `path` holding `content`, locked exclusively from the moment it exists: an
    /// anonymous file is written and locked, then linked into place, so no other process ever
    /// finds it empty or unlocked (a process killed in between leaves nothing behind). Where the
    /// filesystem has no anonymous files, the file is created, locked, then written.
    pub fn create_marked(path: &Path, content: &[u8]) -> Result<Self> {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let anonymous = OpenOptions::new()
            .write(true)
            .mode(0o644)
            .custom_flags(libc::O_TMPFILE)
            .open(dir);
        if let Ok(mut file) = anonymous {
            file.write_all(content).ctx("write", path)?;
            // SAFETY: flock on a descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                return Err(std::io::Error::last_os_error()).ctx("lock", path);
            }
            let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()));
            let to = std::ffi::CString::new(path.as_os_str().as_bytes());
            if let (Ok(from), Ok(to)) = (from, to) {
                // SAFETY: two NUL-terminated paths that outlive the call.
                let linked = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        from.as_ptr(),
                        libc::AT_FDCWD,
                        to.as_ptr(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                if linked == 0 {
                    return Ok(FileLock { _file: file });
                }
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() == Some(libc::EEXIST) {
                    return Err(e).ctx("create", path);
                }
            }
        }
        let lock = Self::exclusive(path)?;
        if let Err(e) = fs::write(path, content).ctx("create", path) {
            let _ = fs::remove_file(path);
            return Err(e);
        }
        Ok(lock)
    }

    fn take(path: &Path, how: libc::c_int) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .ctx("open lock", path)?;
        // SAFETY: flock on a descriptor we own.
        let r = unsafe { libc::flock(file.as_raw_fd(), how) };
        if r != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
                return Err(Error::Locked(format!("{} is locked", path.display())));
            }
            return Err(e).ctx("lock", path);
        }
        Ok(FileLock { _file: file })
    }
}

/// The parent folder of `p`, created if missing.
pub fn ensure_parent(p: &Path) -> Result<PathBuf> {
    let parent = p
        .parent()
        .ok_or_else(|| Error::invalid(format!("'{}' has no parent folder", p.display())))?;
    fs::create_dir_all(parent).ctx("create", parent)?;
    Ok(parent.to_path_buf())
}

/// `fstatat` without following a symlink: the stat and mode of `name` in the open folder `dir`.
pub fn stat_at(dir: &File, name: &CStr) -> Option<(Stat, u32)> {
    try_stat_at(dir, name).ok()
}

/// [`stat_at`] saying why it failed.
pub fn try_stat_at(dir: &File, name: &CStr) -> std::io::Result<(Stat, u32)> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: a NUL-terminated name, a descriptor we own and a buffer of the right type.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    check(r)?;
    // SAFETY: fstatat succeeded, so it filled the buffer.
    let st = unsafe { st.assume_init() };
    let stat = Stat {
        size: st.st_size as u64,
        mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec,
        ctime_ns: st.st_ctime * 1_000_000_000 + st.st_ctime_nsec,
        ino: st.st_ino,
    };
    Ok((stat, st.st_mode))
}

/// What a folder's listing says an entry is, before anything is asked of the entry itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listed {
    File,
    Folder,
    Symlink,
    /// A fifo, socket or device.
    Other,
    /// The filesystem does not say in its listings: ask the entry ([`kind_of_mode`]).
    Unknown,
}

/// The kind a `st_mode` names.
pub fn kind_of_mode(mode: u32) -> Listed {
    match mode & libc::S_IFMT {
        libc::S_IFREG => Listed::File,
        libc::S_IFDIR => Listed::Folder,
        libc::S_IFLNK => Listed::Symlink,
        _ => Listed::Other,
    }
}

/// A folder's entries but `.` and `..`, their names held in one buffer (no allocation per
/// entry, where `std::fs::read_dir` makes two). One listing can read folder after folder,
/// reusing its buffers.
#[derive(Default)]
pub struct Listing {
    /// Every name, NUL-terminated, one after the other.
    names: Vec<u8>,
    /// Where each name starts in `names`, its length and kind.
    entries: Vec<(u32, u32, Listed)>,
}

impl Listing {
    /// Lists the folder at `path` (what was listed before is forgotten) and returns it open, to
    /// stat each entry relative to it.
    pub fn read(&mut self, path: &Path) -> std::io::Result<File> {
        use std::os::unix::fs::OpenOptionsExt;
        self.names.clear();
        self.entries.clear();
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)?;
        // The stream gets a descriptor of its own: closing the stream closes it.
        // SAFETY: a descriptor we own; a negative answer is checked.
        let fd = unsafe { libc::dup(dir.as_raw_fd()) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor, owned by the stream from here on (closed with it).
        let stream = unsafe { libc::fdopendir(fd) };
        if stream.is_null() {
            let e = std::io::Error::last_os_error();
            // SAFETY: fdopendir failed, so the descriptor is still ours alone.
            unsafe { libc::close(fd) };
            return Err(e);
        }
        let read = self.read_from(stream);
        // SAFETY: a stream fdopendir gave, closed once.
        unsafe { libc::closedir(stream) };
        read.map(|()| dir)
    }

    fn read_from(&mut self, stream: *mut libc::DIR) -> std::io::Result<()> {
        loop {
            // readdir answers NULL both at the end and on an error; errno tells them apart.
            // SAFETY: errno is this thread's.
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: an open stream; the entry is read before the next call on it.
            let ent = unsafe { libc::readdir64(stream) };
            if ent.is_null() {
                let e = std::io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(0) | None => Ok(()),
                    Some(_) => Err(e),
                };
            }
            // SAFETY: readdir's entry holds a NUL-terminated name and is valid until the
            // next call on the stream.
            let (name, d_type) = unsafe { (CStr::from_ptr((*ent).d_name.as_ptr()), (*ent).d_type) };
            let bytes = name.to_bytes_with_nul();
            if bytes == b".\0" || bytes == b"..\0" {
                continue;
            }
            let kind = match d_type {
                libc::DT_REG => Listed::File,
                libc::DT_DIR => Listed::Folder,
                libc::DT_LNK => Listed::Symlink,
                libc::DT_UNKNOWN => Listed::Unknown,
                _ => Listed::Other,
            };
            // Every name's end, NUL included, is within u32: offsets are never wrapped.
            let (Ok(at), Ok(len), Ok(_)) = (
                u32::try_from(self.names.len()),
                u32::try_from(bytes.len() - 1),
                u32::try_from(self.names.len() + bytes.len()),
            ) else {
                return Err(std::io::Error::other(
                    "more than 4 GiB of names in one folder",
                ));
            };
            self.names.extend_from_slice(bytes);
            self.entries.push((at, len, kind));
        }
    }

    /// Puts the entries in the byte order of their names.
    pub fn sort_by_name(&mut self) {
        let names = &self.names;
        self.entries
            .sort_unstable_by(|a, b| name_in(names, a.0, a.1, 0).cmp(name_in(names, b.0, b.1, 0)));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// How many entries the buffers hold room for, whatever the last folder listed.
    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    /// Each entry's name (NUL-terminated, for the `*at` calls) and kind.
    pub fn iter(&self) -> impl Iterator<Item = (&CStr, Listed)> {
        self.entries.iter().map(|&(at, len, kind)| {
            // The names were copied with their NUL and hold no other.
            let name =
                CStr::from_bytes_with_nul(name_in(&self.names, at, len, 1)).unwrap_or_default();
            (name, kind)
        })
    }
}

/// The name at `at` of `len` bytes in a listing's buffer, with `extra` bytes after it (its NUL).
fn name_in(names: &[u8], at: u32, len: u32, extra: usize) -> &[u8] {
    let at = at as usize;
    names.get(at..at + len as usize + extra).unwrap_or_default()
}

fn check(r: libc::c_int) -> std::io::Result<()> {
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// `linkat`: a new name `to` in `to_dir` for the file `from` in `from_dir` (a symlink itself,
/// not followed).
pub fn link_at(from_dir: &File, from: &CStr, to_dir: &File, to: &CStr) -> std::io::Result<()> {
    // SAFETY: NUL-terminated names and descriptors we own.
    check(unsafe {
        libc::linkat(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            0,
        )
    })
}

/// Whether `linkat` takes an open file itself (`AT_EMPTY_PATH`): since Linux 6.10 for a file
/// the caller opened, before only with CAP_DAC_READ_SEARCH. Cleared the first time it is
/// refused; `/proc/self/fd` then names the file instead.
static LINK_EMPTY_PATH: AtomicBool = AtomicBool::new(true);

/// A new name `to` in `to_dir` for the open file `f`, also one with no name yet (`O_TMPFILE`).
pub fn link_fd(f: &File, to_dir: &File, to: &CStr) -> std::io::Result<()> {
    if LINK_EMPTY_PATH.load(Ordering::Relaxed) {
        // SAFETY: an empty NUL-terminated name, a NUL-terminated name and descriptors we own.
        let r = check(unsafe {
            libc::linkat(
                f.as_raw_fd(),
                c"".as_ptr(),
                to_dir.as_raw_fd(),
                to.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        });
        match r {
            // Refused, or a file whose last name went (another process replaced it): only
            // `/proc` tells which, and only its success proves the first kind.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::EPERM)) => {
                link_proc(f, to_dir, to).map_err(|_| e)?;
                LINK_EMPTY_PATH.store(false, Ordering::Relaxed);
                return Ok(());
            }
            r => return r,
        }
    }
    link_proc(f, to_dir, to)
}

fn link_proc(f: &File, to_dir: &File, to: &CStr) -> std::io::Result<()> {
    let proc = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd()))
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: NUL-terminated names and descriptors we own.
    check(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    })
}

/// A new file with no name in the folder `dir`, open for writing (`O_TMPFILE`), created with
/// `mode`: it gets a name with [`link_fd`], and vanishes if the process dies before.
pub fn open_anonymous(dir: &File, mode: u32) -> std::io::Result<File> {
    // SAFETY: a NUL-terminated name and a descriptor we own; the returned descriptor is ours.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c".".as_ptr(),
            libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// A new file `name` in the folder `dir`, created with `mode` and open for writing; fails if
/// the name exists.
pub fn create_at(dir: &File, name: &CStr, mode: u32) -> std::io::Result<File> {
    // SAFETY: a NUL-terminated name and a descriptor we own; the returned descriptor is ours.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nothing else owns.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// `renameat` within one folder: `from` replaces `to` atomically.
pub fn rename_at(dir: &File, from: &CStr, to: &CStr) -> std::io::Result<()> {
    // SAFETY: NUL-terminated names and a descriptor we own.
    check(unsafe { libc::renameat(dir.as_raw_fd(), from.as_ptr(), dir.as_raw_fd(), to.as_ptr()) })
}

/// `unlinkat` of a file in `dir`.
pub fn unlink_at(dir: &File, name: &CStr) -> std::io::Result<()> {
    // SAFETY: a NUL-terminated name and a descriptor we own.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anonymous_file_appears_only_whole_and_only_once_linked() {
        let dir = tempfile::tempdir().unwrap();
        let d = File::open(dir.path()).unwrap();
        let Ok(mut f) = open_anonymous(&d, 0o444) else {
            return; // No O_TMPFILE on this filesystem: the named fallback is used instead.
        };
        f.write_all(b"half").unwrap();
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "nothing named yet"
        );
        f.write_all(b" and the rest").unwrap();
        link_fd(&f, &d, c"whole").unwrap();
        assert_eq!(
            fs::read(dir.path().join("whole")).unwrap(),
            b"half and the rest"
        );
        assert!(link_fd(&f, &d, c"whole").is_err(), "never replaces a name");
        // Dropped before any link (a process killed while writing): nothing is left.
        let g = open_anonymous(&d, 0o444).unwrap();
        drop(g);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_marked_lock_file_appears_with_its_content_and_its_lock() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let held = FileLock::create_marked(&p, b"mine\n").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"mine\n");
        assert!(matches!(FileLock::exclusive(&p), Err(Error::Locked(_))));
        assert!(
            FileLock::create_marked(&p, b"again\n").is_err(),
            "never replaces one"
        );
        drop(held);
        assert!(FileLock::exclusive(&p).is_ok(), "released with its holder");
    }
}
