//! Is the watched folder still there, and still the same folder?
//!
//! A deleted folder would scan as empty and an unmounted drive as its empty mount point: either
//! would turn into a version that deletes everything. So before each call, after any event that
//! names the folder itself, and every couple of seconds (an unmount sends no event notify
//! reports), the folder is checked: present, a directory, and, if it was a mount point when
//! watching started, still one.

use std::io;
use std::path::Path;

/// What identifies the folder being watched; a change means it was replaced and must be watched
/// anew (its old watches died with it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Identity {
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
    /// A filesystem is mounted right at the folder.
    pub mount_point: bool,
}

#[derive(Debug)]
pub(crate) enum Health {
    Present(Identity),
    Missing(String),
}

/// Checks `root`. `parent` is the real path of its parent (to tell a mount point from a plain
/// folder); `was_mount_point` says a drive was mounted there when watching started.
pub(crate) fn check(root: &Path, parent: Option<&Path>, was_mount_point: bool) -> Health {
    let meta = match std::fs::metadata(root) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Health::Missing("the folder was deleted or moved away".into())
        }
        Err(e) => return Health::Missing(format!("the folder cannot be read: {e}")),
    };
    if !meta.is_dir() {
        return Health::Missing("the path is no longer a folder".into());
    }
    let identity = identity(&meta, parent);
    if was_mount_point && !identity.mount_point {
        return Health::Missing("the drive mounted at the folder was unmounted".into());
    }
    Health::Present(identity)
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata, parent: Option<&Path>) -> Identity {
    use std::os::unix::fs::MetadataExt;
    let parent_dev = parent
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.dev());
    Identity {
        dev: meta.dev(),
        ino: meta.ino(),
        mount_point: parent_dev.is_some_and(|d| d != meta.dev()),
    }
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata, _parent: Option<&Path>) -> Identity {
    Identity { mount_point: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_folder_is_noticed() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("w");
        std::fs::create_dir(&root).unwrap();
        let Health::Present(before) = check(&root, Some(tmp.path()), false) else {
            panic!("the folder is there");
        };
        assert!(!before.mount_point);
        // Moved away: the old folder keeps its inode, so the new one cannot reuse it.
        std::fs::rename(&root, tmp.path().join("old")).unwrap();
        assert!(matches!(
            check(&root, Some(tmp.path()), false),
            Health::Missing(_)
        ));
        std::fs::write(&root, b"a file now").unwrap();
        assert!(matches!(
            check(&root, Some(tmp.path()), false),
            Health::Missing(_)
        ));
        std::fs::remove_file(&root).unwrap();
        std::fs::create_dir(&root).unwrap();
        let Health::Present(after) = check(&root, Some(tmp.path()), false) else {
            panic!("the folder is back");
        };
        if cfg!(unix) {
            assert_ne!(before, after, "a new folder has a new identity");
        }
    }

    #[test]
    fn an_unmounted_drive_is_missing() {
        let tmp = tempfile::tempdir().unwrap();
        // The folder was a mount point when watching started; now it is a plain folder.
        assert!(matches!(
            check(tmp.path(), tmp.path().parent(), true),
            Health::Missing(_)
        ));
        // A real mount point (/proc on Linux) is present.
        if cfg!(target_os = "linux") {
            assert!(matches!(
                check(Path::new("/proc"), Some(Path::new("/")), true),
                Health::Present(Identity {
                    mount_point: true,
                    ..
                })
            ));
        }
    }
}
