//! YOLO (Ultralytics) datasets: a `data.yaml` names the classes (a list, or a map from id to
//! name) and the splits (folders of images, or `.txt` files listing them); each image's labels
//! sit in a `.txt` found by replacing the last `/images/` of its path with `/labels/`. One line is
//! one instance, a box (5 numbers) or a polygon (an odd count of at least 7).

use std::collections::{BTreeMap, HashSet};

use serde_yaml_ng::Value;
use strata_core::error::Result;
use strata_core::progress::{Cancel, Progress};

use crate::content::Content;
use crate::labels::{add_instances, read_whole, Image, Labels, Warnings};
use crate::paths::{self, Tree};

/// A `data.yaml` is small; anything past this is not one.
const YAML_LIMIT: u64 = 1 << 20;
/// One image's label file.
const LABEL_LIMIT: u64 = 16 << 20;
/// A split's image list.
const LIST_LIMIT: u64 = 256 << 20;
const SPLIT_KEYS: &[&str] = &["train", "val", "test"];

/// What a `data.yaml` says.
pub(crate) struct DataYaml {
    /// Class id → name.
    pub names: BTreeMap<i64, String>,
    /// The folder split entries are resolved against, inside the dataset.
    pub root: String,
    /// Split name → the entries it lists (folders or list files), as written.
    pub splits: Vec<(String, Vec<String>)>,
    /// Values per keypoint line beyond the box (`kpt_shape` k × d), for pose datasets.
    pub keypoint_values: Option<usize>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a `data.yaml`; `None` (with a warning) when it is not one.
pub(crate) fn read_data_yaml(
    tree: &Tree,
    file: &str,
    bytes: &[u8],
    warnings: &mut Warnings,
) -> Option<DataYaml> {
    let text = crate::labels::text(bytes, file, warnings);
    let doc: Value = match serde_yaml_ng::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let line = e.location().map(|l| l.line() as u64);
            warnings.push(file, line, format!("not YAML: {e}"));
            return None;
        }
    };
    let Value::Mapping(map) = doc else {
        warnings.push(
            file,
            None,
            "not a YAML mapping of keys (names:, train:, val:, ...)",
        );
        return None;
    };
    let get = |k: &str| map.get(Value::String(k.to_string()));

    let mut names = BTreeMap::new();
    match get("names") {
        Some(Value::Sequence(list)) => {
            for (i, v) in list.iter().enumerate() {
                match scalar(v) {
                    Some(n) => {
                        names.insert(i as i64, n);
                    }
                    None => warnings.push(file, None, format!("names[{i}] is not a name; skipped")),
                }
            }
        }
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let id = match k {
                    Value::Number(n) => n.as_i64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                match (id, scalar(v)) {
                    (Some(id), Some(n)) => {
                        names.insert(id, n);
                    }
                    _ => warnings.push(
                        file,
                        None,
                        format!("names has an entry that is not `id: name` ({k:?}); skipped"),
                    ),
                }
            }
        }
        Some(_) => warnings.push(file, None, "names is neither a list nor a map of id: name"),
        None => warnings.push(file, None, "no names: class ids are shown as numbers"),
    }
    if let Some(nc) = get("nc").and_then(Value::as_u64) {
        if !names.is_empty() && nc as usize != names.len() {
            warnings.push(
                file,
                None,
                format!(
                    "nc is {nc} but names has {} entries; names wins",
                    names.len()
                ),
            );
        }
    }

    let dir = paths::parent(file);
    let root = match get("path").and_then(scalar) {
        None => dir.to_string(),
        Some(p) => match paths::join(dir, &p).filter(|r| r.is_empty() || tree.has_dir(r)) {
            Some(r) => r,
            None => {
                warnings.push(
                    file,
                    None,
                    format!("path '{p}' is not a folder of this dataset; splits are read from the yaml's folder"),
                );
                dir.to_string()
            }
        },
    };

    let mut splits = Vec::new();
    for key in SPLIT_KEYS {
        let values = match get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::Sequence(list)) => list.iter().filter_map(scalar).collect(),
            Some(v) => match scalar(v) {
                Some(s) => vec![s],
                None => {
                    warnings.push(
                        file,
                        None,
                        format!("{key} is neither a path nor a list of paths"),
                    );
                    continue;
                }
            },
        };
        splits.push((key.to_string(), values));
    }
    let keypoint_values = match get("kpt_shape") {
        Some(Value::Sequence(s)) => s
            .iter()
            .map(Value::as_u64)
            .try_fold(1usize, |acc, v| v.map(|v| acc.saturating_mul(v as usize))),
        _ => None,
    };
    Some(DataYaml {
        names,
        root,
        splits,
        keypoint_values,
    })
}

/// A path a data.yaml or list file wrote, resolved inside the dataset. Paths written for another
/// machine (`/home/me/coco8/images/train`) or climbing out (`../train/images`, as Roboflow
/// exports write) are matched by their longest tail that exists under `root`, and warned about.
fn resolve(
    tree: &Tree,
    base: &str,
    root: &str,
    written: &str,
    is_dir: bool,
) -> Option<(String, bool)> {
    let exists = |p: &str| {
        if is_dir {
            tree.has_dir(p)
        } else {
            tree.get(p).is_some()
        }
    };
    if let Some(p) = paths::join(base, written) {
        if exists(&p) {
            return Some((p, false));
        }
    }
    let clean = written.replace('\\', "/");
    let parts: Vec<&str> = clean
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .collect();
    for start in 0..parts.len() {
        let tail = parts[start..].join("/");
        if let Some(p) = paths::join(root, &tail) {
            if exists(&p) {
                return Some((p, true));
            }
        }
    }
    None
}

/// The label file of an image: the last `/images/` becomes `/labels/`, the extension `.txt`.
pub(crate) fn label_path(image: &str) -> String {
    let rooted = format!("/{image}");
    let swapped = match rooted.rfind("/images/") {
        Some(i) => format!(
            "{}/labels/{}",
            &rooted[..i],
            &rooted[i + "/images/".len()..]
        ),
        None => rooted,
    };
    paths::with_extension(&swapped[1..], "txt")
}

pub(crate) fn parse(
    tree: &Tree,
    content: &dyn Content,
    yaml_file: &str,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Labels> {
    let mut labels = Labels::default();
    let Some(yaml_index) = tree.get(yaml_file) else {
        return Err(strata_core::error::Error::not_found(
            "label file",
            yaml_file,
        ));
    };
    let Some(bytes) = read_whole(
        content,
        tree.entry(yaml_index),
        YAML_LIMIT,
        &mut labels.warnings,
    ) else {
        return Ok(labels);
    };
    let Some(data) = read_data_yaml(tree, yaml_file, &bytes, &mut labels.warnings) else {
        return Ok(labels);
    };
    let mut class_of: BTreeMap<i64, u32> = BTreeMap::new();
    for (&id, name) in &data.names {
        class_of.insert(id, labels.class(name));
    }

    // Images, each with its split; an image listed by two splits stays in the first.
    let mut images: Vec<(usize, Option<u16>)> = Vec::new();
    let mut seen: HashSet<usize> = HashSet::new();
    let mut twice = 0u64;
    let mut add = |i: usize, split: Option<u16>| {
        if seen.insert(i) {
            images.push((i, split));
        } else {
            twice += 1;
        }
    };
    if data.splits.is_empty() {
        for i in tree.under(&data.root) {
            let p = &tree.entry(i).path;
            if paths::is_image(p) && !paths::is_noise(p) {
                add(i, None);
            }
        }
    }
    for (split, written) in &data.splits {
        let s = labels.split(split);
        for w in written {
            let is_list = paths::extension(w).is_some_and(|e| e.eq_ignore_ascii_case("txt"));
            let Some((resolved, guessed)) = resolve(tree, &data.root, &data.root, w, !is_list)
            else {
                labels.warn(
                    yaml_file,
                    None,
                    format!("{split}: '{w}' is not in this dataset"),
                );
                continue;
            };
            if guessed {
                labels.warn(
                    yaml_file,
                    None,
                    format!("{split}: '{w}' is outside the dataset; read as '{resolved}'"),
                );
            }
            if is_list {
                let Some(index) = tree.get(&resolved) else {
                    continue;
                };
                let Some(list) =
                    read_whole(content, tree.entry(index), LIST_LIMIT, &mut labels.warnings)
                else {
                    continue;
                };
                let list_dir = paths::parent(&resolved).to_string();
                for (n, line) in list.split(|&b| b == b'\n').enumerate() {
                    let line_no = n as u64 + 1;
                    let line = String::from_utf8_lossy(line);
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    match resolve(tree, &list_dir, &data.root, line, false) {
                        Some((p, guessed)) => {
                            if guessed {
                                labels.warn(
                                    &resolved,
                                    Some(line_no),
                                    format!("'{line}' is outside the dataset; read as '{p}'"),
                                );
                            }
                            if let Some(i) = tree.get(&p) {
                                add(i, Some(s));
                            }
                        }
                        None => labels.warn(
                            &resolved,
                            Some(line_no),
                            format!("lists '{line}', which is not in this version"),
                        ),
                    }
                }
            } else {
                for i in tree.under(&resolved) {
                    let p = &tree.entry(i).path;
                    if paths::is_image(p) && !paths::is_noise(p) {
                        add(i, Some(s));
                    }
                }
            }
        }
    }
    if twice > 0 {
        labels.warn(
            yaml_file,
            None,
            format!(
                "{twice} images are listed by more than one split; each is counted in the first"
            ),
        );
    }

    progress.begin("reading YOLO labels", images.len() as u64, 0);
    let mut used: HashSet<String> = HashSet::new();
    for (n, (i, split)) in images.into_iter().enumerate() {
        if n % 256 == 0 {
            cancel.check()?;
        }
        let image = tree.entry(i);
        let label = label_path(&image.path);
        let classes = match tree.get(&label) {
            None => None,
            Some(li) => {
                used.insert(label.clone());
                let entry = tree.entry(li);
                progress.advance(1, entry.size);
                read_whole(content, entry, LABEL_LIMIT, &mut labels.warnings)
                    .map(|bytes| count_label_file(&mut labels, &class_of, &data, &label, &bytes))
            }
        };
        labels.images.push(Image {
            path: image.path.clone(),
            entry: Some(i),
            split,
            classes,
        });
    }
    progress.end();

    for i in tree.under(&data.root) {
        let p = &tree.entry(i).path;
        let under_labels = p.starts_with("labels/") || p.contains("/labels/");
        if under_labels
            && paths::extension(p).is_some_and(|e| e.eq_ignore_ascii_case("txt"))
            && !paths::is_noise(p)
            && paths::file_name(p) != "classes.txt"
            && !used.contains(p.as_str())
        {
            labels.without_images.push(p.clone());
        }
    }
    if labels.without_images.count > 0 {
        labels.warn(
            &labels.without_images.files[0].clone(),
            None,
            format!(
                "{} label files have no image in any split (this is the first)",
                labels.without_images.count
            ),
        );
    }
    Ok(labels)
}

/// Counts one label file; returns the image's classes (empty for a background image).
fn count_label_file(
    labels: &mut Labels,
    class_of: &BTreeMap<i64, u32>,
    data: &DataYaml,
    file: &str,
    bytes: &[u8],
) -> Vec<crate::labels::ClassCount> {
    let mut classes = Vec::new();
    let mut out_of_range = None;
    for (n, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line_no = n as u64 + 1;
        let Ok(line) = std::str::from_utf8(raw) else {
            labels.warn(file, Some(line_no), "not text; line skipped");
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let count = tokens.len();
        let shape_ok = count == 5
            || (count >= 7 && count % 2 == 1)
            || data.keypoint_values.is_some_and(|k| count == 5 + k);
        let numbers: Option<Vec<f64>> = tokens
            .iter()
            .map(|t| t.parse::<f64>().ok().filter(|x| x.is_finite()))
            .collect();
        let (true, Some(numbers)) = (shape_ok, numbers) else {
            labels.warn(
                file,
                Some(line_no),
                format!("malformed line ({count} values; expected 5 for a box or an odd count of at least 7 for a polygon)"),
            );
            continue;
        };
        let id = numbers[0];
        if id < 0.0 || id.fract() != 0.0 {
            labels.warn(
                file,
                Some(line_no),
                format!("class id '{}' is not a whole number", tokens[0]),
            );
            continue;
        }
        if out_of_range.is_none() && numbers[1..].iter().any(|&x| !(-0.01..=1.01).contains(&x)) {
            out_of_range = Some(line_no);
        }
        let id = id as i64;
        match class_of.get(&id) {
            Some(&class) => add_instances(&mut classes, class, |c| c.instances += 1),
            None if data.names.is_empty() => {
                // No names at all: the ids themselves are the classes.
                let class = labels.class(&id.to_string());
                add_instances(&mut classes, class, |c| c.instances += 1);
            }
            None => {
                labels.unknown_class(&id.to_string(), file, 1);
                labels.warn(
                    file,
                    Some(line_no),
                    format!("class id {id} is not in names (0..{})", data.names.len()),
                );
            }
        }
    }
    if let Some(line) = out_of_range {
        labels.warn(
            file,
            Some(line),
            "coordinates outside 0..1: labels are expected normalised to the image size",
        );
    }
    classes
}
