//! The charts of a version's statistics, one definition for every front end (the CLI's
//! `--plot`, the app's Insight section): the class histogram, one series per split stacked in
//! each class's bar, and the comparison of two versions' classes with the change beside each pair.

use std::collections::BTreeMap;

use crate::plot::{Chart, Comparison, Histogram, Layout, Series};
use crate::{ClassStat, Stats};

/// Instances per class; with splits, one stacked series per split (in the order `train`, `val`,
/// `test`, then the others by name), so a bar's length is the class's total.
pub fn class_histogram(title: &str, stats: &Stats) -> Chart {
    let categories: Vec<String> = stats.classes.iter().map(|c| c.name.clone()).collect();
    let series = if stats.splits.is_empty() {
        vec![Series {
            name: "instances".into(),
            values: stats.classes.iter().map(|c| c.instances).collect(),
        }]
    } else {
        split_order(stats)
            .into_iter()
            .filter_map(|name| stats.splits.get(&name).map(|c| (name, c)))
            .map(|(name, classes)| {
                let of: BTreeMap<&str, u64> = classes
                    .iter()
                    .map(|c| (c.name.as_str(), c.instances))
                    .collect();
                Series {
                    name,
                    values: categories
                        .iter()
                        .map(|c| of.get(c.as_str()).copied().unwrap_or(0))
                        .collect(),
                }
            })
            .collect()
    };
    Chart::Histogram(Histogram {
        title: title.to_string(),
        categories,
        series,
        layout: Layout::Stacked,
    })
}

/// Instances per class in `old` and `new` side by side, every class of either (those of `new`
/// first, in its order; then the ones it lost).
pub fn class_comparison(
    title: &str,
    (old_name, old): (&str, &[ClassStat]),
    (new_name, new): (&str, &[ClassStat]),
) -> Chart {
    let mut categories: Vec<String> = new.iter().map(|c| c.name.clone()).collect();
    for c in old {
        if !new.iter().any(|n| n.name == c.name) {
            categories.push(c.name.clone());
        }
    }
    let values = |classes: &[ClassStat]| -> Vec<u64> {
        let of: BTreeMap<&str, u64> = classes
            .iter()
            .map(|c| (c.name.as_str(), c.instances))
            .collect();
        categories
            .iter()
            .map(|c| of.get(c.as_str()).copied().unwrap_or(0))
            .collect()
    };
    Chart::Comparison(Comparison {
        title: title.to_string(),
        old: Series {
            name: old_name.to_string(),
            values: values(old),
        },
        new: Series {
            name: new_name.to_string(),
            values: values(new),
        },
        categories,
    })
}

/// A version's split names in the order people read them: training, validation, test, then the
/// others by name (the histogram stacks them so, the app's table has its columns so).
pub fn split_order(stats: &Stats) -> Vec<String> {
    let mut names: Vec<String> = stats.splits.keys().cloned().collect();
    names.sort_by_key(|n| (split_rank(n), n.clone()));
    names
}

fn split_rank(name: &str) -> u8 {
    match name.to_ascii_lowercase().as_str() {
        "train" | "training" => 0,
        "val" | "valid" | "validation" => 1,
        "test" | "testing" => 2,
        _ => 3,
    }
}
