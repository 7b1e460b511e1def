//! ImageFolder layouts: the class of an image is the folder holding it, and folders named like
//! splits (`train/`, `val/`, `test/`, ...) give the split instead of a class. Paths only: no
//! file is read here.

use crate::labels::{ClassCount, Image, Labels};
use crate::paths::{self, Tree};

/// Folder names read as splits, lowercase. Each maps to itself: `valid` stays `valid` so a
/// dataset's own names come back as it wrote them.
const SPLIT_NAMES: &[&str] = &[
    "train",
    "training",
    "val",
    "valid",
    "validation",
    "test",
    "testing",
];

pub(crate) fn is_split_name(name: &str) -> bool {
    SPLIT_NAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// The split and class an image path gives, in ImageFolder's reading: the class is the folder
/// holding the file unless that folder is a split (or the root); the split is the nearest
/// split-named folder above it.
pub(crate) fn split_and_class(path: &str) -> (Option<&str>, Option<&str>) {
    let dir = paths::parent(path);
    if dir.is_empty() {
        return (None, None);
    }
    let parts: Vec<&str> = dir.split('/').collect();
    let holder = parts[parts.len() - 1];
    let class = (!is_split_name(holder)).then_some(holder);
    let split = parts.iter().rev().copied().find(|p| is_split_name(p));
    (split, class)
}

pub(crate) fn parse(tree: &Tree) -> Labels {
    let mut labels = Labels::default();
    for i in tree.all() {
        let path = tree.entry(i).path.as_str();
        if paths::is_noise(path) || !paths::is_image(path) {
            continue;
        }
        let (split, class) = split_and_class(path);
        let split = split.map(|s| labels.split(&s.to_ascii_lowercase()));
        let classes = class.map(|c| {
            vec![ClassCount {
                class: labels.class(c),
                instances: 1,
                ..ClassCount::default()
            }]
        });
        labels.images.push(Image {
            path: path.to_string(),
            entry: Some(i),
            split,
            classes,
        });
    }
    labels
}

/// What detection says of a layout: images, distinct class folders, splits.
pub(crate) struct Shape {
    pub images: usize,
    pub classes: usize,
    pub in_class_folders: usize,
    pub splits: Vec<String>,
}

pub(crate) fn shape(tree: &Tree) -> Shape {
    let mut classes = std::collections::BTreeSet::new();
    let mut splits = std::collections::BTreeSet::new();
    let (mut images, mut in_class_folders) = (0, 0);
    for i in tree.all() {
        let path = tree.entry(i).path.as_str();
        if paths::is_noise(path) || !paths::is_image(path) {
            continue;
        }
        images += 1;
        let (split, class) = split_and_class(path);
        if let Some(s) = split {
            splits.insert(s.to_ascii_lowercase());
        }
        if let Some(c) = class {
            in_class_folders += 1;
            classes.insert(c);
        }
    }
    Shape {
        images,
        classes: classes.len(),
        in_class_folders,
        splits: splits.into_iter().collect(),
    }
}
