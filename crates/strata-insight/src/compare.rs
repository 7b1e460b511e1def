//! How class statistics moved between two versions: classes gained and lost, per-class and
//! per-split deltas, the files whose classes changed, and a one-line summary a person reads
//! first ("relabelling moved 212 images from cat to lynx; dog lost 9 % of its training
//! examples"). Works on two [`Stats`] alone, so cached statistics compare without re-reading.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::stats::{ClassStat, FileRow, FileTable, Stats};

/// Changed files listed; past this only their count.
pub const MAX_MOVES: usize = 1000;
/// Relative changes below this (percent) stay out of the summary.
const NOTABLE_PERCENT: f64 = 5.0;
/// Phrases in a summary.
const SUMMARY_PHRASES: usize = 5;

/// New minus old, for one class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassDelta {
    pub name: String,
    pub images: i64,
    pub instances: i64,
}

/// A file whose classes changed: under ImageFolder the same content in another class folder
/// (`old_path` is where it was), otherwise the same path with another label set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_path: Option<String>,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    pub classes_gained: Vec<String>,
    pub classes_lost: Vec<String>,
    /// Classes whose counts changed, largest change first.
    pub delta: Vec<ClassDelta>,
    /// The same per split (splits of either version).
    pub splits: BTreeMap<String, Vec<ClassDelta>>,
    /// The first [`MAX_MOVES`] files whose classes changed, in path order.
    pub moved: Vec<Move>,
    pub moved_count: u64,
    pub summary: String,
}

fn deltas(new: &[ClassStat], old: &[ClassStat]) -> Vec<ClassDelta> {
    let mut by_name: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for c in new {
        let e = by_name.entry(&c.name).or_default();
        e.0 += c.images as i64;
        e.1 += c.instances as i64;
    }
    for c in old {
        let e = by_name.entry(&c.name).or_default();
        e.0 -= c.images as i64;
        e.1 -= c.instances as i64;
    }
    let mut out: Vec<ClassDelta> = by_name
        .into_iter()
        .filter(|(_, (i, n))| *i != 0 || *n != 0)
        .map(|(name, (images, instances))| ClassDelta {
            name: name.to_string(),
            images,
            instances,
        })
        .collect();
    out.sort_by(|a, b| {
        b.images
            .abs()
            .cmp(&a.images.abs())
            .then(b.instances.abs().cmp(&a.instances.abs()))
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

fn present(classes: &[ClassStat]) -> Vec<&str> {
    classes
        .iter()
        .filter(|c| c.images > 0 || c.instances > 0)
        .map(|c| c.name.as_str())
        .collect()
}

/// Class sets of two tables in one numbering (each table numbers its own classes).
struct Classes<'a> {
    names: Vec<&'a str>,
    new_ids: Vec<u32>,
    old_ids: Vec<u32>,
}

impl<'a> Classes<'a> {
    fn new(new: &'a FileTable, old: &'a FileTable) -> Self {
        let mut names: Vec<&str> = new
            .classes
            .iter()
            .chain(&old.classes)
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        let id = |n: &String| {
            names
                .binary_search(&n.as_str())
                .map_or(u32::MAX, |i| i as u32)
        };
        let new_ids = new.classes.iter().map(id).collect();
        let old_ids = old.classes.iter().map(id).collect();
        Self {
            names,
            new_ids,
            old_ids,
        }
    }

    /// A row's classes in the shared numbering, sorted (`[]` when unlabelled).
    fn set(&self, row: &FileRow, is_new: bool) -> Vec<u32> {
        let map = if is_new { &self.new_ids } else { &self.old_ids };
        let mut v: Vec<u32> = row
            .3
            .iter()
            .flatten()
            .filter_map(|&i| map.get(i as usize).copied())
            .collect();
        v.sort_unstable();
        v
    }

    fn names(&self, set: &[u32]) -> Vec<String> {
        set.iter()
            .filter_map(|&i| self.names.get(i as usize).map(|n| n.to_string()))
            .collect()
    }
}

/// A changed file before naming: path, old path, old and new class sets.
type Found<'a> = (&'a str, Option<&'a str>, Vec<u32>, Vec<u32>);

fn key(r: &FileRow) -> (&str, &str) {
    (r.1.as_deref().unwrap_or(""), r.0.as_str())
}

/// Files whose classes changed. Matched by content hash when both versions carry hashes
/// (ImageFolder: a file that kept its bytes and changed class folder was relabelled), by path
/// otherwise.
fn moves(new: &FileTable, old: &FileTable) -> (Vec<Move>, u64) {
    let classes = Classes::new(new, old);
    let mut found: Vec<Found> = Vec::new();
    let hashed = |t: &FileTable| !t.rows.is_empty() && t.rows.iter().all(|r| r.1.is_some());
    if hashed(new) && hashed(old) {
        // Rows sorted by (hash, path) on both sides, walked together one hash at a time.
        let mut olds: Vec<&FileRow> = old.rows.iter().collect();
        let mut news: Vec<&FileRow> = new.rows.iter().collect();
        olds.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        news.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let (mut i, mut j) = (0, 0);
        while i < news.len() && j < olds.len() {
            let (hn, ho) = (key(news[i]).0, key(olds[j]).0);
            if hn < ho {
                i += 1;
                continue;
            }
            if ho < hn {
                j += 1;
                continue;
            }
            let i_end = i + news[i..].iter().take_while(|r| key(r).0 == hn).count();
            let j_end = j + olds[j..].iter().take_while(|r| key(r).0 == hn).count();
            if i_end - i == 1 && j_end - j == 1 {
                let (n, o) = (news[i], olds[j]);
                let (to, from) = (classes.set(n, true), classes.set(o, false));
                if to != from {
                    let old_path = (n.0 != o.0).then_some(o.0.as_str());
                    found.push((n.0.as_str(), old_path, from, to));
                }
            } else {
                // Copies of one content: a copy that kept its path, then one that kept its
                // classes, is no move; what remains pairs up in path order.
                let mut left: Vec<(&FileRow, Vec<u32>)> = olds[j..j_end]
                    .iter()
                    .map(|o| (*o, classes.set(o, false)))
                    .collect();
                let mut unmatched = Vec::new();
                for n in &news[i..i_end] {
                    let to = classes.set(n, true);
                    match left.iter().position(|(o, _)| o.0 == n.0) {
                        Some(k) => {
                            let (_, from) = left.remove(k);
                            if from != to {
                                found.push((n.0.as_str(), None, from, to));
                            }
                        }
                        None => unmatched.push((*n, to)),
                    }
                }
                let mut still = Vec::new();
                for (n, to) in unmatched {
                    match left.iter().position(|(_, c)| *c == to) {
                        Some(k) => {
                            left.remove(k);
                        }
                        None => still.push((n, to)),
                    }
                }
                for ((n, to), (o, from)) in still.into_iter().zip(left) {
                    found.push((n.0.as_str(), Some(o.0.as_str()), from, to));
                }
            }
            i = i_end;
            j = j_end;
        }
    } else {
        let old_by_path: HashMap<&str, &FileRow> =
            old.rows.iter().map(|r| (r.0.as_str(), r)).collect();
        for n in &new.rows {
            let Some(o) = old_by_path.get(n.0.as_str()) else {
                continue;
            };
            let (from, to) = (classes.set(o, false), classes.set(n, true));
            if from != to {
                found.push((n.0.as_str(), None, from, to));
            }
        }
    }
    let count = found.len() as u64;
    found.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let moved = found
        .into_iter()
        .take(MAX_MOVES)
        .map(|(path, old_path, from, to)| Move {
            path: path.to_string(),
            old_path: old_path.map(str::to_string),
            from: classes.names(&from),
            to: classes.names(&to),
        })
        .collect();
    (moved, count)
}

/// Compares the statistics of a version (`new`) with another (`old`).
pub fn compare(new: &Stats, old: &Stats) -> Comparison {
    let (now, before) = (present(&new.classes), present(&old.classes));
    let classes_gained: Vec<String> = now
        .iter()
        .filter(|c| !before.contains(c))
        .map(|c| c.to_string())
        .collect();
    let classes_lost: Vec<String> = before
        .iter()
        .filter(|c| !now.contains(c))
        .map(|c| c.to_string())
        .collect();
    let mut splits = BTreeMap::new();
    for name in new.splits.keys().chain(old.splits.keys()) {
        let empty = Vec::new();
        let d = deltas(
            new.splits.get(name).unwrap_or(&empty),
            old.splits.get(name).unwrap_or(&empty),
        );
        splits.insert(name.clone(), d);
    }
    let (moved, moved_count) = moves(&new.files, &old.files);
    let mut c = Comparison {
        classes_gained,
        classes_lost,
        delta: deltas(&new.classes, &old.classes),
        splits,
        moved,
        moved_count,
        summary: String::new(),
    };
    c.summary = summary(&c, new, old);
    c
}

fn split_phrase(split: Option<&str>) -> String {
    match split.map(str::to_ascii_lowercase).as_deref() {
        None => "examples".into(),
        Some("train" | "training") => "training examples".into(),
        Some("val" | "valid" | "validation") => "validation examples".into(),
        Some("test" | "testing") => "test examples".into(),
        Some(s) => format!("'{s}' examples"),
    }
}

/// A one-line account of what changed, largest changes first.
pub fn summary(c: &Comparison, new: &Stats, old: &Stats) -> String {
    let mut phrases = Vec::new();

    // Relabellings: files whose single class became another single class.
    let mut pairs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let listed_all = c.moved.len() as u64 == c.moved_count;
    for m in &c.moved {
        if let ([from], [to]) = (m.from.as_slice(), m.to.as_slice()) {
            *pairs.entry((from.clone(), to.clone())).or_default() += 1;
        }
    }
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for ((from, to), n) in pairs.into_iter().take(3) {
        let at_least = if listed_all { "" } else { "at least " };
        phrases.push(format!(
            "relabelling moved {at_least}{n} image{} from {from} to {to}",
            if n == 1 { "" } else { "s" }
        ));
    }
    if !c.classes_gained.is_empty() {
        phrases.push(format!("new classes: {}", c.classes_gained.join(", ")));
    }
    if !c.classes_lost.is_empty() {
        phrases.push(format!("classes gone: {}", c.classes_lost.join(", ")));
    }

    // Relative changes per split (or overall when there are no splits).
    let mut changes: Vec<(f64, String)> = Vec::new();
    let mut scan = |split: Option<&str>, new_list: &[ClassStat], old_list: &[ClassStat]| {
        for o in old_list.iter().filter(|o| o.images > 0) {
            let n = new_list
                .iter()
                .find(|n| n.name == o.name)
                .map_or(0, |n| n.images);
            if n == 0 {
                continue;
            }
            let pct = (n as f64 - o.images as f64) * 100.0 / o.images as f64;
            if pct.abs() >= NOTABLE_PERCENT {
                let verb = if pct < 0.0 { "lost" } else { "gained" };
                changes.push((
                    pct.abs(),
                    format!(
                        "{} {verb} {:.0} % of its {}",
                        o.name,
                        pct.abs(),
                        split_phrase(split)
                    ),
                ));
            }
        }
    };
    if new.splits.is_empty() && old.splits.is_empty() {
        scan(None, &new.classes, &old.classes);
    } else {
        for (name, old_list) in &old.splits {
            if let Some(new_list) = new.splits.get(name) {
                scan(Some(name), new_list, old_list);
            }
        }
    }
    changes.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    phrases.extend(changes.into_iter().map(|(_, p)| p));
    if c.moved_count > 0 && phrases.is_empty() {
        phrases.push(format!("{} files changed classes", c.moved_count));
    }
    phrases.truncate(SUMMARY_PHRASES);
    if phrases.is_empty() {
        "no class changed".into()
    } else {
        phrases.join("; ")
    }
}
