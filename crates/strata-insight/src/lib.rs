//! What a version holds, seen: the label source of a dataset (detected with its evidence, or
//! named), class statistics per split and how they moved between two versions, plots of both
//! drawn in Rust, and previews of single files.
//!
//! Everything here works on a version's manifest ([`Entry`] list, sorted by path) and a
//! [`Content`] that reads an entry's bytes — the engine's store, fetched content, or a plain
//! folder in tests. Nothing here knows the catalog, a remote or Tauri; caching results by
//! manifest hash is the engine's business.
//!
//! Every byte read here is untrusted (a label file from a teammate's bucket, an image from a
//! scraper): reads are bounded by the caller's limit, parsers never panic on bad input, and a bad
//! file becomes a warning naming it (and its line where it has one) while the rest is counted.

mod coco;
mod compare;
mod content;
mod dims;
mod imagefolder;
mod labels;
mod paths;
mod source;
mod stats;
mod table;
mod voc;
mod yolo;

pub use compare::{compare, ClassDelta, Comparison, Move, MAX_MOVES};
pub use content::{Content, FolderContent};
pub use dims::{Dimensions, Range};
pub use labels::{Listed, UnknownClass, Warning};
pub use source::{detect, Detection, LabelSource};
pub use stats::{
    stats, ClassStat, FileRow, FileTable, Imbalance, SourceInfo, Stats, Totals, IMBALANCE_WARNING,
};
pub use strata_core::manifest::Entry;

pub mod charts;
pub mod plot;
pub mod preview;

pub use preview::{
    kind_by_name, preview, thumbnail, thumbnails, NamedKind, Preview, PreviewOptions, Thumbnail,
};
