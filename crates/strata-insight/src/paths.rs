//! Dataset paths: `/`-separated, relative, UTF-8. Lookups over a version's manifest and the few
//! path operations the label formats need (joining a relative name onto a folder, stems,
//! extensions), none of which may step outside the dataset.

use std::collections::HashMap;

use crate::Entry;

/// Extensions read as images (lowercase).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "bmp", "gif", "webp", "tif", "tiff", "ppm", "pgm", "pbm",
    "pnm", "heic", "heif", "avif", "jxl", "qoi", "tga", "ico", "dds", "exr", "hdr",
];

/// Files that operating systems and archivers drop into folders; never data.
const NOISE_NAMES: &[&str] = &["thumbs.db", "desktop.ini", "icon\r"];

pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// The folder holding `path` ("" at the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

pub(crate) fn extension(path: &str) -> Option<&str> {
    let name = file_name(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => Some(ext),
        _ => None,
    }
}

pub(crate) fn stem(path: &str) -> &str {
    let name = file_name(path);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

/// `path` with its extension replaced (or added).
pub(crate) fn with_extension(path: &str, ext: &str) -> String {
    let dir = parent(path);
    let name = stem(path);
    if dir.is_empty() {
        format!("{name}.{ext}")
    } else {
        format!("{dir}/{name}.{ext}")
    }
}

pub(crate) fn is_image(path: &str) -> bool {
    extension(path).is_some_and(|ext| {
        IMAGE_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(ext))
    })
}

/// Hidden files, OS droppings and archiver folders (`__MACOSX`): present in real uploads, never
/// data.
pub(crate) fn is_noise(path: &str) -> bool {
    path.split('/').any(|part| {
        part.starts_with('.')
            || part == "__MACOSX"
            || NOISE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(part))
    })
}

/// `rel` resolved against the folder `dir`: `.` and `..` are applied, `\` is read as `/` (label
/// files written on Windows). `None` when `rel` is absolute or climbs out of the dataset.
pub(crate) fn join(dir: &str, rel: &str) -> Option<String> {
    let rel = rel.trim().replace('\\', "/");
    if rel.starts_with('/') || rel.get(1..3) == Some(":/") {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The version's entries looked up by path, by folder and by file name.
pub(crate) struct Tree<'a> {
    pub entries: &'a [Entry],
    /// Entry indices in path order (the manifest promises it; a caller's slice may not).
    order: Vec<usize>,
    by_path: HashMap<&'a str, usize>,
}

impl<'a> Tree<'a> {
    pub fn new(entries: &'a [Entry]) -> Self {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        if !entries.windows(2).all(|w| w[0].path <= w[1].path) {
            order.sort_by(|&a, &b| entries[a].path.cmp(&entries[b].path));
        }
        let by_path = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.as_str(), i))
            .collect();
        Self {
            entries,
            order,
            by_path,
        }
    }

    pub fn get(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    pub fn entry(&self, index: usize) -> &'a Entry {
        &self.entries[index]
    }

    /// Indices of the entries under the folder `dir` ("" = all), in path order.
    pub fn under(&self, dir: &str) -> impl Iterator<Item = usize> + '_ {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let start = self
            .order
            .partition_point(|&i| self.entries[i].path.as_str() < prefix.as_str());
        self.order[start..]
            .iter()
            .copied()
            .take_while(move |&i| self.entries[i].path.starts_with(&prefix))
    }

    /// Whether any entry lies under `dir`.
    pub fn has_dir(&self, dir: &str) -> bool {
        self.under(dir).next().is_some()
    }

    /// All entries, in path order.
    pub fn all(&self) -> impl Iterator<Item = usize> + '_ {
        self.order.iter().copied()
    }
}

/// Finds entries by file name alone, for label files that name images without their folder.
/// A name held by several entries finds none: guessing would tie labels to the wrong image.
pub(crate) struct Names<'a> {
    by_name: HashMap<&'a str, Option<usize>>,
}

impl<'a> Names<'a> {
    pub fn new(tree: &Tree<'a>) -> Self {
        let mut by_name: HashMap<&'a str, Option<usize>> = HashMap::new();
        for (i, e) in tree.entries.iter().enumerate() {
            by_name
                .entry(file_name(&e.path))
                .and_modify(|v| *v = None)
                .or_insert(Some(i));
        }
        Self { by_name }
    }

    pub fn unique(&self, name: &str) -> Option<usize> {
        self.by_name.get(file_name(name)).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_stay_inside_the_dataset() {
        assert_eq!(join("a/b", "../c.jpg").as_deref(), Some("a/c.jpg"));
        assert_eq!(join("a", "./x/y.jpg").as_deref(), Some("a/x/y.jpg"));
        assert_eq!(join("", "../x"), None);
        assert_eq!(join("a", "/abs/x"), None);
        assert_eq!(join("a", "C:\\data\\x.jpg"), None);
    }

    #[test]
    fn names_and_extensions() {
        assert_eq!(stem("a/b.c.jpg"), "b.c");
        assert_eq!(extension(".hidden"), None);
        assert_eq!(with_extension("a/b.jpg", "txt"), "a/b.txt");
        assert!(is_image("x/Y.JPG"));
        assert!(is_noise("a/.DS_Store"));
        assert!(is_noise("__MACOSX/a/b.jpg"));
        assert!(is_noise("a/Thumbs.db"));
    }
}
