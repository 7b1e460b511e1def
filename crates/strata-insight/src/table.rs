//! CSV and TSV label tables: the delimiter is sniffed, the label column is found by its name
//! (`label`, `class`, `target`, ...) or else by its values (few distinct ones, not one per row,
//! not file paths, not continuous numbers), and a column of file paths, when there is one, ties
//! rows to the version's images.

use std::collections::{HashMap, HashSet};

use strata_core::error::{Error, Result};

use crate::imagefolder::is_split_name;
use crate::labels::{add_instances, Image, Labels};
use crate::paths::{self, Names, Tree};

/// Header names read as a label column, in order of preference.
const LABEL_NAMES: &[&str] = &[
    "label",
    "labels",
    "class",
    "classes",
    "class_name",
    "classname",
    "label_name",
    "target",
    "category",
    "categories",
    "category_name",
    "y",
    "species",
    "breed",
    "tag",
    "tags",
    "diagnosis",
    "emotion",
    "sentiment",
];
/// Header names that hold a split, never a label.
const SPLIT_COLUMNS: &[&str] = &["split", "subset", "set", "partition", "fold"];
/// Header names that hold row ids or file names.
const ID_NAMES: &[&str] = &[
    "id",
    "image_id",
    "img_id",
    "uid",
    "uuid",
    "index",
    "idx",
    "key",
    "name",
    "filename",
    "file_name",
    "file",
    "path",
    "filepath",
    "file_path",
    "image",
    "img",
    "image_path",
    "image_name",
];
/// Distinct values above which a column is not read as classes by cardinality.
const MAX_CLASSES_BY_CARDINALITY: usize = 200;

/// A table read into memory: header and rows (1-based line of each row).
pub(crate) struct Table {
    pub delimiter: u8,
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
    pub lossy: bool,
}

pub(crate) fn sniff_delimiter(bytes: &[u8], file: &str) -> u8 {
    if paths::extension(file).is_some_and(|e| e.eq_ignore_ascii_case("tsv")) {
        return b'\t';
    }
    let lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(20)
        .collect();
    let mut best = (b',', 0usize);
    for d in [b',', b'\t', b';', b'|'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| l.iter().filter(|&&b| b == d).count())
            .collect();
        let first = counts.first().copied().unwrap_or(0);
        // A delimiter splits every line into the same number of fields (the last line of a
        // prefix read may be cut short, so it does not vote).
        let consistent = counts
            .iter()
            .take(counts.len().saturating_sub(1).max(1))
            .all(|&c| c == first);
        if first > 0 && consistent && first > best.1 {
            best = (d, first);
        }
    }
    best.0
}

pub(crate) fn read_table(bytes: &[u8], file: &str) -> std::result::Result<Table, String> {
    let delimiter = sniff_delimiter(bytes, file);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut lossy = false;
    let mut to_strings = |rec: &csv::ByteRecord| -> Vec<String> {
        rec.iter()
            .map(|f| {
                let s = String::from_utf8_lossy(f);
                lossy |= matches!(s, std::borrow::Cow::Owned(_));
                s.trim().to_string()
            })
            .collect()
    };
    let mut header = None;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let fields = to_strings(&record);
                if fields.iter().all(String::is_empty) {
                    continue;
                }
                if header.is_none() {
                    header = Some(fields);
                } else {
                    rows.push((line, fields));
                }
            }
            // A bad row ends what can be read: the csv reader cannot resync inside quotes.
            Err(e) => return Err(format!("unreadable after {} rows: {e}", rows.len())),
        }
    }
    let header = header.ok_or_else(|| "empty: no header row".to_string())?;
    // A BOM would make the first header `\u{feff}label` and hide the column.
    let header = header
        .into_iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    Ok(Table {
        delimiter,
        header,
        rows,
        lossy,
    })
}

/// What is known about one column from its values.
struct ColumnShape {
    distinct: usize,
    non_empty: usize,
    pathlike: usize,
    fractional: usize,
    numeric: usize,
}

fn column_shape(table: &Table, col: usize) -> ColumnShape {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut shape = ColumnShape {
        distinct: 0,
        non_empty: 0,
        pathlike: 0,
        fractional: 0,
        numeric: 0,
    };
    for (_, row) in &table.rows {
        let Some(v) = row.get(col).map(String::as_str).filter(|v| !v.is_empty()) else {
            continue;
        };
        shape.non_empty += 1;
        if seen.len() <= table.rows.len() {
            seen.insert(v);
        }
        if paths::is_image(v) || v.contains('/') || v.contains('\\') {
            shape.pathlike += 1;
        }
        if let Ok(x) = v.parse::<f64>() {
            shape.numeric += 1;
            if x.fract() != 0.0 {
                shape.fractional += 1;
            }
        }
    }
    shape.distinct = seen.len();
    shape
}

fn named(header: &str, names: &[&str]) -> bool {
    let h = header.trim().to_ascii_lowercase();
    names.iter().any(|n| *n == h)
}

/// The label column of a table, and why.
pub(crate) struct Choice {
    pub column: usize,
    pub reason: String,
    pub by_name: bool,
}

pub(crate) fn choose_label_column(table: &Table) -> Option<Choice> {
    for name in LABEL_NAMES {
        if let Some(col) = table
            .header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
        {
            return Some(Choice {
                column: col,
                reason: format!(
                    "column '{}' is named like a label column",
                    table.header[col]
                ),
                by_name: true,
            });
        }
    }
    let rows = table.rows.len();
    let mut passed = Vec::new();
    let mut best: Option<(usize, usize)> = None;
    for (col, header) in table.header.iter().enumerate() {
        let s = column_shape(table, col);
        let why_not = if s.non_empty == 0 {
            Some("empty")
        } else if named(header, SPLIT_COLUMNS) {
            Some("a split")
        } else if s.pathlike * 2 > s.non_empty {
            Some("file paths")
        } else if s.fractional * 10 > s.non_empty {
            Some("continuous numbers")
        } else if named(header, ID_NAMES) || (rows >= 10 && s.distinct * 2 > s.non_empty) {
            Some("ID-like")
        } else if s.distinct < 2 {
            Some("a single value")
        } else if s.distinct > MAX_CLASSES_BY_CARDINALITY {
            Some("too many distinct values")
        } else {
            None
        };
        match why_not {
            Some(w) => passed.push(format!("'{header}' ({w})")),
            None => {
                // Text classes beat small integers (a count column), then fewer distinct values.
                let score = s.distinct + if s.numeric == s.non_empty { 10_000 } else { 0 };
                if best.is_none_or(|(_, b)| score < b) {
                    best = Some((col, score));
                }
            }
        }
    }
    let (col, _) = best?;
    let s = column_shape(table, col);
    let mut reason = format!(
        "column '{}' chosen by its values: {} distinct over {} rows",
        table.header[col], s.distinct, rows
    );
    if !passed.is_empty() {
        reason.push_str(&format!("; passed over {}", passed.join(", ")));
    }
    Some(Choice {
        column: col,
        reason,
        by_name: false,
    })
}

/// The column naming image files, if one does: most of its values look like paths.
pub(crate) fn path_column(table: &Table, label: usize) -> Option<usize> {
    (0..table.header.len())
        .filter(|&c| c != label)
        .map(|c| (c, column_shape(table, c)))
        .filter(|(_, s)| s.non_empty > 0 && s.pathlike * 2 > s.non_empty)
        .max_by_key(|(_, s)| s.pathlike)
        .map(|(c, _)| c)
}

/// An ID column: one distinct value per row, used to name rows that are not files.
fn id_column(table: &Table, label: usize) -> Option<usize> {
    (0..table.header.len()).filter(|&c| c != label).find(|&c| {
        let s = column_shape(table, c);
        s.non_empty == table.rows.len() && s.distinct == s.non_empty
    })
}

/// Resolves a path written in a table: as a dataset path, relative to the table's folder, or
/// by its file name when exactly one entry has it.
fn resolve(tree: &Tree, names: &Names, dir: &str, value: &str) -> Option<usize> {
    paths::join(dir, value)
        .and_then(|p| tree.get(&p))
        .or_else(|| paths::join("", value).and_then(|p| tree.get(&p)))
        .or_else(|| names.unique(&value.replace('\\', "/")))
}

/// What a table gave.
pub(crate) struct Parsed {
    pub labels: Labels,
    pub evidence: Vec<String>,
    pub column: Option<String>,
}

pub(crate) fn parse(tree: &Tree, file: &str, bytes: &[u8], column: Option<&str>) -> Result<Parsed> {
    let mut labels = Labels::default();
    let mut evidence = Vec::new();
    let table = match read_table(bytes, file) {
        Ok(t) => t,
        Err(e) => {
            labels.warn(file, None, e);
            return Ok(Parsed {
                labels,
                evidence,
                column: None,
            });
        }
    };
    if table.lossy {
        labels.warn(
            file,
            None,
            "not valid UTF-8: undecodable bytes were replaced",
        );
    }
    let label_col = match column {
        Some(name) => {
            let col = table
                .header
                .iter()
                .position(|h| h == name)
                .or_else(|| {
                    table
                        .header
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{file} has no column '{name}'; its columns: {}",
                        table.header.join(", ")
                    ))
                })?;
            evidence.push(format!("{file}: column '{}' as given", table.header[col]));
            col
        }
        None => match choose_label_column(&table) {
            Some(choice) => {
                evidence.push(format!("{file}: {}", choice.reason));
                choice.column
            }
            None => {
                labels.warn(
                    file,
                    None,
                    "no column looks like labels; name one explicitly",
                );
                return Ok(Parsed {
                    labels,
                    evidence,
                    column: None,
                });
            }
        },
    };
    let label_name = table.header[label_col].clone();
    // A plural column may hold several labels per row.
    let multi = named(
        &table.header[label_col],
        &["labels", "tags", "classes", "categories"],
    );
    let separators: Vec<char> = ['|', ';']
        .into_iter()
        .filter(|&c| c as u8 != table.delimiter)
        .collect();
    let path_col = path_column(&table, label_col);
    let id_col = if path_col.is_none() {
        id_column(&table, label_col)
    } else {
        None
    };
    let split_col = table.header.iter().position(|h| named(h, SPLIT_COLUMNS));
    let file_split =
        is_split_name(paths::stem(file)).then(|| paths::stem(file).to_ascii_lowercase());
    if let Some(c) = path_col {
        evidence.push(format!(
            "{file}: column '{}' names the image files",
            table.header[c]
        ));
    }
    if table.delimiter != b',' {
        evidence.push(format!(
            "{file}: fields separated by {}",
            match table.delimiter {
                b'\t' => "tabs".to_string(),
                d => format!("'{}'", d as char),
            }
        ));
    }

    let dir = paths::parent(file);
    let names = path_col.map(|_| Names::new(tree));
    let mut by_path: HashMap<String, usize> = HashMap::new();
    for (line, row) in &table.rows {
        let (key, entry) = match (path_col, &names) {
            (Some(pc), Some(names)) => {
                let value = row.get(pc).map(String::as_str).unwrap_or("");
                if value.is_empty() {
                    labels.warn(file, Some(*line), "no file named in this row; skipped");
                    continue;
                }
                match resolve(tree, names, dir, value) {
                    Some(i) => (tree.entry(i).path.clone(), Some(i)),
                    None => {
                        labels.warn(
                            file,
                            Some(*line),
                            format!("names '{value}', which is not in this version"),
                        );
                        labels
                            .without_images
                            .push(format!("{file}:{line}: {value}"));
                        continue;
                    }
                }
            }
            _ => match id_col.and_then(|c| row.get(c)) {
                Some(id) => (format!("{file}#{id}"), None),
                None => (format!("{file}:{line}"), None),
            },
        };
        let split = split_col
            .and_then(|c| row.get(c))
            .filter(|s| !s.is_empty())
            .map(|s| s.to_ascii_lowercase())
            .or_else(|| file_split.clone())
            .map(|s| labels.split(&s));
        let value = row.get(label_col).map(String::as_str).unwrap_or("");
        let mut names: Vec<&str> = if multi {
            value
                .split(|c| separators.contains(&c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect()
        } else if value.is_empty() {
            Vec::new()
        } else {
            vec![value]
        };
        names.dedup();
        let index = match by_path.get(&key) {
            Some(&i) => i,
            None => {
                labels.images.push(Image {
                    path: key.clone(),
                    entry,
                    split,
                    classes: None,
                });
                by_path.insert(key, labels.images.len() - 1);
                labels.images.len() - 1
            }
        };
        if names.is_empty() {
            continue;
        }
        let ids: Vec<u32> = names.iter().map(|n| labels.class(n)).collect();
        let list = labels.images[index].classes.get_or_insert_with(Vec::new);
        for id in ids {
            // One instance per image and class: a table repeats a row per label, not per object.
            add_instances(list, id, |c| c.instances = 1);
        }
    }
    Ok(Parsed {
        labels,
        evidence,
        column: Some(label_name),
    })
}
