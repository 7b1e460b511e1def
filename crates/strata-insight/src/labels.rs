//! The one model every label format parses into: per image its split and its classes with
//! instance counts, plus what did not fit (label files without images, class ids no name
//! covers) and the warnings met on the way. Statistics and comparisons are computed from this
//! model only, so a new format is a parser and nothing else.

use std::collections::{BTreeMap, HashMap};
use std::io;

use serde::{Deserialize, Serialize};

use crate::content::Content;
use crate::Entry;

/// Warnings kept in full; past this only their number is kept (a broken export can have one
/// bad line per file in a million files).
pub const MAX_WARNINGS: usize = 1000;
/// Paths kept in a listed set (unlabelled images, labels without images).
pub const MAX_LISTED: usize = 1000;

/// A problem met in one file; the rest of the dataset is still counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub message: String,
}

/// Warnings, bounded: the first [`MAX_WARNINGS`] in full, then a count.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    list: Vec<Warning>,
    dropped: u64,
}

impl Warnings {
    pub fn push(&mut self, file: &str, line: Option<u64>, message: impl Into<String>) {
        if self.list.len() < MAX_WARNINGS {
            self.list.push(Warning {
                file: file.to_string(),
                line,
                message: message.into(),
            });
        } else {
            self.dropped += 1;
        }
    }

    pub fn into_vec(mut self) -> Vec<Warning> {
        if self.dropped > 0 {
            self.list.push(Warning {
                file: String::new(),
                line: None,
                message: format!(
                    "{} more warnings not listed (only the first {MAX_WARNINGS} are kept)",
                    self.dropped
                ),
            });
        }
        self.list
    }
}

/// A set of paths that can be large: its size, and its first [`MAX_LISTED`] members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub count: u64,
    pub files: Vec<String>,
}

impl Listed {
    pub fn push(&mut self, path: impl Into<String>) {
        self.count += 1;
        if self.files.len() < MAX_LISTED {
            self.files.push(path.into());
        }
    }
}

/// One class on one image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ClassCount {
    pub class: u32,
    pub instances: u32,
    pub crowd: u32,
    pub difficult: u32,
    pub truncated: u32,
}

/// One image (or, for a table without file paths, one row).
#[derive(Clone, Debug)]
pub(crate) struct Image {
    /// Its dataset path when it is in the version; otherwise the name its labels give it.
    pub path: String,
    /// Its entry in the version, when there is one (dimensions, content hash).
    pub entry: Option<usize>,
    pub split: Option<u16>,
    /// `None`: no labels at all (unlabelled). `Some(empty)`: labelled with no instances (a
    /// YOLO background image).
    pub classes: Option<Vec<ClassCount>>,
}

/// Class ids seen in labels that no class name covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownClass {
    pub id: String,
    pub instances: u64,
    /// The first file naming it.
    pub file: String,
}

/// Which per-class counters a format has.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub crowd: bool,
    pub difficult: bool,
    pub truncated: bool,
}

/// What a label format parser produces.
#[derive(Debug, Default)]
pub(crate) struct Labels {
    pub class_names: Vec<String>,
    class_ids: HashMap<String, u32>,
    pub split_names: Vec<String>,
    pub images: Vec<Image>,
    pub without_images: Listed,
    pub unknown: BTreeMap<String, UnknownClass>,
    pub warnings: Warnings,
    pub counters: Counters,
}

impl Labels {
    /// The id of a class, added on first sight (classes every image lacks still count as
    /// classes with zero images when a format declares them).
    pub fn class(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.class_ids.get(name) {
            return id;
        }
        let id = self.class_names.len() as u32;
        self.class_names.push(name.to_string());
        self.class_ids.insert(name.to_string(), id);
        id
    }

    pub fn split(&mut self, name: &str) -> u16 {
        if let Some(i) = self.split_names.iter().position(|s| s == name) {
            return i as u16;
        }
        self.split_names.push(name.to_string());
        (self.split_names.len() - 1) as u16
    }

    pub fn unknown_class(&mut self, id: &str, file: &str, instances: u64) {
        let e = self
            .unknown
            .entry(id.to_string())
            .or_insert_with(|| UnknownClass {
                id: id.to_string(),
                instances: 0,
                file: file.to_string(),
            });
        e.instances += instances;
    }

    pub fn warn(&mut self, file: &str, line: Option<u64>, message: impl Into<String>) {
        self.warnings.push(file, line, message);
    }
}

/// Adds `n` instances of `class` to an image's list (lists are short: a linear scan beats a map).
pub(crate) fn add_instances(
    list: &mut Vec<ClassCount>,
    class: u32,
    f: impl FnOnce(&mut ClassCount),
) {
    match list.iter_mut().find(|c| c.class == class) {
        Some(c) => f(c),
        None => {
            let mut c = ClassCount {
                class,
                ..ClassCount::default()
            };
            f(&mut c);
            list.push(c);
        }
    }
}

/// Bytes as text; bytes that are not UTF-8 are replaced and the file warned about once.
pub(crate) fn text<'a>(
    bytes: &'a [u8],
    file: &str,
    warnings: &mut Warnings,
) -> std::borrow::Cow<'a, str> {
    let s = String::from_utf8_lossy(bytes);
    if matches!(s, std::borrow::Cow::Owned(_)) {
        warnings.push(
            file,
            None,
            "not valid UTF-8: undecodable bytes were replaced (class names may show \u{fffd})",
        );
    }
    s
}

/// The 1-based line of a byte offset.
pub(crate) fn line_of(bytes: &[u8], offset: usize) -> u64 {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

/// Reads a whole label file of at most `limit` bytes; a failure or an oversized file is a
/// warning and `None`.
pub(crate) fn read_whole(
    content: &dyn Content,
    entry: &Entry,
    limit: u64,
    warnings: &mut Warnings,
) -> Option<Vec<u8>> {
    match content.read(entry, limit) {
        Ok(bytes) if bytes.len() as u64 >= limit => {
            warnings.push(
                &entry.path,
                None,
                format!(
                    "larger than the {} MiB read limit ({} bytes); skipped",
                    limit >> 20,
                    entry.size
                ),
            );
            None
        }
        Ok(bytes) => Some(bytes),
        Err(e) => {
            warnings.push(&entry.path, None, format!("cannot read: {}", describe(&e)));
            None
        }
    }
}

fn describe(e: &io::Error) -> String {
    e.to_string()
}
