//! Datasets written to a temporary folder, read back through `FolderContent`.

use std::path::Path;

use image::{ImageBuffer, Rgb};
use strata_core::hash::Hash;
use strata_core::progress::{Cancel, NoProgress};
use strata_insight::{ClassStat, Entry, FolderContent, LabelSource, Stats};

pub struct Dataset {
    pub dir: tempfile::TempDir,
}

impl Dataset {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn file(&self, path: &str, bytes: impl AsRef<[u8]>) -> &Self {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
        self
    }

    /// A real PNG whose pixels (and so hash) follow `seed`.
    pub fn png(&self, path: &str, w: u32, h: u32, seed: u8) -> &Self {
        self.file(path, encode(w, h, seed, image::ImageFormat::Png))
    }

    pub fn jpeg(&self, path: &str, w: u32, h: u32, seed: u8) -> &Self {
        self.file(path, encode(w, h, seed, image::ImageFormat::Jpeg))
    }

    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    pub fn content(&self) -> FolderContent {
        FolderContent::new(self.dir.path())
    }

    pub fn stats(&self, source: Option<&str>) -> Stats {
        let source: Option<LabelSource> = source.map(|s| s.parse().expect("label source"));
        strata_insight::stats(
            &self.entries(),
            &self.content(),
            source.as_ref(),
            &NoProgress,
            &Cancel::new(),
        )
        .expect("stats")
    }
}

fn encode(w: u32, h: u32, seed: u8, format: image::ImageFormat) -> Vec<u8> {
    let img = ImageBuffer::from_fn(w, h, |x, y| {
        Rgb([
            seed,
            (x as u8).wrapping_mul(7),
            (y as u8).wrapping_add(seed),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Entry>) {
    for e in std::fs::read_dir(dir).expect("read dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            let bytes = std::fs::read(&p).expect("read");
            let rel = p.strip_prefix(root).expect("inside");
            out.push(Entry {
                path: rel.to_string_lossy().replace('\\', "/"),
                size: bytes.len() as u64,
                hash: Hash::of(&bytes),
                link: None,
                chunks: None,
            });
        }
    }
}

/// `(name, images, instances)` of each class, in order.
pub fn counts(list: &[ClassStat]) -> Vec<(&str, u64, u64)> {
    list.iter()
        .map(|c| (c.name.as_str(), c.images, c.instances))
        .collect()
}

pub fn class<'a>(stats: &'a Stats, name: &str) -> &'a ClassStat {
    stats
        .classes
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no class {name} in {:?}", stats.classes))
}

/// Whether some warning names `file` and says `words`.
pub fn warned(stats: &Stats, file: &str, line: Option<u64>, words: &str) -> bool {
    stats
        .warnings
        .iter()
        .any(|w| w.file == file && (line.is_none() || w.line == line) && w.message.contains(words))
}

#[track_caller]
pub fn assert_warned(stats: &Stats, file: &str, line: Option<u64>, words: &str) {
    assert!(
        warned(stats, file, line, words),
        "no warning on {file}:{line:?} saying '{words}'; warnings: {:#?}",
        stats.warnings
    );
}
