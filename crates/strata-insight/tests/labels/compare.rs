//! Comparisons between versions: deltas, files that changed class, the summary line.

use std::time::Instant;

use strata_core::hash::Hash;
use strata_insight::{compare, FileRow, FileTable, Stats};

use crate::util::Dataset;

/// The same bytes in two versions: a move between class folders is a relabelling.
#[test]
fn imagefolder_moves_are_found_by_content() {
    let old = Dataset::new();
    let new = Dataset::new();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        old.png(&format!("train/cat/{name}.png"), 4, 4, i as u8);
    }
    old.png("train/dog/e.png", 4, 4, 10)
        .png("train/dog/f.png", 4, 4, 11)
        .png("train/dog/copy1.png", 4, 4, 20)
        .png("val/dog/g.png", 4, 4, 12);
    new.png("train/cat/a.png", 4, 4, 0)
        .png("train/cat/b.png", 4, 4, 1)
        .png("train/lynx/c.png", 4, 4, 2)
        .png("train/lynx/d-renamed.png", 4, 4, 3)
        .png("train/dog/e.png", 4, 4, 10)
        .png("train/dog/f.png", 4, 4, 11)
        // The same content kept in its class, under a new name, and copied: no move.
        .png("train/dog/copy2.png", 4, 4, 20)
        .png("val/dog/copy3.png", 4, 4, 20)
        .png("val/dog/g.png", 4, 4, 12);
    let (new_stats, old_stats) = (new.stats(None), old.stats(None));
    let c = compare(&new_stats, &old_stats);
    assert_eq!(c.moved_count, 2, "{:#?}", c.moved);
    assert_eq!(c.moved[0].path, "train/lynx/c.png");
    assert_eq!(c.moved[0].old_path.as_deref(), Some("train/cat/c.png"));
    assert_eq!(
        (c.moved[0].from.clone(), c.moved[0].to.clone()),
        (vec!["cat".to_string()], vec!["lynx".to_string()])
    );
    assert_eq!(c.moved[1].path, "train/lynx/d-renamed.png");
    assert_eq!(c.moved[1].old_path.as_deref(), Some("train/cat/d.png"));
    assert_eq!(c.classes_gained, vec!["lynx"]);
    assert!(c.classes_lost.is_empty());
    let delta: Vec<(&str, i64, i64)> = c
        .delta
        .iter()
        .map(|d| (d.name.as_str(), d.images, d.instances))
        .collect();
    assert_eq!(delta, vec![("cat", -2, -2), ("lynx", 2, 2), ("dog", 1, 1)]);
    let train: Vec<(&str, i64)> = c.splits["train"]
        .iter()
        .map(|d| (d.name.as_str(), d.images))
        .collect();
    assert_eq!(train, vec![("cat", -2), ("lynx", 2)]);
    let val: Vec<(&str, i64)> = c.splits["val"]
        .iter()
        .map(|d| (d.name.as_str(), d.images))
        .collect();
    assert_eq!(val, vec![("dog", 1)]);
    assert!(
        c.summary.starts_with("relabelling moved 2 images from cat to lynx; new classes: lynx; dog gained 100 % of its validation examples; cat lost 50 % of its training examples"),
        "{}",
        c.summary
    );
    let json = serde_json::to_value(&c).expect("json");
    assert_eq!(
        json["delta"][0],
        serde_json::json!({"name": "cat", "images": -2, "instances": -2})
    );
    assert_eq!(json["moved"][0]["old_path"], "train/cat/c.png");
}

#[test]
fn annotation_formats_compare_by_path() {
    let make = |labels: &str| {
        let d = Dataset::new();
        d.file("data.yaml", "train: images/train\nnames: [cat, dog]\n")
            .png("images/train/a.png", 4, 4, 1)
            .png("images/train/b.png", 4, 4, 2)
            .file("labels/train/a.txt", "0 0.5 0.5 0.1 0.1\n")
            .file("labels/train/b.txt", labels);
        d.stats(None)
    };
    let old = make("0 0.5 0.5 0.1 0.1\n");
    let new = make("1 0.5 0.5 0.1 0.1\n1 0.2 0.2 0.1 0.1\n");
    let c = compare(&new, &old);
    assert_eq!(c.moved_count, 1);
    assert_eq!(c.moved[0].path, "images/train/b.png");
    assert_eq!(c.moved[0].old_path, None);
    assert_eq!(
        (c.moved[0].from.as_slice(), c.moved[0].to.as_slice()),
        (&["cat".to_string()][..], &["dog".to_string()][..])
    );
    let d: Vec<(&str, i64, i64)> = c
        .delta
        .iter()
        .map(|d| (d.name.as_str(), d.images, d.instances))
        .collect();
    assert_eq!(d, vec![("dog", 1, 2), ("cat", -1, -1)]);
    assert_eq!(compare(&old, &old).summary, "no class changed");
}

fn synthetic(n: usize, moved: usize) -> Stats {
    let rows = (0..n)
        .map(|i| {
            let class = if i < moved { 1 } else { (i % 7) as u32 };
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&(i as u64).to_le_bytes());
            FileRow(
                format!("train/c{class}/{i:06}.jpg"),
                Some(Hash(h).to_hex()),
                Some(0),
                Some(vec![class]),
            )
        })
        .collect();
    Stats {
        files: FileTable {
            classes: (0..7).map(|c| format!("c{c}")).collect(),
            splits: vec!["train".into()],
            rows,
        },
        ..Stats::default()
    }
}

#[test]
fn twenty_thousand_entries_compare_quickly() {
    let old = synthetic(20_000, 0);
    let new = synthetic(20_000, 3_000);
    let t = Instant::now();
    let c = compare(&new, &old);
    let took = t.elapsed();
    // Files 0..3000 with class i % 7 != 1 moved to c1.
    let expected = (0..3_000).filter(|i| i % 7 != 1).count() as u64;
    assert_eq!(c.moved_count, expected);
    assert_eq!(c.moved.len(), strata_insight::MAX_MOVES);
    assert!(took.as_secs_f64() < 0.3, "compare took {took:?}");
}
