//! Class statistics of a version: per class the images holding it and its instances, per split
//! the same, totals, what is unlabelled or unmatched, class imbalance, image dimensions and every
//! warning met. [`Stats`] serializes to the JSON `strata stats --json` prints, and back, so a
//! caller can cache it by manifest hash; its `files` table keeps each image's classes, which is
//! what a comparison needs to say which files changed class.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use strata_core::error::{Error, Result};
use strata_core::progress::{Cancel, Progress};

use crate::content::Content;
use crate::dims::{self, Dimensions};
use crate::labels::{read_whole, Labels, Listed, UnknownClass, Warning};
use crate::paths::{Names, Tree};
use crate::source::{detect_in, Detection, LabelSource};
use crate::{coco, imagefolder, table, voc, yolo, Entry};

/// A COCO file is read whole; past this it is reported, not read.
pub const COCO_LIMIT: u64 = 2 << 30;
/// A label table is read whole.
pub const TABLE_LIMIT: u64 = 1 << 30;
/// Largest over smallest class above which the imbalance is warned about.
pub const IMBALANCE_WARNING: f64 = 10.0;

/// One class: the images holding it and its instances (for ImageFolder and CSV, both the image
/// count). `crowd` (COCO), `difficult` and `truncated` (VOC) appear for formats that have them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassStat {
    pub name: String,
    pub images: u64,
    pub instances: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crowd: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficult: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<u64>,
}

/// Where the labels came from, and why that source was chosen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `imagefolder`, `csv`, `coco`, `yolo`, `voc`, or `none` when nothing was found.
    pub format: String,
    /// The label files read (the CSV, the COCO JSONs, the data.yaml).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// VOC roots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dirs: Vec<String>,
    /// The CSV label column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub evidence: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub images: u64,
    pub labelled: u64,
    pub unlabelled: u64,
    pub instances: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Imbalance {
    pub largest: String,
    pub smallest: String,
    /// Largest over smallest, by instances (images for ImageFolder and CSV).
    pub ratio: f64,
}

/// One image and its classes, compact: `[path, hash, split, classes]` in JSON, where `split`
/// indexes `FileTable::splits`, `classes` indexes `FileTable::classes` (null: unlabelled; []: a
/// background image) and `hash` is the content hash where files are matched by content
/// (ImageFolder, where a move between class folders is a relabelling).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRow(
    pub String,
    pub Option<String>,
    pub Option<u16>,
    pub Option<Vec<u32>>,
);

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTable {
    pub classes: Vec<String>,
    pub splits: Vec<String>,
    pub rows: Vec<FileRow>,
}

impl FileTable {
    /// Class names of a row, sorted.
    pub fn class_names(&self, row: &FileRow) -> Option<Vec<&str>> {
        row.3.as_ref().map(|ids| {
            let mut v: Vec<&str> = ids
                .iter()
                .filter_map(|&i| self.classes.get(i as usize).map(String::as_str))
                .collect();
            v.sort_unstable();
            v
        })
    }

    pub fn split_name(&self, row: &FileRow) -> Option<&str> {
        row.2
            .and_then(|s| self.splits.get(s as usize).map(String::as_str))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub source: SourceInfo,
    pub classes: Vec<ClassStat>,
    pub splits: BTreeMap<String, Vec<ClassStat>>,
    pub totals: Totals,
    pub unlabelled: Listed,
    pub labels_without_images: Listed,
    pub unknown_classes: Vec<UnknownClass>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imbalance: Option<Imbalance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<Dimensions>,
    pub warnings: Vec<Warning>,
    pub files: FileTable,
}

/// Statistics of a version. `source: None` detects the label source; a named source whose file
/// is not in the version is an error, while everything wrong inside label files is a warning.
pub fn stats(
    entries: &[Entry],
    content: &dyn Content,
    source: Option<&LabelSource>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Stats> {
    let tree = Tree::new(entries);
    let detection = match source {
        Some(s) => Detection {
            source: Some(s.clone()),
            also: Vec::new(),
            evidence: vec![format!("given: {s}")],
        },
        None => detect_in(&tree, content),
    };
    let Some(primary) = detection.source.clone() else {
        let mut stats = Stats {
            source: SourceInfo {
                format: "none".into(),
                evidence: detection.evidence,
                ..SourceInfo::default()
            },
            ..Stats::default()
        };
        stats.warnings.push(Warning {
            file: String::new(),
            line: None,
            message: "no label source found: no classes counted".into(),
        });
        return Ok(stats);
    };
    let mut info = SourceInfo {
        format: primary.format().into(),
        evidence: detection.evidence,
        ..SourceInfo::default()
    };
    let sources: Vec<LabelSource> = std::iter::once(primary).chain(detection.also).collect();
    let labels = read_labels(&tree, content, &sources, &mut info, progress, cancel)?;
    build(&tree, content, labels, info, progress, cancel)
}

fn must_exist(tree: &Tree, file: &str) -> Result<usize> {
    tree.get(file)
        .ok_or_else(|| Error::not_found("label file", file))
}

fn read_labels(
    tree: &Tree,
    content: &dyn Content,
    sources: &[LabelSource],
    info: &mut SourceInfo,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Labels> {
    let mut labels = Labels::default();
    let mut names = None;
    for source in sources {
        cancel.check()?;
        match source {
            LabelSource::ImageFolder => labels = imagefolder::parse(tree),
            LabelSource::Csv { file, column } => {
                let i = must_exist(tree, file)?;
                info.files.push(file.clone());
                let Some(bytes) =
                    read_whole(content, tree.entry(i), TABLE_LIMIT, &mut labels.warnings)
                else {
                    continue;
                };
                let parsed = table::parse(tree, file, &bytes, column.as_deref())?;
                info.evidence.extend(parsed.evidence);
                info.column = parsed.column.clone();
                labels = parsed.labels;
            }
            LabelSource::Coco { file } => {
                let i = must_exist(tree, file)?;
                info.files.push(file.clone());
                let entry = tree.entry(i);
                progress.begin("reading COCO annotations", 1, entry.size);
                let bytes = read_whole(content, entry, COCO_LIMIT, &mut labels.warnings);
                progress.advance(1, entry.size);
                progress.end();
                let Some(bytes) = bytes else { continue };
                cancel.check()?;
                let split = coco::split_of(file)
                    .or_else(|| (sources.len() > 1).then(|| crate::paths::stem(file).to_string()));
                let names = names.get_or_insert_with(|| Names::new(tree));
                coco::parse_into(&mut labels, tree, names, file, &bytes, split.as_deref());
            }
            LabelSource::Yolo { data_yaml } => {
                info.files.push(data_yaml.clone());
                labels = yolo::parse(tree, content, data_yaml, progress, cancel)?;
            }
            LabelSource::Voc { dir } => {
                info.dirs.push(voc::root_of(dir));
                voc::parse_into(&mut labels, tree, content, dir, progress, cancel)?;
            }
        }
    }
    Ok(labels)
}

/// Per-class sums over a set of images.
#[derive(Clone, Copy, Default)]
struct Sums {
    images: u64,
    instances: u64,
    crowd: u64,
    difficult: u64,
    truncated: u64,
}

fn class_list(labels: &Labels, sums: &[Sums], keep_empty: bool) -> Vec<ClassStat> {
    let c = labels.counters;
    let mut list: Vec<ClassStat> = sums
        .iter()
        .enumerate()
        .filter(|(_, s)| keep_empty || s.images > 0 || s.instances > 0)
        .map(|(i, s)| ClassStat {
            name: labels.class_names[i].clone(),
            images: s.images,
            instances: s.instances,
            crowd: c.crowd.then_some(s.crowd),
            difficult: c.difficult.then_some(s.difficult),
            truncated: c.truncated.then_some(s.truncated),
        })
        .collect();
    list.sort_by(|a, b| {
        b.images
            .cmp(&a.images)
            .then(b.instances.cmp(&a.instances))
            .then_with(|| a.name.cmp(&b.name))
    });
    list
}

fn build(
    tree: &Tree,
    content: &dyn Content,
    labels: Labels,
    info: SourceInfo,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Stats> {
    let n_classes = labels.class_names.len();
    let mut all = vec![Sums::default(); n_classes];
    let mut per_split: Vec<Vec<Sums>> =
        vec![vec![Sums::default(); n_classes]; labels.split_names.len()];
    let mut totals = Totals::default();
    let mut unlabelled = Listed::default();
    let mut rows = Vec::with_capacity(labels.images.len());
    // Only ImageFolder tells a class by the folder a file sits in, so only there is a file that
    // kept its bytes and changed folder a relabelling.
    let by_content = info.format == "imagefolder";
    for image in &labels.images {
        totals.images += 1;
        match &image.classes {
            None => {
                totals.unlabelled += 1;
                unlabelled.push(image.path.clone());
            }
            Some(classes) => {
                totals.labelled += 1;
                for c in classes {
                    let i = c.class as usize;
                    for sums in std::iter::once(&mut all)
                        .chain(image.split.and_then(|s| per_split.get_mut(s as usize)))
                    {
                        let s = &mut sums[i];
                        if c.instances + c.crowd > 0 {
                            s.images += 1;
                        }
                        s.instances += u64::from(c.instances);
                        s.crowd += u64::from(c.crowd);
                        s.difficult += u64::from(c.difficult);
                        s.truncated += u64::from(c.truncated);
                    }
                    totals.instances += u64::from(c.instances);
                }
            }
        }
        let hash = if by_content {
            image.entry.map(|e| tree.entry(e).hash.to_hex())
        } else {
            None
        };
        let classes = image.classes.as_ref().map(|cs| {
            let mut ids: Vec<u32> = cs
                .iter()
                .filter(|c| c.instances + c.crowd > 0)
                .map(|c| c.class)
                .collect();
            ids.sort_unstable();
            ids
        });
        rows.push(FileRow(image.path.clone(), hash, image.split, classes));
    }

    let classes = class_list(&labels, &all, true);
    let splits = labels
        .split_names
        .iter()
        .zip(&per_split)
        .map(|(name, sums)| (name.clone(), class_list(&labels, sums, false)))
        .collect();

    let Labels {
        class_names,
        split_names,
        images,
        without_images,
        unknown,
        mut warnings,
        ..
    } = labels;

    let empty: Vec<&str> = classes
        .iter()
        .filter(|c| c.images == 0)
        .map(|c| c.name.as_str())
        .collect();
    if !empty.is_empty() {
        warnings.push(
            info.files.first().map_or("", String::as_str),
            None,
            format!(
                "{} declared classes have no images: {}",
                empty.len(),
                empty.join(", ")
            ),
        );
    }
    let counted: Vec<&ClassStat> = classes.iter().filter(|c| c.instances > 0).collect();
    let imbalance = match (
        counted.iter().max_by_key(|c| c.instances),
        counted.iter().min_by_key(|c| c.instances),
    ) {
        (Some(big), Some(small)) if counted.len() >= 2 => {
            let ratio = big.instances as f64 / small.instances as f64;
            if ratio > IMBALANCE_WARNING {
                warnings.push(
                    "",
                    None,
                    format!(
                        "classes are imbalanced: '{}' has {:.0}× the instances of '{}'",
                        big.name, ratio, small.name
                    ),
                );
            }
            Some(Imbalance {
                largest: big.name.clone(),
                smallest: small.name.clone(),
                ratio: (ratio * 100.0).round() / 100.0,
            })
        }
        _ => None,
    };
    if totals.unlabelled > 0 && totals.labelled > 0 {
        warnings.push(
            unlabelled.files.first().map_or("", String::as_str),
            None,
            format!(
                "{} images have no labels (this is the first)",
                totals.unlabelled
            ),
        );
    }

    let mut seen = HashSet::new();
    let measured: Vec<usize> = images
        .iter()
        .filter_map(|i| i.entry)
        .filter(|&e| seen.insert(e))
        .collect();
    let dimensions = if measured.is_empty() {
        None
    } else {
        let (dims, first_bad) = dims::measure(tree, content, &measured, progress, cancel)?;
        if let Some((file, reason)) = first_bad {
            warnings.push(
                &file,
                None,
                format!(
                    "image size unreadable ({reason}); {} of {} images read could not be",
                    dims.unreadable,
                    dims.read + dims.unreadable
                ),
            );
        }
        Some(dims)
    };
    Ok(Stats {
        source: info,
        classes,
        splits,
        totals,
        unlabelled,
        labels_without_images: without_images,
        unknown_classes: unknown.into_values().collect(),
        imbalance,
        dimensions,
        warnings: warnings.into_vec(),
        files: FileTable {
            classes: class_names,
            splits: split_names,
            rows,
        },
    })
}
