//! Where a dataset's labels are: named on the command line (`coco:annotations/x.json`, ...) or
//! detected from the version's paths and a cheap sniff of a few files, with the evidence a
//! person can check ("data.yaml with 80 names; 128 label files under labels/").

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strata_core::error::{Error, Result};

use crate::content::Content;
use crate::labels::Warnings;
use crate::paths::{self, Tree};
use crate::{coco, imagefolder, table, voc, yolo, Entry};

/// Bytes read to tell what a file is.
const SNIFF: u64 = 64 << 10;
/// Bytes of a table read to choose its label column.
const TABLE_SNIFF: u64 = 1 << 20;
/// Candidates of each kind sniffed at most (a dataset of per-image JSON files has thousands).
const MAX_SNIFFED: usize = 40;

/// A label source, as `--labels` spells it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum LabelSource {
    /// The folder holding an image is its class; split folders are splits.
    ImageFolder,
    /// A CSV or TSV table; the label column is chosen when not given.
    Csv {
        file: String,
        column: Option<String>,
    },
    /// A COCO JSON file.
    Coco { file: String },
    /// A YOLO `data.yaml`.
    Yolo { data_yaml: String },
    /// A Pascal VOC root (holding `Annotations/`, `JPEGImages/`, `ImageSets/`).
    Voc { dir: String },
}

impl LabelSource {
    /// The format's name in JSON output.
    pub fn format(&self) -> &'static str {
        match self {
            LabelSource::ImageFolder => "imagefolder",
            LabelSource::Csv { .. } => "csv",
            LabelSource::Coco { .. } => "coco",
            LabelSource::Yolo { .. } => "yolo",
            LabelSource::Voc { .. } => "voc",
        }
    }

    /// Parses `--labels`: `auto` is `None` (detect), anything else a source.
    pub fn parse_choice(s: &str) -> Result<Option<LabelSource>> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(None)
        } else {
            s.parse().map(Some)
        }
    }
}

const SPELLINGS: &str =
    "auto, imagefolder, csv:FILE, csv:FILE:COLUMN, coco:FILE, yolo:DATA_YAML or voc:DIR";

impl FromStr for LabelSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let (kind, rest) = s.split_once(':').unwrap_or((s, ""));
        let need = |what: &str| -> Result<String> {
            let v = rest.trim().trim_start_matches("./").trim_end_matches('/');
            if v.is_empty() {
                Err(Error::invalid(format!(
                    "label source '{s}' needs {what} after '{kind}:'"
                )))
            } else {
                Ok(v.to_string())
            }
        };
        match kind.to_ascii_lowercase().as_str() {
            "imagefolder" if rest.is_empty() => Ok(LabelSource::ImageFolder),
            "csv" | "tsv" => {
                let spec = need("a file")?;
                // `csv:FILE:COLUMN` — the column follows the last ':' after a table's name, so
                // a file name holding ':' still parses when no column is given.
                let split = spec.rmatch_indices(':').map(|(i, _)| i).find(|&i| {
                    let f = spec[..i].to_ascii_lowercase();
                    f.ends_with(".csv") || f.ends_with(".tsv") || f.ends_with(".txt")
                });
                match split {
                    Some(i) if i + 1 < spec.len() => Ok(LabelSource::Csv {
                        file: spec[..i].to_string(),
                        column: Some(spec[i + 1..].to_string()),
                    }),
                    Some(i) => Ok(LabelSource::Csv {
                        file: spec[..i].to_string(),
                        column: None,
                    }),
                    None => Ok(LabelSource::Csv {
                        file: spec,
                        column: None,
                    }),
                }
            }
            "coco" => Ok(LabelSource::Coco {
                file: need("a JSON file")?,
            }),
            "yolo" => Ok(LabelSource::Yolo {
                data_yaml: need("a data.yaml file")?,
            }),
            "voc" => Ok(LabelSource::Voc {
                dir: need("a folder")?,
            }),
            "auto" => Err(Error::invalid(
                "'auto' is not a label source: detection is asked for by giving none",
            )),
            _ => Err(Error::invalid(format!(
                "unknown label source '{s}': expected {SPELLINGS}"
            ))),
        }
    }
}

impl fmt::Display for LabelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelSource::ImageFolder => f.write_str("imagefolder"),
            LabelSource::Csv { file, column: None } => write!(f, "csv:{file}"),
            LabelSource::Csv {
                file,
                column: Some(c),
            } => write!(f, "csv:{file}:{c}"),
            LabelSource::Coco { file } => write!(f, "coco:{file}"),
            LabelSource::Yolo { data_yaml } => write!(f, "yolo:{data_yaml}"),
            LabelSource::Voc { dir } => write!(f, "voc:{dir}"),
        }
    }
}

/// What detection found: the source, more sources of the same format read with it (one COCO
/// file per split, several VOC roots), and why. `source: None` when nothing fits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub source: Option<LabelSource>,
    pub also: Vec<LabelSource>,
    pub evidence: Vec<String>,
}

/// Detects the label source of a version.
pub fn detect(entries: &[Entry], content: &dyn Content) -> Detection {
    detect_in(&Tree::new(entries), content)
}

fn has_ext(path: &str, exts: &[&str]) -> bool {
    paths::extension(path).is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn sniff(tree: &Tree, content: &dyn Content, index: usize, limit: u64) -> Option<Vec<u8>> {
    content.read(tree.entry(index), limit).ok()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn detect_in(tree: &Tree, content: &dyn Content) -> Detection {
    let files: Vec<usize> = tree
        .all()
        .filter(|&i| !paths::is_noise(&tree.entry(i).path))
        .collect();
    let path = |i: usize| tree.entry(i).path.as_str();

    // COCO: JSON files whose first bytes hold `"images"` with file names. The prefix is enough:
    // the full parse happens once, later.
    let mut jsons: Vec<usize> = files
        .iter()
        .copied()
        .filter(|&i| has_ext(path(i), &["json"]))
        .collect();
    // Likely names first, so a folder of per-image JSON files does not hide them.
    jsons.sort_by_key(|&i| {
        let p = path(i);
        (
            !(paths::file_name(p).starts_with("instances_") || p.contains("annotations")),
            p,
        )
    });
    let mut cocos: Vec<usize> = jsons
        .iter()
        .take(MAX_SNIFFED)
        .copied()
        .filter(|&i| {
            sniff(tree, content, i, SNIFF).is_some_and(|b| {
                coco::looks_like_coco(&b, tree.entry(i).size <= SNIFF && (b.len() as u64) < SNIFF)
            })
        })
        .collect();
    if cocos
        .iter()
        .any(|&i| paths::file_name(path(i)).starts_with("instances_"))
    {
        // Captions and keypoints files sit beside `instances_*`; the instances are the classes.
        cocos.retain(|&i| paths::file_name(path(i)).starts_with("instances_"));
    }
    if !cocos.is_empty() {
        let mut evidence: Vec<String> = cocos
            .iter()
            .map(|&i| {
                let split = coco::split_of(path(i))
                    .map(|s| format!(", split '{s}'"))
                    .unwrap_or_default();
                format!(
                    "{}: COCO JSON (an \"images\" list with file names){split}",
                    path(i)
                )
            })
            .collect();
        if jsons.len() > cocos.len() {
            evidence.push(format!(
                "{} other JSON files not read as labels",
                jsons.len() - cocos.len()
            ));
        }
        let mut sources = cocos.iter().map(|&i| LabelSource::Coco {
            file: path(i).to_string(),
        });
        return Detection {
            source: sources.next(),
            also: sources.collect(),
            evidence,
        };
    }

    // YOLO: a data.yaml with names or splits.
    let mut yamls: Vec<usize> = files
        .iter()
        .copied()
        .filter(|&i| has_ext(path(i), &["yaml", "yml"]))
        .collect();
    yamls.sort_by_key(|&i| {
        (
            paths::file_name(path(i)) != "data.yaml",
            path(i).matches('/').count(),
            path(i),
        )
    });
    for &i in yamls.iter().take(MAX_SNIFFED) {
        let Some(bytes) = sniff(tree, content, i, SNIFF) else {
            continue;
        };
        let mut ignored = Warnings::default();
        let Some(data) = yolo::read_data_yaml(tree, path(i), &bytes, &mut ignored) else {
            continue;
        };
        if data.names.is_empty() && data.splits.is_empty() {
            continue;
        }
        let label_files = tree
            .under(&data.root)
            .filter(|&k| {
                let p = path(k);
                (p.starts_with("labels/") || p.contains("/labels/")) && has_ext(p, &["txt"])
            })
            .count();
        let splits: Vec<&str> = data.splits.iter().map(|(s, _)| s.as_str()).collect();
        let mut line = format!(
            "{} with {}; {} under labels/",
            path(i),
            plural(data.names.len(), "name", "names"),
            plural(label_files, "label file", "label files")
        );
        if !splits.is_empty() {
            line.push_str(&format!("; splits {}", splits.join(", ")));
        }
        return Detection {
            source: Some(LabelSource::Yolo {
                data_yaml: path(i).to_string(),
            }),
            also: Vec::new(),
            evidence: vec![line],
        };
    }

    // VOC: XML annotations in folders named Annotations.
    let mut roots: Vec<String> = Vec::new();
    for &i in &files {
        let p = path(i);
        let dir = paths::parent(p);
        if paths::file_name(dir) == "Annotations" && has_ext(p, &["xml"]) {
            let root = voc::root_of(dir);
            if roots.last() != Some(&root) && !roots.contains(&root) {
                let looks = sniff(tree, content, i, SNIFF).is_some_and(|b| voc::looks_like_voc(&b));
                if looks {
                    roots.push(root);
                }
            }
        }
    }
    if !roots.is_empty() {
        let evidence = roots
            .iter()
            .map(|r| {
                let sub = |n: &str| {
                    if r.is_empty() {
                        n.to_string()
                    } else {
                        format!("{r}/{n}")
                    }
                };
                let xmls = tree
                    .under(&sub("Annotations"))
                    .filter(|&k| has_ext(path(k), &["xml"]))
                    .count();
                let images = tree
                    .under(&sub("JPEGImages"))
                    .filter(|&k| paths::is_image(path(k)))
                    .count();
                let sets = if tree.has_dir(&sub("ImageSets/Main")) {
                    "; splits from ImageSets/Main"
                } else {
                    ""
                };
                format!(
                    "{}/ holds {} (Pascal VOC); JPEGImages/ holds {}{sets}",
                    sub("Annotations"),
                    plural(xmls, "XML annotation", "XML annotations"),
                    plural(images, "image", "images")
                )
            })
            .collect();
        let mut sources = roots.into_iter().map(|dir| LabelSource::Voc { dir });
        return Detection {
            source: sources.next(),
            also: sources.collect(),
            evidence,
        };
    }

    // Tables with a label column; ImageFolder.
    let shape = imagefolder::shape(tree);
    let folders_fit = shape.classes >= 2 && shape.in_class_folders * 2 >= shape.images;
    let mut tables: Vec<usize> = files
        .iter()
        .copied()
        .filter(|&i| has_ext(path(i), &["csv", "tsv"]))
        .collect();
    tables.sort_by_key(|&i| (path(i).matches('/').count(), path(i)));
    let mut by_values = None;
    for &i in tables.iter().take(MAX_SNIFFED) {
        let Some(mut bytes) = sniff(tree, content, i, TABLE_SNIFF) else {
            continue;
        };
        if bytes.len() as u64 >= TABLE_SNIFF {
            // A cut row could open a quote that never closes.
            let end = bytes.iter().rposition(|&b| b == b'\n').unwrap_or(0);
            bytes.truncate(end);
        }
        let Ok(t) = table::read_table(&bytes, path(i)) else {
            continue;
        };
        let Some(choice) = table::choose_label_column(&t) else {
            continue;
        };
        let with_paths = table::path_column(&t, choice.column).is_some();
        let source = LabelSource::Csv {
            file: path(i).to_string(),
            column: None,
        };
        let evidence = format!(
            "{}: {} ({} rows read)",
            path(i),
            choice.reason,
            t.rows.len()
        );
        if choice.by_name && (with_paths || !folders_fit) {
            return Detection {
                source: Some(source),
                also: Vec::new(),
                evidence: vec![evidence],
            };
        }
        by_values.get_or_insert((source, evidence));
    }
    if folders_fit {
        let mut line = format!(
            "{} of {} sit in {} class folders",
            plural(shape.in_class_folders, "image", "images"),
            shape.images,
            shape.classes
        );
        if !shape.splits.is_empty() {
            line.push_str(&format!("; split folders {}", shape.splits.join(", ")));
        }
        return Detection {
            source: Some(LabelSource::ImageFolder),
            also: Vec::new(),
            evidence: vec![line],
        };
    }
    if let Some((source, evidence)) = by_values {
        return Detection {
            source: Some(source),
            also: Vec::new(),
            evidence: vec![evidence],
        };
    }
    Detection {
        source: None,
        also: Vec::new(),
        evidence: vec![format!(
            "no COCO JSON, YOLO data.yaml, VOC Annotations/ or label table found, and {} of {} images sit in class folders ({} distinct)",
            shape.in_class_folders,
            shape.images,
            shape.classes
        )],
    }
}
